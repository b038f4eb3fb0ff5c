#!/usr/bin/env bash
# Sanitizer runs that CI does after the main tests: the unit suite under ASan+UBSan, and the threaded parts
# (fetch loop, phase driver with its network and writer threads, stop watcher, rate limiter, in-flight budget,
# transport pool, pace file) under TSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
BUILD_DIR=build-asan BUILD_TARGET=pipeline_tests scripts/build.sh -DPIPELINE_SANITIZE=address -DPIPELINE_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Debug
build-asan/pipeline_tests --test-suite-exclude=s3
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
BUILD_DIR=build-tsan BUILD_TARGET=pipeline_tests scripts/build.sh -DPIPELINE_SANITIZE=thread -DPIPELINE_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Debug
# Only suites built on the fakes: libcurl and cpp-httplib are not instrumented, and TSan cannot see their locks.
build-tsan/pipeline_tests --source-file='*test_fetcher.cpp,*test_phase_runner.cpp,*test_rate_limiter.cpp,*test_stop_signal.cpp,*test_in_flight_budget.cpp,*test_transport_pool.cpp,*test_pace_file.cpp'
