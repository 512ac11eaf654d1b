"""CustomResourceDefinition -> strict JSON Schema per served version (kubeconform's openapi2jsonschema).

Differences from openapi2jsonschema.py, each to stay exactly as strict as the API server:
- `additionalProperties: false` is added to every *structural* object schema with `properties` (the root
  included), but not inside allOf/anyOf/oneOf/not branches, which only restrict values (closing them
  refuses valid objects, e.g. a Gateway address `{type: Hostname, value: ...}`), and not where
  `x-kubernetes-preserve-unknown-fields` keeps an object open (InferenceService `.status`,
  OpenTelemetryCollector v1beta1 `.spec.config`).
- the root and `x-kubernetes-embedded-resource` objects accept apiVersion, kind and metadata even when
  their schema omits them, as the API server does.
- the root `metadata` (a bare `type: object` in every CRD) becomes Kubernetes' ObjectMeta, so a
  misspelt metadata field or a non-string label value is refused as the API server would.
- `nullable: true` admits null. No `$schema`: kubeconform then uses draft 4, as do we.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aimgen.validate.layout import gvk_path
from aimgen.validate.walk import Schema, transform, without_description

_EMBEDDED = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}


def _strict(node: Schema, structural: bool) -> Schema:
    node = without_description(node, structural)
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    if not structural:
        return node
    if node.get("x-kubernetes-embedded-resource") and isinstance(node.get("properties"), dict):
        node["properties"] = {**_EMBEDDED, **node["properties"]}
    if (
        isinstance(node.get("properties"), dict)
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


def strict_schema(openapi: Schema, object_meta: tuple[Schema, dict[str, Schema]] | None = None) -> Schema:
    """A CRD version's openAPIV3Schema made strict; `object_meta` = (ref, definitions) for root metadata."""
    if isinstance(openapi.get("properties"), dict):  # the API server always allows these at the root
        openapi = {**openapi, "properties": {**_EMBEDDED, **openapi["properties"]}}
    schema: Schema = transform(openapi, _strict)
    props = schema.get("properties")
    if object_meta and isinstance(props, dict) and set(props.get("metadata", {})) <= {"type"}:
        ref, definitions = object_meta
        schema["properties"] = {**props, "metadata": ref}
        schema["definitions"] = definitions
    return schema


def _versions(crd: dict[str, Any]) -> Iterator[tuple[str, Schema]]:
    spec = crd.get("spec") or {}
    legacy = (spec.get("validation") or {}).get("openAPIV3Schema")  # apiextensions.k8s.io/v1beta1
    versions = spec.get("versions") or [{"name": spec.get("version"), "served": True}]
    for version in versions:
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or legacy
        if version.get("served", True) and version.get("name") and isinstance(schema, dict):
            yield str(version["name"]), schema


def is_crd(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"


def crd_schemas(
    crd: dict[str, Any],
    object_meta: tuple[Schema, dict[str, Schema]] | None = None,
) -> Iterator[tuple[str, Schema]]:
    """(kubeconform layout path, strict schema) for every served version of a CRD."""
    group = str(crd["spec"]["group"])
    kind = str(crd["spec"]["names"]["kind"])
    for version, openapi in _versions(crd):
        yield gvk_path(group, version, kind), strict_schema(openapi, object_meta)
