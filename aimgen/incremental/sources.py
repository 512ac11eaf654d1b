"""The input files of a build: listed, read and hashed in one pass, and the small facts the build derives from
their bytes and paths without parsing them (whether a file holds services only, the deployed files to read)."""

from __future__ import annotations

import marshal
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aimgen.incremental.cache import digest, read_input
from aimgen.output.deployed import DEPLOYED_FILES, Fact
from aimgen.output.write import Stat, stat_of

WHOLE = ""  # the one unit of an overlay compiled whole
_DOCUMENT_START = re.compile(rb"^---[ \t]*(?:#.*)?\r?$", re.M)
_KIND = re.compile(rb"^kind:[ \t]*([\"']?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?\r?$", re.M)
_CONTENT = re.compile(rb"^[ \t]*[^\s#]", re.M)


@dataclass
class InputFile:
    rel: str
    digest: bytes
    data: bytes | None  # kept while the file may need classifying
    unread: str = ""  # its path, while its digest is known by its stat and its bytes were not read

    def content(self) -> bytes | None:
        """The file's bytes (None when unreadable), read now if they were not."""
        if self.unread:
            self.data, self.unread = read_input(self.unread)[0], ""
        return self.data


def hashed_file(path: str, rel: str) -> InputFile:
    """The file read and hashed."""
    data, hashed = read_input(path)
    return InputFile(rel, hashed, data)


class KnownDigests:
    """Digests of input files by their stats, as git's index keeps them: a file whose stat (size, mtime, ctime,
    inode) is the one recorded when it was hashed is not read again. A stat is recorded only when the file was
    already a while older than the filesystem's clock: an edit after it was read always changes its stat (a later
    ctime, at least one clock tick on), even one that keeps its size and mtime. A record never turns false: that of
    a file edited since just stops matching."""

    MARGIN_NS = 1_000_000_000

    def __init__(self, known: dict[str, tuple[Stat, bytes]], clock: Callable[[], int]):
        self.known = known
        self.clock = clock  # the filesystem's current time (cache.fs_now), asked once and only when a file is hashed
        self.now: int | None = None
        self.added: dict[str, tuple[Stat, bytes]] = {}  # recorded by this build
        self.seen: set[str] = set()
        self.listed: list[str] = []  # the directories listed: recorded files under them that were not seen are gone

    def file(self, entry: os.DirEntry[str], rel: str) -> InputFile:
        self.seen.add(rel)
        try:
            st = entry.stat()
        except OSError:  # gone since listed: read_input says so
            return hashed_file(entry.path, rel)
        stat, path = stat_of(st), entry.path
        found = self.known.get(rel)
        if found is not None and found[0] == stat:
            return InputFile(rel, found[1], None, path)
        read = hashed_file(path, rel)
        if self.now is None:
            self.now = self.clock()
        if read.data is not None and max(st.st_mtime_ns, st.st_ctime_ns) < self.now - self.MARGIN_NS:
            self.known[rel] = self.added[rel] = (stat, read.digest)
        return read

    def current(self) -> dict[str, tuple[Stat, bytes]]:
        """The records, without those of files gone from the directories listed."""
        prefixes = tuple(d + "/" for d in self.listed)
        return {rel: v for rel, v in self.known.items() if rel in self.seen or not rel.startswith(prefixes)}


def input_files(root: str, directory: str, known: KnownDigests | None = None) -> list[InputFile]:
    """Every .yaml/.yml file under root/directory, hidden entries skipped, in load.yaml_files' order, hashed (by
    their stats, where `known`)."""
    out: list[InputFile] = []
    if known is not None:
        known.listed.append(directory)

    def walk(path: str, rel: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        files, dirs = [], []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():  # os.walk lists a symlinked directory but does not enter it
                    dirs.append(entry.name)
            elif entry.name.endswith((".yaml", ".yml")):
                files.append(entry)
        for entry in sorted(files, key=lambda e: e.name):
            name = rel + entry.name
            out.append(known.file(entry, name) if known is not None else hashed_file(entry.path, name))
        for name in sorted(dirs):
            walk(f"{path}/{name}", f"{rel}{name}/")

    walk(f"{root}/{directory}", directory + "/")
    return out


def looks_like_services(data: bytes | None) -> bool:
    """A guess, checked when the file is compiled: does every document of the file say `kind: AIMService`?"""
    if data is None:
        return True  # unreadable: its only effect is its own diagnostic
    return all(not _CONTENT.search(doc) or [m.group(2) for m in _KIND.finditer(doc)] == [b"AIMService"]
               for doc in _DOCUMENT_START.split(data))


def signature(*parts: object) -> bytes:
    """A digest of plain values (marshal format 2: no references, so the same values give the same bytes)."""
    return digest(marshal.dumps(parts, 2))  # type: ignore[arg-type]


def path_order(path: str) -> list[str]:
    """The order of scan_files: by path components."""
    return path.split("/")


def deployed_file(path: str) -> bool:
    """Whether a rendered/<overlay>/-relative path is one deployed_autoscaler_classes reads."""
    parts = path.split("/")
    return len(parts) == 2 and parts[1].startswith("inferenceservice-") and parts[1].endswith(".yaml")


assert DEPLOYED_FILES == "*/inferenceservice-*.yaml"  # deployed_file() follows it


def deployed_classes(paths: Iterable[tuple[str, tuple[Fact, ...]]]) -> dict[tuple[str, str], str]:
    """deployed_autoscaler_classes over known files: (rendered/<overlay>/-relative path, its facts)."""
    found: dict[tuple[str, str], str] = {}
    for _, facts in sorted(((tuple(p.split("/")), f) for p, f in paths if deployed_file(p))):
        found.update(facts)
    return found
