"""AIM inputs: AIMService and the catalog kinds of both API generations (fields as in crds/aim and seed 003)."""

# (no `from __future__ import annotations`: pydantic would compile each annotation string at import)
import re
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from aimgen.inputs.models.common import (
    Annotations,
    DNSLabel,
    EnvVar,
    LocalObjectReference,
    ObjectMeta,
    Quantity,
    ResourceRequirements,
    Strict,
)
from aimgen.kube.quantity import parse_quantity

Metric = Literal["latency", "throughput"]
Precision = Literal["auto", "fp4", "fp8", "fp16", "fp32", "bf16", "int4", "int8"]
ProfilePrecision = Literal["fp4", "fp8", "fp16", "fp32", "bf16", "int4", "int8"]
TemplateType = Literal["optimized", "preview", "unoptimized"]
ProfileType = Literal["optimized", "general", "preview", "unoptimized"]
CachingMode = Literal["Dedicated", "Shared", "Auto", "Always", "Never"]

MODEL_ID = re.compile(r"^[a-zA-Z0-9_-]+/[a-zA-Z0-9._-]+$")
# hf://<org>/<repo>[:<revision>] (KServe's storage-initializer form); s3://<bucket>[/<key prefix>]
HF_URI = re.compile(r"^hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._/-]+)?$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s/]+)*/?$")


def _model_id(value: str) -> str:
    if not MODEL_ID.match(value):
        raise ValueError(f"{value!r} is not a model id of the form org/name")
    return value


def _source_uri(value: str) -> str:
    if value.startswith("hf://") and not HF_URI.match(value):
        raise ValueError(f"{value!r} is not a Hugging Face source: use hf://<org>/<repository>[:<revision>]")
    if value.startswith("s3://") and not S3_URI.match(value):
        raise ValueError(f"{value!r} is not an S3 source: use s3://<bucket>/<path> (bucket: 3-63 lowercase "
                         "letters, digits, '.' or '-')")
    if not value.startswith(("hf://", "s3://")):
        raise ValueError(f"{value!r} is not a model source URI (hf://org/name or s3://bucket/path)")
    return value


def _positive_size(value: str | int) -> str | int:
    if parse_quantity(value) <= 0:
        raise ValueError(f"size {value!r} must be greater than zero")
    return value


ModelId = Annotated[str, AfterValidator(_model_id)]
SourceUri = Annotated[str, AfterValidator(_source_uri)]
Size = Annotated[Quantity, AfterValidator(_positive_size)]


# --- shared pieces ------------------------------------------------------------------------------


class GpuRequirements(Strict):
    requests: Annotated[int, Field(ge=0)] | None = None
    model: Annotated[str, Field(max_length=64)] | None = None
    minVram: Quantity | None = None
    resourceName: str = "amd.com/gpu"

    @model_validator(mode="after")
    def _model_xor_vram(self) -> Self:
        if self.model and self.minVram is not None:
            raise ValueError("set either model or minVram, not both")
        return self


class CpuRequirements(Strict):
    requests: Quantity
    limits: Quantity | None = None


class Hardware(Strict):
    gpu: GpuRequirements | None = None
    cpu: CpuRequirements | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.gpu is None and self.cpu is None:
            raise ValueError("hardware needs gpu or cpu")
        return self


class ModelSource(Strict):
    modelId: ModelId
    sourceUri: SourceUri
    size: Size | None = None
    env: list[EnvVar] = []
    precision: ProfilePrecision | None = None  # seed 003 custom-weight sources carry their precision


class CustomProfile(Strict):
    """Seed 001: engine tuning carried by a template instead of an image."""

    engineArgs: dict[str, Any] = {}
    envVars: dict[str, str] = {}


class TemplateCaching(Strict):
    enabled: bool = False
    env: list[EnvVar] = []


class GatewayRef(Strict):
    name: Annotated[str, Field(min_length=1, max_length=253)]
    namespace: DNSLabel | None = None
    group: str = "gateway.networking.k8s.io"
    kind: str = "Gateway"
    sectionName: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None


class Routing(Strict):
    enabled: bool | None = None
    gatewayRef: GatewayRef | None = None
    pathTemplate: str | None = None
    requestTimeout: str | None = None
    annotations: Annotations | None = None


