"""Derived names and label sanitisation, compatible with the AIM operator (reference/vectors/isvc_names.yaml).

The operator derives `<name>-<8 hex of sha256(json(namespace))>` and shortens the longest part to fit.
aimgen additionally keeps every dependent name valid (SPEC §3): the InferenceService name is at most
min(48, 52 - len(namespace)), so `<isvc>-predictor` and the raw-deployment host label fit in 63.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

_NOT_RFC1123 = re.compile(r"[^a-z0-9-]")
_NOT_LABEL = re.compile(r"[^a-z0-9._-]+")

PREDICTOR_SUFFIX = "-predictor"
KEDA_HPA_PREFIX = "keda-hpa-"
MAX_NAME = 63
MAX_ISVC_NAME = 48  # pod selector label `app: isvc.<isvc>-predictor` must fit in 63


class NameError_(ValueError):
    """A name that cannot be derived (for example a namespace too long for any InferenceService name)."""


def rfc1123(value: str) -> str:
    """The operator's MakeRFC1123Compliant: lowercase, other chars to '-', trim '-', at most 63."""
    out = _NOT_RFC1123.sub("-", value.lower()).strip("-")
    return out[:MAX_NAME].rstrip("-")


def sanitize_label_value(value: str) -> str:
    """The operator's SanitizeLabelValue: lowercase, runs of invalid chars to '_', trimmed, at most 63."""
    out = _NOT_LABEL.sub("_", value.lower()).strip("_.-")
    return out[:MAX_NAME].rstrip("_.-")


def hash_inputs(*inputs: object, length: int = 8) -> str:
    """sha256 of the JSON encodings of `inputs` joined by '|' (Go json.Marshal of strings), hex prefix."""
    if all(type(x) is str for x in inputs):  # names of namespaces, services...: the same ones again and again
        return _hash_strings(inputs, length)  # type: ignore[arg-type]
    joined = "|".join(json.dumps(x, separators=(",", ":"), ensure_ascii=False) for x in inputs)
    return hashlib.sha256(joined.encode()).hexdigest()[:length]


@functools.lru_cache(maxsize=8192)
def _hash_strings(inputs: tuple[str, ...], length: int) -> str:
    joined = "|".join(json.dumps(x, separators=(",", ":"), ensure_ascii=False) for x in inputs)
    return hashlib.sha256(joined.encode()).hexdigest()[:length]


def derived_name(parts: list[str], hash_input: object, max_length: int = MAX_NAME, hash_length: int = 8) -> str:
    """The operator's GenerateDerivedName: parts joined by '-', the longest part shortened, then '-<hash>'."""
    return derived_name_of(parts, (hash_input,), max_length, hash_length)


def derived_name_of(
    parts: list[str], hash_sources: tuple[object, ...], max_length: int = MAX_NAME, hash_length: int = 8
) -> str:
    """GenerateDerivedName with several hash inputs (WithHashSource(a, b, ...)): each JSON-encoded, joined by '|'."""
    cleaned = [rfc1123(p) or "part" for p in parts]
    suffix = hash_inputs(*hash_sources, length=hash_length)
    while len("-".join(cleaned)) + 1 + len(suffix) > max_length:
        longest = max(range(len(cleaned)), key=lambda i: (len(cleaned[i]), -i))
        if len(cleaned[longest]) <= 1:
            break
        cleaned[longest] = cleaned[longest][:-1].rstrip("-") or cleaned[longest][:1]
    return "-".join(cleaned) + "-" + suffix


def isvc_max_length(namespace: str) -> int:
    return min(MAX_ISVC_NAME, 52 - len(namespace))


def inference_service_name(service: str, namespace: str) -> str:
    """InferenceService name of an AIMService; raises NameError_ when the namespace leaves no room."""
    max_len = isvc_max_length(namespace)
    if max_len < 10:
        raise NameError_(
            f"namespace {namespace!r} is too long ({len(namespace)} characters): the InferenceService host name "
            f"'<name>-predictor-{namespace}' would exceed 63 characters (at most 42 allowed)"
        )
    name = derived_name([service], namespace, max_len)
    if not name[0].isalpha():  # KServe's webhook: ^[a-z]([-a-z0-9]*[a-z0-9])?$
        name = derived_name(["aim-" + service], namespace, max_len)
    return name


def route_name(service: str, namespace: str) -> str:
    """HTTPRoute name (operator: same derivation, 63 characters)."""
    return derived_name([service], namespace, MAX_NAME)


def predictor_name(isvc: str) -> str:
    """KServe's raw-deployment Deployment and Service name."""
    return isvc + PREDICTOR_SUFFIX
