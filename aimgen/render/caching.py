"""Model caches as Git objects (seed 001 "Model Caching"; aim-operator-behavior.md §4, §9).

No operator runs, so aimgen emits what its template-cache and artifact controllers would create: for each
model source of the selected profile a ReadWriteMany PersistentVolumeClaim and a download Job, and the
claim mounted into the predictor at /workspace/cache/<modelId> (render/env.py always sets
AIM_CACHE_PATH=/workspace/cache). A profile without `modelSources` gets no cache; one that writes
`caching.enabled: false` (AIMProfile, AIMServiceTemplate) neither: its runtime downloads at start-up.
The service cannot turn caching off, as upstream: `spec.cacheModel` is deprecated and ignored.

Sharing. `caching.mode` Shared (default; legacy Auto, Always) keys a cache by namespace and source: the
artifact name hashes the source URI, its download variables and storage class like the operator's
AIMArtifact name, and all services of a namespace that agree on those render byte-identical objects, which
the build writes once and keeps while any service uses them. They carry no service labels, since they
belong to no single service. Dedicated (legacy Never) adds the service to the hash and its labels: a claim
of its own, pruned with it. The volume name in the InferenceService is the artifact name, as upstream.

Ordering in Argo CD. Claim and Job are in sync wave -2, before the InferenceService (wave 0). Argo CD moves
to the next wave only when the Job has completed, so the InferenceService is applied once the weights are
on the claim: the operator's "no InferenceService before the cache is Ready". Claim and Job share a wave
because a claim of a WaitForFirstConsumer storage class stays Pending until the Job's pod mounts it. Sync
waves rather than hooks: a PreSync hook would run before the claim exists, and again on every sync.

Immutability. A Job's pod template cannot be updated, so the Job's name ends in a hash of its spec: any
change (image, source, variables, claim) creates a new Job, which downloads into the claim again, and Argo
CD prunes the old one. No ttlSecondsAfterFinished: a Job deleted by its TTL would be re-created (and
download again) on the next sync. A claim cannot shrink or change storage class in place, so its name
hashes its spec the same way.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from aimgen.diagnostics import Diagnostic, SourceRef, warning
from aimgen.inputs.models.aim import ModelSource
from aimgen.inputs.models.common import EnvVar
from aimgen.kube.names import derived_name_of
from aimgen.kube.quantity import parse_quantity
from aimgen.render.context import ServiceContext
from aimgen.render.env import merge_env
from aimgen.render.inferenceservice import PodAdditions
from aimgen.render.manifest import MANAGED_BY, MANAGED_BY_VALUE, SYNC_WAVE, Manifest
from aimgen.render.part import Part

CACHE_ROOT = "/workspace/cache"
CACHE_SYNC_WAVE = "-2"
JOB_MOUNT = "/cache"
ARTIFACT_LABEL = "aim.eai.amd.com/artifact"
MODE_LABEL = "aim.eai.amd.com/cache.mode"
COMPONENT = "app.kubernetes.io/component"
LEGACY_MODES = {"Auto": "Shared", "Always": "Shared", "Never": "Dedicated"}
GIB = 2**30
DOWNLOADER_UID = 1000  # the downloader runs as KServe's storage-initializer user (aim-engine download.go)
JOB_LAYOUT = {"HF_HOME": "/tmp/.hf", "MOUNT_PATH": JOB_MOUNT, "TARGET_DIR": JOB_MOUNT, "TMPDIR": "/tmp/"}

# Variables of the runtime config, profile and service that reach the download Job (never over the Job's own
# layout variables); the source's own env and a template's caching.env are meant for the download and pass
# whole. Anything else stays off the Job, so it cannot split a shared cache.
DOWNLOAD_VARIABLE = re.compile(r"^(HF_|HUGGING_FACE_|AWS_|S3_|AIM_HF_|AIM_DOWNLOADER_)|^(HTTPS?_PROXY|NO_PROXY)$",
                               re.IGNORECASE)


@dataclass(frozen=True)
class Cache:
    """One model source's cache for one service, and the objects that make it."""

    artifact: str  # the operator's AIMArtifact name: volume name in the InferenceService
    claim: dict[str, Any]
    job: dict[str, Any]
    mount_path: str
    shared: bool


def caching_mode(ctx: ServiceContext) -> str:
    caching = ctx.decision.service.spec.caching
    mode = caching.mode if caching else "Shared"
    return LEGACY_MODES.get(mode, mode)


