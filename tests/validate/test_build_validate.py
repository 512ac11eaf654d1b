"""`aimgen build --validate`: the whole output is checked before anything is written."""

from __future__ import annotations

from pathlib import Path

from tests.support import Tree, profile, run_cli, service


def _tree(tree: Tree, annotation_bytes: int) -> None:
    tree.write("catalog/p.yaml", profile("p"))
    tree.write("catalog/rc.yaml", f"""
        apiVersion: aim.eai.amd.com/v1alpha1
        kind: AIMClusterRuntimeConfig
        metadata: {{name: default}}
        spec:
          routing:
            enabled: true
            gatewayRef: {{name: gw, namespace: gateways}}
            annotations: {{example.com/notes: "{'x' * annotation_bytes}"}}
        """)
    tree.write("overlays/dev/s.yaml", service())


def test_valid_output_is_written(tree: Tree, schema_dir: Path) -> None:
    _tree(tree, 10)
    res = run_cli("build", "--validate", "--schemas", str(schema_dir), root=tree.root)
    assert res.code == 0, res.stderr
    assert len(tree.rendered()) == 2


def test_invalid_output_is_refused_and_nothing_is_written(tree: Tree, schema_dir: Path) -> None:
    _tree(tree, 300 * 1024)  # the API server refuses more than 256 KiB of annotations
    res = run_cli("build", "--validate", "--schemas", str(schema_dir), root=tree.root)
    assert res.code == 1
    [err] = res.errors
    assert err.startswith("rendered/dev/ml-team/httproute-qwen-chat-a04542d9.yaml:") and "AnnotationsTooLarge" in err
    assert not (tree.root / "rendered").exists()


def test_validate_needs_a_schema_source(tree: Tree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIMGEN_CRDS", raising=False)
    _tree(tree, 10)
    res = run_cli("build", "--validate", root=tree.root)
    assert res.code == 2 and "SchemaSourceMissing" in res.stderr
