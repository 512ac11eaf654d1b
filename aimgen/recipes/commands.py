"""`aimgen recipes` as library calls: diagnostics resolved to file:line:col, a summary, an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aimgen.diagnostics import EXIT_INPUT_ERROR, EXIT_OK, Diagnostic, Diagnostics, Severity
from aimgen.inputs.load import Locator, relative
from aimgen.recipes.convert import DEFAULT_IMAGE, DEFAULT_TYPE, convert, write_profiles
from aimgen.recipes.validate import validate


@dataclass(frozen=True)
class Outcome:
    diagnostics: list[Diagnostic]
    summary: str
    exit_code: int


def _report(diags: list[Diagnostic], root: Path, strict: bool) -> Diagnostics:
    locator = Locator(root)
    found = Diagnostics([locator.resolve(d) for d in diags])
    return found.promote_warnings() if strict else found


def _counts(found: Diagnostics) -> str:
    errors = sum(d.severity is Severity.ERROR for d in found.items)
    return f"{errors} error(s), {len(found.items) - errors} warning(s)"


def run_validate(paths: list[Path], root: Path, strict: bool = False) -> Outcome:
    """`aimgen recipes validate`."""
    recipes, diags = validate(paths, root)
    found = _report(diags, root, strict)
    summary = f"validated {len(recipes)} recipe(s): {_counts(found)}"
    return Outcome(found.sorted(), summary, EXIT_INPUT_ERROR if found.has_errors else EXIT_OK)


def run_import(paths: list[Path], root: Path, out: Path, image: str = DEFAULT_IMAGE,
               profile_type: str = DEFAULT_TYPE) -> Outcome:
    """`aimgen recipes import`: validate, then write one profile per enabled entry; errors write nothing."""
    recipes, diags = validate(paths, root)
    found = _report(diags, root, strict=False)
    if found.has_errors:
        return Outcome(found.sorted(), f"import stopped, nothing written: {_counts(found)}", EXIT_INPUT_ERROR)
    written = write_profiles(convert(recipes, image, profile_type), out)
    summary = f"imported {len(written)} profile(s) from {len(recipes)} recipe(s) into {relative(out, root)}"
    return Outcome(found.sorted(), summary, EXIT_OK)
