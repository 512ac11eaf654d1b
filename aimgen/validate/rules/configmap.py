"""ConfigMap keys and size (k8s pkg/apis/core/validation ValidateConfigMap, IsConfigMapKey)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from aimgen.validate.finding import CONFIGMAP_TOO_LARGE, INVALID_CONFIGMAP_KEY, Finding
from aimgen.validate.rules.access import mapping

_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
MAX_KEY = 253
MAX_SIZE = 1024 * 1024  # core.MaxSecretSize, also the ConfigMap limit


def _key_problem(key: str) -> str | None:
    if len(key) > MAX_KEY:
        return f"is {len(key)} characters, at most {MAX_KEY} allowed"
    if not _KEY.match(key):
        return "must consist of letters, digits, '-', '_' or '.'"
    if key in (".", "..") or key.startswith(".."):
        return "must not be '.' or '..' nor start with '..'"
    return None


def _size(value: Any, binary: bool) -> int:
    if not isinstance(value, str):
        return 0
    if binary:
        try:
            return len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):  # not base64: the schema's `format: byte` is not asserted
            return len(value)
    return len(value.encode("utf-8", "surrogatepass"))  # YAML escapes can carry lone surrogates


def configmap_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    total = 0
    data, binary = mapping(obj.get("data")), mapping(obj.get("binaryData"))
    for field, values in (("data", data), ("binaryData", binary)):
        for key, value in values.items():
            problem = _key_problem(str(key))
            if problem:
                yield Finding((field, key), INVALID_CONFIGMAP_KEY, f"key {key!r} {problem}", key=True)
            if field == "binaryData" and key in data:
                yield Finding((field, key), INVALID_CONFIGMAP_KEY, f"key {key!r} is also in data", key=True)
            total += _size(value, field == "binaryData")
    if total > MAX_SIZE:
        yield Finding(
            ("data",),
            CONFIGMAP_TOO_LARGE,
            f"data and binaryData total {total} bytes, at most {MAX_SIZE} (1 MiB) allowed",
        )
