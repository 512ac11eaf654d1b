"""Overlay checks on the rendered HTTPRoutes (SPEC §3, reference/kserve-keda-gateway.md §3 "Cross-namespace").

- When the overlay knows its gateways (ClusterInventory `spec.gateways` or Gateway documents in the overlay),
  each route's gateway must exist and one of its listeners (the `sectionName` one, if named) must admit
  routes from the route's namespace: `All`, `Same` (the gateway's namespace) or a `Selector` over the
  namespace's labels. A gateway outside the inventory cannot be checked, so none is an error without it.
- Two services must not claim the same path prefix on one gateway.
"""

from __future__ import annotations

from typing import Any

from aimgen.diagnostics import Diagnostic, SourceRef, error
from aimgen.inputs.inventory import Inventory
from aimgen.inputs.models.cluster import ClusterInventory, InventoryGateway, Listener, NamespaceSelector
from aimgen.inputs.tree import OverlayInputs
from aimgen.render.manifest import Manifest

GATEWAY_GROUP = "gateway.networking.k8s.io"


def check_routes(manifests: list[Manifest], inventory: Inventory, inputs: OverlayInputs) -> list[Diagnostic]:
    """Gateway admission and path conflicts of every HTTPRoute of one overlay."""
    routes = sorted((m for m in manifests if m.kind == "HTTPRoute"), key=lambda m: m.key)
    default_at = default_gateway_location(inputs)
    out: list[Diagnostic] = []
    if inventory.gateways is not None:
        for route in routes:
            problem = admission_problem(route, inventory)
            if problem:
                at = dict(route.origins).get("spec.parentRefs") or default_at or route.source
                out.append(error(problem[0], problem[1], at, f"{inputs.name}/{route.service}"))
    return out + path_conflicts(routes, inputs.name)


def route_group(route: Manifest) -> tuple[tuple[str, str, str, str], str]:
    """Routes interact only when they share a gateway and a path prefix (path_conflicts); admission is per route."""
    return parent_key(route), route.obj["spec"]["rules"][0]["matches"][0]["path"]["value"]


def default_gateway_location(inputs: OverlayInputs) -> SourceRef | None:
    """Where the overlay's settings.routing.defaultGatewayRef is written (the Overlay's wins)."""
    candidates: list[tuple[dict[str, Any], SourceRef]] = []
    if inputs.overlay:
        candidates.append((inputs.overlay[0].spec.settings, inputs.overlay[1]))
    if inputs.inventory and isinstance(inputs.inventory[0], ClusterInventory):
        candidates.append((inputs.inventory[0].spec.settings, inputs.inventory[1]))
    for settings, source in candidates:
        routing = settings.get("routing")
        if isinstance(routing, dict) and routing.get("defaultGatewayRef") is not None:
            return source.at("spec", "settings", "routing", "defaultGatewayRef")
    return None


def parent_key(route: Manifest) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name) of a route's parent; the namespace defaults to the route's."""
    ref = route.obj["spec"]["parentRefs"][0]
    return (ref.get("group", GATEWAY_GROUP), ref.get("kind", "Gateway"), ref.get("namespace", route.namespace),
            ref["name"])


def admission_problem(route: Manifest, inventory: Inventory) -> tuple[str, str] | None:
    """(code, message) when the inventory's gateways would not accept the route, else None."""
    group, kind, namespace, name = parent_key(route)
    if (group, kind) != (GATEWAY_GROUP, "Gateway"):
        return None  # another kind of parent (a mesh Service, ...): nothing to check it against
    service = route.service
    gateway = next((g for g in inventory.gateways or () if (g.namespace, g.name) == (namespace, name)), None)
    if gateway is None:
        known = ", ".join(f"{g.namespace}/{g.name}" for g in inventory.gateways or ()) or "none"
        return "GatewayNotFound", (f"service {service} routes through gateway {namespace}/{name}, which is not in "
                                   f"this overlay's inventory (known gateways: {known})")
    section = route.obj["spec"]["parentRefs"][0].get("sectionName")
    listeners = [lst for lst in gateway.listeners if section is None or lst.name == section]
    if not listeners:
        names = ", ".join(lst.name for lst in gateway.listeners)
        return "GatewayNotFound", (f"gateway {namespace}/{name} has no listener {section!r} (listeners: {names}); "
                                   f"service {service} names it in sectionName")
    labels = inventory.labels_of_namespace(route.namespace)
    if any(admits(lst, gateway, route.namespace, labels) for lst in listeners):
        return None
    reasons = "; ".join(f"listener {lst.name} {_admits_text(lst, gateway)}" for lst in listeners)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none known"
    return "RouteNotAllowed", (f"gateway {namespace}/{name} does not accept routes from namespace {route.namespace} "
                               f"(service {service}): {reasons}; namespace {route.namespace} has labels {shown}")


def admits(listener: Listener, gateway: InventoryGateway, namespace: str, labels: dict[str, str]) -> bool:
    """Gateway API allowedRoutes.namespaces: All, Same (the gateway's namespace) or Selector."""
    rule = listener.allowedRoutes.namespaces
    if rule.from_ == "All":
        return True
    if rule.from_ == "Same":
        return namespace == gateway.namespace
    return selects(rule.selector or NamespaceSelector(), labels)


def selects(selector: NamespaceSelector, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics: every matchLabels pair and every expression must hold."""
    if any(labels.get(k) != v for k, v in selector.matchLabels.items()):
        return False
    for req in selector.matchExpressions:
        present = req.key in labels
        holds = {"In": present and labels.get(req.key) in req.values,
                 "NotIn": not present or labels.get(req.key) not in req.values,
                 "Exists": present, "DoesNotExist": not present}[req.operator]
        if not holds:
            return False
    return True


def _admits_text(listener: Listener, gateway: InventoryGateway) -> str:
    rule = listener.allowedRoutes.namespaces
    if rule.from_ == "Same":
        return f"admits routes from its own namespace ({gateway.namespace}) only"
    selector = rule.selector or NamespaceSelector()
    terms = [f"{k}={v}" for k, v in sorted(selector.matchLabels.items())]
    terms += [f"{r.key} {r.operator}{' ' + ','.join(r.values) if r.values else ''}" for r in selector.matchExpressions]
    return f"admits namespaces selected by {', '.join(terms) or 'an empty selector'}"


def path_conflicts(routes: list[Manifest], overlay: str) -> list[Diagnostic]:
    """Routes of different services with the same path prefix on the same gateway: an error at each of them."""
    claims: dict[tuple[tuple[str, str, str, str], str], list[Manifest]] = {}
    for route in routes:
        path = route.obj["spec"]["rules"][0]["matches"][0]["path"]["value"]
        claims.setdefault((parent_key(route), path), []).append(route)
    out: list[Diagnostic] = []
    for ((_, _, namespace, name), path), claimants in sorted(claims.items()):
        if len(claimants) < 2:
            continue
        services = ", ".join(r.service for r in claimants)
        for route in claimants:
            at = dict(route.origins).get("spec.rules.matches.path") or (
                route.source.at("metadata", "name") if route.source else None)
            out.append(error("RoutePathConflict", f"path prefix {path} on gateway {namespace}/{name} is claimed by "
                             f"{len(claimants)} services ({services}); give each its own spec.routing.pathTemplate",
                             at, f"{overlay}/{route.service}"))
    return out
