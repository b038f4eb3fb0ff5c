#!/usr/bin/env bash
# verify: `pipeline verify ITEM_EQUIPMENT` over a harvest of 220 KB answers (zstd chunks of 1000 records) versus
# the baseline `sha256sum` of the parts followed by `zstd -d` of the same parts to /dev/null (what verify at
# least has to do: hash each part, decompress it; verify also splits lines and parses each as JSON). Rounds
# alternate which goes first; prints the median wall and CPU time of each and the median of the per-round wall
# ratios verify/baseline (verify checks lines on a second thread, so it needs a free core to keep pace).
# Environment: BENCH_ROUNDS (5), BENCH_CHARACTERS (1000), BENCH_ITEM_KB (220).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init
command -v zstd >/dev/null && command -v sha256sum >/dev/null || bench_die "needs zstd and sha256sum (Debian: zstd, coreutils)"

rounds=${BENCH_ROUNDS:-5}
characters=${BENCH_CHARACTERS:-1000}
item_kb=${BENCH_ITEM_KB:-220}
pages=$(((characters + 199) / 200))
work=""
bench_fast_tmpdir work
config="$work/pipeline.yaml"
bench_log "verify: $characters characters, ${item_kb} KB answers, $rounds rounds"

bench_start_fake_api "$work" --characters "$characters" --item-kb "$item_kb"
bench_config "$config" "$FAKE_URL" 100000 32 "$pages"
bench_prepare_ocids "$config"
bench_pipeline "$config" run ITEM_EQUIPMENT --date "$BENCH_DATE" || bench_die "ITEM_EQUIPMENT failed"
bench_stop_pid "$FAKE_PID"

parts=("$work"/data/"$BENCH_DATE"/ITEM_EQUIPMENT/*/part-*.jsonl.zst)
compressed=$(du -cb "${parts[@]}" | tail -n1 | cut -f1)
raw=$(zstd -d -c "${parts[@]}" | wc -c)
bench_log "${#parts[@]} parts, $((compressed / 1048576)) MiB compressed, $((raw / 1048576)) MiB of JSON lines"

cpu_of() { awk '{ printf "%.4f\n", $1 + $2 }' "$1"; } # user+sys seconds from /usr/bin/time -f '%U %S'
run_verify() { # sets VW (wall s) and VC (CPU s)
  local t0 t1 out
  t0=$(bench_now)
  out=$(/usr/bin/time -f '%U %S' -o "$work/verify.time" \
    "$PIPELINE" --config "$config" -q verify ITEM_EQUIPMENT --date "$BENCH_DATE") || bench_die "verify failed: $out"
  t1=$(bench_now)
  [[ $out == "OK ITEM_EQUIPMENT "* ]] || bench_die "verify said: $out"
  VW=$(awk -v w=$((t1 - t0)) 'BEGIN { printf "%.4f\n", w / 1e9 }')
  VC=$(cpu_of "$work/verify.time")
}
run_baseline() { # sets BW (wall s) and BC (CPU s)
  local t0 t1
  t0=$(bench_now)
  /usr/bin/time -f '%U %S' -o "$work/sha.time" sha256sum "${parts[@]}" >/dev/null
  /usr/bin/time -f '%U %S' -o "$work/zstd.time" zstd -q -d -c "${parts[@]}" >/dev/null
  t1=$(bench_now)
  BW=$(awk -v w=$((t1 - t0)) 'BEGIN { printf "%.4f\n", w / 1e9 }')
  BC=$(bench_calc "$(cpu_of "$work/sha.time") + $(cpu_of "$work/zstd.time")")
}

bench_log "warm-up (not counted)"
run_verify
run_baseline
v_walls=() b_walls=() ratios=() v_cpus=() b_cpus=()
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then run_verify; run_baseline; else run_baseline; run_verify; fi
  v_walls+=("$VW") b_walls+=("$BW") ratios+=("$(bench_calc "$VW / $BW")") v_cpus+=("$VC") b_cpus+=("$BC")
  bench_log "round $r: verify ${VW}s (cpu ${VC}s)  sha256sum+zstd -d ${BW}s (cpu ${BC}s)  ratio ${ratios[-1]}"
done
vm=$(bench_median "${v_walls[@]}")
bm=$(bench_median "${b_walls[@]}")
bench_result "verify: ITEM_EQUIPMENT $characters records of ~${item_kb} KB, ${#parts[@]} zstd parts ($((compressed / 1048576)) MiB compressed, $((raw / 1048576)) MiB raw), $rounds rounds"
bench_result "  pipeline verify median ${vm} s ($(bench_calc "$raw / 1048576 / $vm") MiB/s of JSON), user+sys CPU median $(bench_median "${v_cpus[@]}") s"
bench_result "  sha256sum + zstd -d median ${bm} s, user+sys CPU median $(bench_median "${b_cpus[@]}") s"
bench_result "  ratio verify/baseline (median of per-round ratios): $(bench_median "${ratios[@]}")"
