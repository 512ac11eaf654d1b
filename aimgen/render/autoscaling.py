"""Autoscaling part: replica checks for every service; for an autoscaled one its ScaledObject, its
OpenTelemetryCollector and the pod annotations that bind them (SPEC §3 "Autoscaling").

Seed 000: autoscaling can only be chosen when a service is first deployed. The InferenceService already in
rendered/ tells which mode is deployed; switching needs an acknowledgement on the AIMService.
"""

from __future__ import annotations

from aimgen.diagnostics import Diagnostic, Severity, SourceRef, error, warning
from aimgen.kube.names import predictor_name
from aimgen.render.collector import render_collector
from aimgen.render.context import ServiceContext
from aimgen.render.inferenceservice import CONTAINER_PORT, PodAdditions
from aimgen.render.part import Part
from aimgen.render.scaledobject import render_scaled_object
from aimgen.render.scaling import (
    AUTOSCALER_CLASS,
    autoscaling_field,
    plan_triggers,
    replica_diagnostics,
    replica_plan,
)

ALLOW_CHANGE = "aimgen.amd.com/allow-autoscaling-change"
SIDECAR_INJECT = "sidecar.opentelemetry.io/inject"  # the collector (by name) the OTel operator injects
METRICS_PORT = "prometheus.kserve.io/port"  # set as the AIM operator does (aim-engine kserve.go)


def render_autoscaling(ctx: ServiceContext) -> Part:
    spec = ctx.decision.service.spec
    plan = replica_plan(spec)
    diagnostics = replica_diagnostics(spec, ctx.source)
    if not plan.autoscaled:
        return Part(diagnostics=diagnostics)
    triggers, problems = plan_triggers(spec, ctx.settings.autoscaling, ctx.source)
    diagnostics += problems
    if any(d.severity is Severity.ERROR for d in problems):
        return Part(diagnostics=diagnostics)
    metric_names = sorted({t.metric for t in triggers})
    name = predictor_name(ctx.isvc_name)
    return Part(
        manifests=[render_collector(ctx, metric_names, ctx.settings.autoscaling.collectorEndpoint),
                   render_scaled_object(ctx, plan, triggers)],
        additions=PodAdditions(annotations={SIDECAR_INJECT: name, METRICS_PORT: str(CONTAINER_PORT)}),
        diagnostics=diagnostics,
    )


def check_mode_change(ctx: ServiceContext) -> Part:
    """The only part that reads rendered/ (the deployed class): kept apart, so that a second rendering against
    another deployed class re-runs this check alone."""
    return Part(diagnostics=mode_change(ctx, replica_plan(ctx.decision.service.spec).autoscaled))


def mode_change(ctx: ServiceContext, autoscaled: bool) -> list[Diagnostic]:
    """Switching a rendered service between fixed replicas and autoscaling: an error unless acknowledged."""
    deployed = ctx.deployed_autoscaler_class
    if deployed is None:
        return []
    acknowledged = ctx.decision.service.metadata.annotations.get(ALLOW_CHANGE) == "true"
    was_autoscaled = deployed != "none"
    if was_autoscaled == autoscaled:
        return [warning("AutoscalingChangeAckUnused", f"{ALLOW_CHANGE} is set but the service keeps its deployed "
                        "replica mode; remove it, or a later switch will not be stopped",
                        ctx.source.at("metadata", "annotations", ALLOW_CHANGE, key=True))] if acknowledged else []
    before, after = ("autoscaling", "fixed replicas") if was_autoscaled else ("fixed replicas", "autoscaling")
    isvc = f"InferenceService {ctx.namespace}/{ctx.isvc_name}"
    if acknowledged:
        return [warning("AutoscalingModeChange", f"switching from {before} to {after}, as acknowledged by "
                        f"{ALLOW_CHANGE}: delete {isvc} when this change syncs so that it is re-created, then remove "
                        "the annotation", ctx.source.at("metadata", "annotations", ALLOW_CHANGE, key=True))]
    return [error("AutoscalingModeChange", f"{isvc} is deployed with {before} ({AUTOSCALER_CLASS}: {deployed} in "
                  f"rendered/) and would switch to {after}. Autoscaling can only be chosen when a service is first "
                  "deployed: with class none KServe owns the Deployment's replicas and keeps setting them to "
                  "minReplicas, with class external KEDA's HPA owns them, and the OpenTelemetry sidecar is only "
                  "injected into new pods, so the InferenceService must be deleted and re-created. To switch "
                  f"deliberately, annotate the AIMService with {ALLOW_CHANGE}: \"true\" and delete the "
                  "InferenceService when the change syncs", _mode_location(ctx, autoscaled))]


def _mode_location(ctx: ServiceContext, autoscaled: bool) -> SourceRef:
    spec = ctx.decision.service.spec
    if autoscaled:
        return ctx.source.at("spec", autoscaling_field(spec), key=True)
    if spec.replicas is not None:
        return ctx.source.at("spec", "replicas", key=True)
    return ctx.source.at("spec", key=True)
