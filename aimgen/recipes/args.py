"""Engine arguments of recipes: their typed values, and the value rules a reviewer checks.

Recipes spell every argument as a quoted CLI string (`--tensor-parallel-size: "4"`); profiles carry
typed JSON values (seed 003: "Supports typed values (integers, floats, booleans, strings)").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from aimgen.recipes.model import ArgValue

ARG_NAME = re.compile(r"^--[a-z0-9][a-z0-9_-]*$")

# What aimgen (the AIM runtime it deploys) owns: the served model and the listening address (port 8000).
OWNED_BY_AIMGEN = frozenset({"model", "model-path", "port", "host"})

TENSOR_PARALLEL = ("tensor-parallel-size", "tp-size", "tp")  # vLLM, then SGLang spellings
PIPELINE_PARALLEL = ("pipeline-parallel-size", "pp-size", "pp")

# --dtype value -> the recipe precision it means; None: decided by the engine (`auto`).
DTYPES: dict[str, str | None] = {
    "auto": None,
    "float16": "fp16", "half": "fp16", "fp16": "fp16",
    "bfloat16": "bf16", "bf16": "bf16",
    "float8": "fp8", "fp8": "fp8",
    "int8": "int8",
    "int4": "int4",
    "float32": "fp32", "float": "fp32", "fp32": "fp32",
}
WIDE_PRECISIONS = frozenset({"fp16", "bf16"})  # compute precisions that quantized weights run with

_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")
_BOOLS = {"true": True, "false": False}


def arg_key(name: str) -> str:
    """`--max_model_len` -> `max-model-len`: the engine-arg key of a recipe argument."""
    return name.removeprefix("--").replace("_", "-")


def typed(value: ArgValue) -> ArgValue:
    """The typed value of a recipe argument: "4" -> 4, "0.9" -> 0.9, "true" -> True, else unchanged."""
    if not isinstance(value, str):
        return value
    if value.lower() in _BOOLS:
        return _BOOLS[value.lower()]
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else value
    return value


def as_int(value: ArgValue) -> int | None:
    out = typed(value)
    return out if isinstance(out, int) and not isinstance(out, bool) else None


def as_number(value: ArgValue) -> float | None:
    out = typed(value)
    return float(out) if isinstance(out, int | float) and not isinstance(out, bool) else None


# --- value rules: arg key -> (code, check returning the reason the value is wrong, or None) ---------


def _positive_int(value: ArgValue) -> str | None:
    number = as_int(value)
    return None if number is not None and number > 0 else f"must be a positive integer (got {value!r})"


def _fraction(value: ArgValue) -> str | None:
    number = as_number(value)
    return None if number is not None and 0 < number <= 1 else f"must be a number in (0, 1] (got {value!r})"


def _port(value: ArgValue) -> str | None:
    number = as_int(value)
    return None if number is not None and 1 <= number <= 65535 else f"must be a port 1-65535 (got {value!r})"


def _boolean(value: ArgValue) -> str | None:
    return None if isinstance(typed(value), bool) else f"must be \"true\" or \"false\" (got {value!r})"


Rule = tuple[str, Callable[[ArgValue], str | None]]

_BATCH: Rule = ("InvalidBatchSize", _positive_int)
_CONTEXT: Rule = ("InvalidContextLength", _positive_int)
_PARALLEL: Rule = ("InvalidParallelSize", _positive_int)
_MEMORY: Rule = ("InvalidMemoryUtilization", _fraction)
_FLAG: Rule = ("InvalidBooleanArg", _boolean)

RULES: dict[str, Rule] = {
    "max-batch-size": _BATCH, "max-num-seqs": _BATCH, "max-running-requests": _BATCH,
    "max-context-len": _CONTEXT, "max-model-len": _CONTEXT, "context-length": _CONTEXT,
    "max-num-batched-tokens": _CONTEXT, "max-total-tokens": _CONTEXT, "max-prefill-tokens": _CONTEXT,
    **{key: _PARALLEL for key in TENSOR_PARALLEL + PIPELINE_PARALLEL},
    "gpu-memory-utilization": _MEMORY, "mem-fraction-static": _MEMORY,
    "port": ("InvalidPort", _port),
    "trust-remote-code": _FLAG, "enforce-eager": _FLAG, "enable-prefix-caching": _FLAG,
    "enable-chunked-prefill": _FLAG, "disable-log-requests": _FLAG, "disable-log-stats": _FLAG,
}
