"""Route path templates (SPEC §3, seed 001 "Custom Paths"): rendering, encoding and every failure."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimgen.render.paths import DEFAULT_TEMPLATE, MAX_PATH, PathTemplateError, render_path

# HTTPRoute CRD (gateway-api v1.6.1) rules on an Exact/PathPrefix value, restated independently.
CRD_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")


def crd_accepts(path: str) -> bool:
    return (path.startswith("/") and CRD_CHARS.match(path) is not None and len(path) <= 1024
            and not any(bad in path for bad in ("//", "/./", "/../", "%2f", "%2F", "#"))
            and not path.endswith(("/..", "/.")))


def svc(name: str = "qwen-chat", namespace: str = "ml-team", labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService", "metadata": meta,
            "spec": {"model": {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}, **spec}}


@pytest.mark.parametrize(("template", "obj", "expected"), [
    (DEFAULT_TEMPLATE, svc(), "/ml-team/qwen-chat"),
    ("/{.metadata.namespace}/chat/{.metadata.name}", svc(), "/ml-team/chat/qwen-chat"),
    ("/{.metadata.namespace}/{.metadata.labels['team']}/inference", svc(labels={"team": "Alpha"}),
     "/ml-team/alpha/inference"),
    ('/x/{.metadata.labels["app.kubernetes.io/name"]}', svc(labels={"app.kubernetes.io/name": "Qwen_3"}),
     "/x/qwen_3"),
    ("/models/{.metadata.name}", svc(name="llama.v3"), "/models/llama.v3"),
    ("/integration/gpu-cached/{.metadata.name}", svc(name="test-gpu-cached"),
     "/integration/gpu-cached/test-gpu-cached"),
    # characters outside RFC 3986's unreserved set are percent-encoded (upper-case hex), `/` is kept
    ("/img/{.spec.model.image}", svc(), "/img/amdenterpriseai/aim-qwen-qwen3-32b%3A0.8.5"),
    ("/{.metadata.annotations['title']}", svc(annotations={"title": "Chat Bot #1 für alle"}),
     "/chat%20bot%20%231%20f%C3%BCr%20alle"),
    ("/{.metadata.annotations['q']}", svc(annotations={"q": "50%/a?b=c"}), "/50%25/a%3Fb%3Dc"),
    ("/r/{.spec.replicas}", svc(replicas=3), "/r/3"),
    ("/{.spec.env[?(@.name=='TEAM')].value}", svc(env=[{"name": "TEAM", "value": "Blue"}]), "/blue"),
    ("/{.kind}/{.metadata.name}", svc(), "/aimservice/qwen-chat"),
    ("{.metadata.namespace}/{.metadata.name}/", svc(), "/ml-team/qwen-chat"),  # leading / added, trailing dropped
    ("/Chat/{ .metadata.name }", svc(), "/chat/qwen-chat"),
    ("/a%3Ab/{.metadata.name}", svc(), "/a%3Ab/qwen-chat"),  # escapes already in the template are kept
])
def test_renders(template: str, obj: dict[str, Any], expected: str) -> None:
    assert render_path(template, obj) == expected


@pytest.mark.parametrize(("template", "obj", "message"), [
    ("/{.metadata.labels['team']}", svc(), 'label "team" not found on this service (it has no labels)'),
    ("/{.metadata.labels['team']}", svc(labels={"app": "x", "cost-center": "c"}),
     'label "team" not found on this service (its labels: app, cost-center)'),
    ("/{.metadata.annotations['owner']}", svc(), 'annotation "owner" not found'),
    ("/{.spec.routing.pathTemplate}", svc(), "field .spec.routing not found on this service (.spec has no routing)"),
    ("/{.spec.env[2].value}", svc(env=[{"name": "A", "value": "1"}]), "field .spec.env[2] not found"),
    ("/{.metadata.labels.*}", svc(labels={"a": "1", "b": "2"}), "selects 2 values; it must select exactly one"),
    ("/{.metadata}", svc(), "selects an object, not a single value"),
    ("/{.spec.env}", svc(env=[{"name": "A", "value": "1"}]), "selects a list"),
    ("/{.metadata.labels['team'}", svc(), "is not a valid JSONPath expression"),
    ("/{}", svc(), "the placeholder is empty"),
    ("/{.metadata.labels['team']}", svc(labels={"team": ""}), "is empty on this service"),
    ("/a/{.metadata.name", svc(), "unbalanced brace"),
    ("/a}/{.metadata.name}", svc(), "unbalanced brace"),
    ("", svc(), "the path template is empty"),
    ("/", svc(), "is empty: a route on '/' would claim every path"),
    ("/a//{.metadata.name}", svc(), "contains '//'"),
    ("/a/./{.metadata.name}", svc(), "contains '/./'"),
    ("/a/../{.metadata.name}", svc(), "contains '/../'"),
    ("/a%2F{.metadata.name}", svc(), "contains '%2F'"),
    ("/{.metadata.annotations['p']}/x", svc(annotations={"p": "/lead"}), "contains '//'"),
    ("/x/{.metadata.annotations['p']}", svc(annotations={"p": ".."}), "ends in a '.' or '..' segment"),
    ("/{.metadata.name}/" + "a" * 200, svc(), f"characters long (at most {MAX_PATH})"),
])
def test_failures_say_why(template: str, obj: dict[str, Any], message: str) -> None:
    with pytest.raises(PathTemplateError) as info:
        render_path(template, obj)
    assert message in str(info.value)


def test_paths_over_200_characters_are_refused() -> None:
    label = "l" * 63  # the longest label value Kubernetes allows
    obj = svc(name="n" * 63, labels={"team": label})
    assert len(render_path("/{.metadata.labels['team']}/{.metadata.name}", obj)) == 1 + 63 + 1 + 63
    three = "/{.metadata.labels['team']}" * 3 + "/{.metadata.name}"
    with pytest.raises(PathTemplateError, match="is 256 characters long"):
        render_path(three, obj)


def test_a_200_character_path_is_accepted() -> None:
    obj = svc(name="n" * (200 - len("/ml-team/")))
    assert len(render_path(DEFAULT_TEMPLATE, obj)) == MAX_PATH


# --- properties --------------------------------------------------------------------------------------------

VALUES = st.text(min_size=1, max_size=80)
LITERALS = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)


def _lowercase_outside_escapes(path: str) -> bool:
    bare = re.sub(r"%[0-9A-F]{2}", "", path)
    return bare == bare.lower()


@settings(max_examples=300, deadline=None)
@given(prefix=LITERALS, middle=LITERALS, value=VALUES)
def test_every_rendered_path_is_one_the_crd_accepts(prefix: str, middle: str, value: str) -> None:
    obj = svc(annotations={"v": value})
    template = f"{prefix}{{.metadata.annotations['v']}}{middle}{{.metadata.name}}"
    try:
        path = render_path(template, obj)
    except PathTemplateError:
        return
    assert crd_accepts(path), path
    assert len(path) <= MAX_PATH
    assert _lowercase_outside_escapes(path)
    assert render_path(path, obj) == path  # encoding a rendered path again changes nothing


@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_values_are_lowercased_and_percent_encoded_per_rfc_3986(value: str) -> None:
    obj = svc(annotations={"v": value})
    try:
        path = render_path("/p/{.metadata.annotations['v']}", obj)
    except PathTemplateError:
        return
    text = value.strip().lower()
    assert path == "/p/" + quote(text, safe="/").removesuffix("/")
    assert unquote(path) == "/p/" + text.removesuffix("/")


@settings(max_examples=200, deadline=None)
@given(name=st.from_regex(r"\A[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?\Z"),
       namespace=st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z"))
def test_the_default_path_of_any_valid_service_is_its_namespace_and_name(name: str, namespace: str) -> None:
    obj = svc(name=name, namespace=namespace)
    expected = f"/{namespace}/{name}"
    if "/../" in expected + "/" or "/./" in expected + "/":
        return  # a name of only dots is not a valid object name
    assert render_path(DEFAULT_TEMPLATE, obj) == expected
