"""Field-level differences between two plain YAML values (deepdiff, imported lazily: it costs ~0.3 s).

Lists of objects that all carry a distinct `name` (containers, env, volumes, backendRefs, ...) are compared by
name, not by position, so adding one env var reads as one added field instead of a shifted list. JSON objects
held in strings (the AIM_ENGINE_ARGS env) are compared key by key. Paths read like
`spec.predictor.containers[kserve-container].env[AIM_PROFILE_ID].value` and
`...env[AIM_ENGINE_ARGS].value{tensor-parallel-size}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any = ABSENT
    new: Any = ABSENT

    @property
    def change(self) -> str:
        if self.old is ABSENT:
            return "added"
        return "removed" if self.new is ABSENT else "changed"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "change": self.change}
        if self.old is not ABSENT:
            out["old"] = self.old
        if self.new is not ABSENT:
            out["new"] = self.new
        return out

    def render(self, width: int = 80) -> str:
        if self.change == "added":
            return f"{self.path}: + {show(self.new, width)}"
        if self.change == "removed":
            return f"{self.path}: - {show(self.old, width)}"
        return f"{self.path}: {show(self.old, width)} -> {show(self.new, width)}"


def show(value: Any, width: int = 80) -> str:
    """A value on one line (JSON), cut to `width` characters."""
    text = json.dumps(value, sort_keys=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def keyed(value: Any) -> Any:
    """Named lists become {"[name]": item} mappings and JSON-object strings (AIM_ENGINE_ARGS) {"{key}": value}
    mappings, recursively; everything else is kept."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return {f"{{{k}}}": keyed(v) for k, v in decoded.items()} if isinstance(decoded, dict) else value
    if isinstance(value, dict):
        return {k: keyed(v) for k, v in value.items()}
    if isinstance(value, list):
        names = [v.get("name") if isinstance(v, dict) else None for v in value]
        if value and all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return {f"[{n}]": keyed(v) for n, v in zip(names, value, strict=True)}
        return [keyed(v) for v in value]
    return value


def unkeyed(value: Any) -> Any:
    """The inverse of `keyed`, for values shown to people."""
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and k.startswith("[") for k in value):
            return [unkeyed(v) for v in value.values()]
        if value and all(isinstance(k, str) and k.startswith("{") for k in value):
            return json.dumps({k[1:-1]: unkeyed(v) for k, v in value.items()}, separators=(",", ":"))
        return {k: unkeyed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unkeyed(v) for v in value]
    return value


def format_path(steps: list[Any]) -> str:
    out = ""
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.startswith(("[", "{")):
            out += step
        elif _PLAIN_KEY.match(step):
            out += f".{step}" if out else step
        else:
            out += f"[{step}]"
    return out


def field_changes(old: Any, new: Any) -> list[FieldChange]:
    """Every changed leaf or subtree, in path order."""
    from deepdiff import DeepDiff

    if old == new:
        return []
    tree = DeepDiff(keyed(old), keyed(new), view="tree", threshold_to_diff_deeper=0)
    changes: list[FieldChange] = []
    for report, levels in tree.items():
        for level in levels:
            steps = level.path(output_format="list")
            before = ABSENT if report.endswith("_added") else unkeyed(level.t1)
            after = ABSENT if report.endswith("_removed") else unkeyed(level.t2)
            changes.append(FieldChange(format_path(steps), before, after))
    return sorted(changes, key=lambda c: c.path)


def summarize(changes: list[FieldChange], limit: int = 4, width: int = 60) -> str:
    """`a: 1 -> 2, b: + "x"` and `and N more`, for one-line causes."""
    shown = ", ".join(c.render(width) for c in changes[:limit])
    return shown + (f", and {len(changes) - limit} more" if len(changes) > limit else "")
