"""The build cache: what earlier builds computed, keyed by the content of everything it depends on.

It lives in `<root>/.aimgen-cache/` (which ignores itself in git), is safe to delete (the next build recomputes
everything) and never serves a stale result:
- everything is keyed by digests of the input files it was computed from, under `code_key()`: aimgen's own
  source, the Python version and the installed distributions (another aimgen, PyYAML or pydantic starts
  afresh). Lookups of rendered/ (the deployed autoscaler classes) are recorded and checked too;
- rendered/ counts as unchanged only while the paths and stats (size, mtime, ctime, inode) of every file under an
  overlay's directories are those recorded after the last build, all older than the index (a build waits for
  the clock to pass its newest file before writing the index, so a later edit always shows). Otherwise every
  file is read and compared by digest: a deleted or hand-edited output is rewritten.

Three layers, so that a build reads only what it needs: `index.pickle` (per overlay: signatures of its inputs
and outputs and its report: all a build with nothing to compile reads), `<overlay>/details.bin` (the overlay's
files, read when something in it changed, then its indexes across its units, read when a change is merged), with
`details.log` (the deltas of later builds that changed little, replayed on load) and `<overlay>/<n>.pack` (one
pickled UnitEntry after another, read by offset, appended to, compacted when mostly garbage). Index and details
are replaced (or the journal appended to) after the pack entries they point to are written.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import math
import os
import pickle
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimgen.diagnostics import Diagnostic, Location, SourceRef

if TYPE_CHECKING:
    from aimgen.output.deployed import Fact
    from aimgen.render.manifest import Manifest
    from aimgen.results import ServiceReport

CACHE_DIR = ".aimgen-cache"
INDEX = "index.pickle"
DETAILS = "details.bin"
JOURNAL = "details.log"  # changes to details.bin since it was written, appended by builds that change little
SHARED = "shared.pickle"  # an overlay's shared inputs, parsed (compiler.Compiler.shared_inputs)
INPUTS = "inputs.bin"  # digests of the input files by their stats (sources.KnownDigests)
INPUTS_LOG = "inputs.log"  # records of later builds, appended (each record is a fact: replayed in any order)
FORMAT = 7  # bump when the shape of the entries changes

Read = tuple[tuple[str, str], str | None]  # a lookup of the deployed classes and what it found
Locations = dict[SourceRef, Location]
Key = tuple[str, str, str]  # kind, namespace, name of a defined object
Group = tuple[int, Hashable]  # an overlay check (its index) and one group of the objects it reads


DIGEST_SIZE = 16


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def read_input(path: Path | str) -> tuple[bytes | None, bytes]:
    """The file's bytes (None when unreadable) and its digest (of the error, when unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return None, digest(f"\0unreadable: {exc.strerror}".encode())
    return data, digest(data)


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
    """One compiled service: its report, diagnostics and objects, the objects the overlay checks read (by check
    group), and the deployed autoscaler classes it looked up (`reads`). `alternative`: other values of those
    lookups giving the same result (what its own InferenceService says once written), or None."""

    report: ServiceReport
    diagnostics: tuple[Diagnostic, ...]
    outputs: tuple[OutputEntry, ...]
    checked: tuple[tuple[Group, Manifest], ...]  # empty in a light entry (what the build process holds)
    reads: tuple[Read, ...] = ()
    alternative: tuple[Read, ...] | None = None
    groups: tuple[Group, ...] = ()  # of `checked`

    def light(self) -> ServiceEntry:
        return replace(self, checked=())

    def valid_for(self, deployed: Mapping[tuple[str, str], str]) -> bool:
        """Whether its lookups would find what they found (or their alternative) in `deployed` now."""
        return all(deployed.get(k) == v for k, v in self.reads) or (
            self.alternative is not None and all(deployed.get(k) == v for k, v in self.alternative))

    @property
    def order(self) -> tuple[str, str]:
        return (self.report.namespace, self.report.name)


