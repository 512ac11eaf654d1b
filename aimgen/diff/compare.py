"""`aimgen diff`: compile the inputs at a git ref and in the work tree, in memory, and compare the outputs.

Both sides are compiled by this aimgen, so every difference comes from the inputs. Per overlay, namespace and
service: the objects added, removed and changed (field by field), the cause when aimgen knows it (the service
spec, the profile choice and why, the profile's own spec, the runtime config, the overlay settings), and the
impact of applying it (impact.py). Nothing is written to rendered/.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aimgen.diagnostics import EXIT_INPUT_ERROR, EXIT_OK, EXIT_USAGE, AimgenError, Diagnostic, Severity, error
from aimgen.diff.fields import FieldChange, field_changes, summarize
from aimgen.diff.gittree import Base, extract_inputs, resolve_base
from aimgen.diff.impact import Impact, changed_object_impacts
from aimgen.inputs.catalog import Catalog, Profile, build_catalog
from aimgen.inputs.layout import discover_overlays
from aimgen.inputs.load import Locator
from aimgen.inputs.tree import OverlayInputs, load_catalog, load_overlay
from aimgen.output.deployed import deployed_autoscaler_classes
from aimgen.render.manifest import Manifest
from aimgen.render.overlay import compile_overlay, overlay_inventory
from aimgen.resolve.select import Resolution, resolve_service

ObjectKey = tuple[str, str, str]  # kind, namespace, name
ServiceKey = tuple[str, str]  # namespace, name ("" for objects no single service owns)


# --- one side, compiled -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFacts:
    """What decided one service's output: its document, the profile chosen and why, its runtime config."""

    document: dict[str, Any]
    file: str
    profile: Profile | None
    trace: dict[str, str]  # profile ref -> what resolution did with it
    selected: str | None  # the profile resolution picked, even when a later step failed
    runtime_config_name: str | None
    runtime_config: dict[str, Any]
    namespace_labels: dict[str, str]
    errors: tuple[Diagnostic, ...]


@dataclass
class CompiledOverlay:
    name: str
    manifests: dict[ObjectKey, Manifest]
    services: dict[ServiceKey, ServiceFacts]
    profiles: dict[str, Profile]  # the catalog this overlay sees, by ref
    settings: dict[str, Any]
    errors: list[Diagnostic]  # errors no single service owns: the overlay did not compile


@dataclass
class Side:
    overlays: dict[str, CompiledOverlay]
    errors: list[Diagnostic]  # every error, located

    def overlay(self, name: str) -> CompiledOverlay | None:
        return self.overlays.get(name)


def compile_side(root: Path, requested: tuple[str, ...]) -> Side:
    """Compile the overlays of `root` (those of `requested` that exist there, or all) in memory."""
    locator = Locator(root)
    catalog, catalog_diags = load_catalog(root)
    catalog_errors = [locator.resolve(d) for d in catalog_diags if d.severity is Severity.ERROR]
    side = Side({}, list(catalog_errors))
    for name in discover_overlays(root):
        if requested and name not in requested:
            continue
        inputs, diags = load_overlay(root, name, catalog)
        result = compile_overlay(inputs, diags, deployed_autoscaler_classes(root / "rendered" / name))
        errors = [locator.resolve(d) for d in result.diagnostics if d.severity is Severity.ERROR]
        side.errors += errors
        by_subject: dict[str, list[Diagnostic]] = {}
        for d in errors:
            by_subject.setdefault(d.subject, []).append(d)
        index = build_catalog(inputs.catalog)
        side.overlays[name] = CompiledOverlay(
            name=name,
            manifests={m.key: m for m in result.manifests},
            services=service_facts(inputs, index, by_subject),
            profiles={p.ref: p for p in index.all_profiles()},
            settings=inputs.settings.model_dump(mode="json"),
            errors=catalog_errors + [d for d in errors if not d.subject.startswith(f"{name}/")],
        )
    return side


