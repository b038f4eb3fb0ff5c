#!/usr/bin/env bash
# Requests/s and MB/s of one process by answer size (docs/scale.md): `pipeline run ITEM_EQUIPMENT` of
# BENCH_CHARACTERS (1000) items from the fake API with ~13 KB and ~220 KB answers, rate limit far above the
# API's (100000/s), concurrency 32, zstd chunks; BENCH_ROUNDS (3) runs each. MB/s counts the JSON lines written.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init
rounds=${BENCH_ROUNDS:-3}
characters=${BENCH_CHARACTERS:-1000}
work=""
bench_fast_tmpdir work
for kb in 13 220; do
  bench_start_fake_api "$work" --characters "$characters" --item-kb "$kb"
  bench_config "$work/p.yaml" "$FAKE_URL" 100000 32 $(((characters + 199) / 200))
  bench_prepare_ocids "$work/p.yaml"
  for ((r = 1; r <= rounds; r++)); do
    rm -rf "$work/data/$BENCH_DATE/ITEM_EQUIPMENT"
    t0=$(bench_now)
    /usr/bin/time -f "%U %S" -o "$work/time.txt" "$PIPELINE" --config "$work/p.yaml" -q run ITEM_EQUIPMENT \
      --date "$BENCH_DATE" || bench_die "ITEM_EQUIPMENT failed"
    t1=$(bench_now)
    raw=$(zstd -d -c "$work"/data/"$BENCH_DATE"/ITEM_EQUIPMENT/*/part-* | wc -c)
    requests=$(bench_phase_json "$work/p.yaml" ITEM_EQUIPMENT | jq .progress.requests)
    bench_result "$(awk -v w=$((t1 - t0)) -v raw="$raw" -v req="$requests" -v kb="$kb" -v cpu="$(cat "$work/time.txt")" \
      'BEGIN { split(cpu, c, " "); printf "answers ~%s KB: %.3f s, %d requests, %.0f requests/s, %.1f MB/s, %.2f s CPU\n",
               kb, w / 1e9, req, req / (w / 1e9), raw / 1e6 / (w / 1e9), c[1] + c[2] }')"
  done
  bench_stop_pid "$FAKE_PID"
  rm -rf "$work/data" "$work/run"
done
