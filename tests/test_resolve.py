"""Profile selection (SPEC §5): every rule, through the CLI on small trees."""

from __future__ import annotations

import json

import pytest

from tests.support import Tree, profile, run_cli, service


def chosen(tree: Tree, name: str = "qwen-chat", namespace: str = "ml-team") -> dict:
    res = run_cli("explain", "dev", f"{namespace}/{name}", "--format", "json", root=tree.root)
    return json.loads(res.stdout)


def test_namespace_scoped_profile_beats_cluster_profile(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("cluster-opt"))
    tree.write("overlays/dev/p.yaml", profile("team-own", namespace="ml-team", type="general"))
    tree.write("overlays/dev/s.yaml", service())
    out = chosen(tree)
    assert out["selected"] == "AIMProfile ml-team/team-own"
    assert any(c["reason"] == "a namespace-scoped candidate takes precedence" for c in out["candidates"])


def test_other_namespaces_profiles_are_invisible(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("cluster-opt"))
    tree.write("overlays/dev/p.yaml", profile("other", namespace="other-team"))
    tree.write("overlays/dev/s.yaml", service())
    assert chosen(tree)["selected"] == "AIMClusterProfile cluster-opt"


def test_only_primary_without_requested_metric(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("lat", primary=True, type="preview") + "---\n"
               + profile("thr", metric="throughput", primary=False))
    tree.write("overlays/dev/s.yaml", service())
    assert chosen(tree)["selected"] == "AIMClusterProfile lat"


def test_requested_metric_considers_all_and_ranks_type_first(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("thr-preview", metric="throughput", type="preview", primary=True)
               + "---\n" + profile("thr-opt", metric="throughput", type="optimized", primary=False)
               + "---\n" + profile("lat", metric="latency"))
    tree.write("overlays/dev/s.yaml", service(overrides={"metric": "throughput"}))
    assert chosen(tree)["selected"] == "AIMClusterProfile thr-opt"


def test_primary_breaks_type_ties(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("a", precision="bf16", primary=False) + "---\n"
               + profile("b", precision="bf16", primary=True))
    tree.write("overlays/dev/s.yaml", service(overrides={"precision": "bf16"}))
    assert chosen(tree)["selected"] == "AIMClusterProfile b"


def test_tie_is_ambiguous_and_lists_candidates(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("a") + "---\n" + profile("b", metric="throughput"))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    [err] = res.errors
    assert "overlays/dev/s.yaml:8:12: error[TemplateSelectionAmbiguous]" in err
    assert "AIMClusterProfile a" in err and "AIMClusterProfile b" in err


def test_hardware_filter_drops_profiles_without_nodes(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("on-355", acceleratorModel="MI355X") + "---\n"
               + profile("on-300", type="general"))
    tree.write("overlays/dev/s.yaml", service())
    out = chosen(tree)
    assert out["selected"] == "AIMClusterProfile on-300"
    [rejected] = [c for c in out["candidates"] if not c["kept"]]
    assert "NotAvailable" in rejected["reason"] and "aim-accelerator.MI355X" in rejected["reason"]


def test_capacity_counts_against_the_inventory(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("needs-16", acceleratorCount=16))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and "error[TemplateNotFound]" in res.stderr and "amd.com/gpu 16 > 8" in res.stderr


def test_gpu_and_precision_overrides_filter(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("one", acceleratorCount=1) + "---\n"
               + profile("two", acceleratorCount=2, primary=False))
    tree.write("overlays/dev/s.yaml", service(overrides={"precision": "fp8",
                                                         "hardware": {"gpu": {"model": "mi300x", "requests": 2}}}))
    assert chosen(tree)["selected"] == "AIMClusterProfile two"


def test_unoptimized_needs_acknowledgement(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("slow", type="unoptimized") + "---\n"
               + profile("fast", acceleratorModel="MI355X"))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert "error[UnoptimizedProfileRequiresAck]" in res.stderr and "AIMClusterProfile fast" in res.stderr
    tree.write("overlays/dev/s.yaml", service(template={"allowUnoptimized": True}))
    res = run_cli("build", root=tree.root)
    assert res.code == 0 and "warning[UnoptimizedProfile]" in res.stderr


