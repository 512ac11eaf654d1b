"""The HTTPRoute CEL rules (x-kubernetes-validations of gateway.networking.k8s.io_httproutes.yaml, v1.6.1).

CEL runs on the defaulted object: a rule without `matches` has one `PathPrefix /` match, a match
without `path` the path `PathPrefix /`, a backendRef the group "" and kind Service. Messages are upstream's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aimgen.diagnostics import YamlPath
from aimgen.validate.finding import CEL_RULE, Finding
from aimgen.validate.rules.access import entries, get, items, mapping

_DEFAULT_PATH = {"type": "PathPrefix", "value": "/"}
_PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
_FORBIDDEN = ("//", "/./", "/../", "%2f", "%2F", "#")
_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")
_DURATION_PART = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_FILTER_FIELDS = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "ExtensionRef": "extensionRef",
    "CORS": "cors",
}
_SINGLE_USE = ("CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite")
_MAX_MATCHES = 128


def _path_value_findings(path: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    kind, value = path.get("type", "PathPrefix"), path.get("value", "/")
    if kind not in ("Exact", "PathPrefix") or not isinstance(value, str):
        return
    at = (*at, "value")
    suffix = "when type one of ['Exact', 'PathPrefix']"
    if not value.startswith("/"):
        yield Finding(at, CEL_RULE, f"value must be an absolute path and start with '/' {suffix}: {value!r}")
    for bad in _FORBIDDEN:
        if bad in value:
            yield Finding(at, CEL_RULE, f"must not contain {bad!r} {suffix}: {value!r}")
    for end in ("/..", "/."):
        if value.endswith(end):
            yield Finding(at, CEL_RULE, f"must not end with {end!r} {suffix}: {value!r}")
    if not _PATH_CHARS.match(value):
        yield Finding(
            at,
            CEL_RULE,
            f"must only contain valid characters (matching {_PATH_CHARS.pattern}) for "
            f"types ['Exact', 'PathPrefix']: {value!r}",
        )


def _backend_port_findings(ref: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    if ref.get("group", "") == "" and ref.get("kind", "Service") == "Service" and "port" not in ref:
        yield Finding((*at, "port"), CEL_RULE, "Must have port for Service reference")


def _path_modifier_findings(path: Any, at: YamlPath) -> Iterator[Finding]:
    path = mapping(path)
    for kind, field in (("ReplaceFullPath", "replaceFullPath"), ("ReplacePrefixMatch", "replacePrefixMatch")):
        if path.get("type") == kind and field not in path:
            yield Finding(at, CEL_RULE, f"{field} must be specified when type is set to '{kind}'")
        if field in path and path.get("type") != kind:
            yield Finding((*at, "type"), CEL_RULE, f"type must be '{kind}' when {field} is set")


def _filter_list_findings(rule: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    """Rules on one `filters` list and each of its entries."""
    filters = items(rule.get("filters"))
    types = [mapping(f).get("type") for f in filters]
    if "RequestRedirect" in types and "URLRewrite" in types:
        yield Finding(
            (*at, "filters"),
            CEL_RULE,
            "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, "
            "but not both",
        )
    for kind in _SINGLE_USE:
        if types.count(kind) > 1:
            yield Finding((*at, "filters"), CEL_RULE, f"{kind} filter cannot be repeated")
    for f_at, flt in entries(rule, "filters"):
        f_at = (*at, *f_at)
        for kind, field in _FILTER_FIELDS.items():
            if field in flt and flt.get("type") != kind:
                yield Finding(
                    (*f_at, field), CEL_RULE, f"filter.{field} must be nil if the filter.type is not {kind}"
                )
            if field not in flt and flt.get("type") == kind:
                yield Finding(f_at, CEL_RULE, f"filter.{field} must be specified for {kind} filter.type")
        for field in ("urlRewrite", "requestRedirect"):
            if "path" in mapping(flt.get(field)):
                yield from _path_modifier_findings(flt[field]["path"], (*f_at, field, "path"))
        mirror = get(flt, "requestMirror", "backendRef")
        if isinstance(mirror, dict):
            yield from _backend_port_findings(mirror, (*f_at, "requestMirror", "backendRef"))


def _prefix_replacers(filters: Any) -> list[str]:
    """Filter types in `filters` that replace the matched prefix (they need exactly one PathPrefix match)."""
    return [
        kind
        for f in items(filters)
        for kind, field in (("URLRewrite", "urlRewrite"), ("RequestRedirect", "requestRedirect"))
        if get(f, field, "path", "type") == "ReplacePrefixMatch"
        and "replacePrefixMatch" in get(f, field, "path")
    ]


def _seconds(duration: str) -> float:
    return sum(int(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(duration))


def _timeout_findings(rule: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    request, backend = get(rule, "timeouts", "request"), get(rule, "timeouts", "backendRequest")
    if not (isinstance(request, str) and isinstance(backend, str)):
        return
    if _DURATION.match(request) and _DURATION.match(backend) and 0 < _seconds(request) < _seconds(backend):
        yield Finding(
            (*at, "timeouts", "backendRequest"),
            CEL_RULE,
            f"backendRequest timeout cannot be longer than request timeout ({backend} > {request})",
        )


def _rule_findings(rule: dict[str, Any], at: YamlPath) -> Iterator[Finding]:
    matches = rule.get("matches", [{"path": _DEFAULT_PATH}])
    for j, match in enumerate(items(matches)):
        path = mapping(match).get("path", _DEFAULT_PATH)
        if isinstance(path, dict):
            yield from _path_value_findings(path, (*at, "matches", j, "path"))
    replacers = _prefix_replacers(rule.get("filters")) + [
        kind for _, ref in entries(rule, "backendRefs") for kind in _prefix_replacers(ref.get("filters"))
    ]
    matches = items(matches)
    first = mapping(mapping(matches[0]).get("path", _DEFAULT_PATH)) if matches else {}
    if replacers and (len(matches) != 1 or first.get("type", "PathPrefix") != "PathPrefix"):
        yield Finding(
            (*at, "matches"),
            CEL_RULE,
            f"When using {replacers[0]} filter with path.replacePrefixMatch, "
            "exactly one PathPrefix match must be specified",
        )
    if items(rule.get("backendRefs")) and "RequestRedirect" in [
        mapping(f).get("type") for f in items(rule.get("filters"))
    ]:
        yield Finding(
            (*at, "filters"), CEL_RULE, "RequestRedirect filter must not be used together with backendRefs"
        )
    yield from _filter_list_findings(rule, at)
    for b_at, ref in entries(rule, "backendRefs"):
        yield from _backend_port_findings(ref, (*at, *b_at))
        yield from _filter_list_findings(ref, (*at, *b_at))
    yield from _timeout_findings(rule, at)


def httproute_findings(obj: dict[str, Any]) -> Iterator[Finding]:
    rules = list(entries(obj, "spec", "rules"))
    for at, rule in rules:
        yield from _rule_findings(rule, at)
    total = sum(len(items(rule.get("matches", [None]))) for _, rule in rules)
    if total > _MAX_MATCHES:
        yield Finding(
            ("spec", "rules"),
            CEL_RULE,
            "While 16 rules and 64 matches per rule are allowed, the total "
            f"number of matches across all rules in a route must be less than {_MAX_MATCHES}",
        )
