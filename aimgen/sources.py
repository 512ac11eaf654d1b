"""The input files of a build: listed, read and hashed in one pass, and the small facts the build derives from
their bytes and paths without parsing them (whether a file holds services only, the deployed files to read)."""

from __future__ import annotations

import marshal
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .cache import digest, read_input
from .deployed import DEPLOYED_FILES, Fact

WHOLE = ""  # the one unit of an overlay compiled whole
_DOCUMENT_START = re.compile(rb"^---[ \t]*(?:#.*)?\r?$", re.M)
_KIND = re.compile(rb"^kind:[ \t]*([\"']?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?\r?$", re.M)
_CONTENT = re.compile(rb"^[ \t]*[^\s#]", re.M)


@dataclass
class InputFile:
    rel: str
    digest: bytes
    data: bytes | None  # kept while the file may need classifying


def input_files(root: str, directory: str) -> list[InputFile]:
    """Every .yaml/.yml file under root/directory, hidden entries skipped, in load.yaml_files' order, hashed."""
    out: list[InputFile] = []

    def walk(path: str, rel: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        files, dirs = [], []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():  # os.walk lists a symlinked directory but does not enter it
                    dirs.append(entry.name)
            elif entry.name.endswith((".yaml", ".yml")):
                files.append(entry.name)
        for name in sorted(files):
            data, hashed = read_input(f"{path}/{name}")
            out.append(InputFile(rel + name, hashed, data))
        for name in sorted(dirs):
            walk(f"{path}/{name}", f"{rel}{name}/")

    walk(f"{root}/{directory}", directory + "/")
    return out


def looks_like_services(data: bytes | None) -> bool:
    """A guess, checked when the file is compiled: does every document of the file say `kind: AIMService`?"""
    if data is None:
        return True  # unreadable: its only effect is its own diagnostic
    return all(not _CONTENT.search(doc) or [m.group(2) for m in _KIND.finditer(doc)] == [b"AIMService"]
               for doc in _DOCUMENT_START.split(data))


def signature(*parts: object) -> bytes:
    """A digest of plain values (marshal format 2: no references, so the same values give the same bytes)."""
    return digest(marshal.dumps(parts, 2))  # type: ignore[arg-type]


def path_order(path: str) -> list[str]:
    """The order of scan_files: by path components."""
    return path.split("/")


def deployed_file(path: str) -> bool:
    """Whether a rendered/<overlay>/-relative path is one deployed_autoscaler_classes reads."""
    parts = path.split("/")
    return len(parts) == 2 and parts[1].startswith("inferenceservice-") and parts[1].endswith(".yaml")


assert DEPLOYED_FILES == "*/inferenceservice-*.yaml"  # deployed_file() follows it


def deployed_classes(paths: Iterable[tuple[str, tuple[Fact, ...]]]) -> dict[tuple[str, str], str]:
    """deployed_autoscaler_classes over known files: (rendered/<overlay>/-relative path, its facts)."""
    found: dict[tuple[str, str], str] = {}
    for _, facts in sorted(((tuple(p.split("/")), f) for p, f in paths if deployed_file(p))):
        found.update(facts)
    return found
