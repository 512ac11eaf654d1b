"""Render stage: a decided service -> its Kubernetes objects.

Each part renderer takes the ServiceContext and returns a `Part`: objects of its own plus what it adds
to the predictor pod. The InferenceService is rendered last, from the sum of the parts' additions.
Overlay checks look across all services of an overlay (shared paths, shared caches, ...).
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..manifest import Manifest
from .autoscaling import render_autoscaling
from .context import ServiceContext
from .httproute import render_http_route
from .inferenceservice import PodAdditions, render_inference_service
from .part import Part, PartRenderer

__all__ = ["PART_RENDERERS", "Part", "PartRenderer", "render_service_objects"]

# Order matters only for readability of reports; output paths are independent of it.
PART_RENDERERS: list[PartRenderer] = [render_http_route, render_autoscaling]


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
