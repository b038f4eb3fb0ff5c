#!/usr/bin/env bash
# Slow answers (docs/pacing.md): requests/s of OCID_LOOKUP against the fake API limited to N calls per calendar
# second (the key's limit, pipeline's rate_limit_per_sec N too) answering after 20, 150 and 400 ms, with
# `concurrency: auto` against the old fixed 32: medians of alternating rounds and their ratio. Then two processes
# on one key and run directory (CHARACTER_BASIC and ITEM_EQUIPMENT started together, 150 ms answers): their
# calls/s together and the 429s. Rates are the fake's counts over the wall time of the pipeline processes.
# Environment: BENCH_LAT_RATE (N, 500), BENCH_LAT_ROUNDS (3), BENCH_LAT_CHARACTERS (5000),
# BENCH_LAT_LATENCIES ("20 150 400"), BENCH_BASELINE_BIN (an older pipeline binary, e.g. main's, to run the two
# processes with as well: it must accept `concurrency: 32`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

rate=${BENCH_LAT_RATE:-500}
rounds=${BENCH_LAT_ROUNDS:-3}
characters=${BENCH_LAT_CHARACTERS:-5000}
read -r -a latencies <<<"${BENCH_LAT_LATENCIES:-20 150 400}"
baseline=${BENCH_BASELINE_BIN:-}
pages=$(((characters + 199) / 200))

# run_timed OUT_VAR CONFIG PIPELINE_BINARY PHASE...: runs one pipeline process per phase, all at once, after
# zeroing the fake's counters; sets OUT_VAR to "calls/s 429s max_per_second max_in_flight wall".
run_timed() {
  local out=$1 config=$2 binary=$3 t0 t1 rc=0 pids=() phase pid
  shift 3
  curl -sf -X POST -H 'Content-Length: 0' "$FAKE_URL/_reset_stats" >/dev/null || bench_die "cannot reset the fake API's stats"
  t0=$(bench_now)
  for phase in "$@"; do
    "$binary" --config "$config" -q run "$phase" --date "$BENCH_DATE" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=$?
  done
  t1=$(bench_now)
  ((rc == 0)) || bench_die "pipeline run $* exited $rc"
  local stats total n429 maxps maxin wall
  stats=$(curl -sf "$FAKE_URL/_stats") || bench_die "cannot read the fake API's stats"
  total=$(jq -r '.total' <<<"$stats")
  n429=$(jq -r '.answered["429"]' <<<"$stats")
  maxps=$(jq -r '.max_per_second' <<<"$stats")
  maxin=$(jq -r '.max_in_flight' <<<"$stats")
  wall=$(bench_calc "($t1 - $t0) / 1e9")
  printf -v "$out" '%s %s %s %s %s' "$(bench_calc "$total / $wall")" "$n429" "$maxps" "$maxin" "$wall"
}

bench_log "latency: OCID_LOOKUP of $characters names at ${latencies[*]} ms answers, API limit $rate/s, auto vs 32, $rounds rounds"
summary=()
for latency in "${latencies[@]}"; do
  work=""
  bench_fast_tmpdir work
  bench_start_fake_api "$work" --characters "$characters" --rate-limit "$rate" --latency-ms "$latency" --threads 700
  for mode in auto 32; do
    mkdir -p "$work/$mode"
    bench_config "$work/$mode/pipeline.yaml" "$FAKE_URL" "$rate" "$mode" "$pages"
    # One run directory for both: its pace file paces them together, so no round borrows another's second.
    sed -i "s|^run_dir: .*|run_dir: $work/run|; s|^  path: .*|  path: $work/data|" "$work/$mode/pipeline.yaml"
  done
  bench_pipeline "$work/auto/pipeline.yaml" run RANKING_FETCH --date "$BENCH_DATE" || bench_die "RANKING_FETCH failed"
  declare -A rates=()
  for ((r = 1; r <= rounds; r++)); do
    order=(auto 32)
    ((r % 2 == 0)) && order=(32 auto)
    for mode in "${order[@]}"; do
      rm -rf "$work/data/$BENCH_DATE/OCID_LOOKUP"
      result=""
      run_timed result "$work/$mode/pipeline.yaml" "$PIPELINE" OCID_LOOKUP
      read -r per_second n429 maxps maxin wall <<<"$result"
      bench_log "${latency} ms, concurrency $mode, round $r: ${per_second}/s in ${wall}s, $n429 x 429, max $maxps in a second, max $maxin in flight"
      rates[$mode]+="$per_second "
    done
  done
  # shellcheck disable=SC2086  # word splitting of the collected rates is intended
  auto_median=$(bench_median ${rates[auto]}) fixed_median=$(bench_median ${rates[32]})
  summary+=("  ${latency} ms answers: auto $auto_median/s ($(bench_calc "100 * $auto_median / $rate") %), fixed 32 $fixed_median/s ($(bench_calc "100 * $fixed_median / $rate") %); auto/32 = $(bench_calc "$auto_median / $fixed_median") (rounds: auto ${rates[auto]}; 32 ${rates[32]})")
  unset rates
  bench_stop_pid "$FAKE_PID"
done

# Two processes, one key, one run directory.
work=""
bench_fast_tmpdir work
half=$((characters / 2))
bench_start_fake_api "$work" --characters "$half" --rate-limit "$rate" --latency-ms 150 --threads 700
bench_config "$work/pipeline.yaml" "$FAKE_URL" "$rate" auto $(((half + 199) / 200))
bench_prepare_ocids "$work/pipeline.yaml"
two=() two_429=()
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$work/data/$BENCH_DATE/CHARACTER_BASIC" "$work/data/$BENCH_DATE/ITEM_EQUIPMENT"
  result=""
  run_timed result "$work/pipeline.yaml" "$PIPELINE" CHARACTER_BASIC ITEM_EQUIPMENT
  read -r per_second n429 maxps maxin wall <<<"$result"
  bench_log "two processes, round $r: ${per_second}/s together in ${wall}s, $n429 x 429, max $maxps in a second"
  two+=("$per_second") two_429+=("$n429")
done
summary+=("  two processes (CHARACTER_BASIC + ITEM_EQUIPMENT, $half items each, 150 ms, auto): $(bench_median "${two[@]}")/s together ($(bench_calc "100 * $(bench_median "${two[@]}") / $rate") %; rounds ${two[*]}), 429s per round ${two_429[*]}")
if [ -n "$baseline" ]; then
  sed -i 's/^  concurrency: auto$/  concurrency: 32/' "$work/pipeline.yaml"
  base=() base_429=()
  for ((r = 1; r <= rounds; r++)); do
    rm -rf "$work/data/$BENCH_DATE/CHARACTER_BASIC" "$work/data/$BENCH_DATE/ITEM_EQUIPMENT"
    result=""
    run_timed result "$work/pipeline.yaml" "$baseline" CHARACTER_BASIC ITEM_EQUIPMENT
    read -r per_second n429 maxps maxin wall <<<"$result"
    bench_log "two processes with $baseline, round $r: ${per_second}/s together, $n429 x 429"
    base+=("$per_second") base_429+=("$n429")
  done
  summary+=("  the same with $baseline (concurrency 32): $(bench_median "${base[@]}")/s together (rounds ${base[*]}), 429s per round ${base_429[*]}")
fi

bench_result "latency: API limit $rate/s (rate_limit_per_sec $rate), OCID_LOOKUP of $characters names, medians of $rounds alternating rounds"
for line in "${summary[@]}"; do
  bench_result "$line"
done
