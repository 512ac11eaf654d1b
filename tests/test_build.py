"""End to end: inputs on disk -> rendered/ (writes, check, prune, atomicity, determinism)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import Tree, profile, run_cli, service


def _simple(tree: Tree) -> None:
    tree.write("catalog/profiles.yaml", profile("qwen3-32b-mi300x-lat-fp8"))
    tree.write("overlays/dev/services.yaml", service(replicas=2))


def test_build_writes_one_object_per_file(tree: Tree) -> None:
    _simple(tree)
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    files = tree.rendered()
    assert list(files) == ["dev/ml-team/inferenceservice-qwen-chat-a04542d9.yaml"]
    obj = yaml.safe_load(files["dev/ml-team/inferenceservice-qwen-chat-a04542d9.yaml"])
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aimgen"
    assert obj["metadata"]["labels"]["aim.eai.amd.com/service.name"] == "qwen-chat"
    assert obj["spec"]["predictor"]["minReplicas"] == obj["spec"]["predictor"]["maxReplicas"] == 2


def test_check_reports_drift_with_exit_3_and_writes_nothing(tree: Tree) -> None:
    _simple(tree)
    res = run_cli("build", "--check", root=tree.root)
    assert res.code == 3
    assert "would be added: dev/ml-team/inferenceservice-qwen-chat-a04542d9.yaml" in res.stderr
    assert not (tree.root / "rendered").exists()
    assert run_cli("build", root=tree.root).code == 0
    assert run_cli("build", "--check", root=tree.root).code == 0


def test_stale_owned_files_are_removed_and_foreign_files_kept(tree: Tree) -> None:
    _simple(tree)
    run_cli("build", root=tree.root)
    foreign = tree.write("rendered/dev/ml-team/kustomization.yaml", "resources: []\n")
    tree.write("overlays/dev/services.yaml", service(name="renamed", replicas=2))
    assert run_cli("build", root=tree.root).code == 0
    files = tree.rendered()
    assert "dev/ml-team/inferenceservice-qwen-chat-a04542d9.yaml" not in files
    assert any(p.startswith("dev/ml-team/inferenceservice-renamed-") for p in files)
    assert foreign.read_text() == "resources: []\n"


def test_failed_build_leaves_rendered_untouched(tree: Tree) -> None:
    _simple(tree)
    run_cli("build", root=tree.root)
    before = tree.rendered()
    tree.write("overlays/dev/services.yaml", service(replicas=3) + "---\n" + service(name="bad", runtimeConfigName="x"))
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert any("error[ConfigNotFound]" in e for e in res.errors)
    assert tree.rendered() == before


def test_unchanged_outputs_are_not_rewritten(tree: Tree) -> None:
    _simple(tree)
    run_cli("build", root=tree.root)
    path = tree.root / "rendered/dev/ml-team/inferenceservice-qwen-chat-a04542d9.yaml"
    os.utime(path, (1_000_000, 1_000_000))
    assert run_cli("build", root=tree.root).code == 0
    assert path.stat().st_mtime == 1_000_000


def test_unknown_overlay_is_a_usage_error(tree: Tree) -> None:
    _simple(tree)
    res = run_cli("build", "--overlay", "nope", root=tree.root)
    assert res.code == 2 and "OverlayNotFound" in res.stderr


def test_output_is_identical_across_hash_seeds(tree: Tree, tmp_path: Path) -> None:
    _simple(tree)
    tree.write("overlays/dev/more.yaml", "".join(
        "---\n" + service(name=f"svc-{i}", namespace=f"team-{i % 3}", replicas=1) for i in range(6)))
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "aimgen", "build", "--root", str(tree.root)], check=True, env=env,
                       capture_output=True)
        outputs.append(tree.rendered())
        subprocess.run(["rm", "-rf", str(tree.root / "rendered")], check=True)
    assert outputs[0] == outputs[1] and len(outputs[0]) == 7


def test_json_report_names_profile_and_objects(tree: Tree) -> None:
    _simple(tree)
    res = run_cli("build", "--check", "--format", "json", root=tree.root)
    import json

    report = json.loads(res.stdout)
    svc = report["overlays"][0]["services"][0]
    assert svc["profile"] == "AIMClusterProfile qwen3-32b-mi300x-lat-fp8"
    assert svc["objects"] == ["InferenceService/qwen-chat-a04542d9"]
    assert report["exitCode"] == 3


def test_strict_turns_warnings_into_errors(tree: Tree) -> None:
    tree.write("catalog/profiles.yaml", profile("p", type="preview"))
    tree.write("overlays/dev/services.yaml", service())
    assert run_cli("build", root=tree.root).code == 0
    res = run_cli("build", "--strict", root=tree.root)
    assert res.code == 1 and "error[ProfileNotOptimized]" in res.stderr
