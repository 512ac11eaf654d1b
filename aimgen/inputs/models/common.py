"""Shared input types: strict pydantic base, Kubernetes names, quantities, env vars, resources."""

# (no `from __future__ import annotations`: pydantic would compile each annotation string at import)
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
QUANTITY = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class Strict(BaseModel):
    """Base of every input model: unknown fields and type coercion are errors."""

    # defer_build: each schema is built when first used, so a build compiling one service builds the few it needs
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


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


HOST_PORT = re.compile(
    r"^(?P<host>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*):(?P<port>[0-9]{1,5})$"
)
OTLP_RECEIVER_PORT = 4317  # the KEDA OTel scaler's OTLP receiver; its external-scaler gRPC port is 4318


def check_host_port(value: str) -> str | None:
    """The reason `value` is not a `host:port` gRPC address (no scheme, as KEDA and OTLP exporters take it), or None."""
    match = HOST_PORT.match(value)
    if not match or not 1 <= int(match["port"]) <= 65535:
        return f"{value!r} is not a host:port address (a DNS name or IPv4 address and a port, no scheme)"
    return None


def check_scaler_address(value: str) -> str | None:
    """The reason `value` cannot be a KEDA external-scaler address, or None.

    Port 4317 is the OTel scaler's OTLP receiver, where collectors push metrics; KEDA must call its
    external-scaler gRPC service on 4318 (kedify otel-add-on chart, service ports). The AIM CRD documents
    4317 as the default serverAddress, which is wrong for this field.
    """
    problem = check_host_port(value)
    if problem is None and int(value.rsplit(":", 1)[1]) == OTLP_RECEIVER_PORT:
        return (
            f"{value!r} is the OTel scaler's OTLP receiver port, where collectors push metrics; KEDA queries "
            "the external scaler on port 4318 (for example keda-otel-scaler.keda.svc:4318)"
        )
    return problem


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


def _checked(check: Callable[[str], str | None]) -> AfterValidator:
    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


HostPort = Annotated[str, _checked(check_host_port)]
ScalerAddress = Annotated[str, _checked(check_scaler_address)]


class ObjectMeta(Strict):
    """metadata of an input object. Server-populated fields (from `kubectl get -o yaml`) are accepted and ignored."""

    name: DNSSubdomain
    namespace: DNSLabel | None = None
    labels: Labels = {}
    annotations: Annotations = {}
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
    limits: dict[str, Quantity] = {}
    requests: dict[str, Quantity] = {}
    claims: list[ResourceClaim] = []


class LocalObjectReference(Strict):
    name: str = ""
