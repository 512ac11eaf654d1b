"""Output validation: CRD -> JSON Schema (kubeconform layout), in-process schema validation, and the API-server
rules schemas cannot express. Imports only aimgen.inputs.load and aimgen.diagnostics.
"""
