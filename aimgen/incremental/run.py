"""aimgen build: incremental, on every core, with the bytes of a clean build.

A build hashes every input file and stats every file under the selected overlays' rendered/ directories. An
overlay whose input and output signatures match the build cache (cache.py) is answered from its summary, without
importing pydantic or parsing anything. Otherwise only what changed is compiled:
- an overlay's files are *units* (AIMService documents only) or *shared* (everything else). The catalog and the
  shared files key the overlay; each unit keys its own services. Overlays with bases or patches, or with services
  among their shared documents, are compiled whole, keyed by every file under overlays/;
- the compiler (units.py) runs in a process forked as soon as the inputs are known to differ, so that importing it
  overlaps the scan of rendered/; it forks workers in turn, which inherit the parsed shared inputs. Results are
  merged in file order: they do not depend on the number of jobs;
- a changed unit re-runs only the overlay-check groups and duplicate checks it touches, and writes and removes
  only its own files ("the short way", merging.py: the compiler merges it into the overlay's details). A changed
  rendered/ (a deleted or hand-edited file), a changed key, a collision or a previous build that left rendered/
  unsettled take the long way: every unit re-read, every rendered file compared by digest.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aimgen.diagnostics import (
    EXIT_INPUT_ERROR,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_OUT_OF_DATE,
    AimgenError,
    Diagnostic,
    Diagnostics,
    SourceRef,
    error,
)
from aimgen.incremental.cache import (
    BuildCache,
    CacheCorrupt,
    Group,
    Key,
    Locations,
    OutputEntry,
    OverlayDetails,
    OverlaySummary,
    UnitEntry,
    WiringEntry,
    code_key,
    digest,
    fs_now,
    read_input,
    settle,
    without_gc,
)
from aimgen.incremental.compiler import Compiled, Compiler, CompileRequest
from aimgen.incremental.merging import ShortInputs, ShortMerged, check_order, reindex, staged, summarize
from aimgen.incremental.sources import (
    WHOLE,
    InputFile,
    KnownDigests,
    deployed_classes,
    deployed_file,
    input_files,
    looks_like_services,
    path_order,
    signature,
)
from aimgen.inputs.layout import select_overlays
from aimgen.output.deployed import Fact, file_facts
from aimgen.output.emit import GITOPS_DIR, gitops_dir
from aimgen.output.write import Plan, Stat, apply_plan, plan_changes, scan_files, stat_of
from aimgen.results import BuildOptions, BuildResult, CacheStats, OverlayResult, ServiceReport


def run_build(options: BuildOptions) -> BuildResult:
    """Build the selected overlays; write only when every overlay compiled without errors."""
    names = select_overlays(options.root, options.overlays)
    with without_gc():  # the build's large structures are acyclic: collections would only walk them (20-40 ms)
        cache = BuildCache.load(options.root, code_key())
        try:
            return Build(options, names, cache).run()
        except CacheCorrupt:  # nothing was written yet: the same build without the cache
            cache.clear()
            return Build(options, names, cache).run()


# --- one overlay ---------------------------------------------------------------------------------------------------


@dataclass
class OverlayState:
    """One overlay during a build: whether its inputs and rendered/ changed, how it is merged (`way`: "summary",
    "short" or "long"), and what it compiles to."""

    name: str
    files: list[InputFile]
    summary: OverlaySummary | None
    whole: bool = False
    inputs: bytes = b""  # signature of the inputs, as read for `inputs_whole` (the last build's classification)
    inputs_whole: bool = False
    inputs_changed: bool = True
    outputs_ok: bool = False
    outputs: bytes = b""  # signature of its files under rendered/ as scanned (before this build writes)
    newest: int = 0  # their newest mtime
    details: OverlayDetails | None = None  # the previous details, while they key this overlay
    shared: set[str] = field(default_factory=set)
    key: bytes = b""
    way: str = "long"
    dirty: list[str] = field(default_factory=list)  # units to compile
    removed: list[str] = field(default_factory=list)  # the short way: units gone
    units: dict[str, UnitEntry] = field(default_factory=dict)  # the long way: the cached units that hold
    compiled: Compiled | None = None
    wiring: WiringEntry | None = None

    @property
    def rels(self) -> list[str]:
        return [f.rel for f in self.files]

    @property
    def unit_rels(self) -> list[str]:
        return [WHOLE] if self.whole else [f.rel for f in self.files if f.rel not in self.shared]

    @property
    def shared_files(self) -> tuple[str, ...] | None:
        return None if self.whole else tuple(f.rel for f in self.files if f.rel in self.shared)


@dataclass
class Merged:
    """An overlay after the build: its result, summary and details, the units to store, its files."""

    result: OverlayResult
    summary: OverlaySummary
    details: OverlayDetails | None = None  # None: answered from the summary (nothing to store)
    units: dict[str, UnitEntry] = field(default_factory=dict)  # the units compiled (light)
    blobs: dict[str, bytes] = field(default_factory=dict)  # to append to the pack (all of them, fresh_pack)
    fresh_pack: bool = False
    wanted: dict[str, bytes | Path | None] = field(default_factory=dict)  # long: every file; short: those to write
    digests: dict[str, bytes] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)  # short: files no longer produced
    collisions: list[Diagnostic] = field(default_factory=list)
    short: ShortMerged | None = None  # merged the short way (by the compiler): its details prepared there


def resolved(root: Any, diagnostics: list[Diagnostic], known: Locations) -> list[Diagnostic]:
    """Diagnostics at file:line:col: from the locations known, else found (Locator: YAML, imported then)."""
    if all(not isinstance(d.location, SourceRef) or d.location in known for d in diagnostics):
        return [Diagnostic(d.severity, d.code, d.message, known[d.location], d.subject)
                if isinstance(d.location, SourceRef) else d for d in diagnostics]
    from aimgen.inputs.load import Locator

    locator = Locator(root, known=known)
    return [locator.resolve(d) for d in diagnostics]


def remove_stale_stages(directory: Path) -> None:
    """Stages left by builds that did not finish (their process is gone)."""
    for stage in directory.glob("stage-*"):
        pid = int(stage.name.split("-")[1]) if stage.name.split("-")[1].isdigit() else 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(stage, ignore_errors=True)
        except OSError:
            continue


def overlay_of(path: str) -> str:
    """The overlay a rendered/-relative path belongs to (its own directory, or its wiring's)."""
    first, _, rest = path.partition("/")
    return rest.partition("/")[0] if first == GITOPS_DIR else first


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity.value == "error" for d in diagnostics)


