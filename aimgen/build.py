"""The pipeline end to end: load -> parse -> resolve -> render -> emit -> write/check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aimgen.diagnostics import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    AimgenError,
    Diagnostic,
    Severity,
    SourceRef,
    error,
)
from aimgen.incremental.run import run_build
from aimgen.inputs.catalog import build_catalog
from aimgen.inputs.layout import select_overlays
from aimgen.inputs.load import Locator
from aimgen.inputs.tree import OverlayInputs, load_catalog, load_overlay
from aimgen.output.deployed import deployed_autoscaler_classes
from aimgen.render.overlay import overlay_inventory
from aimgen.resolve.availability import availability
from aimgen.resolve.select import resolve_service
from aimgen.results import BuildOptions, BuildResult

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
