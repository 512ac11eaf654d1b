"""Container resources of one replica (SPEC §3), derived from a profile and merged with the service's.

Derivation: accelerator count N of `amd.com/gpu` (or the template's device resource); cpu 4N, memory 32N Gi
requested, 48N Gi limit (N counts as 1 for CPU-only and partitioned profiles); then the profile's
`resources`, then the service's, per key. cpu and memory always get both a request and a limit (KServe's
webhook would otherwise inject a 1-CPU limit); an unset limit follows its request when the request is
raised above it. Extended resources (`amd.com/...`) get limits equal to requests (the API server refuses
anything else).
"""

from __future__ import annotations

from dataclasses import dataclass

from aimgen.inputs.catalog import Profile
from aimgen.inputs.models.common import ResourceRequirements
from aimgen.kube.quantity import parse_quantity

CORE = ("cpu", "memory")


@dataclass(frozen=True)
class Resources:
    requests: dict[str, str]
    limits: dict[str, str]

    def to_manifest(self) -> dict[str, dict[str, str]]:
        return {"limits": dict(sorted(self.limits.items())), "requests": dict(sorted(self.requests.items()))}


@dataclass(frozen=True)
class ResourceProblem:
    """A conflict found while merging; `layer` says whose `resources` caused it."""

    layer: str  # "profile" or "service"
    side: str  # "requests" or "limits"
    key: str
    message: str


def derive_resources(
    profile: Profile, service: ResourceRequirements | None = None
) -> tuple[Resources, list[ResourceProblem]]:
    """Requests and limits of one replica of `profile`, with the service override applied."""
    n = profile.accelerator_count
    unit = n if n > 0 else 1
    requests: dict[str, str] = {"cpu": str(4 * unit), "memory": f"{32 * unit}Gi"}
    limits: dict[str, str] = {"cpu": str(4 * unit), "memory": f"{48 * unit}Gi"}
    if n > 0 and profile.accelerator_model:
        requests[profile.device_resource] = limits[profile.device_resource] = str(n)
    explicit_limits: set[str] = set()
    touched_by: dict[str, str] = {}
    for layer, override in (("profile", profile.resources), ("service", service)):
        if override is None:
            continue
        touched_by.update(dict.fromkeys([*override.requests, *override.limits], layer))
        for key, value in override.requests.items():
            requests[key] = str(value)
            if _extended(key) and key not in override.limits:
                limits[key] = str(value)
        for key, value in override.limits.items():
            limits[key] = str(value)
            explicit_limits.add(key)
            if _extended(key) and key not in override.requests:
                requests[key] = str(value)
    problems = _check(touched_by, requests, limits, explicit_limits)
    for key in CORE:  # an implicit limit follows a request raised above it
        if key not in explicit_limits and parse_quantity(requests[key]) > parse_quantity(limits[key]):
            limits[key] = requests[key]
    return Resources(requests, limits), problems


def _extended(key: str) -> bool:
    return "/" in key


def _check(
    touched_by: dict[str, str], requests: dict[str, str], limits: dict[str, str], explicit: set[str]
) -> list[ResourceProblem]:
    problems = []
    for key in sorted(set(requests) & set(limits)):
        layer = touched_by.get(key, "profile")
        req, lim = parse_quantity(requests[key]), parse_quantity(limits[key])
        if _extended(key) and req != lim:
            problems.append(ResourceProblem(layer, "limits", key,
                                            f"{key}: extended resources need limits equal to requests "
                                            f"(request {requests[key]}, limit {limits[key]})"))
        elif key in explicit and req > lim:
            problems.append(ResourceProblem(layer, "limits", key,
                                            f"{key}: request {requests[key]} exceeds limit {limits[key]}"))
    return problems
