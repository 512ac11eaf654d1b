"""The API-server rules that schemas cannot express, one behaviour per test."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aimgen.validate.finding import field_path
from aimgen.validate.rules import rule_findings


def found(obj: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.code, field_path(f.path)) for f in rule_findings(obj)}


def messages(obj: dict[str, Any]) -> list[str]:
    return [f.message for f in rule_findings(obj)]


def obj(
    kind: str, api_version: str = "v1", name: str = "x", namespace: str | None = "team-a", **fields: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    meta.update(fields.pop("metadata", {}))
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


# --- metadata ---------------------------------------------------------------------------------------------


def test_name_rules_per_kind() -> None:
    assert found(obj("ConfigMap", name="a.b-c")) == set()
    assert found(obj("Service", name="1abc")) == {("InvalidName", "metadata.name")}
    assert found(obj("Namespace", name="a.b", namespace=None)) == {("InvalidName", "metadata.name")}
    assert found(obj("Job", "batch/v1", name="j" * 64)) == {("NameTooLong", "metadata.name")}
    assert found(obj("ConfigMap", name="c" * 254)) == {("NameTooLong", "metadata.name")}
    assert found(obj("ConfigMap", name="")) == {("RequiredFieldMissing", "metadata.name")}
    assert found(obj("ConfigMap", namespace="Team_A")) == {("InvalidName", "metadata.namespace")}


def test_label_keys_and_values() -> None:
    labels = {
        "ok.example.com/a_b.c": "V-1.x",
        "a/b/c": "v",
        "/a": "v",
        "Bad.Prefix/a": "v",
        "k": "-v",
        "long": "v" * 64,
        "n" * 64: "v",
        "empty": "",
    }
    assert found(obj("ConfigMap", metadata={"labels": labels})) == {
        ("InvalidLabel", f"metadata.labels['{key}']")
        if "/" in key or "." in key
        else ("InvalidLabel", f"metadata.labels.{key}")
        for key in ("a/b/c", "/a", "Bad.Prefix/a", "k", "long", "n" * 64)
    }


def test_annotations_keys_are_lower_cased_and_total_size_limited() -> None:
    assert found(obj("ConfigMap", metadata={"annotations": {"Example.COM/Key": "v"}})) == set()
    assert found(obj("ConfigMap", metadata={"annotations": {"a b": "v"}})) == {
        ("InvalidAnnotation", "metadata.annotations['a b']")
    }
    big = {"a": "x" * (256 * 1024 - 1)}
    assert found(obj("ConfigMap", metadata={"annotations": big})) == set()
    big["b"] = "y"
    assert found(obj("ConfigMap", metadata={"annotations": big})) == {
        ("AnnotationsTooLarge", "metadata.annotations")
    }


def test_pod_template_labels_are_checked() -> None:
    job = obj("Job", "batch/v1", spec={"template": {"metadata": {"labels": {"a": "b c"}}}})
    assert found(job) == {("InvalidLabel", "spec.template.metadata.labels.a")}


# --- HTTPRoute --------------------------------------------------------------------------------------------


def route(*rules: dict[str, Any]) -> dict[str, Any]:
    return obj("HTTPRoute", "gateway.networking.k8s.io/v1", spec={"rules": list(rules)})


REWRITE = {
    "type": "URLRewrite",
    "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
}
BACKEND = {"name": "svc", "port": 80}


def path_rule(value: str, kind: str = "PathPrefix") -> dict[str, Any]:
    return {"matches": [{"path": {"type": kind, "value": value}}], "backendRefs": [BACKEND]}


def test_path_values() -> None:
    at = "spec.rules[0].matches[0].path.value"
    for good in ("/", "/ns/svc", "/a-b/c.d/~x/%20y/@:!$&'()*+,;="):
        assert found(route(path_rule(good))) == set(), good
    for bad, rule in [
        ("ns/x", "start with '/'"),
        ("/a//b", "'//'"),
        ("/a/./b", "'/./'"),
        ("/a/../b", "'/../'"),
        ("/a%2fb", "'%2f'"),
        ("/a%2Fb", "'%2F'"),
        ("/a#b", "'#'"),
        ("/a/..", "end with '/..'"),
        ("/a/.", "end with '/.'"),
        ("/a b", "valid characters"),
        ("/%zz", "valid characters"),
    ]:
        assert found(route(path_rule(bad))) == {("CELRuleViolation", at)}, bad
        assert any(rule in m for m in messages(route(path_rule(bad)))), bad
    assert found(route(path_rule("no/slash", "RegularExpression"))) == set()
    assert found(route({"matches": [{"path": {"value": "rel"}}]})) == {
        ("CELRuleViolation", at)
    }  # type defaults


def test_service_backends_need_a_port() -> None:
    assert found(route({"backendRefs": [{"name": "svc"}]})) == {
        ("CELRuleViolation", "spec.rules[0].backendRefs[0].port")
    }
    assert found(route({"backendRefs": [{"name": "b", "group": "example.com", "kind": "Bucket"}]})) == set()
    mirror = {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "m"}}}
    assert found(route({"filters": [mirror], "backendRefs": [BACKEND]})) == {
        ("CELRuleViolation", "spec.rules[0].filters[0].requestMirror.backendRef.port")
    }


def test_replace_prefix_match_needs_exactly_one_path_prefix_match() -> None:
    assert found(route({"filters": [REWRITE], "backendRefs": [BACKEND]})) == set()  # defaulted PathPrefix /
    assert found(route({**path_rule("/a"), "filters": [REWRITE]})) == set()
    two = {"matches": [{"path": {"value": "/a"}}, {"path": {"value": "/b"}}], "filters": [REWRITE]}
    assert found(route(two)) == {("CELRuleViolation", "spec.rules[0].matches")}
    exact = {**path_rule("/a", "Exact"), "filters": [REWRITE]}
    assert found(route(exact)) == {("CELRuleViolation", "spec.rules[0].matches")}
    in_backend = {**path_rule("/a", "Exact"), "backendRefs": [{**BACKEND, "filters": [REWRITE]}]}
    assert found(route(in_backend)) == {("CELRuleViolation", "spec.rules[0].matches")}
    redirect = {
        "type": "RequestRedirect",
        "requestRedirect": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
    }
    assert messages(route({"matches": [], "filters": [redirect]})) == [
        "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"
    ]


def test_filter_shapes() -> None:
    mismatched = {"type": "URLRewrite", "requestRedirect": {}}
    assert found(route({"filters": [mismatched]})) == {
        ("CELRuleViolation", "spec.rules[0].filters[0].requestRedirect"),
        ("CELRuleViolation", "spec.rules[0].filters[0]"),
    }
    assert found(route({"filters": [REWRITE, REWRITE], "backendRefs": [BACKEND]})) == {
        ("CELRuleViolation", "spec.rules[0].filters")
    }
    redirect = {"type": "RequestRedirect", "requestRedirect": {"statusCode": 301}}
    assert (
        len(messages(route({"filters": [redirect, {**REWRITE, "urlRewrite": {}}], "backendRefs": [BACKEND]})))
        == 2
    )
    wrong_type = {
        "type": "URLRewrite",
        "urlRewrite": {"path": {"type": "ReplaceFullPath", "replacePrefixMatch": "/"}},
    }
    assert found(route({"filters": [wrong_type]})) == {
        ("CELRuleViolation", "spec.rules[0].filters[0].urlRewrite.path"),
        ("CELRuleViolation", "spec.rules[0].filters[0].urlRewrite.path.type"),
    }


def test_timeouts_and_match_total() -> None:
    def timeouts(request: str, backend: str) -> dict[str, Any]:
        return route({"backendRefs": [BACKEND], "timeouts": {"request": request, "backendRequest": backend}})

    assert found(timeouts("2m0s", "120s")) == set()
    assert found(timeouts("0s", "1h")) == set()  # 0s: no request timeout
    assert found(timeouts("1m", "1m1ms")) == {("CELRuleViolation", "spec.rules[0].timeouts.backendRequest")}
    assert found(timeouts("1.5s", "1h")) == set()  # the pattern is the schema's to report
    many = [
        {"matches": [{"path": {"value": f"/{i}-{j}"}} for j in range(9)], "backendRefs": [BACKEND]}
        for i in range(15)
    ]
    assert found(route(*many)) == {("CELRuleViolation", "spec.rules")}
    assert found(route(*many[:14])) == set()


# --- ScaledObject -----------------------------------------------------------------------------------------


def scaled(name: str = "chat-predictor", **spec: Any) -> dict[str, Any]:
    trigger = {"type": "external", "metadata": {"targetValue": "1"}}
    return obj("ScaledObject", "keda.sh/v1alpha1", name=name, spec={"triggers": [trigger], **spec})


def test_replica_bounds() -> None:
    assert found(scaled(minReplicaCount=2, maxReplicaCount=2)) == set()
    assert found(scaled(minReplicaCount=3, maxReplicaCount=2)) == {
        ("CELRuleViolation", "spec.minReplicaCount")
    }
    assert found(scaled(minReplicaCount=101)) == {
        ("CELRuleViolation", "spec.minReplicaCount")
    }  # default max 100
    assert found(scaled(minReplicaCount=0, idleReplicaCount=0)) == set()  # KEDA counts min 0 as 1
    assert found(scaled(minReplicaCount=2, idleReplicaCount=2)) == {
        ("AdmissionRuleViolation", "spec.idleReplicaCount")
    }
    assert found(scaled(idleReplicaCount=0)) == {("AdmissionRuleViolation", "spec.idleReplicaCount")}
    assert found(scaled(minReplicaCount="2", maxReplicaCount=1)) == set()  # wrong types are the schema's


def test_hpa_name_length() -> None:
    assert found(scaled(name="n" * 54)) == set()
    assert found(scaled(name="n" * 55)) == {("NameTooLong", "metadata.name")}
    explicit = {"horizontalPodAutoscalerConfig": {"name": "short"}}
    assert found(scaled(name="n" * 60, advanced=explicit)) == set()
    explicit = {"horizontalPodAutoscalerConfig": {"name": "h" * 64}}
    assert found(scaled(advanced=explicit)) == {
        ("NameTooLong", "spec.advanced.horizontalPodAutoscalerConfig.name")
    }


def test_triggers() -> None:
    assert found(scaled(triggers=[])) == {("AdmissionRuleViolation", "spec.triggers")}
    named = [{"type": "cpu", "name": "a", "metadata": {}}, {"type": "memory", "name": "a", "metadata": {}}]
    assert found(scaled(triggers=named)) == {("AdmissionRuleViolation", "spec.triggers[1].name")}


# --- InferenceService -------------------------------------------------------------------------------------


def isvc(name: str, namespace: str = "team-a", **predictor: Any) -> dict[str, Any]:
    return obj(
        "InferenceService",
        "serving.kserve.io/v1beta1",
        name=name,
        namespace=namespace,
        spec={"predictor": predictor},
    )


def test_inference_service_names() -> None:
    assert found(isvc("a" * 45)) == set()  # 52 - len("team-a") = 46
    assert found(isvc("a" * 47)) == {("NameTooLong", "metadata.name")}
    assert found(isvc("a" * 48, namespace="ns")) == set()
    assert found(isvc("a" * 49, namespace="ns")) == {("NameTooLong", "metadata.name")}
    assert found(isvc("a.b")) == {("InvalidName", "metadata.name")}
    assert found(isvc("9a")) == {("InvalidName", "metadata.name")}


def test_inference_service_replicas_and_autoscaler() -> None:
    assert found(isvc("a", minReplicas=2, maxReplicas=0)) == set()  # max 0: no maximum
    assert found(isvc("a", minReplicas=-1)) == {("AdmissionRuleViolation", "spec.predictor.minReplicas")}
    assert found(isvc("a", minReplicas=3, maxReplicas=2)) == {
        ("AdmissionRuleViolation", "spec.predictor.minReplicas")
    }
    annotated = isvc("a")
    annotated["metadata"]["annotations"] = {"serving.kserve.io/autoscalerClass": "external"}
    assert found(annotated) == set()
    annotated["metadata"]["annotations"] = {"serving.kserve.io/autoscalerClass": "kpa"}
    assert found(annotated) == {
        ("AdmissionRuleViolation", "metadata.annotations['serving.kserve.io/autoscalerClass']")
    }


# --- ConfigMap --------------------------------------------------------------------------------------------


def test_configmap_keys_and_size() -> None:
    assert found(obj("ConfigMap", data={"a-b_c.d": "v"}, binaryData={"bin": "AAAA"})) == set()
    bad = {"a b": "v", "..x": "v", ".": "v", "k" * 254: "v"}
    assert {p for _, p in found(obj("ConfigMap", data=bad))} == {
        "data['a b']",
        "data['..x']",
        "data['.']",
        f"data.{'k' * 254}",
    }
    assert found(obj("ConfigMap", data={"a": "v"}, binaryData={"a": "AAAA"})) == {
        ("InvalidConfigMapKey", "binaryData.a")
    }
    half = "x" * (512 * 1024)
    assert found(obj("ConfigMap", data={"a": half, "b": half})) == set()
    assert found(obj("ConfigMap", data={"a": half, "b": half, "c": "x"})) == {("ConfigMapTooLarge", "data")}
    binary = base64.b64encode(b"\0" * (512 * 1024 + 1)).decode()
    assert found(obj("ConfigMap", data={"a": half}, binaryData={"b": binary})) == {
        ("ConfigMapTooLarge", "data")
    }


# --- robustness -------------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "rules",
                    "matches",
                    "path",
                    "value",
                    "type",
                    "filters",
                    "backendRefs",
                    "metadata",
                    "name",
                    "namespace",
                    "labels",
                    "annotations",
                    "triggers",
                    "data",
                    "minReplicaCount",
                    "timeouts",
                    "request",
                    "backendRequest",
                    "urlRewrite",
                    "predictor",
                    "advanced",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)
_kinds = st.sampled_from(
    [
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("serving.kserve.io/v1beta1", "InferenceService"),
        ("v1", "ConfigMap"),
        ("batch/v1", "Job"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(_kinds, st.dictionaries(st.sampled_from(["metadata", "spec", "data", "binaryData"]), _json))
def test_rules_never_raise_on_malformed_objects(kind: tuple[str, str], body: dict[str, Any]) -> None:
    rule_findings({"apiVersion": kind[0], "kind": kind[1], **body})
