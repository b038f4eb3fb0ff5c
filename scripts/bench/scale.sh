#!/usr/bin/env bash
# Scale: `pipeline run all` for 200,000 characters against the bundled fake API, no rate limit (a script, not
# CI: it takes minutes). Samples every phase's items_done from the ledger every 10 ms (progress_tenths.py) and
# reports, per phase, the time per 10,000 items over the first and the last tenth of its items (goal: last
# within 15 % of first), the peak RSS of the whole run (goal < 64 MiB), and the cost of the per-chunk
# bookkeeping (checkpoint, ledger): the same run again with chunk.records so large that each phase commits
# once, wall difference / wall (goal <= 5 %).
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

# one_run DIR CHUNK_RECORDS: run all in DIR; sets R_WALL (s) and R_RSS (KiB); writes per-phase tenths to DIR/tenths.txt.
one_run() {
  local dir=$1 records=$2
  mkdir -p "$dir"
  bench_config "$dir/pipeline.yaml" "$FAKE_URL" 100000 "$concurrency" "$pages"
  sed -i "s/compression: zstd/compression: $compression/; s/records: 1000/records: $records/" "$dir/pipeline.yaml"
  local t0 t1 rc=0
  t0=$(bench_now)
  /usr/bin/time -f '%M' -o "$dir/rss.txt" \
    "$PIPELINE" --config "$dir/pipeline.yaml" -q run all --date "$BENCH_DATE" &
  local pid=$!
  python3 "$(dirname "$0")/progress_tenths.py" "$dir/run/ledger.json" "$pid" >"$dir/tenths.txt"
  wait "$pid" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || bench_die "run all exited $rc"
  R_WALL=$(bench_calc "($t1 - $t0) / 1e9")
  R_RSS=$(tail -n1 "$dir/rss.txt")
}

one_run "$work/a" 1000
bench_result "scale: run all, $characters characters ($items answers, $compression, chunk.records 1000), concurrency $concurrency"
bench_result "  wall ${R_WALL} s, peak RSS $(bench_calc "$R_RSS / 1024") MiB (goal < 64 MiB)"
wall_a=$R_WALL
while IFS= read -r line; do bench_result "$line"; done <"$work/a/tenths.txt"

if [ "$bookkeeping" = 1 ]; then
  one_run "$work/b" 10000000
  bench_result "  bookkeeping: same run with one chunk per phase: wall ${R_WALL} s; per-chunk bookkeeping costs $(bench_calc "100 * ($wall_a - $R_WALL) / $wall_a") % of the run (goal <= 5 %)"
fi
