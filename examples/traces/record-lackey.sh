#!/usr/bin/env bash
# Record a valgrind lackey trace of a program, with its mapping system calls,
# compressed with gzip (mmkit reads .gz and .zst directly).
#
#   examples/traces/record-lackey.sh OUT.lk.gz PROGRAM [ARGS...]
#   examples/traces/record-lackey.sh                  # rebuild touch.lk.gz
#
# Uses: valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes. Lackey
# traces every access of the whole process, the dynamic loader and libc's
# start-up included, about 1 M accesses a second; a static binary keeps
# start-up short. Needs valgrind (apt install valgrind) and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -eq 0 ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  gcc -O1 -static "$here/touch.c" -o "$tmp/touch"
  (cd "$tmp" && "$here/record-lackey.sh" "$here/touch.lk.gz" ./touch)
  exit 0
fi
out="$1"
shift
command -v valgrind >/dev/null || { echo "record-lackey: valgrind not found" >&2; exit 1; }
log="$(mktemp)"
valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-file="$log" "$@"
gzip -9 -n -c "$log" >"$out"
rm -f "$log"
echo "record-lackey: wrote $out ($(wc -c <"$out") bytes)" >&2
