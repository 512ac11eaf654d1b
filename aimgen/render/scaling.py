"""Replica plan and autoscaling triggers of a service, with their checks (SPEC §3 "Fixed replicas", "Autoscaling").

Every fact about replicas is decided here; the InferenceService, ScaledObject and collector renderers only
read the plan. Input shapes come from the AIM CRD (`spec.replicas|minReplicas|maxReplicas|autoScaling`);
what the KEDA OTel scaler accepts comes from kedify/otel-add-on (reference/kserve-keda-gateway.md §2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from aimgen.diagnostics import Diagnostic, SourceRef, error, warning
from aimgen.inputs.models.aim import AIMServiceSpec, MetricTarget, PodMetric
from aimgen.inputs.models.cluster import AutoscalingSettings
from aimgen.inputs.models.common import check_scaler_address
from aimgen.kube.quantity import parse_quantity
from aimgen.render.manifest import AUTOSCALER_CLASS as AUTOSCALER_CLASS  # defined with the other label constants

# KEDA and the HPA take any int32; no AIM deployment comes near 1000 replicas (the workbench offers 1-30), so a
# larger count is a typo (an extra zero), refused before it reaches a cluster.
MAX_REPLICAS = 1000
OPERATIONS = ("last_one", "avg", "max", "min", "rate", "count")  # otel-add-on types/metrics.go
DEFAULT_OPERATION = "last_one"  # the scaler's own default (AIM CRD: "Default: last_one"), written out explicitly
# A Prometheus metric name the scaler's metricQuery parser and its admission policy both accept
# (`[a-zA-Z][a-zA-Z0-9-_:]*`, minus '-', which no Prometheus name contains).
METRIC_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_:]*$")
PLAIN_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")


@dataclass(frozen=True)
class ReplicaPlan:
    min_replicas: int
    max_replicas: int
    autoscaled: bool


@dataclass(frozen=True)
class Trigger:
    """One KEDA trigger on an OpenTelemetry pod metric."""

    metric: str  # bare metric name; the ScaledObject adds the aggregation and the namespace/deployment filters
    operation: str  # operationOverTime: how each pod's recent samples are combined
    target_type: str  # KEDA metricType: Value = total over all pods, AverageValue = per pod
    target: str  # plain decimal, as the scaler parses targetValue (strconv.ParseFloat)
    scaler_address: str


# Workbench defaults (seed 000): running requests, average, absolute value, target 10.
DEFAULT_TRIGGER = ("vllm:num_requests_running", "avg", "Value", "10")


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


def autoscaling_field(spec: AIMServiceSpec) -> str:
    """The first field that turned autoscaling on (where its diagnostics point)."""
    return next(f for f in ("minReplicas", "maxReplicas", "autoScaling") if getattr(spec, f) is not None)


def replica_diagnostics(spec: AIMServiceSpec, source: SourceRef) -> list[Diagnostic]:
    """Fixed and autoscaled replicas not mixed, min <= max, every count within MAX_REPLICAS."""
    out: list[Diagnostic] = []
    autoscaled = is_autoscaled(spec)
    if autoscaled and spec.replicas is not None:
        out.append(error("ReplicasWithAutoscaling", f"replicas fixes the replica count, but {autoscaling_field(spec)} "
                         "turns on KEDA autoscaling; set either replicas or minReplicas/maxReplicas (the operator "
                         "would silently ignore replicas)", source.at("spec", "replicas")))
    for name in ("replicas", "minReplicas", "maxReplicas"):
        value = getattr(spec, name)
        if value is not None and value > MAX_REPLICAS:
            out.append(error("ReplicasOutOfRange", f"{name} {value} is above {MAX_REPLICAS}, the most aimgen "
                             "accepts for one service", source.at("spec", name)))
    if spec.minReplicas is not None and spec.maxReplicas is not None and spec.minReplicas > spec.maxReplicas:
        out.append(error("InvalidReplicaRange", f"minReplicas {spec.minReplicas} is greater than maxReplicas "
                         f"{spec.maxReplicas}", source.at("spec", "minReplicas")))
    if autoscaled and spec.maxReplicas is None:
        plan = replica_plan(spec)
        out.append(warning("MaxReplicasMissing", f"autoscaling without maxReplicas scales between {plan.min_replicas} "
                           f"and {plan.max_replicas} replicas, i.e. never; set maxReplicas (the AIM CRD requires it "
                           "with minReplicas or autoScaling)", source.at("spec", autoscaling_field(spec), key=True)))
    return out


def plan_triggers(spec: AIMServiceSpec, settings: AutoscalingSettings,
                  source: SourceRef) -> tuple[list[Trigger], list[Diagnostic]]:
    """One trigger per `spec.autoScaling.metrics[]` entry, or the workbench default when none is given."""
    metrics = spec.autoScaling.metrics if spec.autoScaling else []
    if not metrics:
        return [Trigger(*DEFAULT_TRIGGER, settings.scalerAddress)], []
    triggers: list[Trigger] = []
    diags: list[Diagnostic] = []
    for i, entry in enumerate(metrics):
        at = source.at("spec", "autoScaling", "metrics", i)
        if entry.podmetric is None:
            diags.append(error("MissingField", "a PodMetric entry needs podmetric (metric and target)", at))
            continue
        trigger, problems = _trigger(entry.podmetric, settings, at.at("podmetric"))
        diags += problems
        if trigger is not None:
            triggers.append(trigger)
    queried = {t.metric for t in triggers}
    for i, entry in enumerate(metrics):
        names = entry.podmetric.metric.metricNames if entry.podmetric else []
        diags += [warning("UnusedMetricName", f"metricNames lists {name!r}, which no trigger queries; the collector "
                          "exports only the queried metrics",
                          source.at("spec", "autoScaling", "metrics", i, "podmetric", "metric", "metricNames", j))
                  for j, name in enumerate(names) if METRIC_NAME.match(name) and name not in queried]
    return triggers, diags


def _trigger(podmetric: PodMetric, settings: AutoscalingSettings,
             at: SourceRef) -> tuple[Trigger | None, list[Diagnostic]]:
    metric, m_at = podmetric.metric, at.at("metric")
    diags = [error("InvalidMetricName", f"metricNames[{j}] {name!r} is not a Prometheus metric name the OTel scaler "
                   "can query (a letter, then letters, digits, '_' or ':')", m_at.at("metricNames", j))
             for j, name in enumerate(metric.metricNames) if not METRIC_NAME.match(name)]
    query, query_diags = _query(metric.query, metric.metricNames, m_at)
    diags += query_diags
    operation = metric.operationOverTime or DEFAULT_OPERATION
    if operation not in OPERATIONS:
        diags.append(error("InvalidOperationOverTime", f"operationOverTime {operation!r} is not one of "
                           f"{', '.join(OPERATIONS)}", m_at.at("operationOverTime")))
    address = metric.serverAddress or settings.scalerAddress
    problem = check_scaler_address(address) if metric.serverAddress else None
    if problem:
        diags.append(error("InvalidScalerAddress", f"serverAddress: {problem}", m_at.at("serverAddress")))
    target, target_diags = _target(podmetric.target, at.at("target"))
    diags += target_diags
    if diags or query is None or target is None:
        return None, diags
    return Trigger(query, operation, podmetric.target.type, target, address), []


def _query(query: str | None, names: list[str], at: SourceRef) -> tuple[str | None, list[Diagnostic]]:
    """The metric a trigger queries: `query`, or the only metricNames entry; it must be collected."""
    if query is None:
        if len(names) == 1:
            return names[0], []
        return None, [error("MissingField", "query is required (the metric to scale on) unless metricNames holds "
                            "exactly one name", at.at("query"))]
    if not METRIC_NAME.match(query):
        return None, [error("InvalidMetricQuery", f"query {query!r} must be a bare metric name such as "
                            "vllm:num_requests_running: aimgen writes the scaler's metricQuery as "
                            "sum(<name>{namespace=..., deployment=...}) like KServe, and operationOverTime chooses "
                            "how each pod's samples are combined", at.at("query"))]
    if names and query not in names:
        return None, [error("MetricNotCollected", f"query {query!r} is not in metricNames ({', '.join(names)}): the "
                            "collector would not export it and the scaler would never see it; add it, or omit "
                            "metricNames to collect exactly the queried metrics", at.at("metricNames"))]
    return query, []


def _target(target: MetricTarget, at: SourceRef) -> tuple[str | None, list[Diagnostic]]:
    """The target as the plain decimal the scaler parses; Value reads `value`, AverageValue `averageValue`."""
    if target.type == "Utilization":
        return None, [error("UnsupportedMetricTarget", "Utilization is a percentage of a container resource request "
                            "(cpu/memory Resource metrics); an OpenTelemetry pod metric has no request to compare "
                            "with. Use Value (total over all pods) or AverageValue (per pod)", at.at("type"))]
    wanted = "value" if target.type == "Value" else "averageValue"
    raw = getattr(target, wanted)
    others = [name for name in ("value", "averageValue", "averageUtilization")
              if name != wanted and getattr(target, name) is not None]
    if others:
        how = "not" if raw is None else "so this would be ignored:"
        return None, [error("InvalidMetricTarget", f"target type {target.type} reads {wanted}, {how} {name}",
                            at.at(name, key=True)) for name in others]
    if raw is None:
        return None, [error("InvalidMetricTarget", f"target type {target.type} needs {wanted}", at.at("type"))]
    number = _plain_decimal(raw)
    if number is None:
        return None, [error("InvalidMetricTarget", f"{wanted} {raw!r} is not a positive number or quantity "
                            "(for example 10, 2.5 or 500m)", at.at(wanted))]
    return number, []


def _plain_decimal(raw: str) -> str | None:
    """'10' -> '10', '500m' -> '0.5', '1k' -> '1000'; None unless a positive quantity."""
    if PLAIN_NUMBER.match(raw):
        return raw if Decimal(raw) > 0 else None
    try:
        value = parse_quantity(raw)
    except (ValueError, ZeroDivisionError, ArithmeticError):
        return None
    if value <= 0:
        return None
    return format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")
