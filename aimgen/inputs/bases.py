"""Overlay composition: `spec.bases` then `spec.patches` (kustomize's model, applied in that order).

A base is another overlay, composed first (its own bases and patches applied). The overlay inherits its
AIMServices, namespace-scoped catalog documents and Namespace documents, plus its Overlay settings (the
overlay's own win field by field); its own documents replace inherited ones of the same kind/namespace/name;
later bases replace earlier ones. The inventory and Gateway documents describe one cluster and are never
inherited. Inherited documents keep their SourceRef, so diagnostics point at the file that defines them.
Patches are RFC 7386 JSON merge patches on AIMServices, each re-validated against the AIMService model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from aimgen.diagnostics import Diagnostic, SourceRef, error
from aimgen.inputs.layout import discover_overlays
from aimgen.inputs.merge import merge_patch
from aimgen.inputs.models.aim import AIMService
from aimgen.inputs.models.cluster import Patch, PatchTarget
from aimgen.inputs.parse import validation_diagnostics

if TYPE_CHECKING:
    from aimgen.inputs.tree import OverlayInputs

Item = tuple[Any, SourceRef]
# tree.load_overlay, passed in (it calls compose_overlay): (root, name, catalog, chain) -> inputs, diagnostics
LoadOverlay = Callable[[Path, str, list[Item], tuple[str, ...]], 'tuple[OverlayInputs, list[Diagnostic]]']


def object_key(obj: Any) -> tuple[str, str, str]:
    meta = obj.metadata
    return (obj.kind, getattr(meta, "namespace", None) or "", meta.name)


def overlay_items(items: list[Item], inherited: list[Item]) -> list[Item]:
    """Inherited items, replaced by (then followed by) the overlay's own of the same kind/namespace/name."""
    merged = {object_key(obj): (obj, source) for obj, source in inherited}
    for obj, _ in items:
        merged.pop(object_key(obj), None)
    return [*merged.values(), *items]


def compose_overlay(
    root: Path, inputs: OverlayInputs, shared_catalog: int, within: tuple[str, ...], load: LoadOverlay
) -> tuple[OverlayInputs, list[Diagnostic]]:
    """Apply the overlay's bases, then its patches. `inputs` is the overlay's own OverlayInputs (its catalog: the
    `shared_catalog` first entries are the shared catalog/, the rest its namespaced documents); `within` is the
    chain of overlays being composed, this one last (cycle detection)."""

    if inputs.overlay is None:
        return inputs, []
    overlay, source = inputs.overlay
    diags: list[Diagnostic] = []
    services: list[Item] = []
    namespaced: list[Item] = []
    namespaces: list[Item] = []
    settings: dict[str, Any] = {}
    available = set(discover_overlays(root))
    shared = inputs.catalog[:shared_catalog]
    for i, base in enumerate(overlay.spec.bases):
        where = source.at("spec", "bases", i)
        if base in within:
            chain = " -> ".join([*within[within.index(base):], base])
            diags.append(error("BaseCycle", f"overlay bases form a cycle: {chain}", where))
            continue
        if base not in available:
            diags.append(error("BaseNotFound", f"base overlay {base!r} not found under overlays/ (available: "
                               f"{', '.join(sorted(available)) or 'none'})", where))
            continue
        parent, parent_diags = load(root, base, shared, within)
        # The inventory is not inherited: a base needs none of its own to be a base.
        diags += [d for d in parent_diags if d.code != "InventoryNotFound"]
        services = overlay_items(parent.services, services)
        namespaced = overlay_items(parent.catalog[shared_catalog:], namespaced)
        namespaces = overlay_items(parent.namespaces, namespaces)
        if parent.overlay is not None:
            settings = _merge_settings(settings, dict(parent.overlay[0].spec.settings))
    if overlay.spec.bases:
        settings = _merge_settings(settings, dict(overlay.spec.settings))
        overlay = overlay.model_copy(update={"spec": overlay.spec.model_copy(update={"settings": settings})})
    patched, patch_diags = apply_patches(overlay_items(inputs.services, services), overlay.spec.patches, source)
    composed = replace(
        inputs,
        services=patched,
        catalog=[*shared, *overlay_items(inputs.catalog[shared_catalog:], namespaced)],
        namespaces=overlay_items(inputs.namespaces, namespaces),
        overlay=(overlay, source),
    )
    return composed, diags + patch_diags


def _merge_settings(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    from aimgen.inputs.merge import merge_runtime_config_dicts

    return merge_runtime_config_dicts(base, over)


def matches(target: PatchTarget, service: AIMService) -> bool:
    """Every given criterion must hold: namespace, name, and all matchLabels."""
    meta = service.metadata
    if target.namespace is not None and meta.namespace != target.namespace:
        return False
    if target.name is not None and meta.name != target.name:
        return False
    wanted = target.labelSelector.matchLabels if target.labelSelector else {}
    return all(meta.labels.get(k) == v for k, v in wanted.items())


def apply_patches(services: list[Item], patches: list[Patch], source: SourceRef) -> tuple[list[Item], list[Diagnostic]]:
    """Each patch in order on every service it targets; a patch must match something and yield a valid service."""
    diags: list[Diagnostic] = []
    out = list(services)
    for i, patch in enumerate(patches):
        where = source.at("spec", "patches", i)
        hits = [n for n, (svc, _) in enumerate(out) if matches(patch.target, svc)]
        if not hits:
            diags.append(error("PatchMatchesNothing", f"patch {i} targets {_describe(patch.target)}, but no "
                               "AIMService of this overlay (own or inherited) matches", where.at("target")))
        for n in hits:
            service, service_source = out[n]
            patched, problems = patch_service(service, patch, where)
            diags += problems
            if patched is not None:
                out[n] = (patched, service_source)
    return out, diags


def patch_service(service: AIMService, patch: Patch, where: SourceRef) -> tuple[AIMService | None, list[Diagnostic]]:
    """The merge patch applied to the service's document, re-validated; errors point into the patch."""
    value = merge_patch(_document(service), patch.patch)
    subject = f"{service.metadata.namespace}/{service.metadata.name}"
    try:
        patched = AIMService.model_validate(value)
    except ValidationError as exc:
        found = validation_diagnostics(exc, value, where.at("patch"))
        return None, [error(d.code, f"after patching AIMService {subject}: {d.message}", d.location) for d in found]
    if (patched.metadata.namespace, patched.metadata.name) != (service.metadata.namespace, service.metadata.name):
        return None, [error("PatchInvalid", f"a patch cannot rename AIMService {subject} (metadata.name and "
                            "metadata.namespace identify what it targets)", where.at("patch", "metadata"))]
    return patched, []


def _document(model: BaseModel) -> dict[str, Any]:
    """The YAML document a model was read from (the fields it set, under their YAML names)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _describe(target: PatchTarget) -> str:
    parts = [f"namespace {target.namespace}"] if target.namespace else []
    parts += [f"name {target.name}"] if target.name else []
    if target.labelSelector and target.labelSelector.matchLabels:
        parts.append("labels " + ", ".join(f"{k}={v}" for k, v in sorted(target.labelSelector.matchLabels.items())))
    return " and ".join(parts) or "every service"


__all__ = ["apply_patches", "compose_overlay", "matches", "merge_patch", "overlay_items"]
