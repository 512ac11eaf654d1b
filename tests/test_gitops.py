"""Argo CD / Flux wiring: what is written, where, and that prune and --check own it like other outputs."""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from aimgen.output.emit import HEADER
from aimgen.output.gitops import normalize_repo_url
from tests.support import Tree, profile, run_cli, service

REPO = "https://git.example.com/platform/aim.git"


def _tree(tree: Tree, gitops: dict[str, Any] | None = None) -> None:
    tree.write("catalog/profiles.yaml", profile("qwen3-32b-mi300x-lat-fp8"))
    tree.write("overlays/dev/services.yaml", service(replicas=1))
    if gitops is not None:
        tree.write("overlays/dev/overlay.yaml", yaml.safe_dump({
            "apiVersion": "aimgen.amd.com/v1alpha1", "kind": "Overlay", "spec": {"settings": {"gitops": gitops}}}))


def _gitops(tree: Tree) -> dict[str, dict[str, Any]]:
    return {p: yaml.safe_load(text) for p, text in tree.rendered().items() if p.startswith("_gitops/")}


def test_argocd_application_from_the_overlay_settings(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO, "targetRevision": "release", "argocd": {"enabled": True, "project": "aim"}})
    assert run_cli("build", root=tree.root).code == 0
    files = _gitops(tree)
    assert list(files) == ["_gitops/dev/application-aim-dev.yaml"]
    assert tree.rendered()["_gitops/dev/application-aim-dev.yaml"].startswith(HEADER)
    app = files["_gitops/dev/application-aim-dev.yaml"]
    assert app["metadata"] == {"name": "aim-dev", "namespace": "argocd", "labels": {
        "app.kubernetes.io/managed-by": "aimgen", "aim.eai.amd.com/overlay": "dev"}}
    assert app["spec"]["project"] == "aim"
    assert app["spec"]["source"] == {"repoURL": REPO, "targetRevision": "release", "path": "rendered/dev",
                                     "directory": {"recurse": True}}
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc"}
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert app["spec"]["syncPolicy"]["syncOptions"] == ["ServerSideApply=true", "PruneLast=true"]
    assert run_cli("build", "--check", root=tree.root).code == 0


def test_manual_sync_extra_options_and_a_repository_subdirectory(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO, "path": "platform/aim/", "namePrefix": "", "argocd": {
        "enabled": True, "automated": False, "syncOptions": ["ServerSideApply=true", "Validate=false"]}})
    assert run_cli("build", root=tree.root).code == 0
    app = _gitops(tree)["_gitops/dev/application-dev.yaml"]
    assert app["spec"]["source"]["path"] == "platform/aim/rendered/dev"
    assert "automated" not in app["spec"]["syncPolicy"]
    assert app["spec"]["syncPolicy"]["syncOptions"] == ["ServerSideApply=true", "PruneLast=true", "Validate=false"]


def test_flux_kustomization_with_its_own_git_repository(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO, "flux": {"enabled": True, "interval": "5m"}})
    assert run_cli("build", root=tree.root).code == 0
    files = _gitops(tree)
    assert sorted(files) == ["_gitops/dev/gitrepository-aim-dev.yaml", "_gitops/dev/kustomization-aim-dev.yaml"]
    source = files["_gitops/dev/gitrepository-aim-dev.yaml"]
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert source["spec"] == {"interval": "5m", "url": REPO, "ref": {"branch": "main"}}
    ks = files["_gitops/dev/kustomization-aim-dev.yaml"]
    assert ks["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1" and ks["metadata"]["namespace"] == "flux-system"
    assert ks["spec"] == {"interval": "5m", "path": "./rendered/dev", "prune": True,
                          "sourceRef": {"kind": "GitRepository", "name": "aim-dev"}, "wait": True, "timeout": "30m"}


def test_flux_with_an_existing_source_needs_no_repo_url(tree: Tree) -> None:
    _tree(tree, {"flux": {"enabled": True, "sourceRef": {"name": "flux-system"}}})
    assert run_cli("build", root=tree.root).code == 0
    [ks] = _gitops(tree).values()
    assert ks["kind"] == "Kustomization" and ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}


