"""What a part renderer returns: objects of its own plus what it adds to the predictor pod."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic
from ..manifest import Manifest
from .context import ServiceContext
from .inferenceservice import PodAdditions


@dataclass(frozen=True)
class Part:
    manifests: list[Manifest] = field(default_factory=list)
    additions: PodAdditions = field(default_factory=PodAdditions)
    diagnostics: list[Diagnostic] = field(default_factory=list)


PartRenderer = Callable[[ServiceContext], Part]
