#!/usr/bin/env bash
# Install the Debian packages mmkit needs, only those that are missing.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh bench      also the peer allocators and tools for benchmarks
# Runs apt-get as root (or through sudo). Exits non-zero with a message if a package
# cannot be installed.
set -euo pipefail

pkgs=(gcc g++ make cmake pkg-config libcmocka-dev zlib1g-dev libzstd-dev)
case "${1:-}" in
  bench) pkgs+=(libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 hyperfine gnuplot-nox) ;;
  tsan|"") ;;
  *) echo "install-deps.sh: unknown set '$1' (expected nothing or 'bench')" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
