"""Overlay routing checks: the gateway exists and admits the route's namespace; no two services share a path."""

from __future__ import annotations

import pytest
import yaml

from aimgen.inputs.models.cluster import NamespaceSelector
from aimgen.render.gateways import selects
from tests.support import INVENTORY, Tree, profile, run_cli, service

GATEWAYS = """\
  gateways:
  - name: public
    namespace: gateways
    listeners:
    - name: http
      allowedRoutes: {namespaces: {from: All}}
  - name: internal
    namespace: gateways
    listeners:
    - name: teams
      allowedRoutes:
        namespaces:
          from: Selector
          selector: {matchLabels: {gateway-access: inference}}
    - name: local
      allowedRoutes: {namespaces: {from: Same}}
  namespaces:
  - name: ml-team
    labels: {gateway-access: inference}
  - name: research
    labels: {team-name: applied-research}
"""


def routed(name: str = "qwen-chat", namespace: str = "ml-team", **routing: object) -> str:
    return service(name, namespace, routing={"enabled": True, **routing})


@pytest.fixture
def gw(tree: Tree) -> Tree:
    tree.write("overlays/dev/inventory.yaml", INVENTORY + GATEWAYS)
    tree.write("catalog/p.yaml", profile("p"))
    return tree


def build(tree: Tree) -> tuple[int, list[str]]:
    res = run_cli("build", root=tree.root)
    return res.code, res.errors


@pytest.mark.parametrize(("namespace", "ref"), [
    ("research", {"name": "public", "namespace": "gateways"}),  # All
    ("ml-team", {"name": "internal", "namespace": "gateways"}),  # Selector matches the namespace's labels
    ("ml-team", {"name": "internal", "namespace": "gateways", "sectionName": "teams"}),
    ("gateways", {"name": "internal", "namespace": "gateways", "sectionName": "local"}),  # Same
    ("gateways", {"name": "internal"}),  # no namespace: the route's own
])
def test_admitted(gw: Tree, namespace: str, ref: dict) -> None:
    gw.write("overlays/dev/s.yaml", routed(namespace=namespace, gatewayRef=ref))
    assert build(gw) == (0, [])


def test_unknown_gateway_is_refused_at_the_gateway_ref(gw: Tree) -> None:
    gw.write("overlays/dev/s.yaml", routed(gatewayRef={"name": "missing", "namespace": "gateways"}))
    code, errs = build(gw)
    assert code == 1
    [err] = errs
    assert err.startswith("overlays/dev/s.yaml:11:5: error[GatewayNotFound]")
    assert "gateways/missing" in err and "known gateways: gateways/public, gateways/internal" in err


def test_unknown_listener_is_refused(gw: Tree) -> None:
    gw.write("overlays/dev/s.yaml", routed(gatewayRef={"name": "public", "namespace": "gateways", "sectionName": "x"}))
    [err] = build(gw)[1]
    assert "error[GatewayNotFound]" in err and "has no listener 'x' (listeners: http)" in err


@pytest.mark.parametrize(("namespace", "ref", "reason"), [
    ("research", {"name": "internal", "namespace": "gateways"},
     "listener teams admits namespaces selected by gateway-access=inference; listener local admits routes from its "
     "own namespace (gateways) only; namespace research has labels team-name=applied-research"),
    ("ml-team", {"name": "internal", "namespace": "gateways", "sectionName": "local"},
     "listener local admits routes from its own namespace (gateways) only"),
    ("unlabelled", {"name": "internal", "namespace": "gateways", "sectionName": "teams"},
     "namespace unlabelled has labels none known"),
])
def test_listeners_that_refuse_the_namespace(gw: Tree, namespace: str, ref: dict, reason: str) -> None:
    gw.write("overlays/dev/s.yaml", routed(namespace=namespace, gatewayRef=ref))
    code, errs = build(gw)
    assert code == 1
    [err] = errs
    assert err.startswith("overlays/dev/s.yaml:11:5: error[RouteNotAllowed]"), err
    assert f"does not accept routes from namespace {namespace}" in err and reason in err


def test_namespace_documents_in_the_overlay_supply_labels(gw: Tree) -> None:
    gw.write("overlays/dev/ns.yaml", """
        apiVersion: v1
        kind: Namespace
        metadata: {name: chat, labels: {gateway-access: inference}}
        """)
    gw.write("overlays/dev/s.yaml", routed(namespace="chat", gatewayRef={"name": "internal", "namespace": "gateways"}))
    assert build(gw) == (0, [])


