#!/usr/bin/env bash
# Installs strata's build and test dependencies from Debian packages. Idempotent:
# when every package is already installed it changes nothing and asks no server.
# Extra package names given as arguments are installed too.
set -euo pipefail

packages=(
  g++ cmake ninja-build
  libeigen3-dev libboost-dev      # Eigen 3.4, Boost.Hana (header-only)
  catch2 libbenchmark-dev         # tests, microbenchmarks
  zlib1g-dev nlohmann-json3-dev   # gzip and JSON data files, checkpoints, journals
  libcli11-dev gnuplot-nox        # example command lines, plots
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
