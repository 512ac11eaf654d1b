"""Inventory: an overlay's hardware (compact ClusterInventory or `kubectl get nodes` List), profile availability."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from aimgen.inputs.catalog import Profile
from aimgen.inputs.models.cluster import ClusterInventory, InventoryGateway, Node, NodeList
from aimgen.kube.quantity import parse_quantity

ACCELERATOR_LABEL = "feature.node.kubernetes.io/aim-accelerator."
CORE_RESOURCES = ("cpu", "memory")


@dataclass(frozen=True)
class NodeGroup:
    """Identical nodes: a compact pool, or one exported Node (count 1)."""

    name: str
    count: int
    labels: dict[str, str]
    allocatable: dict[str, Fraction]

    def accelerators(self) -> list[str]:
        return sorted(k.removeprefix(ACCELERATOR_LABEL) for k in self.labels if k.startswith(ACCELERATOR_LABEL))


@dataclass(frozen=True)
class Inventory:
    nodes: tuple[NodeGroup, ...] = ()
    gateways: tuple[InventoryGateway, ...] | None = None  # None: the inventory says nothing about gateways
    namespace_labels: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()
    # availability() per profile, computed once per inventory (every service of an overlay asks again)
    known: dict[int, tuple[Profile, Any]] = field(default_factory=dict, compare=False, repr=False)
    # the same by what a profile needs (accelerator label and resources): profiles of one hardware share it
    by_need: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def node_count(self) -> int:
        return sum(n.count for n in self.nodes)

    def labels_of_namespace(self, namespace: str) -> dict[str, str]:
        return dict(dict(self.namespace_labels).get(namespace, ()))

    def summary(self) -> str:
        by_model: dict[str, int] = {}
        for node in self.nodes:
            for model in node.accelerators():
                by_model[model] = by_model.get(model, 0) + node.count
        parts = [f"{count} node{'s' if count != 1 else ''} with {model}" for model, count in sorted(by_model.items())]
        return f"{self.node_count} nodes" + (f" ({', '.join(parts)})" if parts else "")


def schedulable(node: Node) -> bool:
    """Model-server pods carry no tolerations: cordoned nodes and NoSchedule/NoExecute taints exclude a node."""
    return not node.spec.unschedulable and not any(t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints)


def inventory_from(doc: ClusterInventory | NodeList) -> Inventory:
    """Both inventory forms mean the same thing (SPEC §4)."""
    if isinstance(doc, NodeList):
        nodes = tuple(
            NodeGroup(
                name=item.metadata.name,
                count=1,
                labels=dict(item.metadata.labels),
                allocatable={
                    k: parse_quantity(v) for k, v in (item.status.allocatable or item.status.capacity).items()
                },
            )
            for item in doc.items
            if schedulable(item)
        )
        return Inventory(nodes=nodes)
    spec = doc.spec
    return Inventory(
        nodes=tuple(
            NodeGroup(
                pool.name, pool.count, dict(pool.labels), {k: parse_quantity(v) for k, v in pool.allocatable.items()}
            )
            for pool in spec.nodePools
            if pool.count > 0
        ),
        gateways=tuple(spec.gateways) if spec.gateways is not None else None,
        namespace_labels=tuple((ns.name, tuple(sorted(ns.labels.items()))) for ns in spec.namespaces),
        settings=tuple(sorted(spec.settings.items())),
    )


