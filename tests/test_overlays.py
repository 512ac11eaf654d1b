"""Overlay composition: bases (inheritance, overrides, cycles, missing) and merge patches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from aimgen.inputs.merge import merge_patch
from aimgen.inputs.tree import load_catalog, load_overlay
from tests.support import INVENTORY, Tree, profile, run_cli, service

ISVC = "rendered/{overlay}/{ns}/inferenceservice-{name}-{hash}.yaml"
ML_TEAM_HASH = "a04542d9"  # operator suffix of namespace ml-team


def overlay_doc(**spec: Any) -> str:
    return yaml.safe_dump({"apiVersion": "aimgen.amd.com/v1alpha1", "kind": "Overlay", "spec": spec}, sort_keys=False)


def isvc(tree: Tree, overlay: str, name: str) -> dict[str, Any]:
    path = tree.root / ISVC.format(overlay=overlay, ns="ml-team", name=name, hash=ML_TEAM_HASH)
    return yaml.safe_load(path.read_text())


def env(obj: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in obj["spec"]["predictor"]["containers"][0]["env"]}


def _base_and_child(tree: Tree) -> None:
    tree.write("catalog/profiles.yaml", profile("qwen3-32b-mi300x-lat-fp8"))
    tree.write("overlays/base/inventory.yaml", INVENTORY)
    tree.write("overlays/base/services.yaml", service(name="chat", replicas=1) + "---\n" + service(name="batch"))
    tree.write("overlays/child/inventory.yaml", INVENTORY)


def test_child_inherits_services_and_overrides_its_own(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"]))
    tree.write("overlays/child/chat.yaml", service(name="chat", replicas=3))
    assert run_cli("build", root=tree.root).code == 0
    assert isvc(tree, "child", "chat")["spec"]["predictor"]["maxReplicas"] == 3
    assert isvc(tree, "base", "chat")["spec"]["predictor"]["maxReplicas"] == 1
    assert isvc(tree, "child", "batch") == isvc(tree, "base", "batch")


def test_inherited_namespaced_profiles_and_namespaces(tree: Tree) -> None:
    tree.write("catalog/profiles.yaml", profile("cluster-wide"))
    tree.write("overlays/base/inventory.yaml", INVENTORY)
    tree.write("overlays/base/team.yaml", profile("team-own", namespace="ml-team", profileId="vllm-team") + "---\n"
               "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-team, labels: {team: ml}}\n")
    tree.write("overlays/child/inventory.yaml", INVENTORY)
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"]))
    tree.write("overlays/child/svc.yaml", service())
    catalog, _ = load_catalog(tree.root)
    inputs, diags = load_overlay(tree.root, "child", catalog)
    assert not diags
    assert [ns.metadata.name for ns, _ in inputs.namespaces] == ["ml-team"]
    assert [(o.metadata.name, s.file) for o, s in inputs.catalog] == [
        ("cluster-wide", "catalog/profiles.yaml"), ("team-own", "overlays/base/team.yaml")]
    assert run_cli("build", "--overlay", "child", root=tree.root).code == 0
    assert env(isvc(tree, "child", "qwen-chat"))["AIM_PROFILE_ID"] == "vllm-team"


def test_bases_are_recursive_and_diagnostics_point_at_the_defining_file(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/base/services.yaml", service(name="chat", runtimeConfigName="missing"))
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["middle"]))
    tree.write("overlays/middle/inventory.yaml", INVENTORY)
    tree.write("overlays/middle/overlay.yaml", overlay_doc(bases=["base"]))
    res = run_cli("build", "--overlay", "child", root=tree.root)
    assert res.code == 1
    assert res.errors == ["overlays/base/services.yaml:9:22: error[ConfigNotFound]: RuntimeConfig missing not found "
                          "(no AIMRuntimeConfig in namespace ml-team and no AIMClusterRuntimeConfig)"]


def test_inventory_is_not_inherited(tree: Tree) -> None:
    _base_and_child(tree)
    (tree.root / "overlays/child/inventory.yaml").unlink()
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"]))
    res = run_cli("build", "--overlay", "child", root=tree.root)
    assert res.code == 1 and res.codes() == ["InventoryNotFound"]
    assert "overlay 'child' has no inventory" in res.stderr


def test_a_base_needs_no_inventory_of_its_own(tree: Tree) -> None:
    _base_and_child(tree)
    (tree.root / "overlays/base/inventory.yaml").unlink()
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"]))
    assert run_cli("build", "--overlay", "child", root=tree.root).code == 0


def test_settings_are_inherited_field_by_field(tree: Tree) -> None:
    _base_and_child(tree)
    gateway = {"routing": {"defaultGatewayRef": {"name": "gw", "namespace": "gateways"}}}
    tree.write("overlays/base/overlay.yaml", overlay_doc(settings=gateway))
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"], settings={
        "autoscaling": {"scalerAddress": "scaler.keda.svc:4318"}}))
    catalog, _ = load_catalog(tree.root)
    inputs, diags = load_overlay(tree.root, "child", catalog)
    assert not diags
    assert inputs.settings.routing.defaultGatewayRef is not None
    assert inputs.settings.routing.defaultGatewayRef.name == "gw"
    assert inputs.settings.autoscaling.scalerAddress == "scaler.keda.svc:4318"


def test_base_cycle_is_an_error_at_the_base_entry(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/base/overlay.yaml", overlay_doc(bases=["child"]))
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"]))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    # Reported where the cycle closes, once per overlay built.
    assert res.errors == [
        "overlays/base/overlay.yaml:5:5: error[BaseCycle]: overlay bases form a cycle: child -> base -> child",
        "overlays/child/overlay.yaml:5:5: error[BaseCycle]: overlay bases form a cycle: base -> child -> base",
    ]


def test_self_base_and_missing_base(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["child", "nope"]))
    res = run_cli("build", "--overlay", "child", root=tree.root)
    assert res.errors == [
        "overlays/child/overlay.yaml:5:5: error[BaseCycle]: overlay bases form a cycle: child -> child",
        "overlays/child/overlay.yaml:6:5: error[BaseNotFound]: base overlay 'nope' not found under overlays/ "
        "(available: base, child, dev)",
    ]


def test_patches_by_name_and_label_after_inheritance(tree: Tree) -> None:
    _base_and_child(tree)
    labelled = yaml.safe_load(service(name="batch"))
    labelled["metadata"]["labels"] = {"tier": "bulk"}
    tree.write("overlays/base/services.yaml", service(name="chat", replicas=1) + "---\n" + yaml.safe_dump(labelled))
    tree.write("overlays/child/overlay.yaml", overlay_doc(bases=["base"], patches=[
        {"target": {"namespace": "ml-team", "name": "chat"}, "patch": {"spec": {"replicas": 4}}},
        {"target": {"labelSelector": {"matchLabels": {"tier": "bulk"}}},
         "patch": {"spec": {"env": [{"name": "LOG_LEVEL", "value": "debug"}]}}},
    ]))
    assert run_cli("build", root=tree.root).code == 0
    assert isvc(tree, "child", "chat")["spec"]["predictor"]["maxReplicas"] == 4
    assert env(isvc(tree, "child", "batch"))["LOG_LEVEL"] == "debug"
    assert "LOG_LEVEL" not in env(isvc(tree, "base", "batch"))


def test_null_in_a_patch_removes_the_field(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/child/svc.yaml", service(name="chat", replicas=2))
    tree.write("overlays/child/overlay.yaml", overlay_doc(patches=[
        {"target": {"name": "chat"}, "patch": {"spec": {"replicas": None}}}]))
    catalog, _ = load_catalog(tree.root)
    inputs, diags = load_overlay(tree.root, "child", catalog)
    assert not diags and inputs.services[0][0].spec.replicas is None


def test_patch_matching_nothing(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/child/svc.yaml", service(name="chat"))
    tree.write("overlays/child/overlay.yaml", overlay_doc(patches=[
        {"target": {"namespace": "other", "labelSelector": {"matchLabels": {"a": "b"}}}, "patch": {"spec": {}}}]))
    res = run_cli("build", "--overlay", "child", root=tree.root)
    assert res.errors == [
        "overlays/child/overlay.yaml:5:5: error[PatchMatchesNothing]: patch 0 targets namespace other and labels "
        "a=b, but no AIMService of this overlay (own or inherited) matches"]


def test_patch_producing_an_invalid_service_is_reported_in_the_patch(tree: Tree) -> None:
    _base_and_child(tree)
    tree.write("overlays/child/svc.yaml", service(name="chat"))
    tree.write("overlays/child/overlay.yaml", overlay_doc(patches=[
        {"target": {"name": "chat"}, "patch": {"spec": {"replicas": "three", "colour": "red"}}},
        {"target": {"name": "chat"}, "patch": {"metadata": {"name": "other"}}},
    ]))
    res = run_cli("build", "--overlay", "child", root=tree.root)
    assert res.code == 1
    assert res.errors == [
        "overlays/child/overlay.yaml:9:19: error[InvalidType]: after patching AIMService ml-team/chat: "
        "spec.replicas: Input should be a valid integer (got 'three')",
        "overlays/child/overlay.yaml:14:7: error[PatchInvalid]: a patch cannot rename AIMService ml-team/chat "
        "(metadata.name and metadata.namespace identify what it targets)",
        "overlays/child/overlay.yaml:10:9: error[UnknownField]: after patching AIMService ml-team/chat: "
        "unknown field 'spec.colour'",
    ]


def test_overlays_do_not_leak_into_each_other(tree: Tree) -> None:
    """A namespaced profile of one overlay is invisible to another overlay's service in the same namespace."""
    tree.write("catalog/profiles.yaml", profile("cluster-wide"))
    tree.write("overlays/a/inventory.yaml", INVENTORY)
    tree.write("overlays/a/team.yaml", profile("team-own", namespace="ml-team", profileId="vllm-team"))
    tree.write("overlays/a/svc.yaml", service())
    tree.write("overlays/b/inventory.yaml", INVENTORY)
    tree.write("overlays/b/svc.yaml", service())
    assert run_cli("build", root=tree.root).code == 0
    assert env(isvc(tree, "a", "qwen-chat"))["AIM_PROFILE_ID"] == "vllm-team"
    assert env(isvc(tree, "b", "qwen-chat"))["AIM_PROFILE_ID"] == "vllm-cluster-wide"
    assert sorted(p.parent.parent.name for p in (tree.root / "rendered").rglob("*.yaml")) == ["a", "b"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=10,
)


