"""A structural walk over JSON Schema documents, shared by the CRD and core-kind converters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]

_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SINGLE = ("items", "additionalProperties", "not")
_LISTS = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("not", *_LISTS)


def transform(node: Any, fn: Callable[[Schema, bool], Schema], structural: bool = True) -> Any:
    """Rebuild a schema bottom-up, calling `fn(subschema, structural)` on every (sub)schema.

    `structural` is False inside allOf/anyOf/oneOf/not: there, in a Kubernetes structural schema,
    a subschema only restricts values and never declares fields (apiextensions "structural schema" rules).
    """
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: transform(sub, fn, structural) for name, sub in out[key].items()}
    for key in _SINGLE:
        if isinstance(out.get(key), dict):
            out[key] = transform(out[key], fn, structural and key not in _BRANCHES)
    for key in _LISTS:
        if isinstance(out.get(key), list):
            out[key] = [transform(sub, fn, False) for sub in out[key]]
    return fn(out, structural)


def without_description(node: Schema, _structural: bool) -> Schema:
    """Descriptions are most of a CRD's bytes and never affect validation."""
    node.pop("description", None)
    return node
