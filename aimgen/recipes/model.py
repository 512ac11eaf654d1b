"""Typed recipe documents (seed 004). Strict: unknown fields and wrong types are schema errors.

Only the shape is checked here; value rules (GPU-count keys, known hardware, argument values, ...)
live in `validate` so each has its own diagnostic code and position.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from aimgen.inputs.models.common import Strict

Engine = Literal["vllm", "sglang"]
ENGINE_SECTIONS: dict[str, Engine] = {"vllm_serve": "vllm", "sglang_serve": "sglang"}

ArgValue = str | int | float | bool  # the seed quotes every value; plain YAML scalars are accepted too


def _scalar(value: Any) -> Any:
    if isinstance(value, ArgValue):
        return value
    message = 'an argument value is a string, number or boolean (a flag: "true")'
    raise PydanticCustomError("arg_value_type", message)


Arg = Annotated[ArgValue, BeforeValidator(_scalar)]


class ServeEntry(Strict):
    """One engine configuration for one GPU count."""

    enabled: bool
    args: dict[str, Arg] = Field(default_factory=dict)


class Recipe(Strict):
    """A legacy AIM recipe file."""

    recipe_id: str
    model_id: str
    huggingface_id: str
    hardware: str
    precision: str
    vllm_serve: dict[str, ServeEntry] = Field(default_factory=dict)
    sglang_serve: dict[str, ServeEntry] = Field(default_factory=dict)

    def sections(self) -> list[tuple[str, Engine, dict[str, ServeEntry]]]:
        """(section key, engine, entries) in a fixed order: vLLM first."""
        return [(key, engine, getattr(self, key)) for key, engine in ENGINE_SECTIONS.items()]
