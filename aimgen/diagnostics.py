"""Diagnostics: values, never prints. One top-level handler renders them and picks the exit code."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

# Exit codes: the stable CLI contract (SPEC §2).
EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
EXIT_OUT_OF_DATE = 3
EXIT_INTERNAL = 70  # a bug in aimgen (EX_SOFTWARE), never bad input


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A position in an input file: path relative to the build root, 1-based line and column."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col}"
        return self.path


YamlPath = tuple[str | int, ...]


def format_path(path: YamlPath) -> str:
    """`spec.env[0].value` style rendering of a YAML path."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


@dataclass(frozen=True)
class SourceRef:
    """A value inside a YAML document; resolved to file:line:col (by load.Locator) only when reported."""

    file: str  # relative to the build root, with forward slashes
    doc: int  # index of the document in the file
    path: YamlPath = ()
    key: bool = False  # point at the mapping key rather than its value

    def at(self, *path: str | int, key: bool = False) -> SourceRef:
        return SourceRef(self.file, self.doc, self.path + tuple(path), key)


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `code` is a stable CamelCase reason (operator reasons reused where one exists)."""

    severity: Severity
    code: str
    message: str
    location: Location | SourceRef | None = None
    subject: str = ""  # e.g. "overlay/ns/name" of the service concerned

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }
        if isinstance(self.location, Location):
            out["file"] = self.location.path
            out["line"] = self.location.line
            out["column"] = self.location.col
        if self.subject:
            out["subject"] = self.subject
        return out

    def sort_key(self) -> tuple[object, ...]:
        loc = self.location
        if isinstance(loc, SourceRef):
            return (loc.file, loc.doc, 0, self.code, self.message)
        loc = loc or Location("")
        return (loc.path, loc.line, loc.col, self.code, self.message)


def error(code: str, message: str, location: Location | SourceRef | None = None, subject: str = "") -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, location, subject)


def warning(code: str, message: str, location: Location | SourceRef | None = None, subject: str = "") -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, location, subject)


@dataclass
class Diagnostics:
    """An ordered, de-duplicated collection of diagnostics."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        unique = [d for d in self.items if not (d in seen or seen.add(d))]  # type: ignore[func-returns-value]
        return sorted(unique, key=Diagnostic.sort_key)

    def promote_warnings(self) -> Diagnostics:
        """--strict: every warning becomes an error."""
        return Diagnostics(
            [Diagnostic(Severity.ERROR, d.code, d.message, d.location, d.subject) for d in self.items]
        )


def render_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(d.render() + "\n" for d in diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, sort_keys=True)


class AimgenError(Exception):
    """A failure that stops a command; carries diagnostics for the top-level handler."""

    def __init__(self, diagnostics: list[Diagnostic], exit_code: int = EXIT_INPUT_ERROR):
        super().__init__("; ".join(d.render() for d in diagnostics))
        self.diagnostics = diagnostics
        self.exit_code = exit_code
