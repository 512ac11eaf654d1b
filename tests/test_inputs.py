"""Bad inputs are refused with a code at the offending value's file:line:col, never a traceback."""

from __future__ import annotations

import pytest

from tests.support import Tree, profile, run_cli, service

SVC = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
metadata:
  name: qwen-chat
  namespace: ml-team
spec:
  model:
    image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
"""


@pytest.mark.parametrize(("extra", "expected"), [
    ("  replicas: \"3\"\n", "s.yaml:9:13: error[InvalidType]"),
    ("  bogus: 1\n", "s.yaml:9:3: error[UnknownField]"),
    ("  overrides:\n    metric: fast\n", "s.yaml:10:13: error[InvalidEnumValue]"),
    ("  env:\n  - name: HF_TOKEN\n    value: abc\n", "s.yaml:11:12: error[SecretInlined]"),
    ("  env:\n  - name: X\n    value: 1\n", "s.yaml:11:12: error[InvalidType]"),
    ("  resources:\n    limits:\n      cpu: 4x\n", "s.yaml:11:12: error[InvalidValue]"),
    ("  minReplicas: 0\n", "s.yaml:9:16: error[InvalidValue]"),
    ("  caching:\n    mode: Sometimes\n", "s.yaml:10:11: error[InvalidEnumValue]"),
])
def test_service_field_errors(tree: Tree, extra: str, expected: str) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", SVC + extra)
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert any(expected in e for e in res.errors), res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("text", "expected"), [
    (SVC.replace("qwen-chat", "Qwen_Chat"), "s.yaml:4:9: error[InvalidValue]"),
    (SVC.replace("kind: AIMService", "kind: AIMServce"), "s.yaml:2:7: error[UnknownKind]"),
    (SVC.replace("v1alpha1", "v1beta9"), "s.yaml:2:7: error[UnknownKind]"),
    (SVC + "  labels: {}\n", "s.yaml:9:3: error[UnknownField]"),
    (SVC.replace("  namespace: ml-team\n", "  namespace: ml-team\n  labels: {team: 'a b'}\n"),
     "s.yaml:6:18: error[InvalidValue]"),
    (SVC + "    name: also\n", "s.yaml:7:3: error[InvalidValue]"),
    ("a: [1,\n", "s.yaml:2:1: error[YAMLSyntaxError]"),
    (SVC + "---\n" + SVC, "s.yaml:13:9: error[DuplicateObject]"),
])
def test_document_errors(tree: Tree, text: str, expected: str) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", text)
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    assert any(expected in e for e in res.errors), res.stderr


def test_profile_errors_point_into_the_catalog(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p", type="fast", engineEnv={"HF_TOKEN": "x"}))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1
    codes = {e.split("error[")[1].split("]")[0] for e in res.errors if e.startswith("catalog/p.yaml")}
    assert codes == {"InvalidEnumValue", "SecretInlined"}


def test_missing_inventory(tree: Tree) -> None:
    (tree.root / "overlays/dev/inventory.yaml").unlink()
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and "error[InventoryNotFound]" in res.stderr


def test_services_do_not_belong_in_the_catalog(tree: Tree) -> None:
    tree.write("catalog/p.yaml", profile("p") + "---\n" + service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and "catalog/p.yaml" in res.stderr and "error[MisplacedDocument]" in res.stderr


def test_kubectl_node_list_inventory(tree: Tree) -> None:
    tree.write("overlays/dev/inventory.yaml", """
        apiVersion: v1
        kind: List
        metadata: {resourceVersion: ""}
        items:
        - apiVersion: v1
          kind: Node
          metadata:
            name: gpu-node-1
            uid: 1b0c
            labels: {feature.node.kubernetes.io/aim-accelerator.MI300X: "8", kubernetes.io/hostname: gpu-node-1}
          spec: {podCIDR: 10.0.0.0/24}
          status:
            allocatable: {amd.com/gpu: "8", cpu: "190", memory: 1500Gi, pods: "110"}
            conditions: [{type: Ready, status: "True"}]
        """)
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr


def test_tainted_and_cordoned_nodes_are_not_capacity(tree: Tree) -> None:
    node = """
        - apiVersion: v1
          kind: Node
          metadata: {name: %s, labels: {feature.node.kubernetes.io/aim-accelerator.MI300X: "8"}}
          spec: %s
          status: {allocatable: {amd.com/gpu: "8", cpu: "190", memory: 1500Gi}}
    """
    tree.write("overlays/dev/inventory.yaml", "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        __import__("textwrap").dedent(node % args).replace("\n-", "\n-", 1) for args in [
            ("cordoned", "{unschedulable: true}"),
            ("tainted", "{taints: [{key: gpu, effect: NoSchedule}]}"),
        ]).lstrip("\n"))
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("overlays/dev/s.yaml", service())
    res = run_cli("build", root=tree.root)
    assert res.code == 1 and "error[TemplateNotFound]" in res.stderr
    res = run_cli("profiles", "--format", "json", root=tree.root)
    import json

    assert json.loads(res.stdout)[0]["status"] == "NotAvailable"
