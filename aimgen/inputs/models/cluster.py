"""aimgen's own inputs: the hardware inventory (compact or `kubectl get nodes -o yaml`), the Overlay, settings."""

# (no `from __future__ import annotations`: pydantic would compile each annotation string at import)
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aimgen.inputs.models.aim import GatewayRef, Size
from aimgen.inputs.models.common import (
    DNSLabel,
    DNSSubdomain,
    HostPort,
    Labels,
    ObjectMeta,
    Quantity,
    ScalerAddress,
    Strict,
)

AIMGEN_API = "aimgen.amd.com/v1alpha1"


# --- cluster settings (in ClusterInventory.spec.settings and Overlay.spec.settings; the overlay wins) ------


class RoutingSettings(Strict):
    defaultGatewayRef: GatewayRef | None = None


class AutoscalingSettings(Strict):
    scalerAddress: ScalerAddress = "keda-otel-scaler.keda.svc:4318"  # ScaledObject triggers (KEDA -> scaler gRPC)
    collectorEndpoint: HostPort = "keda-otel-scaler.keda.svc:4317"  # OTLP export of the collector sidecars


class CachingSettings(Strict):
    """Model caches as Git objects (render/caching.py). Runtime configs and services override the storage fields."""

    downloadImage: Annotated[str, Field(min_length=1)] = "ghcr.io/silogen/aim-artifact-downloader:0.2.0"
    storageClassName: DNSSubdomain | None = None  # None: the cluster's default storage class
    pvcHeadroomPercent: Annotated[int, Field(ge=0, le=1000)] = 10
    defaultSize: Size = "100Gi"  # claim size for a model source without `size` (with a warning)


class ArgoCDSettings(Strict):
    """An Argo CD Application per overlay (output/gitops.py)."""

    enabled: bool = False
    namespace: DNSLabel = "argocd"
    project: Annotated[str, Field(min_length=1)] = "default"
    destinationServer: Annotated[str, Field(min_length=1)] = "https://kubernetes.default.svc"
    automated: bool = True  # automated sync with prune and selfHeal; false: sync by hand
    syncOptions: list[str] = []  # added to ServerSideApply=true, PruneLast=true


class FluxSourceRef(Strict):
    kind: Literal["GitRepository", "OCIRepository", "Bucket"] = "GitRepository"
    name: DNSSubdomain
    namespace: DNSLabel | None = None


