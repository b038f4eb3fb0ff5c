#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (ASan+UBSan) in ${FUZZ_BUILD_DIR:-build-fuzz} and
# runs each for SECONDS (default 30), FUZZ_JOBS (default: the number of cores) at a time, starting from its
# committed seed corpus tests/fuzz/corpus/<harness>/. Fails when any harness finds a crash, a leak, undefined
# behaviour or a slow input; the input is kept in build-fuzz/artifacts/<harness>/ and the log in
# build-fuzz/logs/<harness>.log. Prints one line per harness: runs, exec/s, coverage (docs/hardening.md).
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]      e.g. scripts/fuzz.sh 600 ledger checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [HARNESS...]" >&2; exit 2; }
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

# clang and its libFuzzer runtime (Debian: libclang-rt-14-dev) are only needed here, not for the normal build.
runtime_present() {
    compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null
}
if ! command -v clang++ >/dev/null || ! runtime_present; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    echo "fuzz.sh: installing clang and libclang-rt-14-dev" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
scripts/install-deps.sh

BUILD_DIR="$build_dir" BUILD_TARGET=fuzz scripts/build.sh -DCMAKE_CXX_COMPILER=clang++ -DPIPELINE_FUZZ=ON \
    -DBUILD_TESTING=OFF

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
    for source in tests/fuzz/fuzz_*.cpp; do
        name=$(basename "$source" .cpp)
        harnesses+=("${name#fuzz_}")
    done
fi

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Runs one harness; the seed corpus stays as committed, new inputs go to the build folder's corpus.
run_one() {
    local name=$1
    local work="$build_dir/corpus/$name" artifacts="$build_dir/artifacts/$name" log="$build_dir/logs/$name.log"
    mkdir -p "$work" "$artifacts" "$build_dir/logs"
    if "$build_dir/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
        local last runs
        last=$(grep -E '^#[0-9]+' "$log" | tail -1)
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        echo "fuzz_$name: ok, $runs runs in ${seconds}s; $(grep -o 'cov: [0-9]* ft: [0-9]*' <<<"$last"), $(grep -o 'exec/s: [0-9]*' <<<"$last")"
    else
        echo "fuzz_$name: FAILED (log: $log; input: $artifacts/)"
        grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -10 | sed 's/^/    /'
        return 1
    fi
}

failed=0
pids=()
names=()
for name in "${harnesses[@]}"; do
    [[ -x "$build_dir/fuzz_$name" ]] || { echo "fuzz.sh: no harness '$name'" >&2; exit 2; }
    run_one "$name" &
    pids+=($!)
    names+=("$name")
    if ((${#pids[@]} >= jobs)); then
        wait "${pids[0]}" || failed=1
        pids=("${pids[@]:1}")
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
exit $failed
