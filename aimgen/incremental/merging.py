"""Units merged into an overlay's details: the indexes a clean build lays out (`reindex`), the overlay's report
from them (`summarize`), and the short way (`merge_short`): a changed unit merged into the previous details.

The short way runs in the compiler process (compiler.py): it assumes rendered/ holds exactly the files the last
build wanted, which the build has checked before asking for it (and otherwise takes the long way)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimgen.diagnostics import Diagnostic, SourceRef
from aimgen.incremental.cache import (
    BuildCache,
    Group,
    Key,
    Locations,
    OverlayDetails,
    OverlaySummary,
    Prepared,
    UnitEntry,
)
from aimgen.incremental.sources import WHOLE, deployed_classes, deployed_file

if TYPE_CHECKING:
    from aimgen.incremental.compiler import Compiled, CompileRequest

CheckResults = tuple[dict[Group, tuple[Diagnostic, ...]], dict[Key, tuple[Diagnostic, ...]], Locations]
Checks = Callable[[str, set[Group] | None, dict[str, tuple[int, int]], str, dict[str, int],
                   dict[Key, list[SourceRef]]], CheckResults]  # compiler.Compiler.checks


@dataclass(frozen=True)
class ShortInputs:
    """What the short way knows of an overlay besides its compile request: the digests of the units to compile,
    the units gone since the last build, and its files in order when they are not those of its details."""

    digests: dict[str, bytes]
    removed: tuple[str, ...]
    order: tuple[str, ...] | None

    def files(self, details: OverlayDetails) -> dict[str, bytes]:
        """The digest of each of the overlay's files now, in file order."""
        if self.order is None:
            return details.files | self.digests  # (a key kept keeps its place)
        return {rel: self.digests[rel] if rel in self.digests else details.files[rel] for rel in self.order}


@dataclass
class ShortMerged:
    """An overlay merged the short way: its report, the files to write (their staged copies) and to remove, and
    its new details, prepared for the cache."""

    summary: OverlaySummary  # its wiring: None (the build's)
    wanted: dict[str, Path]
    digests: dict[str, bytes]
    remove: set[str]
    holds: bool  # every service's lookups of the deployed classes hold once the files are written
    stored: Prepared


def staged(stage: Path | None, cache: BuildCache, path: str) -> Path:
    """Where the compiler staged the file compiled for rendered/<path>."""
    return Path(f"{stage or cache.directory / 'stage'}/{path}")


def merge_short(cache: BuildCache, details: OverlayDetails, r: CompileRequest, compiled: Compiled, checks: Checks
                ) -> ShortMerged | None:
    """The overlay from its previous details and its changed units, as a clean build would leave it; None when a
    changed unit shares or collides over a file (the long way then names it as a clean build would). Every file
    under rendered/ is then one the details' `produced` names: a file no unit produced is not there."""
    assert r.short is not None
    gone = [*r.units, *r.short.removed]
    old = cache.units(r.name, details, gone)
    new = compiled.units
    before = {o.path: o.digest for u in old.values() for s in u.services for o in s.outputs}
    wanted: dict[str, Path] = {}
    digests: dict[str, bytes] = {}
    for unit in new.values():
        for service in unit.services:
            for out in service.outputs:
                if out.path in digests:
                    if digests[out.path] != out.digest:
                        return None  # two changed services collide
                    continue
                others = [u for u in details.produced.get(out.path, ()) if u not in gone]
                if others:  # an object unchanged services produce too (a shared cache claim, ...)
                    if produced_digest(cache, r.name, details, old, others[0], out.path) != out.digest:
                        return None
                elif before.get(out.path) != out.digest:
                    wanted[out.path] = staged(r.stage, cache, out.path)
                digests[out.path] = out.digest
    remove = {p for p in before if p not in digests and all(u in gone for u in details.produced.get(p, ()))}
    files = r.short.files(details)
    rels = list(files)
    detail = OverlayDetails(r.key, False, files, frozenset(r.shared or ()), details.pack,
                            dict(details.units), compiled.shared_diagnostics, dict(compiled.locations),
                            dict(details.unit_diagnostics), dict(details.service_diagnostics),
                            dict(details.unit_locations), dict(details.keys), dict(details.duplicates),
                            dict(details.groups), dict(details.checks), dict(details.produced), dict(details.reads),
                            dict(details.isvc), dict(details.deployed), dict(details.counts))
    reindex(detail, {rel: old.get(rel) for rel in gone}, {u: new[u] for u in rels if u in new}, rels)
    touched = [*(old[u] for u in gone if u in old), *new.values()]
    groups = {g for u in touched for s in u.services for g in s.groups}
    keys = {k for u in touched for k, _ in u.keys}
    needed = {u for g in groups for u in detail.groups.get(g, ())} - set(new)
    found, duplicates, locations = checks(r.name, groups, {u: details.units[u] for u in needed if u in details.units},
                                          details.pack, *check_order(detail, rels, keys))
    detail.checks = {g: d for g, d in detail.checks.items() if g not in groups} | found
    detail.duplicates = {k: d for k, d in detail.duplicates.items() if k not in keys} | duplicates
    detail.locations.update({ref: loc for ref, loc in details.locations.items() if ref not in detail.locations})
    detail.locations.update(locations)
    holds = deployed_after(cache, r.name, details, detail, new, wanted, remove)
    summary = summarize(detail, [WHOLE, *rels], False)
    return ShortMerged(summary, wanted, digests, remove, holds, cache.prepare(r.name, detail, compiled.blobs, False))


