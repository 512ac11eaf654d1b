"""Resolve stage: a service -> Decision (model, profile, merged runtime config) with the trace of why (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aimgen.diagnostics import Diagnostic, SourceRef, error, warning
from aimgen.inputs.catalog import TYPE_RANK, Catalog, Profile
from aimgen.inputs.inventory import Inventory
from aimgen.inputs.merge import merge_runtime_config_dicts
from aimgen.inputs.models.aim import AIMClusterRuntimeConfig, AIMRuntimeConfig, AIMService, RuntimeConfigSpec
from aimgen.resolve.availability import Availability, availability

RuntimeConfigLayer = tuple[AIMClusterRuntimeConfig | AIMRuntimeConfig, SourceRef]


@dataclass(frozen=True)
class Verdict:
    """One line of `explain`: a candidate and what happened to it."""

    profile: Profile
    kept: bool
    reason: str
    availability: Availability | None = None


@dataclass(frozen=True)
class Decision:
    """Everything the renderers need about one service, and how it was decided."""

    service: AIMService
    source: SourceRef
    profile: Profile
    runtime_config: RuntimeConfigSpec
    runtime_config_name: str
    trace: tuple[Verdict, ...] = ()
    why: str = ""
    runtime_config_layers: tuple[RuntimeConfigLayer, ...] = ()  # cluster, then namespace: what was merged

    def runtime_config_at(self, *path: str) -> SourceRef | None:
        """Where the merged runtime config's `spec.<path>` comes from: the last layer that sets it."""
        for config, source in reversed(self.runtime_config_layers):
            value: Any = config.spec.model_dump(exclude_unset=True)
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            if value is not None:
                return source.at("spec", *path)
        return None

    @property
    def namespace(self) -> str:
        return self.service.metadata.namespace

    @property
    def name(self) -> str:
        return self.service.metadata.name

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Resolution:
    decision: Decision | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    trace: list[Verdict] = field(default_factory=list)


def resolve_service(service: AIMService, source: SourceRef, catalog: Catalog, inventory: Inventory) -> Resolution:
    """Pick the profile of one service and merge its runtime config; errors are located diagnostics."""
    out = Resolution(None)
    subject = f"{service.metadata.namespace}/{service.metadata.name}"
    runtime_config, rc_name, rc_diags = merged_runtime_config(service, source, catalog)
    out.diagnostics += rc_diags
    candidates, model_diags = model_candidates(service, source, catalog)
    out.diagnostics += model_diags
    if model_diags or candidates is None:
        return _with_subject(out, subject)
    template = service.spec.template
    if template and template.name:
        profile = _explicit(service, source, catalog, inventory, candidates, out)
        why = f"named by spec.template.name ({profile.ref})" if profile else ""
    else:
        profile, why = _automatic(service, source, inventory, candidates, out)
    if profile is None or rc_diags:
        return _with_subject(out, subject)
    if profile.image is None:
        out.diagnostics.append(_orphan(profile))
        return _with_subject(out, subject)
    if profile.base:
        why += f"; engine configuration extends the primary profile {profile.base}"
    out.diagnostics += _optimization_level(service, source, profile, out.trace)
    out.decision = Decision(
        service,
        source,
        profile,
        runtime_config,
        rc_name,
        tuple(out.trace),
        why,
        runtime_config_layers(service, catalog),
    )
    return _with_subject(out, subject)


def _with_subject(res: Resolution, subject: str) -> Resolution:
    res.diagnostics = [
        Diagnostic(d.severity, d.code, d.message, d.location, d.subject or subject) for d in res.diagnostics
    ]
    return res


# --- 1. model ----------------------------------------------------------------------------------------------


