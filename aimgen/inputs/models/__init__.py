"""Typed input models (pydantic) for every kind aimgen reads, and the registry dispatching a document by kind.
Imports only aimgen.kube.
"""
