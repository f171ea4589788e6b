#!/usr/bin/env bash
# demo.sh: devloop's main job on a fresh Debian 12 machine (as root): bring the test bed
# up (installs and builds what it needs on the first run), build devloop, run it once on
# examples/flask-redis, and ask the app twice through a port-forward.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
tb=hack/testbed/testbed
"$tb" up
eval "$("$tb" env)"
go build -o bin/devloop ./cmd/devloop
cd examples/flask-redis
../../bin/devloop run
echo
echo "== the app, through a port-forward to service/flask-redis-app"
kubectl -n flask-redis port-forward service/flask-redis-app 18080:80 >/dev/null 2>&1 &
pf=$!
trap 'kill $pf 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/health >/dev/null && break; sleep 0.2; done
curl -s http://127.0.0.1:18080/
curl -s http://127.0.0.1:18080/
echo
echo "The test bed keeps running: edit examples/flask-redis/app.py and run devloop again,"
echo "or stop everything with: $tb down"
