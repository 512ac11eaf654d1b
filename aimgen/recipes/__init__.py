"""Legacy AIM recipes (seed 004): typed models, validation, and import into AIMClusterProfiles.
Imports aimgen.inputs, aimgen.kube, aimgen.output.emit and aimgen.diagnostics.

A recipe `{model}-{hardware}-{precision}.yaml` configures one model on one GPU model at one precision,
with per-engine (`vllm_serve`, `sglang_serve`), per-GPU-count (`"N_gpu"`) serving entries.
"""
