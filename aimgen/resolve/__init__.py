"""Stage 2, resolve: a service + its overlay's catalog and inventory -> a Decision (model, profile, runtime
config, and the trace of why). Pure; imports aimgen.inputs, aimgen.kube, aimgen.diagnostics.
"""
