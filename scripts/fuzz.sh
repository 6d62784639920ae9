#!/usr/bin/env bash
# Builds the libFuzzer targets of the file readers (fuzz/) with clang and runs each for the
# given number of seconds, JOBS at a time (one core each), then prints per target the inputs
# executed, the corpus it ended with and whether it crashed.
#
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target, default 60; the nightly-style long run is `bash scripts/fuzz.sh 3600`
#   TARGET   any of idx csv mnist_json safetensors checkpoint journal (default: all)
# Environment: BUILD_DIR (default build-fuzz), CXX_FUZZ (default clang++-19), JOBS (default 2).
#
# The targets run as the CTest tests `fuzz.<target>` (ctest -L fuzz), so the flags are those
# of fuzz/CMakeLists.txt. New inputs go to $BUILD_DIR/fuzz/corpus/<target>
# (kept between runs, so a later run starts where this one stopped), crash inputs to
# $BUILD_DIR/fuzz/artifacts/<target>, logs to $BUILD_DIR/fuzz/logs/<target>.log. To keep a
# crash: minimise it (the binary with -minimize_crash=1 -runs=10000 <crash file>), copy it to
# fuzz/regressions/<target>/ and add a test to tests/unit/io/fuzz_regressions.cpp.
# Exit status: 0 when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
  echo "scripts/fuzz.sh: SECONDS must be a positive integer, found '$seconds'" >&2
  exit 2
fi
all_targets=(idx csv mnist_json safetensors checkpoint journal)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  if [[ ! -f "fuzz/$t.cpp" ]]; then
    echo "scripts/fuzz.sh: unknown target '$t' (expected one of: ${all_targets[*]})" >&2
    exit 2
  fi
done

build="${BUILD_DIR:-build-fuzz}"
cxx="${CXX_FUZZ:-clang++-19}"
jobs="${JOBS:-2}"
if ! command -v "$cxx" >/dev/null; then
  echo "scripts/fuzz.sh: '$cxx' not found: the fuzzers need clang (libFuzzer); set CXX_FUZZ" >&2
  exit 2
fi
# A build folder configured with another compiler starts over (CMake would drop the options).
if [[ -f "$build/CMakeCache.txt" ]] && ! grep -qE "^CMAKE_CXX_COMPILER:[A-Z]*=($cxx|$(command -v "$cxx"))\$" "$build/CMakeCache.txt"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
# Debug: no -DNDEBUG, so asserts stay on; fuzz/CMakeLists.txt adds -O1 and the sanitizers.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
  -DSTRATA_BUILD_FUZZERS=ON -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=OFF \
  -DSTRATA_BUILD_BENCHMARKS=OFF -DSTRATA_ENABLE_CUDA=OFF -DSTRATA_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/strata_fuzz_}"

mkdir -p "$build/fuzz/logs"
# One target: runs it and writes its summary line(s) to $log.summary; the status is 1 on a crash.
run_target() {
  local t=$1 log="$build/fuzz/logs/$1.log" status=ok
  ctest --test-dir "$build" -R "^fuzz\.$t\$" -V >"$log" 2>&1 || status=CRASH
  # libFuzzer's last words: "stat::number_of_executed_units: N", "Done N runs in S second(s)"
  # and the final "#N DONE ... corp: E/Bb" line (entries and bytes of the in-memory corpus).
  local runs corp files line why crash
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  [[ -n "$runs" ]] || runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9][0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | sed 's/corp: //' || true)
  files=$(find "$build/fuzz/corpus/$t" -type f | wc -l)
  line=$(printf '%-12s %-6s executions %-10s corpus %-12s (%s files in %s)' "$t" "$status" "${runs:-?}" \
         "${corp:-?}" "$files" "$build/fuzz/corpus/$t")
  if [[ $status != ok ]]; then
    # The first line that says why: a sanitizer report, an escaped exception, an invariant.
    why=$(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error|terminate called|strata fuzz invariant' \
          "$log" | sed 's/^[0-9]*: //' || true)
    crash=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //' || true)
    line+=$'\n'"             ${why:-see the log}"$'\n'"             crash input: ${crash:-see the log}"
  fi
  echo "$line" >"$log.summary"
  echo "$line"
  [[ $status == ok ]]
}

# JOBS targets at a time, each fuzzing on one core.
pids=()
for t in "${targets[@]}"; do
  echo "== fuzz.$t: $seconds s (log: $build/fuzz/logs/$t.log)"
  run_target "$t" &
  pids+=($!)
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do sleep 1; done
done
failed=()
for k in "${!targets[@]}"; do
  wait "${pids[$k]}" || failed+=("${targets[$k]}")
done

echo
echo "== summary ($seconds s per target, $jobs at a time)"
for t in "${targets[@]}"; do cat "$build/fuzz/logs/$t.log.summary"; done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