@dataclass(frozen=True)
class UnitEntry:
    """One input file of an overlay (or, for an overlay compiled whole, all of them: rel "") and what it compiled
    to. `keys`: the services it defines and where, in document order."""

    digest: bytes
    keys: tuple[tuple[Key, SourceRef], ...]
    services: tuple[ServiceEntry, ...]
    diagnostics: tuple[Diagnostic, ...]  # of loading and parsing the file
    locations: Locations

    def light(self) -> UnitEntry:
        """Without the objects the overlay checks read (the compiler keeps those; the pack has them)."""
        return replace(self, services=tuple(s.light() for s in self.services))


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
class OverlaySummary:
    """What a build in which nothing of the overlay changed needs: the signatures of its inputs (every overlay's
    files when it is compiled `whole`) and of rendered/ after the last build, and the overlay's report."""

    inputs: bytes
    whole: bool
    outputs: bytes
    settled: bool  # rendered/ held every wanted file after the build, and every service's lookups held
    units: int
    services: int
    objects: int  # objects produced (with duplicates, as reported)
    files: int  # distinct files wanted under rendered/<overlay>/
    diagnostics: tuple[Diagnostic, ...]  # in result order
    locations: Locations
    wiring: WiringEntry | None


@dataclass
class OverlayDetails:
    """What an incremental build of an overlay needs besides the units themselves."""

    key: bytes  # the catalog and the shared files (every overlay's files when whole)
    whole: bool
    files: dict[str, bytes]  # digest of each of the overlay's own files
    shared: frozenset[str]
    pack: str
    units: dict[str, tuple[int, int]]  # rel -> (offset, length) of its UnitEntry in the pack
    shared_diagnostics: tuple[Diagnostic, ...]  # of loading the shared files (composition, settings)
    locations: Locations  # of the shared, duplicate and check diagnostics
    unit_diagnostics: dict[str, tuple[Diagnostic, ...]]  # of loading each unit file (those with any)
    service_diagnostics: dict[str, tuple[tuple[tuple[str, str], int, tuple[Diagnostic, ...]], ...]]  # by unit
    unit_locations: dict[str, Locations]
    keys: dict[Key, tuple[tuple[str, int], ...]]  # unit and document defining each service key
    duplicates: dict[Key, tuple[Diagnostic, ...]]
    groups: dict[Group, tuple[str, ...]]  # overlay-check group -> units with objects in it
    checks: dict[Group, tuple[Diagnostic, ...]]  # diagnostics of the groups that have any
    produced: dict[str, tuple[str, ...]]  # files several units produce (shared objects) -> those units
    reads: dict[tuple[str, str], tuple[str, ...]]  # deployed lookups -> units that made them
    isvc: dict[str, tuple[Fact, ...]]  # the files deployed_autoscaler_classes reads after the build, and their facts
    deployed: dict[tuple[str, str], str]  # the deployed classes after the build
    counts: dict[str, tuple[int, int]]  # unit -> its services and objects

    def __getattr__(self, name: str) -> Any:
        """An index of details read from disk, decoded on first use (classifying an overlay's files reads only the
        head: a build that compiles a changed unit elsewhere never decodes them)."""
        if name not in _INDEXES or "_undecoded" not in self.__dict__:
            raise AttributeError(name)
        decode_indexes(self, *self.__dict__.pop("_undecoded"))
        return getattr(self, name)


@dataclass(frozen=True)
class Prepared:
    """An overlay's new details as the cache is to store them, made where they were computed (the compiler
    process, the short way) and written by the build once rendered/ is: a record for the journal, or details.bin."""

    pack: str  # the pack they point into (the others are removed)
    journal: bool  # `data` is a record appended to details.log; else it replaces details.bin
    data: bytes


_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError,
               IndexError, KeyError)


def pack(value: Any) -> bytes:
    """A value as the packs store it: pickled, compressed (a fast level: unit entries repeat a lot)."""
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


