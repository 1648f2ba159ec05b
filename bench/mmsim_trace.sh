#!/usr/bin/env bash
# mmsim_trace.sh — `mmsim trace` throughput: a 10-million-access lackey trace
# through the full simulated machine (TLBs, page walks, faults, VMAs from the
# trace's system calls), in accesses per second, against valgrind lackey's
# own rate of producing such a trace (about 1 M accesses/s) and the 10 M/s
# target.
#
#   bench/mmsim_trace.sh [MMSIM] [ACCESSES]
#
# MMSIM defaults to build/tools/mmsim/mmsim, ACCESSES to 10000000. The trace
# (scripts/gen-lackey-trace -n ACCESSES -s 1: a synthetic program, about 14
# bytes a line) is generated once into build/bench-data/ (MMSIM_BENCH_DATA
# overrides), plain and gzip -1. Each configuration runs 3 times pinned to one
# core (taskset -c 0); the best run is reported by wall time and by CPU time
# (user + sys: what one core spent, the steadier figure on a shared machine).
#
# Rows: the trace reader alone (`mmsim cache --read-only`: parse, replay
# nothing), then `mmsim trace` on the plain and the gzip trace with the
# default machine (64 MiB, 4-level paging, Skylake-like TLBs), and with tiny
# TLBs (--tlb 8:8 --stlb 0: many page walks).
set -euo pipefail
cd "$(dirname "$0")/.."
MMSIM=${1:-build/tools/mmsim/mmsim}
N=${2:-10000000}
DATA=${MMSIM_BENCH_DATA:-build/bench-data}
TRACE=$DATA/lackey-$N.lk
[ -x "$MMSIM" ] || { echo "mmsim_trace.sh: $MMSIM not built" >&2; exit 2; }
mkdir -p "$DATA"
if [ ! -s "$TRACE" ]; then
  echo "generating $TRACE ($N accesses, once)..." >&2
  scripts/gen-lackey-trace -n "$N" -s 1 -o "$TRACE.tmp"
  mv "$TRACE.tmp" "$TRACE"
fi
if [ ! -s "$TRACE.gz" ]; then
  gzip -1 -c "$TRACE" >"$TRACE.gz.tmp"
  mv "$TRACE.gz.tmp" "$TRACE.gz"
fi
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"

printf '%-26s %12s %12s %10s %10s\n' run "M acc/s wall" "M acc/s cpu" "x 1 M/s" "x 10 M/s"
row() {
  local name=$1
  shift
  local best_wall=1e9 best_cpu=1e9 t wall user sys cpu
  for _ in 1 2 3; do
    t=$( { /usr/bin/time -f '%e %U %S' $PIN "$MMSIM" "$@" --no-progress >/dev/null; } 2>&1 | tail -1)
    read -r wall user sys <<< "$t"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    best_wall=$(awk -v a="$best_wall" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
    best_cpu=$(awk -v a="$best_cpu" -v b="$cpu" 'BEGIN { print (b < a) ? b : a }')
  done
  awk -v p="$name" -v w="$best_wall" -v c="$best_cpu" -v n="$N" 'BEGIN {
    rw = n / (w > 0 ? w : 0.01) / 1e6; rc = n / (c > 0 ? c : 0.01) / 1e6
    printf "%-26s %12.1f %12.1f %10.1f %10.2f\n", p, rw, rc, rc, rc / 10 }'
}
row "reader alone (plain)" cache "$TRACE" --read-only
row "trace, plain" trace "$TRACE"
row "trace, gzip" trace "$TRACE.gz"
row "trace, plain, tiny TLBs" trace "$TRACE" --tlb 8:8 --stlb 0
echo "(x 1 M/s, x 10 M/s: the CPU-time rate over valgrind lackey's ~1 M/s and the 10 M/s target)"
