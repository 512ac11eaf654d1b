"""GitOps wiring: an Argo CD Application and/or a Flux Kustomization per overlay, pointing at rendered/<overlay>.

Written to rendered/_gitops/<overlay>/, outside the synced directory (an Application must not manage itself), as
owned files like every other output (emit.HEADER first; pruned when no longer wanted). Enabled per overlay by
`settings.gitops.argocd.enabled` / `settings.gitops.flux.enabled`, or for every built overlay by
`aimgen build --argocd` / `--flux`.

Ordering: aimgen's objects carry Argo CD sync waves: model-cache PVC and download Job -2, OpenTelemetryCollector
-1 (the sidecar is injected only when a pod is created), InferenceService and ConfigMaps 0, HTTPRoute and
ScaledObject 1 (a route exposes, and KEDA scales, a model that is served). Argo CD applies wave by wave and waits
for each to be healthy. Flux has no waves: it applies an overlay in one server-side apply (Namespaces and CRDs
first) and, with `wait`, reports Ready once everything is healthy; see the README for what that means here.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aimgen.diagnostics import Diagnostic, Location, error, warning
from aimgen.output.emit import emit, gitops_dir
from aimgen.render.manifest import MANAGED_BY, MANAGED_BY_VALUE, Manifest

if TYPE_CHECKING:  # only annotations: the build cache checks the origin remote without importing pydantic
    from aimgen.inputs.models.cluster import GitOpsSettings

OVERLAY_LABEL = "aim.eai.amd.com/overlay"
# Server-side apply: big InferenceServices stay below the 256 KiB annotation limit (no last-applied annotation)
# and KServe's defaulted fields are not fought over; PruneLast: a renamed service's new objects are created
# before the old ones are deleted.
ARGOCD_SYNC_OPTIONS = ("ServerSideApply=true", "PruneLast=true")


def wiring(overlay: str, settings: GitOpsSettings, argocd: bool, flux: bool, origin: Callable[[], str | None]
           ) -> tuple[list[Manifest], list[Diagnostic]]:
    """The wiring objects of one overlay; `argocd`/`flux` force them on (the --argocd/--flux flags). Without
    settings.gitops.repoURL, the URL of the `origin` remote is used (with a warning: pin it in the settings)."""
    argocd = argocd or settings.argocd.enabled
    flux = flux or settings.flux.enabled
    diags: list[Diagnostic] = []
    if (argocd or (flux and settings.flux.sourceRef is None)) and not settings.repoURL:
        url = origin()
        what = "an Argo CD Application" if argocd else "a Flux GitRepository"
        if url is None:
            return [], [error("GitOpsNotConfigured", f"overlay {overlay!r}: {what} needs settings.gitops.repoURL (the "
                              "repository holding rendered/; in overlay.yaml or the inventory's settings), and the "
                              "repository has no `origin` remote to take it from", Location(f"overlays/{overlay}"))]
        diags.append(warning("GitOpsRepoFromRemote", f"overlay {overlay!r}: {what} points at {url}, the `origin` "
                             "remote; set settings.gitops.repoURL to pin it (clones with other remotes would render "
                             "other bytes)", Location(f"overlays/{overlay}")))
        settings = settings.model_copy(update={"repoURL": url})
    manifests = [application(overlay, settings)] if argocd else []
    if flux:
        manifests += flux_objects(overlay, settings)
    return manifests, diags


def origin_url(root: Path) -> str | None:
    """The `origin` remote of the repository holding `root`, as an https URL without credentials."""
    import subprocess

    try:
        res = subprocess.run(["git", "-C", str(root), "config", "--get", "remote.origin.url"], capture_output=True,
                             text=True, check=False)
    except FileNotFoundError:
        return None
    return normalize_repo_url(res.stdout.strip()) if res.returncode == 0 and res.stdout.strip() else None


def normalize_repo_url(url: str) -> str:
    """`git@host:org/repo.git`, `ssh://git@host/org/repo`, `https://user:token@host/org/repo` ->
    `https://host/org/repo.git`: one spelling per repository, never a credential. Local paths are kept."""
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$", url)
    if scp:
        host, path = scp.groups()
    else:
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https", "ssh", "git") or not parsed.hostname:
            return url
        host = parsed.hostname + (f":{parsed.port}" if parsed.port and parsed.scheme in ("http", "https") else "")
        path = parsed.path
    return f"https://{host}/{path.strip('/').removesuffix('.git')}.git"


def _metadata(overlay: str, name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {MANAGED_BY: MANAGED_BY_VALUE, OVERLAY_LABEL: overlay}}


def source_path(overlay: str, settings: GitOpsSettings) -> str:
    return posixpath.join(settings.path.strip("/"), "rendered", overlay) if settings.path.strip("/") else (
        f"rendered/{overlay}")


def application(overlay: str, settings: GitOpsSettings) -> Manifest:
    argo = settings.argocd
    sync: dict[str, Any] = {}
    if argo.automated:
        sync["automated"] = {"prune": True, "selfHeal": True}
    sync["syncOptions"] = list(dict.fromkeys([*ARGOCD_SYNC_OPTIONS, *argo.syncOptions]))
    sync["retry"] = {"limit": 5, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}}
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": _metadata(overlay, settings.namePrefix + overlay, argo.namespace),
        "spec": {
            "project": argo.project,
            "source": {"repoURL": settings.repoURL, "targetRevision": settings.targetRevision,
                       "path": source_path(overlay, settings), "directory": {"recurse": True}},
            "destination": {"server": argo.destinationServer},
            "syncPolicy": sync,
        },
    }
    return Manifest(obj)


def flux_objects(overlay: str, settings: GitOpsSettings) -> list[Manifest]:
    flux = settings.flux
    name = settings.namePrefix + overlay
    out: list[Manifest] = []
    if flux.sourceRef is None:
        out.append(Manifest({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": _metadata(overlay, name, flux.namespace),
            "spec": {"interval": flux.interval, "url": settings.repoURL, "ref": {"branch": settings.targetRevision}},
        }))
        source: dict[str, Any] = {"kind": "GitRepository", "name": name}
    else:
        source = flux.sourceRef.model_dump(exclude_none=True)
    out.append(Manifest({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": _metadata(overlay, name, flux.namespace),
        "spec": {
            "interval": flux.interval,
            "path": "./" + source_path(overlay, settings),
            "prune": True,
            "sourceRef": source,
            "wait": True,  # Ready only when every object is healthy (Flux's stand-in for sync waves)
            "timeout": flux.timeout,
        },
    }))
    return out


def wiring_path(overlay: str, manifest: Manifest) -> str:
    return f"{gitops_dir(overlay)}/{manifest.kind.lower()}-{manifest.name}.yaml"


def gitops_files(root: Path, overlays: list[tuple[str, GitOpsSettings]], argocd: bool, flux: bool,
                 origin: Callable[[], str | None] | None = None) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """rendered/-relative path -> bytes of every overlay's wiring, and the configuration problems. `origin`: the
    origin remote's URL when asked (default: read from git once)."""
    files: dict[str, bytes] = {}
    diags: list[Diagnostic] = []
    origin = origin or functools.cache(lambda: origin_url(root))
    for overlay, settings in overlays:
        manifests, problems = wiring(overlay, settings, argocd, flux, origin)
        diags += problems
        files |= {wiring_path(overlay, m): emit(m) for m in manifests}
    return files, diags