class FluxSettings(Strict):
    """A Flux Kustomization per overlay (output/gitops.py); without sourceRef, a GitRepository for repoURL too."""

    enabled: bool = False
    namespace: DNSLabel = "flux-system"
    sourceRef: FluxSourceRef | None = None
    interval: Annotated[str, Field(pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")] = "10m"
    timeout: Annotated[str, Field(pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")] = "30m"


class GitOpsSettings(Strict):
    repoURL: str | None = None  # the repository holding rendered/
    targetRevision: Annotated[str, Field(min_length=1)] = "main"
    path: str = ""  # the aimgen root inside that repository ("" = its top)
    namePrefix: str = "aim-"  # Application / Kustomization name: <namePrefix><overlay>
    argocd: ArgoCDSettings = Field(default_factory=ArgoCDSettings)
    flux: FluxSettings = Field(default_factory=FluxSettings)


class ClusterSettings(Strict):
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings)
    caching: CachingSettings = Field(default_factory=CachingSettings)
    gitops: GitOpsSettings = Field(default_factory=GitOpsSettings)


# --- compact inventory ---------------------------------------------------------------------------------


class NodePool(Strict):
    name: DNSLabel
    count: Annotated[int, Field(ge=0)] = 1
    labels: Labels = {}
    allocatable: dict[str, Quantity] = {}


class LabelSelector(Strict):
    matchLabels: dict[str, str] = {}


class LabelSelectorRequirement(Strict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class NamespaceSelector(Strict):
    """A Kubernetes label selector over namespace labels (an empty selector selects every namespace)."""

    matchLabels: dict[str, str] = {}
    matchExpressions: list[LabelSelectorRequirement] = []


class RouteNamespaces(Strict):
    from_: Literal["All", "Same", "Selector"] = Field("Same", alias="from")
    selector: NamespaceSelector | None = None

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)


class AllowedRoutes(Strict):
    namespaces: RouteNamespaces = Field(default_factory=RouteNamespaces)


class Listener(Strict):
    name: str
    allowedRoutes: AllowedRoutes = Field(default_factory=AllowedRoutes)


class InventoryGateway(Strict):
    name: str
    namespace: DNSLabel
    listeners: list[Listener] = Field(default_factory=lambda: [Listener(name="default")])


class InventoryNamespace(Strict):
    name: DNSLabel
    labels: Labels = {}


class ClusterInventorySpec(Strict):
    nodePools: list[NodePool] = []
    gateways: list[InventoryGateway] | None = None
    namespaces: list[InventoryNamespace] = []
    settings: dict[str, Any] = {}  # validated as ClusterSettings once merged


class ClusterInventory(Strict):
    apiVersion: Literal["aimgen.amd.com/v1alpha1"]
    kind: Literal["ClusterInventory"]
    metadata: ObjectMeta | None = None
    spec: ClusterInventorySpec


# --- kubectl get nodes -o yaml ---------------------------------------------------------------------------


class _Exported(BaseModel):
    """Exported objects carry many server fields; only those aimgen reads are typed."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, defer_build=True)


class NodeMeta(_Exported):
    name: str
    labels: dict[str, str] = {}


class Taint(_Exported):
    key: str
    effect: str
    value: str | None = None


class NodeSpec(_Exported):
    unschedulable: bool = False
    taints: list[Taint] = []


class NodeStatus(_Exported):
    allocatable: dict[str, Quantity] = {}
    capacity: dict[str, Quantity] = {}


class Node(_Exported):
    apiVersion: Literal["v1"] = "v1"
    kind: Literal["Node"] = "Node"
    metadata: NodeMeta
    spec: NodeSpec = Field(default_factory=NodeSpec)
    status: NodeStatus = Field(default_factory=NodeStatus)


class NodeList(_Exported):
    apiVersion: Literal["v1"]
    kind: Literal["List", "NodeList"]
    items: list[Node]


# --- Gateway documents in overlays (`kubectl get gateway -o yaml`): which routes the cluster's gateways admit ----


def _listener_routing(value: Any) -> Any:
    """An exported listener reduced to what aimgen reads: its name and allowedRoutes.namespaces."""
    if not isinstance(value, dict):
        return value
    out = {k: value[k] for k in ("name",) if k in value}
    routes = value.get("allowedRoutes")
    if not isinstance(routes, dict):
        return out if routes is None else {**out, "allowedRoutes": routes}
    return {**out, "allowedRoutes": {k: routes[k] for k in ("namespaces",) if k in routes}}


class GatewayMeta(_Exported):
    name: str
    namespace: DNSLabel


class GatewaySpec(_Exported):
    listeners: Annotated[list[Listener], Field(min_length=1)]

    @field_validator("listeners", mode="before")
    @classmethod
    def _routing_only(cls, value: Any) -> Any:
        return [_listener_routing(v) for v in value] if isinstance(value, list) else value


class Gateway(_Exported):
    """A Gateway API Gateway as exported from the cluster: read for its listeners, never rendered."""

    apiVersion: Literal["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]
    kind: Literal["Gateway"]
    metadata: GatewayMeta
    spec: GatewaySpec

    def as_inventory(self) -> InventoryGateway:
        return InventoryGateway(name=self.metadata.name, namespace=self.metadata.namespace,
                                listeners=self.spec.listeners)


# --- Namespace documents in overlays -----------------------------------------------------------------------


class NamespaceMeta(Strict):
    name: DNSLabel
    labels: Labels = {}
    annotations: dict[str, str] = {}


class Namespace(Strict):
    apiVersion: Literal["v1"]
    kind: Literal["Namespace"]
    metadata: NamespaceMeta


# --- Overlay -----------------------------------------------------------------------------------------------


class PatchTarget(Strict):
    namespace: DNSLabel | None = None
    name: str | None = None
    labelSelector: LabelSelector | None = None


class Patch(Strict):
    target: PatchTarget
    patch: dict[str, Any]


class OverlaySpec(Strict):
    bases: list[str] = []
    patches: list[Patch] = []
    settings: dict[str, Any] = {}  # validated as ClusterSettings once merged


class Overlay(Strict):
    apiVersion: Literal["aimgen.amd.com/v1alpha1"]
    kind: Literal["Overlay"]
    metadata: ObjectMeta | None = None
    spec: OverlaySpec = Field(default_factory=OverlaySpec)
