"""Where the inputs live: catalog/ and overlays/<name>/ under the root, and which overlays a build selects.

Light on purpose (no pydantic): a build whose inputs did not change needs only this."""

from __future__ import annotations

from pathlib import Path

from aimgen.diagnostics import EXIT_USAGE, AimgenError, error


def discover_overlays(root: Path) -> list[str]:
    base = root / "overlays"
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.is_dir() else []


def select_overlays(root: Path, requested: tuple[str, ...]) -> list[str]:
    available = discover_overlays(root)
    unknown = [o for o in requested if o not in available]
    if unknown:
        raise AimgenError(
            [
                error(
                    "OverlayNotFound",
                    f"no overlay {o!r} under {root / 'overlays'} (available: {', '.join(available) or 'none'})",
                )
                for o in unknown
            ],
            EXIT_USAGE,
        )
    if not available:
        raise AimgenError([error("OverlayNotFound", f"no overlays found under {root / 'overlays'}")], EXIT_USAGE)
    return list(requested) or available
