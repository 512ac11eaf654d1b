from __future__ import annotations

import pytest
import yaml

from aimgen.kube.names import inference_service_name, predictor_name, rfc1123, route_name, sanitize_label_value
from tests.support import SHARED

VECTORS = SHARED / "reference" / "vectors" / "isvc_names.yaml"
needs_vectors = pytest.mark.skipif(not VECTORS.exists(), reason="../shared/reference not present")


def _vectors(section: str) -> list[dict]:
    return yaml.safe_load(VECTORS.read_text())[section] if VECTORS.exists() else []


@needs_vectors
@pytest.mark.parametrize("case", _vectors("isvc_and_httproute_names"), ids=lambda c: c["source"][:40])
def test_operator_name_vectors(case: dict) -> None:
    svc, ns = case["input"]["serviceName"], case["input"]["namespace"]
    expected = case["expected"]
    assert inference_service_name(svc, ns) == expected["inferenceService_name"]
    assert route_name(svc, ns) == expected["httproute_name"]
    assert predictor_name(inference_service_name(svc, ns)) == expected["predictor_service_name"]


@needs_vectors
@pytest.mark.parametrize("case", _vectors("label_value_sanitization"), ids=lambda c: c["input"][:20])
def test_label_value_vectors(case: dict) -> None:
    assert sanitize_label_value(case["input"]) == case.get("expected", "")


@needs_vectors
@pytest.mark.parametrize("case", _vectors("rfc1123_compliant"), ids=lambda c: c["input"][:20])
def test_rfc1123_vectors(case: dict) -> None:
    assert rfc1123(case["input"]) == case["expected"]


def test_isvc_name_respects_pod_selector_limit_for_short_namespaces() -> None:
    name = inference_service_name("a-very-long-service-name-that-keeps-going-and-going", "ns")
    assert len(name) <= 48 and name.endswith("-e2c6bafc")


def test_isvc_name_must_start_with_letter() -> None:
    name = inference_service_name("7b-chat", "team")
    assert name[0].isalpha()


def test_namespace_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        inference_service_name("svc", "n" * 43)
