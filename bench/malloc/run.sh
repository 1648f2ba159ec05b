#!/usr/bin/env bash
# make bench-malloc: the malloc workloads of bench/malloc/ under glibc, jemalloc,
# tcmalloc-minimal, mimalloc and libmmalloc, side by side.
#
#   bash bench/malloc/run.sh [--reps N] [--quick] [--only NAME[,NAME...]]
#                            [--alloc LIST] [--out DIR] [--build DIR]
#
#   --reps N     repetitions per (benchmark, allocator); the median is reported (default 3)
#   --quick      one repetition and smaller problem sizes (a smoke run, ~1/5 of the work)
#   --only L     comma-separated benchmark names (see --list)
#   --alloc L    comma-separated allocators among glibc,jemalloc,tcmalloc,mimalloc,mmalloc
#   --out DIR    where results.csv, raw.csv and results.md go (default out/bench-malloc)
#   --build DIR  the CMake build directory holding bench/malloc/ (default build)
#   --list       print the benchmark names and exit
# Environment: MMALLOC_LIB=path overrides <build>/src/malloc/libmmalloc.so.
#
# Each run goes through mb-run (bench/malloc/mb_run.c), which preloads the
# allocator into the child only and reports wall time and the child's peak RSS
# (ru_maxrss from wait4). Within one repetition every allocator runs the
# benchmark back to back, in an order that rotates between repetitions, so that
# machine noise hits all allocators alike. Each workload prints the shared
# object that really provides malloc ("mb-alloc: ..."); a run where that is not
# the intended library counts as FAILED(wrong-lib). Runs that crash or exit
# non-zero count as FAILED(status) and the script goes on.
#
# Reported per benchmark: the median time and median peak RSS over the reps for
# each allocator, and their ratios to mimalloc; then per allocator the
# geometric mean of those ratios over the benchmarks it completed.
set -euo pipefail
cd "$(dirname "$0")/../.."

reps=3 quick=0 only="" allocs="glibc,jemalloc,tcmalloc,mimalloc,mmalloc"
out="out/bench-malloc" build="build"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?--reps needs a number}"; shift 2 ;;
    --quick) quick=1; reps=1; shift ;;
    --only) only="${2:?--only needs a list}"; shift 2 ;;
    --alloc) allocs="${2:?--alloc needs a list}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --build) build="${2:?--build needs a directory}"; shift 2 ;;
    --list) list_only=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$reps" in ''|*[!0-9]*|0) echo "run.sh: --reps must be a positive integer" >&2; exit 2 ;; esac

# ---- The benchmarks: name | program and fixed args | full-size args | quick args ----
BENCHES=(
  "larson|mb-larson||2 4000 6000000"
  "xmalloc|mb-xmalloc||1 1 4000000"
  "cache-thrash|mb-cache thrash||2 1200"
  "cache-scratch|mb-cache scratch||2 1200"
  "mstress|mb-mstress||4 5 200000"
  "rptest|mb-rptest||2 3000000"
  "glibc-simple|mb-glibc-simple||30000"
  "glibc-thread|mb-glibc-thread||2 6000000"
  "alloc-test|mb-alloc-test||2 12"
  "cfrac|mb-cfrac||1200"
  "espresso|mb-espresso||1200"
  "large|mb-large||3"
  "stl|mb-stl||4"
)
if [ "${list_only:-0}" = 1 ]; then
  for b in "${BENCHES[@]}"; do echo "${b%%|*}"; done
  exit 0
fi

# ---- Allocators ----
multiarch="$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
libdir="/usr/lib/$multiarch"
user_lib="${MMALLOC_LIB:-}"
MMALLOC_LIB="${MMALLOC_LIB:-$build/src/malloc/libmmalloc.so}"
alloc_lib() {   # the LD_PRELOAD value for an allocator ("" for glibc)
  case "$1" in
    glibc) echo "" ;;
    jemalloc) echo "$libdir/libjemalloc.so.2" ;;
    tcmalloc) echo "$libdir/libtcmalloc_minimal.so.4" ;;
    mimalloc) echo "$libdir/libmimalloc.so.2" ;;
    mmalloc) realpath -m "$MMALLOC_LIB" ;;
    *) echo "run.sh: unknown allocator '$1'" >&2; exit 2 ;;
  esac
}
alloc_expect() {   # a substring of the path that must provide malloc
  case "$1" in
    glibc) echo "libc.so" ;;
    mmalloc) basename "$MMALLOC_LIB" ;;
    *) echo "lib$1" ;;
  esac
}
IFS=, read -r -a ALLOCS <<<"$allocs"
for a in "${ALLOCS[@]}"; do alloc_lib "$a" >/dev/null; done

# ---- Build and peers ----
if [[ " ${ALLOCS[*]} " =~ " jemalloc "|" tcmalloc "|" mimalloc " ]]; then
  bash scripts/install-deps.sh bench
