"""What the compiler writes for the example tree (catalog/ + overlays/, built into a copy) is accepted by both
validators: the in-process one and, where installed, the pinned kubeconform."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aimgen.validate.run import validate_paths
from aimgen.validate.store import SchemaStore
from tests.support import run_cli

from .test_corpus import kubeconform_statuses

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    for part in ("catalog", "overlays"):
        shutil.copytree(REPO / part, root / part)
    result = run_cli("build", root=root)
    assert result.code == 0, result.errors
    return root / "rendered"


def test_every_output_passes_in_process(rendered: Path, store: SchemaStore) -> None:
    report = validate_paths([rendered], rendered.parent, store)
    assert report.diagnostics == []
    assert report.objects == len(list(rendered.rglob("*.yaml"))) > 0


def test_every_output_passes_kubeconform(rendered: Path, kubeconform: Path, schema_dir: Path) -> None:
    statuses = kubeconform_statuses(kubeconform, schema_dir, rendered)
    assert statuses and set(statuses.values()) == {"statusValid"}
