"""aimgen build, incremental and on every core, with the bytes of a clean build.

A build reads and hashes every input file and stats every rendered file, then compiles only what changed:
- an overlay's files are *units* (AIMService documents only) or *shared* (inventory, Overlay, Namespace, Gateway
  and namespaced catalog documents). The catalog and the shared files key the overlay; each unit keys its own
  services. Overlays with bases or patches, or with services among their shared documents, are compiled whole,
  keyed by every file under overlays/;
- what did not change is answered from the build cache (cache.py) without importing pydantic or parsing a file;
  a unit is recompiled when its file, the overlay's key, the deployed autoscaler classes it read or one of its
  rendered files (deleted, hand-edited) changed;
- units are compiled in forked worker processes that inherit the parsed shared inputs, and merged in file order:
  the result does not depend on the number of jobs;
- overlay checks (render.OVERLAY_CHECKS) see every service's objects of the kinds they read, cached ones included.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import (
    BuildCache,
    Locations,
    OutputEntry,
    OutputRecord,
    OverlayEntry,
    Read,
    ServiceEntry,
    UnitEntry,
    WiringEntry,
    code_key,
    digest,
)
from .deployed import Fact, autoscaler_fact, deployed_autoscaler_classes
from .diagnostics import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_OUT_OF_DATE,
    Diagnostic,
    Diagnostics,
    SourceRef,
    error,
)
from .emit import emit, gitops_dir, manifest_path
from .load import Locator, load_files, parse_documents, relative, yaml_files
from .output import apply_plan, plan_changes, scan_files, stat_of
from .results import BuildOptions, BuildResult, CacheStats, OverlayResult, select_overlays

if TYPE_CHECKING:
    from .build import CompiledService, OverlayContext
    from .inputs import OverlayInputs, Parsed
    from .models.aim import AIMService

PARALLEL_MIN = 200  # units to compile below which forking workers costs more than it gains (without --jobs)
BATCH = 25  # units per task sent to a worker
WHOLE = ""  # the one unit of an overlay compiled whole

_DOCUMENT_START = re.compile(rb"^---[ \t]*(?:#.*)?\r?$", re.M)
_KIND = re.compile(rb"^kind:[ \t]*([\"']?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?\r?$", re.M)
_CONTENT = re.compile(rb"^[ \t]*[^\s#]", re.M)


def run_build(options: BuildOptions) -> BuildResult:
    """Build the selected overlays; write only when every overlay compiled without errors."""
    names = select_overlays(options.root, options.overlays)
    return Build(options, names, BuildCache.load(options.root, code_key())).run()


# --- inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    rel: str
    path: Path
    digest: bytes
    data: bytes | None  # kept when the cache does not know the file (to classify it)


def read_input(path: Path) -> tuple[bytes | None, bytes]:
    """The file's bytes (None when unreadable) and its digest (of the error when unreadable)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, digest(f"\0unreadable: {exc.strerror}".encode())
    return data, digest(data)


def scan_inputs(root: Path, directory: Path, known: Mapping[str, bytes]) -> list[InputFile]:
    """Every input file under `directory`, in load order, hashed; bytes kept for files not in `known`."""
    out: list[InputFile] = []
    for path in yaml_files(directory) if directory.is_dir() else []:
        rel = relative(path, root)
        data, hashed = read_input(path)
        out.append(InputFile(rel, path, hashed, None if known.get(rel) == hashed else data))
    return out


def looks_like_services(data: bytes | None) -> bool:
    """A guess, checked when the file is compiled: does every document of the file say `kind: AIMService`?"""
    if data is None:
        return True  # unreadable: its only effect is its own diagnostic
    for document in _DOCUMENT_START.split(data):
        if _CONTENT.search(document) and [m.group(2) for m in _KIND.finditer(document)] != [b"AIMService"]:
            return False
    return True


def only_services(values: list[Any]) -> bool:
    """Whether loaded documents can only define AIMServices (others are errors of their own file)."""
    return not any(isinstance(v, dict) and v.get("kind") not in (None, "AIMService") for v in values)


