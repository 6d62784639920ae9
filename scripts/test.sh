#!/usr/bin/env bash
# Builds strata's tests, examples and benchmarks from scratch and runs the test suite, with
# the reliability checks of docs/reliability.md, in stages:
#   normal  build-test/   every test (Release; the correctness suites at -O1), the fast
#                         suites (unit, faults, process) built with AddressSanitizer +
#                         UndefinedBehaviorSanitizer, lean checks (STRATA_SANITIZE_LEAN)
#   tsan    build-tsan/   the threaded paths (parallel sweep, trainer, OpenMP layers) under
#                         ThreadSanitizer (clang 19, libomp + Archer)
#   fuzz    build-fuzz/   each libFuzzer target (ASan + UBSan) for FUZZ_SECONDS (default 20)
#   asan    build-asan/   the fast suites under ASan + UBSan with every check (GCC); not in
#                         the default stages: the full checks triple the suites' compile time
# Usage: bash scripts/test.sh
# Environment: STAGES (default "normal tsan fuzz"; "normal tsan fuzz asan" for all), JOBS
# (default 2), BUILD_DIR (the normal build's folder, default build-test), FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
stages="${STAGES:-normal tsan fuzz}"
jobs="${JOBS:-2}"
has() { [[ " $stages " == *" $1 "* ]]; }

extra=()
if has tsan || has fuzz; then extra+=(clang-19 libclang-rt-19-dev libomp-19-dev); fi
bash scripts/install-deps.sh "${extra[@]}"
# Real data for the end-to-end and reader tests (Debian packages only; checksums verified).
bash scripts/fetch-data.sh --only fashion-mnist,sklearn

stage() { echo; echo "== test.sh: $1 ($(date -u +%H:%M:%S))"; }

if has normal; then
  stage "normal build, every test (the fast suites under ASan + UBSan)"
  build="${BUILD_DIR:-build-test}"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_EXAMPLES=ON -DSTRATA_BUILD_BENCHMARKS=ON -DSTRATA_QUICK_PROGRAMS=ON \
    -DSTRATA_SANITIZE_FAST_SUITES=address,undefined -DSTRATA_SANITIZE_LEAN=ON
  cmake --build "$build" -j "$jobs"
  ctest --test-dir "$build" --output-on-failure -j "$jobs"
fi

if has asan; then
  stage "AddressSanitizer + UndefinedBehaviorSanitizer, every check: unit, faults, process"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_SANITIZE_FAST_SUITES=address,undefined \
    -DSTRATA_SANITIZE_LEAN=OFF \
    -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_EXAMPLES=OFF -DSTRATA_BUILD_BENCHMARKS=OFF -DSTRATA_ENABLE_CUDA=OFF
  cmake --build build-asan -j "$jobs" --target strata_unit_tests strata_fault_tests strata_process_tests \
    strata_test_child strata_conv_allocations
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L '^(unit|faults|process)$'
fi

if has tsan; then
  stage "ThreadSanitizer: parallel sweep, trainer, OpenMP layers"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_BUILD_TYPE=Release \
    -DSTRATA_SANITIZE=thread -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_EXAMPLES=OFF -DSTRATA_BUILD_BENCHMARKS=OFF \
    -DSTRATA_ENABLE_CUDA=OFF
  cmake --build build-tsan -j "$jobs" --target strata_thread_tests
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L '^tsan$'
fi

if has fuzz; then
  stage "fuzzing the file readers, ${FUZZ_SECONDS:-20} s each"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
stage "done"
