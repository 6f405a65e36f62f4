#!/usr/bin/env bash
# Deploy the app to Minikube: build what changed into Minikube's Docker, helm upgrade --install,
# wait until every pod is ready, check the budgets, print the URL.
#
#   minikube start --cpus 2 --memory 4g
#   scripts/deploy-minikube.sh
#
# A thin wrapper over `cargo xtask up --env minikube` and `cargo xtask verify-budgets`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo xtask up --env minikube "$@"
cargo xtask verify-budgets --env minikube