def key_of(*parts: object) -> bytes:
    return digest(repr(parts).encode())


# --- compiling units (in worker processes or in-process) ---------------------------------------------------------


@dataclass(frozen=True)
class UnitJob:
    """Everything the units of one overlay compile against (inherited by forked workers, never pickled)."""

    root: Path
    overlay: str
    context: OverlayContext | None  # None: no inventory (files are still loaded and checked)
    deployed: dict[tuple[str, str], str]
    kinds: frozenset[str]  # the kinds the overlay checks read
    services: tuple[tuple[AIMService, SourceRef], ...] = ()  # an overlay compiled whole: its services, sorted


@dataclass(frozen=True)
class Compiled:
    """What a unit compiled to: its cache entry and the bytes of its files (absent from the cache)."""

    rel: str
    entry: UnitEntry | None  # None: the file holds other documents than AIMServices (it is shared)
    files: dict[str, bytes] = field(default_factory=dict)


class RecordingLookup(Mapping[tuple[str, str], str]):
    """The deployed autoscaler classes, noting every lookup (a compiled service depends on what it found)."""

    def __init__(self, deployed: Mapping[tuple[str, str], str]):
        self.deployed = deployed
        self.reads: dict[tuple[str, str], str | None] = {}

    def __getitem__(self, key: tuple[str, str]) -> str:
        self.reads[key] = self.deployed.get(key)
        return self.deployed[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.deployed)

    def __len__(self) -> int:
        return len(self.deployed)


def compile_one(job: UnitJob, service: AIMService, source: SourceRef) -> tuple[ServiceEntry, dict[str, bytes]]:
    """One service, emitted. When what it looked up in rendered/ differs from what its own InferenceService will
    say once written, it is compiled again against the latter: if nothing changes, both are valid."""
    from .build import compile_service

    assert job.context is not None
    lookup = RecordingLookup(job.deployed)
    compiled = compile_service(job.context, service, source, lookup)
    facts = {key: value for m in compiled.manifests if (fact := autoscaler_fact(m.obj)) for key, value in [fact]}
    reads = tuple(lookup.reads.items())
    alternative = None
    if any(facts.get(key) != value for key, value in reads):
        after = {**job.deployed, **facts}
        for key in lookup.reads.keys() - facts.keys():
            after.pop(key, None)
        second = RecordingLookup(after)
        again = compile_service(job.context, service, source, second)
        if again == compiled and second.reads.keys() == lookup.reads.keys():
            alternative = tuple(second.reads.items())
    return emit_service(job, compiled, reads, alternative)


def emit_service(job: UnitJob, compiled: CompiledService, reads: tuple[Read, ...],
                 alternative: tuple[Read, ...] | None) -> tuple[ServiceEntry, dict[str, bytes]]:
    files: dict[str, bytes] = {}
    outputs: list[OutputEntry] = []
    for m in compiled.manifests:
        path = manifest_path(job.overlay, m)
        data = emit(m)
        fact = autoscaler_fact(m.obj)
        outputs.append(OutputEntry(path, digest(data), m.kind, m.namespace, m.name, m.service,
                                   (fact,) if fact else ()))
        files.setdefault(path, data)
    checked = tuple(m for m in compiled.manifests if m.kind in job.kinds)
    entry = ServiceEntry(compiled.report, tuple(compiled.diagnostics), tuple(outputs), checked, reads, alternative)
    return entry, files


def locate_all(locator: Locator, diagnostics: list[Diagnostic], into: Locations) -> None:
    for d in diagnostics:
        if isinstance(d.location, SourceRef):
            into[d.location] = locator.locate(d.location)


