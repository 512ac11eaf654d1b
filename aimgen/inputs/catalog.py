"""Catalog: profiles (v1alpha2) and templates (v1alpha1) seen through one normalized `Profile`, indexed by scope.

A v1alpha1 template becomes a Profile by joining its AIM(Cluster)Model (for the image) and reading the
hardware block; a v1alpha2 profile is self-contained (seed 003). Resolution only ever sees Profiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from aimgen.diagnostics import SourceRef
from aimgen.inputs.custom import custom_model, custom_templates, sources_key
from aimgen.inputs.models import aim
from aimgen.inputs.models.common import EnvVar, ResourceRequirements

TYPE_RANK = {"optimized": 0, "general": 1, "preview": 2, "unoptimized": 3}


@dataclass(frozen=True)
class Profile:
    """A deployable configuration: everything the renderers need, whatever API generation it came from."""

    kind: str
    name: str
    namespace: str | None  # None: cluster-scoped
    source: SourceRef
    aim_id: str | None
    model_id: str | None
    profile_id: str | None
    engine: str
    metric: str | None
    precision: str | None
    type: str
    primary: bool
    accelerator_model: str | None
    accelerator_type: str | None
    accelerator_count: int
    device_resource: str
    resources: ResourceRequirements | None
    image: str | None
    engine_args: dict[str, Any] = field(default_factory=dict)
    engine_env: dict[str, str] = field(default_factory=dict)
    env: tuple[EnvVar, ...] = ()
    model_sources: tuple[aim.ModelSource, ...] = ()
    image_pull_secrets: tuple[str, ...] = ()
    service_account_name: str | None = None
    model_name: str | None = None  # v1alpha1: the AIM(Cluster)Model the template belongs to
    custom: bool = False  # not shipped inside its image: rendered as a ConfigMap (SPEC §3)
    caching_enabled: bool | None = None  # None: not written (caching follows the service's mode)
    custom_weights: bool = False  # its own modelSources on a base image: AIM_MODEL_ID, base configuration
    sources_at: SourceRef | None = None  # where model_sources are written (for diagnostics)
    caching_env: tuple[EnvVar, ...] = ()  # v1alpha1 template caching.env: download-only variables
    base: str | None = None  # ref of the primary profile whose engine configuration this one extends

    @property
    def scope(self) -> str:
        return "Namespace" if self.namespace else "Cluster"

    @property
    def ref(self) -> str:
        """How explain and diagnostics name it: `AIMClusterProfile qwen3-32b-mi300x-lat-fp8`."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @property
    def cpu_only(self) -> bool:
        return not self.accelerator_model and not any(k.startswith("amd.com/") for k in self._requested())

    def _requested(self) -> Iterable[str]:
        if self.resources is None:
            return ()
        return list(self.resources.requests) + list(self.resources.limits)

    @property
    def rank(self) -> tuple[int, int]:
        """Lower is better: profile type first, then primary."""
        return (TYPE_RANK[self.type], 0 if self.primary else 1)

    @property
    def hardware_summary(self) -> str:
        if self.cpu_only:
            return "CPU"
        if self.accelerator_count:
            return f"{self.accelerator_count}x {self.accelerator_model}"
        devices = ", ".join(
            f"{k}={v}" for k, v in sorted((self.resources.requests if self.resources else {}).items())
            if k.startswith("amd.com/")
        )
        return f"{self.accelerator_model} ({devices})" if self.accelerator_model else devices


