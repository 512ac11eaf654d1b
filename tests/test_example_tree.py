"""The committed example tree (catalog/, overlays/) is valid input: every document parses, no object twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aimgen.inputs.load import Document, load_files, yaml_files
from aimgen.inputs.models.kinds import CLUSTER_SCOPED
from aimgen.inputs.parse import parse_document

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = sorted(p.name for p in (ROOT / "overlays").iterdir() if p.is_dir())


def _documents(*dirs: Path) -> list[Document]:
    docs, diags = load_files([f for d in dirs for f in yaml_files(d)], ROOT)
    assert diags == []
    return docs


def _identity(doc: Document) -> tuple[str, str, str]:
    meta = doc.value.get("metadata") or {}
    namespace = "" if doc.kind in CLUSTER_SCOPED else str(meta.get("namespace", ""))
    return doc.kind, namespace, str(meta.get("name", ""))


def test_overlays_exist() -> None:
    assert {"prod", "staging"} <= set(OVERLAYS)


@pytest.mark.parametrize("area", ["catalog", *(f"overlays/{o}" for o in OVERLAYS)])
def test_every_document_parses(area: str) -> None:
    docs = _documents(ROOT / area)
    assert docs
    failures = [(d.source, diag.message) for d in docs for diag in parse_document(d)[1]]
    assert failures == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_object_defined_twice(overlay: str) -> None:
    docs = _documents(ROOT / "catalog", ROOT / "overlays" / overlay)
    objects = [d for d in docs if d.kind not in ("List", "NodeList", "ClusterInventory", "Overlay")]
    counts = Counter(_identity(d) for d in objects)
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_has_one_inventory(overlay: str) -> None:
    kinds = [d.kind for d in _documents(ROOT / "overlays" / overlay)]
    assert sum(k in ("List", "NodeList", "ClusterInventory") for k in kinds) == 1
    assert kinds.count("AIMService") >= 5


def test_catalog_covers_the_documented_variety() -> None:
    profiles = [d.value["spec"] for d in _documents(ROOT / "catalog") if d.kind == "AIMClusterProfile"]
    assert {p["type"] for p in profiles} == {"optimized", "general", "preview", "unoptimized"}
    assert {p["primary"] for p in profiles} == {True, False}
    assert {"MI300X", "MI325X", "MI355X"} <= {p.get("acceleratorModel") for p in profiles}
    assert any("acceleratorModel" not in p for p in profiles)  # CPU-only
    partitioned = [p for p in profiles if p.get("acceleratorCount") == 0 and p.get("acceleratorModel")]
    assert any("amd.com/cpx-nps4" in p["resources"]["requests"] for p in partitioned)
    assert len({p["aimId"] for p in profiles}) >= 5


def test_engine_parallelism_matches_the_accelerators() -> None:
    """tensor-parallel-size (vLLM) / tp-size (SGLang) equals the GPU count, or the GPU partition count."""
    docs = _documents(ROOT / "catalog", *(ROOT / "overlays" / o for o in OVERLAYS))
    for doc in docs:
        spec = doc.value.get("spec", {})
        if doc.kind not in ("AIMClusterProfile", "AIMProfile") or "acceleratorCount" not in spec:
            continue
        args = spec.get("engineArgs", {})
        tp = args.get("tensor-parallel-size", args.get("tp-size", 1))  # both engines default to 1
        partitions = spec.get("resources", {}).get("requests", {}).get("amd.com/cpx-nps4", 0)
        assert tp == (spec["acceleratorCount"] or int(partitions)), doc.source
