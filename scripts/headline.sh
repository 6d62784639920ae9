#!/usr/bin/env bash
# The headline experiment, end to end: dependencies, data, build, the sweep, its table and
# plots. An MLP sweep (hidden layers x neurons x activation x loss x optimizer x lr x batch
# size x epochs, 192 trials per data set) on 2-D spirals and on the breast-cancer set;
# results under results/mlp_sweep/. Extra arguments go to the program (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-data.sh --only sklearn
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=ON -DSTRATA_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j "${JOBS:-2}" --target mlp_sweep
"$build/examples/mlp_sweep" --out results/mlp_sweep --data data "$@"
