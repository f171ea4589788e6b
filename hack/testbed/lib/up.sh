# shellcheck shell=bash
# up.sh: cmd_up and the steps it runs (sourced by ../testbed). Each step is idempotent:
# whatever already runs is left alone, so a second `up` only checks.

docker_answers() { docker -H "unix://$TB_DOCKER_SOCK" version >/dev/null 2>&1; }
dk() { docker -H "unix://$TB_DOCKER_SOCK" "$@"; }
ctr_node() { ctr --address "$TB_CONTAINERD_SOCK" -n k8s.io "$@"; }
since_up() { echo "$((SECONDS - UP_T0))s"; }

apiserver_ready() {
  curl -sf --cacert "$TB_PKI/ca.crt" --cert "$TB_PKI/admin.crt" --key "$TB_PKI/admin.key" \
    "https://127.0.0.1:$TB_APISERVER_PORT/readyz" >/dev/null
}

check_ports() {
  local port
  for port in "$TB_APISERVER_PORT" "$TB_ETCD_PORT" "$TB_ETCD_PEER_PORT" "$TB_REGISTRY_PORT" 10250 10248 10256 10249 10257 10259 10053 10054; do
    port_free "$port" || die "port $port is in use by another program; set the TB_*_PORT variables or stop it"
  done
}

# host paths the kubelet, containerd and CNI create whatever their flags say; the ones
# missing now are removed again by down
record_host_dirs() {
  [ -f "$TB_RUN/created-dirs" ] && return 0
  local d
  for d in /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni /var/run/netns /etc/cni /opt/cni; do
    [ -e "$d" ] || echo "$d"
  done >"$TB_RUN/created-dirs"
  nft list tables >"$TB_RUN/nft-tables-before" 2>/dev/null || true
}

net_up() {
  ip link show "$TB_DUMMY" >/dev/null 2>&1 && return 0
  # a dummy interface; kernels without the dummy driver (these VMs) get an empty bridge,
  # which holds local addresses just as well
  ip link add "$TB_DUMMY" type dummy 2>/dev/null || ip link add "$TB_DUMMY" type bridge
  ip addr add "$TB_NODE_IP/32" dev "$TB_DUMMY"
  ip addr add "$TB_DNS_IP/32" dev "$TB_DUMMY"
  ip link set "$TB_DUMMY" up
  log "dummy interface $TB_DUMMY: node $TB_NODE_IP, DNS $TB_DNS_IP"
}

docker_up() {
  docker_answers && return 0
  # not ours to own: it is the machine's Docker engine, started here only because no
  # init system did; its pid and log live in the cache dir so `down` can leave it be
  mkdir -p "$TB_CACHE/dockerd"
  setsid dockerd >>"$TB_CACHE/dockerd/dockerd.log" 2>&1 </dev/null &
  echo $! >"$TB_CACHE/dockerd/dockerd.pid"
  log "started dockerd (pid $!)"
  wait_for dockerd 60 docker_answers || { tail -20 "$TB_CACHE/dockerd/dockerd.log" >&2; die "dockerd did not start"; }
}

