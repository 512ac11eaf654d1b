"""Core Kubernetes kinds (ConfigMap, Job, Namespace, Service, ...) from the kubernetes-validate package.

The package ships the Kubernetes OpenAPI converted to JSON Schema, per Kubernetes version, with a
`-local-strict` variant (additionalProperties: false). Its kind files `$ref` a shared 1.8 MB
`_definitions.json` through an `https://kubernetes.io/api/...` `$id`, which kubeconform would try to
download; each kind is therefore written standalone, with only the definitions it reaches inlined.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from aimgen.diagnostics import EXIT_USAGE, AimgenError, error
from aimgen.validate.layout import gvk_path
from aimgen.validate.walk import Schema, transform, without_description

_PACKAGE = "kubernetes_validate"
_SHARED_REF = "/api/_definitions.json#/$defs/"
_LOCAL_REF = "#/$defs/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split(".")[:2] if part.isdigit())


def kubernetes_version(requested: str | None = None) -> str:
    """The schema set used: the newest shipped one not newer than `requested` (default: the newest)."""
    from kubernetes_validate.utils import all_versions

    versions = sorted(all_versions(), key=_version_key)
    if requested is None:
        return versions[-1]
    fitting = [v for v in versions if _version_key(v) <= _version_key(requested)]
    if not fitting or not _version_key(requested):
        raise AimgenError(
            [
                error(
                    "KubernetesVersionUnsupported",
                    f"no core schemas for Kubernetes {requested!r}: "
                    f"kubernetes-validate ships {versions[0]} to {versions[-1]}",
                )
            ],
            EXIT_USAGE,
        )
    return fitting[-1]


def _schema_dir(version: str) -> Any:
    return resources.files(_PACKAGE).joinpath("kubernetes-json-schema", f"v{version}-local-strict")


def _definitions(version: str) -> dict[str, Schema]:
    defs: dict[str, Schema] = json.loads(_schema_dir(version).joinpath("_definitions.json").read_text())[
        "$defs"
    ]
    return defs


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _relink(node: Any, defs_key: str) -> Any:
    """Point every definition `$ref` at `#/<defs_key>/<name>` inside the same file."""
    if isinstance(node, dict):
        return {
            k: (
                f"#/{defs_key}/" + _def_name(v)
                if k == "$ref" and isinstance(v, str)
                else _relink(v, defs_key)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_relink(item, defs_key) for item in node]
    return node


def _def_name(ref: str) -> str:
    return ref.removeprefix(_SHARED_REF).removeprefix(_LOCAL_REF)


def standalone(schema: Schema, defs: dict[str, Schema], defs_key: str = "$defs") -> Schema:
    """`schema` with the definitions it reaches (transitively) inlined under `defs_key`, no `$id`."""
    reached: dict[str, Schema] = {}
    pending = [_def_name(ref) for ref in _refs(schema)]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached[name] = defs[name]
            pending.extend(_def_name(ref) for ref in _refs(defs[name]))
    out = {k: v for k, v in schema.items() if k != "$id"}
    if reached:
        out[defs_key] = {name: reached[name] for name in sorted(reached)}
    return transform(_relink(out, defs_key), without_description)  # type: ignore[no-any-return]


def core_schemas(version: str) -> Iterator[tuple[str, Schema]]:
    """(kubeconform layout path, standalone strict schema) for every kind of that Kubernetes version."""
    defs = _definitions(version)
    for entry in sorted(_schema_dir(version).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name.startswith("_") or entry.name == "all.json":
            continue
        schema = json.loads(entry.read_text())
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if len(gvks) != 1:  # a field type, or DeleteOptions/WatchEvent which every group shares
            continue
        group, api_version, kind = gvks[0]["group"], gvks[0]["version"], gvks[0]["kind"]
        yield gvk_path(group, api_version, kind), standalone(schema, defs)


def object_meta(version: str) -> tuple[Schema, dict[str, Schema]]:
    """A `$ref` to Kubernetes' ObjectMeta and its definitions, for CRD schemas (draft-4 `definitions`)."""
    bundled = standalone({"$ref": _SHARED_REF + OBJECT_META}, _definitions(version), "definitions")
    return {"$ref": bundled["$ref"]}, bundled["definitions"]
