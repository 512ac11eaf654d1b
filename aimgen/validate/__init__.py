"""Output validation: CRD -> JSON Schema (kubeconform layout), in-process schema validation, and the
API-server rules that schemas cannot express (CEL, admission webhooks, name and size limits).

Entry points: `validate_manifests` (in-memory objects, for `aimgen build --validate`), `validate_paths`
(`aimgen validate`), `open_schemas` (pick the schema source), `write_schemas` (`aimgen schemas`).
"""

from .run import CRDS_ENV, Report, open_schemas, validate_documents, validate_manifests, validate_paths
from .schemas import write_schemas
from .store import SchemaStore

__all__ = [
    "CRDS_ENV",
    "Report",
    "SchemaStore",
    "open_schemas",
    "validate_documents",
    "validate_manifests",
    "validate_paths",
    "write_schemas",
]
