"""Multi-tenancy: a service only uses namespace-scoped documents of its own namespace (plus cluster ones)."""

from __future__ import annotations

from typing import Any

import yaml

from tests.support import Tree, profile, run_cli, service

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"


def doc(kind: str, name: str, namespace: str | None, spec: dict[str, Any], api: str = "v1alpha1") -> str:
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    return yaml.safe_dump({"apiVersion": f"aim.eai.amd.com/{api}", "kind": kind, "metadata": meta, "spec": spec},
                          sort_keys=False)


def isvc_env(tree: Tree, namespace: str, name: str) -> dict[str, str]:
    [path] = (tree.root / "rendered/dev" / namespace).glob(f"inferenceservice-{name}-*.yaml")
    obj = yaml.safe_load(path.read_text())
    return {e["name"]: e.get("value") for e in obj["spec"]["predictor"]["containers"][0]["env"]}


def _team_b_owns_things(tree: Tree) -> None:
    """team-b has its own (better) profile, a runtime config, a model and a v1alpha1 template of that model."""
    tree.write("catalog/profiles.yaml", profile("cluster-qwen", type="general"))
    tree.write("overlays/dev/team-b.yaml", "---\n".join([
        profile("b-qwen", namespace="team-b", profileId="vllm-b"),
        doc("AIMRuntimeConfig", "default", "team-b", {"env": [{"name": "TEAM", "value": "b"}]}),
        doc("AIMRuntimeConfig", "special", "team-b", {"env": [{"name": "SPECIAL", "value": "b"}]}),
        doc("AIMModel", "b-model", "team-b", {"image": "registry.example.com/team-b/private-model:1"}),
        doc("AIMServiceTemplate", "b-template", "team-b", {
            "modelName": "b-model", "metric": "latency", "precision": "fp8", "type": "optimized",
            "hardware": {"gpu": {"model": "MI300X", "requests": 1}}}),
    ]))


def test_namespace_profiles_and_runtime_configs_serve_only_their_namespace(tree: Tree) -> None:
    _team_b_owns_things(tree)
    tree.write("overlays/dev/services.yaml", service(name="a", namespace="team-a", replicas=1) + "---\n"
               + service(name="b", namespace="team-b", replicas=1))
    assert run_cli("build", root=tree.root).code == 0
    a, b = isvc_env(tree, "team-a", "a"), isvc_env(tree, "team-b", "b")
    assert a["AIM_PROFILE_ID"] == "vllm-cluster-qwen" and b["AIM_PROFILE_ID"] == "vllm-b"
    assert "TEAM" not in a and b["TEAM"] == "b"


def test_another_namespaces_profile_cannot_be_named(tree: Tree) -> None:
    _team_b_owns_things(tree)
    tree.write("overlays/dev/services.yaml", service(name="a", namespace="team-a", template={"name": "b-qwen"}))
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and res.codes() == ["TemplateNotFound"]
    assert "no AIMProfile or AIMServiceTemplate in namespace team-a" in res.errors[0]


def test_another_namespaces_runtime_config_cannot_be_named(tree: Tree) -> None:
    _team_b_owns_things(tree)
    tree.write("overlays/dev/services.yaml", service(name="a", namespace="team-a", runtimeConfigName="special"))
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and res.codes() == ["ConfigNotFound"]


def test_another_namespaces_model_and_its_templates_are_invisible(tree: Tree) -> None:
    _team_b_owns_things(tree)
    by_name = service(name="a", namespace="team-a", model={"name": "b-model"})
    by_image = service(name="c", namespace="team-a", model={"image": "registry.example.com/team-b/private-model:1"})
    tree.write("overlays/dev/services.yaml", by_name + "---\n" + by_image)
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and res.codes() == ["ModelNotFound", "ModelNotFound"]
    assert 'model "b-model" not found in namespace team-a or cluster scope' in res.errors[0]
    # The same service in team-b resolves: the documents are fine, only out of team-a's reach.
    tree.write("overlays/dev/services.yaml", by_name.replace("team-a", "team-b"))
    assert run_cli("build", root=tree.root).code == 0


def test_a_document_of_one_overlay_never_reaches_another(tree: Tree) -> None:
    _team_b_owns_things(tree)
    tree.write("overlays/prod/inventory.yaml", (tree.root / "overlays/dev/inventory.yaml").read_text())
    tree.write("overlays/prod/services.yaml", service(name="b", namespace="team-b", replicas=1))
    tree.write("overlays/dev/services.yaml", service(name="b", namespace="team-b", replicas=1))
    assert run_cli("build", root=tree.root).code == 0
    [prod] = (tree.root / "rendered/prod/team-b").glob("inferenceservice-b-*.yaml")
    env = {e["name"]: e.get("value") for e in yaml.safe_load(prod.read_text())["spec"]["predictor"]["containers"][0]
           ["env"]}
    assert env["AIM_PROFILE_ID"] == "vllm-cluster-qwen" and "TEAM" not in env
    assert isvc_env(tree, "team-b", "b")["AIM_PROFILE_ID"] == "vllm-b"
