#!/usr/bin/env bash
# Real-sized answers: ITEM_EQUIPMENT of 2000 characters with the live API's ~230 KB item-equipment answers
# (fake API --real-items, served from a static dump by nginx), concurrency 32, no rate limit. In one run, in
# alternating order each round, side by side:
#   curl      curl --parallel --parallel-max 32 to files (wall, CPU)
#   zstd -T0  zstd -3 -T0 of those files (wall), and zstd -3 -T1 (CPU): "curl then zstd", the operator's script
#   gzip -6   gzip -6 of the same bytes (size, CPU)
#   pipeline  sink.compression zstd and gzip (default settings), chunk.records 1000 (wall, CPU, peak RSS, size)
# then peak RSS of pipeline for gzip, zstd and none with chunk.records 1000 and 5000. Prints medians and the
# targets of docs/compression.md: zstd wall <= curl + zstd -T0 (moonshot <= 1.2 x curl); gzip >= 600 answers/s;
# peak RSS <= 64 MiB; pipeline CPU (zstd) <= 1.1 x (curl + zstd -3) CPU.
# Environment: BENCH_ROUNDS (3), BENCH_CHARACTERS (2000), BENCH_CONCURRENCY (32), NGINX_WORKERS (1),
# BENCH_ITEMS (real; "small" = the fake's ~13 KB answers), BENCH_RSS_RECORDS ("1000 5000").
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
export BENCH_ITEMS=${BENCH_ITEMS:-real}
source "$(dirname "$0")/lib.sh"
bench_init
command -v zstd >/dev/null || bench_die "needs the zstd command (scripts/install-deps.sh installs it)"

rounds=${BENCH_ROUNDS:-3}
characters=${BENCH_CHARACTERS:-2000}
concurrency=${BENCH_CONCURRENCY:-32}
workers=${NGINX_WORKERS:-1}
items=$BENCH_ITEMS
read -r -a rss_records <<<"${BENCH_RSS_RECORDS:-1000 5000}"
pages=$(((characters + 199) / 200))

work=""
bench_fast_tmpdir work
bench_log "realsize: $characters characters ($items answers), $rounds rounds, concurrency $concurrency"
"$FAKE_API" --dump-static "$work/static" --date "$BENCH_DATE" --characters "$characters" "${BENCH_ITEM_FLAGS[@]}" >/dev/null
mkdir -p "$work/p"
config="$work/p/pipeline.yaml"
bench_start_fake_api "$work" --characters "$characters"
bench_config "$config" "$FAKE_URL" 100000 "$concurrency" "$pages"
bench_prepare_ocids "$config"
bench_stop_pid "$FAKE_PID"
bench_start_nginx "$work" "$work/static" "$workers"

