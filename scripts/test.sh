#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, and runs every test (unit tests,
# black-box tests against the bundled API, S3 tests against s3rver) with ctest. Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh -DPIPELINE_WERROR=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -j "${CTEST_JOBS:-2}"