def service_facts(inputs: OverlayInputs, catalog: Catalog, errors: dict[str, list[Diagnostic]]
                  ) -> dict[ServiceKey, ServiceFacts]:
    """Each service resolved again, for its trace (compile_overlay keeps only the outcome)."""
    if inputs.inventory is None:
        return {}
    inventory = overlay_inventory(inputs)
    out: dict[ServiceKey, ServiceFacts] = {}
    for service, source in inputs.services:
        ns, name = service.metadata.namespace, service.metadata.name
        resolution = resolve_service(service, source, catalog, inventory)
        out[(ns, name)] = ServiceFacts(
            document=service.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"status"}),
            file=source.file,
            profile=resolution.decision.profile if resolution.decision else None,
            trace={v.profile.ref: v.reason for v in resolution.trace},
            selected=next((v.profile.ref for v in resolution.trace if v.kept), None),
            runtime_config_name=resolution.decision.runtime_config_name if resolution.decision else None,
            runtime_config=_runtime_config(resolution),
            namespace_labels=inventory.labels_of_namespace(ns),
            errors=tuple(errors.get(f"{inputs.name}/{ns}/{name}", ())),
        )
    return out


def _runtime_config(resolution: Resolution) -> dict[str, Any]:
    decision = resolution.decision
    return decision.runtime_config.model_dump(mode="json", exclude_none=True) if decision else {}


# --- the comparison -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    kind: str  # ServiceAdded ServiceRemoved ServiceRenamed ServiceSpec Profile ProfileSpec RuntimeConfig Settings ...
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class ObjectChange:
    kind: str
    namespace: str
    name: str
    change: str  # added, removed, changed
    fields: tuple[FieldChange, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "change": self.change,
                "fields": [f.to_json() for f in self.fields]}


@dataclass
class ServiceDiff:
    namespace: str
    name: str  # "" for objects no single service owns
    change: str  # added, removed, changed, failed (does not compile in the work tree)
    profile_before: str | None = None
    profile_after: str | None = None
    causes: list[Cause] = field(default_factory=list)
    impacts: list[Impact] = field(default_factory=list)
    objects: list[ObjectChange] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.name else f"{self.namespace or 'cluster'} (shared objects)"

    @property
    def disruptive(self) -> list[Impact]:
        return [i for i in self.impacts if i.disruptive]

    def to_json(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "change": self.change,
                "profile": {"before": self.profile_before, "after": self.profile_after},
                "causes": [c.to_json() for c in self.causes], "impacts": [i.to_json() for i in self.impacts],
                "objects": [o.to_json() for o in self.objects], "errors": [d.to_json() for d in self.errors]}


@dataclass
class OverlayDiff:
    name: str
    change: str  # added, removed, changed, unchanged, failed (the work tree), unknown (the base did not compile)
    services: list[ServiceDiff] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "change": self.change, "services": [s.to_json() for s in self.services],
                "errors": [d.to_json() for d in self.errors]}


@dataclass
class DiffReport:
    base: Base
    overlays: list[OverlayDiff]
    base_errors: list[Diagnostic]
    head_errors: list[Diagnostic]

    @property
    def services(self) -> list[tuple[str, ServiceDiff]]:
        return [(o.name, s) for o in self.overlays for s in o.services]

    @property
    def changed(self) -> bool:
        return any(o.change != "unchanged" for o in self.overlays)

    @property
    def exit_code(self) -> int:
        """1 when the work tree does not compile; a base that did not compile is reported, not fatal (a change
        that repairs it must pass)."""
        return EXIT_INPUT_ERROR if self.head_errors else EXIT_OK


