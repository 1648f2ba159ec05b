#!/usr/bin/env bash
# preload_check.sh: run a real program under glibc malloc and under a preloaded
# allocator, and check that both runs print the same thing and exit alike.
#
#   preload_check.sh [--size small|full] [--keep DIR] LIB CASE [PROGRAM]
#
#   LIB     the allocator to preload (e.g. build/src/malloc/libmmalloc.so)
#   CASE    stl | sqlite | sort | git | python | tools
#   PROGRAM for stl: the mb-stl binary (bench/malloc/stl.cpp)
#   --size  small (seconds; what `make test` runs) or full (bench/malloc/realprogs.sh)
#   --keep  keep the work files in DIR (default: a temporary directory, removed)
#
# Only the program under test gets LD_PRELOAD; the shell tools that generate
# input or digest output run on the system allocator. Before the real work the
# script checks that LIB is really mapped into a preloaded process.
# Exit status: 0 same output, 1 different output or status (a diff is printed),
# 77 the program is not installed (CTest's SKIP_RETURN_CODE), 2 usage errors.
# One line "case: glibc X s, preload Y s" goes to stdout on success.
set -euo pipefail

size=small keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="${2:?}"; shift 2 ;;
    --keep) keep="${2:?}"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { sed -n '2,21p' "$0" >&2; exit 2; }
lib="$(realpath -m "$1")" case_="$2" prog="${3:-}"
case "$size" in small|full) ;; *) echo "preload_check: --size must be small or full" >&2; exit 2 ;; esac
[ -f "$lib" ] || { echo "preload_check: no allocator library at $lib" >&2; exit 2; }

if [ -n "$keep" ]; then
  work="$keep"; mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/preload_check.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

skip() { echo "preload_check: SKIP $case_: $*"; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }

# Is the library really in a preloaded process?
if ! LD_PRELOAD="$lib" cat /proc/self/maps 2>"$work/preload.err" | grep -F "$lib" >/dev/null; then
  echo "preload_check: $lib is not mapped into a preloaded process:" >&2
  cat "$work/preload.err" >&2
  exit 1
fi

PRELOAD=""            # set per run: "" for glibc, $lib for the allocator under test
pl() { LD_PRELOAD="$PRELOAD" "$@"; }   # run one command under the allocator
big() { [ "$size" = full ]; }

# ---- Deterministic input generators (run without preload) ----

# N lines "key<TAB>number<TAB>text" from a MINSTD generator (exact in awk doubles)
gen_lines() {
  awk -v n="$1" 'BEGIN {
    x = 12345; w = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod"
    split(w, words, " ")
    for (i = 0; i < n; i++) {
      x = (x * 48271) % 2147483647; k = x
      x = (x * 48271) % 2147483647; v = x % 1000003
      x = (x * 48271) % 2147483647
      printf "%08x\t%d\t%s %s %d\n", k, v - 500000, words[1 + x % 11], words[1 + int(x / 11) % 11], i % 977
    }
  }'
}

# ---- Cases: each writes what must match into $1/out and returns the program's status ----

case_stl() {
  [ -n "$prog" ] && [ -x "$prog" ] || { echo "preload_check: stl needs the mb-stl binary" >&2; exit 2; }
  if big; then pl "$prog" 16 200000 >"$1/out" 2>"$1/err"; else pl "$prog" 2 100000 >"$1/out" 2>"$1/err"; fi
}

case_sort() {
  local n=60000; big && n=1200000          # ~2.4 MB small, ~48 MB full
  [ -f "$work/lines" ] || gen_lines "$n" >"$work/lines"
  local st=0
  {
    pl env LC_ALL=C sort "$work/lines" | sha256sum
    pl env LC_ALL=C sort -S 256K -T "$1" "$work/lines" | sha256sum
    pl env LC_ALL=C sort -t "$(printf '\t')" -k2,2n -k1,1 --parallel=2 "$work/lines" | sha256sum
    pl env LC_ALL=C sort -u -k3 "$work/lines" | sha256sum
    pl env LC_ALL=C.UTF-8 sort -f "$work/lines" | sha256sum
    pl env LC_ALL=C sort -R --random-source="$work/lines" "$work/lines" | sha256sum
  } >"$1/out" || st=$?
  return $st
}

