"""HTTPRoute rendering (SPEC §3 "HTTPRoute", reference/vectors/httproute_build.yaml) through `aimgen build`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aimgen.render.httproute import gateway_duration
from tests.support import SHARED, Tree, profile, run_cli, service

VECTORS = yaml.safe_load((SHARED / "reference/vectors/httproute_build.yaml").read_text())["httproutes"]
GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}


def routes(tree: Tree) -> dict[str, dict[str, Any]]:
    """Build; the rendered HTTPRoutes by `namespace/name`."""
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    objs = [yaml.safe_load(text) for path, text in tree.rendered().items() if "/httproute-" in path]
    return {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o for o in objs}


def only_route(tree: Tree) -> dict[str, Any]:
    [route] = routes(tree).values()
    return route


def errors(tree: Tree) -> list[str]:
    res = run_cli("build", root=tree.root)
    assert res.code == 1, res.stderr
    return res.errors


@pytest.fixture
def dev(tree: Tree) -> Tree:
    tree.write("catalog/p.yaml", profile("p"))
    return tree


def test_vector_r1_service_routing_with_template_timeout_and_runtime_config_annotations(dev: Tree) -> None:
    vector = VECTORS[0]
    svc, rc = vector["input"]["aimservice"], vector["input"]["merged_runtime_config"]
    dev.write("catalog/rc.yaml", yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1",
                                                 "kind": "AIMClusterRuntimeConfig", "metadata": {"name": "default"},
                                                 "spec": rc}))
    dev.write("overlays/dev/s.yaml", service(svc["metadata"]["name"], svc["metadata"]["namespace"],
                                             routing=svc["spec"]["routing"]))
    route = only_route(dev)
    expected = vector["expected_httproute"]
    assert route["apiVersion"] == expected["apiVersion"] and route["kind"] == expected["kind"]
    assert route["metadata"]["name"] == expected["metadata"]["name"] == "qwen-chat-a04542d9"
    assert route["metadata"]["namespace"] == "ml-team"
    assert route["metadata"]["labels"] == {
        "app.kubernetes.io/component": "routing", "app.kubernetes.io/managed-by": "aimgen",
        "aim.eai.amd.com/service": "qwen-chat", "aim.eai.amd.com/service.name": "qwen-chat"}
    # the runtime config's annotations, the service's merged on top (the AIM CRDs' documented contract)
    assert route["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "1",
                                                "example.com/rate-limit": "100", "ignored": "yes"}
    assert route["spec"] == expected["spec"]
    assert list(route["spec"]["rules"][0]) == ["matches", "filters", "backendRefs", "timeouts"]


def test_vector_r2_runtime_config_turns_routing_on(dev: Tree) -> None:
    vector = VECTORS[1]
    rc = vector["input"]["aimruntimeconfig"]
    rc = {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMRuntimeConfig",
          "metadata": {"name": "test-gpu-cached", "namespace": "integration"}, "spec": rc["spec"]}
    dev.write("overlays/dev/rc.yaml", yaml.safe_dump(rc))
    dev.write("overlays/dev/s.yaml", service("test-gpu-cached", "integration", runtimeConfigName="test-gpu-cached"))
    route = only_route(dev)
    fragment = vector["expected_httproute_fragment"]["spec"]
    assert route["spec"]["parentRefs"] == fragment["parentRefs"]
    rule = route["spec"]["rules"][0]
    assert rule["matches"] == fragment["rules"][0]["matches"]
    assert rule["timeouts"] == {"request": "3m0s"}
    assert rule["backendRefs"] == [{"kind": "Service", "name": route["metadata"]["name"] + "-predictor",
                                    "namespace": "integration", "port": 80}]


def test_vector_r3_propagated_labels_land_on_the_route(dev: Tree) -> None:
    vector = VECTORS[2]
    dev.write("catalog/rc.yaml", yaml.safe_dump({
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterRuntimeConfig", "metadata": {"name": "default"},
        "spec": vector["input"]["aimclusterruntimeconfig_default"]}))
    svc = yaml.safe_load(service("test-label-propagation"))
    svc["metadata"]["labels"] = vector["input"]["aimservice"]["metadata"]["labels"]
    dev.write("overlays/dev/s.yaml", yaml.safe_dump(svc))
    labels = only_route(dev)["metadata"]["labels"]
    for key, value in vector["expected_labels_on_httproute_and_isvc"].items():
        assert labels[key] == value
    assert not set(vector["expected_absent_labels"]) & set(labels)


def test_overlay_default_gateway_applies_when_service_and_config_name_none(dev: Tree) -> None:
    dev.write("overlays/dev/overlay.yaml", """
        apiVersion: aimgen.amd.com/v1alpha1
        kind: Overlay
        spec:
          settings:
            routing:
              defaultGatewayRef: {name: shared-gw, namespace: gateways, sectionName: https}
        """)
    dev.write("overlays/dev/s.yaml", service(routing={"enabled": True}))
    route = only_route(dev)
    assert route["spec"]["parentRefs"] == [{"name": "shared-gw", "namespace": "gateways", "sectionName": "https"}]
    assert route["spec"]["rules"][0]["matches"][0]["path"]["value"] == "/ml-team/qwen-chat"
    assert "timeouts" not in route["spec"]["rules"][0]


def test_service_gateway_beats_runtime_config_gateway_as_a_whole(dev: Tree) -> None:
    dev.write("catalog/rc.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterRuntimeConfig
        metadata: {name: default}
        spec:
          routing: {enabled: true, gatewayRef: {name: rc-gw, namespace: gateways, sectionName: http, port: 80}}
        """)
    own = {"name": "own", "group": "gateway.networking.k8s.io", "kind": "Gateway"}
    dev.write("overlays/dev/s.yaml", service(routing={"gatewayRef": own}))
    assert only_route(dev)["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                                      "name": "own"}]


def test_no_route_unless_enabled(dev: Tree) -> None:
    dev.write("overlays/dev/s.yaml", service(routing={"gatewayRef": GATEWAY}) + "---\n"
              + service("other", routing={"enabled": False, "gatewayRef": GATEWAY}))
    assert routes(dev) == {}


def test_backend_is_the_predictor_of_the_shortened_inference_service(dev: Tree) -> None:
    name = "a-really-long-service-name-for-a-very-specific-llama-model"
    dev.write("overlays/dev/s.yaml", service(name, routing={"enabled": True, "gatewayRef": GATEWAY}))
    route = only_route(dev)
    isvc = next(yaml.safe_load(t) for p, t in dev.rendered().items() if "/inferenceservice-" in p)
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == isvc["metadata"]["name"] + "-predictor"
    assert len(route["metadata"]["name"]) <= 63 and route["metadata"]["name"] != isvc["metadata"]["name"]
    assert route["metadata"]["labels"]["aim.eai.amd.com/service"] == name
    assert route["spec"]["rules"][0]["matches"][0]["path"]["value"] == f"/ml-team/{name}"


SERVICE_WITH_ROUTING = """
    apiVersion: aim.eai.amd.com/v1alpha1
    kind: AIMService
    metadata:
      name: qwen-chat
      namespace: ml-team
    spec:
      model: {image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5}
      routing:
        enabled: true
        pathTemplate: "/{.metadata.labels['team']}/{.metadata.name}"
        requestTimeout: 1.5s
    """


def test_routing_errors_point_at_the_service_fields(dev: Tree) -> None:
    dev.write("overlays/dev/s.yaml", SERVICE_WITH_ROUTING)
    found = errors(dev)
    assert any(e.startswith("overlays/dev/s.yaml:10:14: error[GatewayNotConfigured]") for e in found), found
    [path] = [e for e in found if "PathTemplateInvalid" in e]
    assert path.startswith("overlays/dev/s.yaml:11:19: error[PathTemplateInvalid]")
    assert 'label "team" not found' in path
    [timeout] = [e for e in found if "InvalidRequestTimeout" in e]
    assert timeout.startswith("overlays/dev/s.yaml:12:21: error[InvalidRequestTimeout]") and "1s500ms" in timeout
    assert not (dev.root / "rendered").exists()


RUNTIME_CONFIG = """
    apiVersion: aim.eai.amd.com/v1alpha1
    kind: AIMRuntimeConfig
    metadata:
      name: default
      namespace: ml-team
    spec:
      routing:
        enabled: true
        pathTemplate: /team/{.metadata.annotations.owner}
        requestTimeout: "300"
    """


def test_routing_errors_from_a_runtime_config_point_at_the_config(dev: Tree) -> None:
    dev.write("overlays/dev/rc.yaml", RUNTIME_CONFIG)
    dev.write("overlays/dev/s.yaml", service())
    found = errors(dev)
    assert any(e.startswith("overlays/dev/rc.yaml:9:14: error[GatewayNotConfigured]") for e in found), found
    assert any(e.startswith("overlays/dev/rc.yaml:10:19: error[PathTemplateInvalid]")
               and 'annotation "owner" not found' in e for e in found), found
    assert any(e.startswith("overlays/dev/rc.yaml:11:21: error[InvalidRequestTimeout]")
               and "a bare number has no unit; write 300s" in e for e in found), found


def test_default_path_too_long_points_at_the_name(dev: Tree) -> None:
    name = "m" * 195
    dev.write("overlays/dev/s.yaml", service(name, routing={"enabled": True, "gatewayRef": GATEWAY}))
    [err] = [e for e in errors(dev) if "PathTemplateInvalid" in e]
    assert err.startswith("overlays/dev/s.yaml:4:9: error[PathTemplateInvalid]") and "is 204 characters long" in err


@pytest.mark.parametrize(("given", "rendered"), [
    ("30s", "30s"), ("60s", "1m0s"), ("120s", "2m0s"), ("180s", "3m0s"), ("2m", "2m0s"), ("1m30s", "1m30s"),
    ("90m", "1h30m0s"), ("1h", "1h0m0s"), ("500ms", "500ms"), ("1500ms", "1s500ms"), ("0s", "0s"),
    ("1h1m1s1ms", "1h1m1s1ms"), ("100000s", "27h46m40s"),
])
def test_request_timeouts_in_gateway_api_syntax(given: str, rendered: str) -> None:
    assert gateway_duration(given) == rendered


@pytest.mark.parametrize(("given", "hint"), [
    ("1.5s", "write 1s500ms instead of 1.5s"), ("300", "write 300s"), ("5 m", "use whole numbers"),
    ("10us", "use whole numbers"), ("-5s", "use whole numbers"), ("", "use whole numbers"),
    ("100000h", "at most 99999h"),
])
def test_invalid_request_timeouts(given: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        gateway_duration(given)


# --- the rendered routes satisfy the HTTPRoute CRD, its CEL rules included -------------------------------------


def cel_equivalent(route: dict[str, Any]) -> None:
    """The CEL rules of gateway.networking.k8s.io_httproutes.yaml that a schema check cannot see."""
    [rule] = route["spec"]["rules"]
    [match] = rule["matches"]
    assert match["path"]["type"] == "PathPrefix"  # ReplacePrefixMatch needs exactly one PathPrefix match
    value = match["path"]["value"]
    assert value.startswith("/") and not any(b in value for b in ("//", "/./", "/../", "%2f", "%2F", "#"))
    assert not value.endswith(("/..", "/."))
    [flt] = rule["filters"]
    assert flt == {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch",
                                                                  "replacePrefixMatch": "/"}}}
    assert all("port" in ref for ref in rule["backendRefs"] if ref.get("kind", "Service") == "Service")