@given(json_values, json_values)
def test_merge_patch_is_idempotent_and_leaves_no_nulls_from_objects(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once
    if isinstance(patch, dict):
        assert all(once.get(k) is not None for k, v in patch.items() if v is not None)
        assert all(k not in once for k, v in patch.items() if v is None)


def test_merge_patch_rfc7386_examples() -> None:
    # RFC 7386 appendix A (a selection).
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch(["a", "b"], ["c", "d"]) == ["c", "d"]
    assert merge_patch({"a": "foo"}, None) is None
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_example_tree_services_round_trip_through_patching() -> None:
    """Patching re-reads a service from its dump: that must give the service back unchanged."""
    from aimgen.diagnostics import SourceRef
    from aimgen.inputs.bases import patch_service
    from aimgen.inputs.models.aim import AIMService
    from aimgen.inputs.models.cluster import Patch, PatchTarget

    root = Path(__file__).resolve().parents[1]
    catalog, _ = load_catalog(root)
    for name in ("prod", "staging"):
        inputs, _ = load_overlay(root, name, catalog)
        for svc, _ in inputs.services:
            patched, diags = patch_service(svc, Patch(target=PatchTarget(), patch={}), SourceRef("x", 0))
            assert not diags and isinstance(patched, AIMService) and patched == svc
