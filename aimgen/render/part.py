"""What a part renderer returns: objects of its own plus what it adds to the predictor pod."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aimgen.diagnostics import Diagnostic
from aimgen.render.context import ServiceContext
from aimgen.render.inferenceservice import PodAdditions
from aimgen.render.manifest import Manifest


@dataclass(frozen=True)
class Part:
    manifests: list[Manifest] = field(default_factory=list)
    additions: PodAdditions = field(default_factory=PodAdditions)
    diagnostics: list[Diagnostic] = field(default_factory=list)


PartRenderer = Callable[[ServiceContext], Part]