def model_candidates(
    service: AIMService, source: SourceRef, catalog: Catalog
) -> tuple[list[Profile] | None, list[Diagnostic]]:
    """The profiles and templates that serve the service's model (SPEC §5.1)."""
    namespace = service.metadata.namespace
    model = service.spec.model
    if model.name is not None:
        found = catalog.lookup_model(namespace, model.name)
        if found is None:
            return None, [
                error(
                    "ModelNotFound",
                    f'model "{model.name}" not found in namespace {namespace} or cluster scope',
                    source.at("spec", "model", "name"),
                )
            ]
        image = found[0].spec.image
        visible = catalog.visible_profiles(namespace)
        return [p for p in visible if p.model_name == model.name or (p.model_name is None and p.image == image)], []
    if model.image is not None:
        matches = catalog.image_profiles(namespace, model.image)
        models = [m for m, _ in catalog.cluster_models.values()] + [
            m for (ns, _), (m, _) in catalog.namespace_models.items() if ns == namespace  # never another tenant's
        ]
        known = matches or any(m.spec.image == model.image for m in models)
        if not known:
            return None, [
                error(
                    "ModelNotFound",
                    f"no profile, template or model in the catalog uses image "
                    f'"{model.image}"; aimgen cannot run image discovery, so add an AIMClusterProfile '
                    "for it",
                    source.at("spec", "model", "image"),
                )
            ]
        return matches, []
    assert model.custom is not None
    return catalog.custom_model_profiles(model.custom, namespace, source.at("spec", "model", "custom")), []


def _model_ref(service: AIMService) -> tuple[str, str]:
    """How messages name the service's model, and which field of spec.model says it."""
    model = service.spec.model
    if model.name or model.image:
        return (model.name or model.image or ""), ("name" if model.name else "image")
    assert model.custom is not None
    sources = model.custom.modelSources
    return (sources[0].modelId if sources else model.custom.baseImage), "custom"


# --- 2. explicit reference ------------------------------------------------------------------------------------


def _explicit(
    service: AIMService,
    source: SourceRef,
    catalog: Catalog,
    inventory: Inventory,
    candidates: list[Profile],
    out: Resolution,
) -> Profile | None:
    name = service.spec.template.name if service.spec.template else None
    assert name
    where = source.at("spec", "template", "name")
    # spec.model.custom: the template the operator would generate is a candidate without a catalog entry
    profile = catalog.lookup_profile(service.metadata.namespace, name) or next(
        (p for p in candidates if p.name == name), None)
    if profile is None:
        out.diagnostics.append(
            error(
                "TemplateNotFound",
                f'template "{name}" not found: no AIMProfile or '
                f"AIMServiceTemplate in namespace {service.metadata.namespace} and no "
                "AIMClusterProfile or AIMClusterServiceTemplate has that name",
                where,
            )
        )
        return None
    if profile.image is None:
        out.diagnostics.append(_orphan(profile))
        return None
    if profile not in candidates:
        served = _model_ref(service)[0]
        out.diagnostics.append(
            error(
                "TemplateModelMismatch",
                f"{profile.ref} does not serve model {served!r} "
                f"(it runs image {profile.image!r}"
                + (f" of model {profile.model_name!r})" if profile.model_name else ")"),
                where,
            )
        )
        return None
    avail = availability(profile, inventory)
    out.trace.append(Verdict(profile, avail.ready, "named by spec.template.name", avail))
    if not avail.ready:
        out.diagnostics.append(
            error("TemplateNotReady", f"{profile.ref} is not available (no matching hardware): {avail.reason}", where)
        )
        return None
    return profile


def _orphan(profile: Profile) -> Diagnostic:
    return error(
        "ModelNotFound",
        f'{profile.ref} belongs to model "{profile.model_name}", which is not defined '
        "(no AIMModel in its namespace and no AIMClusterModel)",
        profile.source.at("spec", "modelName"),
    )


# --- 3. automatic selection --------------------------------------------------------------------------------------