fi
bindir="$build/bench/malloc"
if [ ! -d "$build" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
echo "run.sh: building the workloads in $build" >&2
mkdir -p "$out"
if ! cmake --build "$build" -j2 --target mb-all >"$out/build.log" 2>&1; then
  cat "$out/build.log" >&2; echo "run.sh: building the workloads failed" >&2; exit 1
fi
if [[ " ${ALLOCS[*]} " =~ " mmalloc " ]] && [ -z "$user_lib" ]; then
  # build libmmalloc too when its target exists and no library was given
  if cmake --build "$build" --target help 2>/dev/null | grep -q '^\.\.\. mmalloc$'; then
    cmake --build "$build" -j2 --target mmalloc >>"$out/build.log" 2>&1 ||
      echo "run.sh: building mmalloc failed (see $out/build.log); its runs will fail" >&2
  fi
fi
for a in "${ALLOCS[@]}"; do
  lib="$(alloc_lib "$a")"
  if [ -n "$lib" ] && [ ! -f "$lib" ]; then
    echo "run.sh: $a: $lib not found; its runs will be reported as FAILED(missing)" >&2
  fi
done

mkdir -p "$out"
logdir="$out/logs"
mkdir -p "$logdir"
raw="$out/raw.csv"
echo "benchmark,allocator,rep,seconds,peak_rss_kib,status" >"$raw"

selected() {
  [ -z "$only" ] && return 0
  case ",$only," in *",$1,"*) return 0 ;; esac
  return 1
}
timeout_s=$([ "$quick" = 1 ] && echo 120 || echo 300)

