"""Fixtures: one schema directory built from ../shared/crds per test session (the project keeps no CRD copy)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from aimgen.validate.core import kubernetes_version
from aimgen.validate.schemas import write_schemas
from aimgen.validate.store import SchemaStore
from tests.support import SHARED

CRDS = SHARED / "crds"
CORPUS = Path(__file__).parent / "corpus"
KUBECONFORM = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "kubeconform"


def widget_crd(name: str = "widgets.example.com") -> dict[str, Any]:
    """A minimal CRD: kind Widget in example.com/v1, with an integer `spec.size`."""
    spec = {"type": "object", "properties": {"size": {"type": "integer"}}}
    schema = {"type": "object", "properties": {"metadata": {"type": "object"}, "spec": spec}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name},
        "spec": {"group": "example.com", "names": {"kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "schema": {"openAPIV3Schema": schema}}]},
    }


@pytest.fixture(scope="session")
def schema_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CRDS.is_dir():
        pytest.skip("../shared/crds is absent")
    out = tmp_path_factory.mktemp("schemas")
    _, diags = write_schemas([CRDS], out, kubernetes_version())
    assert diags == []
    return out


@pytest.fixture(scope="session")
def store(schema_dir: Path) -> SchemaStore:
    return SchemaStore(schema_dir)


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    """The pinned kubeconform (`make kubeconform` installs it; CI runs that before the tests)."""
    found = KUBECONFORM if KUBECONFORM.is_file() else shutil.which("kubeconform")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("kubeconform is not installed: .ci/run must run `make kubeconform` before the tests")
        pytest.skip("kubeconform not installed (make kubeconform)")
    return Path(found)
