#!/usr/bin/env bash
# Configured phases at scale: `pipeline run all` for 200,000 characters against the bundled fake API (no rate
# limit), the built-in four phases against nine configured ones (RANKING_FETCH, OCID_LOOKUP, six per-ocid phases
# side by side: CHARACTER_BASIC, ITEM_EQUIPMENT, CHARACTER_STAT, CHARACTER_SKILL for one grade,
# CHARACTER_HYPER_STAT, CHARACTER_ABILITY; and GUILD_RANKING). Rounds alternate the two runs; the summary gives
# medians of the request rate (requests the fake API answered / wall; goal: nine within 10 % of four), and the
# peak RSS of each (goal for nine <= 96 MiB). A script, not CI: each run takes minutes.
# Environment: BENCH_SCALE_CHARACTERS (200000), BENCH_CONCURRENCY (32), BENCH_ROUNDS (3), TMPDIR.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
export BENCH_ITEMS=${BENCH_ITEMS:-small}
source "$(dirname "$0")/lib.sh"
bench_init

characters=${BENCH_SCALE_CHARACTERS:-200000}
concurrency=${BENCH_CONCURRENCY:-32}
rounds=${BENCH_ROUNDS:-3}
pages=$(((characters + 199) / 200))

work=""
bench_tmpdir work
bench_log "phases: run all for $characters characters, four vs nine phases, concurrency $concurrency, $rounds rounds"
bench_start_fake_api "$work" --characters "$characters" --threads $((concurrency * 3)) "${BENCH_ITEM_FLAGS[@]}"

# per_ocid NAME PATH [EXTRA_QUERY]: a phase reading OCID_LOOKUP's ocids.
per_ocid() {
  printf '  %s:\n    upstream: OCID_LOOKUP\n    path: %s\n    query: {ocid: "{ocid}", date: "{date}"%s}\n' \
    "$1" "$2" "${3:-}"
}

# nine_phases FILE: the `phases:` map of the nine-phase run.
nine_phases() {
  {
    echo "phases:"
    printf '  RANKING_FETCH:\n    path: /maplestory/v1/ranking/overall\n'
    printf '    query: {date: "{date}", page: "{page}"}\n    pages: %s\n    rows: ranking\n' "$pages"
    printf '  OCID_LOOKUP:\n    upstream: RANKING_FETCH\n    path: /maplestory/v1/id\n'
    printf '    query: {character_name: "{character_name}"}\n    expect: ocid\n    record: merge\n'
    per_ocid CHARACTER_BASIC /maplestory/v1/character/basic
    per_ocid ITEM_EQUIPMENT /maplestory/v1/character/item-equipment
    per_ocid CHARACTER_STAT /maplestory/v1/character/stat
    per_ocid CHARACTER_SKILL /maplestory/v1/character/skill ', character_skill_grade: ["5"]'
    per_ocid CHARACTER_HYPER_STAT /maplestory/v1/character/hyper-stat
    per_ocid CHARACTER_ABILITY /maplestory/v1/character/ability
    printf '  GUILD_RANKING:\n    path: /maplestory/v1/ranking/guild\n'
    printf '    query: {date: "{date}", ranking_type: "0", page: "{page}"}\n    pages: 5\n    rows: ranking\n'
  } >"$1"
}

# one_run DIR KIND: run all in DIR with the four (KIND=four) or nine phases; sets R_WALL (s), R_RSS (KiB),
# R_REQUESTS (API requests answered) and R_RATE (requests/s).
one_run() {
  local dir=$1 kind=$2
  mkdir -p "$dir"
  bench_config "$dir/pipeline.yaml" "$FAKE_URL" 100000 "$concurrency" "$pages"
  sed -i 's/compression: zstd/compression: gzip/' "$dir/pipeline.yaml"
  if [ "$kind" = nine ]; then
    sed -i '/^ranking:/,/^  pages:/d' "$dir/pipeline.yaml"
    nine_phases "$dir/phases.yaml"
    cat "$dir/phases.yaml" >>"$dir/pipeline.yaml"
  fi
  curl -sf -X POST -H 'Content-Length: 0' "$FAKE_URL/_reset_stats" >/dev/null || bench_die "cannot reset the stats"
  local t0 t1 rc=0
  t0=$(bench_now)
  /usr/bin/time -f '%M' -o "$dir/time.txt" "$PIPELINE" --config "$dir/pipeline.yaml" -q run all \
    --date "$BENCH_DATE" 2>"$dir/log" || rc=$?
  t1=$(bench_now)
  ((rc == 0)) || { tail -5 "$dir/log" >&2; bench_die "run all ($kind) exited $rc"; }
  R_WALL=$(bench_calc "($t1 - $t0) / 1e9")
  R_RSS=$(tail -n1 "$dir/time.txt")
  R_REQUESTS=$(curl -sf "$FAKE_URL/_stats" | jq -r '.total')
  R_RATE=$(bench_calc "$R_REQUESTS / $R_WALL")
  rm -rf "$dir/data"
}

rates4=() rates9=() rss4=() rss9=()
for ((round = 1; round <= rounds; round++)); do
  one_run "$work/four$round" four
  rates4+=("$R_RATE") rss4+=("$R_RSS")
  bench_log "round $round, four: $R_REQUESTS requests in $R_WALL s = $R_RATE/s, peak RSS $((R_RSS / 1024)) MiB"
  one_run "$work/nine$round" nine
  rates9+=("$R_RATE") rss9+=("$R_RSS")
  bench_log "round $round, nine: $R_REQUESTS requests in $R_WALL s = $R_RATE/s, peak RSS $((R_RSS / 1024)) MiB"
done

rate4=$(bench_median "${rates4[@]}") rate9=$(bench_median "${rates9[@]}")
bench_result "phases: run all, $characters characters, concurrency $concurrency, $rounds alternating rounds (medians)"
bench_result "  four phases: $rate4 requests/s, peak RSS $(bench_calc "$(bench_max "${rss4[@]}") / 1024") MiB (the largest)"
bench_result "  nine phases: $rate9 requests/s, peak RSS $(bench_calc "$(bench_max "${rss9[@]}") / 1024") MiB (the largest; goal <= 96 MiB)"
bench_result "  request rate nine / four: $(bench_calc "$rate9 / $rate4") (goal within 10 %)"
