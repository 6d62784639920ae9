#!/usr/bin/env bash
# Side-by-side CNN training benchmark: the digit CNN on Fashion-MNIST in PyTorch, LibTorch,
# dlib, tiny-dnn and strata, plus an SGEMM ceiling measured in the same run.
#
#   bench/peers/run_cnn.sh            # from anywhere; builds into <repo>/build/peers
#
# Net: Conv2d(1,32,3) ReLU MaxPool2d(2) Conv2d(32,64,3) ReLU MaxPool2d(2) Conv2d(64,128,3)
# ReLU Flatten Linear(1152,100) ReLU Linear(100,50) ReLU Linear(50,10) BatchNorm1d(10),
# cross-entropy on logits; Adam lr 1e-3, batch 50, float32, first N training images.
#
# Env:
#   STRATA_BENCH_THREADS      threads for every peer (default 2); also exported as
#                             OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
#   STRATA_BENCH_SAMPLES      first N training images (default 10000)
#   STRATA_BENCH_WARMUP       untimed batches first (default 10)
#   STRATA_BENCH_BATCHES      timed batches (default 100)
#   STRATA_BENCH_TINYDNN_BATCHES  timed batches for tiny-dnn only (default 20; it is slow)
#   STRATA_BENCH_INFER_CALLS  batch-1 inference calls, median reported (default 500)
#   STRATA_BENCH_FASHION_DIR  IDX files (default /usr/share/datasets/fashion-mnist)
#   STRATA_BENCH_REPEATS      runs per peer, table shows the best (default 1)
#   STRATA_BENCH_IDLE_WAIT    seconds to wait for idle CPUs before each run (default 30)
#   STRATA_BENCH_FTZ=1        dlib: set FTZ/DAZ (the others: see README) (default off)
#   STRATA_BENCH_OPENBLAS     1 (default): peers and the SGEMM ceiling use OpenBLAS
#                             (unpacked locally, as in run_mlp.sh); 0: system libblas.so.3
#   PEERS_SKIP_INSTALL=1      never call apt-get
#   PEERS_BUILD_JOBS          parallel build jobs (default 1)
#   PYTHON_TORCH              python with torch (default /usr/bin/python3)
#
# Output: progress and raw RESULT lines on stderr, then a Markdown table on stdout,
# also written to build/peers/cnn_results.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build/peers"
py="${PYTHON_TORCH:-/usr/bin/python3}"
fashion="${STRATA_BENCH_FASHION_DIR:-/usr/share/datasets/fashion-mnist}"
export STRATA_BENCH_FASHION_DIR="$fashion"
flop_per_sample=19.3e6   # training FLOP per sample (forward + backward), see README