def run_diff(root: Path, base_ref: str | None, overlays: tuple[str, ...]) -> DiffReport:
    """Compare the outputs of the inputs at `base_ref` (default: the merge base with main) and in the work tree."""
    base = resolve_base(root, base_ref)
    head = compile_side(root, overlays)
    with tempfile.TemporaryDirectory(prefix="aimgen-diff-") as tmp:
        base_root = extract_inputs(root, base.commit, Path(tmp))
        before = compile_side(base_root, overlays)
    unknown = [o for o in overlays if o not in head.overlays and o not in before.overlays]
    if unknown:
        raise AimgenError([error("OverlayNotFound", f"no overlay {o!r} in the work tree or at {base.label}")
                           for o in unknown], EXIT_USAGE)
    names = sorted(set(head.overlays) | set(before.overlays))
    return DiffReport(base, [diff_overlay(n, before.overlay(n), head.overlay(n)) for n in names],
                      before.errors, head.errors)


def diff_overlay(name: str, old: CompiledOverlay | None, new: CompiledOverlay | None) -> OverlayDiff:
    if new is not None and new.errors:
        return OverlayDiff(name, "failed", errors=new.errors)
    if old is not None and old.errors:
        return OverlayDiff(name, "unknown", errors=old.errors)
    change = "added" if old is None else "removed" if new is None else "changed"
    empty = CompiledOverlay(name, {}, {}, {}, {}, [])
    services = diff_services(old or empty, new or empty)
    return OverlayDiff(name, change if services else "unchanged", services)


def _by_service(overlay: CompiledOverlay) -> dict[ServiceKey, dict[ObjectKey, Manifest]]:
    out: dict[ServiceKey, dict[ObjectKey, Manifest]] = {}
    for key, manifest in overlay.manifests.items():
        ns, _, svc = manifest.service.partition("/")
        owner = (ns, svc) if svc else (manifest.namespace, "")
        out.setdefault(owner, {})[key] = manifest
    return out


def diff_services(old: CompiledOverlay, new: CompiledOverlay) -> list[ServiceDiff]:
    old_objects, new_objects = _by_service(old), _by_service(new)
    keys = sorted(set(old.services) | set(new.services) | set(old_objects) | set(new_objects))
    failed = {ns for (ns, _), facts in new.services.items() if facts.errors}
    out: list[ServiceDiff] = []
    for key in keys:
        before, after = old.services.get(key), new.services.get(key)
        if after is not None and after.errors:
            diff = ServiceDiff(*key, "failed", errors=list(after.errors))
        elif not key[1] and key[0] in failed:
            continue  # shared objects of a namespace with a failing service: not comparable
        else:
            objects = diff_objects(old_objects.get(key, {}), new_objects.get(key, {}))
            if not objects:
                continue
            change = "added" if before is None and key[1] else "removed" if after is None and key[1] else "changed"
            diff = ServiceDiff(*key, change, objects=objects)
            diff.impacts = [i for o in objects if o.change == "changed"
                            for i in changed_object_impacts(o.kind, o.ref, list(o.fields))]
            diff.impacts += _replacements(objects, change)
        diff.profile_before = before.profile.ref if before and before.profile else None
        diff.profile_after = after.profile.ref if after and after.profile else None
        diff.causes = causes(before, after, old, new)
        out.append(diff)
    _detect_renames(out, old, new, old_objects, new_objects)
    return out


def diff_objects(old: dict[ObjectKey, Manifest], new: dict[ObjectKey, Manifest]) -> list[ObjectChange]:
    out: list[ObjectChange] = []
    for key in sorted(set(old) | set(new)):
        kind, ns, name = key
        if key not in old:
            out.append(ObjectChange(kind, ns, name, "added"))
        elif key not in new:
            out.append(ObjectChange(kind, ns, name, "removed"))
        elif old[key].obj != new[key].obj:
            out.append(ObjectChange(kind, ns, name, "changed", tuple(field_changes(old[key].obj, new[key].obj))))
    return out


