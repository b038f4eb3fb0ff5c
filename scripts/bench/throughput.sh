#!/usr/bin/env bash
# Throughput: `pipeline run ITEM_EQUIPMENT` (5000 characters, ~13 KB answers, concurrency 32, zstd chunks, rate limit
# not binding) versus `curl --parallel --parallel-max 32` fetching the same 5000 URLs to files, both from nginx
# serving a static dump of the fake API on 127.0.0.1. Rounds alternate the tools (and which goes first); prints the
# median wall time of each, the median of the per-round ratios pipeline/curl, and pipeline's user+sys CPU.
# BENCH_ITEMS=real uses the live API's ~230 KB answers. Environment: BENCH_ROUNDS (5), BENCH_CHARACTERS (5000), NGINX_WORKERS (1), BENCH_CONCURRENCY (32).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

rounds=${BENCH_ROUNDS:-5}
characters=${BENCH_CHARACTERS:-5000}
workers=${NGINX_WORKERS:-1}
concurrency=${BENCH_CONCURRENCY:-32}
((rounds >= 1)) || bench_die "BENCH_ROUNDS must be >= 1"
pages=$(((characters + 199) / 200))

work=""
bench_fast_tmpdir work # static dump, pipeline's run dir and sink, curl's files
out=$work
bench_log "throughput: $characters characters, $rounds rounds, concurrency $concurrency, nginx workers $workers"

# Static copy of the API for nginx, and the upstream OCID_LOOKUP snapshot (from the fake API with the same data).
"$FAKE_API" --dump-static "$work/static" --date "$BENCH_DATE" --characters "$characters" "${BENCH_ITEM_FLAGS[@]}" >/dev/null
mkdir -p "$out/p"
config="$out/p/pipeline.yaml"
bench_start_fake_api "$work" --characters "$characters"
bench_config "$config" "$FAKE_URL" 100000 "$concurrency" "$pages"
bench_prepare_ocids "$config"
bench_stop_pid "$FAKE_PID"

bench_start_nginx "$work" "$work/static" "$workers"
bench_config "$config" "$NGINX_URL" 100000 "$concurrency" "$pages"

# curl: one `url`/`output` pair per item in a -K file; the key header is given once on the command line.
urls="$work/static/urls-item-equipment.txt"
nurls=$(wc -l <"$urls")
awk -v base="$NGINX_URL" -v out="$out/curl-out" \
  '{ printf "url = \"%s%s\"\noutput = \"%s/%d.json\"\n", base, $0, out, NR }' "$urls" >"$work/curl.cfg"

run_pipeline() { # sets PW (wall s) and PC (user+sys CPU s)
  rm -rf "$out/p/data/$BENCH_DATE/ITEM_EQUIPMENT"
  sync
  local t0 t1 rc=0
  t0=$(bench_now)
  /usr/bin/time -f '%U %S' -o "$work/time.txt" \
    "$PIPELINE" --config "$config" -q run ITEM_EQUIPMENT --date "$BENCH_DATE" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || bench_die "pipeline run ITEM_EQUIPMENT exited $rc"
  local records
  records=$(bench_phase_json "$config" ITEM_EQUIPMENT | jq -r '.progress.records')
  [ "$records" = "$nurls" ] || bench_die "pipeline wrote $records records, expected $nurls"
  read -r PW PC < <(awk -v w=$((t1 - t0)) '{ printf "%.4f %.4f\n", w / 1e9, $1 + $2 }' "$work/time.txt")
}

run_curl() { # sets CW (wall s)
  rm -rf "$out/curl-out"
  mkdir "$out/curl-out"
  sync
  local t0 t1 rc=0
  t0=$(bench_now)
  curl -sS --fail --parallel --parallel-max "$concurrency" -H "x-nxopen-api-key: $BENCH_KEY_VALUE" \
    -K "$work/curl.cfg" 2>"$work/curl.err" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || { cat "$work/curl.err" >&2; bench_die "curl exited $rc"; }
  local files
  files=$(find "$out/curl-out" -type f -size +0 | wc -l)
  [ "$files" = "$nurls" ] || bench_die "curl wrote $files files, expected $nurls"
  CW=$(awk -v w=$((t1 - t0)) 'BEGIN { printf "%.4f\n", w / 1e9 }')
}

bench_log "warm-up (not counted)"
run_pipeline
run_curl

p_walls=() c_walls=() ratios=() cpus=()
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    run_pipeline
    run_curl
  else
    run_curl
    run_pipeline
  fi
  pw=$PW pc=$PC cw=$CW
  p_walls+=("$pw") c_walls+=("$cw") cpus+=("$pc")
  ratios+=("$(bench_calc "$pw / $cw")")
  bench_log "round $r: pipeline ${pw}s (cpu ${pc}s)  curl ${cw}s  ratio ${ratios[-1]}"
done

pm=$(bench_median "${p_walls[@]}")
cm=$(bench_median "${c_walls[@]}")
rm_=$(bench_median "${ratios[@]}")
cpum=$(bench_median "${cpus[@]}")
bench_result "throughput: ITEM_EQUIPMENT ${nurls} items from nginx (workers=$workers), concurrency $concurrency, $rounds rounds, output on $(stat -f -c %T "$out")"
bench_result "  pipeline wall median ${pm} s ($(bench_calc "$nurls / $pm") items/s), user+sys CPU median ${cpum} s"
bench_result "  curl     wall median ${cm} s ($(bench_calc "$nurls / $cm") items/s)"
bench_result "  ratio pipeline/curl (median of per-round ratios): ${rm_}"
