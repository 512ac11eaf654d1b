"""Autoscaling (SPEC §3): ScaledObject, OpenTelemetryCollector and InferenceService agree and satisfy the CRDs;
bad replica/metric settings are refused at their location; the deployed replica mode cannot switch silently."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimgen.build import BuildOptions, run_build
from aimgen.diagnostics import Diagnostic, Location, Severity
from aimgen.inputs.tree import load_catalog, load_overlay
from aimgen.output.deployed import deployed_autoscaler_classes
from aimgen.render.overlay import compile_overlay
from aimgen.render.scaledobject import hpa_name
from tests.support import SHARED, Tree, profile, run_cli, service

SERVICES = "overlays/dev/services.yaml"
# The kedify otel-add-on admission policy's metricQuery pattern (reference/kserve-keda-gateway.md §2).
SCALER_QUERY = re.compile(
    r"^((avg|count|min|max|sum)\()?[a-zA-Z][a-zA-Z0-9-_:]*(\{[^,=]+=[^,=]+(,[^,=]+=[^,=]+)*?\})?\)?$")
RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
ISVC_VECTORS = SHARED / "reference" / "vectors" / "isvc_build.yaml"


def podmetric(query: str | None = RUNNING, target: dict[str, Any] | None = None, **metric: Any) -> dict[str, Any]:
    body = {"backend": "opentelemetry", **({"query": query} if query is not None else {}), **metric}
    return {"type": "PodMetric", "podmetric": {"metric": body, "target": target or {"type": "Value", "value": "4"}}}


def compile_tree(tree: Tree, text: str, settings: str = "") -> tuple[dict[str, dict[str, Any]], list[Diagnostic]]:
    """Build (check mode) one overlay; its objects by kind and the located diagnostics."""
    tree.write("catalog/profiles.yaml", profile("qwen3-32b-mi300x-lat-fp8"))
    tree.write(SERVICES, text)
    if settings:
        tree.write("overlays/dev/overlay.yaml", settings)
    result = run_build(BuildOptions(tree.root, check=True))
    # run_build keeps files, not objects (memory): the objects come from the same overlay compiled in memory
    catalog, _ = load_catalog(tree.root)
    compiled = compile_overlay(*load_overlay(tree.root, "dev", catalog),
                               deployed_autoscaler_classes(tree.root / "rendered" / "dev"))
    objects = {m.kind: m.obj for m in compiled.manifests}
    return objects, result.diagnostics


def build_ok(tree: Tree, text: str, settings: str = "") -> dict[str, dict[str, Any]]:
    objects, diags = compile_tree(tree, text, settings)
    assert [d for d in diags if d.severity is Severity.ERROR] == []
    return objects


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the three objects -----------------------------------------------------------------------------------------


def test_default_metric_renders_the_workbench_defaults(tree: Tree) -> None:
    objects = build_ok(tree, service(minReplicas=1, maxReplicas=4))
    isvc, so, otel = objects["InferenceService"], objects["ScaledObject"], objects["OpenTelemetryCollector"]
    labels = {"aim.eai.amd.com/service.name": "qwen-chat", "app.kubernetes.io/managed-by": "aimgen"}
    assert isvc["metadata"]["annotations"] == {
        "prometheus.kserve.io/port": "8000",
        "serving.kserve.io/autoscalerClass": "external",
        "serving.kserve.io/deploymentMode": "Standard",
        "sidecar.opentelemetry.io/inject": "qwen-chat-a04542d9-predictor",
    }
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 4)
    assert "autoScaling" not in predictor
    assert so == {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "qwen-chat-a04542d9-predictor", "namespace": "ml-team", "labels": labels,
                     "annotations": {"argocd.argoproj.io/sync-wave": "1"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qwen-chat-a04542d9-predictor"},
            "minReplicaCount": 1,
            "maxReplicaCount": 4,
            "pollingInterval": 30,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                "scaleDown": {"stabilizationWindowSeconds": 300}, "scaleUp": {"stabilizationWindowSeconds": 0}}}},
            "triggers": [{"type": "external", "metricType": "Value", "metadata": {
                "scalerAddress": "keda-otel-scaler.keda.svc:4318",
                "metricQuery": 'sum(vllm:num_requests_running{namespace="ml-team", '
                               'deployment="qwen-chat-a04542d9-predictor"})',
                "operationOverTime": "avg",
                "targetValue": "10"}}],
        },
    }
    assert otel["metadata"] == {"name": "qwen-chat-a04542d9-predictor", "namespace": "ml-team", "labels": labels,
                                "annotations": {"argocd.argoproj.io/sync-wave": "-1"}}
    spec = otel["spec"]
    assert spec["mode"] == "sidecar"
    assert spec["resources"] == {"limits": {"cpu": "1", "memory": "2Gi"},
                                 "requests": {"cpu": "200m", "memory": "512Mi"}}
    config = spec["config"]
    scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert scrape == [{"job_name": "otel-collector", "scrape_interval": "5s",
                       "static_configs": [{"targets": ["localhost:8000"]}]}]
    assert config["processors"]["filter/metrics"] == {
        "metrics": {"include": {"match_type": "strict", "metric_names": [RUNNING]}}}
    assert config["processors"]["resourcedetection/env"] == {"detectors": ["env"], "timeout": "2s", "override": False}
    assert config["processors"]["transform"]["metric_statements"] == [{"context": "datapoint", "statements": [
        'set(attributes["namespace"], resource.attributes["k8s.namespace.name"])',
        'set(attributes["deployment"], resource.attributes["k8s.deployment.name"])',
        'set(attributes["pod"], resource.attributes["k8s.pod.name"])']}]
    assert config["exporters"] == {"otlp": {"endpoint": "keda-otel-scaler.keda.svc:4317", "compression": "none",
                                            "tls": {"insecure": True}}}
    assert config["service"] == {"pipelines": {"metrics": {
        "receivers": ["prometheus"], "processors": ["filter/metrics", "resourcedetection/env", "transform"],
        "exporters": ["otlp"]}}}


def test_an_empty_metrics_list_uses_the_defaults(tree: Tree) -> None:
    objects = build_ok(tree, service(maxReplicas=3, autoScaling={"metrics": []}))
    trigger = objects["ScaledObject"]["spec"]["triggers"][0]
    assert trigger["metricType"] == "Value"
    assert trigger["metadata"]["metricQuery"].startswith(f"sum({RUNNING}{{")
    assert (trigger["metadata"]["operationOverTime"], trigger["metadata"]["targetValue"]) == ("avg", "10")
    assert objects["ScaledObject"]["spec"]["minReplicaCount"] == 1


def test_fixed_replicas_render_no_scaling_objects(tree: Tree) -> None:
    objects = build_ok(tree, service(replicas=2))
    assert set(objects) == {"InferenceService"}
    annotations = objects["InferenceService"]["metadata"]["annotations"]
    assert annotations["serving.kserve.io/autoscalerClass"] == "none"
    assert "sidecar.opentelemetry.io/inject" not in annotations


def test_waiting_requests_with_max_aggregation(tree: Tree) -> None:
    metrics = [podmetric(WAITING, {"type": "Value", "value": "5"}, metricNames=[WAITING], operationOverTime="max")]
    objects = build_ok(tree, service(minReplicas=2, maxReplicas=8, autoScaling={"metrics": metrics}))
    so = objects["ScaledObject"]["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (2, 8)
    assert so["triggers"] == [{"type": "external", "metricType": "Value", "metadata": {
        "scalerAddress": "keda-otel-scaler.keda.svc:4318",
        "metricQuery": 'sum(vllm:num_requests_waiting{namespace="ml-team", deployment="qwen-chat-a04542d9-predictor"})',
        "operationOverTime": "max", "targetValue": "5"}}]
    names = objects["OpenTelemetryCollector"]["spec"]["config"]["processors"]["filter/metrics"]
    assert names["metrics"]["include"]["metric_names"] == [WAITING]


def test_average_value_is_a_per_pod_target_as_a_plain_number(tree: Tree) -> None:
    metrics = [podmetric(RUNNING, {"type": "AverageValue", "averageValue": "2500m"}, operationOverTime="avg")]
    objects = build_ok(tree, service(minReplicas=1, maxReplicas=6, autoScaling={"metrics": metrics}))
    trigger = objects["ScaledObject"]["spec"]["triggers"][0]
    assert trigger["metricType"] == "AverageValue"
    assert trigger["metadata"]["targetValue"] == "2.5"


def test_several_metrics_give_one_trigger_each_and_the_collector_keeps_exactly_their_names(tree: Tree) -> None:
    metrics = [podmetric(WAITING, metricNames=[WAITING]), podmetric(RUNNING), podmetric(WAITING)]
    objects = build_ok(tree, service(minReplicas=1, maxReplicas=3, autoScaling={"metrics": metrics}))
    triggers = objects["ScaledObject"]["spec"]["triggers"]
    assert [t["metadata"]["metricQuery"].split("{")[0] for t in triggers] == [f"sum({WAITING}", f"sum({RUNNING}",
                                                                              f"sum({WAITING}"]
    assert [t["metadata"]["operationOverTime"] for t in triggers] == ["last_one"] * 3  # the scaler's default
    kept = objects["OpenTelemetryCollector"]["spec"]["config"]["processors"]["filter/metrics"]
    assert kept["metrics"]["include"]["metric_names"] == [RUNNING, WAITING]


def test_query_is_taken_from_a_single_metric_name(tree: Tree) -> None:
    objects = build_ok(tree, service(minReplicas=1, maxReplicas=2,
                                     autoScaling={"metrics": [podmetric(None, metricNames=[WAITING])]}))
    assert objects["ScaledObject"]["spec"]["triggers"][0]["metadata"]["metricQuery"].startswith(f"sum({WAITING}{{")


def test_addresses_come_from_the_metric_then_the_overlay(tree: Tree) -> None:
    settings = """\
