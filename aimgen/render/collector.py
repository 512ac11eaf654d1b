"""The OpenTelemetryCollector sidecar of an autoscaled service (SPEC §3 "Autoscaling").

The collector KServe's otel_reconciler would build (reference/kserve-keda-gateway.md §1.4): scrape the model
server's Prometheus endpoint, label every data point with the pod's namespace/deployment/pod (the OTel
operator sets OTEL_RESOURCE_ATTRIBUTES in the sidecar; `resourcedetection/env` reads them, `transform` copies
them onto the points the scaler's metricQuery filters on), keep only the queried metrics and push them over
OTLP to the KEDA OTel scaler.
"""

from __future__ import annotations

from typing import Any

from aimgen.kube.names import predictor_name
from aimgen.render.context import ServiceContext
from aimgen.render.inferenceservice import CONTAINER_PORT
from aimgen.render.manifest import SYNC_WAVE, Manifest

API_VERSION = "opentelemetry.io/v1beta1"
SCRAPE_INTERVAL = "5s"  # KServe's default: several samples per 30 s evaluation for operationOverTime
# KServe's defaults for the sidecar (ConfigMap opentelemetryCollector.resource).
RESOURCES = {"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"cpu": "200m", "memory": "512Mi"}}
# Before the InferenceService (wave 0): the sidecar is injected only when a pod is created, and only if the
# collector it names exists by then (opentelemetry-operator pkg/sidecar/podmutator.go).
SYNC_WAVE_BEFORE_ISVC = "-1"
POINT_ATTRIBUTES = (("namespace", "k8s.namespace.name"), ("deployment", "k8s.deployment.name"), ("pod", "k8s.pod.name"))


def render_collector(ctx: ServiceContext, metric_names: list[str], endpoint: str) -> Manifest:
    config = {
        "receivers": {"prometheus": {"config": {"scrape_configs": [{
            "job_name": "otel-collector",
            "scrape_interval": SCRAPE_INTERVAL,
            "static_configs": [{"targets": [f"localhost:{CONTAINER_PORT}"]}],
        }]}}},
        "processors": {
            # First, so the two processors after it see only the few series the triggers use.
            "filter/metrics": {"metrics": {"include": {"match_type": "strict", "metric_names": metric_names}}},
            "resourcedetection/env": {"detectors": ["env"], "timeout": "2s", "override": False},
            "transform": {"metric_statements": [{"context": "datapoint", "statements": [
                f'set(attributes["{attr}"], resource.attributes["{resource}"])' for attr, resource in POINT_ATTRIBUTES
            ]}]},
        },
        "exporters": {"otlp": {"endpoint": endpoint, "compression": "none", "tls": {"insecure": True}}},
        "service": {"pipelines": {"metrics": {
            "receivers": ["prometheus"],
            "processors": ["filter/metrics", "resourcedetection/env", "transform"],
            "exporters": ["otlp"],
        }}},
    }
    obj: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "OpenTelemetryCollector",
        "metadata": {
            "name": predictor_name(ctx.isvc_name),
            "namespace": ctx.namespace,
            "labels": dict(sorted(ctx.labels.items())),
            "annotations": {SYNC_WAVE: SYNC_WAVE_BEFORE_ISVC},
        },
        "spec": {"mode": "sidecar", "resources": {k: dict(v) for k, v in RESOURCES.items()}, "config": config},
    }
    origins = (("spec.config", ctx.source.at("spec", "autoScaling")),) if ctx.decision.service.spec.autoScaling else ()
    return Manifest(obj, ctx.key, ctx.source, origins)