def produced_digest(cache: BuildCache, overlay: str, details: OverlayDetails, units: dict[str, UnitEntry], rel: str,
                    path: str) -> bytes | None:
    """The digest of `path` as the cached unit `rel` produces it (read into `units` when not there yet)."""
    if rel not in units:
        units.update(cache.units(overlay, details, [rel]))
    return next((o.digest for s in units[rel].services for o in s.outputs if o.path == path), None)


def check_order(detail: OverlayDetails, rels: list[str], keys: set[Key]
                ) -> tuple[dict[str, int], dict[Key, list[SourceRef]]]:
    """What Compiler.checks orders its objects by (each unit's position) and where each of `keys` is defined, in
    file order: what the duplicate check reads."""
    position = {rel: i for i, rel in enumerate([WHOLE, *rels])}
    occurrences = {k: [SourceRef(rel, doc) for rel, doc in sorted(detail.keys.get(k, ()),
                                                                 key=lambda o: (position.get(o[0], 0), o[1]))]
                   for k in keys}
    return position, occurrences


def deployed_after(cache: BuildCache, overlay: str, details: OverlayDetails, detail: OverlayDetails,
                   new: dict[str, UnitEntry], wanted: Mapping[str, Any], remove: set[str]) -> bool:
    """Whether every service's lookups of the deployed classes hold for rendered/ once `wanted` is written and
    `remove` removed (if not, the next build takes the long way); records those classes, and the facts of the
    files they come from, in `detail`."""
    prefix = f"{overlay}/"
    known = {o.path[len(prefix):]: o.facts for u in new.values() for s in u.services for o in s.outputs}
    touched = {p[len(prefix):] for p in (*wanted, *remove) if p.startswith(prefix)}
    touched = {p for p in touched if deployed_file(p)}
    before = {p: detail.isvc.get(p) for p in touched}
    for p in touched:
        if prefix + p in wanted:
            detail.isvc[p] = known[p]
        else:
            detail.isvc.pop(p, None)
    same = all(before[p] == detail.isvc.get(p) for p in touched)
    after = detail.deployed if same else deployed_classes(detail.isvc.items())
    changed = {k for k in detail.deployed.keys() | after.keys() if detail.deployed.get(k) != after.get(k)}
    units = {**new, **cache.units(overlay, details, {u for k in changed for u in detail.reads.get(k, ())} - set(new))}
    detail.deployed = after
    return all(s.valid_for(after) for u in units.values() for s in u.services)


