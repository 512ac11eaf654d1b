"""KEDA ScaledObject admission: the CRD's CEL rule and the validating webhook (apis/keda/v1alpha1:
scaledobject_webhook.go verifyName, verifyTriggers; scaledobject_types.go CheckReplicaCountBoundsAreValid)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aimgen.validate.finding import ADMISSION_RULE, CEL_RULE, NAME_TOO_LONG, Finding
from aimgen.validate.rules.access import entries, get, is_int, mapping

DEFAULT_MAX_REPLICAS = 100
HPA_PREFIX = "keda-hpa-"
MAX_NAME = 63


def _replica_findings(spec: dict[str, Any]) -> Iterator[Finding]:
    low, high, idle = spec.get("minReplicaCount"), spec.get("maxReplicaCount"), spec.get("idleReplicaCount")
    if any(v is not None and not is_int(v) for v in (low, high, idle)):
        return  # the schema reports the types
    limit = DEFAULT_MAX_REPLICAS if high is None else high
    if low is not None and low > limit:
        yield Finding(
            ("spec", "minReplicaCount"),
            CEL_RULE,
            f"minReplicaCount must be less than or equal to maxReplicaCount ({low} > {limit}"
            f"{'' if high is not None else ', the default maximum'})",
        )
    effective_min = 0 if low is None else max(low, 1)  # GetHPAMinReplicas: at least 1
    if idle is not None and idle >= effective_min:
        yield Finding(
            ("spec", "idleReplicaCount"),
            ADMISSION_RULE,
            f"IdleReplicaCount={idle} must be less than MinReplicaCount={effective_min}",
        )


def _hpa_name_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    explicit = get(obj, "spec", "advanced", "horizontalPodAutoscalerConfig", "name")
    name = get(obj, "metadata", "name")
    if isinstance(explicit, str) and explicit:
        if len(explicit) > MAX_NAME:
            yield Finding(
                ("spec", "advanced", "horizontalPodAutoscalerConfig", "name"),
                NAME_TOO_LONG,
                f"HPA name {explicit!r} is {len(explicit)} characters, at most {MAX_NAME} allowed",
            )
    elif isinstance(name, str) and len(HPA_PREFIX + name) > MAX_NAME:
        yield Finding(
            ("metadata", "name"),
            NAME_TOO_LONG,
            f"the HPA name KEDA derives, {HPA_PREFIX + name!r}, is {len(HPA_PREFIX + name)} characters, "
            f"at most {MAX_NAME} allowed: use a name of at most {MAX_NAME - len(HPA_PREFIX)} characters "
            "or set spec.advanced.horizontalPodAutoscalerConfig.name",
        )


def _trigger_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    triggers = get(obj, "spec", "triggers")
    if isinstance(triggers, list) and not triggers:
        yield Finding(("spec", "triggers"), ADMISSION_RULE, "no triggers defined in the ScaledObject")
    seen: set[str] = set()
    for at, trigger in entries(obj, "spec", "triggers"):
        name = trigger.get("name")
        if isinstance(name, str) and name:
            if name in seen:
                yield Finding(
                    (*at, "name"),
                    ADMISSION_RULE,
                    f"triggerName {name!r} is defined multiple times in the ScaledObject, "
                    "but it must be unique",
                )
            seen.add(name)


def scaledobject_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    yield from _replica_findings(mapping(obj.get("spec")))
    yield from _hpa_name_findings(obj)
    yield from _trigger_findings(obj)
