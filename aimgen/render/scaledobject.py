"""The KEDA ScaledObject of an autoscaled service (SPEC §3 "Autoscaling").

Shaped like the one KServe's keda_reconciler builds for an OpenTelemetry pod metric
(reference/kserve-keda-gateway.md §1.3), but owned by aimgen: the InferenceService has autoscalerClass
external, so KServe creates no HPA nor ScaledObject and leaves the Deployment's replicas to KEDA's HPA.
"""

from __future__ import annotations

from typing import Any

from aimgen.kube.names import KEDA_HPA_PREFIX, MAX_NAME, derived_name, predictor_name
from aimgen.render.context import ServiceContext
from aimgen.render.manifest import SYNC_WAVE, Manifest
from aimgen.render.scaling import ReplicaPlan, Trigger

API_VERSION = "keda.sh/v1alpha1"
POLLING_INTERVAL = 30  # seed 000: metrics are evaluated every 30 s
SCALE_DOWN_WINDOW = 300  # seed 000: a 5-minute cooling period before scaling down, against flapping
# Scale up at the next evaluation (KServe's shipped default and the HPA's): a GPU replica takes minutes to load
# its model, so waiting longer only delays relief; the HPA's default policies still cap growth per 15 s.
SCALE_UP_WINDOW = 0
# After the InferenceService (wave 0): the Deployment it targets is created by KServe from it.
SYNC_WAVE_AFTER_ISVC = "1"


def metric_query(trigger: Trigger, namespace: str, deployment: str) -> str:
    """KServe's metricQuery (keda_reconciler.go): the sum over the Deployment's pods of the metric.

    The sum is what both target types need: with metricType Value the HPA compares the total with the target,
    with AverageValue it divides the total by the replica count first (a per-pod target).
    """
    return f'sum({trigger.metric}{{namespace="{namespace}", deployment="{deployment}"}})'


def hpa_name(isvc: str) -> str | None:
    """An explicit HPA name when KEDA's default `keda-hpa-<isvc>-predictor` would exceed 63 characters, else None.

    The InferenceService name may have 48 characters, so the default can reach 67. The explicit name keeps the
    `keda-hpa-` prefix and is never `<isvc>-predictor`: with class external, KServe's HPA reconciler would try to
    update an HPA of that name (reference/kserve-keda-gateway.md §1.5).
    """
    if len(KEDA_HPA_PREFIX + predictor_name(isvc)) <= MAX_NAME:
        return None
    return derived_name(["keda-hpa", isvc, "predictor"], isvc)


def render_scaled_object(ctx: ServiceContext, plan: ReplicaPlan, triggers: list[Trigger]) -> Manifest:
    name = predictor_name(ctx.isvc_name)
    hpa_config: dict[str, Any] = {}
    explicit = hpa_name(ctx.isvc_name)
    if explicit:
        hpa_config["name"] = explicit
    hpa_config["behavior"] = {
        "scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_WINDOW},
        "scaleUp": {"stabilizationWindowSeconds": SCALE_UP_WINDOW},
    }
    obj = {
        "apiVersion": API_VERSION,
        "kind": "ScaledObject",
        "metadata": {
            "name": name,
            "namespace": ctx.namespace,
            "labels": dict(sorted(ctx.labels.items())),
            "annotations": {SYNC_WAVE: SYNC_WAVE_AFTER_ISVC},
        },
        "spec": {
            # KServe's raw-deployment Deployment is named <isvc>-predictor (components/predictor.go).
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicaCount": plan.min_replicas,
            "maxReplicaCount": plan.max_replicas,
            "pollingInterval": POLLING_INTERVAL,
            "advanced": {"horizontalPodAutoscalerConfig": hpa_config},
            "triggers": [_trigger(t, ctx.namespace, name) for t in triggers],
        },
    }
    spec = ctx.decision.service.spec
    origins = tuple((field, ctx.source.at("spec", source)) for field, source in (
        ("spec.minReplicaCount", "minReplicas"), ("spec.maxReplicaCount", "maxReplicas"),
        ("spec.triggers", "autoScaling")) if getattr(spec, source) is not None)
    return Manifest(obj, ctx.key, ctx.source, origins)


def _trigger(trigger: Trigger, namespace: str, deployment: str) -> dict[str, Any]:
    """An external trigger served by the KEDA OTel scaler; every metadata value is a string (CRD)."""
    return {
        "type": "external",
        "metricType": trigger.target_type,
        "metadata": {
            "scalerAddress": trigger.scaler_address,
            "metricQuery": metric_query(trigger, namespace, deployment),
            "operationOverTime": trigger.operation,
            "targetValue": trigger.target,
        },
    }
