"""`aimgen schemas` and `aimgen validate` on the command line: exit codes, located messages, schema sources."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from aimgen.cli import cli

from .conftest import CORPUS, widget_crd


def widget(size: object) -> str:
    return yaml.safe_dump(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": size}}
    )


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_valid_corpus_passes(schema_dir: Path) -> None:
    code, _, err = run("validate", "--schemas", str(schema_dir), str(CORPUS / "valid"))
    assert code == 0
    assert err.endswith("validated 10 object(s): 10 valid, 0 invalid, 0 error(s)\n")


def test_errors_are_located_at_the_offending_value(schema_dir: Path, tmp_path: Path) -> None:
    shutil.copy(CORPUS / "invalid" / "httproute-path-relative.yaml", tmp_path / "route.yaml")
    code, _, err = run(
        "validate", "--root", str(tmp_path), "--schemas", str(schema_dir)
    )  # default: rendered/
    assert code == 2 and "rendered does not exist" in err
    (tmp_path / "rendered").mkdir()
    shutil.move(tmp_path / "route.yaml", tmp_path / "rendered" / "route.yaml")
    code, _, err = run("validate", "--root", str(tmp_path), "--schemas", str(schema_dir))
    assert code == 1
    assert err.splitlines()[0] == (
        "rendered/route.yaml:18:16: error[CELRuleViolation]: HTTPRoute ml-team/qwen-chat-a04542d9 "
        "spec.rules[0].matches[0].path.value: value must be an absolute path and start with '/' when type one of "
        "['Exact', 'PathPrefix']: 'ml-team/qwen-chat'"
    )


def test_json_report(schema_dir: Path) -> None:
    code, out, _ = run(
        "validate",
        "--schemas",
        str(schema_dir),
        "--format",
        "json",
        str(CORPUS / "invalid" / "scaledobject-trigger-value-not-string.yaml"),
    )
    assert code == 1
    [diag] = json.loads(out)
    assert (diag["code"], diag["line"], diag["column"]) == ("SchemaViolation", 29, 20)
    assert "spec.triggers[0].metadata.targetValue" in diag["message"]


def test_schema_sources(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "widget.yaml").write_text(yaml.safe_dump(widget_crd()))
    (tmp_path / "ok.yaml").write_text(widget(3))
    (tmp_path / "bad.yaml").write_text(widget("3"))
    root = ["--root", str(tmp_path)]
    assert run("validate", *root, str(tmp_path / "ok.yaml"))[0] == 2  # no schema source
    env = {"AIMGEN_CRDS": str(tmp_path / "crds")}
    assert run("validate", *root, str(tmp_path / "ok.yaml"), env=env)[0] == 0
    assert (tmp_path / ".aimgen-cache" / "schemas").is_dir()
    code, _, err = run("validate", *root, "--crds", str(tmp_path / "crds"), str(tmp_path / "bad.yaml"))
    assert code == 1 and "spec.size: expected integer, got string" in err
    code, _, err = run("schemas", "--crds", str(tmp_path / "crds"), "--out", str(tmp_path / "out"))
    assert code == 0 and "1 from 1 CRD(s)" in err
    assert (tmp_path / "out" / "example.com" / "widget_v1.json").is_file()
    code, _, err = run(
        "validate",
        *root,
        "--schemas",
        str(tmp_path / "out"),
        "--crds",
        str(tmp_path / "crds"),
        str(tmp_path / "ok.yaml"),
    )
    assert code == 2 and "SchemaSourceAmbiguous" in err


def test_unknown_kinds_are_errors_not_skips(schema_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n---\n- 1\n"
    )
    code, _, err = run("validate", "--schemas", str(schema_dir), str(tmp_path / "x.yaml"))
    assert code == 1
    assert "error[SchemaNotFound]" in err and "error[NotAKubernetesObject]" in err


@pytest.mark.parametrize("argv", [["--help"], ["validate", "--help"], ["schemas", "--help"]])
def test_help_does_not_load_the_validators(argv: list[str]) -> None:
    script = f"""
import contextlib, sys
from aimgen.cli import cli
with contextlib.suppress(SystemExit):
    cli.main({argv!r})
print(sorted(m for m in ("jsonschema", "aimgen.validate.store") if m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == "[]"


def test_duplicate_keys_and_syntax_errors_are_refused(schema_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    code, _, err = run("validate", "--root", str(tmp_path), "--schemas", str(schema_dir), str(tmp_path))
    assert code == 1
    assert err.splitlines() == [
        "broken.yaml:2:1: error[YAMLSyntaxError]: did not find expected node content",
        "dup.yaml:5:3: error[DuplicateKey]: key 'name' is repeated in this mapping",
        "validated 1 object(s): 0 valid, 1 invalid, 2 error(s)",
    ]
