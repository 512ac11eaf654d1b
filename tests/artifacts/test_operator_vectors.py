"""Names the operator derives for custom models and caches (reference/vectors), reproduced end to end."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from aimgen.inputs.custom import custom_model, custom_template_name
from aimgen.inputs.models import aim
from tests.artifacts.conftest import Built
from tests.support import SHARED, Tree, run_cli

VECTORS = SHARED / "reference" / "vectors"
pytestmark = pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/reference not present")


def _derived(kind: str) -> list[dict[str, Any]]:
    if not VECTORS.is_dir():
        return []
    return [v for v in yaml.safe_load((VECTORS / "derived_names.yaml").read_text())["derived_names"]
            if v["kind"].startswith(kind)]


@pytest.mark.parametrize("case", _derived("custom template name"), ids=lambda c: c["expected"])
def test_custom_template_names(case: dict[str, Any]) -> None:
    given = case["input"]
    raw = given.get("customTemplate")
    entry = None if raw is None else aim.CustomTemplate.model_validate({
        "name": raw["Name"] or None,
        "profile": {"precision": raw["Precision"], "metric": raw["Metric"]} if raw["HasProfile"] else None,
        "hardware": {"gpu": {"requests": raw["GPU"]["Requests"], **({"model": raw["GPU"]["Model"]}
                                                                    if raw["GPU"]["Model"] else {})}},
    })
    assert custom_template_name(given["modelName"], entry, given["index"]) == case["expected"]


@pytest.mark.parametrize("case", [c for c in _derived("AIMModel name from spec.model.custom")
                                  if c["input"].get("modelSources")], ids=lambda c: c["expected"])
def test_custom_model_names(case: dict[str, Any]) -> None:
    custom = aim.CustomModel.model_validate({**case["input"], "hardware": {"cpu": {"requests": 1}}})
    assert custom_model(custom, "ns").metadata.name == case["expected"]


def _full(name: str) -> dict[str, Any]:
    cases = yaml.safe_load((VECTORS / "isvc_build.yaml").read_text())["full_manifests"]
    return next(c for c in cases if c["name"].startswith(name))


def _cache_volumes(isvc: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume name, mount path) of the cache volumes; the claim name is not predictable upstream."""
    predictor = isvc["spec"]["predictor"]
    mounts = {m["name"]: m["mountPath"] for m in predictor["containers"][0]["volumeMounts"]}
    return [(v["name"], mounts[v["name"]]) for v in predictor["volumes"] if "persistentVolumeClaim" in v]


def _v1alpha1(kind: str, obj: dict[str, Any]) -> str:
    return yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": kind, **obj}, sort_keys=False)


def test_case_a_template_status_sources_are_cached_as_upstream(tree: Tree) -> None:
    case = _full("A:")
    given = case["input"]
    template = dict(given["aimservicetemplate"])
    template["spec"] = {**template["spec"], "type": "optimized"}  # status.profile.metadata.type, discovered
    tree.write("overlays/dev/a.yaml", "---\n".join([
        yaml.safe_dump(given["aimservice"], sort_keys=False), _v1alpha1("AIMModel", given["aimmodel"]),
        _v1alpha1("AIMServiceTemplate", template)]))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    built = Built(tree, res.stderr)
    assert _cache_volumes(built.isvc("test-service")) == _cache_volumes(case["expected_inferenceservice"])
    assert "AIM_MODEL_ID" not in built.env("test-service")  # discovered sources: the image's own model


def test_case_c_inline_custom_model_as_upstream(tree: Tree) -> None:
    case = _full("C:")
    tree.write("overlays/dev/c.yaml", yaml.safe_dump({"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
                                                      **case["input"]["aimservice"]}, sort_keys=False))
    res = run_cli("build", root=tree.root)
    assert res.code == 0, res.stderr
    built = Built(tree, res.stderr)
    expected = case["expected_inferenceservice"]
    isvc = built.isvc("cpu-svc")
    assert _cache_volumes(isvc) == _cache_volumes(expected)
    for key in ("aim.eai.amd.com/template", "aim.eai.amd.com/model"):
        assert isvc["metadata"]["labels"][key] == expected["metadata"]["labels"][key]
    wanted = {e["name"]: e["value"] for e in expected["spec"]["predictor"]["containers"][0]["env"]}
    assert wanted.items() <= built.env("cpu-svc").items()
