"""The Gateway API HTTPRoute of a routed service (SPEC §3 "HTTPRoute", reference/kserve-keda-gateway.md §3).

Each routing field is the service's, else the merged runtime config's (aim-operator-behavior.md §2); the
gateway falls back to the overlay's `settings.routing.defaultGatewayRef`. Route annotations are the runtime
config's with the service's merged on top (as the AIM CRDs document; the operator ignores the service's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aimgen.diagnostics import Diagnostic, SourceRef, error
from aimgen.inputs.models.aim import GatewayRef
from aimgen.kube.names import predictor_name, route_name, sanitize_label_value
from aimgen.render.context import ServiceContext
from aimgen.render.manifest import SYNC_WAVE, Manifest
from aimgen.render.part import Part
from aimgen.render.paths import DEFAULT_TEMPLATE, PathTemplateError, render_path

API_VERSION = "gateway.networking.k8s.io/v1"
BACKEND_PORT = 80  # KServe's predictor Service port (targetPort is the container's 8000)
ROUTE_SYNC_WAVE = "1"  # after the InferenceService (wave 0): the route exposes a model once it is served
PARENT_REF_KEYS = ("group", "kind", "name", "namespace", "sectionName", "port")

# Gateway API Duration (GEP-2257): up to four <1-5 digits><unit> parts, units h, m, s, ms.
GATEWAY_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")
_DURATION_INPUT = re.compile(r"^(?:[0-9]+(?:h|ms|m|s))+$")
_DURATION_PART = re.compile(r"([0-9]+)(h|ms|m|s)")
_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


@dataclass(frozen=True)
class Setting:
    """A routing value and where it was written (None: not set anywhere)."""

    value: Any
    at: SourceRef | None


def routing_setting(ctx: ServiceContext, field: str) -> Setting:
    """The service's `spec.routing.<field>`, else the merged runtime config's."""
    own = ctx.decision.service.spec.routing
    if own is not None and getattr(own, field) is not None:
        return Setting(getattr(own, field), ctx.source.at("spec", "routing", field))
    config = ctx.decision.runtime_config.routing
    if config is not None and getattr(config, field) is not None:
        return Setting(getattr(config, field), ctx.decision.runtime_config_at("routing", field))
    return Setting(None, None)


def render_http_route(ctx: ServiceContext) -> Part:
    """The HTTPRoute of a service whose routing is enabled (by the service or its runtime config)."""
    enabled = routing_setting(ctx, "enabled")
    if not enabled.value:
        return Part()
    diagnostics: list[Diagnostic] = []
    gateway = routing_setting(ctx, "gatewayRef")
    ref: GatewayRef | None = gateway.value or ctx.settings.routing.defaultGatewayRef
    if ref is None:
        diagnostics.append(error(
            "GatewayNotConfigured", "routing is enabled but no gateway is configured: set spec.routing.gatewayRef, "
            f"routing.gatewayRef in runtime config {ctx.decision.runtime_config_name!r}, or the overlay's "
            "settings.routing.defaultGatewayRef", enabled.at or ctx.source.at("spec", "routing")))
    template = routing_setting(ctx, "pathTemplate")
    path = ""
    try:
        path = render_path(template.value if template.value is not None else DEFAULT_TEMPLATE, service_object(ctx))
    except PathTemplateError as exc:
        diagnostics.append(error("PathTemplateInvalid", str(exc), template.at or ctx.source.at("metadata", "name")))
    timeout = routing_setting(ctx, "requestTimeout")
    request_timeout = None
    if timeout.value is not None:
        try:
            request_timeout = gateway_duration(timeout.value)
        except ValueError as exc:
            diagnostics.append(error("InvalidRequestTimeout", str(exc), timeout.at))
    if diagnostics or ref is None:
        return Part(diagnostics=diagnostics)
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "filters": [{"type": "URLRewrite",
                     "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
        "backendRefs": [{"kind": "Service", "name": predictor_name(ctx.isvc_name), "namespace": ctx.namespace,
                         "port": BACKEND_PORT}],
    }
    if request_timeout is not None:
        rule["timeouts"] = {"request": request_timeout}
    labels = {**ctx.labels, "app.kubernetes.io/component": "routing",
              "aim.eai.amd.com/service": sanitize_label_value(ctx.name)}
    obj = {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {
            "name": route_name(ctx.name, ctx.namespace),
            "namespace": ctx.namespace,
            "labels": dict(sorted(labels.items())),
            "annotations": dict(sorted(route_annotations(ctx).items())),
        },
        "spec": {"parentRefs": [parent_ref(ref)], "rules": [rule]},
    }
    origins = tuple((field, at) for field, at in (("spec.parentRefs", gateway.at),
                                                   ("spec.rules.matches.path", template.at)) if at is not None)
    return Part(manifests=[Manifest(obj, ctx.key, ctx.source, origins)])


def service_object(ctx: ServiceContext) -> dict[str, Any]:
    """The AIMService as the plain object path templates are evaluated over (its document, as written)."""
    return ctx.decision.service.model_dump(by_alias=True, exclude_unset=True)


def route_annotations(ctx: ServiceContext) -> dict[str, str]:
    """Sync wave, then the runtime config's routing annotations, then the service's (per key)."""
    config = ctx.decision.runtime_config.routing
    own = ctx.decision.service.spec.routing
    return {SYNC_WAVE: ROUTE_SYNC_WAVE, **((config and config.annotations) or {}), **((own and own.annotations) or {})}


def parent_ref(ref: GatewayRef) -> dict[str, Any]:
    """The gatewayRef as written (fields left unset keep the Gateway API defaults), in a fixed key order."""
    given = ref.model_dump(exclude_unset=True)
    return {key: given[key] for key in PARENT_REF_KEYS if given.get(key) is not None}


def gateway_duration(text: str) -> str:
    """A request timeout in Gateway API duration syntax, written as Go's Duration.String() does (`120s` ->
    `2m0s`, the operator's rendering) with milliseconds as their own part (`1500ms` -> `1s500ms`)."""
    value = text.strip()
    if not _DURATION_INPUT.match(value):
        if re.search(r"[0-9]\.[0-9]", value):
            hint = "fractions are not allowed in Gateway API durations; write 1s500ms instead of 1.5s"
        elif value.isdigit():
            hint = f"a bare number has no unit; write {value}s for seconds"
        else:
            hint = "use whole numbers with the units h, m, s and ms, for example 120s, 2m or 1m30s"
        raise ValueError(f"request timeout {text!r} is not a duration: {hint}")
    total = sum(int(n) * _UNIT_MS[unit] for n, unit in _DURATION_PART.findall(value))
    hours, rest = divmod(total, _UNIT_MS["h"])
    minutes, rest = divmod(rest, _UNIT_MS["m"])
    seconds, millis = divmod(rest, _UNIT_MS["s"])
    if total < _UNIT_MS["s"]:
        out = f"{millis}ms" if millis else "0s"
    else:
        out = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{seconds}s" + (
            f"{millis}ms" if millis else "")
    if not GATEWAY_DURATION.match(out):
        raise ValueError(f"request timeout {text!r} is too long for a Gateway API duration (at most 99999h)")
    return out
