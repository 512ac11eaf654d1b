"""Which output changes disrupt running services when Argo CD (or Flux) applies them.

Facts: KServe refuses a changed `serving.kserve.io/deploymentMode` (`validateDeploymentMode`, see
reference/kserve-keda-gateway.md §1.1); the autoscaler class decides who owns the replica count (§1.5); a
Job's pod template and most of a PersistentVolumeClaim's spec are immutable (Kubernetes API validation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aimgen.diff.fields import FieldChange

DEPLOYMENT_MODE = "metadata.annotations[serving.kserve.io/deploymentMode]"
AUTOSCALER_CLASS = "metadata.annotations[serving.kserve.io/autoscalerClass]"
ROUTE_PATH = re.compile(r"^spec\.rules\[\d+\]\.matches\[\d+\]\.path(\.value)?$")
SCALE_FIELDS = ("spec.predictor.minReplicas", "spec.predictor.maxReplicas")


@dataclass(frozen=True)
class Impact:
    """What applying a change does to a running service. Not `disruptive`: worth knowing, harmless."""

    kind: str
    object: str
    message: str
    disruptive: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "object": self.object, "message": self.message, "disruptive": self.disruptive}


def changed_object_impacts(kind: str, ref: str, fields: list[FieldChange]) -> list[Impact]:
    """Impacts of an object changed in place."""
    rules = {"InferenceService": _inference_service, "HTTPRoute": _route, "ScaledObject": _scaled_object,
             "Job": _job, "PersistentVolumeClaim": _claim}
    rule = rules.get(kind)
    return rule(f"{kind} {ref}", fields) if rule else []


def _decreased(change: FieldChange) -> bool:
    return isinstance(change.old, int) and isinstance(change.new, int) and change.new < change.old


def _inference_service(obj: str, fields: list[FieldChange]) -> list[Impact]:
    out: list[Impact] = []
    for c in fields:
        if c.path == DEPLOYMENT_MODE:
            out.append(Impact("Recreate", obj, f"deploymentMode {c.old} -> {c.new} cannot change in place (KServe "
                              "rejects the update): the InferenceService must be deleted and re-created"))
        elif c.path == AUTOSCALER_CLASS:
            out.append(Impact("AutoscalerClass", obj, f"autoscaler class {c.old} -> {c.new}: the replica count "
                              "changes owner (KServe's fixed replicas vs KEDA's HPA); pods may be scaled at once"))
        elif c.path == "spec.predictor.maxReplicas" and _decreased(c):
            out.append(Impact("ScaleDown", obj, f"maxReplicas {c.old} -> {c.new}: running replicas above the new "
                              "maximum are terminated"))
    if any(c.path.startswith("spec.predictor.") and c.path not in SCALE_FIELDS for c in fields):
        out.append(Impact("Rollout", obj, "the predictor pods are replaced (rolling update of the predictor "
                          "Deployment)", disruptive=False))
    return out


def _route(obj: str, fields: list[FieldChange]) -> list[Impact]:
    out: list[Impact] = []
    for c in fields:
        if ROUTE_PATH.match(c.path):
            out.append(Impact("RoutePath", obj, f"route path {_value(c.old)} -> {_value(c.new)}: clients using the "
                              "old path get 404"))
        elif c.path.startswith("spec.parentRefs"):
            out.append(Impact("RouteMoved", obj, "the route is attached to another gateway: clients must use the "
                              "new gateway's address"))
    return _unique(out)


def _scaled_object(obj: str, fields: list[FieldChange]) -> list[Impact]:
    return [Impact("ScaleDown", obj, f"maxReplicaCount {c.old} -> {c.new}: running replicas above the new maximum "
                   "are terminated") for c in fields if c.path == "spec.maxReplicaCount" and _decreased(c)]


def _job(obj: str, fields: list[FieldChange]) -> list[Impact]:
    if any(c.path.startswith(("spec.template", "spec.selector")) for c in fields):
        return [Impact("Immutable", obj, "a Job's pod template is immutable: the Job must be deleted and re-created "
                       "(Argo CD: sync option Replace=true on it, or delete it before syncing)")]
    return []


def _claim(obj: str, fields: list[FieldChange]) -> list[Impact]:
    growing = [c for c in fields if c.path == "spec.resources.requests.storage"]
    other = [c for c in fields if c.path.startswith("spec.") and c not in growing]
    if other:
        return [Impact("Immutable", obj, "a PersistentVolumeClaim's spec is immutable (only a storage request may "
                       "grow): the claim, and the data cached in it, must be deleted and re-created")]
    return []


def _value(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def _unique(impacts: list[Impact]) -> list[Impact]:
    return list(dict.fromkeys(impacts))