registry_up() {
  if ! running registry; then
    start registry docker-registry serve "$TB_STATE/config/registry.yml"
    wait_for registry 30 curl -sf "http://$TB_REGISTRY/v2/" || die "registry did not start (see $TB_LOGS/registry.log)"
  fi
  local n repo
  for n in python:library/python:3.11-slim redis:library/redis:7 busybox:library/busybox:latest; do
    repo=${n#*:}
    curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://$TB_REGISTRY/v2/${repo%:*}/manifests/${repo##*:}" && continue
    mkimage push -in "$TB_IMAGES/${n%%:*}.tar" -to "$TB_REGISTRY/$repo"
    log "seeded $TB_REGISTRY/$repo"
  done
}

buildkit_up() {
  running buildkitd && return 0
  start buildkitd buildkitd --config "$TB_STATE/config/buildkitd.toml"
  wait_for buildkitd 60 buildctl --addr "unix://$TB_BUILDKIT_SOCK" debug workers || die "buildkitd did not start (see $TB_LOGS/buildkitd.log)"
}

docker_seed() {
  local n ref
  for n in python:python:3.11-slim redis:redis:7 busybox:busybox:latest; do
    ref=${n#*:}
    dk image inspect "$ref" >/dev/null 2>&1 && continue
    dk load -i "$TB_IMAGES/${n%%:*}.tar" >/dev/null
    log "seeded dockerd with $ref"
  done
}

kindnode_up() {
  [ "$(dk inspect -f '{{.State.Running}}' "$TB_KIND_NODE" 2>/dev/null)" = true ] && return 0
  dk rm -f -v "$TB_KIND_NODE" >/dev/null 2>&1 || true
  dk image inspect "$TB_KIND_NODE_IMAGE" >/dev/null 2>&1 || dk load -i "$TB_IMAGES/kind-node.tar" >/dev/null
  # --privileged fails on these VMs (no CAP_SYS_RESOURCE in the bounding set): every
  # capability but that one, no seccomp; /var/lib/containerd on a volume (overlay on
  # overlay fails), as kind's own /var volume does
  dk run -d --name "$TB_KIND_NODE" --hostname "$TB_KIND_NODE" \
    --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --label io.x-k8s.kind.cluster="$TB_KIND_CLUSTER" --label io.x-k8s.kind.role=control-plane \
    --label devloop.dev/testbed=1 --tmpfs /run --tmpfs /tmp -v /var/lib/containerd "$TB_KIND_NODE_IMAGE" >/dev/null
  wait_for "kind-style node" 30 dk exec "$TB_KIND_NODE" ctr version || die "kind-style node did not start"
  log "kind-style node $TB_KIND_NODE (cluster $TB_KIND_CLUSTER) up"
}

control_plane_up() {
  if ! running etcd; then
    start etcd etcd --name devloop-testbed --data-dir "$TB_STATE/etcd" \
      --listen-client-urls "http://127.0.0.1:$TB_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$TB_ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$TB_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$TB_ETCD_PEER_PORT" \
      --initial-cluster "devloop-testbed=http://127.0.0.1:$TB_ETCD_PEER_PORT"
    wait_for etcd 60 curl -sf "http://127.0.0.1:$TB_ETCD_PORT/health" || die "etcd did not start (see $TB_LOGS/etcd.log)"
  fi
  if ! running kube-apiserver; then
    start kube-apiserver kube-apiserver --advertise-address="$TB_NODE_IP" --bind-address=0.0.0.0 \
      --secure-port="$TB_APISERVER_PORT" --etcd-servers="http://127.0.0.1:$TB_ETCD_PORT" \
      --service-cluster-ip-range="$TB_SERVICE_CIDR" \
      --tls-cert-file="$TB_PKI/apiserver.crt" --tls-private-key-file="$TB_PKI/apiserver.key" \
      --client-ca-file="$TB_PKI/ca.crt" \
      --kubelet-client-certificate="$TB_PKI/apiserver-kubelet-client.crt" \
      --kubelet-client-key="$TB_PKI/apiserver-kubelet-client.key" \
      --kubelet-preferred-address-types=InternalIP,Hostname \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$TB_PKI/sa.pub" --service-account-signing-key-file="$TB_PKI/sa.key" \
      --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true
  fi
  wait_for kube-apiserver 120 apiserver_ready || die "kube-apiserver not ready (see $TB_LOGS/kube-apiserver.log)"
  if ! running kube-controller-manager; then
    start kube-controller-manager kube-controller-manager \
      --kubeconfig="$TB_STATE/controller-manager.kubeconfig" \
      --authentication-kubeconfig="$TB_STATE/controller-manager.kubeconfig" \
      --authorization-kubeconfig="$TB_STATE/controller-manager.kubeconfig" \
      --bind-address=127.0.0.1 --leader-elect=false \
      --service-account-private-key-file="$TB_PKI/sa.key" --root-ca-file="$TB_PKI/ca.crt" \
      --use-service-account-credentials=true \
      --cluster-signing-cert-file="$TB_PKI/ca.crt" --cluster-signing-key-file="$TB_PKI/ca.key" \
      --service-cluster-ip-range="$TB_SERVICE_CIDR"
  fi
  if ! running kube-scheduler; then
    start kube-scheduler kube-scheduler --kubeconfig="$TB_STATE/scheduler.kubeconfig" \
      --authentication-kubeconfig="$TB_STATE/scheduler.kubeconfig" \
      --authorization-kubeconfig="$TB_STATE/scheduler.kubeconfig" \
      --bind-address=127.0.0.1 --leader-elect=false
  fi
}

# The node's containerd and kubelet run in a private mount namespace: the kubelet
# rewrites host sysctls at start (kernel.panic, kernel.panic_on_oops,
# vm.overcommit_memory, …) unless they already hold the values it wants, so inside the
# namespace those /proc/sys files are bind-mounted over with files holding them. The
# host's values never change, and every mount they make dies with the namespace.
node_up() {
  if [ ! -s "$TB_RUN/mntns-ready" ]; then
    mkdir -p "$TB_STATE/node-sysctl"
    touch "$TB_MNTNS"
    unshare --mount="$TB_MNTNS" --propagation private true
    local kv k f
    for kv in kernel/panic=10 kernel/panic_on_oops=1 vm/overcommit_memory=1 vm/panic_on_oom=0 \
      kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
      k=${kv%=*}; f=$TB_STATE/node-sysctl/${k//\//_}
      echo "${kv#*=}" >"$f"
      nsenter --mount="$TB_MNTNS" -- mount --bind "$f" "/proc/sys/$k"
    done
    echo ready >"$TB_RUN/mntns-ready"
  fi
  if ! running containerd; then
    start containerd nsenter --mount="$TB_MNTNS" -- containerd --config "$TB_STATE/config/containerd.toml"
    wait_for containerd 60 ctr --address "$TB_CONTAINERD_SOCK" version || die "containerd did not start (see $TB_LOGS/containerd.log)"
  fi
  local n ref
  for n in pause:devloop-testbed.local/pause:3.10 python:docker.io/library/python:3.11-slim \
    redis:docker.io/library/redis:7 busybox:docker.io/library/busybox:latest; do
    ref=${n#*:}
    ctr_node images ls -q "name==$ref" | grep -q . && continue
    ctr_node images import "$TB_IMAGES/${n%%:*}.tar" >/dev/null
  done
  if ! running kubelet; then
    start kubelet nsenter --mount="$TB_MNTNS" -- kubelet --config="$TB_STATE/config/kubelet.yaml" \
      --kubeconfig="$TB_STATE/kubelet.kubeconfig" --root-dir="$TB_STATE/kubelet" \
      --cert-dir="$TB_STATE/kubelet/pki" --hostname-override="$TB_NODE_NAME" --node-ip="$TB_NODE_IP"
  fi
  if ! running kube-proxy; then
    start kube-proxy kube-proxy --config="$TB_STATE/config/kube-proxy.yaml"
  fi
  if ! running coredns; then
    start coredns coredns -conf "$TB_STATE/config/Corefile"
  fi
  wait_for "node registered" 120 kc get node "$TB_NODE_NAME" || die "node did not register (see $TB_LOGS/kubelet.log)"
  wait_for "node Ready" 180 kc wait --for=condition=Ready "node/$TB_NODE_NAME" --timeout=2s || die "node not Ready (see $TB_LOGS/kubelet.log)"
  wait_for kube-proxy 60 curl -sf http://127.0.0.1:10256/healthz || die "kube-proxy not healthy (see $TB_LOGS/kube-proxy.log)"
  wait_for coredns 60 curl -sf http://127.0.0.1:10054/ready || die "coredns not ready (see $TB_LOGS/coredns.log)"
  wait_for "default serviceaccount" 60 kc -n default get serviceaccount default || die "no default serviceaccount"
}

cmd_up() {
  UP_T0=$SECONDS
  mkdir -p "$TB_STATE" "$TB_RUN" "$TB_LOGS"
  if ! running kube-apiserver; then check_ports; fi
  record_host_dirs
  "$LIB/pki.sh"
  "$LIB/configs.sh"
  net_up
  docker_up
  registry_up
  buildkit_up
  docker_seed
  kindnode_up
  control_plane_up
  node_up
  log "test bed up in $(since_up): node $TB_NODE_NAME Ready; eval \"\$($(readlink -f "$0") env)\""
}
