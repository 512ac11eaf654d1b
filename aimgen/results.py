"""What a build was asked to do and what it produced: options, per-service reports, the text and JSON reports.

Light on purpose (no pydantic, no renderers): a build whose inputs did not change is answered from the build
cache (aimgen/incremental/cache.py) with these types alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimgen.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from aimgen.inputs.models.cluster import ClusterSettings
    from aimgen.output.write import Plan
    from aimgen.render.manifest import Manifest


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    overlays: tuple[str, ...] = ()
    check: bool = False
    strict: bool = False
    jobs: int | None = None  # worker processes; None: every CPU when the build is large enough to gain from it
    argocd: bool = False  # an Argo CD Application per overlay (output/gitops.py), whatever the settings say
    flux: bool = False  # a Flux Kustomization per overlay
    # --validate: checks the complete output ({rendered-relative path: bytes}) before anything is written
    validate: Callable[[dict[str, bytes]], list[Diagnostic]] | None = None


@dataclass
class ServiceReport:
    """Per service: what was chosen and why, which objects it produced."""

    overlay: str
    namespace: str
    name: str
    profile: str | None = None
    why: str = ""
    objects: list[str] = field(default_factory=list)


@dataclass
class OverlayResult:
    """One overlay's outcome. `manifests` holds the objects compiled in this run: services answered from the
    build cache contribute their reports and files, not Manifest objects."""

    name: str
    manifests: list[Manifest] = field(default_factory=list)
    services: list[ServiceReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    settings: ClusterSettings | None = None  # None when the overlay's shared inputs were not re-read
    objects: int | None = None  # objects produced; None: counted from the reports

    @property
    def object_count(self) -> int:
        return self.objects if self.objects is not None else sum(len(s.objects) for s in self.services)


@dataclass(frozen=True)
class CacheStats:
    """Compilation units (input files) answered from the build cache, and those compiled."""

    hits: int
    misses: int

    def text(self) -> str:
        return f"cache: {self.hits} hit(s), {self.misses} miss(es)"


@dataclass
class BuildResult:
    overlays: list[OverlayResult]
    diagnostics: list[Diagnostic]
    plan: Plan | None
    exit_code: int
    check: bool = False
    cache: CacheStats | None = None

    def summary_text(self) -> str:
        errors = sum(d.severity is Severity.ERROR for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        services = sum(len(o.services) for o in self.overlays)
        objects = sum(o.object_count for o in self.overlays)
        head = f"{len(self.overlays)} overlay(s), {services} service(s), {objects} object(s)"
        tail = f"; {errors} error(s), {warnings} warning(s)"
        cache = f" ({self.cache.text()})" if self.cache else ""
        if errors or self.plan is None:
            return head + tail + "; rendered/ left unchanged" + cache
        plan = self.plan
        changes = f"{len(plan.added)} added, {len(plan.write) - len(plan.added)} changed, {len(plan.remove)} removed"
        if self.check:
            lines = "".join(f"  would be {line}\n" for line in plan.lines())
            verdict = "rendered/ is up to date" if plan.empty else f"rendered/ is out of date ({changes})"
            return lines + head + tail + "; " + verdict + cache
        return head + tail + f"; {changes}, {plan.unchanged} unchanged" + cache

    def report_json(self) -> str:
        by_subject: dict[str, list[dict[str, object]]] = {}
        for d in self.diagnostics:
            by_subject.setdefault(d.subject, []).append(d.to_json())
        report: dict[str, Any] = {
            "exitCode": self.exit_code,
            "overlays": [
                {
                    "name": o.name,
                    "services": [
                        {
                            "namespace": s.namespace,
                            "name": s.name,
                            "profile": s.profile,
                            "why": s.why,
                            "objects": s.objects,
                            "diagnostics": by_subject.get(f"{o.name}/{s.namespace}/{s.name}", []),
                        }
                        for s in o.services
                    ],
                }
                for o in self.overlays
            ],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }
        if self.plan is not None:
            report["changes"] = {
                "added": sorted(self.plan.added),
                "changed": sorted(set(self.plan.write) - self.plan.added),
                "removed": list(self.plan.remove),
                "unchanged": self.plan.unchanged,
            }
        if self.cache is not None:
            report["cache"] = {"hits": self.cache.hits, "misses": self.cache.misses}
        return json.dumps(report, indent=2, sort_keys=False)