class Storage(Strict):
    defaultStorageClassName: str | None = None
    pvcHeadroomPercent: Annotated[int, Field(ge=0)] | None = None


# --- AIMService -----------------------------------------------------------------------------------


class CustomModel(Strict):
    baseImage: str
    hardware: Hardware
    modelSources: Annotated[list[ModelSource], Field(min_length=1, max_length=1)]
    type: TemplateType | None = None


class ServiceModel(Strict):
    name: str | None = None
    image: str | None = None
    custom: CustomModel | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(x is not None for x in (self.name, self.image, self.custom)) != 1:
            raise ValueError("set exactly one of model.name, model.image and model.custom")
        return self


class ServiceTemplateRef(Strict):
    name: str | None = None
    allowUnoptimized: bool | None = None


class Overrides(Strict):
    metric: Metric | None = None
    precision: Precision | None = None
    hardware: Hardware | None = None


class PodMetricSource(Strict):
    backend: Literal["opentelemetry"] = "opentelemetry"
    serverAddress: str | None = None
    metricNames: list[str] = []
    query: str | None = None
    operationOverTime: str | None = None


class MetricTarget(Strict):
    type: Literal["Value", "AverageValue", "Utilization"]
    value: str | None = None
    averageValue: str | None = None
    averageUtilization: int | None = None


class PodMetric(Strict):
    metric: PodMetricSource
    target: MetricTarget


class MetricSpec(Strict):
    type: Literal["PodMetric"]
    podmetric: PodMetric | None = None


class AutoScaling(Strict):
    metrics: list[MetricSpec] = []


class ServiceCaching(Strict):
    mode: CachingMode = "Shared"


class AIMServiceSpec(Strict):
    model: ServiceModel
    template: ServiceTemplateRef | None = None
    overrides: Overrides | None = None
    runtimeConfigName: str | None = None
    replicas: Annotated[int, Field(ge=0)] | None = None
    minReplicas: Annotated[int, Field(ge=1)] | None = None
    maxReplicas: Annotated[int, Field(ge=1)] | None = None
    autoScaling: AutoScaling | None = None
    resources: ResourceRequirements | None = None
    env: list[EnvVar] = []
    imagePullSecrets: list[LocalObjectReference] = []
    serviceAccountName: str | None = None
    routing: Routing | None = None
    caching: ServiceCaching | None = None
    cacheModel: bool | None = None
    storage: Storage | None = None


class NamespacedMeta(ObjectMeta):
    namespace: DNSLabel  # type: ignore[assignment]


