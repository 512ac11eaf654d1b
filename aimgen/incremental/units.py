"""Compiling units: the input files of an overlay, each to its services' objects, diagnostics and cache entry.

The heavy half of an incremental build (pydantic, the renderers), run in the compiler process (compiler.py) that
run.py forks once it knows something must be compiled, and in the workers that process forks in turn:
they inherit the parsed shared inputs (`UnitJob`, built once per overlay), never pickled. A unit is a file
of AIMService documents; an overlay compiled whole (bases, patches, services among its shared documents)
is compiled by slices of its services. Overlay checks are re-run only on the groups a change touches.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aimgen.diagnostics import Diagnostic, SourceRef
from aimgen.incremental.cache import (
    Group,
    Key,
    Locations,
    OutputEntry,
    Read,
    ServiceEntry,
    UnitEntry,
    digest,
    pack,
    read_input,
)
from aimgen.inputs.load import Locator, load_files, parse_documents
from aimgen.inputs.models.aim import AIMService
from aimgen.inputs.tree import OverlayInputs, duplicate_keys, load_overlay, parse_all
from aimgen.output.deployed import autoscaler_fact
from aimgen.output.emit import emit, manifest_path
from aimgen.output.write import stage_file
from aimgen.render.context import ServiceContext
from aimgen.render.manifest import Manifest
from aimgen.render.overlay import CompiledService, OverlayContext, compile_service, overlay_context, sorted_services
from aimgen.render.part import Part, PartRenderer
from aimgen.render.service import check_groups, run_check
from aimgen.resolve.select import resolve_service

PARALLEL_MIN = 200  # services to compile below which forking workers costs more than it gains (without --jobs)
BATCH = 25  # units (or services) per task sent to a worker


def only_services(values: list[Any]) -> bool:
    """Whether loaded documents can only define AIMServices (any other document is an error of its own file)."""
    return not any(isinstance(v, dict) and v.get("kind") not in (None, "AIMService") for v in values)


def locate_all(locator: Locator, diagnostics: Iterable[Diagnostic], into: Locations) -> None:
    for d in diagnostics:
        if isinstance(d.location, SourceRef):
            into[d.location] = locator.locate(d.location)


@dataclass(frozen=True)
class UnitJob:
    """Everything the units of one overlay compile against (inherited by forked workers, never pickled)."""

    root: Path
    overlay: str
    context: OverlayContext | None  # None: no inventory (files are still loaded and checked)
    deployed: Mapping[tuple[str, str], str]
    services: tuple[tuple[AIMService, SourceRef], ...] = ()  # an overlay compiled whole: its services, sorted
    stage: Path | None = None  # where to write the files, at their paths (None: --check writes nothing)
    # the files this process staged: a shared object (a Shared cache's claim) is not written again by each service
    staged: set[str] = field(default_factory=set, compare=False)


@dataclass(frozen=True)
class Compiled:
    """What a unit compiled to: its entry, light (None: the file holds other documents than AIMServices, so it is
    shared), the full entry packed as the pack stores it, the objects the overlay checks read (packed, with their
    place in compile_overlay's order), and the files it wrote to the stage."""

    rel: str
    entry: UnitEntry | None
    blob: bytes = b""
    checked: bytes = b""
    files: frozenset[str] = frozenset()


def packed(rel: str, entry: UnitEntry, files: frozenset[str]) -> Compiled:
    checked = [(s.order, i, j, group, m) for i, s in enumerate(entry.services)
               for j, (group, m) in enumerate(s.checked)]
    return Compiled(rel, entry.light(), pack(entry), pack(checked) if checked else b"", files)


class _Watched(ServiceContext):
    """A ServiceContext noting whether the deployed autoscaler class was read (by the part renderer given it)."""

    def __getattribute__(self, name: str) -> Any:
        if name == "deployed_autoscaler_class":
            object.__getattribute__(self, "__dict__")["_read"] = True
        return object.__getattribute__(self, name)


class Parts:
    """The parts of one service's rendering that read the deployed autoscaler class, each with its context: whether
    the service renders the same against another deployed class re-runs only those."""

    def __init__(self) -> None:
        self.reading: list[tuple[PartRenderer, ServiceContext, Part]] = []

    def record(self, renderer: PartRenderer, ctx: ServiceContext) -> Part:
        watched = object.__new__(_Watched)
        watched.__dict__.update(ctx.__dict__)
        part = renderer(watched)
        if watched.__dict__.get("_read", False):
            self.reading.append((renderer, ctx, part))
        return part

    def same_with(self, deployed_class: str | None) -> bool:
        return all(renderer(replace(ctx, deployed_autoscaler_class=deployed_class)) == part
                   for renderer, ctx, part in self.reading)


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


def compile_one(job: UnitJob, service: AIMService, source: SourceRef) -> tuple[ServiceEntry, set[str]]:
    """One service, emitted. When the deployed class it looked up in rendered/ differs from what its own
    InferenceService will say once written, the parts that read it are rendered again against the latter: if
    nothing changes, both lookups are valid."""
    assert job.context is not None
    lookup = RecordingLookup(job.deployed)
    resolution = resolve_service(service, source, job.context.catalog, job.context.inventory)
    parts = Parts()
    compiled = compile_service(job.context, service, source, lookup, resolution, parts.record)
    facts = {key: value for m in compiled.manifests if (fact := autoscaler_fact(m.obj)) for key, value in [fact]}
    reads = tuple(lookup.reads.items())  # one at most: the service's own InferenceService
    alternative = None
    if len(reads) == 1:
        (key, found), after = reads[0], facts.get(reads[0][0])
        if after != found and parts.same_with(after):
            alternative = ((key, after),)
    return emit_service(job, compiled, reads, alternative)


def emit_service(job: UnitJob, compiled: CompiledService, reads: tuple[Read, ...],
                 alternative: tuple[Read, ...] | None) -> tuple[ServiceEntry, set[str]]:
    """The service's cache entry; its files written to the stage, at their paths under rendered/."""
    files: set[str] = set()
    outputs: list[OutputEntry] = []
    for m in compiled.manifests:
        path = manifest_path(job.overlay, m)
        data = emit(m)
        hashed = digest(data)
        fact = autoscaler_fact(m.obj)
        outputs.append(OutputEntry(path, hashed, m.kind, m.namespace, m.name, m.service, (fact,) if fact else ()))
        if job.stage is not None and path not in job.staged:
            stage_file(job.stage, path, data)
            job.staged.add(path)
        files.add(path)
    groups = check_groups(compiled.manifests)
    checked = tuple((group, m) for group, members in groups.items() for m in members)
    entry = ServiceEntry(compiled.report, tuple(compiled.diagnostics), tuple(outputs), checked, reads, alternative,
                         tuple(groups))
    return entry, files


def compile_unit(job: UnitJob, rel: str) -> Compiled:
    """One input file of AIMServices: loaded, checked, every service compiled and emitted."""
    path = job.root / rel
    data, hashed = read_input(path)
    docs, diags = load_files([path], job.root) if data is None else parse_documents(data, rel)
    if not only_services([doc.value for doc in docs]):
        return Compiled(rel, None)
    parsed, parse_diags = parse_all(docs)
    diags += parse_diags
    services: list[ServiceEntry] = []
    files: set[str] = set()
    if job.context is not None:
        for service, source in parsed:
            entry, emitted = compile_one(job, service, source)  # type: ignore[arg-type]
            services.append(entry)
            files |= emitted
    locations: Locations = {}
    locate_all(Locator(job.root, {rel: data} if data is not None else None),
               [*diags, *(d for s in services for d in s.diagnostics)], locations)
    keys = tuple(((s.kind, s.metadata.namespace, s.metadata.name), src) for s, src in parsed)  # type: ignore[attr-defined]
    return packed(rel, UnitEntry(hashed, keys, tuple(services), tuple(diags), locations), frozenset(files))


Slice = list[tuple[ServiceEntry, set[str], Locations]]


def compile_slice(job: UnitJob, start: int, stop: int) -> Slice:
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


def die_with_parent() -> None:
    """Ask Linux to end this process when its parent does (a compiler or worker never outlives its build)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still ends its workers
        pass


def _adopt(jobs: dict[str, UnitJob]) -> None:
    die_with_parent()
    gc.disable()  # short-lived: no reference cycles worth collecting among many fresh objects
    _JOBS.update(jobs)


def _compile_units(overlay: str, rels: list[str]) -> list[Compiled]:
    return [compile_unit(_JOBS[overlay], rel) for rel in rels]


def _compile_slice(overlay: str, start: int, stop: int) -> Slice:
    return compile_slice(_JOBS[overlay], start, stop)


def run_jobs(jobs: dict[str, UnitJob], units: dict[str, list[str]], workers: int, forced: bool
             ) -> Iterator[tuple[str, list[Compiled], Slice]]:
    """Compile the given units (by overlay) and the services of the overlays compiled whole, on `workers` forked
    processes when it pays (they inherit the jobs), in this process otherwise. Yields each overlay, in the order
    of `jobs`, as soon as it is done (the rest keeps compiling)."""
    size = sum(len(rels) for rels in units.values()) + sum(len(job.services) for job in jobs.values())
    if workers <= 1 or not (forced or size >= PARALLEL_MIN) or not hasattr(os, "fork"):
        for name, job in jobs.items():
            compiled = [compile_unit(job, rel) for rel in units.get(name, [])]
            yield name, compiled, compile_slice(job, 0, len(job.services))
        return
    import multiprocessing  # only here: with concurrent.futures, 10 ms of imports on every incremental build
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_adopt,
                             initargs=(jobs,)) as pool:
        futures = {name: ([pool.submit(_compile_units, name, units[name][i:i + BATCH])
                           for i in range(0, len(units.get(name, [])), BATCH)],
                          [pool.submit(_compile_slice, name, i, min(i + BATCH, len(job.services)))
                           for i in range(0, len(job.services), BATCH)]) for name, job in jobs.items()}
        try:
            for name, (unit_futures, slice_futures) in futures.items():
                yield (name, [c for f in unit_futures for c in f.result()],
                       [s for f in slice_futures for s in f.result()])
        finally:  # also when the consumer stops early: what is queued is not compiled
            pool.shutdown(wait=False, cancel_futures=True)


# --- the shared inputs, and the checks across units --------------------------------------------------------------


@dataclass
class Shared:
    """An overlay's shared inputs, loaded: whether it must be compiled whole, and its diagnostics."""

    inputs: OverlayInputs
    context: OverlayContext | None
    whole: bool
    diagnostics: list[Diagnostic]
    locations: Locations


def load_shared(root: Path, name: str, catalog: list[Any], shared: list[Path] | None) -> Shared:
    """The overlay's shared files (all its files when `shared` is None). An overlay with bases, patches or services
    among its shared files is compiled whole: then all its files are loaded."""
    inputs, diags = load_overlay(root, name, catalog, files=shared)
    overlay = inputs.overlay
    composed = overlay is not None and bool(overlay[0].spec.bases or overlay[0].spec.patches)
    if shared is not None and (inputs.services or composed):
        return load_shared(root, name, catalog, None)
    locations: Locations = {}
    locate_all(Locator(root), diags, locations)
    return Shared(inputs, overlay_context(inputs), shared is None, diags, locations)


def whole_job(root: Path, name: str, shared: Shared, deployed: Mapping[tuple[str, str], str], stage: Path | None
              ) -> UnitJob:
    services = tuple(sorted_services(shared.inputs.services)) if shared.context else ()
    return UnitJob(root, name, shared.context, deployed, services, stage)


def check_diagnostics(shared: Shared, groups: dict[Group, list[Manifest]]) -> dict[Group, tuple[Diagnostic, ...]]:
    """The overlay checks on the given groups (those with diagnostics)."""
    out: dict[Group, tuple[Diagnostic, ...]] = {}
    if shared.context is None:
        return out
    for group, members in groups.items():
        found = tuple(run_check(group, members, shared.context.inventory, shared.inputs))
        if found:
            out[group] = found
    return out


def duplicate_diagnostics(occurrences: dict[Key, list[SourceRef]]) -> dict[Key, tuple[Diagnostic, ...]]:
    """duplicate_objects over the given keys (each with its occurrences in file order), those with any."""
    out: dict[Key, tuple[Diagnostic, ...]] = {}
    for key, sources in occurrences.items():
        if len(sources) > 1:
            out[key] = tuple(duplicate_keys([(key, s) for s in sources]))
    return out


__all__ = ["Compiled", "Shared", "UnitJob", "check_diagnostics", "compile_unit", "duplicate_diagnostics", "load_shared",
           "run_jobs", "whole_job"]
