"""Validate objects against their kind's JSON schema and the API server's other rules; located diagnostics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aimgen.diagnostics import EXIT_USAGE, AimgenError, Diagnostic, Location, SourceRef, YamlPath, error
from aimgen.inputs.load import Document, load_files, relative, yaml_files
from aimgen.validate.core import kubernetes_version as resolve_version
from aimgen.validate.finding import NOT_AN_OBJECT, SCHEMA_NOT_FOUND, SCHEMA_VIOLATION, Finding, field_path
from aimgen.validate.rules import rule_findings
from aimgen.validate.rules.access import mapping
from aimgen.validate.schemas import crd_schema_dir
from aimgen.validate.store import SchemaStore, schema_findings

CRDS_ENV = "AIMGEN_CRDS"


@dataclass(frozen=True)
class Report:
    """The outcome of validating a set of documents."""

    diagnostics: list[Diagnostic]
    objects: int
    invalid: int


def label(obj: dict[str, Any]) -> str:
    """`InferenceService team-a/chat`: how an object is named in messages."""
    meta = mapping(obj.get("metadata"))
    name = (
        f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name", "?"))
    )
    return f"{obj.get('kind')} {name}"


def object_findings(obj: Any, schemas: SchemaStore) -> list[Finding]:
    """Schema and rule findings of one document (which may not even be a Kubernetes object)."""
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("apiVersion"), str)
        or not isinstance(obj.get("kind"), str)
    ):
        return [Finding((), NOT_AN_OBJECT, "not a Kubernetes object: apiVersion and kind must be strings")]
    odd_keys = list(_non_string_keys(obj))
    if odd_keys:  # JSON, hence the API server, has string keys only; nothing below expects others
        return odd_keys
    validator = schemas.validator(obj["apiVersion"], obj["kind"])
    if validator is None:
        missing = schemas.path_for(obj["apiVersion"], obj["kind"])
        return [
            Finding(
                ("kind",),
                SCHEMA_NOT_FOUND,
                f"no schema for {obj['apiVersion']} {obj['kind']} "
                f"(looked for {missing}); add its CRD to the schema sources",
            )
        ]
    schema = schema_findings(validator, obj)
    explained = {f.path for f in schema}  # one explanation per field: the schema's, when it has one
    return sorted(set(schema) | {f for f in rule_findings(obj) if f.path not in explained})


def _non_string_keys(value: Any, path: YamlPath = ()) -> Iterator[Finding]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield from _non_string_keys(item, (*path, key))
            else:
                yield Finding((*path, str(key)), SCHEMA_VIOLATION, f"field name {key!r} must be a string (quote it)",
                              key=True)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_string_keys(item, (*path, i))


def _diagnostic(finding: Finding, obj: Any, source: SourceRef) -> Diagnostic:
    subject = label(obj) if isinstance(obj, dict) else "document"
    where = f" {field_path(finding.path)}" if finding.path else ""
    return error(
        finding.code, f"{subject}{where}: {finding.message}", source.at(*finding.path, key=finding.key)
    )


def validate_documents(documents: Iterable[Document], schemas: SchemaStore,
                       bad_files: frozenset[str] = frozenset()) -> Report:
    """Validate every document; diagnostics carry SourceRefs (resolve them with load.Locator for lines).

    Documents of `bad_files` (files with problems found outside the documents) count as invalid.
    """
    diags: list[Diagnostic] = []
    objects = invalid = 0
    for doc in documents:
        findings = object_findings(doc.value, schemas)
        objects += 1
        invalid += bool(findings) or doc.source.file in bad_files
        diags.extend(_diagnostic(f, doc.value, doc.source) for f in findings)
    return Report(diags, objects, invalid)


def validate_manifests(
    items: Iterable[tuple[str, dict[str, Any]]], schemas: SchemaStore | Path
) -> list[Diagnostic]:
    """Validate in-memory objects, one per file: (path relative to the root, object) pairs.

    What `aimgen build --validate` calls. Each diagnostic's location is a SourceRef into that file at
    the offending field: `load.Locator(root, texts)` turns it into file:line:col.
    """
    store = schemas if isinstance(schemas, SchemaStore) else SchemaStore(schemas)
    docs = (Document(obj, SourceRef(path, 0)) for path, obj in items)
    return validate_documents(docs, store).diagnostics


def duplicate_keys(path: Path, root: Path) -> list[Diagnostic]:
    """Keys repeated within one mapping: YAML loaders keep the last silently, kubeconform -strict refuses them."""
    rel = relative(path, root)
    try:
        nodes = list(yaml.compose_all(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except (OSError, yaml.YAMLError):
        return []  # load_files reports these
    found: list[Diagnostic] = []
    pending: list[yaml.Node | None] = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    mark = key.start_mark
                    found.append(error("DuplicateKey", f"key {key.value!r} is repeated in this mapping",
                                       Location(rel, mark.line + 1, mark.column + 1)))
                seen.add(key.value if isinstance(key, yaml.ScalarNode) else "")
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return found


def validate_paths(paths: Sequence[Path], root: Path, schemas: SchemaStore) -> Report:
    """Validate every YAML document of the given files and directories (multi-document files allowed)."""
    files = [f for p in paths for f in (yaml_files(p) if p.is_dir() else [p])]
    documents, file_diags = load_files(files, root)
    file_diags += [d for f in files for d in duplicate_keys(f, root)]
    bad_files = frozenset(d.location.path for d in file_diags if isinstance(d.location, Location))
    report = validate_documents(documents, schemas, bad_files)
    return Report(file_diags + report.diagnostics, report.objects, report.invalid)


def open_schemas(
    schemas: Path | None, crds: Sequence[Path], root: Path, kubernetes_version: str | None = None
) -> tuple[SchemaStore, list[Diagnostic]]:
    """The schema store to validate against: a pre-generated dir, else CRDs converted into the cache.

    Raises AimgenError (usage) when neither is given; callers pass `crds` from --crds or $AIMGEN_CRDS.
    """
    if schemas is not None:
        if crds:
            raise AimgenError(
                [error("SchemaSourceAmbiguous", "give either --schemas or --crds, not both")], EXIT_USAGE
            )
        return SchemaStore(schemas), []
    if not crds:
        raise AimgenError(
            [
                error(
                    "SchemaSourceMissing",
                    "no schemas to validate against: pass --schemas DIR "
                    f"(from `aimgen schemas`) or --crds DIR (or set {CRDS_ENV})",
                )
            ],
            EXIT_USAGE,
        )
    directory, _hit, diags = crd_schema_dir(crds, root / ".aimgen-cache", resolve_version(kubernetes_version))
    if directory is None:
        raise AimgenError(diags)
    return SchemaStore(directory), diags
