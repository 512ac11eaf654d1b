"""The merges of input documents: deep merge, JSON merge patch (RFC 7386), runtime-config merge."""

from __future__ import annotations

from typing import Any


def deep_merge(base: Any, over: Any) -> Any:
    """Objects merge key by key (override wins); anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = deep_merge(out[key], value) if key in out else value
        return out
    return over


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes a member, anything else replaces the target."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def merge_runtime_config_dicts(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge; `env` merges by name; other lists are replaced."""
    out = dict(base)
    for key, value in over.items():
        if key == "env" and isinstance(value, list):
            merged = {e["name"]: e for e in out.get("env") or []}
            merged.update({e["name"]: e for e in value})
            out["env"] = list(merged.values())
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_runtime_config_dicts(out[key], value)
        else:
            out[key] = value
    return out