class Build:
    """One `aimgen build` (or `--check`) over the selected overlays."""

    def __init__(self, options: BuildOptions, names: list[str], cache: BuildCache):
        self.options = options
        self.root = options.root
        self.names = names
        self.cache = cache
        self.rendered = self.root / "rendered"
        self.known = KnownDigests(cache.inputs, lambda: fs_now(cache.directory))
        self.catalog_key = signature(cache.code, [(f.rel, f.digest) for f in self.input_files("catalog")])
        self._all: list[InputFile] | None = None
        self.present: dict[str, Stat] = {}  # every file under the built overlays' rendered/ directories
        self.own: dict[str, dict[str, Stat]] = {}  # the same, by overlay, in scan order (kept as files are written)
        self.unordered: set[str] = set()  # overlays whose own files gained a path (no longer in scan order)
        self.touched: dict[str, int] = {}  # overlays whose own files this build wrote or removed: newest mtime written
        self.wired: dict[str, list[str]] = {}  # the files under each overlay's GitOps wiring directory
        self.read: dict[str, bytes] = {}
        self.compiler: Compiler | None = None
        self.catalog_changed = False
        # the files compiled are written here by the workers (at their paths under rendered/), then moved there
        staging = not options.check or options.validate is not None  # --validate reads the files compiled
        self.stage = cache.directory / f"stage-{os.getpid()}-{time.time_ns():x}" if staging else None

    def staged(self, path: str) -> Path:
        return staged(self.stage, self.cache, path)

    def input_files(self, directory: str) -> list[InputFile]:
        return input_files(str(self.root), directory, self.known)

    def all_overlay_files(self) -> list[InputFile]:
        """Every file under overlays/: what an overlay compiled whole may read."""
        if self._all is None:
            self._all = self.input_files("overlays")
        return self._all

    def start_compiler(self) -> Compiler:
        """The compiler, started now if it is not yet (forked as soon as a change is seen: its imports overlap the
        rest of the scan)."""
        if self.compiler is None:
            fork = self.options.jobs != 1 and hasattr(os, "fork")
            self.compiler = Compiler(self.root, self.options, self.cache, fork)
        return self.compiler

    def inputs_signature(self, state: OverlayState) -> bytes:
        files = self.all_overlay_files() if state.whole else state.files
        return signature(self.catalog_key, b"whole" if state.whole else b"units", [(f.rel, f.digest) for f in files])

    def shared_key(self, state: OverlayState) -> bytes:
        if state.whole:
            return signature(self.catalog_key, [(f.rel, f.digest) for f in self.all_overlay_files()])
        return signature(self.catalog_key, sorted((f.rel, f.digest) for f in state.files if f.rel in state.shared))

    # -- what changed

    def plan(self, name: str) -> OverlayState:
        state = OverlayState(name, self.input_files(f"overlays/{name}"), self.cache.summaries.get(name))
        state.whole = state.inputs_whole = state.summary.whole if state.summary else False
        state.inputs = self.inputs_signature(state)
        state.inputs_changed = state.summary is None or state.summary.inputs != state.inputs
        if not state.inputs_changed:
            for f in state.files:
                f.data, f.unread = None, ""
        return state

    def classify(self, state: OverlayState) -> None:
        """Shared files and key (as the details know the files, else guessed); the units that changed, by the
        details while they key the overlay."""
        details = self.cache.details(state.name)
        known = details.files if details else {}
        state.whole = bool(details and details.whole)
        state.shared = {f.rel for f in state.files if (f.rel in details.shared if details and known.get(f.rel) ==
                        f.digest else not looks_like_services(f.content()))}
        state.key = self.shared_key(state)
        if details is None or details.key != state.key:
            state.whole = False
            state.shared = {f.rel for f in state.files if not looks_like_services(f.content())}
            state.key = self.shared_key(state)
            state.dirty = state.unit_rels
            return
        state.details = details
        present = set(state.rels)
        state.dirty = [WHOLE] if state.whole else [
            f.rel for f in state.files if f.rel not in state.shared and known.get(f.rel) != f.digest]
        state.removed = [] if state.whole else [rel for rel in details.units if rel not in present]

    def check_outputs(self, state: OverlayState) -> None:
        """Whether rendered/ is as the last build left it (or needs no look: a build that will fail again)."""
        own = self.own[state.name]
        summary = state.summary
        state.outputs, state.newest = signature(own), max((s[1] for s in own.values()), default=0)
        state.outputs_ok = bool(summary) and (
            not state.inputs_changed and has_errors(summary.diagnostics)  # type: ignore[union-attr]
            or summary.settled and summary.outputs == state.outputs  # type: ignore[union-attr]
            and self.cache.trusted(state.newest))


    def choose_way(self, state: OverlayState) -> None:
        if not state.inputs_changed and state.outputs_ok:
            state.way = "summary"
        elif state.inputs_changed and state.outputs_ok and state.details is not None and not state.whole:
            state.way = "short"
        else:
            state.way = "long"
            if not state.inputs_changed:
                self.classify(state)
                state.dirty, state.removed = [], []
            self.long_way(state)

    def long_way(self, state: OverlayState) -> None:
        """Every cached unit that still holds, read and checked against rendered/; the others to compile."""
        details = state.details
        if details is not None:
            current = {f.rel: f.digest for f in state.files}
            keep = [rel for rel in details.units if (rel == WHOLE and not state.dirty) or (
                rel != WHOLE and rel not in state.shared and current.get(rel) == details.files.get(rel))]
            state.units = self.cache.units(state.name, details, keep)
            deployed = self.deployed_on_disk(state)
            for rel, unit in list(state.units.items()):
                if not all(s.valid_for(deployed) and all(self.on_disk(o.path) == o.digest for o in s.outputs)
                           for s in unit.services):
                    del state.units[rel]
        state.dirty = [rel for rel in state.unit_rels if rel not in state.units]
        state.removed = []

    def on_disk(self, path: str) -> bytes | None:
        """The digest of rendered/<path>, None when absent."""
        if path not in self.present:
            return None
        if path not in self.read:
            self.read[path] = read_input(self.rendered / path)[1]
        return self.read[path]

    def deployed_on_disk(self, state: OverlayState, known: dict[str, tuple[Fact, ...]] | None = None
                         ) -> dict[tuple[str, str], str]:
        """deployed_autoscaler_classes of the overlay as rendered/ is now (`known`: facts of files known)."""
        prefix = f"{state.name}/"
        paths = [p[len(prefix):] for p in self.present if p.startswith(prefix) and deployed_file(p[len(prefix):])]
        return deployed_classes((p, known[p] if known and p in known else self.facts_on_disk(prefix + p))
                                for p in paths)

    def facts_on_disk(self, path: str) -> tuple[Fact, ...]:
        data, _ = read_input(self.rendered / path)
        return tuple(file_facts(data, path.rsplit("/", 1)[-1])) if data is not None else ()

    def cached_wiring(self, state: OverlayState) -> WiringEntry | None:
        """The overlay's wiring from its summary while its settings (its shared files), the flags and the origin
        remote (when it asked) are the same."""
        keyed = not state.inputs_changed or state.details is not None
        wiring = state.summary.wiring if state.summary and keyed else None
        if wiring is None or wiring.flags != (self.options.argocd, self.options.flux):
            return None
        if not wiring.asked:
            return wiring
        from aimgen.output.gitops import origin_url

        return wiring if wiring.origin == origin_url(self.root) else None

    # -- the build

    def run(self) -> BuildResult:
        try:
            result = self._run()
        finally:
            if self.compiler is not None:
                self.compiler.close()
            if self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
        if self.known.added:
            self.cache.save_inputs(self.known.added, self.known.current)
        return result

    def _run(self) -> BuildResult:
        cached = self.cache.catalog
        if cached is None or cached[0] != self.catalog_key:
            self.start_compiler()
        states = []
        for name in self.names:  # the compiler starts on the first change: its imports overlap the scans
            states.append(self.plan(name))
            if states[-1].inputs_changed:
                self.start_compiler()
        for state in states:
            if state.inputs_changed:
                self.classify(state)
            state.wiring = self.cached_wiring(state)
        if self.stage is not None:
            remove_stale_stages(self.cache.directory)
            self.stage.mkdir(parents=True)
        for name in self.names:
            self.own[name] = scan_files(self.rendered, [name])
            wired = scan_files(self.rendered, [gitops_dir(name)])
            self.own[name].update(wired)
            self.wired[name] = list(wired)
            self.present.update(self.own[name])
        for state in states:
            self.check_outputs(state)
            self.choose_way(state)
        merged = self.compile(states)
        catalog = self.catalog_diagnostics()
        if self.compiler is not None:
            self.compiler.release()
        return self.finish(states, catalog, [merged[s.name] for s in states])

    def request(self, state: OverlayState) -> CompileRequest:
        """What to compile of the overlay; the short way: merged into its details by the compiler too (which reads
        the deployed classes there)."""
        if state.way == "short":
            assert state.details is not None
            dirty = set(state.dirty)
            digests = {f.rel: f.digest for f in state.files if f.rel in dirty}
            known = state.details.files
            order = tuple(state.rels) if state.removed or any(rel not in known for rel in digests) else None
            short = ShortInputs(digests, tuple(state.removed), order)
            return CompileRequest(state.name, state.shared_files, state.key, tuple(state.dirty), None,
                                  state.wiring is None, self.stage, short=short)
        return CompileRequest(state.name, state.shared_files, state.key, tuple(state.dirty),
                              self.deployed_on_disk(state), state.wiring is None, self.stage, not state.units)

    def compile(self, states: list[OverlayState]) -> dict[str, Merged]:
        """Compile what changed (and the wiring that is not cached), merging each overlay compiled from scratch as
        soon as the compiler sends it (the others compile meanwhile); then the rest."""
        requests = []
        for state in states:
            if state.way == "summary":
                if state.wiring is None:
                    self.classify(state)
                    state.wiring = self.start_compiler().call("overlay_wiring", state.name, state.shared_files,
                                                              state.key)
                continue
            requests.append(self.request(state))
        merged: dict[str, Merged] = {}
        by_name = {s.name: s for s in states}
        stream: Iterable[Compiled] = self.start_compiler().stream("compile", requests) if requests else ()
        for compiled in stream:
            state = by_name[compiled.name]
            state.compiled = compiled
            state.wiring = state.wiring or compiled.wiring
            if compiled.checks is not None and state.way == "long" and not state.units:  # needs no more of the
                merged[state.name] = self.merge(state)  # compiler, still streaming
        return merged | {s.name: self.merge(s) for s in states if s.name not in merged}

    def catalog_diagnostics(self) -> tuple[tuple[Diagnostic, ...], Locations]:
        cached = self.cache.catalog
        if cached is not None and cached[0] == self.catalog_key:
            return cached[1], cached[2]
        diags, locations = self.start_compiler().call("catalog_diagnostics")
        self.cache.catalog, self.catalog_changed = (self.catalog_key, diags, locations), True
        return diags, locations

    def finish(self, states: list[OverlayState], catalog: tuple[tuple[Diagnostic, ...], Locations],
               merged: list[Merged]) -> BuildResult:
        options = self.options
        diagnostics = Diagnostics(list(catalog[0]))
        known: Locations = dict(catalog[1])
        for state, m in zip(states, merged, strict=True):
            assert state.wiring is not None
            diagnostics.extend(state.wiring.diagnostics)
            known.update(m.summary.locations)
        for m in merged:
            diagnostics.extend(m.result.diagnostics)
        if options.strict:
            diagnostics = diagnostics.promote_warnings()
        final = resolved(self.root, diagnostics.sorted(), known)
        misses = sum(len(s.compiled.units) for s in states if s.compiled)
        stats = CacheStats(max(sum(m.summary.units for m in merged) - misses, 0), misses)
        results = [m.result for m in merged]
        collisions = [d for m in merged for d in m.collisions]
        if diagnostics.has_errors or collisions:
            self.save(states, merged, settled=False)
            return BuildResult(results, final + collisions, None, EXIT_INPUT_ERROR, options.check, stats)
        plan = self.plan_files(states, merged)
        if options.validate is not None:
            invalid = options.validate(self.output_files(plan))
            if has_errors(invalid):
                return BuildResult(results, final + invalid, None, EXIT_INPUT_ERROR, options.check, stats)
        if not options.check:
            apply_plan(self.rendered, plan)
            for path in plan.write:
                self.present[path] = stat = stat_of(os.stat(self.rendered / path))
                overlay = overlay_of(path)
                self.touched[overlay] = max(self.touched.get(overlay, 0), stat[1])
                own = self.own[overlay]
                if path not in own:
                    self.unordered.add(overlay)
                own[path] = stat
            for path in plan.remove:
                self.touched.setdefault(overlay_of(path), 0)
                self.present.pop(path, None)
                self.own[overlay_of(path)].pop(path, None)
        self.save(states, merged, settled=not options.check or plan.empty)
        code = EXIT_OUT_OF_DATE if options.check and not plan.empty else EXIT_OK
        return BuildResult(results, final, plan, code, options.check, stats)

    def output_files(self, plan: Plan) -> dict[str, bytes]:
        """The complete output once `plan` is applied: its new bytes, and every other owned file from disk."""
        files = {path: data if isinstance(data, bytes) else data.read_bytes() for path, data in plan.write.items()}
        removed = set(plan.remove)
        for own in self.own.values():
            for path in own:
                if path not in files and path not in removed:
                    data = read_input(self.rendered / path)[0]
                    if data is not None:
                        files[path] = data
        return files

    # -- merging an overlay

    def merge(self, state: OverlayState) -> Merged:
        if state.way == "summary":
            return self.from_summary(state)
        compiled = state.compiled
        assert compiled is not None
        if compiled.whole != state.whole or (not compiled.whole and set(compiled.shared) != state.shared):
            state.whole, state.shared, state.way, state.units = compiled.whole, set(compiled.shared), "long", {}
        state.key = self.shared_key(state)
        if state.way == "short":
            if compiled.merged is not None:
                return self.from_short(state, compiled, compiled.merged)
            assert state.details is not None
            rest = [r for r in state.details.units if r not in compiled.units and r not in state.removed]
            state.units, state.way = self.cache.units(state.name, state.details, rest), "long"
        return self.merge_long(state, compiled)

    def from_summary(self, state: OverlayState) -> Merged:
        summary = state.summary
        assert summary is not None and state.wiring is not None
        summary = replace(summary, wiring=state.wiring)
        result = OverlayResult(state.name, [], LazyReports(self, state.name, summary.services, None),
                               list(summary.diagnostics), objects=summary.objects)
        return Merged(result, summary)

    def merge_long(self, state: OverlayState, compiled: Compiled) -> Merged:
        """The overlay from all its units: details rebuilt, every file wanted."""
        units = {**state.units, **compiled.units}
        ordered = [(rel, units[rel]) for rel in state.unit_rels if rel in units]
        detail = OverlayDetails(state.key, state.whole, {f.rel: f.digest for f in state.files},
                                frozenset(state.shared), "", {}, compiled.shared_diagnostics, dict(compiled.locations),
                                {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
        reindex(detail, {}, dict(ordered), state.rels)
        if compiled.checks is not None and compiled.duplicates is not None and not state.units:
            checks, duplicates, locations = compiled.checks, compiled.duplicates, compiled.check_locations
        else:
            checks, duplicates, locations = self.cross_checks(state, detail)
        detail.checks, detail.duplicates = checks, duplicates
        detail.locations.update(locations)
        merged = self.assemble(state, detail)
        merged.wanted, merged.digests, merged.collisions = wanted_files(ordered, compiled.fresh, self.staged)
        merged.units, merged.fresh_pack = dict(compiled.units), True
        merged.blobs = {**(self.cache.blobs(state.name, state.details, state.units) if state.details else {}),
                        **compiled.blobs}
        return merged

    def from_short(self, state: OverlayState, compiled: Compiled, short: ShortMerged) -> Merged:
        summary = replace(short.summary, wiring=state.wiring)
        reports = LazyReports(self, state.name, summary.services, None, compiled.units, state.rels)
        result = OverlayResult(state.name, [], reports, list(summary.diagnostics), objects=summary.objects)
        return Merged(result, summary, units=dict(compiled.units), wanted=dict(short.wanted), digests=short.digests,
                      remove=short.remove, short=short)

    def cross_checks(self, state: OverlayState, detail: OverlayDetails
                     ) -> tuple[dict[Group, tuple[Diagnostic, ...]], dict[Key, tuple[Diagnostic, ...]], Locations]:
        """The overlay checks and duplicate checks on every group and key, run by the compiler, which reads the
        cached units they need."""
        previous = state.details
        cached = {r: previous.units[r] for r in state.units if previous and r in previous.units}
        result: tuple[dict[Group, tuple[Diagnostic, ...]], dict[Key, tuple[Diagnostic, ...]], Locations] = \
            self.start_compiler().call("checks", state.name, None, cached, previous.pack if previous else "",
                                       *check_order(detail, state.rels, set(detail.keys)))
        return result

    def assemble(self, state: OverlayState, detail: OverlayDetails) -> Merged:
        """The overlay's result and summary from its details."""
        assert state.wiring is not None
        summary = replace(summarize(detail, [WHOLE, *state.rels], state.whole), wiring=state.wiring)
        result = OverlayResult(state.name, [], LazyReports(self, state.name, summary.services, detail),
                               list(summary.diagnostics), objects=summary.objects)
        return Merged(result, summary, detail)

    # -- rendered/

    def plan_files(self, states: list[OverlayState], merged: list[Merged]) -> Plan:
        """What to write and remove: nothing for overlays answered from their summary, the delta of the changed
        units the short way, every file compared the long way; and each overlay's wiring."""
        write: dict[str, bytes | Path] = {}
        added: set[str] = set()
        remove: set[str] = set()
        unchanged = 0
        for state, m in zip(states, merged, strict=True):
            assert state.wiring is not None
            wiring = state.wiring.files
            if state.way == "summary" and state.summary is not None and state.wiring == state.summary.wiring:
                unchanged += m.summary.files + len(wiring)
                continue
            if state.way != "long":  # the overlay's own files as left (summary) or their delta (short); its wiring
                for path, data in m.wanted.items():
                    assert data is not None
                    write[path] = data
                    if path not in self.present:
                        added.add(path)
                remove |= m.remove
                unchanged += m.summary.files - len(m.wanted)
                wanted: dict[str, bytes | Path | None] = dict(wiring)
                sums = {p: digest(d) for p, d in wiring.items()}
                present = self.wired[state.name]
            else:
                wanted = {**m.wanted, **wiring}
                sums = {**m.digests, **{p: digest(d) for p, d in wiring.items()}}
                present = list(self.own[state.name])
            sub = plan_changes(self.rendered, wanted, present, self.holds(sums))
            write.update(sub.write)
            added |= sub.added
            remove |= set(sub.remove)
            unchanged += sub.unchanged
        return Plan(write, frozenset(added), tuple(sorted(remove)), unchanged, self.whole_folders(states, write))

    def whole_folders(self, states: list[OverlayState], write: dict[str, bytes | Path]) -> dict[str, Path]:
        """The overlays whose rendered/ folder does not exist and whose files were all staged by this build (a cold
        build): their staged folders are moved into place whole."""
        if self.stage is None:
            return {}
        new = {s.name: s.compiled.fresh for s in states if s.compiled is not None and s.compiled.fresh
               and not os.path.lexists(self.rendered / s.name)}
        counts = dict.fromkeys(new, 0)
        for path, source in write.items():
            top = path.partition("/")[0]
            if top in new:
                if not isinstance(source, Path) or path not in new[top]:  # staged: a path compiled now
                    del new[top]
                else:
                    counts[top] += 1
        return {name: self.stage / name for name, fresh in new.items() if counts[name] == len(fresh)}

    def holds(self, digests: dict[str, bytes]) -> Callable[[str], bool]:
        return lambda path: self.on_disk(path) == digests[path]

    def save(self, states: list[OverlayState], merged: list[Merged], settled: bool) -> None:
        """Summaries with rendered/'s signature as this build leaves it (once the clock passed it), details, units;
        nothing when nothing changed."""
        newest, before = 0, dict(self.cache.summaries)
        for state, m in zip(states, merged, strict=True):
            own = self.own[state.name]
            if state.name in self.unordered:
                own = dict(sorted(own.items(), key=lambda item: path_order(item[0])))
            if state.name in self.touched:  # (newest: a file removed may have been, then it is older than any)
                state.outputs, state.newest = signature(own), max(state.newest, self.touched[state.name])
            newest = max(newest, state.newest)
            holds = settled and (m.short.holds if m.short else m.summary.settled if m.details is None
                                 else self.lookups_hold(state, m))
            inputs = state.inputs if state.whole == state.inputs_whole else self.inputs_signature(state)
            self.cache.summaries[state.name] = replace(m.summary, inputs=inputs, outputs=state.outputs, settled=holds)
        stored = {s.name: m for s, m in zip(states, merged, strict=True) if m.details is not None}
        prepared = {s.name: m.short.stored for s, m in zip(states, merged, strict=True) if m.short is not None}
        if not stored and not prepared and self.cache.summaries == before and not self.catalog_changed:
            return
        settle(newest, self.cache.directory)
        self.cache.save({name: m.details for name, m in stored.items() if m.details is not None},
                        {name: m.blobs for name, m in stored.items()},
                        {name for name, m in stored.items() if m.fresh_pack}, prepared)

    def lookups_hold(self, state: OverlayState, m: Merged) -> bool:
        """Whether every unit's lookups of the deployed classes hold for rendered/ as this build leaves it (if not,
        the next build takes the long way); records those classes, and the files they come from, in the details
        (the short way: merging.deployed_after)."""
        detail = m.details
        assert detail is not None
        prefix = f"{state.name}/"
        units = {**state.units, **m.units}
        known = {o.path[len(prefix):]: o.facts for u in units.values() for s in u.services for o in s.outputs}
        present = [p[len(prefix):] for p in self.own[state.name] if p.startswith(prefix)]
        detail.isvc = {p: known[p] if p in known else self.facts_on_disk(prefix + p) for p in present
                       if deployed_file(p)}
        detail.deployed = deployed_classes(detail.isvc.items())
        return all(s.valid_for(detail.deployed) for u in units.values() for s in u.services)


def wanted_files(ordered: list[tuple[str, UnitEntry]], fresh: set[str], staged: Callable[[str], Path]
                 ) -> tuple[dict[str, bytes | Path | None], dict[str, bytes], list[Diagnostic]]:
    """Every file of the overlay (its staged copy when compiled in this build, else None), from the first service
    producing it (services in result order); the same object from several services is one file, a different one a
    NameCollision (as emit_overlays did)."""
    services = sorted(((s.order, i, j, s) for i, (_, u) in enumerate(ordered) for j, s in enumerate(u.services)),
                      key=lambda x: x[:3])
    wanted: dict[str, bytes | Path | None] = {}
    digests: dict[str, bytes] = {}
    owner: dict[str, OutputEntry] = {}
    collisions: list[Diagnostic] = []
    for *_, service in services:
        for out in service.outputs:
            first = owner.get(out.path)
            if first is None:
                owner[out.path] = out
                wanted[out.path] = staged(out.path) if out.path in fresh else None
                digests[out.path] = out.digest
            elif first.digest != out.digest:
                collisions.append(error(
                    "NameCollision", f"{out.kind} {out.namespace}/{out.name} is produced by both "
                    f"{first.owner or 'a shared input'} and {out.owner or 'a shared input'}; rename one of them"))
    return wanted, digests, collisions


class LazyReports(list[ServiceReport]):
    """An overlay's service reports, read from the cache only when listed (a summary only counts them)."""

    def __init__(self, build: Build, overlay: str, count: int, details: OverlayDetails | None,
                 fresh: dict[str, UnitEntry] | None = None, rels: list[str] | None = None):
        """`fresh`: the units compiled by this build, the others read from the details (those of this build, else
        those on disk, before or after it saved); `rels`: the overlay's files, when the details may be older."""
        super().__init__()
        self.build, self.overlay, self.size, self.details, self.loaded = build, overlay, count, details, False
        self.fresh, self.rels = fresh or {}, rels

    def _load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        details = self.details or self.build.cache.details(self.overlay)
        if details is None:
            return
        rels = [WHOLE, *(details.files if self.rels is None else self.rels)]
        position = {rel: i for i, rel in enumerate(rels)}
        try:
            cached = [rel for rel in details.units if rel in position and rel not in self.fresh]
            units = {**self.build.cache.units(self.overlay, details, cached), **self.fresh}
        except CacheCorrupt as exc:  # damaged since this build read the index: rendered/ is right, the list lost
            self.build.cache.clear()
            raise AimgenError([error("CacheCorrupt", f"the build cache was damaged during the build ({exc}); "
                                     "rendered/ is complete, the cache is deleted: build again for the report")],
                              EXIT_INTERNAL) from exc
        entries = sorted(((s.order, position.get(rel, 0), i, s.report) for rel, u in units.items()
                          for i, s in enumerate(u.services)), key=lambda x: x[:3])
        self.extend(r for *_, r in entries)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Any:
        self._load()
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        self._load()
        return super().__getitem__(index)


__all__ = ["Build", "run_build"]