urls="$work/static/urls-item-equipment.txt"
nurls=$(wc -l <"$urls")
awk -v base="$NGINX_URL" -v out="$work/curl-out" \
  '{ printf "url = \"%s%s\"\noutput = \"%s/%d.json\"\n", base, $0, out, NR }' "$urls" >"$work/curl.cfg"

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time; sets T_WALL, T_CPU (user+sys s), T_RSS (KiB).
timed() {
  local rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" || rc=$?
  ((rc == 0)) || bench_die "$* exited $rc"
  read -r T_WALL T_CPU T_RSS < <(awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$work/time.txt")
}

# pipeline_run COMPRESSION RECORDS: one ITEM_EQUIPMENT run; sets T_* and P_BYTES (bytes of its parts).
pipeline_run() {
  bench_config "$config" "$NGINX_URL" 100000 "$concurrency" "$pages"
  sed -i "s/compression: zstd/compression: $1/; s/records: 1000/records: $2/" "$config"
  rm -rf "$work/p/data/$BENCH_DATE/ITEM_EQUIPMENT"
  timed "$PIPELINE" --config "$config" -q run ITEM_EQUIPMENT --date "$BENCH_DATE"
  local records
  records=$(bench_phase_json "$config" ITEM_EQUIPMENT | jq -r '.progress.records')
  [ "$records" = "$nurls" ] || bench_die "pipeline wrote $records records, expected $nurls"
  P_BYTES=$(find "$work/p/data/$BENCH_DATE/ITEM_EQUIPMENT" -name 'part-*' -printf '%s\n' | awk '{ s += $1 } END { print s }')
}

curl_run() {
  rm -rf "$work/curl-out"
  mkdir "$work/curl-out"
  # --no-progress-meter: with --parallel, -s alone still draws the meter on some curl versions.
  timed curl -sS --no-progress-meter --fail --parallel --parallel-max "$concurrency" \
    -H "x-nxopen-api-key: $BENCH_KEY_VALUE" -K "$work/curl.cfg"
  local files
  files=$(find "$work/curl-out" -type f -size +0 | wc -l)
  [ "$files" = "$nurls" ] || bench_die "curl wrote $files files, expected $nurls"
}

# The answers in one file, for the single-stream tools (compressing the bytes, not walking a folder).
tools_run() { # sets Z0_WALL, Z1_CPU, G_CPU, G_BYTES, Z_BYTES, RAW_BYTES
  find "$work/curl-out" -name '*.json' -print0 | sort -z | xargs -0 cat >"$work/all.json"
  RAW_BYTES=$(stat -c %s "$work/all.json")
  timed sh -c "zstd -q -3 -T0 -c '$work/curl-out'/*.json >'$work/t0.zst'"
  Z0_WALL=$T_WALL
  timed sh -c "zstd -q -3 -T1 -c '$work/all.json' >'$work/t1.zst'"
  Z1_CPU=$T_CPU
  Z_BYTES=$(stat -c %s "$work/t1.zst")
  timed sh -c "gzip -6 -c '$work/all.json' >'$work/g.gz'"
  G_CPU=$T_CPU G_WALL=$T_WALL
  G_BYTES=$(stat -c %s "$work/g.gz")
  rm -f "$work/all.json" "$work/t0.zst" "$work/t1.zst" "$work/g.gz"
}

bench_log "warm-up (not counted)"
curl_run
pipeline_run zstd 1000

c_walls=() c_cpus=() z0s=() z1s=() gcs=() pz_walls=() pz_cpus=() pg_walls=() pg_cpus=() scripted=() cpu_ratios=()
for ((r = 1; r <= rounds; r++)); do
  order=(curl pzstd pgzip)
  ((r % 2)) || order=(pgzip pzstd curl)
  for step in "${order[@]}"; do
    case $step in
      curl)
        curl_run
        cw=$T_WALL cc=$T_CPU
        tools_run
        ;;
      pzstd)
        pipeline_run zstd 1000
        pzw=$T_WALL pzc=$T_CPU pz_bytes=$P_BYTES
        ;;
      pgzip)
        pipeline_run gzip 1000
        pgw=$T_WALL pgc=$T_CPU pg_bytes=$P_BYTES
        ;;
    esac
  done
  c_walls+=("$cw") c_cpus+=("$cc") z0s+=("$Z0_WALL") z1s+=("$Z1_CPU") gcs+=("$G_CPU")
  pz_walls+=("$pzw") pz_cpus+=("$pzc") pg_walls+=("$pgw") pg_cpus+=("$pgc")
  scripted+=("$(bench_calc "$cw + $Z0_WALL")")
  cpu_ratios+=("$(bench_calc "$pzc / ($cc + $Z1_CPU)")")
  bench_log "round $r: curl ${cw}s (cpu $cc) + zstd -T0 ${Z0_WALL}s; pipeline zstd ${pzw}s (cpu $pzc); pipeline gzip ${pgw}s (cpu $pgc); zstd -3 cpu $Z1_CPU; gzip -6 cpu $G_CPU"
done

cw=$(bench_median "${c_walls[@]}") cc=$(bench_median "${c_cpus[@]}")
script_w=$(bench_median "${scripted[@]}")
pzw=$(bench_median "${pz_walls[@]}") pzc=$(bench_median "${pz_cpus[@]}")
pgw=$(bench_median "${pg_walls[@]}") pgc=$(bench_median "${pg_cpus[@]}")
z1=$(bench_median "${z1s[@]}") gc=$(bench_median "${gcs[@]}")
bench_result "realsize: ITEM_EQUIPMENT $nurls items ($items answers, $(bench_calc "$RAW_BYTES / $nurls / 1024") KiB each, $(bench_calc "$RAW_BYTES / 1048576") MiB), nginx workers $workers, concurrency $concurrency, $rounds rounds (medians)"
bench_result "  curl --parallel to files:     wall ${cw} s, cpu ${cc} s"
bench_result "  curl then zstd -3 -T0:        wall ${script_w} s; zstd -3 -T1 cpu ${z1} s ($(bench_calc "$RAW_BYTES / $Z_BYTES")x); gzip -6 cpu ${gc} s ($(bench_calc "$RAW_BYTES / $G_BYTES")x, $G_BYTES bytes)"
bench_result "  pipeline zstd:  wall ${pzw} s = $(bench_calc "$pzw / $script_w") x (curl+zstd -T0) [goal <= 1], $(bench_calc "$pzw / $cw") x curl [moonshot <= 1.2]; cpu ${pzc} s = $(bench_calc "$pzc / ($cc + $z1)") x (curl + zstd -3) cpu [goal <= 1.1; median of per-round ratios $(bench_median "${cpu_ratios[@]}")]; $pz_bytes bytes"
bench_result "  pipeline gzip:  wall ${pgw} s = $(bench_calc "$nurls / $pgw") answers/s [goal >= 600]; cpu ${pgc} s; $pg_bytes bytes = $(bench_calc "$pg_bytes / $G_BYTES") x gzip -6's size"

rss_line=""
for compression in gzip zstd none; do
  for records in "${rss_records[@]}"; do
    pipeline_run "$compression" "$records"
    rss_line+=" $compression/$records: $(bench_calc "$T_RSS / 1024") MiB;"
    bench_log "peak RSS $compression chunk.records $records: $T_RSS KiB (wall ${T_WALL}s)"
  done
done
bench_result "  pipeline peak RSS [goal <= 64 MiB]:$rss_line"
