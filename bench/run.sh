#!/usr/bin/env bash
# bench/run.sh [-quick] [-record] [devloop-bench flags…]: devloop's benchmark, the one
# command. On the test bed (hack/testbed/testbed up) it builds kind (pinned, from the Go
# module proxy), the benchmark and devloop itself, then runs every scenario and prints
# the table of medians, bytes moved and ratios on stdout (progress on stderr).
#
#   bench/run.sh                 the full benchmark (≥ 200 MB image, 3 runs per tool)
#   bench/run.sh -quick          what CI runs: ~20 MB image, 1 run each; fails only on errors
#   bench/run.sh -record         also write the output into BENCHMARKS.md
#   bench/run.sh -only kind -runs 5
#   bench/run.sh -h              every flag
#
# It exits non-zero only when something errors, never because of a timing, and removes
# what it created (images in dockerd, the kind-style node and the registry, temp dirs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${DEVLOOP_TESTBED:-}" != 1 ]; then
  eval "$(hack/testbed/testbed env)"
fi
[ -S "${DOCKER_HOST#unix://}" ] || { echo "bench/run.sh: no Docker daemon at $DOCKER_HOST: hack/testbed/testbed up" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/devloop-bench-bin.XXXXXX")
trap 'rm -rf "$work"' EXIT

args=() record=0 devloop=1
for a in "$@"; do
  case $a in
    -record|--record) record=1; continue ;;
    -devloop*|--devloop*) devloop=0 ;;
  esac
  args+=("$a")
done

# kind v0.33.0, pinned by the test bed (instant when already built).
hack/testbed/lib/build.sh kind >&2
export PATH=/var/cache/devloop-testbed/bin:$PATH   # kind, kubectl

echo "building devloop-bench" >&2
go build -o "$work/devloop-bench" ./bench/cmd/devloop-bench

# The inner-loop scenario needs devloop itself; without a working `devloop dev` it is
# reported as not run.
if [ $devloop = 1 ]; then
  echo "building devloop" >&2
  if go build -o "$work/devloop" ./cmd/devloop >"$work/devloop-build.log" 2>&1 &&
    "$work/devloop" dev --help >/dev/null 2>&1; then
    args=(-devloop "$work/devloop" "${args[@]}")
  else
    echo "devloop does not build or has no dev command; the dev scenario is skipped:" >&2
    tail -5 "$work/devloop-build.log" >&2
  fi
fi

cmd="bench/run.sh${*:+ $*}"
if [ $record = 1 ]; then
  args=(-record "$root/BENCHMARKS.md" -command "$cmd (commit $(git rev-parse --short HEAD))" "${args[@]}")
fi
"$work/devloop-bench" "${args[@]}"
