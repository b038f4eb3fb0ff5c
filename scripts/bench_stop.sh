#!/usr/bin/env bash
# Stop latency: the time from `pipeline stop PHASE` returning to the stopped `pipeline run` process exiting, over
# 20 stops (median and max; goal: median under 100 ms). The fake API answers after --latency-ms 20, pipeline runs
# ITEM_EQUIPMENT at concurrency 32 over thousands of characters and is stopped mid-run (RUNNING, items_done > 0).
# Binaries: $PIPELINE_BIN / $PIPELINE_FAKE_API, else build/. Environment: BENCH_STOPS (20),
# BENCH_STOP_CHARACTERS (5000), BENCH_STOP_LATENCY_MS (20), BENCH_CONCURRENCY (32, or auto: up to 256 in flight).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$(dirname "$0")/bench/lib.sh"
bench_init

stops=${BENCH_STOPS:-20}
characters=${BENCH_STOP_CHARACTERS:-5000}
latency=${BENCH_STOP_LATENCY_MS:-20}
concurrency=${BENCH_CONCURRENCY:-32}

work=""
bench_fast_tmpdir work
bench_log "stop: ITEM_EQUIPMENT over $characters characters, API latency ${latency} ms, concurrency $concurrency, $stops stops"
most_in_flight=${concurrency/auto/256}
bench_start_fake_api "$work" --characters "$characters" --latency-ms "$latency" --threads $((most_in_flight * 2)) "${BENCH_ITEM_FLAGS[@]}"
config="$work/pipeline.yaml"
bench_config "$config" "$FAKE_URL" 100000 "$concurrency" $(((characters + 199) / 200))
bench_prepare_ocids "$config"

python3 "$(dirname "$0")/bench/stop_bench.py" --pipeline "$PIPELINE" --config "$config" --run-dir "$work/run" \
  --data-dir "$work/data" --date "$BENCH_DATE" --phase ITEM_EQUIPMENT --stops "$stops" >"$work/stop.out"
# shellcheck disable=SC1091
source "$work/stop.out" # sets STOP_MEDIAN_MS, STOP_MAX_MS, STOP_MIN_MS, STOP_COMMAND_MEDIAN_MS, STOPS
# shellcheck disable=SC2153
bench_result "stop: ITEM_EQUIPMENT, API latency ${latency} ms, concurrency $concurrency, $STOPS stops"
bench_result "  stop returned -> process exited: median ${STOP_MEDIAN_MS} ms, max ${STOP_MAX_MS} ms, min ${STOP_MIN_MS} ms (goal: median < 100 ms)"
bench_result "  \`pipeline stop\` itself: median ${STOP_COMMAND_MEDIAN_MS} ms"
