#!/usr/bin/env bash
# Checks the layering of docs/ARCHITECTURE.md from the includes: a core/ folder includes only itself and the
# folders below it; core/ never includes sinks/ or app/; sinks/ never includes app/. Prints each violation as
# file:line and exits 1 when there is one. Run by ctest as `layers`.
set -euo pipefail
cd "$(dirname "$0")/.."
order=(util config fetch api snapshot state run)
status=0
rank_of() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo 99; }
while IFS= read -r -d '' file; do
  folder=${file#core/}; folder=${folder%%/*}
  own=$(rank_of "$folder")
  while IFS=: read -r line target; do
    case $target in
      core/*) dep=${target#core/}; dep=${dep%%/*}
              if [ "$(rank_of "$dep")" -gt "$own" ]; then
                echo "$file:$line: core/$folder may not include $target (a higher layer)"; status=1; fi ;;
      sinks/*|app/*) echo "$file:$line: core/ may not include $target"; status=1 ;;
    esac
  done < <(grep -n '^#include "' "$file" | sed -E 's/^([0-9]+):#include "([^"]+)".*/\1:\2/')
done < <(find core -name '*.[ch]pp' -print0)
while IFS= read -r -d '' file; do
  if grep -n '^#include "app/' "$file"; then echo "$file: sinks/ may not include app/"; status=1; fi
done < <(find sinks -name '*.[ch]pp' -print0)
[ "$status" = 0 ] && echo "layers: every include goes down the layers"
exit "$status"
