"""Kubernetes resource quantities as exact fractions (for capacity checks and request <= limit)."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: dict[str, Fraction | int] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}


@lru_cache(maxsize=4096)  # a few hundred distinct quantities, parsed again for every service otherwise
def parse_quantity(value: str | int) -> Fraction:
    """'500m' -> 1/2, '32Gi' -> 34359738368, 4 -> 4. Raises ValueError on malformed input."""
    text = str(value).strip()
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return Fraction(text[: -len(suffix)]) * factor
    if "e" in text.lower() and not text.lower().endswith("e"):
        mantissa, _, exponent = text.lower().partition("e")
        return Fraction(mantissa) * Fraction(10) ** int(exponent)
    suffix = text[-1] if text and text[-1] in _DECIMAL and not text[-1].isdigit() else ""
    number = text[: -len(suffix)] if suffix else text
    return Fraction(number) * _DECIMAL[suffix]


def gibibytes(n: int) -> str:
    return f"{n}Gi"
