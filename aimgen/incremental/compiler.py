"""The compiler half of an incremental build: a process forked from the build (its imports overlap the build's
scan of rendered/) that loads the shared inputs, compiles the units asked for on every core, runs the overlay
checks, and streams each overlay back. Without fork (or with --jobs 1) the same object serves in-process."""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import shutil
import types
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimgen.diagnostics import Diagnostic, SourceRef
from aimgen.incremental import channel
from aimgen.incremental.cache import (
    CACHE_DIR,
    SHARED,
    BuildCache,
    CacheCorrupt,
    Group,
    Key,
    Locations,
    OverlayDetails,
    UnitEntry,
    WiringEntry,
    load_keyed,
    read_blobs,
    store_keyed,
    unpack,
)
from aimgen.incremental.channel import Channel
from aimgen.incremental.merging import ShortInputs, ShortMerged, merge_short
from aimgen.incremental.sources import WHOLE, input_files
from aimgen.render.manifest import Manifest
from aimgen.results import BuildOptions

if TYPE_CHECKING:
    from aimgen.incremental.units import Compiled as UnitCompiled
    from aimgen.incremental.units import Shared, Slice, UnitJob


@dataclass(frozen=True)
class CompileRequest:
    """One overlay to compile: its shared files (None: whole, from all its files), its units to compile, the
    deployed classes they read, and whether its GitOps wiring is wanted too."""

    name: str
    shared: tuple[str, ...] | None
    key: bytes  # of the shared files: the compiler keeps them parsed under it
    units: tuple[str, ...]
    deployed: dict[tuple[str, str], str] | None  # None: as the overlay's details record them (the short way)
    wiring: bool
    stage: Path | None  # where the files compiled are written (None: --check)
    everything: bool = False  # every unit is compiled: the compiler runs the overlay and duplicate checks too
    short: ShortInputs | None = None  # the short way: the compiler merges the units into the details too


@dataclass
class Compiled:
    """What the compiler returns for one overlay."""

    name: str
    whole: bool
    shared: tuple[str, ...]  # the shared files, as finally classified
    units: dict[str, UnitEntry]  # light: the compiler keeps the objects the overlay checks read
    blobs: dict[str, bytes]  # the full entries, pickled (as stored in the pack)
    fresh: set[str]  # the files compiled (written to the stage at their paths, unless --check)
    shared_diagnostics: tuple[Diagnostic, ...]
    locations: Locations
    wiring: WiringEntry | None
    # with `everything`: the overlay's checks and duplicates (those with diagnostics), and their locations
    checks: dict[Group, tuple[Diagnostic, ...]] | None = None
    duplicates: dict[Key, tuple[Diagnostic, ...]] | None = None
    check_locations: Locations = field(default_factory=dict)
    merged: ShortMerged | None = None  # asked the short way, and it held


