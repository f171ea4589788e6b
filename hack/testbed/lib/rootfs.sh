#!/usr/bin/env bash
# rootfs.sh: makes the root filesystems of the test bed's base images with Debian's own
# tools, since no container registry can be reached: debootstrap'd bookworm trees packed
# as tarballs under $TB_CACHE/rootfs, plus a busybox tree and a static pause binary.
# Each tarball is made once; delete it to remake it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ROOTFS=$TB_CACHE/rootfs
DEBCACHE=$TB_CACHE/debootstrap-cache
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$ROOTFS" "$DEBCACHE"

# debootstrap_tar NAME PACKAGES: minbase bookworm + PACKAGES -> $ROOTFS/NAME.tar
debootstrap_tar() {
  local name=$1 pkgs=$2 dir
  [ -f "$ROOTFS/$name.tar" ] && return 0
  dir=$(mktemp -d "$ROOTFS/.$name.XXXX")
  log "debootstrap $name ($pkgs)"
  debootstrap --variant=minbase --cache-dir="$DEBCACHE" --include="$pkgs" bookworm "$dir" "$MIRROR" \
    >"$ROOTFS/.$name.log" 2>&1 || { tail -20 "$ROOTFS/.$name.log" >&2; rm -rf "$dir"; die "debootstrap $name failed"; }
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
  tar -C "$dir" --numeric-owner --sort=name -cf "$ROOTFS/.$name.tar" .
  mv "$ROOTFS/.$name.tar" "$ROOTFS/$name.tar"
  rm -rf "$dir"
}

busybox_tar() {
  [ -f "$ROOTFS/busybox.tar" ] && return 0
  local dir a
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/www"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/:/bin/sh' >"$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" --numeric-owner --sort=name --mtime=@0 -cf "$ROOTFS/busybox.tar" .
  rm -rf "$dir"
}

pause_tar() {
  [ -f "$ROOTFS/pause.tar" ] && return 0
  local dir
  dir=$(mktemp -d)
  gcc -static -Os -s -o "$dir/pause" "$TB_ROOT/images/pause.c"
  tar -C "$dir" --numeric-owner --mtime=@0 -cf "$ROOTFS/pause.tar" pause
  rm -rf "$dir"
}

pause_tar
busybox_tar
debootstrap_tar python python3,python3-flask,python3-redis,ca-certificates
debootstrap_tar redis redis-server
debootstrap_tar kind-node containerd,runc,ca-certificates,procps,iproute2