def summarize(detail: OverlayDetails, order: list[str], whole: bool) -> OverlaySummary:
    """The overlay's report from its details (`order`: its units, in file order), diagnostics in compile_overlay's
    order; its signatures and wiring are the build's."""
    position = {rel: i for i, rel in enumerate(order)}
    rels = sorted(detail.counts, key=lambda r: position.get(r, 0))
    service_diags = sorted(((service, position.get(rel, 0), i, ds) for rel, entries in
                            detail.service_diagnostics.items() for service, i, ds in entries), key=lambda x: x[:3])
    diagnostics = [*detail.shared_diagnostics, *(d for rel in rels for d in detail.unit_diagnostics.get(rel, ())),
                   *(d for ds in detail.duplicates.values() for d in ds),
                   *(d for *_, ds in service_diags for d in ds), *(d for ds in detail.checks.values() for d in ds)]
    locations = {**detail.locations, **{r: loc for locs in detail.unit_locations.values() for r, loc in locs.items()}}
    services = sum(c[0] for c in detail.counts.values())
    objects = sum(c[1] for c in detail.counts.values())
    return OverlaySummary(b"", whole, b"", False, len(detail.counts), services, objects, len(detail.produced),
                          tuple(diagnostics), locations, None)


def reindex(detail: OverlayDetails, old: Mapping[str, UnitEntry | None], new: Mapping[str, UnitEntry],
            order: list[str]) -> None:
    """Replace the units `old` (with their cached entries, if any) by the units `new` (in file order) in the
    details' indexes, as a clean build indexes them: each key lists the units referring to it in file order
    (`order`), keeps its place while any does, and is removed when none does; a new key comes last. Entries kept
    in place make a change journal as the few entries it changed."""
    for rel in old.keys() - new.keys():
        for per_unit in (detail.unit_diagnostics, detail.service_diagnostics, detail.unit_locations, detail.counts,
                         detail.units):
            per_unit.pop(rel, None)
    touched: list[tuple[dict[Any, tuple[Any, ...]], Any]] = []
    for rel, unit in old.items():
        for index, key, _ in references(detail, rel, unit) if unit is not None else ():
            index[key] = tuple(v for v in index.get(key, ()) if unit_of(v) != rel)
            touched.append((index, key))
    for rel, unit in new.items():
        with_diags = tuple((s.order, i, s.diagnostics) for i, s in enumerate(unit.services) if s.diagnostics)
        indexed: list[tuple[dict[str, Any], Any]] = [(detail.unit_diagnostics, unit.diagnostics),
                                                     (detail.service_diagnostics, with_diags),
                                                     (detail.unit_locations, unit.locations)]
        for per_unit, found in indexed:
            if found:
                per_unit[rel] = found
            else:
                per_unit.pop(rel, None)
        detail.counts[rel] = (len(unit.services), sum(len(s.outputs) for s in unit.services))
        for index, key, value in references(detail, rel, unit):
            current = index.get(key, ())
            if value not in current:
                index[key] = (*current, value)
                touched.append((index, key))
    if old:  # (a clean build adds units in file order: nothing to sort)
        position = {rel: i for i, rel in enumerate(order)}
        for index, key in touched:
            if not (entries := index.get(key)):
                index.pop(key, None)
            elif len(entries) > 1:
                index[key] = tuple(sorted(entries, key=lambda v: position.get(unit_of(v), -1)))


def unit_of(entry: str | tuple[str, int]) -> str:
    """The unit an index entry names: `keys` lists (unit, document), the other indexes units."""
    return entry if type(entry) is str else entry[0]


def references(detail: OverlayDetails, rel: str, unit: UnitEntry
               ) -> Iterator[tuple[dict[Any, tuple[Any, ...]], Any, Any]]:
    """What a unit adds to the details' indexes: (index, key, its value there)."""
    for key, source in unit.keys:
        yield detail.keys, key, (rel, source.doc)
    for service in unit.services:
        for group in service.groups:
            yield detail.groups, group, rel
        for read, _ in service.reads:
            yield detail.reads, read, rel
        for out in service.outputs:
            yield detail.produced, out.path, rel