def render_caches(ctx: ServiceContext) -> Part:
    """Claims and download Jobs of the selected profile's sources, and their mounts in the predictor."""
    profile = ctx.decision.profile
    diagnostics = _deprecations(ctx)
    if not profile.model_sources or profile.caching_enabled is False:
        return Part(diagnostics=diagnostics)
    manifests: list[Manifest] = []
    additions = PodAdditions()
    seen: set[str] = set()
    for i, source in enumerate(profile.model_sources):
        at = profile.sources_at.at(i) if profile.sources_at else profile.source
        size, size_diags = _size(ctx, source, at)
        cache = build_cache(ctx, source, size)
        diagnostics += size_diags
        if cache.artifact in seen:
            continue
        seen.add(cache.artifact)
        owner = "" if cache.shared else ctx.key
        manifests += [Manifest(cache.claim, owner, at), Manifest(cache.job, owner, at)]
        additions = additions + PodAdditions(
            volumes=[{"name": cache.artifact, "persistentVolumeClaim": {"claimName": cache.claim["metadata"]["name"]}}],
            mounts=[{"mountPath": cache.mount_path, "name": cache.artifact}],
        )
    return Part(manifests, additions, diagnostics)


def build_cache(ctx: ServiceContext, source: ModelSource, size: Fraction | None) -> Cache:
    """The claim and Job of one source; `size` in bytes (None: the overlay's default size)."""
    shared = caching_mode(ctx) == "Shared"
    variables = download_variables(ctx, source)
    storage_class = _storage_class(ctx)
    artifact = artifact_name(source.sourceUri, variables, storage_class or "", None if shared else ctx.name)
    labels = {MANAGED_BY: MANAGED_BY_VALUE} if shared else dict(ctx.labels)
    labels |= {ARTIFACT_LABEL: artifact, MODE_LABEL: "Shared" if shared else "Dedicated"}
    bytes_ = size if size is not None else parse_quantity(ctx.settings.caching.defaultSize)
    storage = f"{claim_gibibytes(bytes_, _headroom(ctx))}Gi"
    claim_spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": storage}}}
    if storage_class:
        claim_spec["storageClassName"] = storage_class
    annotations = {"aim.eai.amd.com/model-id": source.modelId, "aim.eai.amd.com/source-uri": source.sourceUri,
                   SYNC_WAVE: CACHE_SYNC_WAVE}
    base = source.sourceUri.replace(".", "-")
    claim = _object("v1", "PersistentVolumeClaim", _content_name(base, "cache", artifact, annotations, claim_spec),
                    ctx.namespace, {**labels, COMPONENT: "model-cache"}, annotations, claim_spec)
    job_spec = _job_spec(ctx, source, artifact, claim["metadata"]["name"], variables, size)
    job_annotations = {SYNC_WAVE: CACHE_SYNC_WAVE}
    job = _object("batch/v1", "Job", _content_name(base, "download", artifact, job_annotations, job_spec),
                  ctx.namespace, {**labels, COMPONENT: "model-download"}, job_annotations, job_spec)
    return Cache(artifact, claim, job, cache_mount_path(source.modelId), shared)


def artifact_name(uri: str, variables: list[dict[str, Any]], storage_class: str, service: str | None) -> str:
    """The operator's AIMArtifact name: `<uri, '.'->'-', sanitized>-<10 hex of (uri, env, class[, dedicated])>`."""
    hashed: tuple[object, ...] = (uri, variables or None, storage_class)
    if service is not None:
        hashed += ("dedicated", service)
    return derived_name_of([uri.replace(".", "-")], hashed, hash_length=10)


def cache_mount_path(model_id: str) -> str:
    """Where the predictor finds a source: /workspace/cache/<modelId> (operator: '..' removed, path joined)."""
    return posixpath.join(CACHE_ROOT, model_id.replace("..", ""))


def claim_gibibytes(size: Fraction, headroom_percent: int) -> int:
    """ceil(size * (1 + headroom/100)) in whole Gi (the artifact controller's PVC sizing)."""
    return max(1, math.ceil(Fraction(size) * (100 + headroom_percent) / 100 / GIB))


def download_variables(ctx: ServiceContext, source: ModelSource) -> list[dict[str, Any]]:
    """Credentials and endpoints for the download, by precedence: runtime config < profile < the template's
    caching.env < service < source (as the operator layers them onto the artifact)."""
    decision = ctx.decision
    profile = decision.profile

    def picked(env: Any) -> list[dict[str, Any]]:
        return [e.to_manifest() for e in env if DOWNLOAD_VARIABLE.search(e.name) and e.name not in JOB_LAYOUT]

    return merge_env([picked(decision.runtime_config.env or []), picked(profile.env),
                      _all(profile.caching_env), picked(decision.service.spec.env), _all(source.env)])


