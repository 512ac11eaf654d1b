"""`aimgen diff` on a real git history: each commit's diff names the right services, objects, fields, causes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimgen.diff.compare import DiffReport, ServiceDiff, run_diff
from aimgen.diff.report import MARKER, render_markdown
from tests import support
from tests.support import Tree, profile, run_cli, service

INVENTORY = support.INVENTORY + """\
  - name: mi355x
    count: 1
    labels: {feature.node.kubernetes.io/aim-accelerator.MI355X: "8"}
    allocatable: {amd.com/gpu: "8", cpu: "192", memory: 2304Gi}
  gateways:
  - name: inference-gateway
    namespace: gateways
    listeners: [{name: http, allowedRoutes: {namespaces: {from: All}}}]
  settings:
    routing:
      defaultGatewayRef: {name: inference-gateway, namespace: gateways}
"""

RUNTIME_CONFIG = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterRuntimeConfig
metadata: {name: default}
spec:
  routing: {enabled: true, pathTemplate: "/{.metadata.namespace}/{.metadata.name}"}
"""

LEGACY = service(name="{name}", namespace="apps", replicas=1, template={"name": "qwen-mi300x"})
LLAMA = "amdenterpriseai/aim-meta-llama-llama-3-1-8b-instruct:0.8.5"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Tree:
    """main: qwen on MI355X (optimized) over MI300X (general), llama on a preview MI300X profile; three services,
    one of them pinned to the qwen MI300X profile."""
    tree = Tree(tmp_path / "repo")
    tree.write("catalog/profiles.yaml", "---\n".join([
        profile("qwen-mi355x", acceleratorModel="MI355X", profileId="vllm-mi355x"),
        profile("qwen-mi300x", type="general", profileId="vllm-mi300x"),
        profile("llama-mi300x", aimId="meta-llama/llama-3.1-8b", type="preview", image=LLAMA, profileId="vllm-l"),
    ]))
    tree.write("catalog/runtime-configs.yaml", RUNTIME_CONFIG)
    tree.write("overlays/dev/inventory.yaml", INVENTORY)
    tree.write("overlays/dev/chat.yaml", service(name="chat", replicas=2))
    tree.write("overlays/dev/summarize.yaml", service(name="summarize", model={"image": LLAMA}, replicas=3))
    tree.write("overlays/dev/legacy.yaml", LEGACY.format(name="legacy-chat"))
    git(tree.root, "init", "-q", "-b", "main")
    commit(tree.root, "initial")
    git(tree.root, "checkout", "-q", "-b", "feature")
    return tree


def only(report: DiffReport) -> list[tuple[str, ServiceDiff]]:
    return [(f"{o}/{s.label}", s) for o, s in report.services]


def fields(service: ServiceDiff, kind: str) -> dict[str, tuple[Any, Any]]:
    obj = next(o for o in service.objects if o.kind == kind)
    return {f.path: (f.old, f.new) for f in obj.fields}


ENV = "spec.predictor.containers[kserve-container].env"


def test_profile_promoted_from_preview_to_optimized(repo: Tree) -> None:
    text = (repo.root / "catalog/profiles.yaml").read_text().replace("type: preview", "type: optimized")
    repo.write("catalog/profiles.yaml", text)
    commit(repo.root, "promote llama")
    report = run_diff(repo.root, None, ())
    [(name, svc)] = only(report)
    assert name == "dev/ml-team/summarize" and svc.change == "changed"
    assert fields(svc, "InferenceService") == {
        "metadata.labels[aim.eai.amd.com/profile-type]": ("preview", "optimized")}
    assert [(c.kind, c.message) for c in svc.causes] == [
        ("ProfileSpec", 'AIMClusterProfile llama-mi300x changed: type: "preview" -> "optimized"')]
    assert svc.impacts == []