case_sqlite() {
  need sqlite3
  local n=20000; big && n=200000
  [ -f "$work/load.sql" ] || awk -v n="$n" 'BEGIN {
    print "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);"
    print "CREATE TABLE orders(id INTEGER PRIMARY KEY, cust INTEGER, item TEXT, qty INTEGER, price REAL, note TEXT);"
    x = 777; nc = int(n / 10)
    print "BEGIN;"
    for (i = 1; i <= nc; i++) {
      x = (x * 48271) % 2147483647
      printf "INSERT INTO customer VALUES(%d,%s,%s,%.2f);\n", i, "\x27name" i "\x27", "\x27city" (x % 97) "\x27", (x % 10000) / 100
    }
    print "COMMIT;"
    for (i = 1; i <= n; i++) {
      if (i % 5000 == 1) print "BEGIN;"
      x = (x * 48271) % 2147483647
      printf "INSERT INTO orders VALUES(%d,%d,\x27item%d\x27,%d,%.2f,\x27%s\x27);\n", i, 1 + x % nc, x % 1013, 1 + x % 17, (x % 100000) / 100, substr("the quick brown fox jumps over the lazy dog again and again", 1 + x % 20, 5 + x % 37)
      if (i % 5000 == 0 || i == n) print "COMMIT;"
    }
  }' >"$work/load.sql"
  cat >"$work/query.sql" <<'EOF'
CREATE INDEX orders_cust ON orders(cust);
CREATE INDEX orders_item ON orders(item, qty);
CREATE INDEX customer_city ON customer(city);
SELECT count(*), sum(qty), round(sum(qty * price), 2) FROM orders;
SELECT city, count(*), round(avg(score), 3) FROM customer GROUP BY city ORDER BY city LIMIT 20;
SELECT c.city, count(o.id), round(sum(o.qty * o.price), 2)
  FROM orders o JOIN customer c ON c.id = o.cust GROUP BY c.city ORDER BY 3 DESC LIMIT 15;
SELECT item, count(*), max(qty), group_concat(DISTINCT qty) FROM orders
  GROUP BY item HAVING count(*) > 5 ORDER BY count(*) DESC, item LIMIT 15;
SELECT cust, total, rank() OVER (ORDER BY total DESC) FROM
  (SELECT cust, sum(qty) AS total FROM orders GROUP BY cust) ORDER BY total DESC, cust LIMIT 10;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 5000)
  SELECT count(*), sum(length(printf('%d-%s', i, hex(randomblob(0))))) FROM seq;
SELECT length(group_concat(note, '|')) FROM orders WHERE qty > 10;
UPDATE orders SET price = price * 1.1 WHERE qty % 3 = 0;
DELETE FROM orders WHERE qty = 1;
SELECT count(*), round(sum(price), 2) FROM orders;
CREATE TABLE summary AS SELECT cust, item, sum(qty) q FROM orders GROUP BY cust, item;
SELECT count(*), sum(q) FROM summary;
SELECT o.item, c.name FROM orders o JOIN customer c ON c.id = o.cust
  WHERE o.id IN (SELECT id FROM orders ORDER BY note, id LIMIT 5) ORDER BY o.id;
VACUUM;
PRAGMA integrity_check;
EOF
  rm -f "$1/db"
  local st=0
  { pl sqlite3 -batch -bail "$1/db" <"$work/load.sql" && pl sqlite3 -batch -bail "$1/db" <"$work/query.sql"; } >"$1/out" 2>&1 || st=$?
  return $st
}

