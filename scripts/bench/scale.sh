#!/usr/bin/env bash
# Scale: `pipeline run all` for 200,000 characters against the bundled fake API, no rate limit (a script, not
# CI: it takes minutes). Samples every phase's items_done from the ledger every 10 ms (progress_tenths.py) and
# reports, per phase, the time per 10,000 items over the first and the last tenth of its items (goal: last
# within 15 % of first), the peak RSS of the whole run (goal < 64 MiB), and the cost of the per-chunk
# bookkeeping (checkpoint, ledger; goal <= 5 %): as the writer thread timed it (wall and thread CPU, the debug
# line at each phase's end; the CPU of all phases against the run's), and as a cross-check the same run again
# with chunk.records so large that each phase commits once. Rounds alternate the two runs and the summary gives
# medians: runs of a minute on 2 shared cores vary by 10-30 %.
# Environment: BENCH_SCALE_CHARACTERS (200000), BENCH_CONCURRENCY (32), BENCH_ITEMS (small; "real" = ~230 KB
# item-equipment answers), BENCH_SCALE_COMPRESSION (gzip), BENCH_SCALE_BOOKKEEPING (1; 0 skips the second run),
# BENCH_ROUNDS (3), TMPDIR (where the runs write: a disk, so that fsync costs what it costs in production).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
export BENCH_ITEMS=${BENCH_ITEMS:-small}
source "$(dirname "$0")/lib.sh"
bench_init

characters=${BENCH_SCALE_CHARACTERS:-200000}
concurrency=${BENCH_CONCURRENCY:-32}
items=$BENCH_ITEMS
compression=${BENCH_SCALE_COMPRESSION:-gzip}
bookkeeping=${BENCH_SCALE_BOOKKEEPING:-1}
rounds=${BENCH_ROUNDS:-3}
pages=$(((characters + 199) / 200))

# On disk, not tmpfs: the bookkeeping measured here is mostly fsync and rename, which tmpfs makes free.
work=""
bench_tmpdir work
bench_log "scale: run all for $characters characters ($items answers, $compression), concurrency $concurrency"
bench_start_fake_api "$work" --characters "$characters" --threads $((concurrency * 3)) "${BENCH_ITEM_FLAGS[@]}"

# one_run DIR CHUNK_RECORDS: run all in DIR; sets R_WALL (s), R_RSS (KiB) and R_CPU (user+sys s); writes
# per-phase tenths to DIR/tenths.txt and the debug log to DIR/log.
one_run() {
  local dir=$1 records=$2
  mkdir -p "$dir"
  bench_config "$dir/pipeline.yaml" "$FAKE_URL" 100000 "$concurrency" "$pages"
  sed -i "s/compression: zstd/compression: $compression/; s/records: 1000/records: $records/" "$dir/pipeline.yaml"
  local t0 t1 rc=0
  t0=$(bench_now)
  /usr/bin/time -f '%M %U %S' -o "$dir/time.txt" \
    "$PIPELINE" --config "$dir/pipeline.yaml" -v run all --date "$BENCH_DATE" 2>"$dir/log" &
  local pid=$!
  python3 "$(dirname "$0")/progress_tenths.py" "$dir/run/ledger.json" "$pid" >"$dir/tenths.txt"
  wait "$pid" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || bench_die "run all exited $rc"
  R_WALL=$(bench_calc "($t1 - $t0) / 1e9")
  read -r R_RSS user sys < <(tail -n1 "$dir/time.txt")
  R_CPU=$(bench_calc "$user + $sys")
}

# bookkeeping_cpu LOG: the bookkeeping CPU seconds of all phases, from their debug lines
# "<time> debug PHASE: bookkeeping over N chunk commits: W s wall (P% of the run), C s CPU".
bookkeeping_cpu() {
  awk '/ debug [A-Z_]+: bookkeeping over / { c = $0; sub(/s CPU.*/, "", c); sub(/.*, /, "", c); total += c }
    END { printf "%.3f\n", total }' "$1"
}

# Alternating rounds: the run with chunk.records 1000, then (cross-check) the same with one chunk per phase.
walls_a=() cpus_a=() rss_a=() shares=() walls_b=() cpus_b=()
for ((round = 1; round <= rounds; round++)); do
  one_run "$work/a$round" 1000
  walls_a+=("$R_WALL") cpus_a+=("$R_CPU") rss_a+=("$R_RSS")
  spent=$(bookkeeping_cpu "$work/a$round/log")
  shares+=("$(bench_calc "100 * $spent / $R_CPU")")
  bench_log "round $round: wall $R_WALL s, CPU $R_CPU s, bookkeeping CPU $spent s"
  if [ "$bookkeeping" = 1 ]; then
    one_run "$work/b$round" 10000000
    walls_b+=("$R_WALL") cpus_b+=("$R_CPU")
    bench_log "round $round, one chunk per phase: wall $R_WALL s, CPU $R_CPU s"
  fi
done

bench_result "scale: run all, $characters characters ($items answers, $compression, chunk.records 1000), concurrency $concurrency, $rounds rounds"
bench_result "  wall $(bench_median "${walls_a[@]}") s, CPU $(bench_median "${cpus_a[@]}") s (medians), peak RSS $(bench_calc "$(bench_max "${rss_a[@]}") / 1024") MiB (the largest; goal < 64 MiB)"
for ((round = 1; round <= rounds; round++)); do
  bench_result "  round $round:"
  while IFS= read -r line; do bench_result "  $line"; done <"$work/a$round/tenths.txt"
  sed -n 's/.* debug \([A-Z_]*\): bookkeeping over \(.*\)/    \1 bookkeeping over \2/p' "$work/a$round/log" |
    while IFS= read -r line; do bench_result "$line"; done
done
bench_result "  bookkeeping CPU of all phases / the run's CPU: $(printf '%s%% ' "${shares[@]}")(median $(bench_median "${shares[@]}") %; goal <= 5 %)"
if [ "$bookkeeping" = 1 ]; then
  wall_a=$(bench_median "${walls_a[@]}") cpu_a=$(bench_median "${cpus_a[@]}")
  wall_b=$(bench_median "${walls_b[@]}") cpu_b=$(bench_median "${cpus_b[@]}")
  bench_result "  cross-check, one chunk per phase: wall $wall_b s, CPU $cpu_b s (medians); chunks of 1000 cost $(bench_calc "100 * ($wall_a - $wall_b) / $wall_a") % of the wall, $(bench_calc "100 * ($cpu_a - $cpu_b) / $cpu_a") % of the CPU (this also counts each chunk's own file, fsync and last partial block)"
fi
