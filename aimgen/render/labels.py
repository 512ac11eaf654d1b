"""Labels every object of a service carries (SPEC §3), and label propagation from the AIMService."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..manifest import MANAGED_BY, MANAGED_BY_VALUE, SERVICE_NAME_LABEL
from ..names import sanitize_label_value
from ..resolve import Decision

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
        if key.startswith(AIM_PREFIX) or any(fnmatchcase(key, p) for p in patterns):
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
    return {**{k: v for k, v in own.items() if v}, **common}
