"""Schema directories: `aimgen schemas` output, the content-keyed cache, CRD file problems."""

from __future__ import annotations

from pathlib import Path

import yaml

from aimgen.validate.core import kubernetes_version
from aimgen.validate.schemas import cache_key, collect, crd_schema_dir, write_schemas

from .conftest import widget_crd

VERSION = kubernetes_version("1.31")


def write_crd(path: Path, *docs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_schema_dir_holds_every_emitted_kind(schema_dir: Path) -> None:
    for rel in (
        "serving.kserve.io/inferenceservice_v1beta1.json",
        "keda.sh/scaledobject_v1alpha1.json",
        "opentelemetry.io/opentelemetrycollector_v1beta1.json",
        "opentelemetry.io/opentelemetrycollector_v1alpha1.json",
        "gateway.networking.k8s.io/httproute_v1.json",
        "gateway.networking.k8s.io/httproute_v1beta1.json",
        "aim.eai.amd.com/aimservice_v1alpha1.json",
        "v1/configmap_v1.json",
        "v1/persistentvolumeclaim_v1.json",
        "batch/job_v1.json",
    ):
        assert (schema_dir / rel).is_file(), rel


def test_crd_lists_and_non_crd_documents(tmp_path: Path) -> None:
    path = write_crd(
        tmp_path / "crds.yaml",
        {"apiVersion": "v1", "kind": "List", "items": [widget_crd()]},
        {"apiVersion": "v1", "kind": "ConfigMap"},
    )
    schemas, diags = collect([tmp_path], VERSION)
    assert diags == [] and schemas.crd_count == 1
    assert schemas.origins == {"example.com/widget_v1.json": path.as_posix()}


def test_duplicate_and_broken_crds_write_nothing(tmp_path: Path) -> None:
    write_crd(tmp_path / "crds" / "a.yaml", widget_crd())
    write_crd(tmp_path / "crds" / "b.yaml", widget_crd(), {"kind": "CustomResourceDefinition", "spec": {}})
    (tmp_path / "crds" / "c.yaml").write_text("kind: [\n")
    _, diags = write_schemas([tmp_path / "crds"], tmp_path / "out", VERSION)
    assert sorted(d.code for d in diags) == ["CRDDuplicate", "CRDInvalid", "YAMLSyntaxError"]
    assert not (tmp_path / "out").exists()


def test_cache_is_keyed_on_content_and_reused(tmp_path: Path) -> None:
    crds = write_crd(tmp_path / "crds" / "w.yaml", widget_crd())
    first, hit, diags = crd_schema_dir([crds.parent], tmp_path / "cache", VERSION)
    assert first is not None and not hit and diags == []
    assert (first / "example.com" / "widget_v1.json").is_file() and (
        first / "v1" / "configmap_v1.json"
    ).is_file()
    again, hit, _ = crd_schema_dir([crds.parent], tmp_path / "cache", VERSION)
    assert again == first and hit
    key = cache_key([crds.parent], VERSION)
    write_crd(crds, widget_crd("changed"))
    assert cache_key([crds.parent], VERSION) != key
    assert cache_key([crds.parent], kubernetes_version("1.30")) != cache_key([crds.parent], VERSION)
    assert not list((tmp_path / "cache" / "schemas").glob(".tmp-*"))
