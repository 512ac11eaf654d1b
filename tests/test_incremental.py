"""The incremental build (aimgen/incremental/) against the plain pipeline.

Every build must equal what the plain pipeline (load, compile_overlay, emit; no cache, no workers) gives for the
same tree: the same bytes in rendered/, the same diagnostics. On top, the cache must answer unchanged inputs
without rewriting anything, and recompile exactly what a change touched.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import time
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from aimgen.diagnostics import Diagnostics
from aimgen.incremental import cache, compiler, sources
from aimgen.incremental import run as incremental
from aimgen.incremental.cache import CACHE_DIR, INDEX, JOURNAL, BuildCache, code_key
from aimgen.incremental.merging import merge_short
from aimgen.inputs.layout import discover_overlays
from aimgen.inputs.load import Locator
from aimgen.inputs.tree import load_catalog, load_overlay
from aimgen.output.deployed import deployed_autoscaler_classes
from aimgen.output.emit import emit, manifest_path
from aimgen.output.gitops import gitops_files
from aimgen.render.overlay import compile_overlay
from aimgen.results import BuildOptions, BuildResult
from bench.generate import generate
from tests.support import run_cli

SERVICES = 60


def reference(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """rendered/ and the diagnostics (as printed) of the plain pipeline, given what rendered/ holds now."""
    catalog, catalog_diags = load_catalog(root)
    results = [compile_overlay(*load_overlay(root, name, catalog),
                               deployed_autoscaler_classes(root / "rendered" / name))
               for name in discover_overlays(root)]
    settings = [(r.name, r.settings.gitops) for r in results if r.settings]
    wiring, wiring_diags = gitops_files(root, settings, False, False)
    diags = Diagnostics([*catalog_diags, *wiring_diags])
    for r in results:
        diags.extend(r.diagnostics)
    locator = Locator(root)
    files: dict[str, bytes] = {}
    for r in results:
        for m in r.manifests:
            files.setdefault(manifest_path(r.name, m), emit(m))
    files.update(wiring)
    return files, [str(locator.resolve(d)) for d in diags.sorted()]


def rendered(root: Path) -> dict[str, bytes]:
    base = root / "rendered"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def mtimes(root: Path) -> dict[str, int]:
    base = root / "rendered"
    return {p.relative_to(base).as_posix(): p.stat().st_mtime_ns for p in base.rglob("*") if p.is_file()}


def build(root: Path, check: bool = False, jobs: int | None = None) -> BuildResult:
    return incremental.run_build(BuildOptions(root=root, check=check, jobs=jobs))


def assert_plain(root: Path, result: BuildResult) -> None:
    """The build left rendered/ and reported diagnostics exactly as the plain pipeline does."""
    files, diags = reference(root)
    assert [str(d) for d in result.diagnostics] == diags
    if result.exit_code == 0:
        assert rendered(root) == files


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("generated")
    return root, generate(root, SERVICES)


@pytest.fixture
def repo(generated: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    """A fresh copy of the generated tree (built once, cold), and its service files."""
    source, service_files = generated
    root = tmp_path / "repo"
    shutil.copytree(source, root)
    assert build(root).exit_code == 0
    return root, service_files


def single_service_file(root: Path, service_files: list[str]) -> str:
    """A service file holding one service that sets fixed replicas."""
    return next(rel for rel in service_files if (root / rel).read_text().count("kind: AIMService") == 1
                and "\n  replicas: " in (root / rel).read_text())


def files_of(root: Path, rel: str) -> set[str]:
    """The rendered files of the services in one input file (by their service-name label)."""
    names = {doc["metadata"]["name"] for doc in yaml.safe_load_all((root / rel).read_text())}
    overlay = rel.split("/")[1]
    return {path for path, data in rendered(root).items() if path.startswith(overlay + "/")
            and yaml.safe_load(data)["metadata"].get("labels", {}).get("aim.eai.amd.com/service.name") in names}


@pytest.mark.parametrize("jobs", [1, 2])
def test_cold_build_equals_the_plain_pipeline_whatever_the_jobs(generated: tuple[Path, list[str]], tmp_path: Path,
                                                                jobs: int) -> None:
    root = tmp_path / "repo"
    shutil.copytree(generated[0], root)
    result = build(root, jobs=jobs)
    assert result.exit_code == 0 and result.cache is not None and result.cache.hits == 0
    assert_plain(root, result)
    assert len(rendered(root)) > 2 * SERVICES


def test_noop_rebuild_answers_from_the_cache_and_writes_nothing(repo: tuple[Path, list[str]]) -> None:
    root, _ = repo
    before, stamps = rendered(root), mtimes(root)
    result = build(root)
    assert result.exit_code == 0 and result.cache is not None
    assert result.cache.misses == 0 and result.cache.hits > 0
    assert result.plan is not None and not result.plan.write and not result.plan.remove
    assert rendered(root) == before and mtimes(root) == stamps
    assert "(cache: " in result.summary_text()


def test_one_changed_service_recompiles_and_rewrites_only_its_files(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    rel = single_service_file(root, service_files)
    stamps = mtimes(root)
    text = (root / rel).read_text()
    replicas = int(re.search(r"\n  replicas: (\d+)", text).group(1))  # type: ignore[union-attr]
    rewrite(root / rel, f"\n  replicas: {replicas}\n", f"\n  replicas: {replicas + 1}\n")
    result = build(root)
    assert result.exit_code == 0 and result.cache is not None and result.cache.misses == 1
    assert_plain(root, result)
    after = mtimes(root)
    changed = {path for path, stamp in after.items() if stamps.get(path) != stamp}
    assert changed and changed <= files_of(root, rel)


@pytest.mark.parametrize("edit", ["catalog", "inventory", "namespaces"])
def test_a_shared_input_change_is_seen(repo: tuple[Path, list[str]], edit: str) -> None:
    root, _ = repo
    if edit == "catalog":  # the services on this profile get other engine arguments
        rewrite(root / "catalog/profiles/llama-8b.yaml", "max-num-seqs: 64", "max-num-seqs: 65")
    elif edit == "inventory":  # no more MI300X nodes in dev (where its services run)
        path = root / "overlays/dev/inventory.yaml"
        inventory = yaml.safe_load(path.read_text())
        assert any("MI300X" in json.dumps(p) for p in inventory["spec"]["nodePools"])
        inventory["spec"]["nodePools"] = [p for p in inventory["spec"]["nodePools"] if "MI300X" not in json.dumps(p)]
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    else:  # a namespace's labels (routes may depend on them)
        rewrite(root / "overlays/prod-eu/namespaces.yaml", "gateway-access: inference", "gateway-access: blocked")
    before = rendered(root)
    result = build(root)
    assert result.cache is not None and result.cache.misses > 0
    assert_plain(root, result)
    assert edit == "namespaces" or rendered(root) != before or result.exit_code != 0


def test_another_aimgen_version_recompiles_everything(repo: tuple[Path, list[str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = repo
    stamps = mtimes(root)
    monkeypatch.setattr(incremental, "code_key", lambda: b"another aimgen")
    result = build(root)
    assert result.cache is not None and result.cache.hits == 0
    assert_plain(root, result)
    assert mtimes(root) == stamps  # same bytes: nothing rewritten


@pytest.mark.parametrize("damage", ["delete", "edit", "edit-same-size", "touch"])
def test_a_damaged_output_is_rewritten(repo: tuple[Path, list[str]], damage: str) -> None:
    root, _ = repo
    before = rendered(root)
    path = root / "rendered" / next(p for p in before if "/inferenceservice-" in p)
    if damage == "delete":
        path.unlink()
    elif damage == "edit":
        path.write_bytes(path.read_bytes() + b"# hand edit\n")
    elif damage == "edit-same-size":
        data = path.read_bytes()
        path.write_bytes(data.replace(b"minReplicas: ", b"minReplicas: 9", 1)[: len(data) - 1] + b"\n")
    else:
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert build(root, check=True).exit_code == (0 if damage == "touch" else 3)
    result = build(root)
    assert result.exit_code == 0
    assert rendered(root) == before


def test_check_uses_the_cache_and_writes_nothing(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    assert build(root, check=True).exit_code == 0
    rel = single_service_file(root, service_files)
    rewrite(root / rel, "\n  replicas: ", "\n  replicas: 1\n  # was: ")
    before, stamps = rendered(root), mtimes(root)
    result = build(root, check=True)
    assert result.exit_code in (0, 3) and result.cache is not None and result.cache.misses == 1
    assert rendered(root) == before and mtimes(root) == stamps
    res = run_cli("build", "--check", "--format", "json", root=root)
    assert json.loads(res.stdout)["cache"]["misses"] <= 1


def test_the_cache_is_safe_to_delete_or_corrupt(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    assert (root / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    stamps = mtimes(root)
    shutil.rmtree(root / CACHE_DIR)
    result = build(root)
    assert result.cache is not None and result.cache.hits == 0
    assert_plain(root, result)
    assert mtimes(root) == stamps
    for pack in (root / CACHE_DIR).rglob("*.pack"):
        pack.write_bytes(b"\0" * 16)
    schemas = root / CACHE_DIR / "schemas" / "kept"
    schemas.parent.mkdir()
    schemas.write_text("converted schemas are another cache")
    rewrite(root / single_service_file(root, service_files), "\n  replicas: ", "\n  replicas: 1\n  # was: ")
    assert_plain(root, build(root))  # the short way reads the damaged pack: the build starts again without it
    (root / CACHE_DIR / INDEX).write_bytes(b"not a pickle")
    assert_plain(root, build(root))
    index = pickle.loads((root / CACHE_DIR / INDEX).read_bytes())
    assert index["summaries"] and schemas.read_text()


@pytest.mark.parametrize("jobs", [1, None])
def test_damaged_indexes_read_only_when_needed_restart_the_build(repo: tuple[Path, list[str]],
                                                                 jobs: int | None) -> None:
    """details.bin's indexes are decoded on first use, in whichever process merges a change: damaged there (its
    head intact), the build starts again without the cache, as when they are damaged on load."""
    root, service_files = repo
    rel = single_service_file(root, service_files)
    details = root / CACHE_DIR / rel.split("/")[1] / cache.DETAILS
    data = details.read_bytes()
    details.write_bytes(data[:-64] + bytes(64))  # the end of the pickled diagnostics
    head, _, _ = cache.load_details(details)
    assert head.files and "_undecoded" in vars(head)
    with pytest.raises(cache.CacheCorrupt):
        head.keys  # noqa: B018
    rewrite(root / rel, "\n  replicas: ", "\n  replicas: 1\n  # was: ")
    result = build(root, jobs=jobs)
    assert result.cache is not None and result.cache.hits == 0  # started again, without the cache
    assert_plain(root, result)
    assert build(root).cache.misses == 0  # type: ignore[union-attr]


def test_errors_stay_errors_when_answered_from_the_cache(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    rel = single_service_file(root, service_files)
    rewrite(root / rel, "\n  replicas: ", "\n  runtimeConfigName: nowhere\n  replicas: ")
    before = rendered(root)
    first = build(root)
    assert first.exit_code == 1 and any(d.code == "ConfigNotFound" for d in first.diagnostics)
    again = build(root)
    assert again.cache is not None and again.cache.misses == 0
    assert [str(d) for d in again.diagnostics] == [str(d) for d in first.diagnostics]
    assert again.exit_code == 1 and rendered(root) == before
    assert_plain(root, again)


def test_added_and_deleted_services(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    rel = single_service_file(root, service_files)
    copy = root / rel.replace(".yaml", "-copy.yaml")
    doc = yaml.safe_load((root / rel).read_text())
    doc["metadata"]["name"] += "-copy"
    copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = build(root)
    assert result.exit_code == 0 and result.cache is not None and result.cache.misses == 1
    assert_plain(root, result)
    (root / rel).unlink()
    result = build(root)
    assert result.exit_code == 0
    assert_plain(root, result)


@pytest.mark.parametrize("jobs", [1, None])
def test_a_change_colliding_with_an_unchanged_file_is_named_as_by_a_clean_build(
        repo: tuple[Path, list[str]], tmp_path: Path, jobs: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new file defining a service again, differently: its InferenceService collides with the one an unchanged
    file produces. The short way gives up on it; the build reports what a clean build does and writes nothing."""
    root, service_files = repo
    rel = single_service_file(root, service_files)
    text = (root / rel).read_text()
    again = text.replace("\n  replicas: ", "\n  replicas: 1\n  # was: ", 1)
    (root / rel.replace(".yaml", "-again.yaml")).write_text(again)
    before = rendered(root)
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(CACHE_DIR))
    expected = build(clean)
    merged: list[object] = []  # (seen in this process: with --jobs 1)
    monkeypatch.setattr(compiler, "merge_short", lambda *a: merged.append(merge_short(*a)) or merged[-1])
    result = build(root, jobs=jobs)
    assert merged == ([None] if jobs == 1 else [])  # asked the short way, which gave up
    assert result.exit_code == expected.exit_code == 1
    assert [str(d) for d in result.diagnostics] == [str(d) for d in expected.diagnostics]
    assert any(d.code == "NameCollision" for d in result.diagnostics)
    assert rendered(root) == before


