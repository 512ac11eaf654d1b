"""The build cache: what earlier builds computed, keyed by the content of everything it depends on.

It lives in `<root>/.aimgen-cache/` (which ignores itself in git), is safe to delete (the next build recomputes
everything) and never serves a stale result:
- entries are keyed by digests of the input files they were computed from, under `code_key()`: aimgen's own
  source, the Python version and the installed distributions (another aimgen, PyYAML or pydantic starts
  afresh); reads of rendered/ (the deployed autoscaler classes) are recorded and checked too;
- a rendered file counts as unchanged only while its size, mtime, ctime and inode are the recorded ones and it
  was modified before the index was written (git's racy-clean rule); otherwise it is read and compared by
  digest, so a deleted or hand-edited output is noticed and rewritten.
The index is one pickle of plain data and aimgen's light dataclasses (no pydantic), replaced atomically.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .deployed import Fact
from .diagnostics import Diagnostic, Location, SourceRef
from .manifest import Manifest
from .output import Stat
from .results import ServiceReport

CACHE_DIR = ".aimgen-cache"
INDEX = "index.pickle"
FORMAT = 1  # bump when the shape of the entries changes

Read = tuple[tuple[str, str], str | None]  # a lookup of the deployed classes and what it found
Locations = dict[SourceRef, Location]


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def code_key() -> bytes:
    """Everything besides the inputs that decides a build's result: aimgen's source, Python, installed packages."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT}|{sys.version}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for site in sorted({p for p in sys.path if p.endswith("-packages") and os.path.isdir(p)}):
        h.update(site.encode() + b"\0" + "\n".join(sorted(n for n in os.listdir(site) if n.endswith("-info"))).encode())
    return h.digest()


@dataclass(frozen=True)
class OutputRecord:
    """A file aimgen wrote (or verified) under rendered/: its digest, its stat then, its deployed facts."""

    digest: bytes
    stat: Stat
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class OutputEntry:
    """One object a service produced: its file (rendered/-relative) and digest, what a NameCollision names, and
    its deployed facts (an InferenceService's autoscalerClass)."""

    path: str
    digest: bytes
    kind: str
    namespace: str
    name: str
    owner: str  # Manifest.service: "namespace/name", "" when shared
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class ServiceEntry:
    """One compiled service: its report, diagnostics and objects, the objects the overlay checks read, and the
    deployed autoscaler classes it looked up (`reads`). `alternative`: other values of those lookups that give
    the same result (the classes its own InferenceService will have once written), or None."""

    report: ServiceReport
    diagnostics: tuple[Diagnostic, ...]
    outputs: tuple[OutputEntry, ...]
    checked: tuple[Manifest, ...]
    reads: tuple[Read, ...] = ()
    alternative: tuple[Read, ...] | None = None

    def valid_for(self, deployed: Mapping[tuple[str, str], str]) -> bool:
        """Whether its lookups would find what they found (or their alternative) in `deployed` now."""
        return all(deployed.get(k) == v for k, v in self.reads) or (
            self.alternative is not None and all(deployed.get(k) == v for k, v in self.alternative))


@dataclass(frozen=True)
class UnitEntry:
    """One input file of an overlay (or, for an overlay compiled whole, all of them: rel "") and what it compiled
    to. `keys`: (kind, namespace, name) and source of the services it defines, in document order."""

    digest: bytes
    keys: tuple[tuple[tuple[str, str, str], SourceRef], ...]
    services: tuple[ServiceEntry, ...]
    diagnostics: tuple[Diagnostic, ...]  # of loading and parsing the file
    locations: Locations


@dataclass(frozen=True)
class WiringEntry:
    """An overlay's GitOps wiring for one combination of --argocd/--flux: files, diagnostics, and the origin
    remote URL it used (`asked` False when it needed none)."""

    flags: tuple[bool, bool]
    files: dict[str, bytes]
    diagnostics: tuple[Diagnostic, ...]
    asked: bool
    origin: str | None


@dataclass(frozen=True)
class OverlayEntry:
    """One overlay. `key` digests the catalog and the overlay's shared files (for a `whole` overlay, every file
    under overlays/); `files`: digest of each of its own files; `units` by file (one "" unit when whole)."""

    key: bytes
    whole: bool
    files: dict[str, bytes]
    shared: frozenset[str]
    units: dict[str, UnitEntry]
    diagnostics: tuple[Diagnostic, ...]  # loading the shared documents, settings, composition
    checks: tuple[Diagnostic, ...]  # the overlay checks across all services
    locations: Locations
    wiring: WiringEntry | None = None


@dataclass
class BuildCache:
    """The index of one repository's cache, loaded whole and written back whole."""

    root: Path
    code: bytes
    catalog: tuple[bytes, tuple[Diagnostic, ...], Locations] | None = None
    overlays: dict[str, OverlayEntry] = field(default_factory=dict)
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    written_ns: int = 0  # mtime of the index when loaded: records modified since are not trusted by stat
    dirty: bool = False

    @property
    def directory(self) -> Path:
        return self.root / CACHE_DIR

    @classmethod
    def load(cls, root: Path, code: bytes) -> BuildCache:
        """The cache under `root`; empty when there is none, it is unreadable or another aimgen wrote it."""
        path = root / CACHE_DIR / INDEX
        try:
            with path.open("rb") as fh:
                written_ns = os.fstat(fh.fileno()).st_mtime_ns
                data = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            return cls(root, code)
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("code") != code:
            return cls(root, code)
        return cls(root, code, data["catalog"], data["overlays"], data["outputs"], written_ns)

    def trusted(self, path: str, stat: Stat | None) -> OutputRecord | None:
        """The record of a rendered file whose stat says it still holds the recorded bytes, else None."""
        record = self.outputs.get(path)
        if record is None or stat is None or record.stat != stat or stat[1] >= self.written_ns:
            return None
        return record

    def record(self, path: str, record: OutputRecord | None) -> None:
        if record is None:
            if self.outputs.pop(path, None) is not None:
                self.dirty = True
        elif self.outputs.get(path) != record:
            self.outputs[path] = record
            self.dirty = True

    def save(self) -> None:
        """Write the index atomically (a temporary file renamed over it); a failure leaves the old one."""
        if not self.dirty:
            return
        directory = self.directory
        directory.mkdir(exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# the aimgen build cache: safe to delete\n*\n")
        data = {"format": FORMAT, "code": self.code, "catalog": self.catalog, "overlays": self.overlays,
                "outputs": self.outputs}
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, directory / INDEX)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.dirty = False
