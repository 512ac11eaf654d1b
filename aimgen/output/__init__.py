"""Stage 4, output: Manifests -> deterministic bytes per path -> rendered/ (atomic writes, prune, --check),
and the GitOps wiring. Imports aimgen.render and below.
"""
