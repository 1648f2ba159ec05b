#!/usr/bin/env bash
# Rebuild touch.lk.gz, the bundled lackey trace of touch.c, or sort.lk.zst,
# the trace of GNU sort on 3000 generated lines, or record any program the
# same way (all through scripts/record-trace: valgrind --tool=lackey
# --trace-mem=yes --trace-syscalls=yes, gzip -9 -n or zstd -19).
#
#   examples/traces/record-lackey.sh                  # rebuild touch.lk.gz
#   examples/traces/record-lackey.sh sort             # rebuild sort.lk.zst
#   examples/traces/record-lackey.sh OUT.lk.gz PROGRAM [ARGS...]
#
# touch.c is compiled statically (gcc -O1 -static): a static binary skips the
# dynamic loader's 100,000-odd accesses. Needs valgrind and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rec="$here/../../scripts/record-trace"
if [ $# -eq 0 ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  gcc -O1 -static "$here/touch.c" -o "$tmp/touch"
  (cd "$tmp" && "$rec" --level 9 -o "$here/touch.lk.gz" -- ./touch)
  exit 0
fi
if [ "$1" = sort ] && [ $# -eq 1 ]; then
  # 3000 lines "%08x xxx..." (10..60 x's) from a multiplicative hash of the
  # line number: the same input with any awk; LC_ALL=C for a plain byte sort
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  seq 1 3000 | awk '{ x = ($1 * 2654435761) % 4294967296
    s = sprintf("%08x ", x); n = 10 + x % 51
    for (i = 0; i < n; i++) s = s "x"; print s }' > "$tmp/in.txt"
  (cd "$tmp" && LC_ALL=C "$rec" --level 19 -o "$here/sort.lk.zst" -- sort in.txt -o out.txt)
  exit 0
fi
out="$1"
shift
exec "$rec" --level 9 -o "$out" -- "$@"