class AIMService(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMService"]
    metadata: NamespacedMeta
    spec: AIMServiceSpec
    status: dict[str, Any] | None = None


# --- v1alpha1 catalog -------------------------------------------------------------------------------


class TemplateSpecCommon(Strict):
    modelName: str
    aimId: str | None = None
    modelId: str | None = None
    profileId: str | None = None
    metric: Metric | None = None
    precision: Precision | None = None
    type: TemplateType | None = None
    hardware: Hardware | None = None
    runtimeConfigName: str | None = None
    imagePullSecrets: list[LocalObjectReference] = []
    serviceAccountName: str | None = None
    resources: ResourceRequirements | None = None
    modelSources: list[ModelSource] = []
    env: list[EnvVar] = []
    customProfile: CustomProfile | None = None


class ClusterTemplateSpec(TemplateSpecCommon):
    pass


class TemplateSpec(TemplateSpecCommon):
    caching: TemplateCaching | None = None


class AIMClusterServiceTemplate(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMClusterServiceTemplate"]
    metadata: ObjectMeta
    spec: ClusterTemplateSpec
    status: dict[str, Any] | None = None


class AIMServiceTemplate(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMServiceTemplate"]
    metadata: NamespacedMeta
    spec: TemplateSpec
    status: dict[str, Any] | None = None


class CustomTemplateProfile(Strict):
    metric: Metric | None = None
    precision: Precision | None = None


class CustomTemplate(Strict):
    name: Annotated[str, Field(max_length=63)] | None = None
    aimId: str | None = None
    modelId: str | None = None
    hardware: Hardware | None = None
    profile: CustomTemplateProfile | None = None
    type: TemplateType = "unoptimized"
    env: Annotated[list[EnvVar], Field(max_length=64)] = []
    customProfile: CustomProfile | None = None


class ModelCustom(Strict):
    hardware: Hardware | None = None
    type: TemplateType | None = None


class ModelDiscovery(Strict):
    createServiceTemplates: bool = True
    extractMetadata: bool = True


class ModelSpec(Strict):
    image: str
    custom: ModelCustom | None = None
    customTemplates: Annotated[list[CustomTemplate], Field(max_length=16)] = []
    defaultServiceTemplate: str | None = None
    discovery: ModelDiscovery | None = None
    env: list[EnvVar] = []
    imageMetadata: dict[str, Any] | None = None
    imagePullSecrets: list[LocalObjectReference] = []
    modelSources: Annotated[list[ModelSource], Field(max_length=1)] = []
    resources: ResourceRequirements | None = None
    runtimeConfigName: str | None = None
    serviceAccountName: str | None = None


class AIMClusterModel(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMClusterModel"]
    metadata: ObjectMeta
    spec: ModelSpec
    status: dict[str, Any] | None = None


class AIMModel(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMModel"]
    metadata: NamespacedMeta
    spec: ModelSpec
    status: dict[str, Any] | None = None


class LabelPropagation(Strict):
    enabled: bool | None = None
    match: list[str] | None = None


class ModelDiscoveryConfig(Strict):
    autoDiscovery: bool | None = None


class RuntimeConfigSpec(Strict):
    env: list[EnvVar] | None = None
    labelPropagation: LabelPropagation | None = None
    model: ModelDiscoveryConfig | None = None
    routing: Routing | None = None
    storage: Storage | None = None
    defaultStorageClassName: str | None = None  # deprecated upstream; migrated into storage
    pvcHeadroomPercent: Annotated[int, Field(ge=0)] | None = None  # deprecated upstream; migrated into storage


class AIMClusterRuntimeConfig(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMClusterRuntimeConfig"]
    metadata: ObjectMeta
    spec: RuntimeConfigSpec = Field(default_factory=RuntimeConfigSpec)
    status: dict[str, Any] | None = None


class AIMRuntimeConfig(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha1"]
    kind: Literal["AIMRuntimeConfig"]
    metadata: NamespacedMeta
    spec: RuntimeConfigSpec = Field(default_factory=RuntimeConfigSpec)
    status: dict[str, Any] | None = None


# --- v1alpha2 profiles (seed 003; field list fixed by SPEC §1) ----------------------------------------


class ProfileSpecCommon(Strict):
    aimId: str
    modelId: str | None = None
    profileId: str | None = None
    engine: Literal["vllm", "sglang"] = "vllm"
    metric: Metric | None = None
    precision: ProfilePrecision | None = None
    type: ProfileType = "unoptimized"
    primary: bool = False
    acceleratorModel: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    acceleratorType: Literal["gpu", "cpu"] | None = None
    acceleratorCount: Annotated[int, Field(ge=0)] | None = None
    resources: ResourceRequirements | None = None
    image: Annotated[str, Field(min_length=1)]
    engineArgs: dict[str, Any] = {}
    engineEnv: dict[str, str] = {}
    modelSources: list[ModelSource] = []
    env: list[EnvVar] = []
    imagePullSecrets: list[LocalObjectReference] = []
    serviceAccountName: str | None = None


class ClusterProfileSpec(ProfileSpecCommon):
    pass


class ProfileCaching(Strict):
    enabled: bool = False


class ProfileSpec(ProfileSpecCommon):
    caching: ProfileCaching | None = None


class AIMClusterProfile(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha2"]
    kind: Literal["AIMClusterProfile"]
    metadata: ObjectMeta
    spec: ClusterProfileSpec
    status: dict[str, Any] | None = None


class AIMProfile(Strict):
    apiVersion: Literal["aim.eai.amd.com/v1alpha2"]
    kind: Literal["AIMProfile"]
    metadata: NamespacedMeta
    spec: ProfileSpec
    status: dict[str, Any] | None = None
