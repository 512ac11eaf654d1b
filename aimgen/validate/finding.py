"""Finding: one validation failure inside an object, before it is placed in a file."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aimgen.diagnostics import YamlPath

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")

# Codes (CamelCase, stable). Schema findings:
NOT_AN_OBJECT = "NotAKubernetesObject"
SCHEMA_NOT_FOUND = "SchemaNotFound"  # no schema for the apiVersion and kind: never skipped silently
SCHEMA_VIOLATION = "SchemaViolation"  # wrong type, enum, pattern, bounds, ...
UNKNOWN_FIELD = "UnknownField"  # a field the schema does not declare
REQUIRED_FIELD = "RequiredFieldMissing"
# Rules the API server enforces beyond the OpenAPI schema:
CEL_RULE = "CELRuleViolation"  # a CRD x-kubernetes-validations rule
ADMISSION_RULE = "AdmissionRuleViolation"  # a KEDA or KServe validating webhook
INVALID_NAME = "InvalidName"
NAME_TOO_LONG = "NameTooLong"
INVALID_LABEL = "InvalidLabel"
INVALID_ANNOTATION = "InvalidAnnotation"
ANNOTATIONS_TOO_LARGE = "AnnotationsTooLarge"
INVALID_CONFIGMAP_KEY = "InvalidConfigMapKey"
CONFIGMAP_TOO_LARGE = "ConfigMapTooLarge"


@dataclass(frozen=True, order=True)
class Finding:
    """`code` at `path` (a YAML path inside the object); `key` points at the mapping key, not its value."""

    path: YamlPath
    code: str
    message: str
    key: bool = False


def field_path(path: YamlPath) -> str:
    """`spec.rules[0].matches[0].path.value`; keys that are not plain names are quoted: `labels['a.b/c']`."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _PLAIN_KEY.match(step):
            out += f".{step}" if out else step
        else:
            out += f"[{step!r}]"
    return out or "(object)"
