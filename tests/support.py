"""Test helpers: small input trees written to tmp dirs, and the shared reference data."""

from __future__ import annotations

import textwrap
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

INVENTORY = """\
apiVersion: aimgen.amd.com/v1alpha1
kind: ClusterInventory
metadata: {name: dev}
spec:
  nodePools:
  - name: mi300x
    count: 2
    labels: {feature.node.kubernetes.io/aim-accelerator.MI300X: "8"}
    allocatable: {amd.com/gpu: "8", cpu: "192", memory: 1536Gi}
"""


def profile(name: str, **spec: object) -> str:
    """An AIMClusterProfile document (YAML) with sensible defaults for the fields not given."""
    import yaml

    base: dict[str, object] = {
        "aimId": "qwen/qwen3-32b", "profileId": f"vllm-{name}", "engine": "vllm", "metric": "latency",
        "precision": "fp8", "type": "optimized", "primary": True, "acceleratorModel": "MI300X",
        "acceleratorType": "gpu", "acceleratorCount": 1, "image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
    }
    base.update(spec)
    base = {k: v for k, v in base.items() if v is not None}
    kind = "AIMProfile" if "namespace" in spec else "AIMClusterProfile"
    ns = base.pop("namespace", None)
    meta: dict[str, object] = {"name": name, **({"namespace": ns} if ns else {})}
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": kind, "metadata": meta, "spec": base},
                          sort_keys=False)


def service(name: str = "qwen-chat", namespace: str = "ml-team", **spec: object) -> str:
    import yaml

    body: dict[str, object] = {"model": {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}}
    body.update(spec)
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
                           "metadata": {"name": name, "namespace": namespace}, "spec": body}, sort_keys=False)


class Tree:
    """A repository on disk: catalog/, overlays/<name>/, rendered/."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text)
        return path

    def rendered(self) -> dict[str, str]:
        base = self.root / "rendered"
        return {p.relative_to(base).as_posix(): p.read_text() for p in sorted(base.rglob("*")) if p.is_file()}



class Result:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if ": error[" in line]

    def codes(self) -> list[str]:
        return [line.split("[", 1)[1].split("]", 1)[0] for line in self.stderr.splitlines() if "error[" in line
                or "warning[" in line]


def run_cli(*args: str, root: Path | None = None) -> Result:
    """Invoke the CLI in-process (as `aimgen ARGS --root ROOT`)."""
    from click.testing import CliRunner

    from aimgen.cli import cli

    argv = list(args)
    if root is not None:
        argv += ["--root", str(root)]
    res = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return Result(res.exit_code, res.stdout, res.stderr)
