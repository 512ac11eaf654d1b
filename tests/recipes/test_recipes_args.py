"""Engine-argument typing and value rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimgen.recipes.args import RULES, arg_key, typed


@pytest.mark.parametrize(("text", "value"), [
    ("0.9", 0.9), ("4", 4), ("32768", 32768), ("true", True), ("false", False), ("True", True), ("-1", -1),
    ("1e-3", 0.001), ("bfloat16", "bfloat16"), ("awq", "awq"), ("", ""), ("1_000", "1_000"), ("0x10", "0x10"),
    ("007", "007"), ("inf", "inf"), ("nan", "nan"), ("1e999", "1e999"), (" 4", " 4"), ("4.", "4."),
])
def test_typed_examples(text: str, value: object) -> None:
    result = typed(text)
    assert result == value and type(result) is type(value)


@given(st.integers())
def test_integers_round_trip(n: int) -> None:
    assert typed(str(n)) == n and type(typed(str(n))) is int


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip(x: float) -> None:
    result = typed(repr(x))
    assert isinstance(result, float | int) and not isinstance(result, bool)
    assert result == x


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans()))
def test_typed_values_pass_through(value: int | float | bool) -> None:
    assert typed(value) is value


@given(st.text())
def test_any_text_is_kept_or_read_faithfully(text: str) -> None:
    result = typed(text)
    if isinstance(result, str):
        assert result == text
    elif isinstance(result, bool):
        assert text.lower() == str(result).lower()
    elif isinstance(result, int):
        assert int(text) == result and text.strip() == text
    else:
        assert math.isfinite(result) and float(text) == result and text.strip() == text
    assert typed(result) == result  # idempotent


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("--gpu-memory-utilization", "1", True), ("--gpu-memory-utilization", "0.0001", True),
    ("--gpu-memory-utilization", "0", False), ("--gpu-memory-utilization", "1.0000001", False),
    ("--gpu-memory-utilization", True, False), ("--max-batch-size", 1, True), ("--max-batch-size", "1.0", False),
    ("--max-batch-size", False, False), ("--port", "65535", True), ("--port", "0", False),
    ("--trust-remote-code", "false", True), ("--trust-remote-code", "1", False),
    ("--max_model_len", "4096", True), ("--max_model_len", "-1", False),
])
def test_value_rules(name: str, value: str | int | bool, ok: bool) -> None:
    _code, check = RULES[arg_key(name)]
    assert (check(value) is None) is ok


@pytest.mark.parametrize("text", ["0\n", "12\n", "1.5\n", "1e5\n"])
def test_a_trailing_newline_keeps_text(text: str) -> None:  # found by hypothesis: `$` matched before a final "\n"
    assert typed(text) == text
