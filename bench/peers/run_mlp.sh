#!/usr/bin/env bash
# Side-by-side MLP training-step benchmark: PyTorch, LibTorch, dlib and (if built) strata.
#
#   bench/peers/run_mlp.sh            # from anywhere; builds into <repo>/build/peers
#
# Env:
#   STRATA_BENCH_THREADS  threads for every peer (default 2); also exported as
#                         OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
#   STRATA_BENCH_SECONDS  timed seconds per case (default 2)
#   STRATA_BENCH_FTZ=1    run every peer with flush-to-zero/denormals-are-zero (default off)
#   STRATA_BENCH_REPEATS  runs per peer, table shows the best (default 3)
#   STRATA_BENCH_IDLE_WAIT  seconds to wait for idle CPUs before each run (default 60)
#   STRATA_BENCH_OPENBLAS  1 (default): run the peers against OpenBLAS (unpacked locally, see below); 0: system BLAS
#   PEERS_SKIP_INSTALL=1  never call apt-get
#   PYTHON_TORCH          python with torch (default /usr/bin/python3)
#
# Output: progress and raw RESULT lines on stderr, then a Markdown table on stdout,
# also written to build/peers/mlp_results.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build/peers"
py="${PYTHON_TORCH:-/usr/bin/python3}"

log() { printf '[run_mlp] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- dependencies
if [[ "${PEERS_SKIP_INSTALL:-0}" != 1 ]]; then
  missing=()
  for p in python3-torch libtorch-dev libdlib-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    log "installing: ${missing[*]}"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
  fi
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
  if cmake --build "$build" --target "$t" >&2; then
    built[$t]=1
  else
    log "WARNING: $t failed to build; skipped"
  fi
done < "$build/peer_targets.txt"

# ---------------------------------------------------------------- run
threads="${STRATA_BENCH_THREADS:-2}"
export STRATA_BENCH_THREADS="$threads" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the peer processes only (they slow
# OpenBLAS down on this machine); nothing else in the environment is changed.
runenv=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# Optional: give the peers OpenBLAS instead of the system libblas.so.3 (Debian's default
# alternative is the slow reference BLAS) without touching the system: the package is
# unpacked under build/peers/openblas and put on LD_LIBRARY_PATH for the peers only.
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

# The BLAS the peers will actually load (torch and dlib both use libblas.so.3).
blas="$("${runenv[@]}" ldd "$build/mlp_dlib" 2>/dev/null | awk '/libblas\.so\.3/ {print $3; exit}' || true)"
[[ -n "$blas" ]] || blas="$(ldconfig -p | awk '/libblas\.so\.3 .*x86-64/ {print $NF; exit}' || true)"
[[ -n "$blas" ]] && blas="$(readlink -f "$blas")"
log "threads=$threads  libblas.so.3 -> ${blas:-?}"

repeats="${STRATA_BENCH_REPEATS:-3}"       # runs per peer; the table keeps the best
idle_wait="${STRATA_BENCH_IDLE_WAIT:-60}"  # seconds to wait for idle CPUs before each run
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
cpu_busy() {  # percent of all CPUs busy (incl. steal) over 0.5 s, before we start anything
  local a b t=0 i
  read -ra a < /proc/stat; sleep 0.5; read -ra b < /proc/stat
  for i in 1 2 3 4 5 6 7 8; do t=$((t + b[i] - a[i])); done
  ((t > 0)) && echo $((100 * (t - (b[4] - a[4]) - (b[5] - a[5])) / t)) || echo 0
}
run_peer() {  # name, command...
  local name="$1"; shift
  # Every peer uses $threads threads on a small machine: other load skews results badly
  # (an OpenMP barrier waiting on a descheduled thread can cost 10x), so wait for quiet.
  local busy waited=0 rep
  for ((rep = 1; rep <= repeats; rep++)); do
    while busy="$(cpu_busy)"; ((busy > 15 && waited < idle_wait)); do
      waited=$((waited + 1))
      sleep 0.5
    done
    ((busy > 15)) && log "WARNING: CPUs ${busy}% busy before $name; results will be noisy"
    if ((repeats > 1)); then log "running $name ($rep/$repeats)"; else log "running $name"; fi
    if ! "${runenv[@]}" "$@" | tee -a "$raw" >&2; then
      log "WARNING: $name exited non-zero"
    fi
  done
}
if "$py" -c 'import torch' 2>/dev/null; then
  run_peer pytorch "$py" "$here/mlp_torch.py"
else
  log "WARNING: $py cannot import torch; pytorch skipped"
fi
for t in libtorch dlib strata; do   # only what this configure listed and built
  if [[ -n "${built[mlp_$t]:-}" ]]; then run_peer "$t" "$build/mlp_$t"; fi
done

# ---------------------------------------------------------------- table
mkdir -p "$build"
{
  echo "MLP training steps/s (forward + loss + backward + Adam), higher is better."
  echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, threads=$threads${STRATA_BENCH_FTZ:+, ftz=$STRATA_BENCH_FTZ}, best of $repeats, BLAS: ${blas:-?}"
  echo
  awk '
    $1 == "RESULT" { k = $3 "|" $2; if (!(k in v) || $4 + 0 > v[k] + 0) v[k] = $4; if (!($3 in seen)) { seen[$3] = 1; cases[nc++] = $3 }
                     if ($2 == "strata") have_strata = 1 }
    function fmt(x,   s, r) {          # 12345.6 -> 12,346
      s = sprintf("%.0f", x); r = ""
      while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
      return s r
    }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2fx", a / b) }
    END {
      np = split("pytorch libtorch dlib", peers, " ")
      label["pytorch"] = "PyTorch"; label["libtorch"] = "LibTorch"; label["dlib"] = "dlib"
      hdr = "| case |"; sep = "|---|"
      for (i = 1; i <= np; i++) { hdr = hdr " " label[peers[i]] " |"; sep = sep "---:|" }
      if (have_strata) {
        hdr = hdr " strata | strata / best peer |"; sep = sep "---:|---:|"
        for (i = 1; i <= np; i++) { hdr = hdr " strata / " label[peers[i]] " |"; sep = sep "---:|" }
      }
      print hdr; print sep
      for (c = 0; c < nc; c++) {
        k = cases[c]; row = "| " k " |"; best = ""
        for (i = 1; i <= np; i++) {
          x = v[k "|" peers[i]]
          row = row " " (x == "" ? "-" : fmt(x)) " |"
          if (x != "" && (best == "" || x + 0 > best + 0)) best = x
        }
        if (have_strata) {
          s = v[k "|strata"]
          row = row " " (s == "" ? "-" : fmt(s)) " | " ratio(s, best) " |"
          for (i = 1; i <= np; i++) row = row " " ratio(s, v[k "|" peers[i]]) " |"
        }
        print row
      }
    }' "$raw"
} > "$build/mlp_results.md"
echo
cat "$build/mlp_results.md"
log "table written to $build/mlp_results.md"
