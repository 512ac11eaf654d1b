"""Shared input types: strict pydantic base, Kubernetes names, quantities, env vars, resources."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
QUANTITY = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class Strict(BaseModel):
    """Base of every input model: unknown fields and type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid DNS-1123 label (lowercase alphanumerics and '-', at most 63 characters)"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise ValueError(f"{value!r} is not a valid DNS-1123 subdomain (lowercase alphanumerics, '-' and '.')")
    return value


def check_label_key(key: str) -> str | None:
    """The reason a label or annotation key is invalid, or None."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"key prefix {prefix!r} must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not LABEL_NAME.match(name):
        return f"key name {name!r} must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    return None


def check_label_value(value: str) -> str | None:
    """The reason a label value is invalid, or None."""
    if value and (len(value) > 63 or not LABEL_NAME.match(value)):
        return f"label value {value!r} must be at most 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends"
    return None


def _label_key(key: str) -> str:
    reason = check_label_key(key)
    if reason:
        raise ValueError(reason)
    return key


def _label_value(value: str) -> str:
    reason = check_label_value(value)
    if reason:
        raise ValueError(reason)
    return value


def _quantity(value: str | int) -> str | int:
    if isinstance(value, bool) or not QUANTITY.match(str(value)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 4, 500m, 32Gi)")
    return value


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


DNSLabel = Annotated[str, AfterValidator(_dns_label)]
DNSSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
Labels = dict[LabelKey, Annotated[str, AfterValidator(_label_value)]]
Annotations = dict[LabelKey, str]
Quantity = Annotated[str | int, AfterValidator(_quantity)]
EnvName = Annotated[str, AfterValidator(_env_name)]


class ObjectMeta(Strict):
    """metadata of an input object. Server-populated fields (from `kubectl get -o yaml`) are accepted and ignored."""

    name: DNSSubdomain
    namespace: DNSLabel | None = None
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    uid: str | None = None
    resourceVersion: str | None = None
    generation: int | None = None
    creationTimestamp: Any = None
    managedFields: Any = None
    finalizers: Any = None
    ownerReferences: Any = None


class KeySelector(Strict):
    key: str
    name: str = ""
    optional: bool | None = None


class ObjectFieldSelector(Strict):
    fieldPath: str
    apiVersion: str | None = None


class ResourceFieldSelector(Strict):
    resource: str
    containerName: str | None = None
    divisor: Quantity | None = None


class FileKeySelector(Strict):
    key: str
    path: str
    volumeName: str
    optional: bool = False


class EnvVarSource(Strict):
    configMapKeyRef: KeySelector | None = None
    secretKeyRef: KeySelector | None = None
    fieldRef: ObjectFieldSelector | None = None
    resourceFieldRef: ResourceFieldSelector | None = None
    fileKeyRef: FileKeySelector | None = None


class EnvVar(Strict):
    name: EnvName
    value: str | None = None
    valueFrom: EnvVarSource | None = None

    def to_manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.valueFrom is not None:
            out["valueFrom"] = self.valueFrom.model_dump(exclude_none=True)
        else:
            out["value"] = self.value if self.value is not None else ""
        return out


class ResourceClaim(Strict):
    name: str
    request: str | None = None


class ResourceRequirements(Strict):
    limits: dict[str, Quantity] = Field(default_factory=dict)
    requests: dict[str, Quantity] = Field(default_factory=dict)
    claims: list[ResourceClaim] = Field(default_factory=list)


class LocalObjectReference(Strict):
    name: str = ""
