#!/usr/bin/env bash
# build-snapshot.sh: build libmmalloc.so (and libmmalloc-debug.so) from a
# committed state of the repository, untouched by uncommitted edits in the work
# tree, and print the directory that holds them.
#
#   bash bench/malloc/build-snapshot.sh [COMMIT=HEAD] [DIR=/tmp/mmalloc-snap-<sha>]
#
# Use with MMALLOC_LIB=<dir>/libmmalloc.so for run.sh, realprogs.sh and
# tests/preload/preload_check.sh, so that benchmark figures and findings name
# the exact commit they were measured on.
set -euo pipefail
cd "$(dirname "$0")/../.."
commit="$(git rev-parse --verify "${1:-HEAD}^{commit}")"
short="${commit:0:10}"
dir="${2:-/tmp/mmalloc-snap-$short}"
if [ ! -f "$dir/build/src/malloc/libmmalloc.so" ]; then
  rm -rf "$dir"
  mkdir -p "$dir/src"
  git archive "$commit" | tar -x -C "$dir/src"
  cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DMMKIT_TESTS=OFF \
    -DMMKIT_BENCH=OFF >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log" >&2; echo "build-snapshot: configure failed" >&2; exit 1; }
  cmake --build "$dir/build" -j2 --target mmalloc mmalloc-debug >"$dir/build.log" 2>&1 ||
    { tail -30 "$dir/build.log" >&2; echo "build-snapshot: build failed" >&2; exit 1; }
fi
echo "$dir/build/src/malloc"