case_git() {
  need git
  local nfiles=150 ncommits=4; big && nfiles=2000 ncommits=10
  local home="$1/home" repo="$1/repo"
  mkdir -p "$home" "$repo"
  export HOME="$home" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=mmkit GIT_AUTHOR_EMAIL=mmkit@example.invalid
  export GIT_COMMITTER_NAME=mmkit GIT_COMMITTER_EMAIL=mmkit@example.invalid LC_ALL=C TZ=UTC
  local st=0
  (
    set -e
    cd "$repo"
    g() { pl git -c init.defaultBranch=main -c gc.auto=0 -c core.pager=cat "$@"; }
    g init -q .
    for ((d = 0; d < 23; d++)); do mkdir -p "$(printf 'd%02d' $d)"/sub{0,1,2}; done
    for ((c = 0; c < ncommits; c++)); do
      awk -v n="$nfiles" -v c="$c" 'BEGIN {
        x = 1 + c
        for (i = 0; i < n; i++) {
          x = (x * 48271) % 2147483647
          if (c > 0 && x % 4 != 0) continue
          f = sprintf("d%02d/sub%d/file%04d.txt", i % 23, i % 3, i)
          for (l = 0; l < 20 + x % 60; l++) printf "line %d of %s, commit %d, %d\n", l, f, c, (x + l * 7919) % 100000 > f
          close(f)
        }
      }'
      export GIT_AUTHOR_DATE="2020-01-0$((1 + c % 9))T12:00:00Z" GIT_COMMITTER_DATE="2020-01-0$((1 + c % 9))T12:00:00Z"
      g add -A
      g commit -q -m "commit $c"
    done
    echo "== log"; g log --stat --format='%H %s' | sed -n '1,400p'
    echo "== diff"; g diff --stat HEAD~2 HEAD; g diff HEAD~1 HEAD | sha256sum
    echo "== grep"; g grep -c 'commit 1,' | sed -n '1,50p'
    echo "== blame"; g blame -s d00/sub0/file0000.txt | sed -n '1,20p'
    echo "== gc"; g gc -q; g count-objects -v | grep -v -e size -e prune
    echo "== fsck"; g fsck --full --strict 2>&1
    echo "== clone"; cd ..; g clone -q --no-local repo clone; cd clone
    g rev-list --count HEAD; g ls-files | wc -l; g fsck --full 2>&1
    echo "== archive"; g archive --format=tar HEAD | sha256sum
    # threaded delta search makes the pack's bytes (so its name) vary from run
    # to run even under one allocator: compare the verdict and the counts only
    echo "== repack"; g repack -q -adf
    g verify-pack .git/objects/pack/*.idx && echo "verify-pack: ok"
    g count-objects -v | grep -e '^in-pack' -e '^packs'
    echo "== status"; g status --porcelain | wc -l
  ) >"$1/out" 2>&1 || st=$?
  return $st
}

# Everyday tools that lean on malloc: the compilers (cc1/cc1plus on our own
# sources), perl hashes, mawk associative arrays, multi-threaded xz.
case_tools() {
  local src; src="$(cd "$(dirname "$0")/../.." && pwd)/bench/malloc"
  local n=100000 mb=2 level=-3; big && n=600000 mb=40 level=-6
  [ -f "$work/blob" ] || gen_lines $((mb * 25000)) >"$work/blob"
  local st=0
  {
    for tool in gcc g++ perl mawk xz; do command -v "$tool" >/dev/null || echo "$tool: absent"; done
    if command -v gcc >/dev/null; then
      pl gcc -O2 -D_GNU_SOURCE -I"$src" -S -o - "$src/cfrac.c" | sha256sum
      big && pl gcc -O2 -D_GNU_SOURCE -I"$src" -S -o - "$src/espresso.c" | sha256sum
      # the whole driver: cc1, as, collect2, ld, then run what they built
      pl gcc -O2 -D_GNU_SOURCE -I"$src" -o "$1/espresso" "$src/espresso.c"
      "$1/espresso" 40 | sed 's/: [0-9.]* s /: - s /'
    fi
    if big && command -v g++ >/dev/null; then
      pl g++ -O2 -std=c++17 -S -o - "$src/stl.cpp" | sha256sum
    fi
    if command -v perl >/dev/null; then
      pl perl -e 'my %h; my $n = shift;
        for my $i (1 .. $n) { $h{"k$i"} = [$i, "v" x ($i % 50)] }
        my $s = 0;
        for my $k (sort keys %h) { $s += length($h{$k}[1]); delete $h{$k} if $h{$k}[0] % 3 == 0 }
        my @a = map { join(",", reverse split //, $_) } grep { /7/ } keys %h;
        print "$s ", scalar(keys %h), " ", scalar(@a), "\n"' "$n"
    fi
    if command -v mawk >/dev/null; then
      pl mawk -F '\t' '{ c[$3]++; s[substr($1, 1, 3)] += $2 } END { n = 0; for (k in c) n++; t = 0; for (k in s) t += s[k]; print n, t }' "$work/blob"
    fi
    if command -v xz >/dev/null; then
      pl xz -T2 "$level" -c "$work/blob" >"$1/blob.xz"
      sha256sum <"$1/blob.xz"
      pl xz -T2 -d -c "$1/blob.xz" | sha256sum
    fi
  } >"$1/out" 2>&1 || st=$?
  return $st
}

PY_SMALL=(test_bisect test_heapq test_json test_sort test_ordered_dict)
# Left out: test_threading and test_generators, which fail now and then on a loaded
# 2-core machine under glibc as well (timing and signal tests).
PY_FULL=(test_list test_dict test_set test_string test_unicode test_re test_json test_pickle
  test_collections test_itertools test_sort test_bisect test_heapq test_deque test_tuple
  test_bytes test_math test_statistics test_functools test_enum test_dataclasses test_textwrap
  test_difflib test_struct test_array test_decimal test_fractions test_random test_zlib test_csv
  test_hashlib test_base64 test_copy test_ordered_dict test_weakref test_gc test_class test_descr
  test_thread test_queue test_mmap test_tarfile test_zipfile
  test_lzma test_bz2 test_email test_xml_etree test_ast test_compile test_grammar test_memoryview
  test_long test_float test_int test_complex test_format test_io)

case_python() {
  local py=/usr/bin/python3
  [ -x "$py" ] || skip "$py is not installed"
  "$py" -c 'import test.libregrtest' 2>/dev/null || skip "the Python test suite (libpython3.X-testsuite) is not installed"
  local tests=("${PY_SMALL[@]}"); big && tests=("${PY_FULL[@]}")
  local st=0
  # PYTHONMALLOC=malloc sends every Python object to malloc (not only the
  # ones above pymalloc's 512-byte limit), in both runs.
  (cd "$1" && pl env PYTHONMALLOC=malloc "$py" -m test -j1 "${tests[@]}") >"$1/full" 2>&1 || st=$?
  # Timings differ between runs: keep the verdicts only.
  grep -E '^(== Tests result|Tests result|(All )?[0-9]+ tests? (OK|failed|skipped)|    test_)' "$1/full" >"$1/out" || true
  return $st
}

# ---- Run the case under glibc, then under the library, and compare ----

declare -F "case_$case_" >/dev/null || { echo "preload_check: unknown case '$case_'" >&2; exit 2; }
status=()
secs=()
for who in glibc preload; do
  mkdir -p "$work/$who"
  PRELOAD=""; [ "$who" = preload ] && PRELOAD="$lib"
  t0=$(date +%s.%N)
  st=0
  "case_$case_" "$work/$who" || st=$?
  t1=$(date +%s.%N)
  status+=("$st")
  secs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
done

fail=0
if [ "${status[0]}" != "${status[1]}" ]; then
  echo "preload_check: $case_: exit status differs: glibc ${status[0]}, $(basename "$lib") ${status[1]}" >&2
  fail=1
fi
if ! diff -u --label glibc --label "$(basename "$lib")" "$work/glibc/out" "$work/preload/out" >"$work/diff"; then
  echo "preload_check: $case_: output differs:" >&2
  head -60 "$work/diff" >&2
  fail=1
fi
if [ ! -s "$work/glibc/out" ]; then
  echo "preload_check: $case_: no output under glibc (status ${status[0]}), nothing compared" >&2
  fail=1
fi
if [ "$fail" = 0 ]; then
  echo "$case_: same output and status (${status[0]}); glibc ${secs[0]} s, $(basename "$lib") ${secs[1]} s"
else
  [ -f "$work/preload/full" ] && tail -30 "$work/preload/full" >&2
  exit 1
fi
