#!/bin/sh
# kind-style node: containerd in the foreground (no systemd, no kubelet).
set -e
mkdir -p /run/containerd /var/lib/containerd
exec /usr/bin/containerd --config /etc/containerd/config.toml --log-level info
