#!/usr/bin/env bash
# The headline experiment, end to end: dependencies, build, train, report.
# Now: an MLP on 2-D spirals, trained with Adam, printing its accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=ON -DSTRATA_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j "${JOBS:-2}" --target spirals_mlp
"$build/examples/spirals_mlp"