log() { printf '[run_cnn] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- dependencies
if [[ "${PEERS_SKIP_INSTALL:-0}" != 1 ]]; then
  missing=()
  for p in python3-torch libtorch-dev libdlib-dev tiny-dnn libcereal-dev libstb-dev libgemmlowp-dev \
           dataset-fashion-mnist zlib1g-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    log "installing: ${missing[*]}"
    # Another apt (or dpkg) may hold the lock: retry for up to ~10 minutes.
    for try in $(seq 1 60); do
      if $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"; then
        break
      fi
      ((try < 60)) || { log "apt-get install failed"; exit 1; }
      log "apt-get failed (lock held?); retrying in 10 s"
      sleep 10
    done
  fi
fi
if [[ ! -f "$fashion/train-images-idx3-ubyte.gz" || ! -f "$fashion/train-labels-idx1-ubyte.gz" ]]; then
  log "ERROR: Fashion-MNIST not found in $fashion (apt-get install dataset-fashion-mnist)"
  exit 1
fi

# ---------------------------------------------------------------- build
cfg=(-S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release)
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
  cfg+=(-G Ninja)
fi
log "configuring $build"
if ! cmake "${cfg[@]}" -DPEERS_WITH_STRATA=ON >&2; then
  # A half-written strata tree must not take the peers down with it.
  log "configure failed; retrying without strata"
  cmake "${cfg[@]}" -DPEERS_WITH_STRATA=OFF >&2
fi
declare -A built=()
while read -r t; do
  [[ -n "$t" ]] || continue
  log "building $t"
  if cmake --build "$build" --target "$t" -j "${PEERS_BUILD_JOBS:-1}" >&2; then
    built[$t]=1
  else
    log "WARNING: $t failed to build; skipped"
  fi
done < "$build/cnn_peer_targets.txt"
for t in libtorch dlib tinydnn strata sgemm; do
  [[ -n "${built[cnn_$t]:-}" ]] || log "WARNING: cnn_$t not built (see the configure/build messages above); skipped"
done

# ---------------------------------------------------------------- run
threads="${STRATA_BENCH_THREADS:-2}"
export STRATA_BENCH_THREADS="$threads" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the peer processes only (they slow
# OpenBLAS down on this machine); nothing else in the environment is changed.
runenv=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# Give the peers OpenBLAS instead of the system libblas.so.3 (Debian's default alternative
# may be the slow reference BLAS) without touching the system, exactly as run_mlp.sh does:
# the package is unpacked under build/peers/openblas and put on LD_LIBRARY_PATH.
if [[ "${STRATA_BENCH_OPENBLAS:-1}" == 1 ]]; then
  ob="$build/openblas"
  obdir="$(find "$ob" -path '*openblas-pthread/libblas.so.3' -printf '%h\n' 2>/dev/null | head -1 || true)"
  if [[ -z "$obdir" ]]; then
    log "fetching libopenblas0-pthread into $ob (not installed system-wide)"
    rm -rf "$ob" && mkdir -p "$ob/deb"
    (cd "$ob/deb" && apt-get download libopenblas0-pthread >&2)
    dpkg -x "$ob"/deb/libopenblas0-pthread_*.deb "$ob"
    obdir="$(find "$ob" -path '*openblas-pthread/libblas.so.3' -printf '%h\n' | head -1)"
  fi
  runenv+=(LD_LIBRARY_PATH="$obdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi

# The BLAS the peers will actually load (torch, dlib and cnn_sgemm use libblas.so.3).
probe="$build/cnn_sgemm"; [[ -x "$probe" ]] || probe="$build/cnn_dlib"
blas="$("${runenv[@]}" ldd "$probe" 2>/dev/null | awk '/libblas\.so\.3/ {print $3; exit}' || true)"
[[ -n "$blas" ]] || blas="$(ldconfig -p | awk '/libblas\.so\.3 .*x86-64/ {print $NF; exit}' || true)"
[[ -n "$blas" ]] && blas="$(readlink -f "$blas")"
log "threads=$threads  libblas.so.3 -> ${blas:-?}"

repeats="${STRATA_BENCH_REPEATS:-1}"       # runs per peer; the table keeps the best
idle_wait="${STRATA_BENCH_IDLE_WAIT:-30}"  # seconds to wait for idle CPUs before each run
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
loaded=0
cpu_busy() {  # percent of all CPUs busy (incl. steal) over 0.5 s, before we start anything
  local a b t=0 i
  read -ra a < /proc/stat; sleep 0.5; read -ra b < /proc/stat
  for i in 1 2 3 4 5 6 7 8; do t=$((t + b[i] - a[i])); done
  ((t > 0)) && echo $((100 * (t - (b[4] - a[4]) - (b[5] - a[5])) / t)) || echo 0
}
run_peer() {  # name, command...
  local name="$1"; shift
  local busy waited=0 rep
  for ((rep = 1; rep <= repeats; rep++)); do
    while busy="$(cpu_busy)"; ((busy > 15 && waited < idle_wait)); do
      waited=$((waited + 1))
      sleep 0.5
    done
    if ((busy > 15)); then
      log "WARNING: CPUs ${busy}% busy before $name; results will be noisy"
      loaded=1
    fi
    if ((repeats > 1)); then log "running $name ($rep/$repeats)"; else log "running $name"; fi
    if ! "${runenv[@]}" "$@" | tee -a "$raw" >&2; then
      log "WARNING: $name exited non-zero"
    fi
  done
}
if [[ -n "${built[cnn_sgemm]:-}" ]]; then run_peer sgemm "$build/cnn_sgemm" 256 512 1024; fi
if "$py" -c 'import torch' 2>/dev/null; then
  run_peer pytorch "$py" "$here/cnn_torch.py"
else
  log "WARNING: $py cannot import torch; pytorch skipped"
fi
for t in libtorch dlib; do
  if [[ -n "${built[cnn_$t]:-}" ]]; then run_peer "$t" "$build/cnn_$t"; fi
done
tiny_batches="${STRATA_BENCH_TINYDNN_BATCHES:-20}"
if [[ -n "${built[cnn_tinydnn]:-}" ]]; then
  run_peer tiny-dnn env STRATA_BENCH_BATCHES="$tiny_batches" "$build/cnn_tinydnn"
fi
if [[ -n "${built[cnn_strata]:-}" ]]; then run_peer strata "$build/cnn_strata"; fi

# ---------------------------------------------------------------- table
mkdir -p "$build"
{
  echo "CNN training on Fashion-MNIST (batch 50, Adam, float32): samples/s, higher is better;"
  echo "batch-1 eval-mode inference latency: median µs, lower is better."
  echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, threads=$threads, samples=${STRATA_BENCH_SAMPLES:-10000}, warm-up ${STRATA_BENCH_WARMUP:-10} + ${STRATA_BENCH_BATCHES:-100} timed batches (tiny-dnn: $tiny_batches), best of $repeats, BLAS: ${blas:-?}"
  if ((loaded)); then echo "WARNING: the CPUs were busy before at least one run; the figures are noisy."; fi
  echo
  awk -v fps="$flop_per_sample" '
    $1 == "RESULT" { k = $2 "|" $3
                     if (!(k in v)) v[k] = $4
                     else if ($3 ~ /_us$/ ? $4 + 0 < v[k] + 0 : $4 + 0 > v[k] + 0) v[k] = $4 }
    function fmt(x,   s, r) {          # 12345.6 -> 12,346
      if (x == "") return "-"
      s = sprintf("%.0f", x); r = ""
      while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
      return s r
    }
    END {
      np = split("pytorch libtorch dlib tiny-dnn strata", peers, " ")
      label["pytorch"] = "PyTorch"; label["libtorch"] = "LibTorch"; label["dlib"] = "dlib"
      label["tiny-dnn"] = "tiny-dnn"; label["strata"] = "strata"
      s = v["strata|cnn_train_b50"]; g = ""   # SGEMM peak: the best of the measured sizes
      for (k in v) if (k ~ /^sgemm\|/ && (g == "" || v[k] + 0 > g + 0)) g = v[k]
      print "| peer | train samples/s | strata / peer | GFLOP/s | % of SGEMM peak | batch-1 inference µs |"
      print "|---|---:|---:|---:|---:|---:|"
      for (i = 1; i <= np; i++) {
        p = peers[i]; x = v[p "|cnn_train_b50"]; l = v[p "|cnn_infer_b1_us"]
        if (x == "" && l == "") { print "| " label[p] " | not run | - | - | - | - |"; continue }
        gf = (x == "") ? "" : x * fps / 1e9
        printf "| %s | %s | %s | %s | %s | %s |\n", label[p], fmt(x),
          (x == "" || s == "") ? "-" : sprintf("%.2fx", s / x),
          (gf == "") ? "-" : sprintf("%.2f", gf),
          (gf == "" || g == "") ? "-" : sprintf("%.0f%%", 100 * gf / g),
          (l == "") ? "-" : sprintf("%.0f", l)
      }
      if (g != "")
        printf "\nSGEMM ceiling (cblas_sgemm from the peers\x27 libblas.so.3, n x n x n, same threads): n=256: %s, n=512: %s, n=1024: %s GFLOP/s; peak %s.\nGFLOP/s = %.1f MFLOP per training sample x samples/s.\n",
          v["sgemm|sgemm_256_gflops"], v["sgemm|sgemm_512_gflops"], v["sgemm|sgemm_1024_gflops"], g, fps / 1e6
      else print "\nSGEMM ceiling: not measured (cnn_sgemm not built)"
    }' "$raw"
} > "$build/cnn_results.md"
echo
cat "$build/cnn_results.md"
log "table written to $build/cnn_results.md"