def compile_unit(job: UnitJob, rel: str) -> Compiled:
    """One input file of AIMServices: loaded, checked, every service compiled and emitted."""
    from .inputs import parse_all

    path = job.root / rel
    data, hashed = read_input(path)
    if data is None:
        docs, diags = load_files([path], job.root)
    else:
        docs, diags = parse_documents(data, rel)
    if not only_services([doc.value for doc in docs]):
        return Compiled(rel, None)
    parsed, parse_diags = parse_all(docs)
    diags += parse_diags
    services: list[ServiceEntry] = []
    files: dict[str, bytes] = {}
    if job.context is not None:
        for service, source in parsed:
            entry, emitted = compile_one(job, service, source)  # type: ignore[arg-type]
            services.append(entry)
            for out, written in emitted.items():
                files.setdefault(out, written)
    locations: Locations = {}
    locator = Locator(job.root, {rel: data} if data is not None else None)
    locate_all(locator, diags + [d for s in services for d in s.diagnostics], locations)
    keys = tuple((("AIMService", s.metadata.namespace, s.metadata.name), src) for s, src in parsed)  # type: ignore[attr-defined]
    return Compiled(rel, UnitEntry(hashed, keys, tuple(services), tuple(diags), locations), files)


def compile_slice(job: UnitJob, start: int, stop: int) -> list[tuple[ServiceEntry, dict[str, bytes], Locations]]:
    """Services [start, stop) of an overlay compiled whole."""
    out = []
    locator = Locator(job.root)
    for service, source in job.services[start:stop]:
        entry, files = compile_one(job, service, source)
        locations: Locations = {}
        locate_all(locator, list(entry.diagnostics), locations)
        out.append((entry, files, locations))
    return out


_JOBS: dict[str, UnitJob] = {}  # a worker's jobs, set once by the pool initializer from its explicit arguments


def _adopt(jobs: dict[str, UnitJob]) -> None:
    gc.disable()  # short-lived workers: no reference cycles worth collecting, many objects allocated
    _JOBS.update(jobs)


def _compile_units(overlay: str, rels: list[str]) -> list[Compiled]:
    return [compile_unit(_JOBS[overlay], rel) for rel in rels]


def _compile_slice(overlay: str, start: int, stop: int) -> list[tuple[ServiceEntry, dict[str, bytes], Locations]]:
    return compile_slice(_JOBS[overlay], start, stop)


def run_jobs(jobs: dict[str, UnitJob], units: dict[str, list[str]], workers: int, forced: bool
             ) -> tuple[dict[str, list[Compiled]], dict[str, list[tuple[ServiceEntry, dict[str, bytes], Locations]]]]:
    """Compile the given units (by overlay) and the services of overlays compiled whole, on `workers` processes
    when it pays (fork only: workers inherit the jobs), in order either way."""
    whole = {name: job for name, job in jobs.items() if job.services}
    size = sum(len(rels) for rels in units.values()) + sum(len(job.services) for job in whole.values())
    parallel = workers > 1 and "fork" in multiprocessing.get_all_start_methods() and (forced or size >= PARALLEL_MIN)
    if not parallel:
        return ({name: [compile_unit(jobs[name], rel) for rel in rels] for name, rels in units.items()},
                {name: compile_slice(job, 0, len(job.services)) for name, job in whole.items()})
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_adopt,
                             initargs=(jobs,)) as pool:
        unit_futures = {name: [pool.submit(_compile_units, name, rels[i:i + BATCH])
                               for i in range(0, len(rels), BATCH)] for name, rels in units.items()}
        slice_futures = {name: [pool.submit(_compile_slice, name, i, min(i + BATCH, len(job.services)))
                                for i in range(0, len(job.services), BATCH)] for name, job in whole.items()}
        return ({name: [c for f in fs for c in f.result()] for name, fs in unit_futures.items()},
                {name: [s for f in fs for s in f.result()] for name, fs in slice_futures.items()})


# --- one build ---------------------------------------------------------------------------------------------------


@dataclass
class OverlayState:
    """One overlay during a build: its files, how it is keyed, and its units once known."""

    name: str
    files: list[InputFile]
    shared: set[str]  # rel of the files that key the overlay (not units)
    whole: bool
    key: bytes
    entry: OverlayEntry | None  # the cached entry, while still keyed alike
    units: dict[str, UnitEntry] = field(default_factory=dict)  # clean and compiled, by rel
    dirty: list[str] = field(default_factory=list)  # units to compile
    changed: bool = False  # units compiled, added or removed: the checks across services are run again
    deployed: dict[tuple[str, str], str] | None = None
    inputs: OverlayInputs | None = None  # the shared inputs, once loaded
    context: OverlayContext | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # of loading the shared inputs
    locations: Locations = field(default_factory=dict)
    fresh: dict[str, bytes] = field(default_factory=dict)  # bytes of the files compiled in this build
    compiled: int = 0

    @property
    def stale(self) -> bool:
        return self.entry is None or self.changed


