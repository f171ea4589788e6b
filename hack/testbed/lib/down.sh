# shellcheck shell=bash
# down.sh: cmd_down (sourced by ../testbed). Stops only what our pid files name and
# removes what the test bed left on the host: pods and their network namespaces,
# mounts, cgroups, the CNI bridge and dummy interface, CNI-*/KUBE-* iptables chains,
# nft tables the kubelet added, host dirs that did not exist before `up`, the
# kind-style node container, and the state and run dirs.

drain_pods() {
  running kube-apiserver && running kubelet || return 0
  # no controller may recreate what we delete
  stop_pid kube-controller-manager 10
  kc delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  # the kubelet stops each sandbox (CNI DEL releases the veth and the IP)
  local end=$((SECONDS + 30))
  while ((SECONDS < end)); do
    [ -z "$(ctr --address "$TB_CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null)" ] && break
    sleep 0.5
  done
}

kill_in_mntns() {
  [ -e "$TB_MNTNS" ] || return 0
  local ns p
  ns=$(stat -L -c %i "$TB_MNTNS" 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "mnt:[$ns]" ] || continue
    log "killing leftover process ${p#/proc/} in the node namespace"
    kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
}

clean_iptables() {
  local ipt t rule chains c
  for ipt in iptables ip6tables; do
    for t in filter nat mangle raw; do
      $ipt-save -t $t 2>/dev/null | grep -E '^-A .* -j (CNI-|KUBE-)' | grep -vE '^-A (CNI-|KUBE-)' |
        while read -r rule; do eval "$ipt -t $t ${rule/-A/-D}" 2>/dev/null || true; done
      chains=$($ipt-save -t $t 2>/dev/null | sed -n 's/^:\(\(CNI-\|KUBE-\)[^ ]*\) .*/\1/p')
      for c in $chains; do $ipt -t $t -F "$c" 2>/dev/null || true; done
      for c in $chains; do $ipt -t $t -X "$c" 2>/dev/null || true; done
    done
  done
  [ -f "$TB_RUN/nft-tables-before" ] || return 0
  local fam name
  nft list tables 2>/dev/null | while read -r _ fam name; do
    grep -qx "table $fam $name" "$TB_RUN/nft-tables-before" && continue
    if ! nft list table "$fam" "$name" 2>/dev/null | grep -qvE '^\s*(table|chain|type|\}|$)'; then
      nft delete table "$fam" "$name" 2>/dev/null && log "deleted nft table $fam $name"
    fi
  done
}

cmd_down() {
  # best effort from here on: one step failing must not leave the rest undone
  set +e
  local stop_docker=0
  [ "${1:-}" = --docker ] && stop_docker=1
  drain_pods
  stop_pid kubelet
  stop_pid kube-proxy
  stop_pid coredns
  local n
  for n in kube-scheduler kube-controller-manager kube-apiserver; do stop_pid "$n" 10 & done
  wait
  stop_pid etcd
  if running containerd; then
    local ns t
    for ns in k8s.io default; do
      for t in $(ctr --address "$TB_CONTAINERD_SOCK" -n $ns tasks ls -q 2>/dev/null); do
        ctr --address "$TB_CONTAINERD_SOCK" -n $ns tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
      done
    done
  fi
  stop_pid containerd
  local p c
  for p in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case "$c" in *containerd-shim*"$TB_CONTAINERD_SOCK"*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  sleep 0.3
  kill_in_mntns
  sleep 0.3
  if [ -e "$TB_MNTNS" ]; then umount "$TB_MNTNS" 2>/dev/null || umount -l "$TB_MNTNS" 2>/dev/null || true; fi
  stop_pid buildkitd
  stop_pid registry
  if docker_answers; then
    dk ps -aq --filter label=devloop.dev/testbed=1 | xargs -r docker -H "unix://$TB_DOCKER_SOCK" rm -f -v >/dev/null
  fi
  # mounts under our dirs (deepest first) and CRI network namespaces
  local i m
  for i in 1 2 3; do
    awk -v s="$TB_STATE" -v r="$TB_RUN" '$2 ~ "^"s || $2 ~ "^"r || $2 ~ "^/run/netns/cni-" || $2 ~ "^/var/run/netns/cni-" {print $2}' /proc/mounts |
      sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
  rm -f /var/run/netns/cni-* 2>/dev/null || true
  local h
  for h in /sys/fs/cgroup/*/; do
    for n in kubepods buildkit; do
      [ -d "$h/$n" ] && find "$h/$n" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  ip link del "$TB_BRIDGE" 2>/dev/null && log "deleted bridge $TB_BRIDGE"
  ip link del "$TB_DUMMY" 2>/dev/null && log "deleted dummy interface $TB_DUMMY"
  clean_iptables
  if [ -f "$TB_RUN/created-dirs" ]; then
    while read -r d; do [ -n "$d" ] && [ -e "$d" ] && rm -rf "$d" && log "removed $d"; done <"$TB_RUN/created-dirs"
  fi
  if [ -n "${SAVE_LOGS_TO:-}" ] && [ -d "$TB_LOGS" ]; then
    mkdir -p "$SAVE_LOGS_TO" && cp -r "$TB_LOGS"/. "$SAVE_LOGS_TO"/ 2>/dev/null || true
  fi
  rm -rf "$TB_STATE" "$TB_RUN"
  if [ $stop_docker = 1 ] && [ -f "$TB_CACHE/dockerd/dockerd.pid" ]; then
    TB_PIDS=$TB_CACHE/dockerd stop_pid dockerd 30
  fi
  log "down"
}
