"""What is deployed: the autoscalerClass of every InferenceService already in rendered/ (seed 000: the replica
mode of a deployed service cannot change). Light on purpose: the build cache answers it from its records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aimgen.render.manifest import AUTOSCALER_CLASS

Fact = tuple[tuple[str, str], str]
DEPLOYED_FILES = "*/inferenceservice-*.yaml"  # under rendered/<overlay>/


def autoscaler_fact(value: Any) -> Fact | None:
    """((namespace, name), autoscalerClass) of a rendered InferenceService document; None for anything else."""
    is_isvc = isinstance(value, dict) and value.get("kind") == "InferenceService"
    meta = value.get("metadata") if is_isvc else None
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        return ((str(meta.get("namespace")), str(meta.get("name"))),
                str(meta["annotations"].get(AUTOSCALER_CLASS, "hpa")))  # KServe's default class
    return None


def file_facts(data: bytes, name: str) -> list[Fact]:
    from aimgen.inputs.load import parse_documents  # YAML: not imported by builds that read no rendered file

    docs, _ = parse_documents(data, name)
    return [fact for fact in (autoscaler_fact(doc.value) for doc in docs) if fact]


def deployed_autoscaler_classes(overlay_dir: Path, known: Callable[[Path], list[Fact] | None] | None = None
                                ) -> dict[tuple[str, str], str]:
    """The autoscalerClass of every InferenceService rendered for an overlay. Unreadable files are skipped: the
    build rewrites them. `known` answers for files whose content the caller knows (the build cache), else None."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(overlay_dir.glob(DEPLOYED_FILES)):
        facts = known(path) if known is not None else None
        if facts is None:
            try:
                facts = file_facts(path.read_bytes(), path.name)
            except OSError:
                continue
        found.update(facts)
    return found
