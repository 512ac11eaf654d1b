"""Profile availability on an overlay: Ready when a node carries the accelerator label and can hold one replica."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from aimgen.inputs.catalog import Profile
from aimgen.inputs.inventory import ACCELERATOR_LABEL, CORE_RESOURCES, Inventory
from aimgen.kube.quantity import parse_quantity
from aimgen.resolve.resources import derive_resources


@dataclass(frozen=True)
class Availability:
    """A profile's status on an overlay, as the profile controller would report it."""

    ready: bool
    matching_nodes: int
    reason: str  # HardwareAvailable reason or the first unmet requirement

    @property
    def status(self) -> str:
        return "Ready" if self.ready else "NotAvailable"


def availability(profile: Profile, inventory: Inventory) -> Availability:
    """Ready when a node carries the accelerator label and can hold one replica; CPU-only is always Ready."""
    known = inventory.known.get(id(profile))
    if known is None or known[0] is not profile:
        known = inventory.known[id(profile)] = (profile, _availability(profile, inventory))
    return known[1]


def _availability(profile: Profile, inventory: Inventory) -> Availability:
    if profile.cpu_only:
        return Availability(True, inventory.node_count, "no accelerator requirements")
    resources, _ = derive_resources(profile)
    need = (profile.accelerator_model, tuple(sorted(resources.requests.items())))
    found = inventory.by_need.get(need)
    if found is None:
        found = inventory.by_need[need] = _hardware_availability(profile.accelerator_model, resources.requests,
                                                                 inventory)
    return found


def _hardware_availability(accelerator: str | None, requests: dict[str, str], inventory: Inventory) -> Availability:
    label = ACCELERATOR_LABEL + (accelerator or "")
    needed = {k: parse_quantity(v) for k, v in requests.items()}
    matching = 0
    shortfalls: list[str] = []
    for node in inventory.nodes:
        if accelerator and label not in node.labels:
            continue
        short = [
            f"{key} {_fmt(amount)} > {_fmt(node.allocatable.get(key, Fraction(0)))}"
            for key, amount in sorted(needed.items())
            if (key in node.allocatable or key not in CORE_RESOURCES)
            and node.allocatable.get(key, Fraction(0)) < amount
        ]
        if short:
            shortfalls.append(f"{node.name}: {', '.join(short)}")
        else:
            matching += node.count
    if matching:
        return Availability(True, matching, f"{matching} matching node{'s' if matching != 1 else ''}")
    if not shortfalls:
        return Availability(False, 0, f"no node has label {label}")
    return Availability(False, 0, f"no node with {label} can hold one replica ({'; '.join(shortfalls[:3])})")


def _fmt(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
