"""Labels every object of a service carries (SPEC §3), and label propagation from the AIMService."""

from __future__ import annotations

import functools
import re

from aimgen.kube.names import sanitize_label_value
from aimgen.render.manifest import MANAGED_BY, MANAGED_BY_VALUE, SERVICE_NAME_LABEL
from aimgen.resolve.select import Decision

AIM_PREFIX = "aim.eai.amd.com/"


def service_labels(decision: Decision) -> dict[str, str]:
    """managed-by and service.name, then the AIMService labels that propagate (never overriding ours).

    Labels under aim.eai.amd.com/ always propagate; others when the runtime config's labelPropagation is
    enabled and the key matches one of its glob patterns (Go filepath.Match semantics, as upstream).
    """
    labels = {MANAGED_BY: MANAGED_BY_VALUE, SERVICE_NAME_LABEL: decision.name}
    propagation = decision.runtime_config.labelPropagation
    patterns = (propagation.match or []) if propagation and propagation.enabled else []
    for key, value in sorted(decision.service.metadata.labels.items()):
        if key.startswith(AIM_PREFIX) or any(glob_match(p, key) for p in patterns):
            labels.setdefault(key, value)
    return labels


def inference_labels(decision: Decision, common: dict[str, str]) -> dict[str, str]:
    """The InferenceService's labels: the operator's set (values sanitised) plus the common ones."""
    profile = decision.profile
    own = {
        "app.kubernetes.io/component": "inference",
        "aim.eai.amd.com/service": sanitize_label_value(decision.name),
        "aim.eai.amd.com/template": sanitize_label_value(profile.name),
        "aim.eai.amd.com/model": sanitize_label_value(profile.model_name or profile.aim_id or ""),
        "aim.eai.amd.com/metric": profile.metric or "",
        "aim.eai.amd.com/precision": profile.precision or "",
        "aim.eai.amd.com/profile-type": profile.type,
    }
    return {**common, **{k: v for k, v in own.items() if v}}  # ours win over propagated labels


def glob_match(pattern: str, key: str) -> bool:
    """Go's filepath.Match, which the operator uses for labelPropagation.match: `*` and `?` stop at `/`,
    `[...]`/`[^...]` classes, `\\` escapes; a malformed pattern matches nothing."""
    compiled = _go_glob(pattern)
    return compiled is not None and compiled.match(key) is not None


@functools.lru_cache(maxsize=256)
def _go_glob(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c in "*?":
            out.append("[^/]*" if c == "*" else "[^/]")
            i += 1
        elif c == "[":
            cls, i = _go_class(pattern, i + 1)
            if cls is None:
                return None
            out.append(cls)
        elif c == "\\":
            if i + 1 == len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error:  # e.g. a reversed range [z-a]
        return None


def _go_class(pattern: str, i: int) -> tuple[str | None, int]:
    """A `[...]` character class starting after its `[`: (regex, index after `]`) or (None, _) if malformed."""
    negate = i < len(pattern) and pattern[i] == "^"
    i += negate
    ranges: list[str] = []
    while i < len(pattern) and not (pattern[i] == "]" and ranges):
        lo, i = _class_char(pattern, i)
        hi = lo
        if lo is not None and i < len(pattern) and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        if lo is None or hi is None:
            return None, i
        ranges.append(re.escape(lo) + ("-" + re.escape(hi) if hi != lo else ""))
    if i >= len(pattern):
        return None, i
    return "[" + ("^" if negate else "") + "".join(ranges) + "]", i + 1


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        return None, i
    if pattern[i] == "\\":
        return (pattern[i + 1], i + 2) if i + 1 < len(pattern) else (None, i)
    return pattern[i], i + 1
