"""Tolerant accessors: rules run on objects that may also break the schema, and must never raise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from aimgen.diagnostics import YamlPath


def mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def get(obj: Any, *path: str | int) -> Any:
    """The value at `path`, or None when a step is missing or not a mapping."""
    for step in path:
        obj = mapping(obj).get(step)
    return obj


def entries(obj: Any, *path: str) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """(path, item) for every mapping item of the list at `path`."""
    for i, item in enumerate(items(get(obj, *path))):
        if isinstance(item, dict):
            yield (*path, i), item


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
