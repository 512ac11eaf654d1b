"""Manifest: a rendered Kubernetes object (a plain dict in emission key order) and where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimgen.diagnostics import SourceRef

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "aimgen"
SERVICE_NAME_LABEL = "aim.eai.amd.com/service.name"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"  # KServe's replica-mode annotation (render/scaling.py)

Deployed = Mapping[tuple[str, str], str]  # (namespace, InferenceService name) -> its autoscalerClass in rendered/


@dataclass(frozen=True)
class Manifest:
    """One output object. `service` is "namespace/name" of the AIMService it belongs to ("" when shared)."""

    obj: dict[str, Any]
    service: str = ""
    source: SourceRef | None = None
    origins: tuple[tuple[str, SourceRef], ...] = ()  # ("spec.parentRefs", where its value came from), ...

    def origin(self, field: str) -> SourceRef | None:
        """The input location a field of this object came from (else the object's own source)."""
        return dict(self.origins).get(field, self.source)

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace", ""))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)
