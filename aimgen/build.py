"""The pipeline end to end: load -> parse -> resolve -> render -> emit -> write/check."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import build_catalog
from .diagnostics import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_OUT_OF_DATE,
    EXIT_USAGE,
    AimgenError,
    Diagnostic,
    Diagnostics,
    Severity,
    SourceRef,
    error,
)
from .emit import emit, manifest_path
from .gitops import gitops_dir, gitops_files
from .inputs import OverlayInputs, discover_overlays, load_catalog, load_overlay
from .inventory import Inventory, availability, inventory_from
from .load import Locator, parse_documents
from .manifest import Manifest
from .models.cluster import ClusterSettings
from .names import NameError_, inference_service_name
from .output import Plan, apply_plan, plan_changes
from .render import check_overlay, render_service_objects
from .render.context import ServiceContext
from .render.labels import service_labels
from .render.scaling import AUTOSCALER_CLASS
from .resolve import Decision, resolve_service


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    overlays: tuple[str, ...] = ()
    check: bool = False
    strict: bool = False
    jobs: int | None = None
    argocd: bool = False  # an Argo CD Application per overlay (gitops.py), whatever the settings say
    flux: bool = False  # a Flux Kustomization per overlay


@dataclass
class ServiceReport:
    """Per service: what was chosen and why, which objects it produced."""

    overlay: str
    namespace: str
    name: str
    profile: str | None = None
    why: str = ""
    objects: list[str] = field(default_factory=list)


@dataclass
class OverlayResult:
    name: str
    manifests: list[Manifest] = field(default_factory=list)
    services: list[ServiceReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    settings: ClusterSettings = field(default_factory=ClusterSettings)


@dataclass
class BuildResult:
    overlays: list[OverlayResult]
    diagnostics: list[Diagnostic]
    plan: Plan | None
    exit_code: int
    check: bool = False

    def summary_text(self) -> str:
        errors = sum(d.severity is Severity.ERROR for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        services = sum(len(o.services) for o in self.overlays)
        objects = sum(len(o.manifests) for o in self.overlays)
        head = f"{len(self.overlays)} overlay(s), {services} service(s), {objects} object(s)"
        tail = f"; {errors} error(s), {warnings} warning(s)"
        if errors or self.plan is None:
            return head + tail + "; rendered/ left unchanged"
        plan = self.plan
        changes = f"{len(plan.added)} added, {len(plan.write) - len(plan.added)} changed, {len(plan.remove)} removed"
        if self.check:
            lines = "".join(f"  would be {line}\n" for line in plan.lines())
            verdict = "rendered/ is up to date" if plan.empty else f"rendered/ is out of date ({changes})"
            return lines + head + tail + "; " + verdict
        return head + tail + f"; {changes}, {plan.unchanged} unchanged"

    def report_json(self) -> str:
        report: dict[str, Any] = {
            "exitCode": self.exit_code,
            "overlays": [
                {
                    "name": o.name,
                    "services": [
                        {
                            "namespace": s.namespace,
                            "name": s.name,
                            "profile": s.profile,
                            "why": s.why,
                            "objects": s.objects,
                            "diagnostics": [
                                d.to_json() for d in self.diagnostics if d.subject == f"{o.name}/{s.namespace}/{s.name}"
                            ],
                        }
                        for s in o.services
                    ],
                }
                for o in self.overlays
            ],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }
        if self.plan is not None:
            report["changes"] = {
                "added": sorted(self.plan.added),
                "changed": sorted(set(self.plan.write) - self.plan.added),
                "removed": list(self.plan.remove),
                "unchanged": self.plan.unchanged,
            }
        return json.dumps(report, indent=2, sort_keys=False)


def select_overlays(root: Path, requested: tuple[str, ...]) -> list[str]:
    available = discover_overlays(root)
    unknown = [o for o in requested if o not in available]
    if unknown:
        raise AimgenError(
            [
                error(
                    "OverlayNotFound",
                    f"no overlay {o!r} under {root / 'overlays'} (available: {', '.join(available) or 'none'})",
                )
                for o in unknown
            ],
            EXIT_USAGE,
        )
    if not available:
        raise AimgenError([error("OverlayNotFound", f"no overlays found under {root / 'overlays'}")], EXIT_USAGE)
    return list(requested) or available


def run_build(options: BuildOptions) -> BuildResult:
    """Build the selected overlays; write only when every overlay compiled without errors."""
    root = options.root
    names = select_overlays(root, options.overlays)
    catalog, catalog_diags = load_catalog(root)
    results = [compile_overlay(*load_overlay(root, name, catalog),
                               deployed_autoscaler_classes(root / "rendered" / name)) for name in names]
    wiring, wiring_diags = gitops_files(root, [(r.name, r.settings.gitops) for r in results], options.argocd,
                                        options.flux)
    diagnostics = Diagnostics(list(catalog_diags) + wiring_diags)
    for result in results:
        diagnostics.extend(result.diagnostics)
    if options.strict:
        diagnostics = diagnostics.promote_warnings()
    locator = Locator(root)
    final = [locator.resolve(d) for d in diagnostics.sorted()]
    if diagnostics.has_errors:
        return BuildResult(results, final, None, EXIT_INPUT_ERROR, options.check)
    wanted, collisions = emit_overlays(results)
    if collisions:
        return BuildResult(results, final + collisions, None, EXIT_INPUT_ERROR, options.check)
    rendered = root / "rendered"
    plan = plan_changes(rendered, wanted | wiring, names + [gitops_dir(n) for n in names])
    if options.check:
        return BuildResult(results, final, plan, EXIT_OK if plan.empty else EXIT_OUT_OF_DATE, True)
    apply_plan(rendered, plan)
    return BuildResult(results, final, plan, EXIT_OK)


def emit_overlays(results: list[OverlayResult]) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """Serialise every manifest; two objects on one path is an error naming both services."""
    wanted: dict[str, bytes] = {}
    owner: dict[str, Manifest] = {}
    collisions: list[Diagnostic] = []
    for result in results:
        for manifest in result.manifests:
            path = manifest_path(result.name, manifest)
            if path in owner:
                first = owner[path]
                if first.obj == manifest.obj:
                    continue  # a shared object (e.g. one cache claim for several services)
                collisions.append(
                    error(
                        "NameCollision",
                        f"{manifest.kind} {manifest.namespace}/{manifest.name} is "
                        f"produced by both {first.service or 'a shared input'} and "
                        f"{manifest.service or 'a shared input'}; rename one of them",
                    )
                )
                continue
            owner[path] = manifest
            wanted[path] = emit(manifest)
    return wanted, collisions


def compile_overlay(inputs: OverlayInputs, diagnostics: list[Diagnostic], deployed: Deployed | None = None,
                    ) -> OverlayResult:
    """Resolve and render every service of one overlay (pure: no I/O; `deployed` is read from rendered/)."""
    result = OverlayResult(inputs.name, diagnostics=list(diagnostics), settings=inputs.settings)
    if inputs.inventory is None:
        return result
    inventory = overlay_inventory(inputs)
    catalog = build_catalog(inputs.catalog)
    for service, source in sorted(inputs.services, key=lambda s: (s[0].metadata.namespace, s[0].metadata.name)):
        report = ServiceReport(inputs.name, service.metadata.namespace, service.metadata.name)
        result.services.append(report)
        resolution = resolve_service(service, source, catalog, inventory)
        subject = f"{inputs.name}/{report.namespace}/{report.name}"
        result.diagnostics += [_subject(d, subject) for d in resolution.diagnostics]
        if resolution.decision is None:
            continue
        report.profile, report.why = resolution.decision.profile.ref, resolution.decision.why
        manifests, render_diags = render_service(resolution.decision, inputs, deployed or {})
        result.diagnostics += [_subject(d, subject) for d in render_diags]
        report.objects = [f"{m.kind}/{m.name}" for m in manifests]
        result.manifests += manifests
    result.diagnostics += check_overlay(result.manifests, inventory, inputs)
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
                   ) -> tuple[list[Manifest], list[Diagnostic]]:
    """All objects of one decided service."""
    try:
        isvc_name = inference_service_name(decision.name, decision.namespace)
    except NameError_ as exc:
        return [], [error("NameTooLong", str(exc), decision.source.at("metadata", "namespace"))]
    deployed_class = (deployed or {}).get((decision.namespace, isvc_name))
    return render_service_objects(ServiceContext(decision, inputs.settings, isvc_name, service_labels(decision),
                                                 deployed_class))


Deployed = dict[tuple[str, str], str]  # (namespace, InferenceService name) -> its autoscalerClass in rendered/


def deployed_autoscaler_classes(overlay_dir: Path) -> Deployed:
    """The autoscalerClass of every InferenceService already rendered for an overlay (seed 000: the replica
    mode of a deployed service cannot change). Unreadable files are skipped: the build rewrites them."""
    found: Deployed = {}
    for path in sorted(overlay_dir.glob("*/inferenceservice-*.yaml")):
        try:
            docs, _ = parse_documents(path.read_bytes(), path.name)
        except OSError:
            continue
        for doc in docs:
            is_isvc = isinstance(doc.value, dict) and doc.value.get("kind") == "InferenceService"
            meta = doc.value.get("metadata") if is_isvc else None
            if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
                found[(str(meta.get("namespace")), str(meta.get("name")))] = str(
                    meta["annotations"].get(AUTOSCALER_CLASS, "hpa"))  # KServe's default class
    return found


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


__all__ = ["BuildOptions", "BuildResult", "SourceRef", "explain_service", "list_profiles", "run_build"]
