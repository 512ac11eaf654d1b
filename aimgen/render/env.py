"""Container env of the model server (SPEC §3): runtime config < profile < service, sorted by name.

Merging follows the operator's MergeEnvVars (reference/vectors/env_vars.yaml): a later entry replaces an
earlier one of the same name, except AIM_ENGINE_ARGS, whose JSON objects are deep-merged. Unlike the
operator, AIM_PROFILE_ID / AIM_METRIC / AIM_PRECISION are merged, never appended twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aimgen.inputs.merge import deep_merge
from aimgen.inputs.models.common import EnvVar
from aimgen.resolve.select import Decision

ENGINE_ARGS = "AIM_ENGINE_ARGS"
DEFAULTS = ({"name": "AIM_CACHE_PATH", "value": "/workspace/cache"}, {"name": "VLLM_ENABLE_METRICS", "value": "true"})


def go_json(value: Any) -> str:
    """JSON as Go's json.Marshal writes it: sorted keys, no spaces, <>& escaped, integral floats bare."""
    text = json.dumps(_go_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _go_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def _merge_engine_args(base: str, over: str) -> str:
    if not base:
        return over
    if not over:
        return base
    try:
        merged = deep_merge(json.loads(base), json.loads(over))
    except json.JSONDecodeError:
        return over
    return go_json(merged) if isinstance(merged, dict) else over


def merge_env(layers: Iterable[Iterable[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Merge env layers (lowest precedence first) by name; returns entries sorted by name."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for entry in layer:
            name = entry["name"]
            previous = merged.get(name)
            if (name == ENGINE_ARGS and previous is not None and "value" in previous and "value" in entry):
                entry = {"name": name, "value": _merge_engine_args(previous["value"], entry["value"])}
            merged[name] = entry
    return [merged[k] for k in sorted(merged)]


def _entries(env: Iterable[EnvVar]) -> list[dict[str, Any]]:
    return [e.to_manifest() for e in env]


def container_env(decision: Decision, extra: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The kserve-container env of a decided service; `extra` (e.g. cache or custom-profile vars) sits
    between the profile and the service."""
    profile = decision.profile
    identity = [
        {"name": name, "value": value}
        for name, value in (("AIM_PROFILE_ID", profile.profile_id), ("AIM_METRIC", profile.metric),
                            ("AIM_PRECISION", profile.precision))
        if value
    ]
    engine = [{"name": ENGINE_ARGS, "value": go_json(profile.engine_args)}] if profile.engine_args else []
    return merge_env([
        DEFAULTS,
        _entries(decision.runtime_config.env or []),
        identity,
        _entries(profile.env),
        [{"name": k, "value": v} for k, v in sorted(profile.engine_env.items())],
        engine,
        list(extra),
        _entries(decision.service.spec.env),
    ])
