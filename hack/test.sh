#!/usr/bin/env bash
# test.sh: devloop's whole test suite, as `make test` and CI run it on a fresh Debian 12
# machine (as root): installs what it needs, brings the test bed up, runs vet, the unit
# and integration tests and a short run of every fuzz target, brings the test bed down
# even on failure, and checks the host was left as it was found.
# KEEP_TESTBED=1 leaves the test bed running afterwards (and skips the host comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tb=$root/hack/testbed/testbed
export PATH=$PATH:/usr/local/go/bin
logs=${TEST_LOGS:-$root/.cache/test-logs}
rm -rf "$logs" && mkdir -p "$logs"
FUZZTIME=${FUZZTIME:-10s}

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

step "install and build (cached after the first run)"
"$tb" install
"$tb" build
"$tb" prereqs          # the machine's Docker engine, which down leaves running

step "vet and gofmt"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go'))
[ -z "$unformatted" ] || { echo "gofmt needed:"; echo "$unformatted"; exit 1; }

step "host state before the test bed"
"$tb" hoststate "$logs/host-before.txt"

finish() {
  local rc=$?
  if [ "${KEEP_TESTBED:-0}" = 1 ]; then
    # a developer's run against a test bed they keep: no down, no host comparison
    [ -z "${tests_summary:-}" ] || echo "$tests_summary"
    exit $rc
  fi
  step "test bed down"
  SAVE_LOGS_TO=$logs/testbed "$tb" down || rc=1
  "$tb" hoststate "$logs/host-after.txt"
  if ! diff -u "$logs/host-before.txt" "$logs/host-after.txt" >"$logs/host-diff.txt"; then
    echo "FAIL: the test bed left the host changed:"; cat "$logs/host-diff.txt"; rc=1
  else
    echo "host state after down is identical to before up"
  fi
  if [ $rc != 0 ] && [ -d "$logs/testbed" ]; then
    for f in "$logs"/testbed/*.log; do echo "--- tail $f"; tail -15 "$f"; done
  fi
  # the plain closing line CI reads: tests (and subtests) that ran
  [ -z "${tests_summary:-}" ] || echo "$tests_summary"
  exit $rc
}
trap finish EXIT

step "test bed up"
"$tb" up
eval "$("$tb" env)"

step "fuzz targets, $FUZZTIME each"
grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u | while read -r dir; do
  for f in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
    out=$logs/fuzz-$(basename "$dir")-$f.txt
    if ! go test -run='^$' -fuzz="^$f\$" -fuzztime="$FUZZTIME" "$dir" >"$out" 2>&1; then
      cat "$out"; echo "FAIL: fuzz target $f in $dir"; exit 1
    fi
    echo "fuzz $dir $f: $(grep -o 'execs: [0-9]*' "$out" | tail -1)"
  done
done

step "unit and integration tests"
# -v into a file (kept with the logs), package lines and failures on the terminal
set +e
# The TestIntegrationFault* tests stop and kill the shared daemons: they run alone,
# one package at a time, after everything else.
go test -count=1 -timeout 50m -v -skip 'TestIntegrationFault' ./... >"$logs/go-test.txt" 2>&1
rc=$?
grep -hoE 'soak [0-9]+ iterations: .*' "$logs/go-test.txt" || true
if [ $rc = 0 ]; then
  step "fault tests (daemons stopped, killed and cut; one package at a time)"
  go test -count=1 -timeout 20m -p 1 -v -run 'TestIntegrationFault' ./... >>"$logs/go-test.txt" 2>&1
  rc=$?
  grep -E '^\s+fault_integration_test.go:[0-9]+: .*(exit|recovered|failed|killed|stopped|cut)' "$logs/go-test.txt" | sed 's/^ *//' || true
fi
set -e
grep -E '^(ok|FAIL|panic|---  ?FAIL|\?)' "$logs/go-test.txt" | grep -v '^? ' || true
if [ $rc != 0 ]; then
  echo "--- failing tests:"
  grep -B2 -A30 -E '^\s*--- FAIL' "$logs/go-test.txt" | head -300
fi
passed=$(grep -cE '^\s*--- PASS' "$logs/go-test.txt" || true)
failed=$(grep -cE '^\s*--- FAIL' "$logs/go-test.txt" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$logs/go-test.txt" || true)
tests_summary="$passed passed, $failed failed, $skipped skipped"
echo "go test: $tests_summary"
[ $rc = 0 ] || exit $rc