def test_flags_turn_wiring_on_and_a_build_without_them_prunes_it(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO})
    foreign = tree.write("rendered/_gitops/dev/notes.yaml", "hand: written\n")
    assert run_cli("build", "--argocd", "--flux", root=tree.root).code == 0
    assert sorted(_gitops(tree)) == ["_gitops/dev/application-aim-dev.yaml", "_gitops/dev/gitrepository-aim-dev.yaml",
                                     "_gitops/dev/kustomization-aim-dev.yaml", "_gitops/dev/notes.yaml"]
    assert run_cli("build", "--check", "--argocd", "--flux", root=tree.root).code == 0
    res = run_cli("build", "--check", root=tree.root)
    assert res.code == 3 and "would be removed: _gitops/dev/application-aim-dev.yaml" in res.stderr
    assert run_cli("build", root=tree.root).code == 0
    assert list(_gitops(tree)) == ["_gitops/dev/notes.yaml"]
    assert foreign.read_text() == "hand: written\n"


def test_building_one_overlay_keeps_the_wiring_of_the_others(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO, "argocd": {"enabled": True}})
    tree.write("overlays/prod/inventory.yaml", (tree.root / "overlays/dev/inventory.yaml").read_text())
    tree.write("overlays/prod/overlay.yaml", (tree.root / "overlays/dev/overlay.yaml").read_text())
    assert run_cli("build", root=tree.root).code == 0
    assert run_cli("build", "--overlay", "dev", root=tree.root).code == 0
    assert sorted(_gitops(tree)) == ["_gitops/dev/application-aim-dev.yaml", "_gitops/prod/application-aim-prod.yaml"]


def test_repo_url_is_required_without_an_origin_remote(tree: Tree) -> None:
    _tree(tree)
    res = run_cli("build", "--argocd", root=tree.root)
    assert res.code == 1
    assert res.errors == ["overlays/dev: error[GitOpsNotConfigured]: overlay 'dev': an Argo CD Application needs "
                          "settings.gitops.repoURL (the repository holding rendered/; in overlay.yaml or the "
                          "inventory's settings), and the repository has no `origin` remote to take it from"]
    assert not (tree.root / "rendered").exists()


def test_origin_remote_is_the_fallback_with_a_warning(tree: Tree) -> None:
    _tree(tree)
    subprocess.run(["git", "init", "-q", str(tree.root)], check=True)
    subprocess.run(["git", "-C", str(tree.root), "remote", "add", "origin", "git@github.com:acme/aim.git"], check=True)
    res = run_cli("build", "--argocd", root=tree.root)
    assert res.code == 0 and "warning[GitOpsRepoFromRemote]" in res.stderr
    assert _gitops(tree)["_gitops/dev/application-aim-dev.yaml"]["spec"]["source"]["repoURL"] == (
        "https://github.com/acme/aim.git")
    assert run_cli("build", "--argocd", "--strict", "--check", root=tree.root).code == 1


def test_repo_urls_are_normalized_without_credentials() -> None:
    assert normalize_repo_url("git@github.com:acme/aim.git") == "https://github.com/acme/aim.git"
    assert normalize_repo_url("ssh://git@gitlab.example.com/acme/aim") == "https://gitlab.example.com/acme/aim.git"
    assert normalize_repo_url("https://ci:s3cret@github.com/acme/aim") == "https://github.com/acme/aim.git"
    assert normalize_repo_url("https://git.example.com:8443/a/b.git") == "https://git.example.com:8443/a/b.git"
    assert normalize_repo_url("/srv/git/aim") == "/srv/git/aim"


def test_invalid_gitops_settings_are_located(tree: Tree) -> None:
    _tree(tree, {"repoURL": REPO, "flux": {"enabled": True, "interval": "often"}})
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and res.codes() == ["InvalidValue"]
    assert res.errors[0].startswith("overlays/dev/overlay.yaml:")


def test_documented_sync_waves_are_the_rendered_ones() -> None:
    """README and gitops.py describe these waves; keep them in step with the renderers."""
    from aimgen.render import caching, collector, httproute, scaledobject

    assert (caching.CACHE_SYNC_WAVE, collector.SYNC_WAVE_BEFORE_ISVC) == ("-2", "-1")
    assert (httproute.ROUTE_SYNC_WAVE, scaledobject.SYNC_WAVE_AFTER_ISVC) == ("1", "1")
