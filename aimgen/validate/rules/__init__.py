"""What the API server refuses beyond the OpenAPI schema: CRD CEL rules, admission webhooks, limits.

Each rule reads objects defensively (see access.py): it runs on objects that may also break the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aimgen.validate.finding import Finding
from aimgen.validate.rules.configmap import configmap_findings
from aimgen.validate.rules.httproute import httproute_findings
from aimgen.validate.rules.keda import scaledobject_findings
from aimgen.validate.rules.kserve import inferenceservice_findings
from aimgen.validate.rules.meta import metadata_findings

Rule = Callable[[dict[str, Any]], Iterable[Finding]]

RULES: dict[tuple[str, str], Rule] = {  # (API group, kind) -> the kind's own rules
    ("gateway.networking.k8s.io", "HTTPRoute"): httproute_findings,
    ("keda.sh", "ScaledObject"): scaledobject_findings,
    ("serving.kserve.io", "InferenceService"): inferenceservice_findings,
    ("", "ConfigMap"): configmap_findings,
}


def rule_findings(obj: dict[str, Any]) -> list[Finding]:
    """Every rule violation of one object (metadata rules apply to all kinds)."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    found = set(metadata_findings(obj))
    rule = RULES.get((group, str(obj.get("kind", ""))))
    if rule:
        found.update(rule(obj))
    return sorted(found)