def test_inventory_losing_mi355x_nodes_moves_the_service(repo: Tree) -> None:
    inventory = yaml.safe_load(INVENTORY)
    inventory["spec"]["nodePools"] = inventory["spec"]["nodePools"][:1]
    repo.write("overlays/dev/inventory.yaml", yaml.safe_dump(inventory))
    commit(repo.root, "MI355X nodes returned")
    [(name, svc)] = only(run_diff(repo.root, "main", ()))
    assert name == "dev/ml-team/chat"
    assert (svc.profile_before, svc.profile_after) == ("AIMClusterProfile qwen-mi355x", "AIMClusterProfile qwen-mi300x")
    changed = fields(svc, "InferenceService")
    assert changed[f"{ENV}[AIM_PROFILE_ID].value"] == ("vllm-mi355x", "vllm-mi300x")
    assert changed["metadata.labels[aim.eai.amd.com/profile-type]"] == ("optimized", "general")
    affinity = [p for p in changed if "nodeAffinity" in p]
    assert [changed[p] for p in affinity] == [("feature.node.kubernetes.io/aim-accelerator.MI355X",
                                               "feature.node.kubernetes.io/aim-accelerator.MI300X")]
    [cause] = svc.causes
    assert cause.kind == "Profile"
    assert cause.message == (
        "profile AIMClusterProfile qwen-mi355x -> AIMClusterProfile qwen-mi300x: the inventory made "
        "AIMClusterProfile qwen-mi355x unavailable (NotAvailable: no node has label "
        "feature.node.kubernetes.io/aim-accelerator.MI355X)")
    assert [i.kind for i in svc.impacts] == ["Rollout"] and not svc.disruptive


def test_renamed_service_is_a_recreation(repo: Tree) -> None:
    (repo.root / "overlays/dev/legacy.yaml").unlink()
    repo.write("overlays/dev/frontdoor.yaml", LEGACY.format(name="frontdoor"))
    commit(repo.root, "rename legacy-chat")
    services = dict(only(run_diff(repo.root, None, ())))
    assert sorted(services) == ["dev/apps/frontdoor", "dev/apps/legacy-chat"]
    gone, new = services["dev/apps/legacy-chat"], services["dev/apps/frontdoor"]
    assert (gone.change, new.change) == ("removed", "added")
    assert [(o.change, o.kind, o.name) for o in gone.objects] == [
        ("removed", "HTTPRoute", "legacy-chat-2fdfd80b"), ("removed", "InferenceService", "legacy-chat-2fdfd80b")]
    assert [(o.change, o.kind) for o in new.objects] == [("added", "HTTPRoute"), ("added", "InferenceService")]
    assert [c.message for c in new.causes] == ["AIMService renamed from apps/legacy-chat (same spec)"]
    assert [c.message for c in gone.causes] == ["AIMService renamed to apps/frontdoor (same spec)"]
    assert [i.kind for i in gone.disruptive] == ["ServiceRemoved"]
    assert [i.kind for i in new.disruptive] == ["Recreate", "RoutePath"]
    assert new.disruptive[1].message == "route path /apps/legacy-chat -> /apps/frontdoor: clients using the old path " \
                                        "get 404"


def test_path_template_change_is_flagged(repo: Tree) -> None:
    repo.write("catalog/runtime-configs.yaml", RUNTIME_CONFIG.replace(
        '"/{.metadata.namespace}/{.metadata.name}"', '"/v2/{.metadata.namespace}/{.metadata.name}"'))
    commit(repo.root, "versioned paths")
    services = dict(only(run_diff(repo.root, None, ())))
    assert sorted(services) == ["dev/apps/legacy-chat", "dev/ml-team/chat", "dev/ml-team/summarize"]
    chat = services["dev/ml-team/chat"]
    assert [(o.change, o.kind) for o in chat.objects] == [("changed", "HTTPRoute")]
    assert fields(chat, "HTTPRoute") == {"spec.rules[0].matches[0].path.value": ("/ml-team/chat", "/v2/ml-team/chat")}
    assert [c.message for c in chat.causes] == [
        'runtime config default changed: routing.pathTemplate: "/{.metadata.namespace}/{.metadata.name}" -> '
        '"/v2/{.metadata.namespace}/{.metadata.name}"']
    [impact] = chat.disruptive
    assert (impact.kind, impact.object) == ("RoutePath", "HTTPRoute ml-team/chat-a04542d9")
    assert impact.message == "route path /ml-team/chat -> /v2/ml-team/chat: clients using the old path get 404"


