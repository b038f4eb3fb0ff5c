#!/usr/bin/env bash
# Scale: `pipeline run all` for 200,000 characters against the bundled fake API, no rate limit (a script, not
# CI: it takes minutes). Samples every phase's items_done from the ledger every 0.1 s and reports, per phase,
# the time per 10,000 items over the first and the last tenth of its items (goal: last within 15 % of first),
# the peak RSS of the whole run (goal < 64 MiB), and the cost of the per-chunk bookkeeping (checkpoint, ledger):
# the same run again with chunk.records so large that each phase commits once, wall difference / wall (goal <= 5 %).
# Environment: BENCH_SCALE_CHARACTERS (200000), BENCH_CONCURRENCY (32), BENCH_ITEMS (small; "real" = ~230 KB
# item-equipment answers), BENCH_SCALE_COMPRESSION (gzip), BENCH_SCALE_BOOKKEEPING (1; 0 skips the second run).
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
pages=$(((characters + 199) / 200))

work=""
bench_fast_tmpdir work
bench_log "scale: run all for $characters characters ($items answers, $compression), concurrency $concurrency"
bench_start_fake_api "$work" --characters "$characters" --threads $((concurrency * 3)) "${BENCH_ITEM_FLAGS[@]}"

# one_run DIR CHUNK_RECORDS: run all in DIR; sets R_WALL (s) and R_RSS (KiB); samples progress into DIR/samples.
one_run() {
  local dir=$1 records=$2
  mkdir -p "$dir"
  bench_config "$dir/pipeline.yaml" "$FAKE_URL" 100000 "$concurrency" "$pages"
  sed -i "s/compression: zstd/compression: $compression/; s/records: 1000/records: $records/" "$dir/pipeline.yaml"
  : >"$dir/samples"
  local t0 t1 rc=0
  t0=$(bench_now)
  /usr/bin/time -f '%M' -o "$dir/rss.txt" \
    "$PIPELINE" --config "$dir/pipeline.yaml" -q run all --date "$BENCH_DATE" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -s "$dir/run/ledger.json" ]; then
      jq -r --arg t "$(bench_now)" '.phases[] | "\($t) \(.phase) \(.progress.items_done) \(.progress.items_total)"' \
        "$dir/run/ledger.json" >>"$dir/samples" 2>/dev/null || true
    fi
    sleep 0.1
  done
  wait "$pid" || rc=$?
  t1=$(bench_now)
  # The last state of every phase (a phase may finish between two samples).
  jq -r --arg t "$t1" '.phases[] | "\($t) \(.phase) \(.progress.items_done) \(.progress.items_total)"' \
    "$dir/run/ledger.json" >>"$dir/samples"
  ((rc == 0)) || bench_die "run all exited $rc"
  R_WALL=$(bench_calc "($t1 - $t0) / 1e9")
  R_RSS=$(tail -n1 "$dir/rss.txt")
}

one_run "$work/a" 1000
bench_result "scale: run all, $characters characters ($items answers, $compression, chunk.records 1000), concurrency $concurrency"
bench_result "  wall ${R_WALL} s, peak RSS $(bench_calc "$R_RSS / 1024") MiB (goal < 64 MiB)"
wall_a=$R_WALL
# Per phase: the first sample at or past 10 % / 90 % / 100 % of its items gives the two tenths' durations.
awk -v n=10000 '
  { t = $1 / 1e9; p = $2; d = $3; tot = $4
    if (tot < 10 * n / 5) next
    total[p] = tot
    if (!(p in start) && d > 0) start[p] = t
    if (!(p in t10) && d >= tot / 10) { t10[p] = t; d10[p] = d }
    if (!(p in t90) && d >= tot * 9 / 10) { t90[p] = t; d90[p] = d }
    if (!(p in tend) && d >= tot) { tend[p] = t; dend[p] = d } }
  END { for (p in total) if ((p in t10) && (p in tend)) {
          first = (t10[p] - start[p]) / d10[p] * n; last = (tend[p] - t90[p]) / (dend[p] - d90[p]) * n
          printf "  %-16s %7d items: first tenth %.2f s / 10k items, last tenth %.2f s / 10k items, last/first %.3f (goal <= 1.15)\n", p, total[p], first, last, last / first } }' \
  "$work/a/samples" | sort | while IFS= read -r line; do bench_result "$line"; done

if [ "$bookkeeping" = 1 ]; then
  one_run "$work/b" 10000000
  bench_result "  bookkeeping: same run with one chunk per phase: wall ${R_WALL} s; per-chunk bookkeeping costs $(bench_calc "100 * ($wall_a - $R_WALL) / $wall_a") % of the run (goal <= 5 %)"
fi