apiVersion: aimgen.amd.com/v1alpha1
kind: Overlay
spec:
  settings:
    autoscaling:
      scalerAddress: otel-scaler.monitoring.svc:9090
      collectorEndpoint: otel-scaler.monitoring.svc:4317
"""
    metrics = [podmetric(RUNNING), podmetric(WAITING, serverAddress="custom-scaler.keda.svc:4318")]
    objects = build_ok(tree, service(minReplicas=1, maxReplicas=3, autoScaling={"metrics": metrics}), settings)
    addresses = [t["metadata"]["scalerAddress"] for t in objects["ScaledObject"]["spec"]["triggers"]]
    assert addresses == ["otel-scaler.monitoring.svc:9090", "custom-scaler.keda.svc:4318"]
    exporter = objects["OpenTelemetryCollector"]["spec"]["config"]["exporters"]["otlp"]
    assert exporter["endpoint"] == "otel-scaler.monitoring.svc:4317"


def test_the_three_objects_agree(tree: Tree) -> None:
    metrics = [podmetric(WAITING, {"type": "AverageValue", "averageValue": "3"}, operationOverTime="max"),
               podmetric(RUNNING, {"type": "Value", "value": "12"})]
    objects = build_ok(tree, service(name="chat", namespace="team-a", minReplicas=2, maxReplicas=9,
                                     autoScaling={"metrics": metrics}))
    isvc, so, otel = objects["InferenceService"], objects["ScaledObject"], objects["OpenTelemetryCollector"]
    deployment = isvc["metadata"]["name"] + "-predictor"
    assert so["metadata"]["name"] == otel["metadata"]["name"] == deployment
    assert isvc["metadata"]["annotations"]["sidecar.opentelemetry.io/inject"] == otel["metadata"]["name"]
    assert so["spec"]["scaleTargetRef"]["name"] == deployment
    assert (so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]) == (
        isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"])
    port = isvc["spec"]["predictor"]["containers"][0]["ports"][0]["containerPort"]
    assert isvc["metadata"]["annotations"]["prometheus.kserve.io/port"] == str(port)
    assert otel["spec"]["config"]["receivers"]["prometheus"]["config"]["scrape_configs"][0]["static_configs"] == [
        {"targets": [f"localhost:{port}"]}]
    statements = " ".join(otel["spec"]["config"]["processors"]["transform"]["metric_statements"][0]["statements"])
    queried = set()
    for trigger in so["spec"]["triggers"]:
        query = trigger["metadata"]["metricQuery"]
        assert SCALER_QUERY.match(query), query
        name, labels = re.fullmatch(r"sum\(([^{]+)\{(.*)\}\)", query).groups()  # type: ignore[union-attr]
        queried.add(name)
        filters = dict(part.strip().split("=") for part in labels.split(","))
        assert filters == {"namespace": '"team-a"', "deployment": f'"{deployment}"'}
        assert all(f'attributes["{key}"]' in statements for key in filters)
        assert all(isinstance(v, str) for v in trigger["metadata"].values())
    kept = otel["spec"]["config"]["processors"]["filter/metrics"]["metrics"]["include"]["metric_names"]
    assert set(kept) == queried and len(kept) == len(queried)
    for obj in objects.values():
        assert obj["metadata"]["labels"]["aim.eai.amd.com/service.name"] == "chat"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aimgen"


@pytest.mark.skipif(not ISVC_VECTORS.exists(), reason="../shared/reference not present")
def test_annotations_match_the_operator_vector_except_the_class(tree: Tree) -> None:
    vectors = yaml.safe_load(ISVC_VECTORS.read_text())
    case = next(c for c in vectors["full_manifests"] if c["name"].startswith("B:"))
    given = case["input"]["aimservice"]
    spec = {k: v for k, v in given["spec"].items() if k != "model"}
    objects = build_ok(tree, service(given["metadata"]["name"], given["metadata"]["namespace"], **spec))
    expected = case["expected_inferenceservice_fragment"]
    isvc = objects["InferenceService"]
    assert isvc["metadata"]["name"] == expected["metadata"]["name"]
    # aimgen owns the ScaledObject, so KServe's class is `external`, not the operator's `keda` (SPEC §3).
    assert isvc["metadata"]["annotations"] == {**expected["metadata"]["annotations"],
                                               "serving.kserve.io/autoscalerClass": "external",
                                               "serving.kserve.io/deploymentMode": "Standard"}
    trigger = objects["ScaledObject"]["spec"]["triggers"][0]["metadata"]
    assert (trigger["targetValue"], trigger["operationOverTime"]) == ("1", "avg")


def test_explicit_hpa_name_only_when_keda_default_is_too_long(tree: Tree) -> None:
    # Vector: this service's InferenceService name has 45 characters; keda-hpa-<it>-predictor would have 64.
    objects = build_ok(tree, service("very-long-service-name-that-might-exceed-kubernetes-limits", "default",
                                     minReplicas=1, maxReplicas=2))
    isvc = objects["InferenceService"]["metadata"]["name"]
    assert isvc == "very-long-service-name-that-might-ex-1080a608"
    explicit = objects["ScaledObject"]["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"]
    assert explicit.startswith("keda-hpa-") and len(explicit) <= 63 and explicit != f"{isvc}-predictor"
    assert explicit == hpa_name(isvc)
    assert hpa_name("qwen-chat-a04542d9") is None
    assert all(len(hpa_name("a" * n) or "keda-hpa-" + "a" * n + "-predictor") <= 63 for n in range(1, 49))


# --- CRD validity ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from aimgen.validate.core import kubernetes_version
    from aimgen.validate.schemas import write_schemas

    crds = SHARED / "crds"
    if not crds.is_dir():
        pytest.skip("../shared/crds is absent")
    out = tmp_path_factory.mktemp("schemas")
    _, diags = write_schemas([crds / "keda", crds / "opentelemetry", crds / "kserve"], out, kubernetes_version())
    assert diags == []
    return out


@pytest.mark.parametrize("spec", [
    {"minReplicas": 1, "maxReplicas": 4},
    {"minReplicas": 3},
    {"minReplicas": 2, "maxReplicas": 30, "autoScaling": {"metrics": [
        podmetric(WAITING, {"type": "AverageValue", "averageValue": "500m"}, metricNames=[WAITING],
                  operationOverTime="rate", serverAddress="10.0.0.7:4318"),
        podmetric(RUNNING, {"type": "Value", "value": "8"}, operationOverTime="count")]}},
], ids=["default", "min-only", "two-metrics"])
def test_objects_satisfy_the_real_crds(tree: Tree, schemas: Path, spec: dict[str, Any]) -> None:
    from aimgen.validate.run import validate_manifests

    objects = build_ok(tree, service("a-rather-long-service-name-for-the-hpa-limit", "team-a", **spec))
    assert set(objects) == {"InferenceService", "ScaledObject", "OpenTelemetryCollector"}
    assert validate_manifests([(f"{kind}.yaml", obj) for kind, obj in objects.items()], schemas) == []


# --- refused settings, at their location -----------------------------------------------------------------------


BAD = [
    ("replicas-and-range", {"replicas": 2, "minReplicas": 1, "maxReplicas": 3}, "ReplicasWithAutoscaling", "replicas:"),
    ("min-above-max", {"minReplicas": 5, "maxReplicas": 2}, "InvalidReplicaRange", "minReplicas:"),
    ("min-zero", {"minReplicas": 0, "maxReplicas": 2}, "InvalidValue", "minReplicas:"),
    ("max-too-high", {"minReplicas": 1, "maxReplicas": 5000}, "ReplicasOutOfRange", "maxReplicas:"),
    ("utilization", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(target={"type": "Utilization", "averageUtilization": 80})]}}, "UnsupportedMetricTarget",
     "type: Utilization"),
    ("operation", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(operationOverTime="median")]}},
     "InvalidOperationOverTime", "operationOverTime:"),
    ("query-with-labels", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(RUNNING + '{model="x"}')]}},
     "InvalidMetricQuery", "query:"),
    ("query-aggregated", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(f"max({RUNNING})")]}},
     "InvalidMetricQuery", "query:"),
    ("query-not-collected", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(RUNNING, metricNames=[WAITING])]}},
     "MetricNotCollected", "metricNames:"),
    ("bad-metric-name", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(RUNNING, metricNames=[RUNNING, "vllm requests"])]}}, "InvalidMetricName", "- vllm requests"),
    ("no-query", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(None, metricNames=[RUNNING, WAITING])]}},
     "MissingField", " metric:"),
    ("no-podmetric", {"maxReplicas": 3, "autoScaling": {"metrics": [{"type": "PodMetric"}]}}, "MissingField",
     "- type: PodMetric"),
    ("otlp-port", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(serverAddress="keda-otel-scaler.keda.svc:4317")]}}, "InvalidScalerAddress", "serverAddress:"),
    ("scheme", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(serverAddress="http://keda-otel-scaler.keda.svc:4318")]}}, "InvalidScalerAddress", "serverAddress:"),
    ("value-field-for-average", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(target={"type": "AverageValue", "value": "3"})]}}, "InvalidMetricTarget", "value:"),
    ("target-missing", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(target={"type": "Value"})]}},
     "InvalidMetricTarget", "type: Value"),
    ("target-zero", {"maxReplicas": 3, "autoScaling": {"metrics": [podmetric(target={"type": "Value", "value": "0"})]}},
     "InvalidMetricTarget", "value:"),
    ("target-text", {"maxReplicas": 3, "autoScaling": {"metrics": [
        podmetric(target={"type": "Value", "value": "ten"})]}}, "InvalidMetricTarget", "value:"),
]


@pytest.mark.parametrize(("spec", "code", "needle"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_settings_are_refused_at_their_location(tree: Tree, spec: dict[str, Any], code: str, needle: str) -> None:
    text = service(**spec)
    objects, diags = compile_tree(tree, text)
    errors = [d for d in diags if d.severity is Severity.ERROR]
    assert [d.code for d in errors] == [code], [d.render() for d in diags]
    where = errors[0].location
    assert isinstance(where, Location)
    assert (where.path, where.line) == (SERVICES, line_of(text, needle)), errors[0].render()
    assert run_cli("build", root=tree.root).code == 1
    assert not (tree.root / "rendered").exists()


def test_an_overlay_scaler_address_on_the_otlp_port_is_refused(tree: Tree) -> None:
    settings = "apiVersion: aimgen.amd.com/v1alpha1\nkind: Overlay\nspec:\n  settings:\n    autoscaling:\n" \
               "      scalerAddress: keda-otel-scaler.keda.svc:4317\n"
    _, diags = compile_tree(tree, service(minReplicas=1, maxReplicas=2), settings)
    assert [(d.code, d.location) for d in diags] == [("InvalidValue", Location("overlays/dev/overlay.yaml", 6, 22))]
    assert "4318" in diags[0].message


def test_missing_max_replicas_is_a_warning_and_scales_min_to_min(tree: Tree) -> None:
    text = service(minReplicas=3)
    objects, diags = compile_tree(tree, text)
    assert [(d.severity, d.code) for d in diags] == [(Severity.WARNING, "MaxReplicasMissing")]
    assert diags[0].location == Location(SERVICES, line_of(text, "minReplicas:"), 3)
    so = objects["ScaledObject"]["spec"]
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (3, 3)


def test_a_listed_but_unqueried_metric_name_is_a_warning(tree: Tree) -> None:
    metrics = [podmetric(RUNNING, metricNames=[RUNNING, WAITING])]
    objects, diags = compile_tree(tree, service(minReplicas=1, maxReplicas=3, autoScaling={"metrics": metrics}))
    assert [(d.severity, d.code) for d in diags] == [(Severity.WARNING, "UnusedMetricName")]
    kept = objects["OpenTelemetryCollector"]["spec"]["config"]["processors"]["filter/metrics"]
    assert kept["metrics"]["include"]["metric_names"] == [RUNNING]


# --- the deployed replica mode ---------------------------------------------------------------------------------

ACK = {"aimgen.amd.com/allow-autoscaling-change": "true"}


def _service(annotations: dict[str, str] | None = None, **spec: Any) -> str:
    doc = yaml.safe_load(service(**spec))
    if annotations:
        doc["metadata"]["annotations"] = annotations
    return yaml.safe_dump(doc, sort_keys=False)


def _deploy(tree: Tree, text: str) -> None:
    tree.write("catalog/profiles.yaml", profile("qwen3-32b-mi300x-lat-fp8"))
    tree.write(SERVICES, text)
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr


@pytest.mark.parametrize(("before", "after", "needle"), [
    ({"replicas": 2}, {"minReplicas": 1, "maxReplicas": 4}, "minReplicas:"),
    ({"minReplicas": 1, "maxReplicas": 4}, {"replicas": 2}, "replicas:"),
    ({"maxReplicas": 4}, {}, "spec:"),
], ids=["fixed-to-autoscaled", "autoscaled-to-fixed", "autoscaled-to-default"])
def test_switching_a_deployed_service_is_refused(tree: Tree, before: dict, after: dict, needle: str) -> None:
    _deploy(tree, service(**before))
    rendered = tree.rendered()
    text = service(**after)
    tree.write(SERVICES, text)
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert res.codes() == ["AutoscalingModeChange"]
    assert f"{SERVICES}:{line_of(text, needle)}:" in res.errors[0]
    assert "re-created" in res.stderr and "aimgen.amd.com/allow-autoscaling-change" in res.stderr
    assert tree.rendered() == rendered


def test_an_acknowledged_switch_is_a_warning_until_the_annotation_is_removed(tree: Tree) -> None:
    _deploy(tree, service(replicas=2))
    tree.write(SERVICES, _service(ACK, minReplicas=1, maxReplicas=4))
    res = run_cli("build", root=tree.root)
    assert (res.code, res.codes()) == (0, ["AutoscalingModeChange"]), res.stderr
    assert "delete InferenceService ml-team/qwen-chat-a04542d9" in res.stderr
    assert any(p.startswith("dev/ml-team/scaledobject-") for p in tree.rendered())
    res = run_cli("build", root=tree.root)
    assert (res.code, res.codes()) == (0, ["AutoscalingChangeAckUnused"])
    tree.write(SERVICES, _service(minReplicas=1, maxReplicas=5))
    res = run_cli("build", root=tree.root)
    assert (res.code, res.codes()) == (0, [])


def test_first_deployment_and_renamed_services_are_free_to_choose(tree: Tree) -> None:
    _deploy(tree, service(replicas=2))
    tree.write(SERVICES, service(name="other", minReplicas=1, maxReplicas=4))
    assert run_cli("build", root=tree.root).code == 0


def test_deployed_classes_are_read_from_rendered_inference_services(tmp_path: Path) -> None:
    overlay = tmp_path / "dev"
    (overlay / "ns").mkdir(parents=True)
    isvc = "kind: InferenceService\nmetadata: {name: %s, namespace: ns, annotations: {%s}}\n"
    (overlay / "ns" / "inferenceservice-a.yaml").write_text(isvc % ("a", "serving.kserve.io/autoscalerClass: external"))
    (overlay / "ns" / "inferenceservice-b.yaml").write_text(isvc % ("b", ""))
    (overlay / "ns" / "inferenceservice-c.yaml").write_text("metadata: [unclosed\n")
    (overlay / "ns" / "inferenceservice-d.yaml").write_text(isvc.replace("InferenceService", "Other") % ("d", ""))
    (overlay / "ns" / "scaledobject-a.yaml").write_text(isvc % ("e", ""))
    assert deployed_autoscaler_classes(overlay) == {("ns", "a"): "external", ("ns", "b"): "hpa"}
    assert deployed_autoscaler_classes(tmp_path / "missing") == {}

