# shellcheck shell=bash
# Settings and helpers shared by every test bed step (sourced, never run).
# Every path and port can be overridden from the environment; `testbed env` prints
# what tests and users need.

TB_ROOT=${TB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TB_CACHE=${DEVLOOP_TESTBED_CACHE:-/var/cache/devloop-testbed}   # binaries, rootfs, base images (kept by down)
TB_STATE=${DEVLOOP_TESTBED_STATE:-/var/lib/devloop-testbed}     # everything a running test bed owns
TB_RUN=${DEVLOOP_TESTBED_RUN:-/run/devloop-testbed}              # sockets, pid files, mount namespace
TB_LOGS=$TB_STATE/logs
TB_PIDS=$TB_RUN/pids
TB_BIN=$TB_CACHE/bin
TB_IMAGES=$TB_CACHE/images

# pinned versions (see ../../docs/testbed.md for why these)
K8S_VERSION=${K8S_VERSION:-v1.34.10}
BUILDKIT_VERSION=${BUILDKIT_VERSION:-v0.33.1}
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.1}
KIND_VERSION=${KIND_VERSION:-v0.33.0}

# network: every address is on this machine
TB_CONTEXT=${TB_CONTEXT:-devloop-testbed}      # kube context name; marks the cluster as local
TB_NODE_NAME=${TB_NODE_NAME:-devloop-testbed}
TB_DUMMY=${TB_DUMMY:-dltb0}                    # dummy interface holding the node and DNS addresses
TB_NODE_IP=${TB_NODE_IP:-10.223.0.1}
TB_DNS_IP=${TB_DNS_IP:-10.223.0.10}
TB_APISERVER_PORT=${TB_APISERVER_PORT:-6443}
TB_ETCD_PORT=${TB_ETCD_PORT:-2379}
TB_ETCD_PEER_PORT=${TB_ETCD_PEER_PORT:-2380}
TB_REGISTRY_PORT=${TB_REGISTRY_PORT:-5001}
TB_REGISTRY=127.0.0.1:$TB_REGISTRY_PORT
TB_SERVICE_CIDR=${TB_SERVICE_CIDR:-10.96.0.0/16}
TB_SERVICE_APISERVER_IP=10.96.0.1
TB_POD_CIDR=${TB_POD_CIDR:-10.244.0.0/24}
TB_BRIDGE=${TB_BRIDGE:-dltb-br0}
TB_KIND_CLUSTER=${TB_KIND_CLUSTER:-devloop}
TB_KIND_NODE=$TB_KIND_CLUSTER-control-plane
TB_KIND_NODE_IMAGE=devloop-testbed/kind-node:bookworm

TB_PKI=$TB_STATE/pki
TB_KUBECONFIG=$TB_STATE/admin.kubeconfig
TB_CONTAINERD_SOCK=$TB_RUN/containerd/containerd.sock
TB_BUILDKIT_SOCK=$TB_RUN/buildkitd.sock
TB_DOCKER_SOCK=${TB_DOCKER_SOCK:-/var/run/docker.sock}
TB_MNTNS=$TB_RUN/node.mntns
TB_CNI_BIN=${TB_CNI_BIN:-/usr/lib/cni}

export PATH=$TB_BIN:$PATH

log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# start NAME CMD...: run CMD detached (own session), log to $TB_LOGS/NAME.log, pid to $TB_PIDS/NAME.pid
start() {
  local name=$1; shift
  mkdir -p "$TB_PIDS" "$TB_LOGS"
  setsid "$@" >>"$TB_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$TB_PIDS/$name.pid"
  log "started $name (pid $!)"
}

# running NAME: the daemon recorded in NAME's pid file is alive
running() {
  local f=$TB_PIDS/$1.pid
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# stop_pid NAME [TIMEOUT]: TERM, wait, KILL; only ever the pid in our pid file
stop_pid() {
  local name=$1 timeout=${2:-20} f=$TB_PIDS/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    local i
    for ((i = 0; i < timeout * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "$name ($pid) did not stop: KILL"; kill -KILL "$pid" 2>/dev/null; fi
    log "stopped $name"
  fi
  rm -f "$f"
}

# wait_for DESC TIMEOUT CMD...: poll CMD until it succeeds
wait_for() {
  local desc=$1 timeout=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || { log "timed out after ${timeout}s waiting for $desc"; return 1; }
    sleep 0.2
  done
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

kc() { kubectl --kubeconfig "$TB_KUBECONFIG" "$@"; }
