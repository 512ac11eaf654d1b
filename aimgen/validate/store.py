"""In-process JSON Schema validation against a kubeconform-layout schema directory.

One validator per (apiVersion, kind), compiled on first use and kept for the run (the InferenceService
schema alone is 0.7 MB of JSON). Like kubeconform (santhosh-tekuri/jsonschema, draft 4 by default), a
schema without `$schema` is draft 4 with its formats asserted, Kubernetes' Go `duration` included; the
core-kind schemas declare draft 2020-12, whose formats are annotations only.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from aimgen.validate.finding import REQUIRED_FIELD, SCHEMA_VIOLATION, UNKNOWN_FIELD, Finding
from aimgen.validate.layout import schema_path

_GO_DURATION = re.compile(r"^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$")
_ISO_DURATION = re.compile(
    r"^P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$"
)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_BOUNDS = {"minimum": "is less than the minimum", "maximum": "is more than the maximum",
           "minLength": "is shorter than the minimum length", "maxLength": "is longer than the maximum length",
           "minItems": "has fewer items than the minimum", "maxItems": "has more items than the maximum",
           "minProperties": "has fewer fields than the minimum", "maxProperties": "has more fields than the maximum"}
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
    list: "array",
    dict: "object",
}


def _draft4_formats() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=("ipv4", "ipv6"))

    @checker.checks("duration")
    def _duration(value: object) -> bool:  # kubeconform validator.go validateDuration: Go or ISO 8601
        return not isinstance(value, str) or bool(_GO_DURATION.match(value) or _ISO_DURATION.match(value))

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        if not isinstance(value, str) or not _DATE_TIME.match(value):
            return not isinstance(value, str)
        try:
            datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return False
        return True

    return checker


class SchemaStore:
    """Validators for the schema files of one directory in kubeconform's layout, compiled once each."""

    def __init__(self, root: Path):
        self.root = root
        self._validators: dict[str, Validator | None] = {}
        self._formats = _draft4_formats()

    def path_for(self, api_version: str, kind: str) -> Path:
        return self.root / schema_path(api_version, kind)

    def validator(self, api_version: str, kind: str) -> Validator | None:
        """The validator for that apiVersion and kind, or None when the directory has no schema for it."""
        rel = schema_path(api_version, kind)
        if rel not in self._validators:
            path = self.root / rel
            self._validators[rel] = self._compile(json.loads(path.read_text())) if path.is_file() else None
        return self._validators[rel]

    def _compile(self, schema: dict[str, Any]) -> Validator:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
        formats = self._formats if cls is jsonschema.Draft4Validator else None
        return cls(schema, format_checker=formats)  # type: ignore[call-arg]


def schema_findings(validator: Validator, obj: dict[str, Any]) -> list[Finding]:
    """Every schema violation of `obj`, as findings at the offending field."""
    found: set[Finding] = set()
    for err in validator.iter_errors(obj):
        found.update(_findings(err))
    return sorted(found)


def _findings(err: jsonschema.ValidationError) -> Iterator[Finding]:
    path = tuple(err.absolute_path)
    kind, value, instance = err.validator, err.validator_value, err.instance
    if kind == "additionalProperties" and value is False and isinstance(instance, dict):
        declared = list(err.schema.get("properties", {}))
        patterns = [re.compile(p) for p in err.schema.get("patternProperties", {})]
        for key in instance:
            if key not in declared and not any(p.search(key) for p in patterns):
                yield Finding(
                    path + (key,), UNKNOWN_FIELD, f"unknown field {key!r}{_hint(key, declared)}", key=True
                )
    elif kind == "required" and isinstance(instance, dict):
        for key in value:
            if key not in instance:
                yield Finding(path + (key,), REQUIRED_FIELD, f"required field {key!r} is missing")
    elif kind in ("anyOf", "oneOf") and err.context and not _types_only(value):
        yield from _findings(jsonschema.exceptions.best_match(err.context))  # the branch that came closest
    else:
        yield Finding(path, SCHEMA_VIOLATION, _message(err))


def _types_only(branches: list[dict[str, Any]]) -> bool:
    return all(set(branch) == {"type"} for branch in branches)


def _hint(key: str, declared: list[str]) -> str:
    close = difflib.get_close_matches(key, declared, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(declared)})" if len(declared) <= 12 else ""


def describe(value: object) -> str:
    """`integer 8`, `string "x"`, `object`: a value's JSON type and, for scalars, a short rendering."""
    name = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return name
    text = json.dumps(value)
    return f"{name} {text if len(text) <= 60 else text[:57] + '...'}"


def _message(err: jsonschema.ValidationError) -> str:
    kind, value, instance = err.validator, err.validator_value, err.instance
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        return f"expected {' or '.join(t for t in types if t != 'null')}, got {describe(instance)}"
    if kind in ("anyOf", "oneOf") and _types_only(value):
        return f"expected {' or '.join(str(branch['type']) for branch in value)}, got {describe(instance)}"
    if kind == "enum":
        return f"{describe(instance)} is not one of {', '.join(json.dumps(v) for v in value)}"
    if kind == "pattern":
        return f"{describe(instance)} does not match the pattern {value}"
    if kind in _BOUNDS:
        return f"{describe(instance)} {_BOUNDS[kind]} {value}"
    if kind == "format":
        return f"{describe(instance)} is not a valid {value}"
    return f"{describe(instance)}: {kind} {json.dumps(value)[:80]} not satisfied"
