"""Load stage: YAML files -> Documents (plain values + where they came from).

Values are read with libyaml's C loader (fast). Line and column of any value are recovered on
demand by `Locator`, which composes the file's node tree once, only when a diagnostic needs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aimgen.diagnostics import Diagnostic, Location, SourceRef, YamlPath, error

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
_PLAIN_SCALARS = frozenset({_TAG + "null", _TAG + "bool", _TAG + "int", _TAG + "float"})


class _NotPlain(Exception):
    """A node the lean constructor leaves to SafeConstructor."""


class _PlainLoader(_Loader):  # type: ignore[misc,valid-type]
    """libyaml's loader with a lean constructor for what aimgen's inputs hold (maps, lists, strings, numbers,
    booleans, nulls, anchors): the values SafeConstructor builds, at half its cost. Anything else (merge keys,
    explicit or unknown tags, timestamps, unhashable keys) is built by SafeConstructor itself, with its errors."""

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return self._plain(node, {})
        except (_NotPlain, TypeError, RecursionError):
            return super().construct_document(node)

    def _plain(self, node: Any, built: dict[int, Any]) -> Any:
        tag = node.tag
        if node.__class__ is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            if tag in _PLAIN_SCALARS:
                return self.yaml_constructors[tag](self, node)
            raise _NotPlain
        done = built.get(id(node))  # an alias: the very object built for its anchor, as SafeConstructor does
        if done is not None:
            return done
        if tag == _MAP and node.__class__ is yaml.MappingNode:
            mapping: dict[Any, Any] = {}
            built[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise _NotPlain
                key = self._plain(key_node, built)
                mapping[key] = self._plain(value_node, built)  # TypeError: an unhashable key
            return mapping
        if tag == _SEQ and node.__class__ is yaml.SequenceNode:
            sequence: list[Any] = []
            built[id(node)] = sequence
            sequence.extend(self._plain(item, built) for item in node.value)
            return sequence
        raise _NotPlain

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Document:
    """One YAML document: its value and its origin."""

    value: Any
    source: SourceRef

    @property
    def api_version(self) -> str:
        return str(self.value.get("apiVersion", "")) if isinstance(self.value, dict) else ""

    @property
    def kind(self) -> str:
        return str(self.value.get("kind", "")) if isinstance(self.value, dict) else ""


def yaml_files(directory: Path) -> list[Path]:
    """Every .yaml/.yml file below `directory`, in a stable order; hidden entries skipped."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(
            Path(dirpath, f) for f in sorted(filenames) if f.endswith(YAML_SUFFIXES) and not f.startswith(".")
        )
    return found


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def parse_documents(text: str | bytes, rel: str) -> tuple[list[Document], list[Diagnostic]]:
    """Split one file's text into non-empty documents; a syntax error becomes a diagnostic."""
    try:
        values = list(yaml.load_all(text, Loader=_PlainLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(rel, mark.line + 1, mark.column + 1) if mark else Location(rel)
        return [], [error("YAMLSyntaxError", f"{exc.problem or exc}", loc)]
    except yaml.YAMLError as exc:
        return [], [error("YAMLSyntaxError", str(exc), Location(rel))]
    docs = [Document(v, SourceRef(rel, i)) for i, v in enumerate(values) if v is not None]
    return docs, []


def load_files(paths: Iterable[Path], root: Path) -> tuple[list[Document], list[Diagnostic]]:
    """Read and parse files; returns all documents and any syntax diagnostics."""
    docs: list[Document] = []
    diags: list[Diagnostic] = []
    for path in paths:
        rel = relative(path, root)
        try:
            data = path.read_bytes()
        except OSError as exc:
            diags.append(error("FileUnreadable", f"cannot read file: {exc.strerror}", Location(rel)))
            continue
        file_docs, file_diags = parse_documents(data, rel)
        docs.extend(file_docs)
        diags.extend(file_diags)
    return docs, diags


class Locator:
    """Turns SourceRefs into file:line:col by composing each file's node tree once."""

    def __init__(self, root: Path, texts: dict[str, str | bytes] | None = None,
                 known: dict[SourceRef, Location] | None = None):
        self.root = root
        self._texts = texts or {}
        self._known = known or {}  # locations found earlier (the build cache keeps them with their files' digests)
        self._nodes: dict[str, list[yaml.Node | None]] = {}

    def _documents(self, rel: str) -> list[yaml.Node | None]:
        if rel not in self._nodes:
            text = self._texts.get(rel)
            try:
                if text is None:
                    text = (self.root / rel).read_bytes()
                nodes: list[yaml.Node | None] = list(yaml.compose_all(text, Loader=_Loader))  # same indices as load_all
            except (OSError, yaml.YAMLError):
                nodes = []
            self._nodes[rel] = nodes
        return self._nodes[rel]

    def locate(self, ref: SourceRef) -> Location:
        if ref in self._known:
            return self._known[ref]
        docs = self._documents(ref.file)
        root = docs[ref.doc] if ref.doc < len(docs) else None
        if root is None:
            return Location(ref.file)
        node: yaml.Node = root
        mark = node.start_mark
        for i, step in enumerate(ref.path):
            child, key_node = _child(node, step)
            if child is None:
                break  # a missing value: point at its parent
            node = child
            last = i == len(ref.path) - 1
            # A key, or a whole block, is pointed at by its key; a scalar value by itself.
            at_key = key_node is not None and key_node is not child and (
                (last and ref.key) or not isinstance(child, yaml.ScalarNode))
            mark = key_node.start_mark if at_key and key_node is not None else node.start_mark
        return Location(ref.file, mark.line + 1, mark.column + 1)

    def resolve(self, diagnostic: Diagnostic) -> Diagnostic:
        loc = diagnostic.location
        if isinstance(loc, SourceRef):
            return Diagnostic(diagnostic.severity, diagnostic.code, diagnostic.message, self.locate(loc),
                              diagnostic.subject)
        return diagnostic


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(step):
                return value_node, key_node
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item = node.value[step]
        return item, item
    return None, None


def iter_paths(value: Any, prefix: YamlPath = ()) -> Iterator[tuple[YamlPath, Any]]:
    """Every (path, leaf value) pair of a plain YAML value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_paths(v, prefix + (i,))
    else:
        yield prefix, value
