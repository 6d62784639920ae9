#!/usr/bin/env bash
# Builds strata's tests, examples and benchmarks from scratch and runs the test suite.
# Usage: bash scripts/test.sh            (build folder: build-test, override with BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Real data for the end-to-end and reader tests (Debian packages only; checksums verified).
bash scripts/fetch-data.sh --only fashion-mnist,sklearn
build="${BUILD_DIR:-build-test}"
jobs="${JOBS:-2}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_EXAMPLES=ON -DSTRATA_BUILD_BENCHMARKS=ON
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"
