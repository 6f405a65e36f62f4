#!/usr/bin/env bash
# Remove the deployment: uninstall the release, delete its namespace if `up` created it, and
# remove our images from Minikube's Docker.
#
#   scripts/cleanup.sh                 environment minikube
#   scripts/cleanup.sh --env kind      another environment of infra.toml
#
# A thin wrapper over `cargo xtask down --images`.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then
  set -- --env minikube
fi
exec cargo xtask down --images "$@"