class CacheCorrupt(Exception):
    """An entry of the cache could not be read back: the build starts again without the cache."""


def unpack(blob: bytes) -> Any:
    """A value `pack` stored; CacheCorrupt when the bytes are not such a value (zlib checksums its content)."""
    try:
        return pickle.loads(zlib.decompress(blob))
    except (zlib.error, *_UNREADABLE) as exc:
        raise CacheCorrupt(f"{type(exc).__name__}: {exc}") from exc


def read_blobs(pack: Path, spans: dict[str, tuple[int, int]]) -> dict[str, bytes]:
    """Entries of a pack, by (offset, length); CacheCorrupt when the pack is gone or shorter."""
    out: dict[str, bytes] = {}
    try:
        with pack.open("rb") as fh:
            for rel, (offset, length) in sorted(spans.items(), key=lambda item: item[1]):
                fh.seek(offset)
                out[rel] = fh.read(length)
                if len(out[rel]) != length:
                    raise CacheCorrupt(f"{pack.name} ends before the entry of {rel}")
    except OSError as exc:
        raise CacheCorrupt(f"{pack.name}: {exc.strerror}") from exc
    return out


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_keyed(path: Path, key: bytes) -> Any:
    """What `store_keyed` stored under `key` at `path`, else None (absent, unreadable or another key)."""
    found = load_keyed_any(path)
    return found[1] if found is not None and found[0] == key else None


def load_keyed_any(path: Path) -> tuple[bytes, Any] | None:
    """(key, value) as `store_keyed` stored them, else None."""
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)
    except _UNREADABLE:
        return None
    return found if isinstance(found, tuple) and len(found) == 2 else None


def store_keyed(path: Path, key: bytes, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, _dumps((key, value)))


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


# The large indexes of OverlayDetails are plain dicts, tuples, str and bytes: marshal writes them 5x and reads them
# 1.5-2x faster than pickle. The diagnostics (dataclasses) are pickled; a detail marshal cannot write (a tuple
# subclass as a check group, say) makes the whole entry pickled. The head (what classifying the overlay's files
# reads) is decoded on load, the indexes (the rest) on first use.
_HEAD = ("key", "whole", "files", "shared", "pack", "units")
_RICH = frozenset({"shared_diagnostics", "locations", "unit_diagnostics", "service_diagnostics", "unit_locations",
                   "duplicates", "checks"})
_INDEXES = frozenset(f.name for f in fields(OverlayDetails)) - set(_HEAD)


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def dump_details(detail: OverlayDetails) -> bytes:
    """OverlayDetails as stored: the digest of the rest (the journal's records name the details.bin they apply to
    by it), then b"M" and, each after its length (8 bytes), the marshal of the head, the marshal of the plain
    indexes, the pickle of the others; or b"P" and the pickle of it all when a plain field holds what marshal does
    not write."""
    values = {f.name: getattr(detail, f.name) for f in fields(detail)}
    try:
        head = marshal.dumps({k: values[k] for k in _HEAD})
        plain = marshal.dumps({k: v for k, v in values.items() if k in _INDEXES and k not in _RICH})
    except ValueError:
        body = b"P" + _dumps(detail)
    else:
        body = b"M" + _sized(head) + _sized(plain) + _dumps({k: values[k] for k in _RICH})
    return digest(body) + body


