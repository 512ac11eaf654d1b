"""InferenceService rendering: env (operator vectors), resources (SPEC §3), affinity, CPU-only, partitions."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from aimgen.diagnostics import SourceRef
from aimgen.inputs.catalog import profile_from_template, profile_from_v1alpha2
from aimgen.inputs.models.aim import AIMClusterProfile, AIMClusterServiceTemplate, AIMService, RuntimeConfigSpec
from aimgen.inputs.models.common import ResourceRequirements
from aimgen.render.env import container_env, go_json
from aimgen.resolve.resources import derive_resources
from aimgen.resolve.select import Decision
from tests.support import SHARED, Tree, profile, run_cli, service

SRC = SourceRef("x.yaml", 0)


def decision(template_spec: dict[str, Any], service_env: list | None = None, rc_env: list | None = None) -> Decision:
    tpl = AIMClusterServiceTemplate.model_validate({
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterServiceTemplate", "metadata": {"name": "t"},
        "spec": {"modelName": "m", **template_spec}})
    svc = AIMService.model_validate({
        "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
        "metadata": {"name": "s", "namespace": "ns"}, "spec": {"model": {"name": "m"}, "env": service_env or []}})
    rc = RuntimeConfigSpec.model_validate({"env": rc_env} if rc_env else {})
    return Decision(svc, SRC, profile_from_template(tpl, SRC, None, None), rc, "default")


ENV_VECTORS = SHARED / "reference" / "vectors" / "env_vars.yaml"


def _env_cases() -> list[dict]:
    if not ENV_VECTORS.exists():
        return []
    cases = yaml.safe_load(ENV_VECTORS.read_text())["container_env"]
    # aimgen merges AIM_METRIC & co. instead of appending duplicates (SPEC: runtime config < profile).
    return [c for c in cases if "duplicate" not in c["name"]]


@pytest.mark.skipif(not ENV_VECTORS.exists(), reason="../shared/reference not present")
@pytest.mark.parametrize("case", _env_cases(), ids=lambda c: c["name"][:40])
def test_container_env_matches_operator_vectors(case: dict) -> None:
    given = case["input"]
    spec = {k: v for k, v in (given.get("templateSpec") or {}).items() if not k.startswith("modelSources")}
    env = container_env(decision(spec, given.get("serviceEnv"), given.get("runtimeConfigEnv")))
    expected = [e for e in case["expected_container_env"] if e["name"] != "AIM_MODEL_ID"]
    assert env == expected


def test_engine_args_are_json_deep_merged_in_go_format() -> None:
    p = profile_from_v1alpha2(AIMClusterProfile.model_validate(yaml.safe_load(profile(
        "p", engineArgs={"max-model-len": 8192, "gpu-memory-utilization": 0.9, "x": {"a": 1.0}}))), SRC)
    svc = AIMService.model_validate(yaml.safe_load(service(env=[
        {"name": "AIM_ENGINE_ARGS", "value": '{"max-model-len":16384,"x":{"b":"<"}}'}])))
    rc = RuntimeConfigSpec.model_validate({"env": [{"name": "AIM_ENGINE_ARGS", "value": '{"enforce-eager":true}'}]})
    env = {e["name"]: e["value"] for e in container_env(Decision(svc, SRC, p, rc, "default"))}
    assert env["AIM_ENGINE_ARGS"] == (
        '{"enforce-eager":true,"gpu-memory-utilization":0.9,"max-model-len":16384,"x":{"a":1,"b":"\\u003c"}}')
    assert go_json({"b": 1, "a": [1.5, 2.0]}) == '{"a":[1.5,2],"b":1}'


@pytest.mark.parametrize(("spec", "override", "requests", "limits"), [
    ({"acceleratorCount": 4}, None,
     {"amd.com/gpu": "4", "cpu": "16", "memory": "128Gi"}, {"amd.com/gpu": "4", "cpu": "16", "memory": "192Gi"}),
    ({"acceleratorCount": 1}, {"requests": {"memory": "64Gi"}},
     {"amd.com/gpu": "1", "cpu": "4", "memory": "64Gi"}, {"amd.com/gpu": "1", "cpu": "4", "memory": "64Gi"}),
    ({"acceleratorCount": 1}, {"requests": {"cpu": "8"}, "limits": {"cpu": "12"}},
     {"amd.com/gpu": "1", "cpu": "8", "memory": "32Gi"}, {"amd.com/gpu": "1", "cpu": "12", "memory": "48Gi"}),
    ({"acceleratorCount": 0, "resources": {"requests": {"amd.com/cpx-nps4": "4"}}}, None,
     {"amd.com/cpx-nps4": "4", "cpu": "4", "memory": "32Gi"}, {"amd.com/cpx-nps4": "4", "cpu": "4", "memory": "48Gi"}),
    ({"acceleratorModel": None, "acceleratorType": None, "acceleratorCount": None}, None,
     {"cpu": "4", "memory": "32Gi"}, {"cpu": "4", "memory": "48Gi"}),
])
def test_resources(spec: dict, override: dict | None, requests: dict, limits: dict) -> None:
    p = profile_from_v1alpha2(AIMClusterProfile.model_validate(yaml.safe_load(profile("p", **spec))), SRC)
    res, problems = derive_resources(p, ResourceRequirements.model_validate(override) if override else None)
    assert (res.requests, res.limits, problems) == (requests, limits, [])


def test_explicit_limit_below_request_is_an_error(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p", resources={"requests": {"memory": "64Gi"}}))
    tree.write("overlays/dev/s.yaml", service(resources={"limits": {"memory": "48Gi"}}))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert "s.yaml:11:15: error[InvalidResources]: memory: request 64Gi exceeds limit 48Gi" in res.stderr


def test_cpu_only_and_partitioned_profiles(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("cpu", acceleratorModel=None, acceleratorType=None, acceleratorCount=None,
                                         aimId="microsoft/phi-2", image="amdenterpriseai/aim-phi-2:0.8.5",
                                         type="general", precision="fp32")
               + "---\n" + profile("cpx", acceleratorCount=0, resources={"requests": {"amd.com/cpx-nps4": "4"}}))
    tree.write("overlays/dev/inventory.yaml", """
        apiVersion: aimgen.amd.com/v1alpha1
        kind: ClusterInventory
        spec:
          nodePools:
          - name: cpx
            labels: {feature.node.kubernetes.io/aim-accelerator.MI300X: "8"}
            allocatable: {amd.com/cpx-nps4: "32", cpu: "192", memory: 1536Gi}
        """)
    tree.write("overlays/dev/s.yaml", service(name="phi", model={"image": "amdenterpriseai/aim-phi-2:0.8.5"})
               + "---\n" + service(name="part"))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    objs = {yaml.safe_load(t)["metadata"]["labels"]["aim.eai.amd.com/service.name"]: yaml.safe_load(t)
            for t in tree.rendered().values()}
    assert "affinity" not in objs["phi"]["spec"]["predictor"]
    part = objs["part"]["spec"]["predictor"]
    assert part["containers"][0]["resources"]["limits"]["amd.com/cpx-nps4"] == "4"
    assert "amd.com/gpu" not in part["containers"][0]["resources"]["requests"]
    term = part["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == [{"matchExpressions": [{"key": "feature.node.kubernetes.io/aim-accelerator.MI300X",
                                           "operator": "Exists"}]}]


def test_pull_secrets_and_service_account(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p", imagePullSecrets=[{"name": "profile-pull"}],
                                         serviceAccountName="profile-sa"))
    tree.write("overlays/dev/s.yaml", service(imagePullSecrets=[{"name": "registry-credentials"}],
                                              serviceAccountName="inference-sa"))
    assert run_cli("build", root=tree.root).code == 0
    [isvc] = [yaml.safe_load(t) for t in tree.rendered().values()]
    predictor = isvc["spec"]["predictor"]
    assert predictor["serviceAccountName"] == "inference-sa"
    assert predictor["imagePullSecrets"] == [{"name": "registry-credentials"}, {"name": "profile-pull"}]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/autoscalerClass": "none",
                                               "serving.kserve.io/deploymentMode": "Standard"}
