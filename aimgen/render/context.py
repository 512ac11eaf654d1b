"""What every renderer receives for one service: the decision, the overlay's settings and shared names."""

from __future__ import annotations

from dataclasses import dataclass

from aimgen.diagnostics import SourceRef
from aimgen.inputs.models.cluster import ClusterSettings
from aimgen.resolve.select import Decision


@dataclass(frozen=True)
class ServiceContext:
    decision: Decision
    settings: ClusterSettings
    isvc_name: str
    labels: dict[str, str]  # common to every object of this service: managed-by, service.name, propagated
    # autoscalerClass of this service's InferenceService already in rendered/ (None: not rendered yet)
    deployed_autoscaler_class: str | None = None

    @property
    def namespace(self) -> str:
        return self.decision.namespace

    @property
    def name(self) -> str:
        return self.decision.name

    @property
    def source(self) -> SourceRef:
        return self.decision.source

    @property
    def key(self) -> str:
        return self.decision.key
