"""aimgen's YAML writer (`dump_yaml`): exactly what PyYAML's CSafeDumper writes with the options of
`pyyaml_dump`, 5-10x faster.

A specialised emitter covers the shapes aimgen renders (dicts with str keys, lists, str, int, bool, float, None),
applying libyaml's scalar-style rules (src/emitter.c: yaml_emitter_analyze_scalar and
yaml_emitter_select_scalar_style) and PyYAML's implicit resolvers; anything else (other types, shared sub-objects
that PyYAML writes as anchors, long or multi-line keys, multi-line strings, written as literal blocks) goes to
PyYAML itself. tests/test_emit.py checks both agree on generated documents. Imported on first use: a build with
nothing to emit does not pay for compiling its patterns.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

try:
    _Base: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeDumper


class _Dumper(_Base):  # type: ignore[misc,valid-type]
    """Multi-line strings (the files of a ConfigMap) as literal blocks, readable in diffs; where a literal block
    cannot hold the text (trailing spaces on a line, ...), libyaml falls back to double quotes itself."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def pyyaml_dump(obj: Any) -> str:
    """The reference serialisation: PyYAML's C dumper, block style, key order kept, no line folding."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 30)


def dump_yaml(obj: Any) -> str:
    """Block-style YAML with the given key order; the same bytes as `pyyaml_dump`."""
    if type(obj) is dict and obj:
        out: list[str] = []
        try:
            _mapping(obj, 0, False, out, set())
        except _Unsupported:
            return pyyaml_dump(obj)
        return "".join(out)
    return pyyaml_dump(obj)


# --- the specialised emitter --------------------------------------------------------------------------------


class _Unsupported(Exception):
    """A shape the specialised emitter does not write; PyYAML writes the whole document instead."""


_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_RESOLVER = Resolver()
# libyaml's IS_PRINTABLE (with allow_unicode): LF, 0x20-0x7E, U+00A0-U+D7FF, U+E000-U+FFFD but not the BOM. The
# Unicode classes take ~5 ms each to compile: re compiles (and caches) them when a non-ASCII string first comes.
_SPECIAL_ASCII = re.compile(r"[^\n\x20-\x7e]")
_SPECIAL = r"[^\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufefe\uff00-\ufffd]"
_BREAKS = re.compile(r"[\r\n\x85\u2028\u2029]")
# a space next to a line break: libyaml then refuses the plain and single-quoted styles
_SPACE_BREAK = re.compile(r"[ ][\r\n\x85\u2028\u2029]|[\r\n\x85\u2028\u2029][ ]")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_ESCAPES = {"\0": "0", "\x07": "a", "\x08": "b", "\t": "t", "\n": "n", "\x0b": "v", "\x0c": "f", "\r": "r",
            "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\u2028": "L", "\u2029": "P"}
_DOUBLE_QUOTED_ASCII = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")
_DOUBLE_QUOTED = r"[^\x20-\x21\x23-\x5b\x5d-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]"
_SCALARS: dict[str, str] = {}  # str value -> its rendering outside a key (memo; strings repeat a lot)
_KEYS: dict[str, str] = {}  # str key -> its rendering (memo)
_MEMO_LIMIT = 1 << 17


def _mapping(obj: dict[Any, Any], indent: int, inline: bool, out: list[str], seen: set[int]) -> None:
    """A non-empty block mapping; `inline`: its first key follows a sequence dash on the current line."""
    if id(obj) in seen:
        raise _Unsupported  # PyYAML writes an anchor and an alias
    seen.add(id(obj))
    pad = " " * indent
    keys, scalars = _KEYS, _SCALARS
    for key, value in obj.items():
        text = keys.get(key)
        if text is None:
            text = _key(key)
        if inline:
            inline = False
        else:
            text = pad + text
        kind = type(value)
        if kind is str:
            scalar = scalars.get(value)
            out.append(f"{text}: {scalar if scalar is not None else _scalar(value)}\n")
        elif kind is dict:
            if value:
                out.append(text + ":\n")
                _mapping(value, indent + 2, False, out, seen)
            else:
                out.append(text + ": {}\n")
        elif kind is list:
            if value:
                out.append(text + ":\n")
                _sequence(value, indent, False, out, seen)  # PyYAML indents no sequence inside a mapping
            else:
                out.append(text + ": []\n")
        else:
            out.append(f"{text}: {_scalar(value)}\n")


def _sequence(items: list[Any], indent: int, inline: bool, out: list[str], seen: set[int]) -> None:
    if id(items) in seen:
        raise _Unsupported
    seen.add(id(items))
    dash = " " * indent + "- "
    for item in items:
        if inline:
            inline = False
            out.append("- ")
        else:
            out.append(dash)
        kind = type(item)
        if kind is dict:
            if item:
                _mapping(item, indent + 2, True, out, seen)
            else:
                out.append("{}\n")
        elif kind is list:
            if item:
                _sequence(item, indent + 2, True, out, seen)
            else:
                out.append("[]\n")
        else:
            out.append(_scalar(item) + "\n")


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Unsupported
    text = _scalar(key)
    # libyaml writes a key longer than 128 bytes or spanning lines as a complex key (`? key`)
    if len(key) > 32 and len(key.encode()) > 128 or _BREAKS.search(key):
        raise _Unsupported
    if len(_KEYS) >= _MEMO_LIMIT:
        _KEYS.clear()
    _KEYS[key] = text
    return text


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        text = _SCALARS.get(value)
        if text is None:
            text = _string(value)
            if len(_SCALARS) >= _MEMO_LIMIT:
                _SCALARS.clear()
            _SCALARS[value] = text
        return text
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is float:
        return _float(value)
    raise _Unsupported


def _float(value: float) -> str:
    """SafeRepresenter.represent_float, written plain (it always resolves back to a float)."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    if _RESOLVER.resolve(ScalarNode, text, (True, False)) != _FLOAT_TAG:
        raise _Unsupported
    return text


def _string(value: str) -> str:
    """The style libyaml picks for a str scalar in block context, and the scalar written in it."""
    if not value:
        return "''"
    if "\n" in value:
        raise _Unsupported  # a literal block (see _Dumper), left to PyYAML
    special = _SPECIAL_ASCII.search(value) if value.isascii() else re.search(_SPECIAL, value)
    if special or _SPACE_BREAK.search(value):
        return _double_quoted(value)
    if _BREAKS.search(value):
        raise _Unsupported  # multi-line single-quoted: written with indentation, left to PyYAML
    if _plain_allowed(value) and _RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR_TAG:
        return value
    return "'" + value.replace("'", "''") + "'"


def _plain_allowed(value: str) -> bool:
    """libyaml's block_plain_allowed for a one-line printable string (no block indicators, no edge spaces)."""
    first = value[0]
    if value[-1] == " " or first == " ":
        return False
    if value.startswith(("---", "...")) or first in _FIRST_INDICATORS:
        return False
    if first in "?:-" and (len(value) == 1 or value[1] == " "):
        return False
    return not (": " in value or value[-1] == ":" or " #" in value)


def _double_quoted(value: str) -> str:
    escaped = _DOUBLE_QUOTED_ASCII.sub(_escape, value) if value.isascii() else re.sub(_DOUBLE_QUOTED, _escape, value)
    return '"' + escaped + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _ESCAPES.get(char)
    if short is not None:
        return "\\" + short
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"
