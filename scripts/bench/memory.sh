#!/usr/bin/env bash
# Memory: peak RSS (/usr/bin/time %M) of `pipeline run ITEM_EQUIPMENT` over a small and a large set of characters
# (fake API, ~13 KB answers, concurrency 32, zstd chunks), several runs each, median. Goals: large/small <= 1.5
# (memory does not grow with the item count) and the large run < 64 MiB.
# BENCH_ITEMS=real uses the live API's ~230 KB answers. Environment: BENCH_MEM_SMALL (600), BENCH_MEM_LARGE (5000), BENCH_MEM_RUNS (3), BENCH_CONCURRENCY (32).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

small=${BENCH_MEM_SMALL:-600}
large=${BENCH_MEM_LARGE:-5000}
runs=${BENCH_MEM_RUNS:-3}
concurrency=${BENCH_CONCURRENCY:-32}

work=""
bench_fast_tmpdir work
bench_log "memory: ITEM_EQUIPMENT peak RSS over $small vs $large items, $runs runs each"

# measure N: sets RSS_KIB to the median peak RSS in KiB of ITEM_EQUIPMENT over N characters.
measure() {
  local n=$1 dir="$work/n$1" rss=() r rc
  mkdir -p "$dir"
  bench_start_fake_api "$dir" --characters "$n" "${BENCH_ITEM_FLAGS[@]}"
  local config="$dir/pipeline.yaml"
  bench_config "$config" "$FAKE_URL" 100000 "$concurrency" $(((n + 199) / 200))
  bench_prepare_ocids "$config"
  for ((r = 1; r <= runs; r++)); do
    rm -rf "$dir/data/$BENCH_DATE/ITEM_EQUIPMENT"
    rc=0
    /usr/bin/time -f '%M' -o "$dir/rss.txt" \
      "$PIPELINE" --config "$config" -q run ITEM_EQUIPMENT --date "$BENCH_DATE" || rc=$?
    ((rc == 0)) || bench_die "pipeline run ITEM_EQUIPMENT ($n items) exited $rc"
    rss+=("$(tail -n1 "$dir/rss.txt")")
    bench_log "$n items, run $r: peak RSS ${rss[-1]} KiB"
  done
  bench_stop_pid "$FAKE_PID"
  rm -rf "$dir"
  RSS_KIB=$(bench_median "${rss[@]}")
}

measure "$small"
small_kib=$RSS_KIB
measure "$large"
large_kib=$RSS_KIB
ratio=$(bench_calc "$large_kib / $small_kib")
bench_result "memory: ITEM_EQUIPMENT peak RSS, median of $runs runs"
bench_result "  $small items: $(bench_calc "$small_kib / 1024") MiB; $large items: $(bench_calc "$large_kib / 1024") MiB (goal < 64 MiB)"
bench_result "  ratio $large/$small: $ratio (goal <= 1.5)"
