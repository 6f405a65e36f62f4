#!/usr/bin/env bash
# Build the images whose sources changed (content-hashed tags; unchanged images are skipped).
#
#   scripts/build-images.sh               into the local Docker engine
#   scripts/build-images.sh --minikube    into Minikube's Docker, where the cluster runs them
#   scripts/build-images.sh backend       only that image (and what it depends on)
#
# A thin wrapper over `cargo xtask build`; see docs/infra.md.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
for arg in "$@"; do
  case "$arg" in
    --minikube) args+=(--env minikube) ;;
    -h | --help)
      sed -n '2,7p' "$0"
      exit 0
      ;;
    *) args+=("$arg") ;;
  esac
done
exec cargo xtask build "${args[@]}"
