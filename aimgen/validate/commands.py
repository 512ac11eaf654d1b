"""`aimgen schemas` and `aimgen validate` as library calls: diagnostics resolved to file:line:col,
a summary, an exit code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aimgen.diagnostics import EXIT_INPUT_ERROR, EXIT_OK, EXIT_USAGE, Diagnostic, Diagnostics, error
from aimgen.inputs.load import Document, Locator, parse_documents
from aimgen.validate.core import kubernetes_version as resolve_version
from aimgen.validate.run import open_schemas, validate_documents, validate_paths
from aimgen.validate.schemas import write_schemas


@dataclass(frozen=True)
class Outcome:
    diagnostics: list[Diagnostic]
    summary: str
    exit_code: int


def _resolved(diags: list[Diagnostic], root: Path) -> Diagnostics:
    locator = Locator(root)
    return Diagnostics([locator.resolve(d) for d in diags])


def run_schemas(crds: Sequence[Path], out: Path, kubernetes_version: str | None) -> Outcome:
    """`aimgen schemas`: CRDs and core kinds into `out`, in kubeconform's layout."""
    version = resolve_version(kubernetes_version)
    schemas, diags = write_schemas(crds, out, version)
    found = _resolved(diags, Path.cwd())
    if found.has_errors:
        return Outcome(found.sorted(), "no schema written", EXIT_INPUT_ERROR)
    core = len(schemas.files) - len(schemas.origins)
    summary = (
        f"wrote {len(schemas.files)} schema(s) to {out}: {len(schemas.origins)} from {schemas.crd_count} "
        f"CRD(s), {core} core kind(s) of Kubernetes {version}"
    )
    return Outcome(found.sorted(), summary, EXIT_OK)


def run_validate(
    paths: Sequence[Path],
    root: Path,
    schemas: Path | None,
    crds: Sequence[Path],
    kubernetes_version: str | None,
) -> Outcome:
    """`aimgen validate`: every YAML document under `paths` (default: <root>/rendered)."""
    targets = list(paths) or [root / "rendered"]
    missing = [p for p in targets if not p.exists()]
    if missing:
        return Outcome(
            [error("PathNotFound", f"nothing to validate: {p} does not exist") for p in missing],
            "nothing validated",
            EXIT_USAGE,
        )
    store, schema_diags = open_schemas(schemas, crds, root, kubernetes_version)
    report = validate_paths(targets, root, store)
    found = _resolved(schema_diags + report.diagnostics, root)
    summary = (
        f"validated {report.objects} object(s): {report.objects - report.invalid} valid, "
        f"{report.invalid} invalid, {len(found.items)} error(s)"
    )
    return Outcome(found.sorted(), summary, EXIT_INPUT_ERROR if found.has_errors else EXIT_OK)


def output_validator(
    root: Path, schemas: Path | None, crds: Sequence[Path], kubernetes_version: str | None
) -> Callable[[dict[str, bytes]], list[Diagnostic]]:
    """`aimgen build --validate`: a check of the whole output ({rendered-relative path: bytes}) that runs
    before anything is written; diagnostics point into rendered/<path> at the offending field."""
    store, _ = open_schemas(schemas, crds, root, kubernetes_version)

    def validate(files: dict[str, bytes]) -> list[Diagnostic]:
        texts = {f"rendered/{path}": data for path, data in sorted(files.items())}
        documents: list[Document] = []
        diags: list[Diagnostic] = []
        for rel, data in texts.items():
            docs, syntax = parse_documents(data, rel)
            documents += docs
            diags += syntax
        diags += validate_documents(documents, store).diagnostics
        locator = Locator(root, dict(texts))
        return [locator.resolve(d) for d in diags]

    return validate
