"""The corpus: valid objects of every kind aimgen emits pass both validators; each hand-made invalid one is
refused by the in-process validator with exactly the expected codes and field paths, and by kubeconform
whenever the schema alone can tell."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from aimgen.validate.finding import field_path
from aimgen.validate.run import object_findings, validate_manifests
from aimgen.validate.store import SchemaStore

from .conftest import CORPUS

VALID = sorted((CORPUS / "valid").glob("*.yaml"))
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
SCHEMA_CODES = {"SchemaViolation", "UnknownField", "RequiredFieldMissing", "SchemaNotFound"}
EMITTED_KINDS = {
    "InferenceService",
    "ScaledObject",
    "OpenTelemetryCollector",
    "HTTPRoute",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Job",
}


def expected(path: Path) -> set[tuple[str, str]]:
    """The `# expect: <Code> <field path>` header lines of a corpus file."""
    lines = [
        line.removeprefix("# expect: ")
        for line in path.read_text().splitlines()
        if line.startswith("# expect: ")
    ]
    return {(code, where) for code, _, where in (line.partition(" ") for line in lines)}


def load(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def test_corpus_covers_every_emitted_kind() -> None:
    for files in (VALID, INVALID):
        assert {load(p)["kind"] for p in files} >= EMITTED_KINDS
    assert all(expected(p) for p in INVALID)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_objects_pass(path: Path, store: SchemaStore) -> None:
    assert validate_manifests([(path.name, load(path))], store) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_objects_are_refused_at_the_field(path: Path, store: SchemaStore) -> None:
    found = {(f.code, field_path(f.path)) for f in object_findings(load(path), store)}
    assert found == expected(path)


def test_diagnostics_name_file_object_and_field(store: SchemaStore) -> None:
    path = CORPUS / "invalid" / "scaledobject-trigger-value-not-string.yaml"
    [diag] = validate_manifests([("rendered/prod/so.yaml", load(path))], store)
    assert diag.code == "SchemaViolation"
    assert diag.location.file == "rendered/prod/so.yaml"  # type: ignore[union-attr]
    assert diag.message == (
        "ScaledObject team-a/chat-e204f50a-predictor spec.triggers[0].metadata.targetValue: "
        "expected string, got integer 10"
    )


def kubeconform_statuses(binary: Path, schema_dir: Path, target: Path) -> dict[str, str]:
    """kubeconform -strict over `target`: status per file name."""
    proc = subprocess.run(
        [
            str(binary),
            "-strict",
            "-summary",
            "-verbose",
            "-output",
            "json",
            "-schema-location",
            f"{schema_dir}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    assert report["summary"]["skipped"] == 0
    return {Path(r["filename"]).relative_to(target).as_posix(): r["status"] for r in report["resources"]}


def test_kubeconform_accepts_the_valid_corpus(kubeconform: Path, schema_dir: Path) -> None:
    statuses = kubeconform_statuses(kubeconform, schema_dir, CORPUS / "valid")
    assert statuses == {p.name: "statusValid" for p in VALID}


def test_kubeconform_refuses_what_the_schema_can_tell(kubeconform: Path, schema_dir: Path) -> None:
    """Schema-detectable cases are refused by kubeconform too; the others (CEL, webhooks, name limits) pass it,
    which is why aimgen checks them itself."""
    statuses = kubeconform_statuses(kubeconform, schema_dir, CORPUS / "invalid")
    for path in INVALID:
        schema_detectable = any(code in SCHEMA_CODES for code, _ in expected(path))
        refused = statuses[path.name] in ("statusInvalid", "statusError")
        assert refused == schema_detectable, path.name