@dataclass(frozen=True)
class Catalog:
    """Catalog documents visible to one overlay, indexed for resolution."""

    cluster_profiles: dict[str, list[Profile]]  # name -> profiles of that name (v1alpha2 first)
    namespace_profiles: dict[tuple[str, str], list[Profile]]
    cluster_models: dict[str, tuple[aim.AIMClusterModel, SourceRef]]
    namespace_models: dict[tuple[str, str], tuple[aim.AIMModel, SourceRef]]
    cluster_runtime_configs: dict[str, tuple[aim.AIMClusterRuntimeConfig, SourceRef]]
    namespace_runtime_configs: dict[tuple[str, str], tuple[aim.AIMRuntimeConfig, SourceRef]]
    # visible_profiles per namespace, computed once per catalog (every service of a namespace asks again)
    visible: dict[str, list[Profile]] = field(default_factory=dict, compare=False, repr=False)
    by_image: dict[tuple[str, str], list[Profile]] = field(default_factory=dict, compare=False, repr=False)

    def all_profiles(self) -> list[Profile]:
        out = [p for ps in self.cluster_profiles.values() for p in ps]
        out += [p for ps in self.namespace_profiles.values() for p in ps]
        return sorted(out, key=lambda p: (p.namespace or "", p.name, p.kind))

    def visible_profiles(self, namespace: str) -> list[Profile]:
        """Profiles a service in `namespace` may use: its namespace's, then cluster-wide (never another namespace's)."""
        if namespace not in self.visible:
            own = [p for (ns, _), ps in sorted(self.namespace_profiles.items()) if ns == namespace for p in ps]
            self.visible[namespace] = own + [p for _, ps in sorted(self.cluster_profiles.items()) for p in ps]
        return list(self.visible[namespace])

    def image_profiles(self, namespace: str, image: str) -> list[Profile]:
        """visible_profiles(namespace) of that image, in the same order (computed once: services repeat images)."""
        key = (namespace, image)
        if key not in self.by_image:
            self.by_image[key] = [p for p in self.visible_profiles(namespace) if p.image == image]
        return list(self.by_image[key])

    def lookup_profile(self, namespace: str, name: str) -> Profile | None:
        """Explicit reference: a namespace profile/template of that name, else a cluster one (v1alpha2 first)."""
        found = self.namespace_profiles.get((namespace, name)) or self.cluster_profiles.get(name)
        return found[0] if found else None

    def lookup_model(self, namespace: str, name: str) -> tuple[aim.AIMModel | aim.AIMClusterModel, SourceRef] | None:
        return self.namespace_models.get((namespace, name)) or self.cluster_models.get(name)

    def custom_model_profiles(self, custom: aim.CustomModel, namespace: str, at: SourceRef) -> list[Profile]:
        """`spec.model.custom` (written at `at`): like the operator, reuse a namespace AIMModel with the same base
        image and sources; else the namespace's own custom-weight profiles of those sources; else the template
        the operator would generate for a new model."""
        key = sources_key(custom.modelSources)
        visible = self.visible_profiles(namespace)
        for (ns, name), (model, _) in sorted(self.namespace_models.items()):
            if ns == namespace and model.spec.image == custom.baseImage and sources_key(model.spec.modelSources) == key:
                return [p for p in visible if p.model_name == name]
        own = [p for p in visible if p.custom_weights and p.model_name is None and p.image == custom.baseImage
               and sources_key(p.model_sources) == key]
        if own:
            return own
        return [replace(p, source=at, sources_at=at.at("modelSources"))
                for p in model_profiles(custom_model(custom, namespace), at)]


def build_catalog(objects: Iterable[tuple[Any, SourceRef]]) -> Catalog:
    """Index parsed catalog objects; v1alpha1 templates are joined with their models."""
    items = list(objects)
    cluster_models = {o.metadata.name: (o, s) for o, s in items if isinstance(o, aim.AIMClusterModel)}
    namespace_models = {
        (o.metadata.namespace, o.metadata.name): (o, s) for o, s in items if isinstance(o, aim.AIMModel)
    }
    cluster_profiles: dict[str, list[Profile]] = {}
    namespace_profiles: dict[tuple[str, str], list[Profile]] = {}
    profiles = [p for obj, source in items for p in _as_profiles(obj, source, cluster_models, namespace_models)]
    for profile in with_base_configuration(profiles):
        if profile.namespace:
            namespace_profiles.setdefault((profile.namespace, profile.name), []).append(profile)
        else:
            cluster_profiles.setdefault(profile.name, []).append(profile)
    for group in (*cluster_profiles.values(), *namespace_profiles.values()):
        group.sort(key=lambda p: 0 if p.kind.endswith("Profile") else 1)
    return Catalog(
        cluster_profiles=cluster_profiles,
        namespace_profiles=namespace_profiles,
        cluster_models=cluster_models,
        namespace_models=namespace_models,
        cluster_runtime_configs={
            o.metadata.name: (o, s) for o, s in items if isinstance(o, aim.AIMClusterRuntimeConfig)
        },
        namespace_runtime_configs={
            (o.metadata.namespace, o.metadata.name): (o, s) for o, s in items if isinstance(o, aim.AIMRuntimeConfig)
        },
    )


