"""Runtime configs (SPEC §5.5): namespace AIMRuntimeConfig over AIMClusterRuntimeConfig, field by field."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from aimgen.render.labels import glob_match
from tests.support import Tree, profile, run_cli, service


def cluster_config(spec: dict[str, Any], name: str = "default") -> str:
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterRuntimeConfig",
                           "metadata": {"name": name}, "spec": spec}, sort_keys=False)


def namespace_config(spec: dict[str, Any], name: str = "default", namespace: str = "ml-team") -> str:
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMRuntimeConfig",
                           "metadata": {"name": name, "namespace": namespace}, "spec": spec}, sort_keys=False)


def rendered(tree: Tree, kind: str) -> list[dict[str, Any]]:
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    return [yaml.safe_load(t) for p, t in tree.rendered().items() if f"/{kind}-" in p]


@pytest.fixture
def dev(tree: Tree) -> Tree:
    tree.write("catalog/p.yaml", profile("p"))
    return tree


GATEWAY = {"name": "inference-gateway", "namespace": "gateways", "sectionName": "http"}


def test_explicit_false_in_the_namespace_turns_cluster_routing_off(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"routing": {"enabled": True, "gatewayRef": GATEWAY}}))
    dev.write("overlays/dev/rc.yaml", namespace_config({"routing": {"enabled": False}}))
    dev.write("overlays/dev/s.yaml", service() + "---\n" + service("other", "research"))
    [route] = rendered(dev, "httproute")  # research has no namespace config: the cluster's true applies
    assert route["metadata"]["namespace"] == "research"


def test_namespace_config_turns_routing_on_for_its_namespace_only(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"routing": {"gatewayRef": GATEWAY}}))
    dev.write("overlays/dev/rc.yaml", namespace_config({"routing": {"enabled": True}}))
    dev.write("overlays/dev/s.yaml", service() + "---\n" + service("other", "research"))
    [route] = rendered(dev, "httproute")
    assert route["metadata"]["namespace"] == "ml-team"
    assert route["spec"]["parentRefs"] == [{"name": "inference-gateway", "namespace": "gateways",
                                            "sectionName": "http"}]


def test_service_false_beats_a_config_true(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"routing": {"enabled": True, "gatewayRef": GATEWAY}}))
    dev.write("overlays/dev/s.yaml", service(routing={"enabled": False}))
    assert rendered(dev, "httproute") == []


def test_routing_fields_merge_field_by_field(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"routing": {
        "enabled": True, "gatewayRef": GATEWAY, "pathTemplate": "/cluster/{.metadata.name}", "requestTimeout": "60s",
        "annotations": {"a": "cluster", "b": "cluster"}}}))
    dev.write("overlays/dev/rc.yaml", namespace_config({"routing": {
        "gatewayRef": {"name": "team-gateway"}, "requestTimeout": "5m",
        "annotations": {"b": "namespace", "c": "namespace"}}}))
    dev.write("overlays/dev/s.yaml", service(routing={"annotations": {"c": "service"}}))
    [route] = rendered(dev, "httproute")
    # gatewayRef field by field: the namespace's name, the cluster's namespace and sectionName
    assert route["spec"]["parentRefs"] == [{"name": "team-gateway", "namespace": "gateways", "sectionName": "http"}]
    assert route["spec"]["rules"][0]["matches"][0]["path"]["value"] == "/cluster/qwen-chat"
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "5m0s"}
    assert route["metadata"]["annotations"] == {"a": "cluster", "argocd.argoproj.io/sync-wave": "1",
                                                "b": "namespace", "c": "service"}


def test_env_defaults_merge_by_name_under_the_service(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"env": [{"name": "A", "value": "cluster"},
                                                         {"name": "B", "value": "cluster"},
                                                         {"name": "C", "value": "cluster"}]}))
    dev.write("overlays/dev/rc.yaml", namespace_config({"env": [{"name": "B", "value": "namespace"}]}))
    dev.write("overlays/dev/s.yaml", service(env=[{"name": "C", "value": "service"}]))
    [isvc] = rendered(dev, "inferenceservice")
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert (env["A"], env["B"], env["C"]) == ("cluster", "namespace", "service")


def test_label_propagation_list_is_replaced_and_matched_as_go_globs(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", cluster_config({"labelPropagation": {"enabled": True, "match": ["team-*"]}}))
    match = ["cost-center", "example.com/*"]
    dev.write("overlays/dev/rc.yaml", namespace_config({"labelPropagation": {"match": match}}))
    svc = yaml.safe_load(service(routing={"enabled": True, "gatewayRef": GATEWAY}))
    svc["metadata"]["labels"] = {"team-a": "x", "cost-center": "cc-1", "example.com/tier": "gold",
                                 "example.com/a.b": "c", "aim.eai.amd.com/tenant": "t1"}
    dev.write("overlays/dev/s.yaml", yaml.safe_dump(svc))
    [route] = rendered(dev, "httproute")
    labels = route["metadata"]["labels"]
    assert labels["cost-center"] == "cc-1" and labels["example.com/tier"] == "gold"
    assert labels["aim.eai.amd.com/tenant"] == "t1"  # aim.eai.amd.com/ labels always propagate
    assert "team-a" not in labels  # the namespace's list replaced the cluster's


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("team-*", "team-alpha", True), ("team-*", "team-a/b", False), ("*", "example.com/team", False),
    ("*/*", "example.com/team", True), ("cost-?enter", "cost-center", True), ("[a-c]x", "bx", True),
    ("[^a-c]x", "bx", False), ("a\\*", "a*", True), ("a\\*", "ab", False), ("[", "[", False),
    ("[]a]", "a", False), ("team-*", "my-team-a", False),
])
def test_glob_match_follows_go_filepath_match(pattern: str, key: str, expected: bool) -> None:
    assert glob_match(pattern, key) is expected


def test_named_config_must_exist(dev: Tree) -> None:
    dev.write("overlays/dev/rc.yaml", namespace_config({}, name="team", namespace="other-team"))
    dev.write("overlays/dev/s.yaml", service(runtimeConfigName="team"))
    res = run_cli("build", root=dev.root)
    assert res.code == 1
    [err] = res.errors
    assert err.startswith("overlays/dev/s.yaml:9:22: error[ConfigNotFound]: RuntimeConfig team not found")


@pytest.mark.parametrize("where", ["cluster", "namespace"])
def test_named_config_found_in_either_scope(dev: Tree, where: str) -> None:
    if where == "cluster":
        dev.write("catalog/rc.yaml", cluster_config({"env": [{"name": "X", "value": "1"}]}, name="team"))
    else:
        dev.write("overlays/dev/rc.yaml", namespace_config({"env": [{"name": "X", "value": "1"}]}, name="team"))
    dev.write("overlays/dev/s.yaml", service(runtimeConfigName="team"))
    [isvc] = rendered(dev, "inferenceservice")
    assert {"name": "X", "value": "1"} in isvc["spec"]["predictor"]["containers"][0]["env"]


def test_missing_default_is_empty(dev: Tree) -> None:
    dev.write("overlays/dev/s.yaml", service(runtimeConfigName="default"))
    assert len(rendered(dev, "inferenceservice")) == 1
