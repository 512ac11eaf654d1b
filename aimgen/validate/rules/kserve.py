"""KServe InferenceService admission (pkg/apis/serving/v1beta1/inference_service_validation.go, component.go)
and the limits its derived names impose (reference kserve-keda-gateway.md §6, SPEC §3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aimgen.validate.finding import ADMISSION_RULE, NAME_TOO_LONG, Finding
from aimgen.validate.rules.access import get, is_int, mapping

AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
AUTOSCALER_CLASSES = ("hpa", "keda", "external", "none")  # AutoscalerAllowedClassList
MAX_NAME = 48  # pod label `app: isvc.<name>-predictor` <= 63
HOST_BUDGET = 52  # raw URL host label `<name>-predictor-<namespace>` <= 63
COMPONENTS = ("predictor", "transformer", "explainer")


def _name_findings(meta: dict[str, Any]) -> Iterator[Finding]:
    name, namespace = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str):
        return
    limit, why = MAX_NAME, "the pod label 'app: isvc.<name>-predictor' must fit in 63"
    if isinstance(namespace, str) and HOST_BUDGET - len(namespace) < limit:
        limit, why = (
            HOST_BUDGET - len(namespace),
            f"the host label '<name>-predictor-{namespace}' must fit in 63",
        )
    if len(name) > limit:
        yield Finding(
            ("metadata", "name"),
            NAME_TOO_LONG,
            f"InferenceService name is {len(name)} characters, at most {limit} allowed ({why})",
        )


def _replica_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    for component in COMPONENTS:
        spec = mapping(get(obj, "spec", component))
        low, high = spec.get("minReplicas"), spec.get("maxReplicas")
        at = ("spec", component)
        for field, value in (("minReplicas", low), ("maxReplicas", high)):
            if is_int(value) and value < 0:
                yield Finding((*at, field), ADMISSION_RULE, f"{field} cannot be less than 0")
        if is_int(low) and is_int(high) and high != 0 and low > high:
            yield Finding(
                (*at, "minReplicas"),
                ADMISSION_RULE,
                f"minReplicas cannot be greater than maxReplicas ({low} > {high})",
            )


def inferenceservice_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    meta = mapping(obj.get("metadata"))
    yield from _name_findings(meta)
    autoscaler = mapping(meta.get("annotations")).get(AUTOSCALER_CLASS)
    if isinstance(autoscaler, str) and autoscaler not in AUTOSCALER_CLASSES:
        yield Finding(
            ("metadata", "annotations", AUTOSCALER_CLASS),
            ADMISSION_RULE,
            f"[{autoscaler}] is not a supported autoscaler class type; "
            f"one of {', '.join(AUTOSCALER_CLASSES)}",
        )
    yield from _replica_findings(obj)
