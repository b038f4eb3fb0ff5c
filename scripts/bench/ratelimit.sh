#!/usr/bin/env bash
# Rate limit: the fake API answers 429 beyond N requests per calendar second; pipeline is configured at 0.95*N and
# runs OCID_LOOKUP over enough characters to last ~10 s. Per run: requests/s achieved over the whole run as a share
# of the configured rate (goal >= 97 %), the 429s the API answered (goal 0) and the API's max requests in one
# calendar second. Environment: BENCH_RATE_LIMIT (N, 400), BENCH_RATE_RUNS (3), BENCH_RATE_CHARACTERS (10*N),
# BENCH_CONCURRENCY (32).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

limit=${BENCH_RATE_LIMIT:-400}
runs=${BENCH_RATE_RUNS:-3}
characters=${BENCH_RATE_CHARACTERS:-$((limit * 10))}
concurrency=${BENCH_CONCURRENCY:-32}
configured=$(awk -v n="$limit" 'BEGIN { printf "%.10g\n", n * 0.95 }')
pages=$(((characters + 199) / 200))

work=""
bench_fast_tmpdir work
bench_log "ratelimit: API limit $limit/s, pipeline at $configured/s, OCID_LOOKUP of $characters characters, $runs runs"
bench_start_fake_api "$work" --characters "$characters" --rate-limit "$limit"
config="$work/pipeline.yaml"
bench_config "$config" "$FAKE_URL" "$configured" "$concurrency" "$pages"
bench_pipeline "$config" run RANKING_FETCH --date "$BENCH_DATE" || bench_die "RANKING_FETCH failed"

shares=() n429s=() maxes=() rates=()
for ((r = 1; r <= runs; r++)); do
  rm -rf "$work/data/$BENCH_DATE/OCID_LOOKUP"
  # Let the previous run's last calendar second pass, then count from zero.
  sleep 1.1
  curl -sf -X POST -H 'Content-Length: 0' "$FAKE_URL/_reset_stats" >/dev/null || bench_die "cannot reset the fake API's stats"
  t0=$(bench_now)
  rc=0
  bench_pipeline "$config" run OCID_LOOKUP --date "$BENCH_DATE" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || bench_die "pipeline run OCID_LOOKUP exited $rc"
  stats=$(curl -sf "$FAKE_URL/_stats") || bench_die "cannot read the fake API's stats"
  total=$(jq -r '.total' <<<"$stats")
  ok=$(jq -r '.answered["200"]' <<<"$stats")
  n429=$(jq -r '.answered["429"]' <<<"$stats")
  maxps=$(jq -r '.max_per_second' <<<"$stats")
  wall=$(bench_calc "($t1 - $t0) / 1e9")
  rate=$(bench_calc "$total / $wall")
  share=$(bench_calc "100 * $rate / $configured")
  bench_log "run $r: $total requests ($ok ok, $n429 x 429) in ${wall}s = ${rate}/s = ${share}% of $configured/s; max ${maxps} in one second"
  shares+=("$share") n429s+=("$n429") maxes+=("$maxps") rates+=("$rate")
done

bench_result "ratelimit: API limit $limit/s, pipeline rate_limit_per_sec $configured, OCID_LOOKUP $characters items, $runs runs"
bench_result "  achieved req/s per run: ${rates[*]} (share of configured: ${shares[*]} %; median $(bench_median "${shares[@]}") %, goal >= 97 %)"
bench_result "  429 answers per run: ${n429s[*]} (goal 0)"
bench_result "  max requests in one calendar second per run: ${maxes[*]} (limit $limit)"
