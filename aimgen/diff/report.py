"""`aimgen diff` reports: text for terminals, markdown for a pull-request comment, JSON for machines."""

from __future__ import annotations

import json
from typing import Any

from aimgen.diff.compare import DiffReport, ObjectChange, OverlayDiff, ServiceDiff
from aimgen.diff.fields import show
from aimgen.diff.gittree import short

COMMENT_LIMIT = 65_536  # GitHub's maximum comment body, in characters
MARKER = "<!-- aimgen-diff -->"  # lets the CI workflow find and update its own comment
SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def counts(report: DiffReport) -> dict[str, int]:
    services = [s for _, s in report.services if s.name]
    objects = [o for _, s in report.services for o in s.objects]
    out = {f"services{c.capitalize()}": sum(s.change == c for s in services)
           for c in ("added", "removed", "changed", "failed")}
    out |= {f"objects{c.capitalize()}": sum(o.change == c for o in objects) for c in ("added", "removed", "changed")}
    out["disruptive"] = sum(len(s.disruptive) for _, s in report.services)
    return out


def summary_line(report: DiffReport) -> str:
    n = counts(report)
    changed = [o.name for o in report.overlays if o.change != "unchanged"]
    if not changed:
        return f"no differences in {len(report.overlays)} overlay(s)"
    return (f"{len(changed)} of {len(report.overlays)} overlay(s) differ; services: {n['servicesAdded']} added, "
            f"{n['servicesRemoved']} removed, {n['servicesChanged']} changed, {n['servicesFailed']} failing; "
            f"objects: {n['objectsAdded']} added, {n['objectsRemoved']} removed, {n['objectsChanged']} changed; "
            f"{n['disruptive']} disruptive change(s)")


def _head(report: DiffReport) -> str:
    return f"{report.base.label} ({short(report.base.commit)}) -> work tree"


# --- text --------------------------------------------------------------------------------------------------------


def render_text(report: DiffReport) -> str:
    lines = [f"aimgen diff: {_head(report)}"]
    for overlay in report.overlays:
        lines.append(f"overlay {overlay.name}: {_overlay_state(overlay)}")
        lines += [f"  {d.render()}" for d in overlay.errors]
        for service in overlay.services:
            lines += _text_service(service)
    if report.base_errors:
        lines.append(f"note: the base does not compile ({len(report.base_errors)} error(s)); its overlays are shown "
                     "as unknown where affected")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _overlay_state(overlay: OverlayDiff) -> str:
    return {"failed": "does not compile in the work tree", "unknown": "did not compile at the base (not compared)"
            }.get(overlay.change, overlay.change)


def _text_service(service: ServiceDiff) -> list[str]:
    lines = [f"  {service.label}: {service.change}{_profile_note(service, '`')}"]
    lines += [f"    cause: {c.message}" for c in service.causes]
    lines += [f"    {'!' if i.disruptive else 'i'} {i.kind}: {i.object + ': ' if i.object else ''}{i.message}"
              for i in service.impacts]
    lines += [f"    {d.render()}" for d in service.errors]
    for obj in service.objects:
        lines.append(f"    {SIGNS[obj.change]} {obj.kind} {obj.ref}")
        lines += [f"        {f.render()}" for f in obj.fields]
    return lines


def _profile_note(service: ServiceDiff, quote: str) -> str:
    before, after = service.profile_before, service.profile_after
    if before and after and before != after:
        return f" (profile {quote}{before}{quote} -> {quote}{after}{quote})"
    return ""


# --- JSON --------------------------------------------------------------------------------------------------------


def render_json(report: DiffReport) -> str:
    out: dict[str, Any] = {
        "base": {"label": report.base.label, "commit": report.base.commit},
        "head": "work tree",
        "changed": report.changed,
        "exitCode": report.exit_code,
        "summary": counts(report),
        "overlays": [o.to_json() for o in report.overlays],
        "baseErrors": [d.to_json() for d in report.base_errors],
        "headErrors": [d.to_json() for d in report.head_errors],
    }
    return json.dumps(out, indent=2, default=str)


# --- markdown ----------------------------------------------------------------------------------------------------


