#!/usr/bin/env bash
# images.sh: packs the root filesystems from rootfs.sh into docker-archive images under
# $TB_IMAGES (once), with mkimage built from this repository.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$TB_IMAGES" "$TB_BIN"
ROOTFS=$TB_CACHE/rootfs

if [ ! -x "$TB_BIN/mkimage" ] || [ -n "$(find "$TB_ROOT/mkimage" -newer "$TB_BIN/mkimage" -name '*.go')" ]; then
  (cd "$TB_ROOT/../.." && go build -o "$TB_BIN/mkimage" ./hack/testbed/mkimage)
fi

# image NAME REF MKIMAGE-FLAGS...: $ROOTFS/NAME.tar -> $TB_IMAGES/NAME.tar
image() {
  local name=$1 ref=$2; shift 2
  [ -f "$TB_IMAGES/$name.tar" ] && return 0
  log "packing image $ref"
  mkimage build -rootfs "$ROOTFS/$name.tar" -ref "$ref" -out "$TB_IMAGES/$name.tar" "$@"
}

image pause devloop-testbed.local/pause:3.10 -entrypoint '["/pause"]'
image busybox docker.io/library/busybox:latest -cmd '["sh"]'
image python docker.io/library/python:3.11-slim -env LANG=C.UTF-8 -cmd '["python3"]'
image redis docker.io/library/redis:7 -cmd '["redis-server"]' -expose 6379/tcp

# the kind-style node: Debian containerd + runc, containerd in the foreground as PID 1
if [ ! -f "$TB_IMAGES/kind-node.tar" ]; then
  tmp=$(mktemp -d)
  cp "$ROOTFS/kind-node.tar" "$tmp/rootfs.tar"
  mkdir -p "$tmp/add/etc/containerd" "$tmp/add/usr/local/bin"
  install -m 0644 "$TB_ROOT/images/kind-node-containerd.toml" "$tmp/add/etc/containerd/config.toml"
  install -m 0755 "$TB_ROOT/images/kind-node-entrypoint.sh" "$tmp/add/usr/local/bin/entrypoint"
  # replace Debian's containerd config: delete, then append (an image layer must not
  # hold a path twice)
  tar --delete -f "$tmp/rootfs.tar" ./etc/containerd/config.toml 2>/dev/null || true
  tar -C "$tmp/add" --numeric-owner --owner=0 --group=0 -rf "$tmp/rootfs.tar" ./etc/containerd/config.toml ./usr/local/bin/entrypoint
  log "packing image $TB_KIND_NODE_IMAGE"
  mkimage build -rootfs "$tmp/rootfs.tar" -ref "$TB_KIND_NODE_IMAGE" -out "$TB_IMAGES/kind-node.tar" \
    -entrypoint '["/usr/local/bin/entrypoint"]'
  rm -rf "$tmp"
fi