def test_scale_down_and_service_spec_cause(repo: Tree) -> None:
    repo.write("overlays/dev/summarize.yaml", service(name="summarize", model={"image": LLAMA}, replicas=1))
    commit(repo.root, "fewer replicas")
    [(_, svc)] = only(run_diff(repo.root, None, ()))
    assert fields(svc, "InferenceService") == {"spec.predictor.maxReplicas": (3, 1),
                                               "spec.predictor.minReplicas": (3, 1)}
    assert [c.message for c in svc.causes] == ["AIMService changed: spec.replicas: 3 -> 1"]
    assert [(i.kind, i.message) for i in svc.disruptive] == [
        ("ScaleDown", "maxReplicas 3 -> 1: running replicas above the new maximum are terminated")]


def test_a_sequence_of_commits_compared_step_by_step(repo: Tree) -> None:
    """--base HEAD~1 compares one commit with its parent; the uncommitted work tree is the head."""
    repo.write("overlays/dev/chat.yaml", service(name="chat", replicas=4))
    commit(repo.root, "more chat")
    repo.write("overlays/dev/summarize.yaml", service(name="summarize", model={"image": LLAMA}, replicas=5))
    commit(repo.root, "more summarize")
    assert [n for n, _ in only(run_diff(repo.root, "HEAD~1", ()))] == ["dev/ml-team/summarize"]
    assert [n for n, _ in only(run_diff(repo.root, None, ()))] == ["dev/ml-team/chat", "dev/ml-team/summarize"]
    assert only(run_diff(repo.root, "HEAD", ())) == []
    repo.write("overlays/dev/chat.yaml", service(name="chat", replicas=1))
    assert [n for n, _ in only(run_diff(repo.root, "HEAD", ()))] == ["dev/ml-team/chat"]


def test_work_tree_that_does_not_compile(repo: Tree) -> None:
    repo.write("overlays/dev/chat.yaml", service(name="chat", replicas=2, runtimeConfigName="nope"))
    res = run_cli("diff", root=repo.root)
    assert res.code == 1
    assert "  ml-team/chat: failed" in res.stdout
    assert "    cause: AIMService changed: spec.runtimeConfigName: + \"nope\"\n    overlays/dev/chat.yaml:10:22: " \
           "error[ConfigNotFound]" in res.stdout


def test_a_broken_base_does_not_fail_the_diff(repo: Tree) -> None:
    repo.write("overlays/dev/chat.yaml", "apiVersion: v1\nkind: Nonsense\n")
    commit(repo.root, "broken")
    repo.write("overlays/dev/chat.yaml", service(name="chat", replicas=2))
    report = run_diff(repo.root, "HEAD", ())
    assert report.exit_code == 0 and report.base_errors
    assert [(o.name, o.change) for o in report.overlays] == [("dev", "unknown")]


def test_default_base_without_main_is_head(repo: Tree) -> None:
    git(repo.root, "branch", "-q", "-m", "main", "trunk")
    repo.write("overlays/dev/chat.yaml", service(name="chat", replicas=3))
    report = run_diff(repo.root, None, ())
    assert report.base.label == "HEAD"
    assert [n for n, _ in only(report)] == ["dev/ml-team/chat"]


def test_added_and_removed_overlays(repo: Tree) -> None:
    repo.write("overlays/prod/inventory.yaml", INVENTORY)
    repo.write("overlays/prod/chat.yaml", service(name="chat", replicas=2))
    report = run_diff(repo.root, None, ("prod",))
    assert [(o.name, o.change) for o in report.overlays] == [("prod", "added")]
    assert [(s.label, s.change) for _, s in report.services] == [("ml-team/chat", "added")]
    assert run_cli("diff", "--overlay", "nope", root=repo.root).code == 2


