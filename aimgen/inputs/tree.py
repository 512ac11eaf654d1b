"""Input stage: the repository's YAML -> typed, checked inputs per overlay (SPEC §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from aimgen.diagnostics import Diagnostic, SourceRef, error
from aimgen.inputs.bases import compose_overlay
from aimgen.inputs.layout import discover_overlays as discover_overlays  # re-exported: it lives in a light module
from aimgen.inputs.load import Document, load_files, yaml_files
from aimgen.inputs.models.aim import AIMService
from aimgen.inputs.models.cluster import ClusterInventory, ClusterSettings, Gateway, Namespace, NodeList, Overlay
from aimgen.inputs.models.kinds import CATALOG_KINDS, INVENTORY_KINDS
from aimgen.inputs.parse import parse_document, validation_diagnostics

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|_KEY$", re.IGNORECASE)
# Model download credentials (Hugging Face, S3): only ever from a Secret, whatever the name rule above says.
CREDENTIALS = frozenset({"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                         "AWS_SESSION_TOKEN"})

Parsed = tuple[BaseModel, SourceRef]


@dataclass
class OverlayInputs:
    """Everything one overlay compiles from."""

    name: str
    services: list[tuple[AIMService, SourceRef]] = field(default_factory=list)
    catalog: list[Parsed] = field(default_factory=list)  # shared catalog + this overlay's namespaced kinds
    inventory: tuple[ClusterInventory | NodeList, SourceRef] | None = None
    overlay: tuple[Overlay, SourceRef] | None = None
    namespaces: list[tuple[Namespace, SourceRef]] = field(default_factory=list)
    gateways: list[tuple[Gateway, SourceRef]] = field(default_factory=list)  # facts about the cluster, not rendered
    settings: ClusterSettings = field(default_factory=ClusterSettings)


def parse_all(docs: list[Document]) -> tuple[list[Parsed], list[Diagnostic]]:
    parsed: list[Parsed] = []
    diags: list[Diagnostic] = []
    for doc in docs:
        obj, errs = parse_document(doc)
        diags += errs + secret_literals(doc)
        if obj is not None:
            parsed.append((obj, doc.source))
    return parsed, diags


def load_catalog(root: Path) -> tuple[list[Parsed], list[Diagnostic]]:
    """catalog/: cluster-wide kinds plus namespace-scoped catalog kinds shared by every overlay."""
    docs, diags = load_files(yaml_files(root / "catalog"), root) if (root / "catalog").is_dir() else ([], [])
    parsed, parse_diags = parse_all(docs)
    diags += parse_diags
    for obj, source in parsed:
        kind = getattr(obj, "kind", "")
        if kind not in CATALOG_KINDS:
            diags.append(error("MisplacedDocument", f"{kind} documents belong in overlays/<name>/, not in catalog/",
                               source.at("kind")))
    return [(o, s) for o, s in parsed if getattr(o, "kind", "") in CATALOG_KINDS], diags


def load_overlay(
    root: Path, name: str, catalog: list[Parsed], chain: tuple[str, ...] = (), files: list[Path] | None = None
) -> tuple[OverlayInputs, list[Diagnostic]]:
    """One overlay's documents, classified, with duplicate and cardinality checks, composed with its bases and
    patches (bases.py; `chain`: the overlays whose bases are being loaded). `files`: only these of its files
    (the build cache loads the shared ones and compiles the others file by file), else all of them."""
    docs, diags = load_files(yaml_files(root / "overlays" / name) if files is None else files, root)
    parsed, parse_diags = parse_all(docs)
    diags += parse_diags
    inputs = OverlayInputs(name, catalog=list(catalog))
    inventories: list[tuple[Any, SourceRef]] = []
    overlays: list[tuple[Overlay, SourceRef]] = []
    for obj, source in parsed:
        kind = getattr(obj, "kind", "")
        if isinstance(obj, AIMService):
            inputs.services.append((obj, source))
        elif kind in INVENTORY_KINDS:
            inventories.append((obj, source))
        elif isinstance(obj, Overlay):
            overlays.append((obj, source))
        elif isinstance(obj, Namespace):
            inputs.namespaces.append((obj, source))
        elif isinstance(obj, Gateway):
            inputs.gateways.append((obj, source))
        elif kind in CATALOG_KINDS:
            if not getattr(obj.metadata, "namespace", None):  # type: ignore[attr-defined]
                diags.append(error("MisplacedDocument", f"cluster-scoped {kind} documents belong in catalog/",
                                   source.at("kind")))
            else:
                inputs.catalog.append((obj, source))
    diags += _single(inventories, "InventoryConflict", "inventory")
    diags += _single(overlays, "OverlayConflict", "Overlay document")
    if not inventories:
        diags.append(error("InventoryNotFound", f"overlay {name!r} has no inventory (a ClusterInventory or a "
                           "`kubectl get nodes -o yaml` List, usually in inventory.yaml)",
                           SourceRef(f"overlays/{name}", 0)))
    inputs.inventory = inventories[0] if inventories else None
    inputs.overlay = overlays[0] if overlays else None
    diags += duplicate_objects([*inputs.catalog, *inputs.services, *inputs.namespaces, *inputs.gateways])
    inputs, compose_diags = compose_overlay(root, inputs, len(catalog), (*chain, name), load_overlay)
    diags += compose_diags
    settings, settings_diags = merged_settings(inputs)
    inputs.settings = settings
    return inputs, diags + settings_diags


def _single(found: list[Any], code: str, what: str) -> list[Diagnostic]:
    if len(found) <= 1:
        return []
    first = found[0][1]
    return [error(code, f"only one {what} per overlay; the first is in {first.file}", source.at("kind"))
            for _, source in found[1:]]


def duplicate_objects(items: list[Any]) -> list[Diagnostic]:
    """The same kind/namespace/name twice is an error at the second occurrence."""
    return duplicate_keys([((obj.kind, getattr(obj.metadata, "namespace", None) or "", obj.metadata.name), source)
                           for obj, source in items])


def duplicate_keys(items: list[tuple[tuple[str, str, str], SourceRef]]) -> list[Diagnostic]:
    """duplicate_objects over (kind, namespace, name) keys (the build cache keeps keys, not objects)."""
    seen: dict[tuple[str, str, str], SourceRef] = {}
    out: list[Diagnostic] = []
    for key, source in items:
        if key in seen:
            where = f"{key[1]}/{key[2]}" if key[1] else key[2]
            out.append(error("DuplicateObject", f"{key[0]} {where} is already defined in {seen[key].file}",
                             source.at("metadata", "name")))
        else:
            seen[key] = source
    return out


def merged_settings(inputs: OverlayInputs) -> tuple[ClusterSettings, list[Diagnostic]]:
    """Cluster settings: the inventory's, overridden field by field by the Overlay's."""
    from aimgen.inputs.merge import merge_runtime_config_dicts

    merged: dict[str, Any] = {}
    sources: list[SourceRef] = []
    if inputs.inventory and isinstance(inputs.inventory[0], ClusterInventory):
        merged = dict(inputs.inventory[0].spec.settings)
        sources.append(inputs.inventory[1].at("spec", "settings"))
    if inputs.overlay:
        merged = merge_runtime_config_dicts(merged, dict(inputs.overlay[0].spec.settings))
        sources.append(inputs.overlay[1].at("spec", "settings"))
    try:
        return ClusterSettings.model_validate(merged), []
    except ValidationError as exc:
        return ClusterSettings(), validation_diagnostics(exc, merged, sources[-1])


def secret_literals(doc: Document) -> list[Diagnostic]:
    """SPEC §5.6: an env var whose name looks secret must come from a secretKeyRef, never a literal; download
    credentials (CREDENTIALS) not from a ConfigMap or field reference either."""
    out: list[Diagnostic] = []
    for path, name, origin in _env_entries(doc.value):
        credential = name.upper() in CREDENTIALS
        if origin == "literal" and (credential or SECRET_NAME.search(name)):
            out.append(error("SecretInlined", f"env {name} looks like a secret but has a literal value; use "
                             "valueFrom.secretKeyRef", doc.source.at(*path)))
        elif origin == "reference" and credential:
            out.append(error("CredentialNotFromSecret", f"env {name} is a model download credential: take it from "
                             "a Secret (valueFrom.secretKeyRef)", doc.source.at(*path)))
    return out


EnvEntry = tuple[tuple[str | int, ...], str, str]


def _env_entries(value: Any, path: tuple[str | int, ...] = ()) -> list[EnvEntry]:
    """(path to the value, name, origin) for env lists and env maps anywhere in a document; origin is
    "literal", "secret" (valueFrom.secretKeyRef), "reference" (another valueFrom) or "" (empty)."""
    found: list[EnvEntry] = []
    if isinstance(value, dict):
        for key, child in value.items():
            here = (*path, key)
            if key == "env" and isinstance(child, list):
                for i, entry in enumerate(child):
                    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                        found.append(_env_entry((*here, i), entry))
            elif key in ("engineEnv", "envVars") and isinstance(child, dict):
                found += [((*here, k), k, "literal" if v else "") for k, v in child.items() if isinstance(k, str)]
            else:
                found += _env_entries(child, here)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _env_entries(child, (*path, i))
    return found


def _env_entry(path: tuple[str | int, ...], entry: dict[str, Any]) -> EnvEntry:
    source = entry.get("valueFrom")
    if isinstance(source, dict) and source:
        return (*path, "valueFrom"), entry["name"], "secret" if "secretKeyRef" in source else "reference"
    return (*path, "value"), entry["name"], "literal" if entry.get("value") else ""
