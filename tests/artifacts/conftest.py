"""Model-artifact tests: a small tree with custom profiles, custom weights and caches, built once per test."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support import Tree, run_cli
from tests.validate.conftest import schema_dir, store  # noqa: F401  (session fixtures reused here)

SHIPPED = """\
apiVersion: aim.eai.amd.com/v1alpha2
kind: AIMClusterProfile
metadata: {name: qwen-qwen3-32b-mi300x-lat-fp8}
spec:
  aimId: qwen/qwen3-32b
  modelId: Qwen/Qwen3-32B-FP8
  profileId: vllm-mi300x-fp8-tp1-latency
  metric: latency
  precision: fp8
  type: optimized
  primary: true
  acceleratorModel: MI300X
  acceleratorCount: 1
  image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
  engineArgs: {distributed_executor_backend: mp, gpu-memory-utilization: "0.95", max-model-len: 32768}
  engineEnv: {VLLM_DO_NOT_TRACK: "1", HIP_FORCE_DEV_KERNARG: "1"}
  modelSources:
  - {modelId: Qwen/Qwen3-32B-FP8, sourceUri: hf://Qwen/Qwen3-32B-FP8, size: 33Gi}
"""

# seed 003 "Namespace Profile - Custom Weights", with an S3 endpoint and credentials from a Secret
CUSTOM_WEIGHTS = """\
apiVersion: aim.eai.amd.com/v1alpha2
kind: AIMProfile
metadata: {name: my-finetuned-qwen-mi300x-lat-fp8, namespace: ml-team}
spec:
  aimId: qwen/qwen3-32b
  modelId: my-org/qwen-finetuned-fp8
  engine: vllm
  metric: latency
  precision: fp8
  type: general
  primary: false
  acceleratorModel: MI300X
  acceleratorType: gpu
  acceleratorCount: 2
  resources: {requests: {cpu: "8", memory: 64Gi}}
  image: amdenterpriseai/aim-base:0.8.5
  engineArgs: {gpu-memory-utilization: "0.90", tensor-parallel-size: 2, enforce-eager: true}
  modelSources:
  - modelId: my-org/qwen-finetuned-fp8
    sourceUri: s3://my-bucket/fp8-weights/
    size: 30Gi
    precision: fp8
    env:
    - {name: AWS_ENDPOINT_URL, value: "https://minio.example.com"}
    - name: AWS_ACCESS_KEY_ID
      valueFrom: {secretKeyRef: {name: s3-creds, key: access-key}}
    - name: AWS_SECRET_ACCESS_KEY
      valueFrom: {secretKeyRef: {name: s3-creds, key: secret-key}}
"""

# seed 001 "Deploying with a Custom Profile Template" and "Custom Profile via AIMModel"
V1ALPHA1 = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMModel
metadata: {name: my-llama-model, namespace: ml-team}
spec:
  image: amdenterpriseai/aim-meta-llama-llama-3-8b:0.8.5
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMServiceTemplate
metadata: {name: llama-3-8b-custom, namespace: ml-team}
spec:
  aimId: meta-llama/Llama-3-8B
  modelId: meta-llama/Llama-3-8B
  modelName: my-llama-model
  metric: latency
  precision: fp16
  type: optimized
  hardware: {gpu: {model: MI300X, requests: 1}}
  customProfile:
    engineArgs: {dtype: float16, gpu-memory-utilization: 0.95, max-num-seqs: 256}
    envVars: {PYTORCH_TUNABLEOP_ENABLED: "1"}
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMModel
metadata: {name: my-finetuned-llama, namespace: ml-team}
spec:
  image: amdenterpriseai/aim-vllm-base:0.10.0
  modelSources:
  - {modelId: my-org/llama-finetuned, sourceUri: "s3://my-bucket/weights/", size: 16Gi}
  customTemplates:
  - name: llama-custom-tp1
    aimId: meta-llama/Llama-3-8B
    modelId: meta-llama/Llama-3-8B
    hardware: {gpu: {model: MI300X, requests: 1}}
    profile: {metric: latency, precision: fp16}
    type: optimized
    customProfile:
      engineArgs: {dtype: float16, gpu-memory-utilization: 0.95}
      envVars: {HIP_FORCE_DEV_KERNARG: "1"}
"""


def aim_service(name: str, namespace: str = "ml-team", **spec: Any) -> str:
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
                           "metadata": {"name": name, "namespace": namespace}, "spec": spec}, sort_keys=False)


QWEN = {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}
HF_TOKEN = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}

SERVICES = [
    aim_service("chat-a", model=QWEN),
    aim_service("chat-b", model=QWEN),
    aim_service("chat-dedicated", model=QWEN, caching={"mode": "Dedicated"}),
    aim_service("chat-other-ns", namespace="research", model=QWEN),
    aim_service("finetuned", model={"image": "amdenterpriseai/aim-base:0.8.5"},
                template={"name": "my-finetuned-qwen-mi300x-lat-fp8"}),
    aim_service("llama-custom", model={"name": "my-llama-model"}, template={"name": "llama-3-8b-custom"}),
    aim_service("llama-finetuned", model={"name": "my-finetuned-llama"}, env=[HF_TOKEN]),
    aim_service("cpu-svc", namespace="team-a", template={"allowUnoptimized": True}, model={"custom": {
        "baseImage": "ghcr.io/silogen/aim-dummy:0.1.10",
        "modelSources": [{"modelId": "cpu/inline-model", "sourceUri": "hf://sshleifer/tiny-gpt2"}],
        "hardware": {"cpu": {"requests": "500m"}}}}),
]


class Built:
    """A built tree: rendered objects by kind and name, the build's stderr."""

    def __init__(self, tree: Tree, stderr: str):
        self.tree, self.stderr = tree, stderr
        self.files = tree.rendered()
        self.objects = {path: yaml.safe_load(text) for path, text in self.files.items()}

    def of_kind(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.objects.values()
                if o["kind"] == kind and namespace in (None, o["metadata"]["namespace"])]

    def isvc(self, service: str) -> dict[str, Any]:
        found = [o for o in self.of_kind("InferenceService")
                 if o["metadata"]["labels"]["aim.eai.amd.com/service.name"] == service]
        assert len(found) == 1, service
        return found[0]

    def container(self, service: str) -> dict[str, Any]:
        return self.isvc(service)["spec"]["predictor"]["containers"][0]

    def env(self, service: str) -> dict[str, Any]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in self.container(service)["env"]}

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, (kind, name)
        return found[0]


def build(tree: Tree, *documents: str, catalog: str = "") -> Built:
    tree.write("catalog/catalog.yaml", catalog or "---\n".join([SHIPPED, V1ALPHA1]))
    tree.write("overlays/dev/ml-team.yaml", CUSTOM_WEIGHTS)
    tree.write("overlays/dev/services.yaml", "---\n".join(documents or SERVICES))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    return Built(tree, res.stderr)


@pytest.fixture
def built(tree: Tree) -> Built:
    return build(tree)