class Compiler:
    """The heavy half, run in a forked process (its imports overlap the parent's scan of rendered/) that serves
    the requests of one build, or in this process. It keeps the shared inputs it loaded between requests."""

    def __init__(self, root: Any, options: BuildOptions, cache: BuildCache, fork: bool):
        self.root = root
        self.options = options
        self.cache = cache  # forked: the build's as it was then (the details it reads are its own)
        self.kept: dict[str, tuple[bytes, Shared]] = {}
        self.shared: dict[str, Shared] = {}
        self.checked: dict[str, dict[str, bytes]] = {}  # the objects the checks read, of the units compiled
        self._catalog: Any = None
        self.pid = 0
        self.released = False
        self.conn: Channel | None = None
        if fork:
            self.pid, self.conn = channel.fork(self._serve)

    def _serve(self, conn: Channel) -> None:
        from aimgen.incremental.units import die_with_parent

        die_with_parent()

        self.warm_up()
        gc.freeze()  # what is loaded so far lives as long as this process: later collections skip it
        gc.enable()  # (the build paused it): requests may leave garbage cycles (exceptions of invalid inputs)

        while True:
            try:
                request = conn.recv()
            except EOFError:  # the parent is gone
                return
            if request is None:
                return
            method, args = request
            result = None
            try:
                result = getattr(self, method)(*args)
                if isinstance(result, types.GeneratorType):
                    for item in result:
                        conn.send(("part", item))
                    result = None
                conn.send(("ok", result))
            except (BrokenPipeError, ConnectionResetError):  # the parent is gone or gave up
                if isinstance(result, types.GeneratorType):
                    result.close()
                return
            except CacheCorrupt as exc:
                conn.send(("corrupt", str(exc)))
            except BaseException:  # the parent owns the user-facing error handling
                import traceback

                conn.send(("error", traceback.format_exc()))

    def warm_up(self) -> None:
        """What any compilation needs, done while the parent still scans: the compiler's modules, the emitter, the
        AIMService schema (models build theirs on first use)."""
        from aimgen.inputs.models.aim import AIMService
        from aimgen.kube import yamlout  # noqa: F401

        AIMService.model_rebuild()

    def call(self, method: str, *args: Any) -> Any:
        if self.conn is None:
            return getattr(self, method)(*args)
        assert not self.released, "the compiler process was asked to end"
        self.conn.send((method, args))
        status, value = self.conn.recv()
        if status != "ok":
            _raise(status, value)
        return value

    def stream(self, method: str, *args: Any) -> Iterator[Any]:
        """A generator method's items, as the compiler produces them: asked now, read as iterated (nothing else
        may be asked meanwhile)."""
        if self.conn is None:
            return getattr(self, method)(*args)  # type: ignore[no-any-return]
        return self._items(pickle.dumps((method, args), protocol=pickle.HIGHEST_PROTOCOL))

    def _items(self, request: bytes) -> Iterator[Any]:
        """Send a pickled request now; its items, read as iterated."""
        assert self.conn is not None and not self.released, "the compiler process was asked to end"
        self.conn.send_bytes(request)
        return self._replies()

    def _replies(self) -> Iterator[Any]:
        assert self.conn is not None
        while True:
            status, value = self.conn.recv()
            if status == "part":
                yield value
            elif status == "ok":
                return
            else:
                _raise(status, value)

    def release(self) -> None:
        """Ask the compiler process to end (nothing more to compile): it exits while the build writes."""
        if self.conn is not None and not self.released:
            self.released = True
            with contextlib.suppress(OSError):
                self.conn.send(None)

    def close(self) -> None:
        """End the compiler process: asked to, and with its connection closed (a compiler still sending, because
        the build stopped on an error, then fails and ends too)."""
        if self.conn is not None:
            self.release()
            self.conn.close()
            self.conn = None
            channel.reap(self.pid)

    # -- in the compiler process

    def catalog(self) -> Any:
        if self._catalog is None:
            from aimgen.inputs.tree import load_catalog

            self._catalog = load_catalog(self.root)
        return self._catalog

    def catalog_diagnostics(self) -> tuple[tuple[Diagnostic, ...], Locations]:
        from aimgen.incremental.units import locate_all
        from aimgen.inputs.load import Locator

        diags = tuple(self.catalog()[1])
        locations: Locations = {}
        locate_all(Locator(self.root), diags, locations)
        return diags, locations

    def compile(self, requests: list[CompileRequest]) -> Iterator[Compiled]:
        """Load each overlay's shared inputs and compile its units (on every core), yielding each overlay as soon as
        it is done. A file guessed to hold services only that holds other documents makes its overlay compile
        again, with that file shared."""
        from aimgen.incremental.units import run_jobs

        requests = [r if r.deployed is not None else replace(r, deployed=self.details(r.name).deployed)
                    for r in requests]
        for r in requests:
            self.shared[r.name] = self.shared_inputs(r.name, r.shared, r.key)
        jobs, units = self.jobs(requests)
        by_name = {r.name: r for r in requests}
        for name, compiled, slices in run_jobs(jobs, units, self.options.jobs or os.cpu_count() or 1,
                                               self.options.jobs is not None):
            yield self.merged(by_name[name], self.overlay(by_name[name], compiled, slices))
        for r in requests:
            if r.name not in jobs:
                yield self.merged(r, self.overlay(r, [], []))

    def details(self, name: str) -> OverlayDetails:
        """The overlay's details, which the build read before asking the short way."""
        details = self.cache.details(name)
        if details is None:
            raise CacheCorrupt(f"the details of {name} are gone")
        return details

    def merged(self, r: CompileRequest, result: Compiled) -> Compiled:
        """The overlay asked the short way merged into its details, when its files are still classified so."""
        if r.short is not None and not result.whole and set(result.shared) == set(r.shared or ()):
            result.merged = merge_short(self.cache, self.details(r.name), r, result, self.checks)
            if result.merged is not None:
                result.blobs = {}  # in the pack already
        return result

    def jobs(self, requests: list[CompileRequest]) -> tuple[dict[str, UnitJob], dict[str, list[str]]]:
        from aimgen.incremental.units import whole_job

        jobs, units = {}, {}
        for r in requests:
            s = self.shared[r.name]
            if self.compiles(r):
                job = whole_job(self.root, r.name, s, r.deployed or {}, r.stage)
                jobs[r.name] = job if s.whole else replace(job, services=())
            if not s.whole and r.units:
                units[r.name] = list(r.units)
        return jobs, units

    def compiles(self, r: CompileRequest) -> bool:
        """Whether the request compiles anything: units, or a whole overlay (named "" when the build knew it is
        compiled whole; found whole only now: always)."""
        if self.shared[r.name].whole:
            return WHOLE in r.units or r.shared is not None
        return bool(r.units)

    def overlay(self, r: CompileRequest, compiled: list[UnitCompiled], slices: Slice) -> Compiled:
        """One overlay's result: its compiled units (light, and packed), and its checks when it was compiled whole."""
        from aimgen.incremental.units import packed, run_jobs

        s = self.shared[r.name]
        result = Compiled(r.name, s.whole, () if s.whole else tuple(r.shared or ()), {}, {}, set(),
                          tuple(s.diagnostics), s.locations, self.wiring(s) if r.wiring else None)
        self.checked.pop(r.name, None)
        if not self.compiles(r):  # the shared inputs only (for checks, wiring)
            return result
        if s.whole:
            locations: Locations = {}
            for _, files, located in slices:
                result.fresh |= files
                locations.update(located)
            entry = UnitEntry(b"", (), tuple(e for e, _, _ in slices), (), locations)
            self.adopt(result, packed(WHOLE, entry, frozenset()))
        else:
            wrong = {c.rel for c in compiled if c.entry is None}
            if wrong:
                shared = tuple(sorted({*(r.shared or ()), *wrong}))
                others = tuple(f.rel for f in input_files(str(self.root), f"overlays/{r.name}") if f.rel not in shared)
                again = replace(r, shared=shared, key=b"", units=others, everything=True)
                self.shared[r.name] = self.shared_inputs(r.name, shared, b"")
                if r.stage is not None:  # what the first pass staged may differ: staged files are never replaced
                    shutil.rmtree(r.stage / r.name, ignore_errors=True)
                jobs, units = self.jobs([again])
                name, compiled, slices = next(run_jobs(jobs, units, self.options.jobs or os.cpu_count() or 1,
                                                       self.options.jobs is not None), (r.name, [], []))
                return self.overlay(again, compiled, slices)
            for c in compiled:
                self.adopt(result, c)
                result.fresh |= c.files
        if r.everything or s.whole:
            positions = {rel: i for i, rel in enumerate([WHOLE, *r.units])}
            occurrences: dict[Key, list[SourceRef]] = {}
            for rel in r.units:
                if rel in result.units:
                    for key, source in result.units[rel].keys:
                        occurrences.setdefault(key, []).append(source)
            result.checks, result.duplicates, result.check_locations = self.checks(
                r.name, None, {}, "", positions, occurrences)
        return result

    def adopt(self, result: Compiled, unit: UnitCompiled) -> None:
        assert unit.entry is not None
        if unit.checked:
            self.checked.setdefault(result.name, {})[unit.rel] = unit.checked
        result.units[unit.rel], result.blobs[unit.rel] = unit.entry, unit.blob

    def checks(self, name: str, groups: set[Group] | None, cached: dict[str, tuple[int, int]], pack: str,
               positions: dict[str, int], occurrences: dict[Key, list[SourceRef]]
               ) -> tuple[dict[Group, tuple[Diagnostic, ...]], dict[Key, tuple[Diagnostic, ...]], Locations]:
        """The overlay checks on the given groups (None: all) over the units compiled and the `cached` ones (read
        from the pack), objects in compile_overlay's order; the duplicate check on the given keys."""
        from aimgen.incremental.units import check_diagnostics, duplicate_diagnostics, locate_all
        from aimgen.inputs.load import Locator

        objects = {rel: unpack(blob) for rel, blob in self.checked.get(name, {}).items()}
        spans = {rel: span for rel, span in cached.items() if rel not in objects}
        for rel, blob in (read_blobs(self.root / CACHE_DIR / name / pack, spans) if spans else {}).items():
            unit = unpack(blob)
            objects[rel] = [(s.order, i, j, group, m) for i, s in enumerate(unit.services)
                            for j, (group, m) in enumerate(s.checked)]
        members: dict[Group, list[tuple[Any, Manifest]]] = {}
        for rel, found in objects.items():
            for order, i, j, group, m in found:
                if groups is None or group in groups:
                    members.setdefault(group, []).append(((order, positions.get(rel, 0), i, j), m))
        ordered = {g: [m for _, m in sorted(ms, key=lambda x: x[0])] for g, ms in members.items()}
        shared = self.shared[name]
        checks = check_diagnostics(shared, ordered)
        duplicates = {} if shared.whole else duplicate_diagnostics(occurrences)
        locations: Locations = {}
        locate_all(Locator(self.root), (d for ds in [*checks.values(), *duplicates.values()] for d in ds), locations)
        return checks, duplicates, locations

    def shared_inputs(self, name: str, shared: tuple[str, ...] | None, key: bytes) -> Shared:
        """The overlay's shared inputs, parsed: kept in the cache under the overlay's key (`key` empty: not
        kept), so that compiling a changed unit parses neither the catalog nor the inventory again."""
        from aimgen.incremental.units import load_shared

        kept = self.root / CACHE_DIR / name / SHARED
        ahead = self.kept.pop(name, None)
        found = (ahead[1] if ahead[0] == key else None) if ahead else load_keyed(kept, key) if key else None
        if found is not None and key:
            return found  # type: ignore[no-any-return]
        paths = None if shared is None else [self.root / rel for rel in shared]
        loaded = load_shared(self.root, name, self.catalog()[0], paths)
        if key and not loaded.whole:
            store_keyed(kept, key, loaded)
        return loaded

    def load_shared(self, name: str, shared: tuple[str, ...] | None, key: bytes) -> None:
        self.shared[name] = self.shared_inputs(name, shared, key)

    def wiring(self, shared: Shared) -> WiringEntry:
        from aimgen.output.gitops import gitops_files, origin_url

        asked: list[str | None] = []

        def origin() -> str | None:
            if not asked:
                asked.append(origin_url(self.root))
            return asked[0]

        flags = (self.options.argocd, self.options.flux)
        files, diags = gitops_files(self.root, [(shared.inputs.name, shared.inputs.settings.gitops)], *flags, origin)
        return WiringEntry(flags, files, tuple(diags), bool(asked), asked[0] if asked else None)

    def overlay_wiring(self, name: str, shared: tuple[str, ...] | None, key: bytes) -> WiringEntry:
        if name not in self.shared:
            self.load_shared(name, shared, key)
        return self.wiring(self.shared[name])


def _raise(status: str, value: str) -> None:
    """The compiler process's failure, raised in the build process."""
    if status == "corrupt":
        raise CacheCorrupt(value)
    raise RuntimeError(f"the compiler process failed:\n{value}")