def with_base_configuration(profiles: list[Profile]) -> list[Profile]:
    """Seed 003: custom weights on a base image run with the engine configuration of the primary profile of the
    same aimId and precision (its engineArgs/engineEnv under their own). Candidates are shipped profiles visible
    from the custom one; its namespace's first, then the same accelerator model and count, then by name."""
    bases = [p for p in profiles if p.primary and not p.custom and p.aim_id]
    return [_extended(p, bases) if p.custom_weights and p.aim_id else p for p in profiles]


def _extended(profile: Profile, bases: list[Profile]) -> Profile:
    from aimgen.inputs.merge import deep_merge  # not at the top: render imports resolve, which imports this module

    aim_id = (profile.aim_id or "").lower()
    matches = [b for b in bases if (b.aim_id or "").lower() == aim_id and b.precision == profile.precision
               and b.namespace in (None, profile.namespace)]
    if not matches:
        return profile
    base = min(matches, key=lambda b: (b.namespace is None, b.accelerator_model != profile.accelerator_model,
                                       b.accelerator_count != profile.accelerator_count, b.kind, b.name))
    return replace(profile, engine_args=deep_merge(base.engine_args, profile.engine_args),
                   engine_env={**base.engine_env, **profile.engine_env}, base=base.ref)


def _as_profiles(
    obj: Any,
    source: SourceRef,
    cluster_models: dict[str, tuple[aim.AIMClusterModel, SourceRef]],
    namespace_models: dict[tuple[str, str], tuple[aim.AIMModel, SourceRef]],
) -> list[Profile]:
    if isinstance(obj, aim.AIMClusterProfile | aim.AIMProfile):
        return [profile_from_v1alpha2(obj, source)]
    if isinstance(obj, aim.AIMClusterServiceTemplate | aim.AIMServiceTemplate):
        namespace = getattr(obj.metadata, "namespace", None) if isinstance(obj, aim.AIMServiceTemplate) else None
        model = (namespace_models.get((namespace, obj.spec.modelName)) if namespace else None) or cluster_models.get(
            obj.spec.modelName
        )
        return [profile_from_template(obj, source, namespace, *(model or (None, None)))]
    if isinstance(obj, aim.AIMClusterModel | aim.AIMModel):
        return model_profiles(obj, source)
    return []


def model_profiles(model: aim.AIMModel | aim.AIMClusterModel, source: SourceRef) -> list[Profile]:
    """The templates the model controller would generate for a custom model (customTemplates, modelSources)."""
    namespace = model.metadata.namespace if isinstance(model, aim.AIMModel) else None
    sources_at = source.at("spec", "modelSources")
    return [replace(profile_from_template(t, source.at(*path), namespace, model), sources_at=sources_at)
            for t, path in custom_templates(model)]


def profile_from_v1alpha2(obj: aim.AIMClusterProfile | aim.AIMProfile, source: SourceRef) -> Profile:
    spec = obj.spec
    caching = _explicit_enabled(spec.caching if isinstance(spec, aim.ProfileSpec) else None)
    count = spec.acceleratorCount if spec.acceleratorCount is not None else (1 if spec.acceleratorModel else 0)
    return Profile(
        kind=obj.kind,
        name=obj.metadata.name,
        namespace=obj.metadata.namespace if isinstance(obj, aim.AIMProfile) else None,
        source=source,
        aim_id=spec.aimId,
        model_id=spec.modelId,
        profile_id=spec.profileId,
        engine=spec.engine,
        metric=spec.metric,
        precision=spec.precision,
        type=spec.type,
        primary=spec.primary,
        accelerator_model=spec.acceleratorModel,
        accelerator_type=spec.acceleratorType or ("gpu" if spec.acceleratorModel else None),
        accelerator_count=count,
        device_resource="amd.com/gpu",
        resources=spec.resources,
        image=spec.image,
        engine_args=dict(spec.engineArgs),
        engine_env=dict(spec.engineEnv),
        env=tuple(spec.env),
        model_sources=tuple(spec.modelSources),
        image_pull_secrets=tuple(s.name for s in spec.imagePullSecrets if s.name),
        service_account_name=spec.serviceAccountName,
        custom=spec.profileId is None,
        caching_enabled=caching,
        custom_weights=spec.profileId is None and bool(spec.modelSources),
        sources_at=source.at("spec", "modelSources"),
    )