def test_a_duplicate_service_across_files_is_reported_from_the_cache_too(repo: tuple[Path, list[str]]) -> None:
    root, service_files = repo
    rel = single_service_file(root, service_files)
    shutil.copy(root / rel, root / rel.replace(".yaml", "-dup.yaml"))
    first = build(root)
    assert first.exit_code == 1
    assert_plain(root, first)
    again = build(root)
    assert [str(d) for d in again.diagnostics] == [str(d) for d in first.diagnostics]


def test_flow_style_and_multi_kind_files(repo: tuple[Path, list[str]]) -> None:
    """A file guessed to hold services that does not (and the reverse) still builds as the plain pipeline does."""
    root, service_files = repo
    rel = single_service_file(root, service_files)
    doc = yaml.safe_load((root / rel).read_text())
    (root / rel).write_text(json.dumps(doc))  # flow style: no `kind: AIMService` line
    assert_plain(root, build(root))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": doc["metadata"]["namespace"],
                                                                         "labels": {"extra": "yes"}}}
    (root / rel).write_text(yaml.safe_dump_all([doc, namespace], sort_keys=False))
    assert_plain(root, build(root))




def details_of(at: Path, overlay: str, ordered: bool = True) -> list[tuple[str, object]]:
    """An overlay's cached details as read back, in content and (`ordered`) key order, but where its pack keeps
    entries."""
    found = BuildCache.load(at, code_key()).details(overlay)
    assert found is not None
    return [(f.name, list(v.items()) if ordered and isinstance(v, dict) else v) for f in fields(found)
            if f.name not in ("pack", "units") for v in [getattr(found, f.name)]]


