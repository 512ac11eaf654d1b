"""Route path templates (SPEC §3, seed 001 "Custom Paths"): `{...}` JSONPath over the AIMService object.

The result is lowercased and percent-encoded per RFC 3986 (unreserved characters and `/` kept), at most
200 characters, and must be a path the Gateway API HTTPRoute CRD accepts (its CEL rules refuse `//`,
`/./`, `/../`, `%2f` and `#`). Unlike the operator, a failure is an error, never a silent fallback
(reference/aim-operator-behavior.md §2).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote

DEFAULT_TEMPLATE = "/{.metadata.namespace}/{.metadata.name}"
MAX_PATH = 200

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
# HTTPRoute CRD, spec.rules[].matches[].path.value for Exact and PathPrefix (gateway-api v1.6.1)
CRD_PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PathTemplateError(ValueError):
    """A template that does not render to a valid route path; the message says why."""


def render_path(template: str, obj: dict[str, Any]) -> str:
    """The route path of `obj` (the AIMService as a plain dict) under `template`."""
    if not template.strip():
        raise PathTemplateError("the path template is empty; remove it to use the default "
                                f"{DEFAULT_TEMPLATE!r}")
    pieces: list[str] = []
    last = 0
    for match in PLACEHOLDER.finditer(template):
        pieces.append(encode_literal(_literal(template[last:match.start()])))
        pieces.append(encode_value(evaluate(match.group(1), obj)))
        last = match.end()
    pieces.append(encode_literal(_literal(template[last:])))
    path = "".join(pieces)
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/") and not path.endswith("//"):
        path = path[:-1]
    problem = path_problem(path)
    if problem:
        raise PathTemplateError(f"the path {path[:MAX_PATH + 20]!r} {problem}")
    return path


def _literal(text: str) -> str:
    if "{" in text or "}" in text:
        raise PathTemplateError(f"unbalanced brace in {text!r}: placeholders are written {{.metadata.name}}")
    return text


def encode_value(value: str) -> str:
    """A placeholder's value: lowercased, every character but unreserved ones and `/` percent-encoded."""
    try:
        return quote(value.lower(), safe="/")
    except UnicodeEncodeError as exc:  # a lone surrogate: not text YAML can carry, but never a traceback
        raise PathTemplateError(f"{value!r} is not valid Unicode text") from exc


def encode_literal(text: str) -> str:
    """Template text between placeholders: like a value, but percent escapes already there are kept (with
    upper-case hex digits, RFC 3986 §2.1), so encoding a rendered path again leaves it unchanged."""
    return "".join(part.upper() if ESCAPE.fullmatch(part) else encode_value(part) for part in ESCAPE.split(text))


def path_problem(path: str) -> str | None:
    """Why the HTTPRoute CRD (or aimgen) refuses `path` as a PathPrefix value, or None."""
    if len(path) > MAX_PATH:
        return f"is {len(path)} characters long (at most {MAX_PATH})"
    if path in ("", "/"):
        return "is empty: a route on '/' would claim every path of the gateway"
    if not path.startswith("/"):
        return "must start with '/'"
    for bad in ("//", "/./", "/../", "%2f", "%2F", "#"):
        if bad in path:
            return f"contains {bad!r}, which the HTTPRoute CRD refuses"
    if path.endswith(("/.", "/..")):
        return "ends in a '.' or '..' segment, which the HTTPRoute CRD refuses"
    if not CRD_PATH_CHARS.match(path):
        return "contains characters the HTTPRoute CRD refuses"
    return None


# --- JSONPath ---------------------------------------------------------------------------------------------


def evaluate(expression: str, obj: dict[str, Any]) -> str:
    """The single scalar value `expression` (Kubernetes JSONPath style, `.metadata.name`) selects in obj."""
    parsed, problem = _parse(expression.strip())
    if parsed is None:
        raise PathTemplateError(f"{{{expression}}} is not a valid JSONPath expression: {problem}")
    found = [m.value for m in parsed.find(obj)]
    if not found:
        raise PathTemplateError(f"{{{expression}}}: {_missing(parsed, obj)}")
    if len(found) > 1:
        raise PathTemplateError(f"{{{expression}}} selects {len(found)} values; it must select exactly one")
    value = found[0]
    if isinstance(value, dict | list):
        raise PathTemplateError(f"{{{expression}}} selects {'an object' if isinstance(value, dict) else 'a list'}, "
                                "not a single value")
    text = ("true" if value else "false") if isinstance(value, bool) else ("" if value is None else str(value))
    text = text.strip()
    if not text:
        raise PathTemplateError(f"{{{expression}}} is empty on this service")
    return text


@functools.cache
def _parser() -> Any:
    # Building the parser costs ~30 ms: do it once. jsonpath-ng 1.8 renamed the (misspelt) class.
    from jsonpath_ng.ext import parser

    cls: Any = getattr(parser, "ExtendedJsonPathParser", None)
    if cls is None:  # jsonpath-ng < 1.8
        cls = parser.ExtentedJsonPathParser
    return cls()


@functools.lru_cache(maxsize=1024)
def _parse(expression: str) -> tuple[Any, str]:
    """(parsed expression, "") or (None, why); parsing costs ~0.5 ms, so results are cached."""
    from jsonpath_ng.exceptions import JSONPathError

    if not expression:
        return None, "the placeholder is empty"
    text = expression if expression.startswith("$") else "$" + (expression if expression[0] in ".[" else
                                                                "." + expression)
    try:
        return _parser().parse(text), ""
    except (JSONPathError, ValueError, TypeError, AttributeError) as exc:  # ply raises plain errors on odd input
        return None, str(exc) or type(exc).__name__


def _missing(parsed: Any, obj: dict[str, Any]) -> str:
    """Name the first step of a field path that selects nothing (`label "team" not found`, ...)."""
    from jsonpath_ng import Child

    field = getattr(parsed.right, "fields", None) if isinstance(parsed, Child) else None
    parent = _describe(parsed.left) if field else ""
    if parent in (".metadata.labels", ".metadata.annotations") and field and len(field) == 1:
        kind = parent.rsplit(".", 1)[1][:-1]
        found = parsed.left.find(obj)
        present = sorted(found[0].value) if found and isinstance(found[0].value, dict) else []
        have = f"its {kind}s: {', '.join(present)}" if present else f"it has no {kind}s"
        return f'{kind} "{field[0]}" not found on this service ({have})'
    node = parsed
    while isinstance(node, Child) and not node.left.find(obj):
        node = node.left
    if not isinstance(node, Child):
        return "selects nothing on this service"
    parent, step = _describe(node.left), _describe(node.right)
    return f"field {parent}{step} not found on this service ({parent or 'the object'} has no {step.lstrip('.')})"


def _describe(node: Any) -> str:
    """`.spec.routing` style text for a parsed field path."""
    from jsonpath_ng import Child, Fields, Index, Root

    if isinstance(node, Root):
        return ""
    if isinstance(node, Child):
        return _describe(node.left) + _describe(node.right)
    if isinstance(node, Fields):
        return "".join(f".{f}" if _IDENTIFIER.match(f) else f"['{f}']" for f in node.fields)
    if isinstance(node, Index):
        return "".join(f"[{i}]" for i in getattr(node, "indices", (getattr(node, "index", 0),)))
    return str(node)
