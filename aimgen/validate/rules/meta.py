"""Object metadata as the API server checks it (k8s.io/apimachinery pkg/util/validation, objectmeta.go)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aimgen.diagnostics import YamlPath
from aimgen.validate.finding import (
    ANNOTATIONS_TOO_LARGE,
    INVALID_ANNOTATION,
    INVALID_LABEL,
    INVALID_NAME,
    NAME_TOO_LONG,
    REQUIRED_FIELD,
    Finding,
)
from aimgen.validate.rules.access import get, mapping

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
MAX_ANNOTATIONS_BYTES = 256 * 1024  # TotalAnnotationSizeLimitB


@dataclass(frozen=True)
class NameRule:
    """What `metadata.name` must be for a kind: a pattern (described for humans) and a length limit."""

    pattern: re.Pattern[str]
    what: str
    max_length: int
    why: str = ""


SUBDOMAIN = NameRule(
    DNS1123_SUBDOMAIN,
    "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
    "starting and ending with a letter or digit)",
    253,
)
_DNS_LABEL_WHAT = (
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"
)
NAME_RULES: dict[str, NameRule] = {
    "Namespace": NameRule(DNS1123_LABEL, _DNS_LABEL_WHAT, 63),
    "Service": NameRule(
        DNS1035_LABEL,
        "a DNS-1035 label (lower-case letters, digits and '-', starting with a "
        "letter and ending with a letter or digit)",
        63,
    ),
    "Job": NameRule(DNS1123_SUBDOMAIN, SUBDOMAIN.what, 63, "it becomes the pods' job-name label"),
    "CronJob": NameRule(DNS1123_SUBDOMAIN, SUBDOMAIN.what, 52, "its Jobs are named <name>-<11 digits>"),
    "ScaledObject": NameRule(DNS1123_SUBDOMAIN, SUBDOMAIN.what, 63, "KEDA's admission webhook"),
    "InferenceService": NameRule(
        DNS1035_LABEL,
        "a lower-case name starting with a letter, of letters, digits "
        "and '-' (KServe's webhook: ^[a-z]([-a-z0-9]*[a-z0-9])?$)",
        253,
    ),
}


def name_findings(kind: str, meta: dict[str, Any]) -> Iterator[Finding]:
    name, path = meta.get("name"), ("metadata", "name")
    if name is None or name == "":
        yield Finding(path, REQUIRED_FIELD, "metadata.name is required (aimgen never relies on generateName)")
        return
    if not isinstance(name, str):
        return  # the schema reports the type
    rule = NAME_RULES.get(kind, SUBDOMAIN)
    if len(name) > rule.max_length:
        why = f" ({rule.why})" if rule.why else ""
        yield Finding(
            path,
            NAME_TOO_LONG,
            f"{kind} name is {len(name)} characters, at most {rule.max_length} allowed{why}",
        )
    if not rule.pattern.match(name):
        yield Finding(path, INVALID_NAME, f"{kind} name {name!r} must be {rule.what}")
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and not (DNS1123_LABEL.match(namespace) and len(namespace) <= 63):
        yield Finding(
            ("metadata", "namespace"),
            INVALID_NAME,
            f"namespace {namespace!r} must be {_DNS_LABEL_WHAT}, at most 63 characters",
        )


def qualified_name_problem(key: str) -> str | None:
    """Why `key` is not a valid label/annotation key (`[prefix/]name`), or None."""
    parts = key.split("/")
    if len(parts) > 2:
        return "at most one '/' is allowed"
    prefix, name = parts if len(parts) == 2 else ("", parts[0])
    if len(parts) == 2 and (not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"prefix {prefix!r} must be a DNS-1123 subdomain of at most 253 characters"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return (
            f"name part {name!r} must be 1 to 63 characters of letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def label_findings(labels: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    for key, value in labels.items():
        problem = qualified_name_problem(str(key))
        if problem:
            yield Finding((*at, key), INVALID_LABEL, f"label key {key!r}: {problem}", key=True)
        if isinstance(value, str) and (len(value) > 63 or not _LABEL_VALUE.match(value)):
            yield Finding(
                (*at, key),
                INVALID_LABEL,
                f"label value {value!r} must be at most 63 characters of "
                "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            )


def _size(text: str) -> int:
    """UTF-8 byte size; YAML escapes can carry lone surrogates, which a strict encode refuses."""
    return len(text.encode("utf-8", "surrogatepass"))


def annotation_findings(annotations: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    total = 0
    for key, value in annotations.items():
        problem = qualified_name_problem(str(key).lower())  # the API server lower-cases annotation keys first
        if problem:
            yield Finding((*at, key), INVALID_ANNOTATION, f"annotation key {key!r}: {problem}", key=True)
        total += _size(str(key)) + (_size(value) if isinstance(value, str) else 0)
    if total > MAX_ANNOTATIONS_BYTES:
        yield Finding(
            at,
            ANNOTATIONS_TOO_LARGE,
            f"annotations total {total} bytes, at most {MAX_ANNOTATIONS_BYTES} (256 KiB) allowed",
        )


_TEMPLATE_METADATA: YamlPath = ("spec", "template", "metadata")


def metadata_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    """Name, namespace, labels and annotations of the object and of its pod template, if any."""
    yield from name_findings(str(obj.get("kind", "")), mapping(obj.get("metadata")))
    for at in (("metadata",), _TEMPLATE_METADATA):
        block = mapping(get(obj, *at))
        yield from label_findings(mapping(block.get("labels")), (*at, "labels"))
        yield from annotation_findings(mapping(block.get("annotations")), (*at, "annotations"))
