#!/usr/bin/env bash
# configs.sh: writes every daemon's configuration under $TB_STATE/config.
set -euo pipefail
source "$(dirname "$0")/common.sh"
C=$TB_STATE/config

# put FILE: write stdin to FILE only when it differs, so a second `up` touches nothing
# (kube-proxy exits when its config file changes under it)
put() {
  local tmp
  tmp=$(mktemp "$1.XXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
mkdir -p "$C" "$C/cni" "$C/certs.d" "$TB_RUN/containerd" "$TB_LOGS/pods"

# --- local registry (Debian's distribution 2.8): no auth, plain HTTP, loopback only
put "$C/registry.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $TB_STATE/registry
  delete:
    enabled: true
http:
  addr: $TB_REGISTRY
YAML

# --- buildkitd: OCI worker with Debian's runc, own root and socket; docker.io is
# mirrored by the local registry so an unmodified FROM python:3.11-slim resolves offline
put "$C/buildkitd.toml" <<TOML
root = "$TB_STATE/buildkit"
[grpc]
  address = ["unix://$TB_BUILDKIT_SOCK"]
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  binary = "/usr/sbin/runc"
  gc = true
  reservedSpace = "1GB"
  maxUsedSpace = "20GB"
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = ["$TB_REGISTRY"]
[registry."$TB_REGISTRY"]
  http = true
  insecure = true
[registry."localhost:$TB_REGISTRY_PORT"]
  http = true
  insecure = true
TOML

# --- the node's containerd (Debian 1.6): own root/state/socket, never dockerd's.
# restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so the kubelet's negative
# oom_score_adj for sandboxes fails in runc; clamp to containerd's own instead.
put "$C/containerd.toml" <<TOML
version = 2
root = "$TB_STATE/containerd"
state = "$TB_RUN/containerd"
[grpc]
  address = "$TB_CONTAINERD_SOCK"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$TB_STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "devloop-testbed.local/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$TB_RUN/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$TB_CNI_BIN"
    conf_dir = "$C/cni"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$C/certs.d"
TOML
# the node pulls from the local registry (plain HTTP), and docker.io through it
for h in "$TB_REGISTRY" "localhost:$TB_REGISTRY_PORT"; do
  mkdir -p "$C/certs.d/$h"
  put "$C/certs.d/$h/hosts.toml" <<TOML
server = "http://$h"
[host."http://$h"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
TOML
done
mkdir -p "$C/certs.d/docker.io"
put "$C/certs.d/docker.io/hosts.toml" <<TOML
server = "https://registry-1.docker.io"
[host."http://$TB_REGISTRY"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
TOML

# --- CNI: one bridge, host-local IPAM, portmap, firewall (dockerd sets FORWARD DROP)
put "$C/cni/10-devloop-testbed.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "devloop-testbed",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$TB_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$TB_STATE/cni/networks",
        "ranges": [[{"subnet": "$TB_POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall", "backend": "iptables"}
  ]
}
JSON

put "$C/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$TB_CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $TB_PKI/ca.crt}
authorization: {mode: AlwaysAllow}
address: $TB_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
podCIDR: $TB_POD_CIDR
clusterDomain: cluster.local
clusterDNS: [$TB_DNS_IP]
resolvConf: $C/resolv.conf
podLogsDir: $TB_LOGS/pods
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
serializeImagePulls: false
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
YAML
# pods resolve only cluster names: nothing off this machine is ever asked
echo "nameserver $TB_DNS_IP" | put "$C/resolv.conf"

# kube-proxy: iptables mode; every knob that writes a host sysctl is off
put "$C/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $TB_STATE/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $TB_POD_CIDR
hostnameOverride: $TB_NODE_NAME
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  localhostNodePorts: false
YAML

# CoreDNS as a process on the cluster DNS address (held by the dummy interface); it
# answers cluster.local from the API and nothing else: there is no upstream to forward to
put "$C/Corefile" <<COREFILE
.:53 {
    bind $TB_DNS_IP
    errors
    health 127.0.0.1:10053
    ready 127.0.0.1:10054
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $TB_KUBECONFIG $TB_CONTEXT
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
}
COREFILE
