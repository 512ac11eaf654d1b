"""The load stage's lean YAML constructor builds exactly what PyYAML's SafeConstructor builds."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aimgen.inputs.load import _PlainLoader, parse_documents

REFERENCE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def same(a: Any, b: Any, pairs: dict[int, int] | None = None) -> bool:
    """Equal values of equal types, with the same sharing of containers (an alias is the object of its anchor)."""
    pairs = {} if pairs is None else pairs
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        if id(a) in pairs:
            return pairs[id(a)] == id(b)
        pairs[id(a)] = id(b)
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k], pairs) for k in a)
        return len(a) == len(b) and all(same(x, y, pairs) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN


def both(text: str) -> tuple[Any, Any]:
    return list(yaml.load_all(text, Loader=REFERENCE)), list(yaml.load_all(text, Loader=_PlainLoader))


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["yes", "no", "on", "0x1f", "0o17", "1_000", "1:30", "2026-12-02", ".inf", "~",
                                     "null", "True", "3.0e2", "012", "+1", "-.5", "<<", "=", "!x", "- a", "a: b"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=3))
def test_generated_documents(docs: list[Any]) -> None:
    text = yaml.safe_dump_all(docs, sort_keys=False)
    reference, ours = both(text)
    assert same(reference, ours)


@settings(max_examples=200, deadline=None)
@given(values)
def test_shared_objects_are_aliases(value: Any) -> None:
    shared = {"a": value, "b": [value]}
    text = yaml.safe_dump({"x": shared, "y": shared, "z": [shared, shared]}, sort_keys=False)
    reference, ours = both(text)
    assert same(reference, ours)


@pytest.mark.parametrize("text", [
    "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\n",  # merge key
    "a: !!str 12\nb: !!int '7'\nc: !!float 1\n",  # explicit tags
    "when: 2026-12-02\nat: 2026-12-02T10:00:00Z\n",  # timestamps
    "data: !!binary aGVsbG8=\n",
    "set: !!set {a, b}\n",
    "? [a, b]\n: unhashable\n",
    "? {a: 1}\n: unhashable\n",
    "a: 1\na: 2\n",  # duplicate keys: the last wins
    "self: &s [1, *s]\n",  # a recursive alias
    "m: &m {k: *m}\n",
    "- &x hello\n- *x\n",
    "",
    "---\n---\na: 1\n",
    "!custom {a: 1}\n",
    "[1, {2: 3}, {null: x, true: y, 1.5: z}]\n",
])
def test_special_documents(text: str) -> None:
    try:
        reference = list(yaml.load_all(text, Loader=REFERENCE))
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            list(yaml.load_all(text, Loader=_PlainLoader))
        return
    assert same(reference, list(yaml.load_all(text, Loader=_PlainLoader)))


def test_unknown_tag_is_the_reference_error() -> None:
    docs, diags = parse_documents("kind: !custom {a: 1}\n", "f.yaml")
    assert docs == [] and [d.code for d in diags] == ["YAMLSyntaxError"]
    assert "!custom" in diags[0].message and str(diags[0].location) == "f.yaml:1:7"


def test_plain_documents_take_the_lean_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, node: Any) -> Any:
        raise AssertionError("SafeConstructor used for a plain document")

    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document", refuse)
    docs, diags = parse_documents("a: &x [1, 2.5, true, null, 'q']\nb: *x\n---\n- {c: d}\n", "f.yaml")
    assert not diags and docs[0].value == {"a": [1, 2.5, True, None, "q"], "b": [1, 2.5, True, None, "q"]}
    assert docs[0].value["a"] is docs[0].value["b"] and docs[1].value == [{"c": "d"}]