@contextmanager
def without_gc() -> Iterator[None]:
    """The cycle collector paused (loading large acyclic structures, which would only trigger useless walks)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def journal_limit(base_size: int) -> int:
    """How large a log of changes (details.log, inputs.log) may grow before its base (details.bin, inputs.bin) is
    written whole again. Every build replays the whole log; a rewrite costs about the base's size. Over n builds
    between rewrites a build pays rewrite/n + replay*n/2, least when n grows with the square root of the base:
    measured, ~60 records for a 2.4 MB details.bin (20 ms to rewrite, 8 us per record replayed), ~80 for a 1 MB
    inputs.bin (3 ms, 2 us)."""
    return max(8 * math.isqrt(base_size), 1 << 12)


def grown_log(log_size: int, record: bytes, base_size: int) -> int | None:
    """The size of a log of `log_size` bytes once `record` is appended to it (after its length, 8 bytes); None
    when that passes journal_limit of its base, which is then to be rewritten instead."""
    grown = log_size + 8 + len(record)
    return grown if grown <= journal_limit(base_size) else None


def append_record(log: Path, record: bytes) -> None:
    with log.open("ab") as fh:
        fh.write(_sized(record))


_ABSENT = object()


def details_delta(base: OverlayDetails, detail: OverlayDetails) -> dict[str, Any]:
    """What turns `base` into `detail`: per dict field its changed entries, the keys it lost and, only when its keys
    are not those of `base` less the lost and then the new ones, the new keys in order; other fields whole when
    they differ."""
    delta: dict[str, Any] = {}
    for f in fields(detail):
        new, old = getattr(detail, f.name), getattr(base, f.name)
        if isinstance(new, dict):
            keys = list(new)
            if keys == list(old) and new == old:  # most of them, compared in C
                continue
            changed = {k: v for k, v in new.items() if (o := old.get(k, _ABSENT)) is not v and o != v}
            removed = [k for k in old if k not in new]
            kept = [k for k in old if k in new] if removed else list(old)
            order = None if keys == kept + [k for k in keys if k not in old] else keys
            delta[f.name] = (changed, removed, order)
        elif new != old:
            delta[f.name] = new
    return delta


def apply_delta(detail: OverlayDetails, delta: dict[str, Any]) -> None:
    for name, value in delta.items():
        current = getattr(detail, name)
        if isinstance(current, dict):
            changed, removed, order = value
            if order is None:
                for key in removed:
                    del current[key]
                current.update(changed)  # a new key last, as in `changed`
            else:
                setattr(detail, name, {k: changed[k] if k in changed else current[k] for k in order})
        else:
            setattr(detail, name, value)


def read_journal(data: bytes, token: bytes) -> list[dict[str, Any]]:
    """The deltas appended for the details.bin of digest `token` (those of an earlier details.bin are void);
    CacheCorrupt when a record is cut or unreadable."""
    deltas, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset:offset + 8], "little")
        record = data[offset + 8:offset + 8 + size]
        if len(record) != size:
            raise CacheCorrupt(f"{JOURNAL} ends inside a record")
        try:
            owner, delta = pickle.loads(record)
        except _UNREADABLE as exc:
            raise CacheCorrupt(f"{JOURNAL}: {type(exc).__name__}: {exc}") from exc
        if owner == token:
            deltas.append(delta)
        offset += 8 + size
    return deltas


def load_details(path: Path, journal: bytes = b"") -> tuple[OverlayDetails, bytes, int]:
    """What dump_details wrote to `path`, with the deltas `journal` holds for it applied, its digest and size;
    CacheCorrupt when it is not that. Only the head is read: the indexes are read, decoded and their deltas applied
    on first use."""
    with path.open("rb") as fh:
        token, kind, size = fh.read(DIGEST_SIZE), fh.read(1), os.fstat(fh.fileno()).st_size
        deltas = read_journal(journal, token)
        try:
            if kind == b"P":
                found = pickle.loads(fh.read())
            elif kind == b"M":
                found = OverlayDetails.__new__(OverlayDetails)
                found.__dict__.update(marshal.loads(fh.read(int.from_bytes(fh.read(8), "little"))))
                found.__dict__["_undecoded"] = (path, token, fh.tell(), [{k: v for k, v in d.items() if k in _INDEXES}
                                                                          for d in deltas])
                deltas = [{k: v for k, v in d.items() if k not in _INDEXES} for d in deltas]
            else:
                raise ValueError("unknown format")
        except (*_UNREADABLE, zlib.error) as exc:
            raise CacheCorrupt(f"{DETAILS}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(found, OverlayDetails):
        raise CacheCorrupt(f"{DETAILS}: not overlay details")
    for delta in deltas:
        apply_delta(found, delta)
    return found, token, size


def decode_indexes(detail: OverlayDetails, path: Path, token: bytes, offset: int, deltas: list[dict[str, Any]]
                   ) -> None:
    """The indexes of details read from `path` (dump_details' plain and rich parts, at `offset`), their journal's
    deltas applied; CacheCorrupt when they do not read back, or the file is no longer the one its head came from."""
    with without_gc():  # tens of thousands of fresh tuples: collections would only walk them
        try:
            with path.open("rb") as fh:
                if fh.read(DIGEST_SIZE) != token:
                    raise ValueError("replaced since its head was read")
                fh.seek(offset)
                data = memoryview(fh.read())  # a view: slicing 2 MB would copy it
            size = int.from_bytes(data[:8], "little")
            detail.__dict__.update(marshal.loads(data[8:8 + size]))
            detail.__dict__.update(pickle.loads(data[8 + size:]))
        except (*_UNREADABLE, zlib.error) as exc:
            raise CacheCorrupt(f"{DETAILS}: {type(exc).__name__}: {exc}") from exc
    if not detail.__dict__.keys() >= _INDEXES:
        raise CacheCorrupt(f"{DETAILS}: indexes missing")
    for delta in deltas:
        apply_delta(detail, delta)


@dataclass
class BuildCache:
    """One repository's cache: the index, loaded whole; details and units, loaded on demand."""

    root: Path
    code: bytes
    catalog: tuple[bytes, tuple[Diagnostic, ...], Locations] | None = None
    summaries: dict[str, OverlaySummary] = field(default_factory=dict)
    written_ns: int = 0  # mtime of the index when loaded: rendered files modified since are not trusted by stat
    inputs: dict[str, tuple[tuple[int, int, int, int], bytes]] = field(default_factory=dict)  # rel -> stat, digest
    inputs_sizes: tuple[int, int] = (0, 0)  # of inputs.bin and inputs.log as loaded
    _details: dict[str, OverlayDetails | None] = field(default_factory=dict)
    _stored: dict[str, tuple[bytes, int, int]] = field(default_factory=dict)  # of the details loaded (as on disk):
    # the digest and size of details.bin, the journal's size

    @property
    def directory(self) -> Path:
        return self.root / CACHE_DIR

    @classmethod
    def load(cls, root: Path, code: bytes) -> BuildCache:
        """The cache under `root`; empty when there is none, it is unreadable or another aimgen wrote it."""
        inputs, sizes = load_inputs(root / CACHE_DIR)  # facts about files, valid whatever wrote the index
        try:
            with (root / CACHE_DIR / INDEX).open("rb") as fh, without_gc():
                written_ns = os.fstat(fh.fileno()).st_mtime_ns
                data = pickle.load(fh)
            if data["format"] == FORMAT and data["code"] == code:
                return cls(root, code, data["catalog"], data["summaries"], written_ns, inputs, sizes)
        except _UNREADABLE:
            pass
        return cls(root, code, inputs=inputs, inputs_sizes=sizes)

    def clear(self) -> None:
        """Forget every build entry (index, details, packs, parsed shared inputs); other caches stay."""
        (self.directory / INDEX).unlink(missing_ok=True)
        (self.directory / INPUTS).unlink(missing_ok=True)
        (self.directory / INPUTS_LOG).unlink(missing_ok=True)
        for folder in (f for f in self.directory.iterdir() if f.is_dir()) if self.directory.is_dir() else ():
            for name in (DETAILS, JOURNAL, SHARED):
                (folder / name).unlink(missing_ok=True)
            for pack in folder.glob("*.pack"):
                pack.unlink(missing_ok=True)
        self.catalog, self.summaries, self._details, self._stored, self.written_ns = None, {}, {}, {}, 0
        self.inputs = {}

    def save_inputs(self, added: dict[str, tuple[tuple[int, int, int, int], bytes]],
                    every: Callable[[], dict[str, tuple[tuple[int, int, int, int], bytes]]]) -> None:
        """Record digests of input files by their stats: `added` appended to inputs.log while it stays small, else
        `every()` record (the files that still exist) written as inputs.bin and the log started afresh."""
        self.directory.mkdir(exist_ok=True)
        base, log = self.inputs_sizes
        record = marshal.dumps(added)
        if base and (grown := grown_log(log, record, base)) is not None:
            append_record(self.directory / INPUTS_LOG, record)
            self.inputs_sizes = (base, grown)
            return
        data = marshal.dumps((FORMAT, every()))
        atomic_write(self.directory / INPUTS, data)
        (self.directory / INPUTS_LOG).unlink(missing_ok=True)
        self.inputs_sizes = (len(data), 0)

    def details(self, overlay: str) -> OverlayDetails | None:
        """The overlay's details, None when absent or unusable (its pack gone)."""
        if overlay not in self._details:
            with without_gc():  # tens of thousands of fresh tuples: collections would only walk them
                self._load_details(overlay)
        return self._details[overlay]

    def _load_details(self, overlay: str) -> None:
        """details.bin with its journal replayed; None when absent, damaged or its pack is gone."""
        folder = self.directory / overlay
        self._details[overlay] = None
        try:
            try:
                journal = (folder / JOURNAL).read_bytes()
            except FileNotFoundError:
                journal = b""
            found, token, size = load_details(folder / DETAILS, journal)
        except (*_UNREADABLE, CacheCorrupt):  # absent, damaged, or a delta of another shape
            return
        if (folder / found.pack).is_file():
            self._details[overlay] = found
            self._stored[overlay] = (token, size, len(journal))

    def units(self, overlay: str, details: OverlayDetails, rels: Iterable[str]) -> dict[str, UnitEntry]:
        """Unit entries read from the overlay's pack by offset."""
        return {rel: unpack(blob) for rel, blob in self.blobs(overlay, details, rels).items()}

    def blobs(self, overlay: str, details: OverlayDetails, rels: Iterable[str]) -> dict[str, bytes]:
        """Unit entries as stored (pickled) in the overlay's pack."""
        return read_blobs(self.directory / overlay / details.pack, {rel: details.units[rel] for rel in rels
                                                                     if rel in details.units})

    def trusted(self, newest_ns: int) -> bool:
        """Whether rendered files last modified at `newest_ns` can be trusted by their stats."""
        return newest_ns < self.written_ns

    def save(self, details: dict[str, OverlayDetails], units: dict[str, dict[str, bytes]], fresh: set[str],
             prepared: Mapping[str, Prepared] | None = None) -> None:
        """Append new units to the overlays' packs (a new pack for overlays in `fresh`), then write the details (and
        those `prepared` elsewhere) and the index, each atomically (units: pickled UnitEntry by file). The caller
        waits for the clock to pass the files it wrote before (cache.settle)."""
        self.directory.mkdir(exist_ok=True)
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# the aimgen build cache: safe to delete\n*\n")
        for overlay, detail in details.items():
            self.commit(overlay, self.prepare(overlay, detail, units.get(overlay, {}), overlay in fresh), detail)
        for overlay, ready in (prepared or {}).items():
            self.commit(overlay, ready)
        atomic_write(self.directory / INDEX, _dumps({"format": FORMAT, "code": self.code, "catalog": self.catalog,
                                                      "summaries": self.summaries}))

    def prepare(self, overlay: str, detail: OverlayDetails, blobs: dict[str, bytes], fresh: bool) -> Prepared:
        """Append the units' entries to the overlay's pack (pointing `detail` at them), and make the record of
        what changed since the details loaded while the journal stays within journal_limit, else details.bin
        whole: what `commit` writes, once rendered/ is."""
        folder = self.directory / overlay
        folder.mkdir(parents=True, exist_ok=True)
        self._append(folder, detail, blobs, fresh)
        stored, base = self._stored.get(overlay), self._details.get(overlay)
        if stored is not None and base is not None and not fresh:
            token, size, journal = stored
            record = _dumps((token, details_delta(base, detail)))
            if grown_log(journal, record, size) is not None:
                return Prepared(detail.pack, True, record)
        return Prepared(detail.pack, False, dump_details(detail))

    def commit(self, overlay: str, prepared: Prepared, detail: OverlayDetails | None = None) -> None:
        """Write what `prepare` made (`detail`: the details it was made of, kept for this build to read)."""
        folder = self.directory / overlay
        if prepared.journal:
            append_record(folder / JOURNAL, prepared.data)
        else:
            atomic_write(folder / DETAILS, prepared.data)
            (folder / JOURNAL).unlink(missing_ok=True)
        for pack in folder.glob("*.pack"):
            if pack.name != prepared.pack:
                pack.unlink(missing_ok=True)
        self._stored.pop(overlay, None)
        self._details.pop(overlay, None)
        if detail is not None:
            self._details[overlay] = detail

    @staticmethod
    def _append(folder: Path, detail: OverlayDetails, blobs: dict[str, bytes], fresh: bool) -> None:
        if fresh:
            detail.pack, detail.units = f"{time.time_ns():x}.pack", {}
        with (folder / detail.pack).open("ab") as fh:
            offset = fh.tell()
            fh.write(b"".join(blobs.values()))
        for rel, blob in blobs.items():
            detail.units[rel] = (offset, len(blob))
            offset += len(blob)
        live = sum(length for _, length in detail.units.values())
        if (folder / detail.pack).stat().st_size > 2 * live + (1 << 20):  # mostly replaced entries: compact
            source, detail.pack = folder / detail.pack, f"{time.time_ns():x}.pack"
            moved: dict[str, tuple[int, int]] = {}
            with source.open("rb") as src, (folder / detail.pack).open("wb") as dst:
                for rel, (offset, length) in sorted(detail.units.items(), key=lambda item: item[1]):
                    src.seek(offset)
                    moved[rel] = (dst.tell(), length)
                    dst.write(src.read(length))
            detail.units = moved


def load_inputs(directory: Path) -> tuple[dict[str, tuple[tuple[int, int, int, int], bytes]], tuple[int, int]]:
    """The digests of input files by their stats, inputs.bin then the records of inputs.log, and the two sizes
    (empty when absent, damaged or of another format: only a cost, each record is a fact on its own)."""
    try:
        data = (directory / INPUTS).read_bytes()
        found = marshal.loads(data)
    except _UNREADABLE:
        return {}, (0, 0)
    if type(found) is not tuple or len(found) != 2 or found[0] != FORMAT or type(found[1]) is not dict:
        return {}, (0, 0)
    known = found[1]
    try:
        log = (directory / INPUTS_LOG).read_bytes()
    except OSError:
        return known, (len(data), 0)
    offset = 0
    while offset + 8 <= len(log):
        size = int.from_bytes(log[offset:offset + 8], "little")
        if offset + 8 + size > len(log):
            break  # a cut record (a build stopped while appending) ends the log
        try:
            record = marshal.loads(log[offset + 8:offset + 8 + size])
        except _UNREADABLE:
            break
        if type(record) is not dict:
            break
        known.update(record)
        offset += 8 + size
    return known, (len(data), len(log))


def fs_now(directory: Path) -> int:
    """The filesystem's clock: the mtime of a file touched now (file times come from it, not from time.time)."""
    probe = directory / ".clock"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.touch()
    return probe.stat().st_mtime_ns


def settle(newest_ns: int, directory: Path) -> None:
    """Wait until the filesystem clock is past `newest_ns` (the newest mtime among files just written), so that
    anything written from now on, the index included, is strictly newer (git's racy-clean problem)."""
    while fs_now(directory) <= newest_ns:
        time.sleep(0.001)
