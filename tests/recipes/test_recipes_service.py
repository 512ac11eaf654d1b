"""Imported profiles in a build: the example tree's staging service, and SPEC §5 selection among them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from aimgen.recipes.commands import run_import
from tests.support import run_cli

REPO = Path(__file__).resolve().parents[2]
SERVICE = "overlays/staging/services/recipe-imported.yaml"


def _tree(tmp_path: Path, *recipes: str) -> Path:
    """A repository whose catalog/recipes is imported afresh from the sample recipes."""
    root = tmp_path / "repo"
    root.mkdir()
    paths = [REPO / "recipes" / r for r in recipes] or [REPO / "recipes"]
    assert run_import(paths, REPO, root / "catalog" / "recipes").exit_code == 0
    return root


def _report(root: Path, overlay: str) -> tuple[int, dict[str, dict]]:
    res = run_cli("build", "--overlay", overlay, "--format", "json", root=root)
    report = json.loads(res.stdout)
    services = {f"{s['namespace']}/{s['name']}": s for o in report["overlays"] for s in o["services"]}
    return res.code, services


def test_example_service_compiles_with_its_imported_profile(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    shutil.copytree(REPO / "overlays", root / "overlays")
    for folder in (REPO / "catalog").iterdir():
        if folder.name != "recipes":
            (shutil.copytree if folder.is_dir() else shutil.copy)(folder, root / "catalog" / folder.name)
    code, services = _report(root, "staging")
    assert code == 0
    legacy = services["research/llama-3-8b-legacy"]
    assert legacy["profile"] == "AIMClusterProfile llama-3-8b-mi250-fp16-vllm-1gpu"
    assert [d["code"] for d in legacy["diagnostics"]] == ["UnoptimizedProfile"]
    (isvc_path,) = (root / "rendered" / "staging" / "research").glob("inferenceservice-llama-3-8b-legacy-*.yaml")
    isvc = yaml.safe_load(isvc_path.read_text())
    container = isvc["spec"]["predictor"]["containers"][0]
    image = yaml.safe_load((REPO / SERVICE).read_text())["spec"]["model"]["image"]
    assert container["image"] == image
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert json.loads(env["AIM_ENGINE_ARGS"]) == {
        "dtype": "float16", "gpu-memory-utilization": 0.8, "max-batch-size": 16, "max-context-len": 8192,
    }
    assert container["resources"]["limits"]["amd.com/gpu"] == "1"
    terms = isvc["spec"]["predictor"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == (
        "feature.node.kubernetes.io/aim-accelerator.MI250"
    )


def _service(name: str, **spec: object) -> dict:
    body = {"model": {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}, "replicas": 1, **spec}
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
            "metadata": {"name": name, "namespace": "research"}, "spec": body}


def test_selection_among_imported_profiles(tmp_path: Path) -> None:
    """Per model and hardware one primary; the GPU override picks the hardware; unoptimized needs the ack."""
    root = _tree(tmp_path, "qwen3-32b-mi250-bf16.yaml", "qwen3-32b-mi300x-bf16.yaml")
    overlay = root / "overlays" / "lab"
    overlay.mkdir(parents=True)
    shutil.copy(REPO / "overlays" / "staging" / "inventory.yaml", overlay / "inventory.yaml")  # MI250 and MI300X
    ack = {"allowUnoptimized": True}
    services = [
        _service("on-mi250", overrides={"hardware": {"gpu": {"model": "MI250"}}}, template=ack),
        _service("on-mi300x", overrides={"hardware": {"gpu": {"model": "MI300X"}}}, template=ack),
        _service("sglang-by-name", template={"name": "qwen3-32b-mi250-bf16-sglang-1gpu", **ack}),
    ]
    (overlay / "services.yaml").write_text(yaml.safe_dump_all(services, sort_keys=False))
    code, report = _report(root, "lab")
    assert code == 0
    assert {name: s["profile"] for name, s in report.items()} == {
        "research/on-mi250": "AIMClusterProfile qwen3-32b-mi250-bf16-vllm-1gpu",
        "research/on-mi300x": "AIMClusterProfile qwen3-32b-mi300x-bf16-vllm-1gpu",
        "research/sglang-by-name": "AIMClusterProfile qwen3-32b-mi250-bf16-sglang-1gpu",
    }
    (overlay / "services.yaml").write_text(yaml.safe_dump(_service("no-ack", overrides={
        "hardware": {"gpu": {"model": "MI250"}}})))
    code, report = _report(root, "lab")
    assert code == 1
    assert [d["code"] for d in report["research/no-ack"]["diagnostics"]] == ["UnoptimizedProfileRequiresAck"]
