"""CRD -> JSON Schema conversion and the core-kind schemas from kubernetes-validate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aimgen.diagnostics import AimgenError
from aimgen.validate.core import core_schemas, kubernetes_version, object_meta, standalone
from aimgen.validate.crd import crd_schemas, strict_schema
from aimgen.validate.layout import gvk_path, schema_path
from aimgen.validate.store import SchemaStore


def crd(versions: list[dict[str, Any]], group: str = "example.com", kind: str = "Widget") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {"group": group, "names": {"kind": kind}, "versions": versions},
    }


OBJ = {
    "type": "object",
    "description": "d",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "nullable": True},
                "open": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"a": {"type": "string"}},
                },
                "free": {"type": "object", "additionalProperties": {"type": "string"}},
                "either": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}},
                    "oneOf": [{"properties": {"type": {"enum": ["A"]}}}, {"required": ["type"]}],
                },
                "embedded": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object"}},
                },
            },
        },
    },
}


def test_layout_matches_kubeconform_template_variables() -> None:
    assert schema_path("v1", "ConfigMap") == "v1/configmap_v1.json"
    assert schema_path("batch/v1", "Job") == "batch/job_v1.json"
    assert (
        schema_path("serving.kserve.io/v1beta1", "InferenceService")
        == "serving.kserve.io/inferenceservice_v1beta1.json"
    )
    assert gvk_path("", "v1", "Namespace") == "v1/namespace_v1.json"


def test_strict_schema_closes_structural_objects_only() -> None:
    schema = strict_schema(OBJ)
    spec = schema["properties"]["spec"]
    assert schema["additionalProperties"] is False  # the root too
    assert spec["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]["open"]  # preserve-unknown-fields stays open
    assert spec["properties"]["free"]["additionalProperties"] == {"type": "string"}
    assert all("additionalProperties" not in b for b in spec["properties"]["either"]["oneOf"])
    assert spec["properties"]["size"]["type"] == ["integer", "null"]
    assert set(spec["properties"]["embedded"]["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert "description" not in schema


def test_strict_schema_validates_like_the_api_server() -> None:
    validator = jsonschema.Draft4Validator(strict_schema(OBJ))
    ok = {
        "spec": {
            "size": None,
            "open": {"a": "x", "extra": 1},
            "either": {"type": "B"},
            "embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}},
        }
    }
    assert list(validator.iter_errors(ok)) == []
    assert [e.validator for e in validator.iter_errors({"spec": {"sise": 1}})] == ["additionalProperties"]


def test_root_metadata_becomes_object_meta() -> None:
    meta = object_meta(kubernetes_version())
    schema = strict_schema({"type": "object", "properties": {"metadata": {"type": "object"}}}, meta)
    assert schema["properties"]["metadata"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    validator = jsonschema.Draft4Validator(schema)
    assert list(validator.iter_errors({"metadata": {"name": "a", "labels": {"x": "y"}}})) == []
    errors = {e.validator for e in validator.iter_errors({"metadata": {"nmae": "a", "labels": {"x": 1}}})}
    assert errors == {"additionalProperties", "type"}


def test_one_schema_per_served_version() -> None:
    versions = [
        {"name": "v1", "served": True, "schema": {"openAPIV3Schema": OBJ}},
        {"name": "v2", "served": False, "schema": {"openAPIV3Schema": OBJ}},
        {"name": "v3", "schema": {"openAPIV3Schema": OBJ}},
    ]
    assert [path for path, _ in crd_schemas(crd(versions))] == [
        "example.com/widget_v1.json",
        "example.com/widget_v3.json",
    ]


def test_legacy_v1beta1_validation_block() -> None:
    legacy = crd([])
    legacy["spec"].update(versions=None, version="v1alpha1", validation={"openAPIV3Schema": OBJ})
    assert [path for path, _ in crd_schemas(legacy)] == ["example.com/widget_v1alpha1.json"]


@pytest.mark.parametrize(
    ("path", "open_at"),
    [
        ("serving.kserve.io/inferenceservice_v1beta1.json", ("status",)),
        ("opentelemetry.io/opentelemetrycollector_v1beta1.json", ("spec", "config")),
    ],
)
def test_real_crds_keep_preserved_objects_open(schema_dir: Path, path: str, open_at: tuple[str, ...]) -> None:
    node = json.loads((schema_dir / path).read_text())
    assert node["additionalProperties"] is False
    for step in open_at:
        node = node["properties"][step]
    assert node["x-kubernetes-preserve-unknown-fields"] is True and "additionalProperties" not in node


def test_core_schemas_are_standalone_and_strict(tmp_path: Path) -> None:
    schemas = dict(core_schemas(kubernetes_version("1.31")))
    for rel in (
        "v1/configmap_v1.json",
        "v1/persistentvolumeclaim_v1.json",
        "batch/job_v1.json",
        "v1/namespace_v1.json",
        "v1/service_v1.json",
        "apps/deployment_v1.json",
    ):
        schema = schemas[rel]
        assert "$id" not in schema and schema["additionalProperties"] is False
        text = json.dumps(schema)
        assert "_definitions.json" not in text and "https://kubernetes.io" not in text
        jsonschema.validators.validator_for(schema).check_schema(schema)
    assert "meta/deleteoptions_v1.json" not in schemas  # shared by every group: not a kind of its own


def test_standalone_inlines_only_what_is_reached() -> None:
    defs = {"A": {"$ref": "#/$defs/B"}, "B": {"type": "string", "description": "x"}, "C": {"type": "integer"}}
    out = standalone({"properties": {"a": {"$ref": "/api/_definitions.json#/$defs/A"}}, "$id": "x"}, defs)
    assert out == {
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"type": "string"}},
    }


def test_kubernetes_version_picks_the_newest_not_newer() -> None:
    assert kubernetes_version("1.31") == "1.31.0"
    assert kubernetes_version("v1.31.7") == "1.31.0"
    assert kubernetes_version("1.99") == kubernetes_version()
    with pytest.raises(AimgenError):
        kubernetes_version("1.2")


def test_draft4_formats_match_kubeconform(tmp_path: Path) -> None:
    """CRD schemas (draft 4) assert formats like kubeconform: Go or ISO-8601 durations, RFC 3339, IPs."""
    props = {name: {"type": "string", "format": name} for name in ("duration", "date-time", "ipv4", "ipv6", "int32")}
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "thing_v1.json").write_text(json.dumps({"type": "object", "properties": props}))
    validator = SchemaStore(tmp_path).validator("example.com/v1", "Thing")
    assert validator is not None

    def bad(**values: str) -> set[str]:
        return {".".join(map(str, e.absolute_path)) for e in validator.iter_errors(values)}

    good = {"duration": ["1h2m3.5s", "300ms", "0", "-1.5h", "PT1H30M", "P1W", "P1DT2H"],
            "date-time": ["2025-01-02T03:04:05Z", "2025-01-02t03:04:05.123+02:00"],
            "ipv4": ["10.0.0.1"], "ipv6": ["::1"], "int32": ["anything"]}
    for name, values in good.items():
        for value in values:
            assert bad(**{name: value}) == set(), (name, value)
    wrong = {"duration": ["1", "5 seconds", "1d", "P", "PT", "P1H", "PT1D"],
             "date-time": ["2025-01-02", "2025-13-02T03:04:05Z", "2025-01-02T03:04:05"],
             "ipv4": ["300.1.1.1"], "ipv6": ["1.2.3.4"]}
    for name, values in wrong.items():
        for value in values:
            assert bad(**{name: value}) == {name}, (name, value)