def test_explicit_template_is_used_as_is_but_must_be_ready(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("primary") + "---\n"
               + profile("chosen", primary=False, type="preview") + "---\n"
               + profile("absent-hw", acceleratorModel="MI325X"))
    tree.write("overlays/dev/s.yaml", service(template={"name": "chosen"}))
    assert chosen(tree)["selected"] == "AIMClusterProfile chosen"
    tree.write("overlays/dev/s.yaml", service(template={"name": "absent-hw"}))
    res = run_cli("build", root=tree.root)
    assert "error[TemplateNotReady]" in res.stderr and "s.yaml:10:11" in res.stderr
    tree.write("overlays/dev/s.yaml", service(template={"name": "missing"}))
    assert "error[TemplateNotFound]" in run_cli("build", root=tree.root).stderr


def test_v1alpha1_model_and_templates(tree: Tree) -> None:
    tree.write("catalog/m.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterModel
        metadata: {name: qwen-qwen3-32b}
        spec: {image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5}
        ---
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterServiceTemplate
        metadata: {name: qwen3-32b-latency}
        spec:
          modelName: qwen-qwen3-32b
          metric: latency
          precision: fp8
          type: optimized
          profileId: vllm-mi300x-fp8-tp1-latency
          hardware: {gpu: {model: MI300X, requests: 2}}
        """)
    tree.write("overlays/dev/s.yaml", service(model={"name": "qwen-qwen3-32b"}))
    assert run_cli("build", root=tree.root).code == 0
    import yaml

    [isvc] = [yaml.safe_load(t) for t in tree.rendered().values()]
    container = isvc["spec"]["predictor"]["containers"][0]
    assert container["image"] == "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    assert container["resources"]["requests"] == {"amd.com/gpu": "2", "cpu": "8", "memory": "64Gi"}
    assert isvc["metadata"]["labels"]["aim.eai.amd.com/model"] == "qwen-qwen3-32b"


@pytest.mark.parametrize(("spec", "code", "where"), [
    ({"model": {"name": "nope"}}, "ModelNotFound", "s.yaml:8:11"),
    ({"model": {"image": "example.com/unknown:1"}}, "ModelNotFound", "s.yaml:8:12"),
    ({"runtimeConfigName": "team"}, "ConfigNotFound", "s.yaml:9:22"),
])
def test_reference_errors_are_located(tree: Tree, spec: dict, code: str, where: str) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", service(**spec))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert any(f"{where}: error[{code}]" in e for e in res.errors), res.stderr


def test_runtime_config_namespace_overrides_cluster_field_by_field(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("catalog/rc.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterRuntimeConfig
        metadata: {name: default}
        spec:
          env: [{name: A, value: cluster}, {name: B, value: cluster}]
          labelPropagation: {enabled: true, match: [team-*]}
        """)
    tree.write("overlays/dev/rc.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMRuntimeConfig
        metadata: {name: default, namespace: ml-team}
        spec:
          env: [{name: B, value: namespace}]
          labelPropagation: {enabled: false}
        """)
    import yaml

    svc = yaml.safe_load(service())
    svc["metadata"]["labels"] = {"team-a": "x"}
    tree.write("overlays/dev/s.yaml", yaml.safe_dump(svc))
    assert run_cli("build", root=tree.root).code == 0
    [isvc] = [yaml.safe_load(t) for t in tree.rendered().values()]
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert env["A"] == "cluster" and env["B"] == "namespace"
    assert "team-a" not in isvc["metadata"]["labels"]  # explicit false overrides the cluster's true


def test_template_without_its_model_is_refused_at_the_template(tree: Tree) -> None:
    tree.write("catalog/t.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterServiceTemplate
        metadata: {name: orphan}
        spec: {modelName: missing-model, type: optimized, hardware: {gpu: {model: MI300X, requests: 1}}}
        """)
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", service(template={"name": "orphan"}))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert any(e.startswith("catalog/t.yaml:5:19: error[ModelNotFound]") for e in res.errors), res.stderr
