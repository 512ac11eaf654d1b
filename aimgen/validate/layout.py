"""kubeconform's schema layout `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`.

kubeconform (pkg/registry/registry.go schemaPath) splits apiVersion at '/': Group is the part before
it ("v1" for core `apiVersion: v1`, "batch" for batch/v1), ResourceAPIVersion the part after, and
ResourceKind the lower-cased kind.
"""

from __future__ import annotations

KUBECONFORM_LOCATION = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"


def schema_path(api_version: str, kind: str) -> str:
    """Relative path of the schema kubeconform looks up for an object's apiVersion and kind."""
    parts = api_version.split("/")
    return f"{parts[0]}/{kind.lower()}_{parts[-1]}.json"


def gvk_path(group: str, version: str, kind: str) -> str:
    """Relative path for a group/version/kind (core group "")."""
    return schema_path(f"{group}/{version}" if group else version, kind)
