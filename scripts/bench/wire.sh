#!/usr/bin/env bash
# Bytes on the wire: ITEM_EQUIPMENT of N characters with live-sized answers (the fake's --real-items, ~224 KiB of
# JSON each) from a fake API that gzips when asked (pipeline always asks: Accept-Encoding gzip, deflate) against
# one that never does (--no-gzip). Per round and kind: body bytes the fake sent per answer (its /_stats
# bytes_sent), the wall time, and the ratio of the two. Rounds alternate the two fakes; medians.
# Environment: BENCH_WIRE_CHARACTERS (400), BENCH_ROUNDS (3), BENCH_CONCURRENCY (32).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

characters=${BENCH_WIRE_CHARACTERS:-400}
rounds=${BENCH_ROUNDS:-3}
concurrency=${BENCH_CONCURRENCY:-32}
pages=$(((characters + 199) / 200))

work=""
bench_fast_tmpdir work
bench_log "wire: ITEM_EQUIPMENT of $characters live-sized answers, gzip on the wire vs none, $rounds rounds"

# one_kind KIND FLAGS...: starts a fake (gzip or plain), prepares the ocids, runs ITEM_EQUIPMENT; sets W_BYTES
# (bytes sent per answer) and W_WALL (s).
one_kind() {
  local kind=$1
  shift
  local dir="$work/$kind"
  rm -rf "$dir"
  mkdir -p "$dir"
  bench_start_fake_api "$dir" --characters "$characters" --real-items "$@"
  bench_config "$dir/pipeline.yaml" "$FAKE_URL" 100000 "$concurrency" "$pages"
  (cd "$dir" && bench_prepare_ocids pipeline.yaml)
  curl -sf -X POST -H 'Content-Length: 0' "$FAKE_URL/_reset_stats" >/dev/null || bench_die "cannot reset the stats"
  local t0 t1
  t0=$(bench_now)
  (cd "$dir" && bench_pipeline pipeline.yaml run ITEM_EQUIPMENT --date "$BENCH_DATE") || bench_die "$kind run failed"
  t1=$(bench_now)
  local stats
  stats=$(curl -sf "$FAKE_URL/_stats")
  W_BYTES=$(jq -r '.bytes_sent / .paths["/maplestory/v1/character/item-equipment"] | floor' <<<"$stats")
  W_WALL=$(bench_calc "($t1 - $t0) / 1e9")
  kill "$FAKE_PID" 2>/dev/null || true
  wait "$FAKE_PID" 2>/dev/null || true
}

gz_bytes=() plain_bytes=() gz_walls=() plain_walls=()
for ((round = 1; round <= rounds; round++)); do
  one_kind gzip
  gz_bytes+=("$W_BYTES") gz_walls+=("$W_WALL")
  one_kind plain --no-gzip
  plain_bytes+=("$W_BYTES") plain_walls+=("$W_WALL")
  bench_log "round $round: gzip ${gz_bytes[-1]} B/answer in ${gz_walls[-1]} s; plain ${plain_bytes[-1]} B/answer in ${plain_walls[-1]} s"
done

gz=$(bench_median "${gz_bytes[@]}") plain=$(bench_median "${plain_bytes[@]}")
bench_result "wire: ITEM_EQUIPMENT, $characters live-sized answers, concurrency $concurrency, $rounds alternating rounds (medians)"
bench_result "  gzip on the wire: $gz bytes per answer, wall $(bench_median "${gz_walls[@]}") s"
bench_result "  no compression:   $plain bytes per answer, wall $(bench_median "${plain_walls[@]}") s"
bench_result "  wire bytes plain / gzip: $(bench_calc "$plain / $gz")x; at 500 answers/s: $(bench_calc "500 * $plain / 1e6") MB/s plain, $(bench_calc "500 * $gz / 1e6") MB/s gzip"