class Build:
    """One `aimgen build` (or `--check`) over the selected overlays."""

    def __init__(self, options: BuildOptions, names: list[str], cache: BuildCache):
        self.options = options
        self.root = options.root
        self.names = names
        self.cache = cache
        self.rendered = self.root / "rendered"
        self.present = scan_files(self.rendered, [d for n in names for d in (n, gitops_dir(n))])
        self.verified: dict[str, bytes] = {}  # digests of rendered files read in this build
        self.catalog_key = key_of(cache.code, [(f.rel, f.digest)
                                               for f in scan_inputs(self.root, self.root / "catalog", {})])
        self._catalog: tuple[list[Parsed], list[Diagnostic]] | None = None
        self._all_files: list[tuple[str, bytes]] | None = None

    # -- keys and classification

    def all_overlay_files(self) -> list[tuple[str, bytes]]:
        """(rel, digest) of every file under overlays/: what an overlay compiled whole may read."""
        if self._all_files is None:
            self._all_files = [(f.rel, f.digest) for f in scan_inputs(self.root, self.root / "overlays", {})]
        return self._all_files

    def plan(self, name: str) -> OverlayState:
        """Hash the overlay's files and find what the cache still answers."""
        entry = self.cache.overlays.get(name)
        files = scan_inputs(self.root, self.root / "overlays" / name, entry.files if entry else {})
        state = self.classify(name, files, entry, set(entry.shared) if entry else set())
        if entry is None or entry.key != state.key or entry.whole != state.whole:
            state.entry = None
            state.dirty = [f.rel for f in files if f.rel not in state.shared]
            return state
        if state.whole:
            state.units = dict(entry.units)
            return state
        current = {f.rel: f.digest for f in files if f.rel not in state.shared}
        state.units = {rel: unit for rel, unit in entry.units.items() if current.get(rel) == entry.files.get(rel)}
        state.dirty = [rel for rel in current if rel not in state.units]
        state.changed = bool(state.dirty) or len(state.units) != len(entry.units)
        return state

    def classify(self, name: str, files: list[InputFile], entry: OverlayEntry | None, shared: set[str]
                 ) -> OverlayState:
        """Which files are shared (as the cache knows them, else guessed from their text) and the overlay's key."""
        known = entry.files if entry else {}
        shared = {rel for rel in shared if rel in known} | {
            f.rel for f in files if known.get(f.rel) != f.digest and not looks_like_services(f.data)}
        digests = {f.rel: f.digest for f in files}
        whole = bool(entry and entry.whole and known == digests)
        if whole:
            key = key_of(self.catalog_key, self.all_overlay_files())
        else:
            key = key_of(self.catalog_key, sorted((rel, digests[rel]) for rel in shared if rel in digests))
        return OverlayState(name, files, shared, whole, key, entry)

    # -- rendered/ as it is

    def same(self, path: str, wanted: bytes, facts: tuple[Fact, ...]) -> bool:
        """Whether rendered/<path> holds the bytes of digest `wanted` (per the cache's record, else read)."""
        if path in self.verified:
            return self.verified[path] == wanted
        stat = self.present.get(path)
        record = self.cache.trusted(path, stat)
        if record is not None:
            return record.digest == wanted
        if stat is None:
            return False
        data, found = read_input(self.rendered / path)
        self.verified[path] = found
        if data is not None and found == wanted:
            self.cache.record(path, OutputRecord(found, stat, facts))
        return found == wanted

    def deployed(self, state: OverlayState) -> dict[tuple[str, str], str]:
        """The overlay's deployed autoscaler classes, from the cache's records where they hold."""
        if state.deployed is None:
            def known(path: Path) -> list[Fact] | None:
                rel = relative(path, self.rendered)
                record = self.cache.trusted(rel, self.present.get(rel))
                return list(record.facts) if record is not None else None

            state.deployed = deployed_autoscaler_classes(self.rendered / state.name, known)
        return state.deployed

    def drop_invalid(self, state: OverlayState) -> None:
        """Drop the cached units whose lookups of rendered/ or whose rendered files changed."""
        deployed = self.deployed(state)
        for rel, unit in list(state.units.items()):
            if all(s.valid_for(deployed) and all(self.same(o.path, o.digest, o.facts) for o in s.outputs)
                   for s in unit.services):
                continue
            del state.units[rel]
            state.changed = True
            if state.whole:
                state.entry = None
            else:
                state.dirty.append(rel)

    # -- the heavy part: parsing and compiling

    def catalog(self) -> tuple[list[Parsed], list[Diagnostic]]:
        if self._catalog is None:
            from .inputs import load_catalog

            self._catalog = load_catalog(self.root)
        return self._catalog

    def load_shared(self, state: OverlayState) -> None:
        """Parse the overlay's shared files (every file, for an overlay compiled whole); an overlay with bases,
        patches or services among its shared files is compiled whole from then on."""
        from .build import overlay_context
        from .inputs import load_overlay

        files = None if state.whole else [f.path for f in state.files if f.rel in state.shared]
        state.inputs, state.diagnostics = load_overlay(self.root, state.name, self.catalog()[0], files=files)
        overlay = state.inputs.overlay
        composed = overlay is not None and bool(overlay[0].spec.bases or overlay[0].spec.patches)
        if not state.whole and (state.inputs.services or composed):
            state.whole, state.entry, state.units, state.dirty = True, None, {}, []
            state.key = key_of(self.catalog_key, self.all_overlay_files())
            self.load_shared(state)
            return
        state.context = overlay_context(state.inputs)
        state.locations = {}
        locate_all(Locator(self.root), state.diagnostics, state.locations)

    def job(self, state: OverlayState, kinds: frozenset[str]) -> UnitJob:
        from .build import sorted_services

        assert state.inputs is not None
        services = tuple(sorted_services(state.inputs.services)) if state.whole and state.context else ()
        return UnitJob(self.root, state.name, state.context, self.deployed(state), kinds, services)

    def compile(self, states: list[OverlayState]) -> None:
        """Load the shared inputs of every overlay with work to do, then compile its dirty units, everywhere."""
        from .render import OVERLAY_CHECK_KINDS

        pending = [s for s in states if s.stale]
        while pending:
            for state in pending:
                self.load_shared(state)
            jobs = {s.name: self.job(s, OVERLAY_CHECK_KINDS) for s in pending if s.dirty or s.whole}
            units = {s.name: s.dirty for s in pending if s.dirty and not s.whole}
            workers = self.options.jobs or os.cpu_count() or 1
            compiled, slices = run_jobs(jobs, units, workers, self.options.jobs is not None)
            retry: list[OverlayState] = []
            for state in pending:
                if state.whole:
                    self.adopt_whole(state, slices.get(state.name, []))
                elif not self.adopt_units(state, compiled.get(state.name, [])):
                    retry.append(state)
            pending = retry

    def adopt_units(self, state: OverlayState, compiled: list[Compiled]) -> bool:
        """Take the compiled units; False when a file guessed to hold services only did not (the overlay is then
        keyed with it among the shared files, and compiled again)."""
        wrong = {c.rel for c in compiled if c.entry is None}
        if wrong:
            state.shared |= wrong
            state.key = key_of(self.catalog_key, sorted((f.rel, f.digest) for f in state.files
                                                        if f.rel in state.shared))
            state.entry, state.units, state.fresh, state.compiled = None, {}, {}, 0
            state.dirty = [f.rel for f in state.files if f.rel not in state.shared]
            return False
        for c in compiled:
            assert c.entry is not None
            state.units[c.rel] = c.entry
            for path, data in c.files.items():
                state.fresh.setdefault(path, data)
        state.compiled += len(compiled)
        state.dirty = []
        return True

    def adopt_whole(self, state: OverlayState, slices: list[tuple[ServiceEntry, dict[str, bytes], Locations]]
                    ) -> None:
        locations: Locations = {}
        for _, files, located in slices:
            for path, data in files.items():
                state.fresh.setdefault(path, data)
            locations.update(located)
        state.units = {WHOLE: UnitEntry(state.key, (), tuple(s for s, _, _ in slices), (), locations)}
        state.compiled, state.changed = 1, True

    # -- merging an overlay

    def ordered_units(self, state: OverlayState) -> list[UnitEntry]:
        if state.whole:
            return list(state.units.values())
        return [state.units[f.rel] for f in state.files if f.rel in state.units]

    def overlay_result(self, state: OverlayState) -> tuple[OverlayResult, list[ServiceEntry], OverlayEntry]:
        """The overlay's result (services in (namespace, name) order, as compile_overlay) and its cache entry."""
        units = self.ordered_units(state)
        services = sorted((s for u in units for s in u.services), key=lambda s: (s.report.namespace, s.report.name))
        if state.entry is not None and not state.changed:
            shared, checks, locations = state.entry.diagnostics, state.entry.checks, state.entry.locations
        else:
            if state.inputs is None:
                self.load_shared(state)
            shared, locations = tuple(state.diagnostics), dict(state.locations)
            checks = tuple(self.cross_checks(state, units, services, locations))
        diagnostics = [*shared, *(d for u in units for d in u.diagnostics),
                       *(d for s in services for d in s.diagnostics), *checks]
        result = OverlayResult(state.name, [], [s.report for s in services], diagnostics,
                               state.inputs.settings if state.inputs else None)
        entry = OverlayEntry(state.key, state.whole, {f.rel: f.digest for f in state.files}, frozenset(state.shared),
                             state.units, shared, checks, locations, state.entry.wiring if state.entry else None)
        return result, services, entry

    def cross_checks(self, state: OverlayState, units: list[UnitEntry], services: list[ServiceEntry],
                     locations: Locations) -> list[Diagnostic]:
        """Diagnostics across the overlay's files and services: duplicate services, then the overlay checks."""
        from .inputs import duplicate_keys
        from .render import check_overlay

        assert state.inputs is not None
        out = [] if state.whole else duplicate_keys([k for u in units for k in u.keys])
        if state.context is not None:
            out += check_overlay([m for s in services for m in s.checked], state.context.inventory, state.inputs)
        locate_all(Locator(self.root), out, locations)
        return out

    def wiring(self, state: OverlayState, cached: WiringEntry | None) -> WiringEntry:
        """The overlay's Argo CD / Flux files: cached unless the settings, the flags or the origin remote changed."""
        from .gitops import gitops_files, origin_url

        flags = (self.options.argocd, self.options.flux)
        if cached is not None and cached.flags == flags and (
                not cached.asked or cached.origin == origin_url(self.root)):
            return cached
        if state.inputs is None:
            self.load_shared(state)
        assert state.inputs is not None
        asked: list[str | None] = []

        def origin() -> str | None:
            if not asked:
                asked.append(origin_url(self.root))
            return asked[0]

        files, diags = gitops_files(self.root, [(state.name, state.inputs.settings.gitops)], *flags, origin)
        return WiringEntry(flags, files, tuple(diags), bool(asked), asked[0] if asked else None)

    def catalog_diagnostics(self) -> tuple[tuple[Diagnostic, ...], Locations]:
        cached = self.cache.catalog
        if self._catalog is None and cached is not None and cached[0] == self.catalog_key:
            return cached[1], cached[2]
        diags = tuple(self.catalog()[1])
        locations: Locations = {}
        locate_all(Locator(self.root), list(diags), locations)
        if cached != (self.catalog_key, diags, locations):
            self.cache.catalog, self.cache.dirty = (self.catalog_key, diags, locations), True
        return diags, locations

    # -- the build

    def run(self) -> BuildResult:
        states = [self.plan(name) for name in self.names]
        for state in states:
            if state.entry is not None:
                self.drop_invalid(state)
        if any(s.stale for s in states):
            self.compile(states)
        catalog_diags, known = self.catalog_diagnostics()
        known = dict(known)
        diagnostics = Diagnostics(list(catalog_diags))
        results: list[OverlayResult] = []
        outputs: list[ServiceEntry] = []
        wiring: dict[str, bytes] = {}
        for state in states:
            result, services, entry = self.overlay_result(state)
            entry = replace(entry, wiring=self.wiring(state, entry.wiring))
            if self.cache.overlays.get(state.name) != entry:
                self.cache.overlays[state.name], self.cache.dirty = entry, True
            results.append(result)
            outputs += services
            assert entry.wiring is not None
            wiring |= entry.wiring.files
            diagnostics.extend(entry.wiring.diagnostics)
            known.update(entry.locations)
            for unit in state.units.values():
                known.update(unit.locations)
        for result in results:
            diagnostics.extend(result.diagnostics)
        compiled = sum(s.compiled for s in states)
        stats = CacheStats(sum(len(s.units) for s in states) - compiled, compiled)
        return self.finish(states, results, outputs, wiring, diagnostics, known, stats)

    def finish(self, states: list[OverlayState], results: list[OverlayResult], outputs: list[ServiceEntry],
               wiring: dict[str, bytes], diagnostics: Diagnostics, known: Locations, stats: CacheStats) -> BuildResult:
        options = self.options
        if options.strict:
            diagnostics = diagnostics.promote_warnings()
        locator = Locator(self.root, known=known)
        final = [locator.resolve(d) for d in diagnostics.sorted()]
        if diagnostics.has_errors:
            self.cache.save()
            return BuildResult(results, final, None, EXIT_INPUT_ERROR, options.check, stats)
        wanted, digests, facts, collisions = self.wanted(states, outputs)
        if collisions:
            self.cache.save()
            return BuildResult(results, final + collisions, None, EXIT_INPUT_ERROR, options.check, stats)
        for path, data in wiring.items():
            wanted[path], digests[path] = data, digest(data)
        plan = plan_changes(self.rendered, wanted, self.present.keys(),
                            lambda p: self.same(p, digests[p], facts.get(p, ())))
        if not options.check:
            apply_plan(self.rendered, plan)
            for path in plan.write:
                self.cache.record(path, OutputRecord(digests[path], stat_of(os.stat(self.rendered / path)),
                                                     facts.get(path, ())))
            for path in plan.remove:
                self.cache.record(path, None)
        self.cache.save()
        code = EXIT_OUT_OF_DATE if options.check and not plan.empty else EXIT_OK
        return BuildResult(results, final, plan, code, options.check, stats)

    @staticmethod
    def wanted(states: list[OverlayState], services: list[ServiceEntry]
               ) -> tuple[dict[str, bytes | None], dict[str, bytes], dict[str, tuple[Fact, ...]], list[Diagnostic]]:
        """Every file to have under rendered/ (bytes when compiled in this build), from the first service producing
        it; the same object from several services is one file, a different one a NameCollision."""
        fresh = {path: data for s in states for path, data in s.fresh.items()}
        wanted: dict[str, bytes | None] = {}
        digests: dict[str, bytes] = {}
        facts: dict[str, tuple[Fact, ...]] = {}
        owner: dict[str, OutputEntry] = {}
        collisions: list[Diagnostic] = []
        for service in services:
            for out in service.outputs:
                first = owner.get(out.path)
                if first is None:
                    owner[out.path] = out
                    wanted[out.path], digests[out.path], facts[out.path] = fresh.get(out.path), out.digest, out.facts
                elif first.digest != out.digest:
                    collisions.append(error(
                        "NameCollision", f"{out.kind} {out.namespace}/{out.name} is produced by both "
                        f"{first.owner or 'a shared input'} and {out.owner or 'a shared input'}; rename one of them"))
        return wanted, digests, facts, collisions


__all__ = ["Build", "run_build"]