def _replacements(objects: list[ObjectChange], change: str) -> list[Impact]:
    """An object of a kept service deleted (and maybe re-created under another name)."""
    out: list[Impact] = []
    if change == "removed":
        return [Impact("ServiceRemoved", "", "the service is removed: its InferenceService and every object of it "
                       "are deleted, traffic to it stops")]
    if change != "changed":
        return out
    for kind in ("InferenceService", "HTTPRoute"):
        gone = [o for o in objects if o.kind == kind and o.change == "removed"]
        new = [o for o in objects if o.kind == kind and o.change == "added"]
        for o in gone:
            if new and kind == "InferenceService":
                out.append(Impact("Recreate", f"{kind} {o.ref}", f"re-created as {kind} {new[0].ref}: the old one is "
                                  "deleted, so the service is down until the new one is Ready"))
            elif kind == "HTTPRoute":
                out.append(Impact("RouteRemoved", f"{kind} {o.ref}", "the route is deleted: clients get 404"))
            else:
                out.append(Impact("Removed", f"{kind} {o.ref}", "deleted"))
    return out


def _detect_renames(diffs: list[ServiceDiff], old: CompiledOverlay, new: CompiledOverlay,
                    old_objects: dict[ServiceKey, dict[ObjectKey, Manifest]],
                    new_objects: dict[ServiceKey, dict[ObjectKey, Manifest]]) -> None:
    """A removed and an added service of one namespace with the same spec: a rename, which re-creates it (and
    moves its route when the path template uses the name)."""
    removed = {(d.namespace, d.name): d for d in diffs if d.change == "removed"}
    for d in diffs:
        if d.change != "added":
            continue
        spec = _spec(new, (d.namespace, d.name))
        for (ns, name), gone in removed.items():
            if ns == d.namespace and spec is not None and _spec(old, (ns, name)) == spec:
                d.causes = [Cause("ServiceRenamed", f"AIMService renamed from {ns}/{name} (same spec)")]
                gone.causes = [Cause("ServiceRenamed", f"AIMService renamed to {ns}/{d.name} (same spec)")]
                d.impacts.append(Impact("Recreate", f"AIMService {ns}/{d.name}", f"a renamed service is re-created: "
                                        f"the objects of {name} are deleted and new ones created under new names"))
                paths = _route_paths(old_objects.get((ns, name), {})), _route_paths(new_objects.get((ns, d.name), {}))
                if paths[0] != paths[1]:
                    d.impacts.append(Impact("RoutePath", f"AIMService {ns}/{d.name}", f"route path "
                                            f"{', '.join(paths[0]) or '(none)'} -> {', '.join(paths[1]) or '(none)'}: "
                                            "clients using the old path get 404"))
                del removed[(ns, name)]
                break


def _route_paths(objects: dict[ObjectKey, Manifest]) -> list[str]:
    return [match["path"]["value"] for m in objects.values() if m.kind == "HTTPRoute"
            for rule in m.obj["spec"].get("rules", []) for match in rule.get("matches", []) if "path" in match]


def _spec(overlay: CompiledOverlay, key: ServiceKey) -> Any:
    facts = overlay.services.get(key)
    return facts.document.get("spec") if facts else None


# --- causes ------------------------------------------------------------------------------------------------------


