"""A decided service -> its Kubernetes objects, part by part; the checks across an overlay's services.

Each part renderer takes the ServiceContext and returns a `Part`: objects of its own plus what it adds
to the predictor pod. The InferenceService is rendered last, from the sum of the parts' additions.
Overlay checks look across all services of an overlay (shared paths, shared caches, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

from aimgen.diagnostics import Diagnostic
from aimgen.inputs.inventory import Inventory
from aimgen.inputs.tree import OverlayInputs
from aimgen.render.autoscaling import check_mode_change, render_autoscaling
from aimgen.render.caching import render_caches
from aimgen.render.context import ServiceContext
from aimgen.render.customprofile import render_custom_profile
from aimgen.render.gateways import check_routes, route_group
from aimgen.render.httproute import render_http_route
from aimgen.render.inferenceservice import PodAdditions, render_inference_service
from aimgen.render.manifest import Manifest
from aimgen.render.part import Part, PartRenderer

__all__ = ["OVERLAY_CHECKS", "PART_RENDERERS", "OverlayCheck", "Part", "PartRenderer", "check_groups", "check_overlay",
           "render_service_objects", "run_check"]


@dataclass(frozen=True)
class OverlayCheck:
    """A check across the services of an overlay. It reads objects of `kinds` only (and the overlay's shared
    inputs, never `inputs.services`), and objects interact only within a group (`group`): the build cache keeps
    those objects for every service and an incremental build re-runs the check on the groups a change touches."""

    kinds: frozenset[str]
    group: Callable[[Manifest], Hashable]
    run: Callable[[list[Manifest], Inventory, OverlayInputs], list[Diagnostic]]


PartRun = Callable[[PartRenderer, ServiceContext], Part]

# Order matters only for readability of reports; output paths are independent of it.
PART_RENDERERS: list[PartRenderer] = [render_http_route, render_autoscaling, check_mode_change, render_custom_profile,
                                      render_caches]


def render_service_objects(ctx: ServiceContext, run: PartRun | None = None) -> tuple[list[Manifest], list[Diagnostic]]:
    """Every object of one service: the parts' objects, then the InferenceService. `run(renderer, ctx)` calls each
    part renderer when given (the build cache re-runs only the parts that read what changed)."""
    manifests: list[Manifest] = []
    diagnostics: list[Diagnostic] = []
    additions = PodAdditions()
    for renderer in PART_RENDERERS:
        part = run(renderer, ctx) if run is not None else renderer(ctx)
        manifests += part.manifests
        additions = additions + part.additions
        diagnostics += part.diagnostics
    # only part renderers read rendered/ (the deployed class): the InferenceService follows from the parts, so a
    # service renders the same against other deployed classes when its parts that read them do (units.Parts)
    isvc, isvc_diags = render_inference_service(replace(ctx, deployed_autoscaler_class=None), additions)
    return [isvc, *manifests], diagnostics + isvc_diags


# Checks across all services of an overlay, run once every service is rendered (subjects set by each check).
OVERLAY_CHECKS: list[OverlayCheck] = [OverlayCheck(frozenset({"HTTPRoute"}), route_group, check_routes)]


def check_groups(manifests: list[Manifest]) -> dict[tuple[int, Hashable], list[Manifest]]:
    """The objects each check reads, by (check index, group), groups in order of first appearance."""
    groups: dict[tuple[int, Hashable], list[Manifest]] = {}
    for i, check in enumerate(OVERLAY_CHECKS):
        for m in manifests:
            if m.kind in check.kinds:
                groups.setdefault((i, check.group(m)), []).append(m)
    return groups


def run_check(group: tuple[int, Hashable], members: list[Manifest], inventory: Inventory, inputs: OverlayInputs
              ) -> list[Diagnostic]:
    return OVERLAY_CHECKS[group[0]].run(members, inventory, inputs)


def check_overlay(manifests: list[Manifest], inventory: Inventory, inputs: OverlayInputs) -> list[Diagnostic]:
    """Every overlay check over the overlay's rendered objects, group by group."""
    return [d for group, members in check_groups(manifests).items() for d in run_check(group, members, inventory,
                                                                                            inputs)]
