#!/usr/bin/env bash
# Install the Debian packages mmkit needs, only those that are missing.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh bench      also the peer allocators and tools for benchmarks
#   scripts/install-deps.sh trace      also valgrind and gnuplot: scripts/record-trace, plots
# Runs apt-get as root (or through sudo). Exits non-zero with a message if a package
# cannot be installed.
set -euo pipefail

pkgs=(gcc g++ make cmake pkg-config libcmocka-dev zlib1g-dev libzstd-dev)
# the plots of mmsim demo, sweep and trace (the demo still runs without it)
pkgs+=(gnuplot-nox)
# real programs the preload tests (tests/preload) run under libmmalloc
pkgs+=(sqlite3 git python3)
case "${1:-}" in
  bench) pkgs+=(libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 hyperfine) ;;
  trace) pkgs+=(valgrind gnuplot-nox) ;;
  tsan|"") ;;
  *) echo "install-deps.sh: unknown set '$1' (expected nothing, 'bench' or 'trace')" >&2; exit 2 ;;
esac

install_missing() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

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
}
install_missing "${pkgs[@]}"

# Python's own regression tests (tests/preload), versioned like the interpreter:
# libpython3.11-testsuite on Debian 12.
pyver="$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
if [ -n "$pyver" ]; then
  install_missing "libpython$pyver-testsuite"
fi