def causes(before: ServiceFacts | None, after: ServiceFacts | None, old: CompiledOverlay,
           new: CompiledOverlay) -> list[Cause]:
    """Why one service's output changed, as far as aimgen can tell from its inputs."""
    if before is None and after is None:
        return _shared_causes(old, new)
    if before is None:
        assert after is not None
        return [Cause("ServiceAdded", f"AIMService added in {after.file}")]
    if after is None:
        return [Cause("ServiceRemoved", f"AIMService removed (it was in {before.file})")]
    out = [Cause("BaseFailed", f"it did not compile at the base: {before.errors[0].render()}")] if before.errors else []
    spec = field_changes(before.document, after.document)
    if spec:
        out.append(Cause("ServiceSpec", f"AIMService changed: {summarize(spec)}"))
    out += _profile_causes(before, after, old, new)
    if before.runtime_config_name is None or after.runtime_config_name is None:
        pass  # not decided on one side: nothing to compare
    elif before.runtime_config_name != after.runtime_config_name:
        out.append(Cause("RuntimeConfig", f"runtime config {before.runtime_config_name} -> "
                         f"{after.runtime_config_name}"))
    elif before.runtime_config != after.runtime_config:
        rc = field_changes(before.runtime_config, after.runtime_config)
        out.append(Cause("RuntimeConfig", f"runtime config {after.runtime_config_name} changed: {summarize(rc)}"))
    out += _shared_causes(old, new)
    if before.namespace_labels != after.namespace_labels:
        labels = field_changes(before.namespace_labels, after.namespace_labels)
        out.append(Cause("NamespaceLabels", f"labels of namespace changed: {summarize(labels)}"))
    return out or [Cause("Unknown", "none of the service, its profile, its runtime config, the overlay settings or "
                         "the namespace labels changed; another input it uses did")]


def _profile_causes(before: ServiceFacts, after: ServiceFacts, old: CompiledOverlay,
                    new: CompiledOverlay) -> list[Cause]:
    was, now = before.profile, after.profile
    if was is None:
        return []
    if now is not None and now.ref == was.ref:
        changed = profile_changes(was, now)
        return [Cause("ProfileSpec", f"{was.ref} changed: {summarize(changed)}")] if changed else []
    if now is not None:
        out = [Cause("Profile", f"profile {was.ref} -> {now.ref}: {_why_not(was, after, new)}")]
    elif after.selected == was.ref:
        return []  # still the choice; a later step failed
    else:
        out = [Cause("Profile", f"profile {was.ref} can no longer be used: {_why_not(was, after, new)}")]
    return out + _catalog_causes(was, after, old, new)


def _catalog_causes(was: Profile, after: ServiceFacts, old: CompiledOverlay, new: CompiledOverlay) -> list[Cause]:
    """The other candidates of the service that were added to the catalog or changed (a promotion, say)."""
    out: list[Cause] = []
    for ref in after.trace:
        if ref == was.ref:
            continue
        previous, current = old.profiles.get(ref), new.profiles[ref]
        if previous is None:
            out.append(Cause("Catalog", f"{ref} was added to the catalog"))
        elif changed := profile_changes(previous, current):
            out.append(Cause("Catalog", f"{ref} changed: {summarize(changed)}"))
    return out


def _why_not(was: Profile, after: ServiceFacts, new: CompiledOverlay) -> str:
    """Why the previously chosen profile lost, from the work tree's resolution trace."""
    reason = after.trace.get(was.ref)
    current = new.profiles.get(was.ref)
    if current is None:
        return f"{was.ref} was removed from the catalog"
    changed = profile_changes(was, current)
    detail = f" ({was.ref} changed: {summarize(changed)})" if changed else ""
    if reason is None:
        return f"{was.ref} is no longer a candidate{detail}"
    if reason.startswith("NotAvailable"):
        return f"the inventory made {was.ref} unavailable ({reason}){detail}"
    return f"{was.ref}: {reason}{detail}"


def _shared_causes(old: CompiledOverlay, new: CompiledOverlay) -> list[Cause]:
    if old.settings != new.settings:
        return [Cause("Settings", f"overlay settings changed: {summarize(field_changes(old.settings, new.settings))}")]
    return []


def profile_changes(old: Profile, new: Profile) -> list[FieldChange]:
    """Field changes between two versions of a profile (where it is defined does not count)."""
    return field_changes(_profile_fields(old), _profile_fields(new))


def _profile_fields(profile: Profile) -> dict[str, Any]:
    return {f.name: _plain(getattr(profile, f.name)) for f in fields(profile) if f.name != "source"}


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