def render_markdown(report: DiffReport, limit: int = COMMENT_LIMIT) -> str:
    """Summary table first, then the details of each service while they fit in `limit` characters."""
    head = [MARKER, "### aimgen diff", "",
            f"Compared with {_md_code(report.base.label)} ({_md_code(short(report.base.commit))}): "
            f"{summary_line(report)}.", ""]
    failing = [o for o in report.overlays if o.change in ("failed", "unknown")]
    for failed in failing:
        head.append(f"**{failed.name}** {_overlay_state(failed)}:")
        head += [f"- {_md_code(d.render())}" for d in failed.errors[:20]]
        head += [f"- … and {len(failed.errors) - 20} more"] if len(failed.errors) > 20 else []
        head.append("")
    rows = [(o.name, s) for o in report.overlays for s in o.services]
    budget = limit - 600  # room for the closing notes
    text = "\n".join(head) + "\n"
    if rows:
        text += _table(rows, budget // 2 - len(text))
        text += _disruptive(rows)
    omitted = 0
    for i, (overlay, service) in enumerate(rows):
        block = _details(overlay, service)
        if len(text) + len(block) > budget:
            omitted = len(rows) - i
            break
        text += block
    if omitted:
        text += (f"\n_… the details of {omitted} more service(s) are not shown (a comment holds at most "
                 f"{limit:,} characters); run `aimgen diff` locally for everything._\n")
    return text


def _table(rows: list[tuple[str, ServiceDiff]], budget: int) -> str:
    out = "| Overlay | Service | Change | Profile | Objects | Impact |\n|---|---|---|---|---|---|\n"
    for i, (overlay, s) in enumerate(rows):
        objects = " ".join(f"{SIGNS[c]}{n}" for c in SIGNS if (n := sum(o.change == c for o in s.objects)))
        impact = ", ".join(dict.fromkeys(("⚠️ " if i.disruptive else "") + i.kind for i in s.impacts))
        line = (f"| {_cell(overlay)} | {_cell(s.label)} | {s.change} | {_cell(_profile_cell(s))} | {objects or '-'} "
                f"| {_cell(impact) or '-'} |\n")
        if len(out) + len(line) > budget:
            return out + f"\n_… and {len(rows) - i} more row(s)._\n\n"
        out += line
    return out + "\n"


def _profile_cell(s: ServiceDiff) -> str:
    if s.change == "failed":
        return f"{s.profile_before or ''} → (does not compile)"
    if s.profile_before and s.profile_after and s.profile_before != s.profile_after:
        return f"{s.profile_before} → {s.profile_after}"
    return s.profile_after or s.profile_before or ""


def _disruptive(rows: list[tuple[str, ServiceDiff]]) -> str:
    found = [(o, s, i) for o, s in rows for i in s.disruptive]
    if not found:
        return ""
    lines = ["#### ⚠️ Disruptive changes", ""]
    lines += [f"- **{o}** {_md_code(s.label)}: {i.kind}{' ' + _md_code(i.object) if i.object else ''}: {i.message}"
              for o, s, i in found]
    return "\n".join(lines) + "\n\n"


def _details(overlay: str, s: ServiceDiff) -> str:
    lines = [f"<details><summary><b>{overlay}</b> {s.label}: {s.change}</summary>", ""]
    lines += [f"- {c.kind}: {c.message}" for c in s.causes]
    lines += [f"- {'⚠️' if i.disruptive else 'ℹ️'} {i.kind}: {i.message}" for i in s.impacts]
    lines += [f"- error: {_md_code(d.render())}" for d in s.errors]
    lines.append("")
    for obj in s.objects:
        lines += _object_details(obj)
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


def _object_details(obj: ObjectChange) -> list[str]:
    title = f"`{SIGNS[obj.change]}` {obj.kind} {_md_code(obj.ref)}"
    if not obj.fields:
        return [title, ""]
    lines = [title, "", "| Field | Before | After |", "|---|---|---|"]
    for f in obj.fields:
        before = "" if f.change == "added" else _md_code(show(f.old, 120))
        after = "" if f.change == "removed" else _md_code(show(f.new, 120))
        lines.append(f"| {_md_code(f.path)} | {_cell(before)} | {_cell(after)} |")
    return [*lines, ""]


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: DiffReport, fmt: str) -> str:
    return {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt](report)


__all__ = ["COMMENT_LIMIT", "MARKER", "render", "render_markdown"]
