#!/usr/bin/env bash
# Validate manifests with the pinned kubeconform against schemas generated from CRDs (no network, no skips).
#
#   scripts/kubeconform.sh PATH...      (files or directories, e.g. rendered/)
#
# Environment: AIMGEN_CRDS  CRD files/directories, ':'-separated (default ../shared/crds)
#              AIMGEN       the aimgen command (default .venv/bin/aimgen if present, else aimgen)
#              KUBECONFORM_VERSION (default v0.7.0), installed with `go install` into .tools/bin
set -euo pipefail
cd "$(dirname "$0")/.."

version=${KUBECONFORM_VERSION:-v0.7.0}
bin=.tools/bin/kubeconform
crds=${AIMGEN_CRDS:-../shared/crds}
aimgen=${AIMGEN:-$([ -x .venv/bin/aimgen ] && echo .venv/bin/aimgen || echo aimgen)}

[ $# -gt 0 ] || { echo "usage: $0 PATH..." >&2; exit 2; }

# `kubeconform -v` says "development" for a go-installed binary: read the module version instead.
if ! { [ -x "$bin" ] && go version -m "$bin" | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/yannh/kubeconform[[:space:]]+$version[[:space:]]"; }; then
  echo "installing kubeconform $version into .tools/bin" >&2
  GOBIN="$PWD/.tools/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$version"
fi

schemas=$(mktemp -d)
trap 'rm -rf "$schemas"' EXIT
crd_args=()
IFS=: read -r -a crd_dirs <<< "$crds"
for dir in "${crd_dirs[@]}"; do crd_args+=(--crds "$dir"); done
"$aimgen" schemas "${crd_args[@]}" --out "$schemas"

# Missing schemas are errors (no -ignore-missing-schemas); -strict refuses duplicate keys.
out=$("$bin" -strict -summary -schema-location "$schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$@") \
  || { echo "$out"; exit 1; }
echo "$out"
grep -q "Skipped: 0$" <<< "$out" || { echo "kubeconform skipped resources" >&2; exit 1; }
