#!/usr/bin/env bash
# Harvests from a server other than the bundled fake: nginx serving a static copy of the API (the fake's
# --dump-static output, 600 characters by default), and checks the exact record count of every phase.
# Usage: scripts/check_other_server.sh [CHARACTERS]   (BENCH_ITEMS=real: the live API's ~230 KB item answers)
set -euo pipefail
BENCH_REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_REPO/scripts/bench/lib.sh"
bench_init
characters=${1:-600}
pages=$(((characters + 199) / 200))
bench_tmpdir work
"$FAKE_API" --dump-static "$work/static" --date "$BENCH_DATE" --characters "$characters" "${BENCH_ITEM_FLAGS[@]}" >/dev/null
bench_start_nginx "$work" "$work/static" 1
cd "$work"
bench_config "$work/pipeline.yaml" "$NGINX_URL" 2000 16 "$pages"
export BENCH_API_KEY=$BENCH_KEY_VALUE
bench_pipeline "$work/pipeline.yaml" run all --date "$BENCH_DATE" || bench_die "run all against nginx failed"
status=0
for phase in RANKING_FETCH OCID_LOOKUP CHARACTER_BASIC ITEM_EQUIPMENT; do
  entry=$(bench_phase_json "$work/pipeline.yaml" "$phase")
  state=$(jq -r .state <<<"$entry")
  records=$(jq -r .progress.records <<<"$entry")
  printf '%-16s %-10s %6s records (expected %s)\n' "$phase" "$state" "$records" "$characters"
  [ "$state" = COMPLETED ] && [ "$records" = "$characters" ] || status=1
done
((status == 0)) && echo "exact counts in every phase against nginx" || echo "MISMATCH" >&2
exit $status
