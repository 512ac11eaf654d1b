"""Custom profiles (SPEC §3, seed 001) and custom weights (seed 003): ConfigMaps, mounts, AIM_* variables."""

from __future__ import annotations

from typing import Any

import yaml

from aimgen.render.customprofile import MOUNT_BASE, configmap_name
from tests.artifacts.conftest import CUSTOM_WEIGHTS, QWEN, SHIPPED, Built, aim_service, build
from tests.support import Result, Tree, run_cli


def _profile_file(configmap: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (key, text), = configmap["data"].items()
    return key, yaml.safe_load(text)


def test_custom_profile_template_becomes_a_configmap_of_the_service(built: Built) -> None:
    cm = built.named("ConfigMap", configmap_name("llama-custom"))
    assert cm["metadata"] == {
        "name": "llama-custom-custom-profile-8cf11a2d",  # upstream ServiceCustomProfileConfigMapName
        "namespace": "ml-team",
        "labels": {"aim.eai.amd.com/service.name": "llama-custom", "aim.eai.amd.com/template": "llama-3-8b-custom",
                   "app.kubernetes.io/component": "custom-profile", "app.kubernetes.io/managed-by": "aimgen"},
    }
    key, doc = _profile_file(cm)
    assert key == "vllm-mi300x-fp16-tp1-latency.yaml"  # the AIM file naming convention
    assert doc == {
        "aim_id": "meta-llama/Llama-3-8B",
        "model_id": "meta-llama/Llama-3-8B",
        "metadata": {"engine": "vllm", "gpu": "MI300X", "gpu_count": 1, "accelerator_model": "MI300X",
                     "accelerator_type": "gpu", "accelerator_count": 1, "manual_selection_only": False,
                     "metric": "latency", "precision": "fp16", "type": "optimized"},
        "engine_args": {"dtype": "float16", "gpu-memory-utilization": 0.95, "max-num-seqs": 256},
        "env_vars": {"PYTORCH_TUNABLEOP_ENABLED": "1"},
    }
    assert isinstance(doc["engine_args"]["gpu-memory-utilization"], float)  # types survive
    assert isinstance(doc["engine_args"]["max-num-seqs"], int)


def test_the_configmap_is_mounted_and_selected_by_aim_id_and_profile_id(built: Built) -> None:
    predictor = built.isvc("llama-custom")["spec"]["predictor"]
    name = configmap_name("llama-custom")
    assert {"configMap": {"name": name}, "name": "custom-profile"} in predictor["volumes"]
    assert {"mountPath": f"{MOUNT_BASE}/meta-llama/Llama-3-8B", "name": "custom-profile", "readOnly": True} in (
        predictor["containers"][0]["volumeMounts"])
    env = built.env("llama-custom")
    assert env["AIM_ID"] == "meta-llama/Llama-3-8B"
    # the mounted file's path under profiles/, without .yaml: the ConfigMap key
    key, _ = _profile_file(built.named("ConfigMap", name))
    assert env["AIM_PROFILE_ID"] == "custom/meta-llama/Llama-3-8B/" + key.removesuffix(".yaml")
    assert "AIM_MODEL_ID" not in env  # the weights are the image's


def test_model_custom_templates_are_expanded_with_the_operators_names(built: Built) -> None:
    isvc = built.isvc("llama-finetuned")
    # generateCustomTemplateName: parts model, custom, name, precision, gpu; hash of sha256(json(
    # "my-finetuned-llama", 0, "llama-custom-tp1", "fp16", "latency", 1, "MI300X") joined by "|")
    assert isvc["metadata"]["labels"]["aim.eai.amd.com/template"] == (
        "my-finetuned-llama-custom-llama-custom-tp1-fp16-mi300x-b43e0638")
    cm = built.named("ConfigMap", configmap_name("llama-finetuned"))
    key, doc = _profile_file(cm)
    assert key == "vllm-mi300x-fp16-tp1-latency.yaml"
    assert doc["engine_args"] == {"dtype": "float16", "gpu-memory-utilization": 0.95}
    assert doc["env_vars"] == {"HIP_FORCE_DEV_KERNARG": "1"}
    env = built.env("llama-finetuned")
    assert env["AIM_MODEL_ID"] == "my-org/llama-finetuned"  # the model's own weights
    assert env["AIM_PROFILE_ID"] == "custom/meta-llama/Llama-3-8B/vllm-mi300x-fp16-tp1-latency"
    assert built.container("llama-finetuned")["image"] == "amdenterpriseai/aim-vllm-base:0.10.0"


def test_custom_weights_extend_the_primary_profile_of_the_same_aim_id_and_precision(built: Built) -> None:
    _, doc = _profile_file(built.named("ConfigMap", configmap_name("finetuned")))
    # the shipped primary's engine configuration under the custom profile's own
    assert doc["engine_args"] == {"distributed_executor_backend": "mp", "enforce-eager": True,
                                  "gpu-memory-utilization": "0.90", "max-model-len": 32768, "tensor-parallel-size": 2}
    assert doc["env_vars"] == {"HIP_FORCE_DEV_KERNARG": "1", "VLLM_DO_NOT_TRACK": "1"}
    assert doc["model_id"] == "my-org/qwen-finetuned-fp8"
    assert doc["metadata"]["accelerator_count"] == 2
    env = built.env("finetuned")
    assert env["AIM_MODEL_ID"] == "my-org/qwen-finetuned-fp8"
    assert env["AIM_ID"] == "qwen/qwen3-32b"
    assert env["AIM_PROFILE_ID"] == "custom/qwen/qwen3-32b/vllm-mi300x-fp8-tp2-latency"
    assert env["AIM_ENGINE_ARGS"] == ('{"distributed_executor_backend":"mp","enforce-eager":true,'
                                      '"gpu-memory-utilization":"0.90","max-model-len":32768,"tensor-parallel-size":2}')
    assert built.container("finetuned")["image"] == "amdenterpriseai/aim-base:0.8.5"


def test_explain_names_the_base_configuration(built: Built) -> None:
    res = run_cli("explain", "dev", "ml-team/finetuned", root=built.tree.root)
    assert "engine configuration extends the primary profile AIMClusterProfile qwen-qwen3-32b-mi300x-lat-fp8" in (
        res.stdout)


def test_shipped_profiles_get_no_configmap_nor_custom_variables(built: Built) -> None:
    env = built.env("chat-a")
    assert {"AIM_ID", "AIM_MODEL_ID"}.isdisjoint(env)
    assert env["AIM_PROFILE_ID"] == "vllm-mi300x-fp8-tp1-latency"
    assert all(v["name"] != "custom-profile" for v in built.isvc("chat-a")["spec"]["predictor"]["volumes"])
    assert [c["metadata"]["labels"]["aim.eai.amd.com/service.name"] for c in built.of_kind("ConfigMap")] == [
        "finetuned", "llama-custom", "llama-finetuned"]


def test_services_sharing_a_custom_profile_get_one_configmap_each(tree: Tree) -> None:
    named = {"model": {"image": "amdenterpriseai/aim-base:0.8.5"},
             "template": {"name": "my-finetuned-qwen-mi300x-lat-fp8"}}
    built = build(tree, aim_service("ft-1", **named), aim_service("ft-2", **named))
    first, second = (built.named("ConfigMap", configmap_name(s)) for s in ("ft-1", "ft-2"))
    assert first["data"] == second["data"]
    assert built.env("ft-1")["AIM_PROFILE_ID"] == built.env("ft-2")["AIM_PROFILE_ID"]


def _build_with_custom_weights(tree: Tree, profile: str) -> Result:
    """One service on the custom-weight profile `profile` (CUSTOM_WEIGHTS, edited)."""
    tree.write("catalog/catalog.yaml", SHIPPED)
    tree.write("overlays/dev/ml-team.yaml", profile)
    tree.write("overlays/dev/services.yaml", aim_service(
        "ft", model={"image": "amdenterpriseai/aim-base:0.8.5"}, template={"name": "my-finetuned-qwen-mi300x-lat-fp8"}))
    return run_cli("build", root=tree.root)


def test_an_oversized_custom_profile_is_refused_at_its_engine_args(tree: Tree) -> None:
    huge = CUSTOM_WEIGHTS.replace("enforce-eager: true", "enforce-eager: true, chat-template: " + "x" * (1 << 20))
    res = _build_with_custom_weights(tree, huge)
    assert res.code == 1
    assert [e.split(": error")[0] for e in res.errors] == ["overlays/dev/ml-team.yaml:17:3"]
    assert "ConfigMapTooLarge" in res.errors[0] and "1 MiB" in res.errors[0]
    assert not (tree.root / "rendered").exists()


def test_a_custom_profile_needs_a_usable_aim_id(tree: Tree) -> None:
    res = _build_with_custom_weights(tree, CUSTOM_WEIGHTS.replace("aimId: qwen/qwen3-32b", "aimId: ../etc"))
    assert res.code == 1
    assert res.errors[0].startswith("overlays/dev/ml-team.yaml:5:10: error[InvalidAimId]")


def test_spec_model_custom_is_the_operators_generated_model_and_template(built: Built) -> None:
    labels = built.isvc("cpu-svc")["metadata"]["labels"]
    # reference/vectors/isvc_build.yaml case C
    assert labels["aim.eai.amd.com/model"] == "cpu-inline-model-39384b4b"
    assert labels["aim.eai.amd.com/template"] == "cpu-inline-model-39384b4b-custom-3e442929"
    env = built.env("cpu-svc")
    assert env["AIM_MODEL_ID"] == "cpu/inline-model"
    assert "AIM_ID" not in env  # not a custom profile: no ConfigMap
    assert built.container("cpu-svc")["image"] == "ghcr.io/silogen/aim-dummy:0.1.10"
    assert built.container("cpu-svc")["resources"]["requests"]["cpu"] == "500m"


def test_spec_model_custom_reuses_a_namespace_profile_of_the_same_weights(tree: Tree) -> None:
    custom = {"baseImage": "amdenterpriseai/aim-base:0.8.5", "hardware": {"gpu": {"model": "MI300X", "requests": 2}},
              "modelSources": [{"modelId": "my-org/qwen-finetuned-fp8", "sourceUri": "s3://my-bucket/fp8-weights/",
                                "env": [{"name": "AWS_ENDPOINT_URL", "value": "https://minio.example.com"}]}]}
    built = build(tree, aim_service("ft", model={"custom": custom}, overrides={"precision": "fp8"}))
    assert built.isvc("ft")["metadata"]["labels"]["aim.eai.amd.com/template"] == "my-finetuned-qwen-mi300x-lat-fp8"


def test_custom_profiles_are_deterministic(tree: Tree) -> None:
    first = build(tree).files
    for path in list((tree.root / "rendered").rglob("*.yaml")):
        path.unlink()
    assert build(tree).files == first
    assert QWEN  # the shared fixtures are in use
