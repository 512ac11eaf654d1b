"""Schema directories in kubeconform's layout: written from CRDs + core kinds, cached by content, looked up.

`write_schemas` is what `aimgen schemas` runs; `crd_schema_dir` converts on the fly into
`.aimgen-cache/schemas/<hash>/`, keyed on the CRD bytes, the Kubernetes version, the
kubernetes-validate version and this converter's own source, and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

from aimgen.diagnostics import Diagnostic, Location, Severity, error
from aimgen.inputs.load import parse_documents, yaml_files
from aimgen.validate import core, crd, layout, walk
from aimgen.validate.walk import Schema

_COMPLETE = ".complete"


@dataclass
class SchemaSet:
    """What a schema directory holds: files by layout path, and where each CRD-made one came from."""

    files: dict[str, Schema] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    crd_count: int = 0


def crd_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files of the given files and directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        found.extend(yaml_files(path) if path.is_dir() else [path])
    return found


def collect(crd_paths: Sequence[Path], kubernetes_version: str) -> tuple[SchemaSet, list[Diagnostic]]:
    """Core kinds of that Kubernetes version plus every served version of every CRD found."""
    out = SchemaSet(files=dict(core.core_schemas(kubernetes_version)))
    diags: list[Diagnostic] = []
    meta = core.object_meta(kubernetes_version)
    for path in crd_files(crd_paths):
        rel = path.as_posix()
        try:
            docs, syntax = parse_documents(path.read_bytes(), rel)
        except OSError as exc:
            diags.append(error("FileUnreadable", f"cannot read file: {exc.strerror}", Location(rel)))
            continue
        diags.extend(syntax)
        for doc in docs:
            items = (
                doc.value.get("items")
                if isinstance(doc.value, dict) and doc.value.get("kind") == "List"
                else None
            )
            for value in items if isinstance(items, list) else [doc.value]:
                if crd.is_crd(value):
                    diags.extend(_add_crd(out, value, meta, rel))
    return out, diags


def _add_crd(
    out: SchemaSet, value: dict[str, object], meta: tuple[Schema, dict[str, Schema]], rel: str
) -> list[Diagnostic]:
    try:
        converted = list(crd.crd_schemas(value, meta))
    except (KeyError, TypeError) as exc:
        return [error("CRDInvalid", f"not a usable CustomResourceDefinition (missing {exc})", Location(rel))]
    diags = []
    for path, schema in converted:
        if path in out.origins:
            diags.append(
                error("CRDDuplicate", f"{path} is also defined by {out.origins[path]}", Location(rel))
            )
        out.origins[path] = rel
        out.files[path] = schema
    out.crd_count += 1
    return diags


def write(schemas: SchemaSet, out_dir: Path) -> None:
    """Write every schema file below `out_dir` (other files there are left alone)."""
    for rel, schema in sorted(schemas.files.items()):
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(schema, separators=(",", ":")) + "\n")


def write_schemas(
    crd_paths: Sequence[Path],
    out_dir: Path,
    kubernetes_version: str,
) -> tuple[SchemaSet, list[Diagnostic]]:
    """`aimgen schemas`: convert the CRDs and the core kinds into `out_dir`; nothing is written on error."""
    schemas, diags = collect(crd_paths, kubernetes_version)
    if not any(d.severity is Severity.ERROR for d in diags):
        write(schemas, out_dir)
    return schemas, diags


def cache_key(crd_paths: Sequence[Path], kubernetes_version: str) -> str:
    """Content hash of every input of the conversion (nothing volatile: no mtimes, no absolute paths)."""
    digest = hashlib.sha256()
    digest.update(
        f"k8s={kubernetes_version};kubernetes-validate={package_version('kubernetes-validate')};".encode()
    )
    for module in (core, crd, layout, walk):
        digest.update(Path(str(module.__file__)).read_bytes())
    for path in crd_files(crd_paths):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def crd_schema_dir(
    crd_paths: Sequence[Path],
    cache_root: Path,
    kubernetes_version: str,
) -> tuple[Path | None, bool, list[Diagnostic]]:
    """The cached schema dir for these CRDs, built on a miss: (dir or None on error, hit?, diagnostics)."""
    target = cache_root / "schemas" / cache_key(crd_paths, kubernetes_version)
    if (target / _COMPLETE).exists():
        return target, True, []
    schemas, diags = collect(crd_paths, kubernetes_version)
    if any(d.severity is Severity.ERROR for d in diags):
        return None, False, diags
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    write(schemas, staging)
    (staging / _COMPLETE).write_text("")
    try:
        os.replace(staging, target)
    except OSError:  # another process finished the same entry first
        shutil.rmtree(staging, ignore_errors=True)
    return target, False, diags
