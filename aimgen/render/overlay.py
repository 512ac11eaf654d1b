"""One overlay compiled in memory: its services resolved and rendered, then checked together (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from aimgen.diagnostics import (
    Diagnostic,
    SourceRef,
    error,
)
from aimgen.inputs.catalog import Catalog, build_catalog
from aimgen.inputs.inventory import Inventory, inventory_from
from aimgen.inputs.models.aim import AIMService
from aimgen.inputs.tree import OverlayInputs
from aimgen.kube.names import NameError_, inference_service_name
from aimgen.render.context import ServiceContext
from aimgen.render.labels import service_labels
from aimgen.render.manifest import Deployed, Manifest
from aimgen.render.service import PartRun, check_overlay, render_service_objects
from aimgen.resolve.select import Decision, Resolution, resolve_service
from aimgen.results import OverlayResult, ServiceReport


@dataclass(frozen=True)
class OverlayContext:
    """What every service of one overlay compiles against: its inputs, catalog and inventory, built once."""

    inputs: OverlayInputs
    catalog: Catalog
    inventory: Inventory


def overlay_context(inputs: OverlayInputs) -> OverlayContext | None:
    """None when the overlay has no inventory (its services cannot be resolved)."""
    if inputs.inventory is None:
        return None
    return OverlayContext(inputs, build_catalog(inputs.catalog), overlay_inventory(inputs))


@dataclass
class CompiledService:
    report: ServiceReport
    diagnostics: list[Diagnostic]
    manifests: list[Manifest]


def sorted_services(services: list[tuple[AIMService, SourceRef]]) -> list[tuple[AIMService, SourceRef]]:
    """The order services are compiled and reported in: by namespace and name (stable for duplicates)."""
    return sorted(services, key=lambda s: (s[0].metadata.namespace, s[0].metadata.name))


def compile_service(ctx: OverlayContext, service: AIMService, source: SourceRef, deployed: Deployed,
                    resolution: Resolution | None = None, run: PartRun | None = None) -> CompiledService:
    """Resolve and render one service (pure: no I/O; `deployed` is read from rendered/; `resolution`: the
    service's own, when resolved already: it does not depend on `deployed`)."""
    report = ServiceReport(ctx.inputs.name, service.metadata.namespace, service.metadata.name)
    subject = f"{ctx.inputs.name}/{report.namespace}/{report.name}"
    resolution = resolution or resolve_service(service, source, ctx.catalog, ctx.inventory)
    diagnostics = [_subject(d, subject) for d in resolution.diagnostics]
    if resolution.decision is None:
        return CompiledService(report, diagnostics, [])
    report.profile, report.why = resolution.decision.profile.ref, resolution.decision.why
    manifests, render_diags = render_service(resolution.decision, ctx.inputs, deployed, run)
    report.objects = [f"{m.kind}/{m.name}" for m in manifests]
    return CompiledService(report, diagnostics + [_subject(d, subject) for d in render_diags], manifests)


def compile_overlay(inputs: OverlayInputs, diagnostics: list[Diagnostic], deployed: Deployed | None = None,
                    ) -> OverlayResult:
    """Resolve and render every service of one overlay (pure: no I/O; `deployed` is read from rendered/)."""
    result = OverlayResult(inputs.name, diagnostics=list(diagnostics), settings=inputs.settings)
    ctx = overlay_context(inputs)
    if ctx is None:
        return result
    for service, source in sorted_services(inputs.services):
        compiled = compile_service(ctx, service, source, deployed if deployed is not None else {})
        result.services.append(compiled.report)
        result.diagnostics += compiled.diagnostics
        result.manifests += compiled.manifests
    result.diagnostics += check_overlay(result.manifests, ctx.inventory, inputs)
    return result


def _subject(d: Diagnostic, subject: str) -> Diagnostic:
    return Diagnostic(d.severity, d.code, d.message, d.location, subject)


def overlay_inventory(inputs: OverlayInputs) -> Inventory:
    assert inputs.inventory is not None
    inventory = inventory_from(inputs.inventory[0])
    labels = dict(inventory.namespace_labels)
    for ns, _ in inputs.namespaces:
        labels.setdefault(ns.metadata.name, tuple(sorted(ns.metadata.labels.items())))
    gateways = inventory.gateways
    if inputs.gateways:  # Gateway documents in the overlay add to the inventory's gateways (which win)
        known = {(g.namespace, g.name) for g in gateways or ()}
        gateways = (*(gateways or ()), *(g.as_inventory() for g, _ in inputs.gateways
                                         if (g.metadata.namespace, g.metadata.name) not in known))
    return Inventory(inventory.nodes, gateways, tuple(sorted(labels.items())), inventory.settings)


def render_service(decision: Decision, inputs: OverlayInputs, deployed: Deployed | None = None,
                   run: PartRun | None = None) -> tuple[list[Manifest], list[Diagnostic]]:
    """All objects of one decided service (`run`: see render_service_objects)."""
    try:
        isvc_name = inference_service_name(decision.name, decision.namespace)
    except NameError_ as exc:
        return [], [error("NameTooLong", str(exc), decision.source.at("metadata", "namespace"))]
    deployed_class = deployed.get((decision.namespace, isvc_name)) if deployed is not None else None
    return render_service_objects(ServiceContext(decision, inputs.settings, isvc_name, service_labels(decision),
                                                 deployed_class), run)
