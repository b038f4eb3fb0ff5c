#!/usr/bin/env bash
# Benchmarks of pipeline. Usage: scripts/bench.sh [throughput|ratelimit|memory|verify|realsize|scale|phases|latency|wire|stop|all]... (default: all =
# throughput, ratelimit, memory, realsize; stop latency is scripts/bench_stop.sh, also reachable here as `stop`).
#   throughput  ITEM_EQUIPMENT of 5000 characters from nginx (static dump of the fake API) vs curl --parallel
#   ratelimit   OCID_LOOKUP against the fake API's --rate-limit N with pipeline at 0.95*N: achieved share, 429s
#   memory      peak RSS of ITEM_EQUIPMENT over 600 vs 5000 items
#   verify      `pipeline verify` over 220 KB answers vs sha256sum + zstd -d of the same parts
#   realsize    2000 live-sized (~230 KB) answers: pipeline vs curl, zstd -T0, gzip -6; RSS per compression
#   scale       run all for 200,000 characters (minutes; not part of all)
#   phases      run all for 200,000 characters, the four phases vs nine configured ones: RSS, request rate
#   wire        bytes on the wire per live-sized answer, gzip vs none
#   latency     requests/s at 20, 150, 400 ms answers, concurrency auto vs 32; two processes on one key (not part of all)
# BENCH_ITEMS=real runs throughput, memory and stop with the live API's ~230 KB answers.
# Binaries come from $PIPELINE_BIN / $PIPELINE_FAKE_API, else build/. Missing Debian packages (nginx-light, curl,
# jq, python3, time) are installed with apt-get. Servers bind 127.0.0.1 only; everything started is cleaned up.
# Each benchmark's knobs are described at the top of its script under scripts/bench/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=bench/lib.sh
source "$here/bench/lib.sh"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

benches=()
for arg in "${@:-all}"; do
  case $arg in
    all) benches+=(throughput ratelimit memory realsize) ;;
    throughput | ratelimit | memory | verify | realsize | scale | phases | latency | wire | stop) benches+=("$arg") ;;
    -h | --help) usage ;;
    *) echo "bench.sh: unknown benchmark '$arg'" >&2; usage ;;
  esac
done

bench_init
summary_dir=""
bench_tmpdir summary_dir
export BENCH_SUMMARY="$summary_dir/summary.txt"
: >"$BENCH_SUMMARY"
export BENCH_DATE PIPELINE_BIN=$PIPELINE PIPELINE_FAKE_API=$FAKE_API

failed=()
for b in "${benches[@]}"; do
  if [ "$b" = stop ]; then script="$here/bench_stop.sh"; else script="$here/bench/$b.sh"; fi
  if ! "$script"; then
    failed+=("$b")
    bench_result "$b: FAILED (see the log above)"
  fi
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo
  echo "================ pipeline benchmark summary ================"
  bench_machine
  echo "load average at the end: $load; pipeline: $PIPELINE ($("$PIPELINE" --version 2>/dev/null | head -n1))"
  cat "$BENCH_SUMMARY"
  echo "============================================================"
}
((${#failed[@]} == 0)) || exit 1