def _explicit_enabled(caching: aim.ProfileCaching | aim.TemplateCaching | None) -> bool | None:
    """`caching.enabled` only counts when written: `caching: {env: [...]}` must not turn caching off."""
    return caching.enabled if caching is not None and "enabled" in caching.model_fields_set else None


def _status_sources(status: dict[str, Any] | None) -> tuple[aim.ModelSource, ...]:
    """Sources discovery recorded in a template's status (what the operator caches); unreadable ones are skipped."""
    out = []
    for entry in (status or {}).get("modelSources") or []:
        try:
            out.append(aim.ModelSource.model_validate(entry))
        except ValidationError:
            continue
    return tuple(out)


def profile_from_template(
    obj: aim.AIMClusterServiceTemplate | aim.AIMServiceTemplate,
    source: SourceRef,
    namespace: str | None,
    model: aim.AIMModel | aim.AIMClusterModel | None,
    model_source: SourceRef | None = None,
) -> Profile:
    """`model_source` is where `model` is defined, when the template's sources are the model's."""
    spec = obj.spec
    status_meta = ((obj.status or {}).get("profile") or {}).get("metadata") or {}
    gpu = spec.hardware.gpu if spec.hardware else None
    cpu = spec.hardware.cpu if spec.hardware else None
    resources = spec.resources
    if cpu is not None:  # the model controller writes hardware.cpu into resources (aim-operator-behavior §1.7)
        requests = {"cpu": cpu.requests, **(resources.requests if resources else {})}
        limits = {**({"cpu": cpu.limits} if cpu.limits is not None else {}), **(resources.limits if resources else {})}
        resources = ResourceRequirements(requests=requests, limits=limits)
    accelerator_model = (gpu.model if gpu else None) or status_meta.get("gpu") or None
    count = gpu.requests if gpu and gpu.requests is not None else (1 if accelerator_model else 0)
    template_caching = spec.caching if isinstance(spec, aim.TemplateSpec) else None
    custom = spec.customProfile
    sources, sources_at = tuple(spec.modelSources), source.at("spec", "modelSources")
    if not sources and model is not None and model.spec.modelSources:
        sources, sources_at = tuple(model.spec.modelSources), (model_source or source).at("spec", "modelSources")
    elif not sources:
        sources, sources_at = _status_sources(obj.status), source.at("status", "modelSources")
    return Profile(
        kind=obj.kind,
        name=obj.metadata.name,
        namespace=namespace,
        source=source,
        aim_id=spec.aimId,
        model_id=spec.modelId or (spec.modelSources[0].modelId if spec.modelSources else None),
        profile_id=spec.profileId,
        engine="vllm",
        metric=spec.metric or status_meta.get("metric"),
        precision=spec.precision or status_meta.get("precision"),
        type=spec.type or status_meta.get("type") or "unoptimized",
        primary=True,  # v1alpha1 has no primary flag: every template is a recommended deployment of its model
        accelerator_model=accelerator_model,
        accelerator_type="gpu" if accelerator_model else None,
        accelerator_count=count,
        device_resource=gpu.resourceName if gpu else "amd.com/gpu",
        resources=resources,
        image=model.spec.image if model else None,
        engine_args=dict(custom.engineArgs) if custom else {},
        engine_env=dict(custom.envVars) if custom else {},
        env=tuple(spec.env),
        model_sources=sources,
        image_pull_secrets=tuple(
            s.name for s in [*spec.imagePullSecrets, *(model.spec.imagePullSecrets if model else [])] if s.name
        ),
        service_account_name=spec.serviceAccountName or (model.spec.serviceAccountName if model else None),
        model_name=spec.modelName,
        custom=custom is not None,
        caching_enabled=_explicit_enabled(template_caching),
        custom_weights=bool(spec.modelSources),
        sources_at=sources_at,
        caching_env=tuple(template_caching.env) if template_caching else (),
    )
