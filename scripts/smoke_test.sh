#!/usr/bin/env bash
# Smoke test, the way an operator scripts one: against the bundled fake API on a free port of 127.0.0.1,
# harvest a tiny day, then start a slow phase, stop it, and check `status --json` and the metrics file with jq.
# Builds nothing: takes the binaries from $PIPELINE_BIN and $PIPELINE_FAKE_API (default: build/). Exits
# non-zero on the first mismatch, saying what differed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pipeline_bin=${PIPELINE_BIN:-$root/build/pipeline}
fake_api_bin=${PIPELINE_FAKE_API:-$root/build/pipeline-fake-api}
date=2026-11-22
export NEXON_API_KEY=smoke-test-key

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }
for tool in "$pipeline_bin" "$fake_api_bin"; do [ -x "$tool" ] || fail "$tool is not an executable (build first, or set PIPELINE_BIN / PIPELINE_FAKE_API)"; done
command -v jq >/dev/null || fail "jq is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-smoke-XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts a fake API on an OS-chosen port (in this shell, so that cleanup knows its pid); sets $port to it
# once it is listening.
start_api() {
    local name=$1; shift
    "$fake_api_bin" --host 127.0.0.1 --port 0 --port-file "$work/$name.port" --key "$NEXON_API_KEY" "$@" \
        >"$work/$name.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 400); do
        if [ -s "$work/$name.port" ]; then port=$(cat "$work/$name.port"); return; fi
        kill -0 "$pid" 2>/dev/null || fail "fake API $name did not start: $(cat "$work/$name.log")"
        sleep 0.05
    done
    fail "fake API $name did not listen within 20 s"
}

write_config() { # PORT CONCURRENCY
    cat >"$work/pipeline.yaml" <<YAML
run_dir: $work/run
api:
  base_url: http://127.0.0.1:$1
  concurrency: $2
  rate_limit_per_sec: 1000
  timeout_ms: 5000
ranking:
  pages: 1
chunk:
  records: 10
sink:
  type: local
  path: $work/data
metrics_file: $work/metrics/pipeline.prom
YAML
}

pipeline() { timeout 120 "$pipeline_bin" --config "$work/pipeline.yaml" "$@"; }
field() { pipeline status --json | jq -r --arg p "$1" ".phases[] | select(.phase == \$p) | $2"; }
expect() { # WHAT ACTUAL EXPECTED
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

mkdir -p "$work/metrics"
start_api fast --characters 40; fast=$port
start_api slow --characters 40 --latency-ms 300; slow=$port

say "tiny harvest against 127.0.0.1:$fast"
write_config "$fast" 8
rc=0; pipeline -q run all --date "$date" || rc=$?
expect "exit code of run all" "$rc" 0
expect "phases in status --json" "$(pipeline status --json | jq -c '[.phases[].phase]')" \
    '["RANKING_FETCH","OCID_LOOKUP","CHARACTER_BASIC","ITEM_EQUIPMENT"]'
for phase in RANKING_FETCH OCID_LOOKUP CHARACTER_BASIC ITEM_EQUIPMENT; do
    expect "$phase state" "$(field "$phase" .state)" COMPLETED
    expect "$phase records" "$(field "$phase" .progress.records)" 40
    expect "$phase error" "$(field "$phase" .error)" null
    expect "$phase manifest state" \
        "$(jq -r .state "$work/data/$date/$phase/$(field "$phase" .run_id)/_manifest.json")" COMPLETED
done
grep -qx 'pipeline_phase_state{phase="ITEM_EQUIPMENT",state="COMPLETED"} 1' "$work/metrics/pipeline.prom" \
    || fail "metrics file does not show ITEM_EQUIPMENT COMPLETED"

say "slow ITEM_EQUIPMENT against 127.0.0.1:$slow, then stop it"
write_config "$slow" 1
"$pipeline_bin" --config "$work/pipeline.yaml" -q run item_equipment --date "$date" &
worker=$!
pids+=("$worker")
# Wait (up to 30 s) until the worker has published progress: it is RUNNING and has fetched something.
for _ in $(seq 600); do
    [ "$(field ITEM_EQUIPMENT '.state == "RUNNING" and .progress.items_done > 0')" = true ] && break
    kill -0 "$worker" 2>/dev/null || fail "the slow run ended before it could be stopped"
    sleep 0.05
done
run_id=$(field ITEM_EQUIPMENT .run_id)
expect "state before the stop" "$(field ITEM_EQUIPMENT .state)" RUNNING
expect "pid in status" "$(field ITEM_EQUIPMENT .pid)" "$worker"
rc=0; out=$(pipeline stop item_equipment --wait --timeout 60) || rc=$?
expect "exit code of stop --wait" "$rc" 0
expect "stop output" "$out" "STOP_REQUESTED ITEM_EQUIPMENT $run_id"
rc=0; wait "$worker" || rc=$?
expect "exit code of the stopped run" "$rc" 3
expect "state after the stop" "$(field ITEM_EQUIPMENT .state)" STOPPED
expect "run id after the stop" "$(field ITEM_EQUIPMENT .run_id)" "$run_id"
expect "stop_requested" "$(field ITEM_EQUIPMENT .stop_requested)" true
expect "finished_at set" "$(field ITEM_EQUIPMENT '.finished_at != null')" true
expect "stopped early" "$(field ITEM_EQUIPMENT '.progress.items_done < .progress.items_total')" true
expect "other phases untouched" "$(pipeline status --json | jq -r '[.phases[] | select(.phase != "ITEM_EQUIPMENT") | .state] | unique | join(",")')" COMPLETED
expect "stop of a phase that is not running" "$(pipeline stop item_equipment)" "NOT_RUNNING ITEM_EQUIPMENT"
grep -qx 'pipeline_phase_state{phase="ITEM_EQUIPMENT",state="STOPPED"} 1' "$work/metrics/pipeline.prom" \
    || fail "metrics file does not show ITEM_EQUIPMENT STOPPED"

say "resume the stopped run"
write_config "$fast" 8
rc=0; pipeline -q run item_equipment --date "$date" --resume || rc=$?
expect "exit code of --resume" "$rc" 0
expect "state after resume" "$(field ITEM_EQUIPMENT .state)" COMPLETED
expect "run id after resume" "$(field ITEM_EQUIPMENT .run_id)" "$run_id"
expect "records after resume" "$(field ITEM_EQUIPMENT .progress.records)" 40
say "OK"