def test_a_change_after_a_clean_build_journals_only_what_it_changed(repo: tuple[Path, list[str]],
                                                                     tmp_path: Path) -> None:
    """The short way keeps the indexes as a clean build lays them out (each key in its place, the units naming it
    in file order): a change appends a small record, and the details read back are those of a clean build."""
    root, service_files = repo
    rel = single_service_file(root, service_files)
    overlay = rel.split("/")[1]
    rewrite(root / rel, "\n  replicas: ", "\n  replicas: 1\n  # was: ")
    assert_plain(root, build(root))
    assert 0 < (root / CACHE_DIR / overlay / JOURNAL).stat().st_size < 1024
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(CACHE_DIR))
    assert build(clean).exit_code == 0
    assert details_of(root, overlay) == details_of(clean, overlay)


def overlays_reported(root: Path, *args: str) -> list[object]:
    """The overlays of a build's JSON report (their services, objects, reasons), built now."""
    res = run_cli("build", "--format", "json", *args, root=root)
    assert res.code == 0, res.stderr
    return json.loads(res.stdout)["overlays"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_reports_of_the_short_way_are_those_of_a_clean_build(repo: tuple[Path, list[str]], tmp_path: Path,
                                                             jobs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change merged the short way (in the compiler process, or in this one with --jobs 1) reports every
    service as a clean build does: the changed one as compiled now, a removed one gone, an added one in its place;
    and so does the next build, answered from the cache."""
    root, service_files = repo
    singles = [rel for rel in service_files if (root / rel).read_text().count("kind: AIMService") == 1
               and "\n  replicas: " in (root / rel).read_text()]
    overlay = singles[0].split("/")[1]
    changed, removed = [rel for rel in singles if rel.split("/")[1] == overlay][:2]
    rewrite(root / changed, "\n  replicas: ", "\n  replicas: 1\n  # was: ")
    (root / removed).unlink()
    doc = yaml.safe_load((root / changed).read_text())
    doc["metadata"]["name"] += "-added"
    (root / changed.replace(".yaml", "-added.yaml")).write_text(yaml.safe_dump(doc, sort_keys=False))
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(CACHE_DIR))
    expected = overlays_reported(clean)
    merged: list[object] = []  # (seen in this process: with --jobs 1)
    monkeypatch.setattr(compiler, "merge_short", lambda *a: merged.append(merge_short(*a)) or merged[-1])
    assert overlays_reported(root, "--jobs", jobs) == expected
    assert len(merged) == (jobs == "1") and all(m is not None for m in merged)
    assert_plain(root, build(root))
    assert overlays_reported(root) == expected
    assert details_of(root, overlay, ordered=False) == details_of(clean, overlay, ordered=False)  # (a new key last)


def test_details_kept_as_a_journal_equal_those_written_whole(repo: tuple[Path, list[str]], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Small changes append to an overlay's details journal; read back, the details are exactly (in content and
    key order) those written whole, and every build stays that of the plain pipeline."""
    root, service_files = repo
    whole = tmp_path / "whole"
    shutil.copytree(root, whole)
    assert build(whole).exit_code == 0  # a copy's files have other inodes: this build records them
    singles = [rel for rel in service_files if "\n  replicas: " in (root / rel).read_text()
               and (root / rel).read_text().count("kind: AIMService") == 1]
    overlay = singles[0].split("/")[1]
    mine = [rel for rel in singles if rel.split("/")[1] == overlay][:3]
    assert len(mine) == 3

    def changes(at: Path) -> None:
        for rel in mine[:2]:
            rewrite(at / rel, "\n  replicas: ", "\n  replicas: 1\n  # was: ")
            assert_plain(at, build(at))
        doc = yaml.safe_load((at / mine[2]).read_text())
        doc["metadata"]["name"] += "-new"
        (at / mine[2].replace(".yaml", "-new.yaml")).write_text(yaml.safe_dump(doc, sort_keys=False))
        assert_plain(at, build(at))
        (at / mine[1]).unlink()
        assert_plain(at, build(at))

    with monkeypatch.context() as m:  # every change journaled (a small tree's details would be rewritten soon)
        m.setattr(cache, "journal_limit", lambda size: 1 << 30)
        changes(root)
    assert (root / CACHE_DIR / overlay / JOURNAL).stat().st_size > 0
    with monkeypatch.context() as m:
        m.setattr(cache, "journal_limit", lambda size: -1)
        changes(whole)
    assert not (whole / CACHE_DIR / overlay / JOURNAL).exists()
    assert details_of(root, overlay) == details_of(whole, overlay)


def test_logs_rewritten_into_their_base_once_past_their_limit(repo: tuple[Path, list[str]]) -> None:
    """details.log and inputs.log stay within journal_limit of their base: replaying them stays cheap."""
    root, service_files = repo
    target = next(rel for rel in service_files if "\n  replicas: " in (root / rel).read_text()
                  and (root / rel).read_text().count("kind: AIMService") == 1)
    overlay = target.split("/")[1]
    folder = root / CACHE_DIR
    logs = {(folder / overlay / JOURNAL, folder / overlay / cache.DETAILS): 0,
            (folder / cache.INPUTS_LOG, folder / cache.INPUTS): 0}
    for i in range(40):
        rewrite(root / target, "\n  replicas: ", f"\n  replicas: 1\n  # change {i}: ")
        assert build(root).exit_code == 0
        for (log, base), most in logs.items():
            if log.exists():
                assert log.stat().st_size <= cache.journal_limit(base.stat().st_size), log
                logs[log, base] = max(most, log.stat().st_size)
    assert logs[folder / overlay / JOURNAL, folder / overlay / cache.DETAILS]  # appended to on the way
    assert_plain(root, build(root))


def inputs_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The input files the build reads from now on (sources.read_input)."""
    reads: list[str] = []
    original = sources.read_input

    def counting(path: Path | str) -> tuple[bytes | None, bytes]:
        reads.append(str(path))
        return original(path)

    monkeypatch.setattr(sources, "read_input", counting)
    return reads


def test_inputs_known_by_their_stats_are_not_read_again(repo: tuple[Path, list[str]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root, service_files = repo
    monkeypatch.setattr(sources.KnownDigests, "MARGIN_NS", 0)  # the copied files count as old enough
    time.sleep(0.05)  # a clock tick past their ctimes
    assert build(root).cache.misses == 0  # type: ignore[union-attr]  # hashes them, records their stats
    reads = inputs_read(monkeypatch)
    assert build(root).cache.misses == 0 and reads == []  # type: ignore[union-attr]
    # an edit keeping size and mtime still shows: its ctime moved on
    rel = single_service_file(root, service_files)
    path = root / rel
    st = path.stat()
    rewrite(path, "\n  replicas: ", "\n  replicas:\t")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    result = build(root)
    assert reads == [str(path)] and result.cache is not None and result.cache.misses == 1
    assert_plain(root, result)


def test_recent_inputs_are_hashed_until_older_than_the_margin(repo: tuple[Path, list[str]],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root, service_files = repo  # copied just now: every file younger than the margin
    reads = inputs_read(monkeypatch)
    assert build(root).cache.misses == 0  # type: ignore[union-attr]
    assert len(reads) == len(list((root / "catalog").rglob("*.yaml")) + list((root / "overlays").rglob("*.yaml")))
    assert cache.load_inputs(root / CACHE_DIR)[0] == {}


def test_later_records_are_appended_and_deleted_files_dropped(repo: tuple[Path, list[str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root, service_files = repo
    monkeypatch.setattr(sources.KnownDigests, "MARGIN_NS", 0)
    time.sleep(0.05)
    build(root)  # every file recorded: inputs.bin
    first = single_service_file(root, service_files)
    second = next(rel for rel in service_files if rel != first)
    rewrite(root / first, "\n  replicas: ", "\n  replicas:  ")
    (root / second).unlink()
    time.sleep(0.05)
    result = build(root)
    assert_plain(root, result)
    known, (base, log) = cache.load_inputs(root / CACHE_DIR)
    assert log > 0 and known[first][1] == cache.digest((root / first).read_bytes())  # appended, read back
    assert second in known  # a record of a deleted file stays true: it is dropped when inputs.bin is rewritten
    listed = sources.KnownDigests(dict(known), lambda: 0)
    incremental.input_files(str(root), "overlays", listed)
    assert second not in listed.current() and first in listed.current()


@pytest.mark.parametrize("damage", ["another", "its own"])
def test_a_change_with_rendered_touched_meanwhile_takes_the_long_way(repo: tuple[Path, list[str]],
                                                                      damage: str) -> None:
    """The compiler is asked for the changed file before rendered/ is scanned (the short way, expected); a touched
    rendered/ makes that answer void: thrown away with what it staged, and compiled again the long way."""
    root, service_files = repo
    rel = single_service_file(root, service_files)
    mine = sorted(files_of(root, rel))
    other = next(p for p in sorted(rendered(root)) if p.startswith(rel.split("/")[1] + "/") and p not in mine)
    rewrite(root / rel, "\n  replicas: ", "\n  replicas:  ")
    target = root / "rendered" / (other if damage == "another" else mine[0])
    target.write_text(target.read_text() + "# edited by hand\n")
    result = build(root)
    assert result.exit_code == 0 and result.plan is not None and target.relative_to(root / "rendered").as_posix() \
        in result.plan.write
    assert_plain(root, result)
    assert build(root).plan.empty  # type: ignore[union-attr]


def test_a_noop_rebuild_starts_no_compiler(repo: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to compile: neither the compiler process nor its imports (pydantic, the models) are started."""
    root, _ = repo

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a no-op build started the compiler")

    monkeypatch.setattr(incremental, "Compiler", refuse)
    result = build(root)
    assert result.exit_code == 0 and result.cache is not None and result.cache.misses == 0
    assert build(root, check=True).exit_code == 0
