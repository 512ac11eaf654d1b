"""Write stage: compare the wanted files with rendered/, then write or remove only what changed.

Files aimgen wrote start with emit.HEADER; files without it are never touched. Nothing is written until
the whole build succeeded; each file is replaced atomically (temp file + rename), so readers never see a
half-written manifest.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aimgen.output.emit import HEADER

_HEADER_BYTES = HEADER.encode()


@dataclass(frozen=True)
class Plan:
    """What a build changes under rendered/ (paths relative to rendered/)."""

    # added or changed: their bytes, or a file written elsewhere on the same filesystem (moved into place)
    write: dict[str, bytes | Path] = field(default_factory=dict)
    added: frozenset[str] = frozenset()
    remove: tuple[str, ...] = ()
    unchanged: int = 0
    # top folders of rendered/ that do not exist yet, each with a staged folder holding exactly its files of `write`:
    # moved into place whole (one rename instead of one per file)
    folders: dict[str, Path] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.write and not self.remove

    def lines(self) -> list[str]:
        out = [f"{'added' if p in self.added else 'changed'}: {p}" for p in sorted(self.write)]
        return out + [f"removed: {p}" for p in self.remove]


Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode: what says a file may have changed


def stat_of(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def scan_files(rendered: Path, directories: list[str]) -> dict[str, Stat]:
    """Every file under rendered/<directory>/ (rendered/-relative path -> stat), in the order of their paths'
    components, symlinked directories not followed."""
    found: dict[str, Stat] = {}

    def walk(path: str, prefix: str) -> None:
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        if entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, prefix + entry.name + "/")
                elif entry.is_file():
                    try:
                        found[prefix + entry.name] = stat_of(entry.stat())
                    except OSError:
                        continue

    for directory in directories:
        walk(str(rendered / directory), directory + "/")
    return found


def starts_with_header(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(_HEADER_BYTES)) == _HEADER_BYTES
    except OSError:
        return False


def plan_changes(rendered: Path, wanted: Mapping[str, bytes | Path | None], present: Collection[str],
                 same: Callable[[str], bool]) -> Plan:
    """Diff the wanted files against rendered/. `present`: the files found under the built directories
    (scan_files); `same(path)`: whether a present file already holds the wanted bytes; `wanted[path]` is None only
    for files known to hold them. Files no longer wanted are removed when aimgen wrote them (header first)."""
    write: dict[str, bytes | Path] = {}
    added: set[str] = set()
    unchanged = 0
    for rel, data in wanted.items():
        if rel in present and same(rel):
            unchanged += 1
            continue
        if data is None:
            raise ValueError(f"no bytes for {rel}, which is not on disk as wanted")
        write[rel] = data
        if rel not in present:
            added.add(rel)
    remove = tuple(sorted(rel for rel in present
                          if rel not in wanted and rel.endswith(".yaml") and starts_with_header(rendered / rel)))
    return Plan(write, frozenset(added), remove, unchanged)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_PLAIN_UMASK = _umask() & 0o644 == 0  # 0644 survives the umask: no fchmod (a metadata update: half the cost)


def write_file(path: str, data: bytes) -> None:
    """A new file (it must not exist) holding `data`, mode 0644."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if not _PLAIN_UMASK:
            os.fchmod(fd, 0o644)
    finally:
        os.close(fd)


def stage_file(stage: Path, rel: str, data: bytes) -> None:
    """`data` as stage/rel, its folders made as needed; a file already there is the same object, staged by another
    service."""
    path = f"{stage}/{rel}"
    try:
        write_file(path, data)
    except FileNotFoundError:
        os.makedirs(path.rpartition("/")[0], exist_ok=True)
        with contextlib.suppress(FileExistsError):
            write_file(path, data)
    except FileExistsError:
        pass


def apply_plan(rendered: Path, plan: Plan) -> None:
    """Move the plan's whole new folders into place; stage every other new file next to its target (files written
    elsewhere on the same filesystem are complete already), then rename them all into place, then remove stale
    files. Eight threads: creating files is I/O the filesystem serves in parallel."""
    prefix = f".aimgen-{os.getpid()}-{time.time_ns():x}-"
    moved = _move_folders(rendered, plan.folders)
    todo = sorted((rel, source) for rel, source in plan.write.items() if rel.partition("/")[0] not in moved)
    for folder in sorted({f"{rendered}/{rel}".rpartition("/")[0] for rel, _ in todo}):
        os.makedirs(folder, exist_ok=True)
    device = os.stat(rendered).st_dev if todo else 0
    staged: list[str | None] = [None] * len(todo)

    def stage(indexes: range) -> None:
        for i in indexes:
            rel, source = todo[i]
            if isinstance(source, Path) and os.stat(source).st_dev == device:
                staged[i] = str(source)
                continue
            tmp = f"{rendered}/{rel}".rpartition("/")[0] + f"/{prefix}{i}"
            write_file(tmp, source.read_bytes() if isinstance(source, Path) else source)
            staged[i] = tmp

    def install(indexes: range) -> None:
        for i in indexes:
            os.replace(staged[i], f"{rendered}/{todo[i][0]}")  # type: ignore[arg-type]

    threads = 8 if len(todo) >= 64 else 1  # threads (and importing them: 15 ms) cost more than they save on a few
    slices = [range(i, len(todo), threads) for i in range(threads)]
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(threads) if threads > 1 else contextlib.nullcontext() as pool:
        run = pool.map if pool is not None else map
        try:
            list(run(stage, slices))
        except BaseException:
            for i, tmp in enumerate(staged):
                if tmp is not None and not isinstance(todo[i][1], Path):
                    Path(tmp).unlink(missing_ok=True)
            raise
        list(run(install, slices))
    for rel in plan.remove:
        (rendered / rel).unlink(missing_ok=True)
        _prune_empty_dirs((rendered / rel).parent, rendered)


def _move_folders(rendered: Path, folders: dict[str, Path]) -> set[str]:
    """Rename each staged folder to rendered/<name> (which does not exist); those that moved."""
    moved: set[str] = set()
    if folders:
        rendered.mkdir(parents=True, exist_ok=True)
    for name, staged in sorted(folders.items()):
        try:
            os.rename(staged, rendered / name)
        except OSError:  # another filesystem, or the folder appeared meanwhile: its files are moved one by one
            continue
        moved.add(name)
    return moved


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
