#!/usr/bin/env bash
# build.sh [all|k8s|buildkit|coredns|kind]: builds the pinned binaries the test bed runs
# into $TB_BIN, from the Go module proxy only. Each binary is rebuilt only when missing or
# when its pinned version changed (a .version stamp beside it), so a second run is instant.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$TB_BIN" "$TB_CACHE/work"

stamp_ok() { [ -x "$TB_BIN/$1" ] && [ "$(cat "$TB_BIN/$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$TB_BIN/$1.version"; }

# Kubernetes: `go install k8s.io/kubernetes/cmd/...@v` is refused (the module has replace
# directives for its staging repos). A wrapper module requires k8s.io/kubernetes and
# replaces every staging module with its published k8s.io/<name> v0.<minor>.<patch>; the
# list of staging modules is read from k8s.io/kubernetes's own go.mod.
build_k8s() {
  local comps=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy) todo=() c
  for c in "${comps[@]}"; do stamp_ok "$c" "$K8S_VERSION" || todo+=("$c"); done
  [ ${#todo[@]} -gt 0 ] || return 0
  local wrap=$TB_CACHE/work/k8s-$K8S_VERSION staging_ver="v0.${K8S_VERSION#v1.}" minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  mkdir -p "$wrap"
  if [ ! -f "$wrap/go.sum" ]; then
    local upstream
    upstream=$(cd "$wrap" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -f "$upstream" ] || die "cannot download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
    {
      printf 'module devloop.local/k8s-wrapper\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
      awk '/=> \.\/staging\/src\//{print $1}' "$upstream" | sort -u | while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging_ver"; done
      printf ')\n'
    } >"$wrap/go.mod"
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for c in "${comps[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
      printf ')\n'
    } >"$wrap/tools.go"
    (cd "$wrap" && go mod tidy)
  fi
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for c in "${todo[@]}"; do
    log "building $c $K8S_VERSION"
    (cd "$wrap" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$TB_BIN/$c" "k8s.io/kubernetes/cmd/$c")
    stamp "$c" "$K8S_VERSION"
  done
}

# BuildKit: `go install` is refused (its go.mod has exclude directives); build inside the
# module cache so its own go.mod and go.sum apply.
build_buildkit() {
  stamp_ok buildkitd "$BUILDKIT_VERSION" && stamp_ok buildctl "$BUILDKIT_VERSION" && return 0
  log "building buildkitd, buildctl $BUILDKIT_VERSION"
  local dir
  dir=$(cd /tmp && go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir" ] || die "cannot download github.com/moby/buildkit@$BUILDKIT_VERSION"
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$TB_BIN/" \
    -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" ./cmd/buildkitd ./cmd/buildctl)
  stamp buildkitd "$BUILDKIT_VERSION"; stamp buildctl "$BUILDKIT_VERSION"
}

# go_install BIN MODULE@VERSION: plain `go install` for modules without replace directives.
go_install() {
  local bin=$1 mod=$2
  stamp_ok "$bin" "${mod#*@}" && return 0
  log "building $bin ${mod#*@}"
  (cd /tmp && GOBIN=$TB_BIN CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$mod")
  stamp "$bin" "${mod#*@}"
}

what=${1:-all}
case $what in
  k8s) build_k8s ;;
  buildkit) build_buildkit ;;
  coredns) go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION" ;;
  kind) go_install kind "sigs.k8s.io/kind@$KIND_VERSION" ;;
  all)
    build_k8s
    build_buildkit
    go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION"
    # not run by the test bed: the peer bench/ times (kind load docker-image), ~1 min cold
    go_install kind "sigs.k8s.io/kind@$KIND_VERSION"
    ;;
  *) die "usage: build.sh [all|k8s|buildkit|coredns|kind]" ;;
esac
