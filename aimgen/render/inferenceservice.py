"""The KServe InferenceService of a service (SPEC §3). Every field of the output is decided here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aimgen.diagnostics import Diagnostic, error
from aimgen.inputs.inventory import ACCELERATOR_LABEL
from aimgen.render.context import ServiceContext
from aimgen.render.env import container_env
from aimgen.render.labels import inference_labels
from aimgen.render.manifest import Manifest
from aimgen.render.scaling import AUTOSCALER_CLASS, replica_plan
from aimgen.resolve.resources import derive_resources

API_VERSION = "serving.kserve.io/v1beta1"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
CONTAINER_PORT = 8000
SHM_SIZE = "8Gi"


@dataclass(frozen=True)
class PodAdditions:
    """What other renderers contribute to the predictor pod (cache mounts, custom-profile ConfigMaps, ...)."""

    annotations: dict[str, str] = field(default_factory=dict)
    env: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)

    def __add__(self, other: PodAdditions) -> PodAdditions:
        return PodAdditions({**self.annotations, **other.annotations}, self.env + other.env,
                            self.volumes + other.volumes, self.mounts + other.mounts)


def render_inference_service(ctx: ServiceContext, additions: PodAdditions) -> tuple[Manifest, list[Diagnostic]]:
    decision = ctx.decision
    profile = decision.profile
    spec = decision.service.spec
    resources, problems = derive_resources(profile, spec.resources)
    diagnostics = [
        error("InvalidResources", f"{p.message} (after merging the {p.layer}'s resources)",
              ctx.source.at("spec", "resources", p.side, p.key) if p.layer == "service"
              else profile.source.at("spec", "resources", p.side, p.key))
        for p in problems
    ]
    plan = replica_plan(spec)
    annotations = {
        AUTOSCALER_CLASS: "external" if plan.autoscaled else "none",
        DEPLOYMENT_MODE: "Standard",
        **additions.annotations,
    }
    predictor: dict[str, Any] = {"minReplicas": plan.min_replicas, "maxReplicas": plan.max_replicas}
    account = spec.serviceAccountName or profile.service_account_name
    if account:
        predictor["serviceAccountName"] = account
    secrets = list(dict.fromkeys([s.name for s in spec.imagePullSecrets if s.name] + list(profile.image_pull_secrets)))
    if secrets:
        predictor["imagePullSecrets"] = [{"name": s} for s in secrets]
    if profile.accelerator_model and not profile.cpu_only:
        predictor["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": ACCELERATOR_LABEL + profile.accelerator_model, "operator": "Exists"}]}]}}}
    predictor["containers"] = [{
        "name": "kserve-container",
        "image": profile.image,
        "env": container_env(decision, additions.env),
        "ports": [{"containerPort": CONTAINER_PORT, "name": "http", "protocol": "TCP"}],
        "resources": resources.to_manifest(),
        "volumeMounts": [{"mountPath": "/dev/shm", "name": "dshm"}, *additions.mounts],
    }]
    predictor["volumes"] = [{"emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}, "name": "dshm"},
                            *additions.volumes]
    obj = {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": ctx.isvc_name,
            "namespace": ctx.namespace,
            "labels": dict(sorted(inference_labels(decision, ctx.labels).items())),
            "annotations": dict(sorted(annotations.items())),
        },
        "spec": {"predictor": predictor},
    }
    return Manifest(obj, ctx.key, ctx.source), diagnostics
