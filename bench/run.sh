#!/usr/bin/env bash
# make bench: run every kernel-allocator benchmark (bench/bench_*.c) in one go.
# Each program prints its own side-by-side table (ns/op and ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for b in build/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  if [ -f "bench/$(basename "$b").sh" ]; then
    bash "bench/$(basename "$b").sh" "$b" || status=1
  else
    "$b" || status=1
  fi
  echo
done
if [ -x build/tools/mmsim/mmsim ]; then
  echo "== mmsim cache (bench/mmsim_cache.sh)"
  bash bench/mmsim_cache.sh build/tools/mmsim/mmsim || status=1
  echo
  echo "== mmsim trace (bench/mmsim_trace.sh)"
  bash bench/mmsim_trace.sh build/tools/mmsim/mmsim || status=1
  echo
fi
exit $status
