#!/usr/bin/env bash
# The metrics file of a real harvest passes Prometheus's own checker: `promtool check metrics` (Debian package
# `prometheus`, installed here when promtool is missing: it is big, so only then) must report no problem.
# Harvests a tiny day against the bundled fake API on 127.0.0.1 (some answers fail with 500 and are retried, so
# the retry samples are not all zero), then lints the file written during and after the run. ctest: metrics_lint.
# Binaries: $PIPELINE_BIN and $PIPELINE_FAKE_API (default: build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pipeline_bin=${PIPELINE_BIN:-$root/build/pipeline}
fake_api_bin=${PIPELINE_FAKE_API:-$root/build/pipeline-fake-api}
export NEXON_API_KEY=metrics-lint-key
fail() { echo "metrics_lint: FAIL: $*" >&2; exit 1; }

if ! command -v promtool >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "metrics_lint: installing promtool (Debian package prometheus)" >&2
  $sudo apt-get update -qq
  # policy-rc.d-free containers may try to start the service; the package works without it.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-metrics-XXXXXX")
api_pid=""
cleanup() {
  [ -z "$api_pid" ] || { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

"$fake_api_bin" --host 127.0.0.1 --port 0 --port-file "$work/port" --key "$NEXON_API_KEY" --characters 60 \
  --fail-500 0.05 --faults-on item >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 400); do [ -s "$work/port" ] && break; kill -0 "$api_pid" || fail "fake API did not start"; sleep 0.05; done
[ -s "$work/port" ] || fail "fake API did not listen within 20 s"
cat >"$work/pipeline.yaml" <<YAML
run_dir: $work/run
metrics_file: $work/pipeline.prom
api:
  base_url: http://127.0.0.1:$(cat "$work/port")
  rate_limit_per_sec: 1000
  backoff_base_ms: 5
ranking:
  pages: 1
chunk:
  records: 10
sink:
  path: $work/data
YAML

rc=0
"$pipeline_bin" --config "$work/pipeline.yaml" -q run all --date 2026-11-22 || rc=$?
[ "$rc" = 0 ] || fail "run all exited $rc"
[ -s "$work/pipeline.prom" ] || fail "no metrics file written"
grep -q '^pipeline_phase_last_success_timestamp_seconds{phase="ITEM_EQUIPMENT"} [0-9]' "$work/pipeline.prom" ||
  fail "no last success time for ITEM_EQUIPMENT"
out=$(promtool check metrics <"$work/pipeline.prom" 2>&1) || { echo "$out" >&2; fail "promtool check metrics exited non-zero"; }
[ -z "$out" ] || { echo "$out" >&2; fail "promtool reported problems"; }
echo "metrics_lint: promtool check metrics: no problems in $(grep -c '^[a-z]' "$work/pipeline.prom") samples"