def test_usage_errors(repo: Tree, tmp_path: Path) -> None:
    res = run_cli("diff", "--base", "no-such-ref", root=repo.root)
    assert res.code == 2 and "error[RefNotFound]" in res.stderr
    plain = Tree(tmp_path / "plain")
    plain.write("overlays/dev/inventory.yaml", INVENTORY)
    res = run_cli("diff", root=plain.root)
    assert res.code == 2 and "error[NotAGitRepository]" in res.stderr


def test_root_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    tree = Tree(tmp_path / "mono")
    tree.write("platform/aim/catalog/profiles.yaml", profile("qwen-mi300x"))
    tree.write("platform/aim/overlays/dev/inventory.yaml", INVENTORY)
    tree.write("platform/aim/overlays/dev/chat.yaml", service(name="chat", replicas=1))
    tree.write("README.md", "mono repo\n")
    git(tree.root, "init", "-q", "-b", "main")
    commit(tree.root, "initial")
    tree.write("platform/aim/overlays/dev/chat.yaml", service(name="chat", replicas=2))
    [(name, _)] = only(run_diff(tree.root / "platform/aim", None, ()))
    assert name == "dev/ml-team/chat"


def test_formats(repo: Tree) -> None:
    repo.write("overlays/dev/summarize.yaml", service(name="summarize", model={"image": LLAMA}, replicas=1))
    text = run_cli("diff", root=repo.root)
    assert text.code == 0
    assert text.stdout.splitlines()[1:6] == [
        "overlay dev: changed",
        "  ml-team/summarize: changed",
        "    cause: AIMService changed: spec.replicas: 3 -> 1",
        "    ! ScaleDown: InferenceService ml-team/summarize-a04542d9: maxReplicas 3 -> 1: running replicas above "
        "the new maximum are terminated",
        "    ~ InferenceService ml-team/summarize-a04542d9",
    ]
    data = json.loads(run_cli("diff", "--format", "json", root=repo.root).stdout)
    assert data["changed"] is True and data["exitCode"] == 0
    assert data["summary"]["servicesChanged"] == 1 and data["summary"]["disruptive"] == 1
    [svc] = data["overlays"][0]["services"]
    assert svc["objects"][0]["fields"][0] == {"path": "spec.predictor.maxReplicas", "change": "changed", "old": 3,
                                              "new": 1}
    md = run_cli("diff", "--format", "markdown", root=repo.root).stdout
    assert md.startswith(MARKER)
    assert "| dev | ml-team/summarize | changed | AIMClusterProfile llama-mi300x | ~1 | ⚠️ ScaleDown |" in md
    assert "| `spec.predictor.maxReplicas` | `3` | `1` |" in md


def test_no_differences(repo: Tree) -> None:
    res = run_cli("diff", root=repo.root)
    assert res.code == 0 and res.stdout.endswith("no differences in 1 overlay(s)\n")


def test_markdown_fits_a_comment_and_says_what_it_left_out(repo: Tree) -> None:
    def many(value: str) -> str:
        return "---\n".join(service(name=f"svc-{i:03}", namespace=f"team-{i % 7}", replicas=1, env=[
            {"name": f"VAR_{j}", "value": value * 100} for j in range(20)]) for i in range(40))

    repo.write("overlays/dev/many.yaml", many("x"))
    commit(repo.root, "many services")
    repo.write("overlays/dev/many.yaml", many("y"))
    report = run_diff(repo.root, "HEAD", ())
    assert len(report.services) == 40
    md = render_markdown(report)
    assert len(md) <= 65_536
    assert "| dev | team-0/svc-000 | changed | AIMClusterProfile qwen-mi355x | ~1 | ℹ️ Rollout |" not in md
    assert "| dev | team-0/svc-000 | changed | AIMClusterProfile qwen-mi355x | ~1 | Rollout |" in md
    omitted = int(md.split("_… the details of ")[1].split(" ")[0])
    assert 0 < omitted < 40
    assert md.count("<details>") == 40 - omitted
    small = render_markdown(report, limit=4_000)
    assert len(small) <= 4_000 and "more row(s)" in small