# ---- Run ----
nalloc=${#ALLOCS[@]}
for spec in "${BENCHES[@]}"; do
  IFS='|' read -r name prog full qargs <<<"$spec"
  selected "$name" || continue
  args="$full"
  [ "$quick" = 1 ] && args="$qargs"
  for ((r = 1; r <= reps; r++)); do
    for ((i = 0; i < nalloc; i++)); do
      a="${ALLOCS[$(((i + r - 1) % nalloc))]}"
      lib="$(alloc_lib "$a")"
      log="$logdir/$name.$a.$r"
      if [ -n "$lib" ] && [ ! -f "$lib" ]; then
        echo "$name,$a,$r,,,missing" >>"$raw"
        continue
      fi
      # shellcheck disable=SC2086  # args are word lists
      "$bindir/mb-run" -p "$lib" -o "$log.time" -t "$timeout_s" -- \
        $bindir/$prog $args >"$log.out" 2>"$log.err" || true
      secs=0 rss=0 status=no-measurement
      [ -s "$log.time" ] && read -r secs rss status <"$log.time"
      if [ "$status" = 0 ]; then
        seen="$(sed -n 's/^mb-alloc: //p' "$log.err" | tail -1)"
        if [[ "$seen" != *"$(alloc_expect "$a")"* ]]; then
          echo "run.sh: $name under $a: malloc came from '$seen', not $lib" >&2
          status="wrong-lib"
        fi
      else
        echo "run.sh: $name under $a FAILED with status $status (see $log.err)" >&2
      fi
      echo "$name,$a,$r,$secs,$rss,$status" >>"$raw"
      printf '  %-14s %-9s rep %d: %8.3f s %9d KiB  status %s\n' "$name" "$a" "$r" "$secs" "$rss" "$status" >&2
    done
  done
done

# ---- Summarize: median per (benchmark, allocator), ratios to mimalloc, geomeans ----
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
summary="$out/results.csv"
echo "benchmark,allocator,seconds,peak_rss_kib,status" >"$summary"
for spec in "${BENCHES[@]}"; do
  name="${spec%%|*}"
  selected "$name" || continue
  for a in "${ALLOCS[@]}"; do
    rows="$(awk -F, -v b="$name" -v a="$a" '$1 == b && $2 == a' "$raw")"
    bad="$(awk -F, '$6 != "0" {print $6; exit}' <<<"$rows")"
    if [ -n "$bad" ]; then
      echo "$name,$a,,,FAILED($bad)" >>"$summary"
    else
      t="$(cut -d, -f4 <<<"$rows" | median)"
      m="$(cut -d, -f5 <<<"$rows" | median)"
      echo "$name,$a,$t,$m,ok" >>"$summary"
    fi
  done
done

md="$out/results.md"
awk -F, -v allocs="$allocs" -v reps="$reps" -v quick="$quick" -v md="$md" '
function fmt_t(b, a) { return st[b, a] == "ok" ? sprintf("%.3f", t[b, a]) : st[b, a] }
function fmt_m(b, a) { return st[b, a] == "ok" ? sprintf("%.1f", m[b, a] / 1024) : st[b, a] }
function ratio(x, y) { return (y > 0) ? x / y : 0 }
function check(what, ok, got,   s) { s = sprintf("  %-52s %-4s (mmalloc: %s)", what, ok ? "MET" : "NOT MET", got); print s; print s > md }
NR > 1 {
  if (!($1 in seen)) { seen[$1] = 1; order[++nb] = $1 }
  t[$1, $2] = $3; m[$1, $2] = $4; st[$1, $2] = $5
}
END {
  na = split(allocs, A, ",")
  base = "mimalloc"; hasbase = 0
  for (i = 1; i <= na; i++) if (A[i] == base) hasbase = 1
  if (!hasbase) base = A[1]
  title = sprintf("malloc benchmarks: %s, %d rep(s), median; ratios are to %s (lower is better)", quick ? "quick sizes" : "full sizes", reps, base)
  print title; print ""
  print "# " title > md; print "" > md
  for (pass = 1; pass <= 2; pass++) {
    what = pass == 1 ? "time (s)" : "peak RSS (MiB)"
    hdr = sprintf("%-14s", what == "time (s)" ? "time (s)" : "peak RSS (MiB)")
    mdh = "| " what " |"; mds = "|---|"
    for (i = 1; i <= na; i++) { hdr = hdr sprintf(" %15s %6s", A[i], "x"); mdh = mdh " " A[i] " | ×" base " |"; mds = mds "---:|---:|" }
    print hdr; print mdh > md; print mds > md
    for (i = 1; i <= na; i++) { lsum[i] = 0; cnt[i] = 0 }
    for (j = 1; j <= nb; j++) {
      b = order[j]; line = sprintf("%-14s", b); mdl = "| " b " |"
      for (i = 1; i <= na; i++) {
        a = A[i]
        v = pass == 1 ? fmt_t(b, a) : fmt_m(b, a)
        r = ""
        if (st[b, a] == "ok" && st[b, base] == "ok") {
          x = pass == 1 ? ratio(t[b, a], t[b, base]) : ratio(m[b, a], m[b, base])
          if (x > 0) { r = sprintf("%.2f", x); lsum[i] += log(x); cnt[i]++ }
        }
        line = line sprintf(" %15s %6s", v, r); mdl = mdl " " v " | " r " |"
      }
      print line; print mdl > md
    }
    line = sprintf("%-14s", "geomean"); mdl = "| **geomean** |"
    for (i = 1; i <= na; i++) {
      g = cnt[i] ? sprintf("%.2f", exp(lsum[i] / cnt[i])) : "-"
      line = line sprintf(" %15s %6s", "", g); mdl = mdl " | **" g "** |"
      if (pass == 1) gt[i] = g; else gm[i] = g
    }
    print line; print ""; print mdl > md; print "" > md
  }
  # our targets (from the issue): time geomean <= best peer, RSS <= glibc;
  # minimum: faster than glibc, no benchmark > 2x the best peer
  ours = 0
  for (i = 1; i <= na; i++) if (A[i] == "mmalloc") ours = i
  if (ours) {
    worst = 0; worstb = ""; failed = 0
    for (j = 1; j <= nb; j++) {
      b = order[j]
      if (st[b, "mmalloc"] != "ok") { failed++; continue }
      best = 0
      for (i = 1; i <= na; i++) if (i != ours && st[b, A[i]] == "ok" && (best == 0 || t[b, A[i]] < best)) best = t[b, A[i]]
      if (best > 0 && t[b, "mmalloc"] / best > worst) { worst = t[b, "mmalloc"] / best; worstb = b }
      if (best > 0 && t[b, "mmalloc"] / best > 2) over = over sprintf(" %s %.1fx", b, t[b, "mmalloc"] / best)
    }
    s = sprintf("mmalloc: time geomean %s, RSS geomean %s (x%s) over %d completed benchmark(s), %d failed; worst vs best peer: %.2fx (%s)", gt[ours], gm[ours], base, cnt[ours], failed, worst, worstb)
    print s; print s > md
    bp = ""; bpn = ""; gl = 0
    for (i = 1; i <= na; i++) {
      if (A[i] == "glibc") gl = i
      if (i != ours && gt[i] != "-" && (bp == "" || gt[i] + 0 < bp + 0)) { bp = gt[i]; bpn = A[i] }
    }
    if (bp != "") check("target: time geomean <= best peer (" bpn " " bp ")", gt[ours] != "-" && gt[ours] + 0 <= bp + 0 && !failed, gt[ours])
    if (gl) check("target: peak RSS geomean <= glibc (" gm[gl] ")", gm[ours] != "-" && gm[ours] + 0 <= gm[gl] + 0 && !failed, gm[ours])
    if (gl) check("minimum: time geomean below glibc (" gt[gl] ")", gt[ours] != "-" && gt[ours] + 0 < gt[gl] + 0 && !failed, gt[ours])
    if (na > 1) check("minimum: no benchmark more than 2x the best peer", over == "" && !failed, over == "" ? "none" : over)
  }
}' "$summary"
echo
echo "run.sh: wrote $summary, $raw and $md (logs in $logdir)"
