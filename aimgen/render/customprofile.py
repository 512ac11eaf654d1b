"""Custom profiles (SPEC §3) and custom weights (seed 003): what a profile not shipped in its image needs.

A custom profile (a v1alpha1 template `customProfile`, an AIMModel `customTemplates` entry, a v1alpha2
profile without `profileId`) travels as a ConfigMap holding the profile YAML in the AIM runtime's schema.
The runtime searches /workspace/aim-runtime/profiles/custom/ before its built-in profiles and selects
the file named by AIM_PROFILE_ID = custom/<aimId>/<file name without .yaml> (aim-build
docs/custom_profiles.md); upstream aim-engine mounts the ConfigMap at custom/<aimId> and sets AIM_ID and
AIM_PROFILE_ID the same way, which is what is done here.

One ConfigMap per service, named like upstream's ServiceCustomProfileConfigMapName: it carries the
service's labels (seed 001 finds it with `-l aim.eai.amd.com/service.name=<svc>`) and leaves Git with the
service. Profile changes still roll the pods: engine arguments and engine env are on the container too.

A profile with custom weights (its own `modelSources` on a base image) gets AIM_MODEL_ID =
modelSources[0].modelId, as the operator sets it for templates with inline sources.
"""

from __future__ import annotations

import re
from typing import Any

from aimgen.diagnostics import SourceRef, error
from aimgen.inputs.catalog import Profile
from aimgen.kube.names import derived_name_of, sanitize_label_value
from aimgen.kube.yamlout import dump_yaml
from aimgen.render.context import ServiceContext
from aimgen.render.inferenceservice import PodAdditions
from aimgen.render.manifest import Manifest
from aimgen.render.part import Part

MOUNT_BASE = "/workspace/aim-runtime/profiles/custom"
VOLUME = "custom-profile"
MAX_CONFIGMAP_BYTES = 1 << 20  # the API server refuses ConfigMaps whose data exceeds 1 MiB
AIM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
_NOT_KEY = re.compile(r"[^a-z0-9._-]+")


def configmap_name(service: str) -> str:
    """`<service>-custom-profile-<hash8>` (upstream ServiceCustomProfileConfigMapName)."""
    return derived_name_of([service, "custom-profile"], (service, "service-custom-profile"))


def profile_aim_id(profile: Profile) -> str | None:
    """The directory the runtime looks in: aimId, else the model id, else the first source's model id."""
    sources = profile.model_sources
    return profile.aim_id or profile.model_id or (sources[0].modelId if sources else None)


def profile_file_name(profile: Profile) -> str:
    """The AIM convention `<engine>-<accelerator>-<precision>-tp<count>-<metric>.yaml` (unset parts left out)."""
    accelerator = _NOT_KEY.sub("-", (profile.accelerator_model or "none").lower()).strip("-")
    parts = [profile.engine, accelerator, profile.precision, f"tp{profile.accelerator_count}", profile.metric]
    return "-".join(p for p in parts if p) + ".yaml"


def profile_document(profile: Profile, aim_id: str) -> dict[str, Any]:
    """The profile in the runtime's ProfileData schema; metadata under both the gpu and accelerator names
    (runtimes up to aim-base 0.11 require gpu/gpu_count, newer ones read accelerator_*), values keep their types."""
    sources = profile.model_sources
    accelerator_type = profile.accelerator_type or ("cpu" if profile.cpu_only else "gpu")
    return {
        "aim_id": aim_id,
        "model_id": profile.model_id or (sources[0].modelId if sources else aim_id),
        "metadata": {
            "engine": profile.engine,
            "gpu": profile.accelerator_model or "",
            "gpu_count": profile.accelerator_count,
            "accelerator_model": profile.accelerator_model or "",
            "accelerator_type": accelerator_type,
            "accelerator_count": profile.accelerator_count,
            "manual_selection_only": False,
            "metric": profile.metric or "",
            "precision": profile.precision or "",
            "type": profile.type,
        },
        "engine_args": dict(sorted(profile.engine_args.items())),
        "env_vars": dict(sorted(profile.engine_env.items())),
    }


def render_custom_profile(ctx: ServiceContext) -> Part:
    """The ConfigMap, volume, mount and AIM_ID/AIM_PROFILE_ID of a custom profile; AIM_MODEL_ID of custom weights."""
    profile = ctx.decision.profile
    env = [{"name": "AIM_MODEL_ID", "value": profile.model_sources[0].modelId}] if (
        profile.custom_weights and profile.model_sources) else []
    if not profile.custom:
        return Part(additions=PodAdditions(env=env))
    aim_id = profile_aim_id(profile)
    problem = _aim_id_problem(aim_id)
    if problem:
        return Part(diagnostics=[error("InvalidAimId", f"custom profile {profile.ref}: {problem}",
                                       profile.source.at("spec", "aimId"))])
    assert aim_id is not None
    file_name = profile_file_name(profile)
    text = dump_yaml(profile_document(profile, aim_id))
    size = len(text.encode()) + len(file_name)
    if size > MAX_CONFIGMAP_BYTES:
        return Part(diagnostics=[error(
            "ConfigMapTooLarge", f"the custom profile {profile.ref} takes {size} bytes, over the 1 MiB ConfigMap "
            "limit (1048576 bytes); shorten its engine arguments or engine env", _tuning_at(profile))])
    name = configmap_name(ctx.name)
    labels = {**ctx.labels, "app.kubernetes.io/component": "custom-profile",
              "aim.eai.amd.com/template": sanitize_label_value(profile.name)}
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ctx.namespace, "labels": dict(sorted(labels.items()))},
        "data": {file_name: text},
    }
    env += [{"name": "AIM_ID", "value": aim_id},
            {"name": "AIM_PROFILE_ID", "value": f"custom/{aim_id}/{file_name.removesuffix('.yaml')}"}]
    additions = PodAdditions(
        env=env,
        volumes=[{"configMap": {"name": name}, "name": VOLUME}],
        mounts=[{"mountPath": f"{MOUNT_BASE}/{aim_id}", "name": VOLUME, "readOnly": True}],
    )
    return Part([Manifest(configmap, ctx.key, profile.source)], additions)


def _aim_id_problem(aim_id: str | None) -> str:
    if not aim_id:
        return "set spec.aimId (or modelId): the runtime finds custom profiles under custom/<aimId>/"
    if not AIM_ID.match(aim_id) or ".." in aim_id:
        return f"aimId {aim_id!r} must be a relative path like org/model (letters, digits, '.', '_', '-')"
    return ""


def _tuning_at(profile: Profile) -> SourceRef:
    field = "engineArgs" if profile.kind.endswith("Profile") else "customProfile"
    return profile.source.at("spec", field)
