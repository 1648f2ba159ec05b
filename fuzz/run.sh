#!/usr/bin/env bash
# Build the fuzz targets (trace readers, scenario language) with libFuzzer and
# run each for a bounded time.
#   make fuzz                      60 s per target
#   FUZZ_SECONDS=600 make fuzz     longer
#   FUZZ_TARGETS="csv auto" ...    a subset (names after fuzz_trace_, or scenario
#                                  for fuzz/fuzz_scenario.c)
# Targets are built with clang -fsanitize=fuzzer,address,undefined into
# build-fuzz/; each runs on a working copy of its seed corpus
# (build-fuzz/corpus/<fmt>, seeded from fuzz/corpus/<fmt>) so the repository's
# corpus only changes by hand. Crashes are written to build-fuzz/crash-<fmt>-*.
# An input slower than 10 s counts as a hang, a leak as a crash (ASan).
# Prints the executions of each run and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
OUT=build-fuzz
TARGETS=${FUZZ_TARGETS:-"lackey txt addr csv auto opts scenario"}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "fuzz: $CC not found; libFuzzer needs clang with compiler-rt (clang, libclang-rt-dev)" >&2
  exit 1
fi
mkdir -p "$OUT"
CFLAGS="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -Iinclude -Isrc/trace -Ifuzz"
total=0
for t in $TARGETS; do
  if [ "$t" = scenario ]; then
    # the scenario parser and interpreter over the whole machine (libmmkit's sources)
    bin="$OUT/fuzz_scenario"
    dict=fuzz/scenario.dict
    # shellcheck disable=SC2086
    $CC $CFLAGS -Itools/mmsim fuzz/fuzz_scenario.c tools/mmsim/scenario_lex.c \
      tools/mmsim/scenario_expr.c tools/mmsim/scenario_stmt.c tools/mmsim/scenario_parse.c \
      tools/mmsim/scenario_run.c tools/mmsim/scenario_sys.c tools/mmsim/scenario_access.c \
      tools/mmsim/scenario_view.c \
      $(for c in base buddy slab mempool policy trace sim; do
          printf '%s ' -Isrc/$c src/$c/*.c; done) -lz -lzstd -lm -lpthread -o "$bin"
  else
    bin="$OUT/fuzz_trace_$t"
    dict=fuzz/trace.dict
    # shellcheck disable=SC2086
    $CC $CFLAGS "fuzz/fuzz_trace_$t.c" src/trace/*.c -lz -lzstd -o "$bin"
  fi
  mkdir -p "$OUT/corpus/$t"
  cp -n "fuzz/corpus/$t"/* "$OUT/corpus/$t/" 2>/dev/null || true
  log="$OUT/fuzz_trace_$t.log"
  echo "fuzz: $t for ${SECONDS_EACH}s" >&2
  if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -dict="$dict" -print_final_stats=1 \
      -artifact_prefix="$OUT/crash-$t-" -rss_limit_mb=2048 "$OUT/corpus/$t" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $t FAILED (log: $log)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz: $t: ${runs:-0} executions, corpus $(ls "$OUT/corpus/$t" | wc -l) files" >&2
  total=$((total + ${runs:-0}))
done
echo "fuzz: total $total executions" >&2
