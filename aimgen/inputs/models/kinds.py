"""Typed input models, and the registry that dispatches a document by apiVersion and kind."""

from __future__ import annotations

from pydantic import BaseModel

from aimgen.inputs.models import aim, cluster

KINDS: dict[tuple[str, str], type[BaseModel]] = {
    ("aim.eai.amd.com/v1alpha1", "AIMService"): aim.AIMService,
    ("aim.eai.amd.com/v1alpha1", "AIMServiceTemplate"): aim.AIMServiceTemplate,
    ("aim.eai.amd.com/v1alpha1", "AIMClusterServiceTemplate"): aim.AIMClusterServiceTemplate,
    ("aim.eai.amd.com/v1alpha1", "AIMModel"): aim.AIMModel,
    ("aim.eai.amd.com/v1alpha1", "AIMClusterModel"): aim.AIMClusterModel,
    ("aim.eai.amd.com/v1alpha1", "AIMRuntimeConfig"): aim.AIMRuntimeConfig,
    ("aim.eai.amd.com/v1alpha1", "AIMClusterRuntimeConfig"): aim.AIMClusterRuntimeConfig,
    ("aim.eai.amd.com/v1alpha2", "AIMProfile"): aim.AIMProfile,
    ("aim.eai.amd.com/v1alpha2", "AIMClusterProfile"): aim.AIMClusterProfile,
    (cluster.AIMGEN_API, "ClusterInventory"): cluster.ClusterInventory,
    (cluster.AIMGEN_API, "Overlay"): cluster.Overlay,
    ("v1", "List"): cluster.NodeList,
    ("v1", "NodeList"): cluster.NodeList,
    ("v1", "Namespace"): cluster.Namespace,
    ("gateway.networking.k8s.io/v1", "Gateway"): cluster.Gateway,
    ("gateway.networking.k8s.io/v1beta1", "Gateway"): cluster.Gateway,
}

CLUSTER_SCOPED = frozenset(
    {"AIMClusterServiceTemplate", "AIMClusterModel", "AIMClusterRuntimeConfig", "AIMClusterProfile"}
)
NAMESPACE_SCOPED_CATALOG = frozenset({"AIMServiceTemplate", "AIMModel", "AIMRuntimeConfig", "AIMProfile"})
CATALOG_KINDS = CLUSTER_SCOPED | NAMESPACE_SCOPED_CATALOG
INVENTORY_KINDS = frozenset({"ClusterInventory", "List", "NodeList"})
