#!/usr/bin/env bash
# Sources scripts/completion/pipeline.bash in a plain bash and asks the completion function, as bash does on
# <Tab>, with COMP_WORDS/COMP_CWORD. Prints each failure; exits 1 if any.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# The completion asks `pipeline complete-phases` for the configured phases: the built binary comes first.
bin=${PIPELINE_BIN:-$repo/build/pipeline}
PATH="$(cd "$(dirname "$bin")" && pwd):$PATH"
cd "$(mktemp -d)" || exit 1 # no ./pipeline.yaml here: the built-in phases
# shellcheck source=../../scripts/completion/pipeline.bash
source "$repo/scripts/completion/pipeline.bash"
failures=0

# complete_words WORD...: the candidates for the last word of the command line "WORD...".
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _pipeline pipeline "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() { # expect "EXPECTED" WORD...
  local want=$1 got
  shift
  got=$(complete_words "$@")
  if [ "$got" != "$want" ]; then
    echo "FAIL: '$*' completed to '$got', expected '$want'"
    failures=$((failures + 1))
  else
    echo "ok: '$*' -> '$got'"
  fi
}

[ "$(complete -p pipeline)" = "complete -F _pipeline pipeline" ] || { echo "FAIL: not registered"; failures=$((failures + 1)); }
expect "ITEM_EQUIPMENT" pipeline stop IT
expect "ITEM_EQUIPMENT" pipeline stop it
expect "CHARACTER_BASIC" pipeline run --date 2026-11-22 CH
expect "all" pipeline run al
expect "CHARACTER_BASIC ITEM_EQUIPMENT OCID_LOOKUP RANKING_FETCH all" pipeline verify ""
expect "CHARACTER_BASIC ITEM_EQUIPMENT OCID_LOOKUP RANKING_FETCH" pipeline status ""
expect "gc run status stop verify" pipeline ""
expect "status stop" pipeline --config x.yaml st
expect "status stop" pipeline -v --run-dir /tmp st
expect "--resume" pipeline run ITEM_EQUIPMENT --res
expect "--keep-days" pipeline gc --ke
expect "--dry-run" pipeline gc --keep-days 3 --dr
expect "--timeout" pipeline stop all --wait --ti
expect "json text" pipeline --log-format ""
expect "" pipeline stop ITEM_EQUIPMENT ""

# The phases are the config's: a phase only the config defines is offered, in any case.
configs=$(mktemp -d) dir=""
trap 'rm -rf "$configs" "$dir"' EXIT
cat >"$configs/nine.yaml" <<'YAML'
phases:
  RANKING_FETCH: {path: /maplestory/v1/ranking/overall, query: {date: "{date}", page: "{page}"}, pages: 2, rows: ranking}
  OCID_LOOKUP: {upstream: RANKING_FETCH, path: /maplestory/v1/id, query: {character_name: "{character_name}"}}
  CHARACTER_STAT: {upstream: OCID_LOOKUP, path: /maplestory/v1/character/stat, query: {ocid: "{ocid}", date: "{date}"}}
YAML
expect "CHARACTER_STAT" pipeline --config "$configs/nine.yaml" stop ch
expect "CHARACTER_STAT OCID_LOOKUP RANKING_FETCH" pipeline status --config "$configs/nine.yaml" ""
expect "all" pipeline --config "$configs/missing.yaml" stop ""

# --config offers YAML files and folders, nothing else.
dir=$(mktemp -d)
mkdir "$dir/conf.d"
touch "$dir/pipeline.yaml" "$dir/other.yml" "$dir/notes.txt"
expect "$dir/conf.d $dir/other.yml $dir/pipeline.yaml" pipeline --config "$dir/"
expect "$dir/conf.d" pipeline --run-dir "$dir/"

if ((failures)); then
  echo "$failures completion check(s) failed"
  exit 1
fi
echo "all completion checks passed"