def test_default_gateway_problems_point_at_the_setting(gw: Tree) -> None:
    gw.write("overlays/dev/overlay.yaml", """
        apiVersion: aimgen.amd.com/v1alpha1
        kind: Overlay
        spec:
          settings:
            routing:
              defaultGatewayRef: {name: internal, namespace: gateways, sectionName: teams}
        """)
    gw.write("overlays/dev/s.yaml", routed() + "---\n" + routed("r", "research"))
    code, errs = build(gw)
    assert code == 1
    [err] = errs
    assert err.startswith("overlays/dev/overlay.yaml:7:7: error[RouteNotAllowed]") and "service research/r" in err


def test_gateway_documents_in_the_overlay_are_checked_like_inventory_gateways(tree: Tree) -> None:
    """A NodeList inventory cannot list gateways: exported Gateway documents in the overlay do."""
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/gateway.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: gateways, uid: 0d9e, resourceVersion: "42"}
        spec:
          gatewayClassName: kgateway
          listeners:
          - name: http
            port: 80
            protocol: HTTP
            allowedRoutes:
              kinds: [{kind: HTTPRoute}]
              namespaces:
                from: Selector
                selector:
                  matchExpressions: [{key: team-name, operator: In, values: [ml-platform]}]
        status: {conditions: []}
        """)
    tree.write("overlays/dev/ns.yaml", """
        apiVersion: v1
        kind: Namespace
        metadata: {name: ml-team, labels: {team-name: ml-platform}}
        """)
    ref = {"name": "edge", "namespace": "gateways"}
    tree.write("overlays/dev/s.yaml", routed(gatewayRef=ref) + "---\n" + routed("r", "research", gatewayRef=ref))
    code, errs = build(tree)
    assert code == 1
    [err] = errs
    assert "error[RouteNotAllowed]" in err and "team-name In ml-platform" in err and "research" in err


def test_without_known_gateways_nothing_is_checked(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", routed(gatewayRef={"name": "anything", "namespace": "anywhere"}))
    assert build(tree) == (0, [])


def test_same_path_on_one_gateway_is_a_conflict_naming_both(gw: Tree) -> None:
    ref = {"name": "public", "namespace": "gateways"}
    gw.write("overlays/dev/a.yaml", routed("chat-a", "ml-team", gatewayRef=ref, pathTemplate="/chat"))
    gw.write("overlays/dev/b.yaml", routed("chat-b", "research", gatewayRef=ref, pathTemplate="/Chat/"))
    other = {"name": "internal", "namespace": "gateways"}  # another gateway: no conflict
    gw.write("overlays/dev/c.yaml", routed("chat-c", "ml-team", gatewayRef=other, pathTemplate="/chat"))
    code, errs = build(gw)
    assert code == 1
    assert len(errs) == 2, errs
    a, b = sorted(errs)
    assert a.startswith("overlays/dev/a.yaml:14:19: error[RoutePathConflict]")
    assert b.startswith("overlays/dev/b.yaml:14:19: error[RoutePathConflict]")
    for err in errs:
        assert ("path prefix /chat on gateway gateways/public is claimed by 2 services "
                "(ml-team/chat-a, research/chat-b)") in err


def test_default_paths_never_conflict(gw: Tree) -> None:
    ref = {"name": "public", "namespace": "gateways"}
    docs = [routed(n, ns, gatewayRef=ref) for n in ("a", "b") for ns in ("ml-team", "research")]
    gw.write("overlays/dev/s.yaml", "---\n".join(docs))
    assert build(gw) == (0, [])


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
])
def test_label_selector_semantics(selector: dict, labels: dict, expected: bool) -> None:
    assert selects(NamespaceSelector.model_validate(selector), labels) is expected


def test_rendered_routes_are_unchanged_by_the_checks(gw: Tree) -> None:
    gw.write("overlays/dev/s.yaml", routed(gatewayRef={"name": "public", "namespace": "gateways"}))
    assert build(gw) == (0, [])
    [route] = [yaml.safe_load(t) for p, t in gw.rendered().items() if "/httproute-" in p]
    assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gateways"}]


def test_a_malformed_gateway_document_is_located(tree: Tree) -> None:
    tree.write("overlays/dev/gateway.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: gateways}
        spec:
          listeners:
          - name: http
            port: 80
            allowedRoutes:
              namespaces: {from: Everyone}
        """)
    code, errs = build(tree)
    assert code == 1
    [err] = errs
    assert err.startswith("overlays/dev/gateway.yaml:10:26: error[InvalidEnumValue]"), err
