#!/usr/bin/env bash
# realprogs.sh: real programs under LD_PRELOAD=libmmalloc.so, full size, each
# compared with its own run under glibc malloc (same output, same exit status).
#
#   bash bench/malloc/realprogs.sh [--build DIR] [--only CASE[,CASE...]] [--small]
#
#   cases: stl     the C++ STL workload of bench/malloc/stl.cpp (16 rounds)
#          sqlite  200k rows inserted in transactions, indexes, joins, group by,
#                  window functions, update/delete, vacuum, integrity check
#          sort    ~48 MB of generated lines: plain, -S 256K (temp files),
#                  keyed numeric --parallel=2, -u, -f in C.UTF-8, -R; checksums
#          git     2000 files, 10 commits with fixed dates, log/diff/grep/blame,
#                  gc, fsck, clone --no-local, archive, repack
#          python  /usr/bin/python3 -m test with 57 of its own regression
#                  tests, PYTHONMALLOC=malloc so every object goes to malloc
#          tools   gcc and g++ -O2 -S on our sources, perl hashes, mawk arrays,
#                  xz -T2 compress + decompress of 40 MB
#   --small      the short versions that `make test` runs
# Environment: MMALLOC_LIB=path overrides <build>/src/malloc/libmmalloc.so.
# The comparison itself is tests/preload/preload_check.sh (see there).
# Exit status: 0 when every case matched (or was skipped), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build only="" size=full
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="${2:?}"; shift 2 ;;
    --only) only="${2:?}"; shift 2 ;;
    --small) size=small; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "realprogs.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
[ -d "$build" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target mb-stl >/dev/null
lib="${MMALLOC_LIB:-$build/src/malloc/libmmalloc.so}"
if [ -z "${MMALLOC_LIB:-}" ] && cmake --build "$build" --target help 2>/dev/null | grep -q '^\.\.\. mmalloc$'; then
  cmake --build "$build" -j2 --target mmalloc >/dev/null
fi
if [ ! -f "$lib" ]; then
  echo "realprogs.sh: no allocator library at $lib (build it, or set MMALLOC_LIB)" >&2
  exit 1
fi

results=()
fail=0
for c in stl sqlite sort git tools python; do
  if [ -n "$only" ]; then case ",$only," in *",$c,"*) ;; *) continue ;; esac; fi
  echo "== $c ($size)" >&2
  st=0
  line="$(bash tests/preload/preload_check.sh --size "$size" "$lib" "$c" "$build/bench/malloc/mb-stl")" || st=$?
  case "$st" in
    0) results+=("PASS  $line") ;;
    77) results+=("SKIP  $c: $line") ;;
    *) results+=("FAIL  $c (status $st, details above)"); fail=1 ;;
  esac
done
echo
echo "real programs under $(basename "$lib") vs glibc ($size):"
printf '  %s\n' "${results[@]}"
exit $fail
