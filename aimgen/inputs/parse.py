"""Parse stage: Documents -> typed input objects; every schema violation becomes a located diagnostic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from aimgen.diagnostics import Diagnostic, SourceRef, YamlPath, error, format_path
from aimgen.inputs.load import Document
from aimgen.inputs.models.kinds import KINDS

# pydantic error type -> (diagnostic code, point at the key instead of the value)
_CODES: dict[str, tuple[str, bool]] = {
    "extra_forbidden": ("UnknownField", True),
    "missing": ("MissingField", False),
    "literal_error": ("InvalidEnumValue", False),
    "enum": ("InvalidEnumValue", False),
}


def parse_document(doc: Document) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate one document against the model of its apiVersion/kind."""
    value = doc.value
    if not isinstance(value, dict):
        return None, [error("InvalidDocument", "a document must be a mapping with apiVersion and kind", doc.source)]
    api_version, kind = value.get("apiVersion"), value.get("kind")
    if not api_version or not kind:
        missing = "apiVersion" if not api_version else "kind"
        return None, [error("MissingField", f"document has no {missing}", doc.source)]
    model = KINDS.get((str(api_version), str(kind)))
    if model is None:
        known = sorted({v for (v, k) in KINDS if k == kind})
        hint = f"; {kind} is served as {', '.join(known)}" if known else ""
        return None, [error("UnknownKind", f"unknown kind {api_version}/{kind}{hint}", doc.source.at("kind"))]
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        return None, validation_diagnostics(exc, value, doc.source)


def validation_diagnostics(exc: ValidationError, value: Any, source: SourceRef) -> list[Diagnostic]:
    """One diagnostic per offending location (the first reason wins where unions report several)."""
    seen: set[YamlPath] = set()
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        path = yaml_path(value, err["loc"])
        if path in seen:
            continue
        seen.add(path)
        code, at_key = _CODES.get(err["type"], (_code(err["type"]), False))
        field = format_path(path) or "document"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {field!r}"
        elif err["type"] == "missing":
            msg = f"missing required field {field!r}"
        else:
            msg = f"{field}: {msg}"
            if "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], dict | list):
                msg += f" (got {err['input']!r})"
        out.append(error(code, msg, source.at(*path, key=at_key)))
    return out


def _code(error_type: str) -> str:
    """Wrong YAML type (a string where an integer belongs) vs. a well-typed but invalid value."""
    if error_type.endswith(("_type", "_parsing")) or error_type in ("is_instance_of", "model_attributes_type"):
        return "InvalidType"
    return "InvalidValue"


def yaml_path(value: Any, loc: tuple[Any, ...]) -> YamlPath:
    """Keep the steps of a pydantic error location that exist in the YAML (drops union/validator tags)."""
    path: list[str | int] = []
    current = value
    for step in loc:
        in_dict = isinstance(current, dict) and step in current
        in_list = isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current)
        if in_dict or in_list:
            current = current[step]
            path.append(step)
        elif isinstance(current, dict) and isinstance(step, str) and step not in current and _is_field(step):
            path.append(step)  # a missing or unknown key: name it
            current = None
    return tuple(path)


def _is_field(step: str) -> bool:
    return not any(c in step for c in "[](),") and step not in ("str", "int", "float", "bool", "list", "dict")
