"""Replica plan of a service: fixed replicas or KEDA autoscaling (SPEC §3 "Fixed replicas", "Autoscaling")."""

from __future__ import annotations

from dataclasses import dataclass

from ..models.aim import AIMServiceSpec

AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"


@dataclass(frozen=True)
class ReplicaPlan:
    min_replicas: int
    max_replicas: int
    autoscaled: bool


def is_autoscaled(spec: AIMServiceSpec) -> bool:
    """The operator's rule: any of autoScaling, minReplicas, maxReplicas turns autoscaling on."""
    return spec.autoScaling is not None or spec.minReplicas is not None or spec.maxReplicas is not None


def replica_plan(spec: AIMServiceSpec) -> ReplicaPlan:
    """Fixed: min = max = replicas (default 1). Autoscaled: min ?? 1, max ?? min (as the operator)."""
    if is_autoscaled(spec):
        low = spec.minReplicas if spec.minReplicas is not None else 1
        high = spec.maxReplicas if spec.maxReplicas is not None else low
        return ReplicaPlan(low, high, True)
    replicas = spec.replicas if spec.replicas is not None else 1
    return ReplicaPlan(replicas, replicas, False)
