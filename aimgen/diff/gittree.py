"""The inputs of a build root as they were at a git ref, extracted into a temporary directory (for `aimgen diff`)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from aimgen.diagnostics import EXIT_USAGE, AimgenError, error

INPUT_DIRS = ("catalog", "overlays")
DEFAULT_BRANCHES = ("main", "origin/main", "master", "origin/master")


@dataclass(frozen=True)
class Base:
    """What the work tree is compared with: a commit (None: before the first commit) and how it was chosen."""

    label: str
    commit: str | None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise AimgenError([error("GitNotFound", "aimgen diff needs git on the PATH")], EXIT_USAGE) from exc


def _out(root: Path, *args: str) -> str | None:
    res = _git(root, *args)
    return res.stdout.decode().strip() if res.returncode == 0 else None


def _commit(root: Path, ref: str) -> str | None:
    return _out(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def resolve_base(root: Path, ref: str | None) -> Base:
    """`ref` as a commit; without one, the merge base of HEAD with main (or origin/main, master, origin/master),
    else HEAD itself (the uncommitted changes), else nothing (a repository without commits)."""
    if _out(root, "rev-parse", "--is-inside-work-tree") != "true":
        raise AimgenError([error("NotAGitRepository", f"{root} is not inside a git work tree; aimgen diff compares "
                                 "with a git ref")], EXIT_USAGE)
    if ref is not None:
        commit = _commit(root, ref)
        if commit is None:
            raise AimgenError([error("RefNotFound", f"--base {ref!r} is not a commit of this repository (fetch it "
                                     "first, e.g. `git fetch origin main`, or use a full clone: fetch-depth 0)")],
                              EXIT_USAGE)
        return Base(ref, commit)
    head = _commit(root, "HEAD")
    if head is None:
        return Base("the empty tree (no commits yet)", None)
    for branch in DEFAULT_BRANCHES:
        if _commit(root, branch) is not None:
            merge_base = _out(root, "merge-base", "HEAD", branch)
            if merge_base:
                return Base(f"merge base with {branch}", merge_base)
    return Base("HEAD", head)


def extract_inputs(root: Path, commit: str | None, dest: Path) -> Path:
    """Write catalog/ and overlays/ of `root` as of `commit` below `dest`; returns the root of that copy."""
    top = _out(root, "rev-parse", "--show-toplevel")
    assert top is not None  # resolve_base checked the work tree
    prefix = root.resolve().relative_to(Path(top).resolve()).as_posix()
    base_root = dest / prefix if prefix != "." else dest
    base_root.mkdir(parents=True, exist_ok=True)
    if commit is None:
        return base_root
    repo = Path(top)  # pathspecs below are relative to the repository's top
    paths = [p for d in INPUT_DIRS if _out(repo, "ls-tree", "--name-only", commit, "--", p := _in(prefix, d))]
    if not paths:
        return base_root
    archive = _git(repo, "archive", "--format=tar", commit, "--", *paths)
    if archive.returncode != 0:
        raise AimgenError([error("GitError", f"git archive {commit[:12]} failed: {archive.stderr.decode().strip()}")],
                          EXIT_USAGE)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return base_root


def _in(prefix: str, name: str) -> str:
    return name if prefix in ("", ".") else f"{prefix}/{name}"


def short(commit: str | None) -> str:
    return commit[:12] if commit else "(none)"
