"""Stage 1, inputs: files -> located YAML documents -> typed, validated inputs per overlay (catalog,
inventory, services, bases and patches). Imports only aimgen.diagnostics and aimgen.kube; reads files, writes none.
"""
