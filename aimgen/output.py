"""Write stage: compare the wanted files with rendered/, then write or remove only what changed.

Files aimgen wrote start with emit.HEADER; files without it are never touched. Nothing is written until
the whole build succeeded; each file is replaced atomically (temp file + rename), so readers never see a
half-written manifest.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .emit import HEADER

_HEADER_BYTES = HEADER.encode()


@dataclass(frozen=True)
class Plan:
    """What a build changes under rendered/ (paths relative to rendered/)."""

    write: dict[str, bytes] = field(default_factory=dict)  # added or changed
    added: frozenset[str] = frozenset()
    remove: tuple[str, ...] = ()
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not self.write and not self.remove

    def lines(self) -> list[str]:
        out = [f"{'added' if p in self.added else 'changed'}: {p}" for p in sorted(self.write)]
        return out + [f"removed: {p}" for p in self.remove]


def owned_files(rendered: Path, overlays: list[str]) -> dict[str, Path]:
    """Files under rendered/<overlay>/ that aimgen wrote (they start with its header)."""
    found: dict[str, Path] = {}
    for overlay in overlays:
        base = rendered / overlay
        if not base.is_dir():
            continue
        for dirpath, _, filenames in os.walk(base):
            for name in filenames:
                path = Path(dirpath, name)
                if name.endswith(".yaml") and _starts_with_header(path):
                    found[path.relative_to(rendered).as_posix()] = path
    return found


def _starts_with_header(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(_HEADER_BYTES)) == _HEADER_BYTES
    except OSError:
        return False


def plan_changes(rendered: Path, wanted: dict[str, bytes], overlays: list[str]) -> Plan:
    """Diff wanted files against what is on disk for the given overlays."""
    existing = owned_files(rendered, overlays)
    write: dict[str, bytes] = {}
    added: set[str] = set()
    unchanged = 0
    for rel, data in wanted.items():
        path = rendered / rel
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current == data:
            unchanged += 1
            continue
        write[rel] = data
        if current is None:
            added.add(rel)
    remove = tuple(sorted(set(existing) - set(wanted)))
    return Plan(write, frozenset(added), remove, unchanged)


def apply_plan(rendered: Path, plan: Plan) -> None:
    """Stage every new file next to its target first, then rename them all, then remove stale files."""
    staged: list[tuple[str, Path]] = []
    try:
        for rel, data in sorted(plan.write.items()):
            target = rendered / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".aimgen-", dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            staged.append((rel, Path(tmp_name)))
    except BaseException:
        for _, staged_file in staged:
            staged_file.unlink(missing_ok=True)
        raise
    for rel, staged_file in staged:
        os.chmod(staged_file, 0o644)
        os.replace(staged_file, rendered / rel)
    for rel in plan.remove:
        (rendered / rel).unlink(missing_ok=True)
        _prune_empty_dirs((rendered / rel).parent, rendered)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
