#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts the bundled fake API on 127.0.0.1:8080, harvests all four
# phases with ./pipeline.yaml (snapshots in ./data, ledger in ./run), prints `pipeline status`, stops the API.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
port=${DEMO_PORT:-8080}
export NEXON_API_KEY=${NEXON_API_KEY:-test-key}
state=$(mktemp -d)
build/pipeline-fake-api --port "$port" --port-file "$state/port" --characters "${DEMO_CHARACTERS:-1000}" \
  --key "$NEXON_API_KEY" --latency-ms 5 >"$state/api.log" 2>&1 &
api=$!
trap 'kill $api 2>/dev/null; wait $api 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do [ -s "$state/port" ] && break; kill -0 $api 2>/dev/null || { cat "$state/api.log"; exit 1; }; sleep 0.05; done
status=0
build/pipeline run all || status=$?
build/pipeline status
exit $status
