"""Render stage: a decided service -> its Kubernetes objects.

Each part renderer takes the ServiceContext and returns a `Part`: objects of its own plus what it adds
to the predictor pod. The InferenceService is rendered last, from the sum of the parts' additions.
Overlay checks look across all services of an overlay (shared paths, shared caches, ...).
"""

from __future__ import annotations

from collections.abc import Callable

from ..diagnostics import Diagnostic
from ..inputs import OverlayInputs
from ..inventory import Inventory
from ..manifest import Manifest
from .autoscaling import render_autoscaling
from .caching import render_caches
from .context import ServiceContext
from .customprofile import render_custom_profile
from .gateways import check_routes
from .httproute import render_http_route
from .inferenceservice import PodAdditions, render_inference_service
from .part import Part, PartRenderer

__all__ = ["OVERLAY_CHECKS", "OVERLAY_CHECK_KINDS", "PART_RENDERERS", "Part", "PartRenderer", "check_overlay",
           "render_service_objects"]

OverlayCheck = Callable[[list[Manifest], Inventory, OverlayInputs], list[Diagnostic]]

# Order matters only for readability of reports; output paths are independent of it.
PART_RENDERERS: list[PartRenderer] = [render_http_route, render_autoscaling, render_custom_profile, render_caches]


def render_service_objects(ctx: ServiceContext) -> tuple[list[Manifest], list[Diagnostic]]:
    """Every object of one service: the parts' objects, then the InferenceService."""
    manifests: list[Manifest] = []
    diagnostics: list[Diagnostic] = []
    additions = PodAdditions()
    for renderer in PART_RENDERERS:
        part = renderer(ctx)
        manifests += part.manifests
        additions = additions + part.additions
        diagnostics += part.diagnostics
    isvc, isvc_diags = render_inference_service(ctx, additions)
    return [isvc, *manifests], diagnostics + isvc_diags


# Checks across all services of an overlay, run once every service is rendered (subjects set by each check).
# They read the overlay's shared inputs (never `inputs.services`) and its objects of OVERLAY_CHECK_KINDS only: the
# build cache keeps those for every service, so an incremental build checks the objects of unchanged services too.
OVERLAY_CHECKS: list[OverlayCheck] = [check_routes]
OVERLAY_CHECK_KINDS = frozenset({"HTTPRoute"})


def check_overlay(manifests: list[Manifest], inventory: Inventory, inputs: OverlayInputs) -> list[Diagnostic]:
    """Every overlay check over the overlay's rendered objects (of the kinds the checks read)."""
    checked = [m for m in manifests if m.kind in OVERLAY_CHECK_KINDS]
    return [d for check in OVERLAY_CHECKS for d in check(checked, inventory, inputs)]
