#!/usr/bin/env bash
# mmsim_cache.sh — `mmsim cache` throughput on a 10-million-request Zipf text
# trace, one policy at a time on one core (taskset -c 0), in requests/s.
#
#   bench/mmsim_cache.sh [MMSIM] [SIZES]
#
# MMSIM defaults to build/tools/mmsim/mmsim; SIZES (cache sizes in objects)
# to "1000 100000". The trace (scripts/gen-zipf-trace defaults: 10 M requests,
# 1 M objects, alpha 1.0, seed 1; 69 MB of text) is generated once into
# build/bench-data/. Each configuration runs 3 times; the best run is
# reported, by wall time and by CPU time (user + sys): the machine may be
# shared, and CPU time is what one core spent. The target is 20 M requests/s
# from this text trace; libCacheSim's cachesim does about 8-10 M/s from its
# binary format and 1.6 M/s from text on this kind of machine.
#
# The first line is the reader alone (`mmsim cache --read-only`: parse the
# trace and make the requests, replay nothing), so the replay's share of the
# time is the difference. MMSIM_BENCH_DATA overrides the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
MMSIM=${1:-build/tools/mmsim/mmsim}
SIZES=${2:-"1000 100000"}
REQS=10000000
DATA=${MMSIM_BENCH_DATA:-build/bench-data}
TRACE=$DATA/zipf-10m.txt
[ -x "$MMSIM" ] || { echo "mmsim_cache.sh: $MMSIM not built" >&2; exit 2; }
mkdir -p "$DATA"
if [ ! -s "$TRACE" ]; then
  echo "generating $TRACE (10 M requests, once)..." >&2
  scripts/gen-zipf-trace -n $REQS -u 1000000 -a 1.0 -s 1 -o "$TRACE.tmp"
  mv "$TRACE.tmp" "$TRACE"
fi
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"

printf '%-8s %8s %10s %14s %14s\n' policy size miss_ratio "M req/s wall" "M req/s cpu"
for size in - $SIZES; do
  for p in fifo lru clock lfu; do
    if [ "$size" = - ]; then
      [ "$p" = fifo ] || continue
      p=read-only
    fi
    best_wall=1e9 best_cpu=1e9 ratio=""
    for _ in 1 2 3; do
      if [ "$p" = read-only ]; then
        args=(--read-only)
      else
        args=(--policy "$p" --size "$size")
      fi
      t=$( { /usr/bin/time -f '%e %U %S' $PIN "$MMSIM" cache "$TRACE" "${args[@]}" \
             --csv --no-progress > "$DATA/out.csv"; } 2>&1 | tail -1)
      read -r wall user sys <<< "$t"
      cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
      best_wall=$(awk -v a="$best_wall" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
      best_cpu=$(awk -v a="$best_cpu" -v b="$cpu" 'BEGIN { print (b < a) ? b : a }')
      ratio=$(awk -F, 'NR == 2 { print ($5 == "" ? 0 : $5) }' "$DATA/out.csv")
    done
    awk -v p="$p" -v s="$size" -v r="$ratio" -v w="$best_wall" -v c="$best_cpu" -v n=$REQS \
      'BEGIN { printf "%-8s %8s %10.4f %14.1f %14.1f\n", p, s, r, n / w / 1e6,
               (c > 0 ? n / c / 1e6 : 0) }'
  done
done