def test_rendered_routes_satisfy_the_crd(dev: Tree, tmp_path: Path) -> None:
    from aimgen.validate.core import kubernetes_version
    from aimgen.validate.run import validate_manifests
    from aimgen.validate.schemas import write_schemas
    from aimgen.validate.store import SchemaStore

    dev.write("catalog/rc.yaml", """
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterRuntimeConfig
        metadata: {name: default}
        spec:
          routing:
            enabled: true
            gatewayRef: {name: inference-gateway, namespace: gateways, sectionName: http, port: 80}
            requestTimeout: 1m30s
            annotations: {example.com/rate-limit: "100"}
        """)
    svc = yaml.safe_load(service("chat.v2", "research", routing={
        "pathTemplate": "/{.metadata.namespace}/{.metadata.annotations['title']}/{.metadata.name}"}))
    svc["metadata"]["annotations"] = {"title": "Chat: Ünïcode & spaces #1"}
    dev.write("overlays/dev/s.yaml", yaml.safe_dump(svc) + "---\n" + service("plain"))
    rendered = routes(dev)
    assert len(rendered) == 2
    schemas = tmp_path / "schemas"
    _, diags = write_schemas([SHARED / "crds" / "gateway-api"], schemas, kubernetes_version())
    assert diags == []
    items = [(f"{key}.yaml", route) for key, route in rendered.items()]
    assert validate_manifests(items, SchemaStore(schemas)) == []
    for route in rendered.values():
        cel_equivalent(route)
    paths = sorted(r["spec"]["rules"][0]["matches"][0]["path"]["value"] for r in rendered.values())
    assert paths == ["/ml-team/plain", "/research/chat%3A%20%C3%BCn%C3%AFcode%20%26%20spaces%20%231/chat.v2"]
