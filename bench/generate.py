"""A realistic aimgen repository of N services, for the benchmark (deterministic for a given N and seed).

Shapes follow aimgen's input models: a catalog of AIMClusterProfiles over MI300X/MI325X/MI355X (one primary
per accelerator, optimized on MI300X), a CPU-only model, a v1alpha1 AIMClusterModel with its templates,
cluster runtime configs; four overlays (a `kubectl get nodes -o yaml` export and three ClusterInventory
documents with gateways), Namespace documents, namespace runtime configs and profiles; services with fixed
replicas or autoscaling, overrides, env from secretKeyRef, routing, caching, pull secrets and resources.
Most services live one per file; some namespaces keep all their services in one multi-document file.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

ACCELERATORS = (("MI300X", "optimized"), ("MI325X", "general"), ("MI355X", "preview"))
ACCELERATOR_LABEL = "feature.node.kubernetes.io/aim-accelerator."
# (short name, aimId, tensor parallel size)
MODELS = (
    ("llama-8b", "meta-llama/llama-3.1-8b-instruct", 1),
    ("llama-70b", "meta-llama/llama-3.1-70b-instruct", 2),
    ("llama-405b", "meta-llama/llama-3.1-405b-instruct", 8),
    ("qwen-32b", "qwen/qwen3-32b", 1),
    ("qwen-235b", "qwen/qwen3-235b-a22b", 4),
    ("deepseek-r1", "deepseek-ai/deepseek-r1", 8),
    ("gemma-27b", "google/gemma-3-27b-it", 1),
)
CPU_MODEL = ("qwen-tiny", "qwen/qwen3-0.6b")
MIXTRAL = "mistralai-mixtral-8x22b-instruct-v0-1"
# (overlay, share of the services, inventory form, accelerators present)
OVERLAYS = (
    ("prod-eu", 0.4, "nodes", ("MI300X", "MI355X")),
    ("prod-us", 0.3, "compact", ("MI300X", "MI325X", "MI355X")),
    ("staging", 0.2, "compact", ("MI300X", "MI355X")),
    ("dev", 0.1, "compact", ("MI300X", "MI355X")),
)
SERVICES_PER_NAMESPACE = 50
PURPOSES = ("chat", "rag", "agents", "batch", "eval", "code", "summarize", "search")


def image(aim_id: str) -> str:
    return f"amdenterpriseai/aim-{aim_id.replace('/', '-').replace('.', '-')}:0.8.5"


def dump_all(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


# --- catalog -------------------------------------------------------------------------------------------------


def cluster_profiles(short: str, aim_id: str, tp: int) -> list[dict[str, Any]]:
    docs = []
    for accelerator, kind in ACCELERATORS:
        for metric in ("latency", "throughput"):
            for precision in ("fp8", "bf16"):
                name = f"{short}-{accelerator.lower()}-{metric[:3]}-{precision}"
                docs.append({
                    "apiVersion": "aim.eai.amd.com/v1alpha2", "kind": "AIMClusterProfile",
                    "metadata": {"name": name, "labels": {"aim.eai.amd.com/model": short,
                                                          "aim.eai.amd.com/accelerator": accelerator.lower()}},
                    "spec": {
                        "aimId": aim_id, "modelId": f"amd/{aim_id.split('/')[1]}-{precision.upper()}",
                        "profileId": f"vllm-{accelerator.lower()}-{precision}-tp{tp}-{metric}", "engine": "vllm",
                        "metric": metric, "precision": precision, "type": kind,
                        "primary": metric == "latency" and precision == "fp8",
                        "acceleratorModel": accelerator, "acceleratorType": "gpu", "acceleratorCount": tp,
                        "image": image(aim_id),
                        "engineArgs": {"tensor-parallel-size": tp, "max-model-len": 32768 if metric == "latency"
                                       else 8192, "gpu-memory-utilization": 0.92, "max-num-seqs": 64 if metric ==
                                       "latency" else 512, "enable-chunked-prefill": True,
                                       **({"kv-cache-dtype": "fp8"} if precision == "fp8" else {})},
                        "engineEnv": {"HIP_FORCE_DEV_KERNARG": "1", "VLLM_ROCM_USE_AITER": "1",
                                      "TORCH_BLAS_PREFER_HIPBLASLT": "1"},
                        "modelSources": [{"modelId": f"amd/{aim_id.split('/')[1]}-{precision.upper()}",
                                          "sourceUri": f"hf://amd/{aim_id.split('/')[1]}-{precision.upper()}",
                                          "size": f"{16 * tp}Gi"}],
                    },
                })
    return docs


def cpu_profile() -> dict[str, Any]:
    short, aim_id = CPU_MODEL
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2", "kind": "AIMClusterProfile",
        "metadata": {"name": f"{short}-cpu-lat-bf16"},
        "spec": {"aimId": aim_id, "profileId": "vllm-cpu-bf16-latency", "engine": "vllm", "metric": "latency",
                 "precision": "bf16", "type": "optimized", "primary": True, "acceleratorType": "cpu",
                 "image": image(aim_id),
                 "resources": {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": {"memory": "16Gi"}}},
    }


def mixtral() -> list[dict[str, Any]]:
    model = {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterModel", "metadata": {"name": MIXTRAL},
             "spec": {"image": image("mistralai/mixtral-8x22b-instruct-v0.1"),
                      "discovery": {"createServiceTemplates": False, "extractMetadata": True}}}
    templates = [
        {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterServiceTemplate",
         "metadata": {"name": f"mixtral-8x22b-mi300x-{metric}"},
         "spec": {"modelName": MIXTRAL, "aimId": "mistralai/mixtral-8x22b-instruct-v0.1",
                  "profileId": f"vllm-mi300x-fp8-tp4-{metric}", "metric": metric, "precision": "fp8",
                  "type": kind, "hardware": {"gpu": {"model": "MI300X", "requests": 4}},
                  "env": [{"name": "VLLM_ROCM_USE_AITER_MOE", "value": "1"}]}}
        for metric, kind in (("latency", "optimized"), ("throughput", "preview"))
    ]
    return [model, *templates]


def runtime_configs() -> list[dict[str, Any]]:
    common = {"labelPropagation": {"enabled": True, "match": ["team-*", "cost-center"]}}
    return [
        {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterRuntimeConfig", "metadata": {"name": name},
         "spec": {"env": [{"name": "VLLM_LOGGING_LEVEL", "value": level}, {"name": "HF_HUB_DISABLE_TELEMETRY",
                                                                          "value": "1"}],
                  **common, "storage": {"defaultStorageClassName": "ceph-rbd-nvme", "pvcHeadroomPercent": 10}}}
        for name, level in (("default", "INFO"), ("batch-inference", "WARNING"))
    ]


# --- overlays ------------------------------------------------------------------------------------------------


def node(name: str, accelerator: str | None, index: int) -> dict[str, Any]:
    """One Node as `kubectl get nodes -o yaml` exports it (server fields included; aimgen ignores them)."""
    labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "node.kubernetes.io/instance-type": "supermicro-as-8125gs-tnmr2",
              "topology.kubernetes.io/zone": f"eu-central-dc2-{'abc'[index % 3]}",
              ACCELERATOR_LABEL + "EPYC_ZEN4": "192"}
    allocatable = {"cpu": "382", "memory": "2366126956Ki", "pods": "110", "ephemeral-storage": "1728379593917"}
    if accelerator:
        labels.update({ACCELERATOR_LABEL + accelerator: "8", "amd.com/gpu.family": "AI",
                       "amd.com/gpu.product-name": f"AMD_Instinct_{accelerator}_OAM"})
        allocatable["amd.com/gpu"] = "8"
    condition = {"lastHeartbeatTime": "2025-06-02T08:14:51Z", "lastTransitionTime": "2025-02-04T14:21:07Z"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "resourceVersion": str(88213400 + index),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                     "projectcalico.org/IPv4Address": f"10.40.{index // 200}.{index % 200 + 10}/24"},
                     "creationTimestamp": "2025-02-04T14:21:07Z", "uid": f"b9541d51-a2c6-f732-cfbf-{index:012d}"},
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "addresses": [{"address": f"10.40.1.{index}", "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "allocatable": allocatable, "capacity": dict(allocatable),
            "conditions": [{**condition, "message": f"kubelet has no {what}", "reason": f"KubeletHasNo{what}",
                            "status": "False", "type": what} for what in ("MemoryPressure", "DiskPressure")],
            "nodeInfo": {"kernelVersion": "6.8.0-57-generic", "kubeletVersion": "v1.31.6",
                         "containerRuntimeVersion": "containerd://1.7.27", "osImage": "Ubuntu 24.04.2 LTS"},
        },
    }


def inventory(overlay: str, form: str, accelerators: tuple[str, ...]) -> dict[str, Any]:
    if form == "nodes":
        nodes = [node(f"{overlay}-{acc.lower()}-{i:02d}", acc, len(accelerators) * i + k)
                 for k, acc in enumerate(accelerators) for i in range(12)]
        nodes += [node(f"{overlay}-epyc-{i:02d}", None, 100 + i) for i in range(4)]
        return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": nodes}
    pools = [{"name": acc.lower(), "count": 8, "labels": {ACCELERATOR_LABEL + acc: "8"},
              "allocatable": {"amd.com/gpu": "8", "cpu": "192", "memory": "1536Gi"}} for acc in accelerators]
    pools.append({"name": "epyc", "count": 4, "labels": {ACCELERATOR_LABEL + "EPYC_ZEN4": "192"},
                  "allocatable": {"cpu": "190", "memory": "768Gi"}})
    return {
        "apiVersion": "aimgen.amd.com/v1alpha1", "kind": "ClusterInventory", "metadata": {"name": overlay},
        "spec": {"nodePools": pools,
                 "gateways": [{"name": "inference-gateway", "namespace": "gateways",
                               "listeners": [{"name": "https", "allowedRoutes": {"namespaces": {"from": "All"}}}]}]},
    }


def overlay_doc(overlay: str) -> dict[str, Any]:
    return {"apiVersion": "aimgen.amd.com/v1alpha1", "kind": "Overlay", "metadata": {"name": overlay},
            "spec": {"settings": {"routing": {"defaultGatewayRef": {"name": "inference-gateway",
                                                                     "namespace": "gateways"}}}}}


def namespace_doc(name: str, team: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"team-name": f"team-{team}", "cost-center": f"cc-{3000 + team}",
                                                  "gateway-access": "inference"}}}


def namespace_runtime_config(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMRuntimeConfig",
            "metadata": {"name": "batch-inference", "namespace": namespace},
            "spec": {"env": [{"name": "VLLM_LOGGING_LEVEL", "value": "INFO"},
                             {"name": "HF_HOME", "value": "/workspace/cache/hf"}],
                     "labelPropagation": {"enabled": True, "match": ["team-*", "cost-center", "project"]}}}


def service(rng: random.Random, name: str, namespace: str, team: int) -> dict[str, Any]:
    """One AIMService with a realistic mix of the spec's features."""
    roll = rng.random()
    spec: dict[str, Any]
    if roll < 0.04:
        spec = {"model": {"image": image(CPU_MODEL[1])}}
    elif roll < 0.10:
        spec = {"model": {"name": MIXTRAL}}
    else:
        spec = {"model": {"image": image(rng.choice(MODELS)[1])}}
        pick = rng.random()
        if pick < 0.2:
            spec["overrides"] = {"metric": rng.choice(("latency", "throughput")),
                                 "precision": rng.choice(("fp8", "bf16"))}
        elif pick < 0.25:
            spec["overrides"] = {"hardware": {"gpu": {"model": "MI355X"}}}
    scaling = rng.random()
    if scaling < 0.5:
        spec["replicas"] = rng.randint(1, 4)
    elif scaling < 0.85:
        low = rng.randint(1, 2)
        spec["minReplicas"], spec["maxReplicas"] = low, low + rng.randint(1, 6)
        spec["autoScaling"] = {"metrics": [{"type": "PodMetric", "podmetric": {
            "metric": {"backend": "opentelemetry", "metricNames": ["vllm:num_requests_running"],
                       "query": "vllm:num_requests_running", "operationOverTime": "avg"},
            "target": {"type": "AverageValue", "averageValue": str(rng.choice((4, 8, 16)))}}}]}
    if rng.random() < 0.1:
        spec["runtimeConfigName"] = "batch-inference"
    if rng.random() < 0.1:
        spec["resources"] = {"requests": {"memory": "96Gi"}, "limits": {"memory": "128Gi"}}
    env: list[dict[str, Any]] = []
    if rng.random() < 0.6:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "huggingface-token", "key": "token"}}})
    if rng.random() < 0.3:
        env.append({"name": "VLLM_LOGGING_LEVEL", "value": rng.choice(("DEBUG", "INFO", "WARNING"))})
    if rng.random() < 0.1:
        env.append({"name": "MAX_JOBS", "value": str(rng.randint(1, 64))})
    if env:
        spec["env"] = env
    if rng.random() < 0.2:
        spec["imagePullSecrets"] = [{"name": "amd-registry"}]
    if rng.random() < 0.1:
        spec["serviceAccountName"] = f"team-{team}-inference"
    if rng.random() < 0.5:
        routing: dict[str, Any] = {"enabled": True}
        if rng.random() < 0.2:
            routing["pathTemplate"] = "/{.metadata.labels['team-name']}/{.metadata.namespace}/{.metadata.name}"
        if rng.random() < 0.2:
            routing["requestTimeout"] = "120s"
        spec["routing"] = routing
    if rng.random() < 0.3:
        spec["caching"] = {"mode": "Dedicated" if rng.random() < 0.15 else "Shared"}
    labels = {"team-name": f"team-{team}", "cost-center": f"cc-{3000 + team}",
              "app.kubernetes.io/part-of": f"{rng.choice(PURPOSES)}-platform"}
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
            "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def generate(root: Path, services: int, seed: int = 9) -> list[str]:
    """Write the tree under `root`; returns the service files (relative to root), in generation order."""
    rng = random.Random(seed)
    for short, aim_id, tp in MODELS:
        write(root, f"catalog/profiles/{short}.yaml", dump_all(cluster_profiles(short, aim_id, tp)))
    write(root, "catalog/profiles/qwen-tiny.yaml", dump_all([cpu_profile()]))
    write(root, "catalog/models/mixtral.yaml", dump_all(mixtral()))
    write(root, "catalog/runtime-configs.yaml", dump_all(runtime_configs()))
    service_files: list[str] = []
    team = 0
    for overlay, share, form, accelerators in OVERLAYS:
        base = f"overlays/{overlay}"
        write(root, f"{base}/inventory.yaml", dump_all([inventory(overlay, form, accelerators)]))
        write(root, f"{base}/overlay.yaml", dump_all([overlay_doc(overlay)]))
        count = round(services * share) if overlay != OVERLAYS[-1][0] else services - sum(
            round(services * s) for _, s, _, _ in OVERLAYS[:-1])
        namespaces: list[dict[str, Any]] = []
        for start in range(0, count, SERVICES_PER_NAMESPACE):
            team += 1
            ns = f"team-{team:03d}"
            namespaces.append(namespace_doc(ns, team))
            if team % 10 == 0:
                write(root, f"{base}/{ns}/runtime-config.yaml", dump_all([namespace_runtime_config(ns)]))
            batch = [service(rng, f"{rng.choice(PURPOSES)}-{i:05d}", ns, team)
                     for i in range(start, min(count, start + SERVICES_PER_NAMESPACE))]
            if team % 7 == 0:  # some teams keep their services in one multi-document file
                rel = f"{base}/services/{ns}/services.yaml"
                write(root, rel, dump_all(batch))
                service_files.append(rel)
                continue
            for doc in batch:
                rel = f"{base}/services/{ns}/{doc['metadata']['name']}.yaml"
                write(root, rel, dump_all([doc]))
                service_files.append(rel)
        write(root, f"{base}/namespaces.yaml", dump_all(namespaces))
    return service_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    files = generate(args.root, args.services, args.seed)
    print(f"{args.services} services in {len(files)} files under {args.root}")


if __name__ == "__main__":
    main()
