"""Templates the operator's model controller generates for custom models, generated ahead of time.

An AIMModel with `customTemplates` gets one AIMServiceTemplate per entry; an AIMModel with
`modelSources` but no entries gets a single one; an AIMService with `spec.model.custom` gets an
AIMModel of its own and that single template. Names and contents follow aim-engine
internal/aimmodel/template.go (generateCustomTemplateName, buildCustomServiceTemplate) and
internal/aimservice/model_matching.go, checked against reference/vectors/derived_names.yaml.
"""

from __future__ import annotations

from typing import Any

from aimgen.inputs.models import aim
from aimgen.kube.names import derived_name_of

Model = aim.AIMModel | aim.AIMClusterModel
Template = aim.AIMServiceTemplate | aim.AIMClusterServiceTemplate
YamlPath = tuple[str | int, ...]

ENDPOINT_ENV = "AWS_ENDPOINT_URL"  # the only source env that changes what a source points at


def custom_template_name(model_name: str, entry: aim.CustomTemplate | None, index: int) -> str:
    """`<model>-custom[-<name>][-<precision>][-<gpu>]-<hash8>`, hashing model, index and the entry's identity."""
    parts = [model_name, "custom"]
    hashed: list[Any] = [model_name, index]
    if entry is not None:
        profile, gpu = entry.profile, entry.hardware.gpu if entry.hardware else None
        parts += [p for p in (entry.name, profile.precision if profile else None, gpu.model if gpu else None) if p]
        hashed.append(entry.name or "")
        if profile is not None:
            hashed += [profile.precision or "", profile.metric or ""]
        if gpu is not None:
            hashed += [gpu.requests or 0, gpu.model or ""]
    return derived_name_of(parts, tuple(hashed))


def custom_templates(model: Model) -> list[tuple[Template, YamlPath]]:
    """The templates the model controller creates for a custom model, each with where it is defined."""
    spec = model.spec
    if spec.customTemplates:
        return [(_template(model, entry, i), ("spec", "customTemplates", i))
                for i, entry in enumerate(spec.customTemplates)]
    if spec.modelSources:
        return [(_template(model, None, 0), ("spec", "modelSources"))]
    return []


def _template(model: Model, entry: aim.CustomTemplate | None, index: int) -> Template:
    spec = model.spec
    custom = spec.custom
    hardware = _merge_hardware(custom.hardware if custom else None, entry.hardware if entry else None)
    explicit_type = entry.type if entry is not None and "type" in entry.model_fields_set else None
    body: dict[str, Any] = {
        "modelName": model.metadata.name,
        "type": explicit_type or (custom.type if custom else None) or "unoptimized",
        "modelSources": [s.model_dump(exclude_none=True) for s in spec.modelSources],
        "imagePullSecrets": [s.model_dump() for s in spec.imagePullSecrets],
        "env": [e.model_dump(exclude_none=True) for e in _merge_env(spec.env, entry.env if entry else [])],
    }
    if spec.serviceAccountName:
        body["serviceAccountName"] = spec.serviceAccountName
    if hardware is not None:
        body["hardware"] = hardware.model_dump(exclude_none=True)
    if entry is not None:
        body.update({k: v for k, v in (("aimId", entry.aimId), ("modelId", entry.modelId)) if v})
        if entry.profile is not None:
            body.update(entry.profile.model_dump(exclude_none=True))
        # SPEC §3: every customTemplates entry is a custom profile (rendered as a ConfigMap), tuned or not.
        body["customProfile"] = (entry.customProfile or aim.CustomProfile()).model_dump()
    name = custom_template_name(model.metadata.name, entry, index)
    if isinstance(model, aim.AIMModel):
        return aim.AIMServiceTemplate.model_validate({
            "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMServiceTemplate",
            "metadata": {"name": name, "namespace": model.metadata.namespace}, "spec": body})
    return aim.AIMClusterServiceTemplate.model_validate({
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterServiceTemplate",
        "metadata": {"name": name}, "spec": body})


def _merge_hardware(base: aim.Hardware | None, over: aim.Hardware | None) -> aim.Hardware | None:
    """The entry's gpu/cpu blocks replace the model's `custom.hardware` ones (MergeHardware)."""
    if base is None or over is None:
        return over or base
    return aim.Hardware(gpu=over.gpu or base.gpu, cpu=over.cpu or base.cpu)


def _merge_env(base: list[Any], over: list[Any]) -> list[Any]:
    merged = {e.name: e for e in base}
    merged.update({e.name: e for e in over})
    return list(merged.values())


def sources_key(sources: list[aim.ModelSource] | tuple[aim.ModelSource, ...]) -> list[Any]:
    """What makes two source lists the same model: id, URI and S3 endpoint of each (model_matching.go)."""
    key: list[Any] = []
    for source in sources:
        key += [source.modelId, source.sourceUri]
        key += [e.value for e in source.env if e.name == ENDPOINT_ENV and e.value]
    return key


def custom_model(custom: aim.CustomModel, namespace: str) -> aim.AIMModel:
    """The AIMModel the service controller creates for `spec.model.custom`."""
    parts = [custom.modelSources[0].modelId] if custom.modelSources else ["custom-model"]
    name = derived_name_of(parts, (custom.baseImage, *sources_key(custom.modelSources)))
    spec: dict[str, Any] = {
        "image": custom.baseImage,
        "modelSources": [s.model_dump(exclude_none=True) for s in custom.modelSources],
        "custom": {"hardware": custom.hardware.model_dump(exclude_none=True),
                   **({"type": custom.type} if custom.type else {})},
    }
    return aim.AIMModel.model_validate({
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMModel",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec})
