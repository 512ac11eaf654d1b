"""The pipeline end to end: load -> parse -> resolve -> render -> emit -> write/check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Catalog, build_catalog
from .deployed import Deployed, deployed_autoscaler_classes
from .diagnostics import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    AimgenError,
    Diagnostic,
    Severity,
    SourceRef,
    error,
)
from .incremental import run_build
from .inputs import OverlayInputs, load_catalog, load_overlay
from .inventory import Inventory, availability, inventory_from
from .load import Locator
from .manifest import Manifest
from .models.aim import AIMService
from .names import NameError_, inference_service_name
from .render import PartRun, check_overlay, render_service_objects
from .render.context import ServiceContext
from .render.labels import service_labels
from .resolve import Decision, Resolution, resolve_service
from .results import BuildOptions, BuildResult, OverlayResult, ServiceReport, select_overlays


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


# --- explain / profiles ------------------------------------------------------------------------------------------


def _overlay_for_query(root: Path, overlay: str) -> tuple[OverlayInputs, list[Diagnostic]]:
    select_overlays(root, (overlay,))
    catalog, diags = load_catalog(root)
    inputs, overlay_diags = load_overlay(root, overlay, catalog)
    return inputs, diags + overlay_diags


def explain_service(root: Path, overlay: str, namespace: str, name: str, fmt: str) -> tuple[str, int]:
    """Every candidate of one service, why it was kept or rejected, and why the winner won."""
    inputs, diags = _overlay_for_query(root, overlay)
    locator = Locator(root)
    found = [(s, src) for s, src in inputs.services if s.metadata.namespace == namespace and s.metadata.name == name]
    if not found:
        raise AimgenError(
            [error("ServiceNotFound", f"no AIMService {namespace}/{name} in overlay {overlay!r}")], EXIT_USAGE
        )
    if inputs.inventory is None:
        raise AimgenError([locator.resolve(d) for d in diags if d.severity is Severity.ERROR])
    service, source = found[0]
    inventory = overlay_inventory(inputs)
    resolution = resolve_service(service, source, build_catalog(inputs.catalog), inventory)
    problems = [locator.resolve(d) for d in resolution.diagnostics]
    if fmt == "json":
        return json.dumps(
            {
                "overlay": overlay,
                "service": f"{namespace}/{name}",
                "selected": resolution.decision.profile.ref if resolution.decision else None,
                "why": resolution.decision.why if resolution.decision else "",
                "runtimeConfig": resolution.decision.runtime_config_name if resolution.decision else None,
                "candidates": [
                    {
                        "profile": v.profile.ref,
                        "kept": v.kept,
                        "reason": v.reason,
                        "type": v.profile.type,
                        "primary": v.profile.primary,
                        "hardware": v.profile.hardware_summary,
                    }
                    for v in resolution.trace
                ],
                "diagnostics": [d.to_json() for d in problems],
            },
            indent=2,
        ), EXIT_INPUT_ERROR if any(d.severity is Severity.ERROR for d in problems) else EXIT_OK
    lines = [
        f"service {namespace}/{name} on overlay {overlay} ({inventory.summary()})",
        f"model: {service.spec.model.name or service.spec.model.image or 'custom'}",
    ]
    overrides = service.spec.overrides
    if overrides:
        lines.append("requested: " + ", ".join(f"{k}={v}" for k, v in overrides.model_dump(exclude_none=True).items()))
    lines.append("candidates:")
    for v in resolution.trace:
        mark = "+" if v.kept else "-"
        lines.append(
            f"  {mark} {v.profile.ref} [{v.profile.type}{', primary' if v.profile.primary else ''}; "
            f"{v.profile.hardware_summary}; {v.profile.metric or '-'}/{v.profile.precision or '-'}]: "
            f"{v.reason}"
        )
    if resolution.decision:
        lines.append(f"selected: {resolution.decision.profile.ref} ({resolution.decision.why})")
        lines.append(f"runtime config: {resolution.decision.runtime_config_name}")
    lines += [d.render() for d in problems]
    code = EXIT_INPUT_ERROR if any(d.severity is Severity.ERROR for d in problems) else EXIT_OK
    return "\n".join(lines) + "\n", code


def list_profiles(root: Path, overlays: tuple[str, ...], fmt: str) -> tuple[str, int]:
    """The catalog with each profile's status on each overlay."""
    names = select_overlays(root, overlays)
    catalog_docs, diags = load_catalog(root)
    rows: list[dict[str, Any]] = []
    for name in names:
        inputs, overlay_diags = load_overlay(root, name, catalog_docs)
        diags += overlay_diags
        if inputs.inventory is None:
            continue
        inventory = overlay_inventory(inputs)
        for profile in build_catalog(inputs.catalog).all_profiles():
            avail = availability(profile, inventory)
            rows.append(
                {
                    "overlay": name,
                    "profile": profile.ref,
                    "aimId": profile.aim_id,
                    "type": profile.type,
                    "primary": profile.primary,
                    "metric": profile.metric,
                    "precision": profile.precision,
                    "hardware": profile.hardware_summary,
                    "status": avail.status,
                    "matchingNodes": avail.matching_nodes,
                    "reason": avail.reason,
                }
            )
    errors = [d for d in diags if d.severity is Severity.ERROR]
    if errors:
        locator = Locator(root)
        raise AimgenError([locator.resolve(d) for d in errors])
    if fmt == "json":
        return json.dumps(rows, indent=2), EXIT_OK
    header = ("OVERLAY", "PROFILE", "TYPE", "PRIMARY", "METRIC", "PRECISION", "HARDWARE", "STATUS", "NODES")
    table = [header] + [
        (
            r["overlay"],
            r["profile"],
            r["type"],
            "yes" if r["primary"] else "no",
            r["metric"] or "-",
            r["precision"] or "-",
            r["hardware"],
            r["status"],
            str(r["matchingNodes"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ) + "\n", (EXIT_OK)


__all__ = ["BuildOptions", "BuildResult", "SourceRef", "deployed_autoscaler_classes", "explain_service",
           "list_profiles", "run_build"]
