#!/usr/bin/env bash
# bench_kmalloc.sh BINARY [trials [rounds]]: mm_kmalloc/mm_kfree against glibc, jemalloc
# and mimalloc malloc/free in one go. The binary runs as is (glibc) and under
# each LD_PRELOADed peer; every run measures kmalloc too, its trials
# alternating with the malloc ones. The three runs are interleaved and
# repeated `rounds` times; the table gives ns per alloc+free pair (minimum
# over trials and rounds; the kmalloc column over every run) and the ratio
# of kmalloc to mimalloc as measured side by side in the mimalloc runs
# (< 1 means kmalloc is faster). Each run prints the library that really
# defines malloc; a peer that does not load is reported, not silently skipped.
set -euo pipefail
bin=${1:-build/bench/bench_kmalloc}
trials=${2:-30}
rounds=${3:-3}   # the three runs are repeated, interleaved; each cell keeps its minimum
libdir=/usr/lib/x86_64-linux-gnu
declare -A peers=([jemalloc]=$libdir/libjemalloc.so.2 [mimalloc]=$libdir/libmimalloc.so.2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

: >"$tmp/all"
for r in $(seq "$rounds"); do
  "$bin" "$trials" >"$tmp/glibc"
  [ "$r" = 1 ] && grep '^malloc-library' "$tmp/glibc" | sed 's/^/glibc run:    /'
  sed 's/^result malloc /result glibc /; s/^result kmalloc /result kmalloc@glibc /' \
    "$tmp/glibc" >>"$tmp/all"
  for p in jemalloc mimalloc; do
    if [ ! -f "${peers[$p]}" ]; then
      [ "$r" = 1 ] && echo "$p: ${peers[$p]} missing (scripts/install-deps.sh bench installs it)"
      continue
    fi
    LD_PRELOAD=${peers[$p]} "$bin" "$trials" >"$tmp/$p"
    lib=$(grep '^malloc-library' "$tmp/$p" | cut -d' ' -f2)
    [ "$r" = 1 ] && echo "$p run: malloc-library $lib"
    case "$lib" in
      *"$p"*) sed "s/^result malloc /result $p /; s/^result kmalloc /result kmalloc@$p /" \
                "$tmp/$p" >>"$tmp/all" ;;
      *) [ "$r" = 1 ] && echo "$p: preload did not take effect, dropping it" ;;
    esac
  done
done

awk '
  function keep(name, key, val) {
    if (!((name, key) in v) || val + 0 < v[name, key] + 0) v[name, key] = val
  }
  $1 == "result" { key = $3 " " $4 " " $5
    keep($2, key, $6)
    if ($2 ~ /^kmalloc@/) keep("kmalloc", key, $6)
    if (!(key in seen)) { seen[key] = 1; order[n++] = key } }
  END {
    printf "\nns per alloc+free pair (min over trials; threads = loops running at once)\n"
    printf "%-5s %-7s %-6s %9s %9s %9s %9s %14s\n", "size", "threads", "pattern", "kmalloc", "glibc", "jemalloc", "mimalloc", "kmalloc/mimal."
    for (i = 0; i < n; i++) {
      split(order[i], f, " ")
      km = v["kmalloc@mimalloc", order[i]]; mi = v["mimalloc", order[i]]
      ratio = (km != "" && mi != "" && mi > 0) ? sprintf("%.2f", km / mi) : "-"
      printf "%-5s %-7s %-6s %9s %9s %9s %9s %14s\n", f[1], f[2], f[3], v["kmalloc", order[i]], \
        v["glibc", order[i]], (v["jemalloc", order[i]] == "" ? "-" : v["jemalloc", order[i]]), \
        (mi == "" ? "-" : mi), ratio
    }
  }' "$tmp/all"
