# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts
# Shared settings and helpers for the test/cluster scripts (sourced, not run).
# Everything the cluster builds or writes lives under $CLUSTER_HOME, never in the repo.
set -euo pipefail

# Pinned versions. Kubernetes 1.36 still runs on cgroup v1 hosts with failCgroupV1: false.
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.8        # the etcd server that k8s.io/kubernetes ${K8S_VERSION} pins
COREDNS_VERSION=v1.14.7
KUBE_ROUTER_VERSION=v2.1.0 # the newest github.com/cloudnativelabs/kube-router/v2 on the Go module proxy

CLUSTER_HOME=${CLUSTER_HOME:-$HOME/.cache/todo-chatbot/cluster}
BUILD_DIR=$CLUSTER_HOME/build          # generated modules, binaries, image tarballs (kept by down)
BIN_DIR=$BUILD_DIR/bin
STATE_DIR=$CLUSTER_HOME/state          # certs, etcd data, containerd root, pids (removed by down)
RUN_DIR=$CLUSTER_HOME/run              # sockets (kept short: unix socket paths max 107 bytes)
LOG_DIR=$CLUSTER_HOME/logs             # one log per component
KUBECONFIG_FILE=$CLUSTER_HOME/kubeconfig

CLUSTER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONTAINERD_SOCK=$RUN_DIR/containerd/containerd.sock
NODE_NAME=${NODE_NAME:-todo-node}
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.88.0.0/16
CLUSTER_DNS=10.96.0.10
APISERVER_PORT=6443

export PATH=$BIN_DIR:/usr/sbin:/sbin:$PATH

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ctr against the cluster's own containerd (never docker's).
cctr() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