def _automatic(
    service: AIMService, source: SourceRef, inventory: Inventory, candidates: list[Profile], out: Resolution
) -> tuple[Profile | None, str]:
    model_ref, field_name = _model_ref(service)
    where = source.at("spec", "model", field_name)
    if not candidates:
        out.diagnostics.append(
            error("TemplateNotFound", f'no profiles or templates found for model "{model_ref}"', where)
        )
        return None, ""
    overrides = service.spec.overrides
    metric = overrides.metric if overrides else None
    precision = overrides.precision if overrides and overrides.precision != "auto" else None
    gpu = overrides.hardware.gpu if overrides and overrides.hardware else None

    remaining: list[Profile] = []
    for p in candidates:
        reason = _override_mismatch(p, metric, precision, gpu)
        if reason:
            out.trace.append(Verdict(p, False, reason))
        else:
            remaining.append(p)
    if not remaining:
        return _none_left(out, where, model_ref, "matches the requested overrides", source.at("spec", "overrides"))

    available: list[Profile] = []
    for p in remaining:
        avail = availability(p, inventory)
        if avail.ready:
            available.append(p)
        else:
            out.trace.append(Verdict(p, False, f"NotAvailable: {avail.reason}", avail))
    if not available:
        return _none_left(out, where, model_ref, "is available on this overlay's hardware")

    if metric is None and precision is None:
        primary = [p for p in available if p.primary]
        for p in available:
            if not p.primary:
                out.trace.append(
                    Verdict(
                        p,
                        False,
                        "not primary (only primary profiles are considered without a requested metric or precision)",
                    )
                )
        if not primary:
            return _none_left(
                out,
                where,
                model_ref,
                "is primary; request a metric or precision in spec.overrides, or name one in spec.template.name,",
            )
        available = primary

    if any(p.namespace for p in available):
        for p in available:
            if not p.namespace:
                out.trace.append(Verdict(p, False, "a namespace-scoped candidate takes precedence"))
        available = [p for p in available if p.namespace]

    best = min(p.rank for p in available)
    winners = [p for p in available if p.rank == best]
    for p in available:
        if p.rank != best:
            out.trace.append(Verdict(p, False, f"outranked ({_rank_text(p)} < {_rank_text(winners[0])})"))
    if len(winners) > 1:
        for p in winners:
            out.trace.append(Verdict(p, False, f"tied ({_rank_text(p)})"))
        names = ", ".join(p.ref for p in winners)
        out.diagnostics.append(
            error(
                "TemplateSelectionAmbiguous",
                f'{len(winners)} profiles satisfy model "{model_ref}" equally ({names}); set spec.template.name or '
                "narrow the choice with spec.overrides (metric, precision, hardware.gpu)",
                where,
            )
        )
        return None, ""
    winner = winners[0]
    out.trace.append(Verdict(winner, True, f"selected: {_rank_text(winner)}"))
    return winner, f"best of {len(available)} eligible candidate(s): {_rank_text(winner)}"


def _override_mismatch(p: Profile, metric: str | None, precision: str | None, gpu: Any) -> str:
    if metric and (p.metric or "").lower() != metric:
        return f"metric {p.metric or 'unset'} != requested {metric}"
    if precision and (p.precision or "").lower() != precision:
        return f"precision {p.precision or 'unset'} != requested {precision}"
    if gpu is not None:
        if gpu.model and p.accelerator_model and p.accelerator_model.upper() != gpu.model.upper():
            return f"accelerator {p.accelerator_model} != requested {gpu.model}"
        if gpu.model and not p.accelerator_model:
            return f"CPU-only, but accelerator {gpu.model} was requested"
        if gpu.requests and p.accelerator_count and p.accelerator_count != gpu.requests:
            return f"{p.accelerator_count} accelerators != requested {gpu.requests}"
    return ""


def _none_left(
    out: Resolution, where: SourceRef, model_ref: str | None, what: str, at: SourceRef | None = None
) -> tuple[None, str]:
    rejected = "; ".join(f"{v.profile.ref}: {v.reason}" for v in out.trace if not v.kept)
    out.diagnostics.append(
        error("TemplateNotFound", f'no profile for model "{model_ref}" {what} ({rejected})', at or where)
    )
    return None, ""


