"""`aimgen recipes validate`: each fixture case lists its expected diagnostics (`# expect: Code line:col`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from aimgen.cli import cli
from aimgen.diagnostics import Location, Severity
from aimgen.recipes.commands import run_validate

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.name for p in (FIXTURES / "cases").iterdir())
REPO = Path(__file__).resolve().parents[2]
EXPECT = re.compile(r"^# expect: (\w+) (\d+):(\d+)$", re.M)


def expected(directory: Path) -> set[tuple[str, str, int, int]]:
    return {
        (file.relative_to(directory).as_posix(), code, int(line), int(col))
        for file in directory.rglob("*.y*ml")
        for code, line, col in EXPECT.findall(file.read_text())
    }


def found(directory: Path) -> tuple[set[tuple[str, str, int, int]], int]:
    outcome = run_validate([directory], directory)
    located = set()
    for d in outcome.diagnostics:
        assert isinstance(d.location, Location)
        located.add((d.location.path, d.code, d.location.line, d.location.col))
    return located, outcome.exit_code


@pytest.mark.parametrize("case", CASES)
def test_case_reports_each_failure_at_its_value(case: str) -> None:
    directory = FIXTURES / "cases" / case
    located, exit_code = found(directory)
    assert located == expected(directory)
    assert exit_code == (0 if case.startswith("warn-") else 1)


def test_valid_fixtures_pass_with_only_the_expected_warnings() -> None:
    located, exit_code = found(FIXTURES / "valid")
    assert exit_code == 0
    assert located == expected(FIXTURES / "valid")
    assert {code for _, code, _, _ in located} == {"MixedPrecision", "UnusualGpuCount"}


def test_sample_recipes_are_clean() -> None:
    outcome = run_validate([REPO / "recipes"], REPO)
    assert outcome.diagnostics == []
    assert outcome.exit_code == 0
    assert outcome.summary == "validated 6 recipe(s): 0 error(s), 0 warning(s)"


def test_every_check_has_a_failing_case() -> None:
    codes = {code for case in CASES for _, code, _, _ in expected(FIXTURES / "cases" / case)}
    assert codes >= {
        "UnknownField", "MissingField", "InvalidType", "YAMLSyntaxError", "EmptyRecipe", "InvalidRecipe",
        "MultipleRecipesInFile", "RecipeIdMismatch", "ModelIdMismatch", "ModelArgMismatch", "InvalidModelId",
        "NoServingEnabled", "TensorParallelMismatch", "InvalidParallelSize", "RecipeNameInvalid",
        "RecipeModelNameMismatch", "UnknownHardware", "UnknownPrecision", "DuplicateRecipeId",
        "DuplicateRecipe",
        "PortConflict", "InvalidPort", "InvalidMemoryUtilization", "InvalidBatchSize", "InvalidContextLength",
        "InvalidBooleanArg", "DtypeMismatch", "InvalidDtype", "PrecisionUndetermined", "InvalidGpuKey",
        "InvalidArgName",
    }


def test_a_file_given_twice_is_not_a_duplicate() -> None:
    file = REPO / "recipes" / "qwen3-32b-mi250-bf16.yaml"
    assert run_validate([file, file, REPO / "recipes"], REPO).exit_code == 0


def test_strict_turns_warnings_into_errors() -> None:
    outcome = run_validate([FIXTURES / "valid"], FIXTURES, strict=True)
    assert outcome.exit_code == 1
    assert {d.severity for d in outcome.diagnostics} == {Severity.ERROR}


def test_cli_text_format_and_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    runner = CliRunner()
    bad = runner.invoke(cli, ["recipes", "validate", "cases/recipe-id-mismatch"])
    assert bad.exit_code == 1
    assert bad.stderr.splitlines()[0] == (
        "cases/recipe-id-mismatch/qwen3-32b-mi250-bf16.yaml:1:12: error[RecipeIdMismatch]: recipe_id "
        "'qwen3-32b-mi250-fp16' does not match the file name 'qwen3-32b-mi250-bf16.yaml' "
        "(expected 'qwen3-32b-mi250-bf16')"
    )
    assert runner.invoke(cli, ["recipes", "validate", "valid"]).exit_code == 0
    assert runner.invoke(cli, ["recipes", "validate", "no/such/dir"]).exit_code == 2
    assert runner.invoke(cli, ["recipes", "validate"]).exit_code == 2


def test_cli_json_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    result = CliRunner().invoke(cli, ["recipes", "validate", "--format", "json", "cases/ports"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in report] == [
        ("InvalidPort", 20, 15), ("PortConflict", 25, 15), ("InvalidPort", 30, 15),
    ]


def test_directory_without_recipes_is_an_error(tmp_path: Path) -> None:
    outcome = run_validate([tmp_path], tmp_path)
    assert outcome.exit_code == 1
    assert [d.code for d in outcome.diagnostics] == ["NoRecipesFound"]
