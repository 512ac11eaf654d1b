"""The specialised emitter writes exactly PyYAML's CSafeDumper bytes, and they load back identically."""

from __future__ import annotations

import math
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aimgen.kube.yamlout import dump_yaml, pyyaml_dump

# Strings whose quoting YAML makes subtle: implicit types, indicators, edge spaces, breaks, escapes.
TRICKY = [
    "", " ", "a", "1", "-1", "+1", "0x1F", "0o17", "1_000", "1.5", "1e3", ".5", "190:20:30", "2024-01-01",
    "2001-12-14t21:59:43.10-05:00", "true", "True", "TRUE", "false", "yes", "No", "on", "OFF", "y", "n", "null",
    "Null", "~", ".inf", "-.Inf", ".NaN", "<<", "=", "!", "&", "*", "?", "? a", "?a", ":", ": a", ":a", "a:",
    "a: b", "a:b", "-", "- a", "-a", "--", "---", "--- a", "...", "....", "#", "#a", "a #b", "a#b", "a # b", ",",
    "a,b", "[a]", "{a}", "a]", "|", ">", "a|b", "'", "''", "a'b", '"', 'a"b', "\\", "a\\b", "%a", "@a", "`a",
    " a", "a ", "a  b", "a\nb", "a\n", "\na", "a \nb", "a\n b", "a\n\nb", "a\r\nb", "\t", "a\tb", "é", "日本",
    "\u00a0", "\u2028", "a\u2029b", "\ufeff", "\U0001f600", "\x85", "\x00", "\x07", "\x1b", "\x7f", "\ud7ff",
    "\ue000", "\ufffd", "x" * 129, "é" * 65, "cpu", "8Gi", "500m", "amd.com/gpu", "serving.kserve.io/deploymentMode",
    '{"max-model-len":32768}', "/{.metadata.namespace}/{.metadata.name}", "vllm:num_requests_running",
]

strings = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12),
                    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=3).map("".join))
scalars = st.one_of(strings, st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(strings, children, max_size=4)),
    max_leaves=24,
)
documents = st.dictionaries(strings, values, min_size=1, max_size=5)


def _same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to itself."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@settings(max_examples=600, deadline=None)
@given(documents)
def test_same_bytes_as_pyyaml_and_loads_back(doc: dict[str, Any]) -> None:
    text = dump_yaml(doc)
    assert text == pyyaml_dump(doc)
    assert _same(yaml.load(text, Loader=yaml.CSafeLoader), doc)


def test_every_tricky_string_as_key_value_and_item() -> None:
    for s in TRICKY:
        for doc in ({"k": s}, {s: s}, {"l": [s, [s], {"m": s, s: [s]}]}):
            assert dump_yaml(doc) == pyyaml_dump(doc), s


def test_manifest_shapes() -> None:
    doc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "qwen-chat-a04542d9", "labels": {"app.kubernetes.io/managed-by": "aimgen"},
                     "annotations": {"prometheus.kserve.io/port": "8000", "serving.kserve.io/autoscalerClass": "none"}},
        "spec": {"predictor": {"minReplicas": 1, "containers": [{
            "env": [{"name": "AIM_ENGINE_ARGS", "value": '{"gpu-memory-utilization":0.92}'},
                    {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"key": "token", "name": "hf"}}}],
            "resources": {"limits": {"amd.com/gpu": "1", "cpu": "4"}}, "args": [], "volumeMounts": [{}]}],
            "volumes": [{"emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}, "name": "dshm"}]}},
        "data": {"profile.yaml": "aim:\n  metric: latency\n  engine_args:\n    max-model-len: 32768\n"},
    }
    assert dump_yaml(doc) == pyyaml_dump(doc)


def test_shared_sub_objects_and_other_types_fall_back_to_pyyaml() -> None:
    labels = {"a": "b"}
    doc = {"x": labels, "y": labels, "t": "multi\nline"}
    assert dump_yaml(doc) == pyyaml_dump(doc)
    assert "&id001" in dump_yaml(doc)
    assert dump_yaml([1, {"a": 2}]) == pyyaml_dump([1, {"a": 2}])
    assert dump_yaml({1: "int key", "k" * 200: "long key"}) == pyyaml_dump({1: "int key", "k" * 200: "long key"})