def _rank_text(p: Profile) -> str:
    return f"{p.type}{', primary' if p.primary else ''}"


# --- 4. optimization level -----------------------------------------------------------------------------------------


def _optimization_level(
    service: AIMService, source: SourceRef, profile: Profile, trace: list[Verdict]
) -> list[Diagnostic]:
    allow = bool(service.spec.template and service.spec.template.allowUnoptimized)
    if profile.type == "unoptimized":
        better = sorted(
            {
                v.profile.ref + f" ({v.profile.type}: {v.reason})"
                for v in trace
                if not v.kept and TYPE_RANK[v.profile.type] < TYPE_RANK["unoptimized"]
            }
        )
        shown = "; ".join(better[:3]) + (f"; and {len(better) - 3} more" if len(better) > 3 else "")
        instead = f"; better profiles exist but were not eligible: {shown}" if better else ""
        if not allow:
            return [
                error(
                    "UnoptimizedProfileRequiresAck",
                    f"the selected profile {profile.ref} is unoptimized (may perform significantly worse); set "
                    f"spec.template.allowUnoptimized: true to accept it{instead}",
                    source.at("spec", "model"),
                )
            ]
        return [
            warning(
                "UnoptimizedProfile",
                f"using unoptimized profile {profile.ref} (allowUnoptimized is set){instead}",
                source.at("spec", "template", "allowUnoptimized"),
            )
        ]
    if profile.type in ("preview", "general"):
        named = bool(service.spec.template and service.spec.template.name)
        why = "named by spec.template.name" if named else "no optimized profile matches this service on this overlay"
        where = source.at("spec", "template", "name") if named else source.at("spec", "model")
        return [warning("ProfileNotOptimized", f"using {profile.type} profile {profile.ref}: {why}", where)]
    return []


# --- 5. runtime config ----------------------------------------------------------------------------------------------


def merged_runtime_config(
    service: AIMService, source: SourceRef, catalog: Catalog
) -> tuple[RuntimeConfigSpec, str, list[Diagnostic]]:
    """Namespace AIMRuntimeConfig over AIMClusterRuntimeConfig of the same name, field by field (SPEC §5.5).

    Unlike the operator's mergo merge, an explicit false or 0 in the namespace config does override.
    """
    name = service.spec.runtimeConfigName or "default"
    layers = runtime_config_layers(service, catalog)
    if not layers:
        if service.spec.runtimeConfigName and name != "default":
            return (
                RuntimeConfigSpec(),
                name,
                [
                    error(
                        "ConfigNotFound",
                        f"RuntimeConfig {name} not found (no AIMRuntimeConfig in namespace "
                        f"{service.metadata.namespace} and no AIMClusterRuntimeConfig)",
                        source.at("spec", "runtimeConfigName"),
                    )
                ],
            )
        return RuntimeConfigSpec(), name, []
    merged: dict[str, Any] = {}
    for config, _ in layers:
        merged = merge_runtime_config_dicts(merged, _migrated(config.spec.model_dump(exclude_unset=True)))
    return RuntimeConfigSpec.model_validate(merged, strict=False), name, []


def runtime_config_layers(service: AIMService, catalog: Catalog) -> tuple[RuntimeConfigLayer, ...]:
    """The runtime configs a service's merged config is made of: the cluster one, then the namespace one."""
    name = service.spec.runtimeConfigName or "default"
    found = (
        catalog.cluster_runtime_configs.get(name),
        catalog.namespace_runtime_configs.get((service.metadata.namespace, name)),
    )
    return tuple(layer for layer in found if layer is not None)


def _migrated(spec: dict[str, Any]) -> dict[str, Any]:
    """Deprecated top-level storage fields move into `storage` unless set there (as upstream does)."""
    storage = dict(spec.get("storage") or {})
    for key in ("defaultStorageClassName", "pvcHeadroomPercent"):
        if key in spec:
            storage.setdefault(key, spec.pop(key))
    if storage:
        spec["storage"] = storage
    return spec


