#!/usr/bin/env bash
# Rebuild touch.lk.gz, the bundled lackey trace of touch.c, or record any
# program the same way (both through scripts/record-trace: valgrind
# --tool=lackey --trace-mem=yes --trace-syscalls=yes, gzip -9 -n).
#
#   examples/traces/record-lackey.sh                  # rebuild touch.lk.gz
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
out="$1"
shift
exec "$rec" --level 9 -o "$out" -- "$@"