def _all(env: tuple[EnvVar, ...] | list[EnvVar]) -> list[dict[str, Any]]:
    return [e.to_manifest() for e in env]


def _job_spec(ctx: ServiceContext, source: ModelSource, artifact: str, claim: str,
              variables: list[dict[str, Any]], size: Fraction | None) -> dict[str, Any]:
    """The download Job of aim-engine's artifact controller, without its status reporting (no AIMArtifact)."""
    defaults = [
        {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "XET,HF_TRANSFER"},
        {"name": "EXPECTED_SIZE_BYTES", "value": str(math.ceil(size) if size is not None else 0)},
        {"name": "STALL_TIMEOUT", "value": "120"},
        *({"name": name, "value": value} for name, value in JOB_LAYOUT.items()),
    ]
    return {
        "backoffLimit": 2,
        "template": {
            "metadata": {"labels": {ARTIFACT_LABEL: artifact, COMPONENT: "model-download",
                                    MANAGED_BY: MANAGED_BY_VALUE}},
            "spec": {
                "containers": [{
                    "args": [source.sourceUri],
                    "env": merge_env([defaults, variables]),
                    "image": ctx.settings.caching.downloadImage,
                    "imagePullPolicy": "IfNotPresent",
                    "name": "model-download",
                    "securityContext": {"runAsGroup": DOWNLOADER_UID, "runAsUser": DOWNLOADER_UID},
                    "volumeMounts": [{"mountPath": JOB_MOUNT, "name": "cache"}],
                }],
                "restartPolicy": "Never",
                "securityContext": {"fsGroup": DOWNLOADER_UID, "runAsGroup": DOWNLOADER_UID, "runAsNonRoot": True,
                                    "runAsUser": DOWNLOADER_UID},
                "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": claim}}],
            },
        },
    }


def _content_name(base: str, suffix: str, artifact: str, annotations: dict[str, str], spec: dict[str, Any]) -> str:
    """`<source>-<suffix>-<hash8 of artifact, annotations, spec>`: whatever cannot change in place renames the
    object (labels can, so they are left out)."""
    return derived_name_of([base, suffix], (artifact, annotations, spec))


def _object(api_version: str, kind: str, name: str, namespace: str, labels: dict[str, str],
            annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(sorted(labels.items())),
            "annotations": dict(sorted(annotations.items())),
        },
        "spec": spec,
    }


def _storage_class(ctx: ServiceContext) -> str | None:
    """The service's storage.defaultStorageClassName, else the runtime config's, else the overlay's."""
    own, config = ctx.decision.service.spec.storage, ctx.decision.runtime_config.storage
    for storage in (own, config):
        if storage is not None and storage.defaultStorageClassName:
            return storage.defaultStorageClassName
    return ctx.settings.caching.storageClassName


def _headroom(ctx: ServiceContext) -> int:
    """The service's storage.pvcHeadroomPercent, else the runtime config's, else the overlay's (default 10)."""
    own, config = ctx.decision.service.spec.storage, ctx.decision.runtime_config.storage
    for storage in (own, config):
        if storage is not None and storage.pvcHeadroomPercent is not None:
            return storage.pvcHeadroomPercent
    return ctx.settings.caching.pvcHeadroomPercent


def _size(ctx: ServiceContext, source: ModelSource, at: SourceRef) -> tuple[Fraction | None, list[Diagnostic]]:
    if source.size is not None:
        return parse_quantity(source.size), []
    default = ctx.settings.caching.defaultSize
    return None, [warning("ModelSourceSizeMissing", f"model source {source.sourceUri} has no size; its cache claim "
                          f"is sized from the overlay's caching.defaultSize ({default}) plus headroom. Set size to "
                          "the model's download size", at)]


def _deprecations(ctx: ServiceContext) -> list[Diagnostic]:
    spec = ctx.decision.service.spec
    out = []
    if spec.cacheModel is not None:
        out.append(warning("DeprecatedField", "spec.cacheModel is deprecated and ignored (as upstream); caching "
                           "follows spec.caching.mode, and a profile can opt out with caching.enabled: false",
                           ctx.source.at("spec", "cacheModel", key=True)))
    if spec.caching is not None and spec.caching.mode in LEGACY_MODES:
        out.append(warning("DeprecatedCachingMode", f"caching mode {spec.caching.mode} is a legacy value; it means "
                           f"{LEGACY_MODES[spec.caching.mode]}", ctx.source.at("spec", "caching", "mode")))
    return out
