"""Kubernetes vocabulary every stage shares: object names and their limits, resource quantities, YAML as
kubectl users read it (deterministic). Imports nothing of aimgen.
"""
