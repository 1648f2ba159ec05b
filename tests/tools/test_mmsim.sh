#!/usr/bin/env bash
# test_mmsim.sh GROUP MMSIM SRCDIR — command-line tests of mmsim.
#
# Groups: help, errors, cache, sweep, policies, docs, zipf, trace, record (one CTest test
# each, tests/tools/CMakeLists.txt). Golden files are in tests/tools/expected/;
# to regenerate one after an intended change, run the command shown in the
# failure and review the difference before committing it.
# Every check compares exact output or exit codes: nothing here is timed.
set -u
GROUP=$1
MMSIM=$2
SRC=$3
EXP=$SRC/tests/tools/expected
DATA=tests/tools/data      # relative: outputs name their traces
TR=examples/traces
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$SRC" || exit 1   # golden outputs name traces by their relative paths
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run NAME EXPECTED_RC ARGS...: stdout to $TMP/NAME.out, stderr to .err
run() {
	local name=$1 want=$2
	shift 2
	checks=$((checks + 1))
	"$MMSIM" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name: mmsim $* exited $rc, expected $want; stderr:"
		sed 's/^/    /' "$TMP/$name.err" >&2
	fi
}

# golden NAME: $TMP/NAME.out must equal $EXP/NAME.out
golden() {
	checks=$((checks + 1))
	if ! diff -u "$EXP/$1.out" "$TMP/$1.out" >"$TMP/$1.diff"; then
		fail "$1: output differs from tests/tools/expected/$1.out:"
		sed 's/^/    /' "$TMP/$1.diff" >&2
	fi
}

# golden_norm NAME: as golden, after blanking the amounts of free memory,
# which depend on the build (debug slabs carry red zones)
golden_norm() {
	sed -E -i 's/MemFree [0-9]+ kB/MemFree N kB/; s/"mem_free_kb": [0-9]+/"mem_free_kb": N/;
		s/^([0-9]+),[0-9]+,/\1,N,/' "$TMP/$1.out"
	golden "$1"
}

# contains NAME FILE-SUFFIX TEXT: the file holds TEXT (fixed string)
contains() {
	checks=$((checks + 1))
	if ! grep -qF -- "$3" "$TMP/$1.$2"; then
		fail "$1: '$3' not found in $2:"
		sed 's/^/    /' "$TMP/$1.$2" >&2
	fi
}

# py NAME SCRIPT: run a python3 check reading $TMP/NAME.out on stdin
py() {
	checks=$((checks + 1))
	if ! python3 -c "$2" <"$TMP/$1.out" 2>"$TMP/$1.py.err"; then
		fail "$1: python check failed:"
		sed 's/^/    /' "$TMP/$1.py.err" >&2
	fi
}

# ---- help, version, dispatch -------------------------------------------------
group_help() {
	run help_main 0 --help
	golden help_main
	run help_word 0 help
	checks=$((checks + 1))
	cmp -s "$TMP/help_main.out" "$TMP/help_word.out" || fail "'mmsim help' differs from --help"
	for c in trace cache sweep policies run demo; do
		run "help_$c" 0 help "$c"
		run "dashhelp_$c" 0 "$c" --help
		checks=$((checks + 1))
		cmp -s "$TMP/help_$c.out" "$TMP/dashhelp_$c.out" ||
			fail "'mmsim help $c' differs from 'mmsim $c --help'"
		contains "help_$c" out "Usage: mmsim $c"
		contains help_main out "  $c "
	done
	golden help_cache
	# the trace options block is spliced into cache and sweep help
	contains help_sweep out "--page-size N"
	contains help_cache out "--obj-id-col C"
	run version 0 --version
	contains version out "mmsim (mmkit) "
	run noargs 2
	contains noargs err "Usage: mmsim COMMAND"
	# exit codes are documented in --help
	for code in "0  success" "1  a check failed" "2  usage error" "3  bad input" \
		"4  I/O error" "5  out of memory"; do
		contains help_main out "$code"
	done
}

# ---- errors: messages and exit codes -------------------------------------------
group_errors() {
	run unknown_cmd 2 cahce x
	contains unknown_cmd err "mmsim: unknown command 'cahce' (did you mean 'cache'?)"
	run unknown_opt 2 cache "$TR/belady.txt" -p fifo -s 3 --sise 4
	contains unknown_opt err "unknown option '--sise' (did you mean '--size'?)"
	contains unknown_opt err "Try 'mmsim cache --help'."
	run unknown_short 2 cache "$TR/belady.txt" -p fifo -s 3 -Z
	contains unknown_short err "unknown option '-Z'"
	run missing_value 2 cache "$TR/belady.txt" -p fifo --size
	contains missing_value err "option '--size' needs a value"
	run flag_value 2 cache "$TR/belady.txt" -p fifo -s 3 --json=yes
	contains flag_value err "option '--json' takes no value"
	run global_opt 2 --frobnicate
	contains global_opt err "unknown option '--frobnicate'"
	run no_trace 2 cache -p fifo -s 3
	contains no_trace err "no trace given"
	run two_traces 2 cache a b -p fifo -s 3
	contains two_traces err "one trace at a time"
	run no_policy 2 cache "$TR/belady.txt" -s 3
	contains no_policy err "no policy given"
	run no_size 2 cache "$TR/belady.txt" -p fifo
	contains no_size err "no cache size given"
	run bad_policy 2 cache "$TR/belady.txt" -p fifo,lur -s 3
	contains bad_policy err "unknown policy 'lur' (did you mean 'lru'?"
	run bad_policy_opt 2 cache "$TR/belady.txt" -p clock:ref=2 -s 3
	contains bad_policy_opt err "bad options in policy spec 'clock:ref=2' (clock takes: ref=0(0|1))"
	run bad_size0 2 cache "$TR/belady.txt" -p fifo -s 0
	contains bad_size0 err "size 0 out of range"
	run bad_size_list 2 cache "$TR/belady.txt" -p fifo -s 3,,4
	contains bad_size_list err "bad size list '3,,4'"
	run bad_size_word 2 cache "$TR/belady.txt" -p fifo -s three
	contains bad_size_word err "bad size 'three'"
	run bad_range 2 cache "$TR/belady.txt" -p fifo -s 9:3
	contains bad_range err "the start is above the end"
	# runs are sized for their caches up front: too large is refused at
	# once (it took 24 GB of the host before being killed)
	run too_big 2 cache "$TR/belady.txt" -p lru -s 2000000000
	contains too_big err "--size: 1 runs holding 2000000000 objects in all would need about"
	run bad_step 2 cache "$TR/belady.txt" -p fifo -s 1:9:*1
	contains bad_step err "factor F >= 2"
	run bad_format 2 cache "$TR/belady.txt" -p fifo -s 3 -f json
	contains bad_format err "unknown trace format 'json'"
	run bad_page 2 cache "$TR/belady.txt" -p fifo -s 3 --page-size 1000
	contains bad_page err "--page-size: expected a power of two"
	run bad_param 2 cache "$TR/belady.txt" -p fifo -s 3 -t "colour=blue"
	contains bad_param err "--trace-params:"
	# --json is not silently dropped for CSV on stdout (cache: the last of
	# the two wins, as documented)
	run json_csv_sweep 2 sweep "$TR/belady.txt" --csv - --json
	contains json_csv_sweep err "--json and --csv - both go to standard output"
	run json_csv_trace 2 trace "$TR/belady.txt" --timeline 4 --csv - -j
	contains json_csv_trace err "--json and --csv - both go to standard output"
	# an output that is the trace itself is refused before anything is
	# written (trace streamed its CSV over the input it was reading)
	cp "$TR/touch.lk.gz" "$TMP/self.lk.gz"
	run self_csv 2 trace "$TMP/self.lk.gz" --timeline 1000 --csv "$TMP/self.lk.gz"
	contains self_csv err "--csv $TMP/self.lk.gz: that is the trace itself"
	run self_swap 2 trace "$TMP/self.lk.gz" --swap 1m --swap-file "$TMP/self.lk.gz"
	run self_out 2 cache "$TMP/self.lk.gz" -p lru -s 3 -o "$TMP/self.lk.gz"
	checks=$((checks + 1))
	"$MMSIM" sweep - --csv "$TMP/self.lk.gz" <"$TMP/self.lk.gz" >/dev/null 2>&1
	[ $? = 2 ] && cmp -s "$TR/touch.lk.gz" "$TMP/self.lk.gz" || fail "an output over the trace"
	run readonly_mix 2 cache "$TR/belady.txt" --read-only -p fifo
	contains readonly_mix err "--read-only replays nothing"
	# I/O: a missing file is exit 4, named with the system's reason
	run missing_file 4 cache "$TMP/nosuch.txt" -p fifo -s 3
	contains missing_file err "mmsim cache: $TMP/nosuch.txt: No such file or directory"
	run missing_sweep 4 sweep "$TMP/nosuch.txt"
	contains missing_sweep err "No such file or directory"
	run unwritable 4 cache "$TR/belady.txt" -p fifo -s 3 -o "$TMP/no/such/dir/out.txt"
	contains unwritable err "cannot write $TMP/no/such/dir/out.txt"
	# input: a malformed line is exit 3 with FILE:LINE:COL
	run bad_line 3 cache "$DATA/bad-line.txt" -f txt -p fifo -s 3
	contains bad_line err "mmsim cache: $DATA/bad-line.txt:5:2: "
	run bad_line_sweep 3 sweep "$DATA/bad-line.txt" -f txt -p fifo
	contains bad_line_sweep err "$DATA/bad-line.txt:5:2: "
	run bad_addr 3 cache "$DATA/bad-addr.addr" -f addr -p fifo -s 3
	contains bad_addr err "$DATA/bad-addr.addr:2:"
	# auto-detection reads the first 200 lines; a bad line after them still
	# stops the replay with its place
	{ seq 1 300; echo 12y; seq 1 5; } >"$TMP/late.txt"
	run bad_late 3 cache "$TMP/late.txt" -p fifo -s 3
	contains bad_late err "mmsim cache: $TMP/late.txt:301:3: "
	# without a format, a bad line among the first ones makes the format unknown
	run bad_detect 3 cache "$DATA/bad-line.txt" -p fifo -s 3
	contains bad_detect err "cannot detect the trace format"
	contains bad_detect err "name the format (read as txt: $DATA/bad-line.txt:5:2: "
	# --skip-bad: skipped and counted, exit 0
	run skip_bad 0 cache "$DATA/bad-line.txt" -f txt -p fifo -s 3 --skip-bad
	contains skip_bad err "note: 1 malformed lines were skipped; the last: $DATA/bad-line.txt:5:2:"
	contains skip_bad out "fifo       3         4       4      1.0000"
	# truncated gzip data is bad input (3), not an I/O error
	run truncated 3 cache "$DATA/belady-truncated.txt.gz" -p fifo -s 3
	contains truncated err "truncated gzip data"
	# a stdin trace that cannot be detected
	checks=$((checks + 1))
	printf '1;2;3\n' | "$MMSIM" cache - -p fifo -s 3 >"$TMP/undetect.out" 2>"$TMP/undetect.err"
	[ $? = 3 ] || fail "undetectable stdin trace: expected exit 3"
	contains undetect err "<stdin>: cannot detect the trace format"
	# plot needs a known extension
	run plot_ext 2 sweep "$TR/belady.txt" --plot "$TMP/x.pdf"
	contains plot_ext err "must end in .png or .svg"
	run help_unknown 2 help frob
	contains help_unknown err "unknown command 'frob'"
}

# ---- cache ---------------------------------------------------------------------
group_cache() {
	# the textbook check: FIFO on Belady's string, 9 misses at 3 frames, 10 at 4
	run belady_json 0 cache "$TR/belady.txt" --policy fifo --size 3,4 --json
	py belady_json '
import json, sys
rows = json.load(sys.stdin)
assert [list(r)[:5] for r in rows] == [["policy", "size", "requests", "misses", "miss_ratio"]] * 2, rows
got = {(r["policy"], r["size"]): r["misses"] for r in rows}
assert got == {("fifo", 3): 9, ("fifo", 4): 10}, got
assert all(r["requests"] == 12 for r in rows)
assert abs(rows[0]["miss_ratio"] - 0.75) < 1e-9 and abs(rows[1]["miss_ratio"] - 10 / 12) < 1e-9
assert all(r["hits"] + r["misses"] == r["requests"] for r in rows)
'
	golden belady_json
	# text table: fifo, lru, opt at every size 1..6
	run belady_text 0 cache "$TR/belady.txt" -p fifo,lru,opt -s 1:6
	golden belady_text
	# the same from stdin, from zstd and from the csv output
	checks=$((checks + 1))
	"$MMSIM" cache - -p fifo,lru,opt -s 1:6 <"$TR/belady.txt" >"$TMP/stdin.out" 2>&1 ||
		fail "stdin replay failed"
	cmp -s "$TMP/stdin.out" "$EXP/belady_text.out" || fail "stdin replay differs from file replay"
	run zstd 0 cache "$DATA/belady.txt.zst" -p fifo,lru,opt -s 1:6
	checks=$((checks + 1))
	cmp -s "$TMP/zstd.out" "$EXP/belady_text.out" || fail "zstd replay differs from plain replay"
	run belady_csv 0 cache "$TR/belady.txt" -p fifo,clock:ref=1 -s 3,4 --csv
	golden belady_csv
	# every policy on the csv sample (named columns, deletes not replayed)
	run all_csv 0 cache "$TR/cache.csv" --all -s 2,4 --seed 7
	golden all_csv
	contains all_csv err "note: 5 delete requests were not replayed"
	# a lackey trace, gzip, page ids from addresses; syscalls passed over
	run lackey 0 cache "$TR/touch.lk.gz" -p clock,lfu,linux -s 8,64 --json
	golden lackey
	contains lackey err "note: 9 system call records were passed over"
	# read-only: what the readers produce
	run ro_lackey 0 cache "$TR/touch.lk.gz" --read-only
	golden ro_lackey
	run ro_matrix 0 cache "$TR/matrix.addr" --read-only --json
	golden ro_matrix
	run matrix_pages 0 cache "$TR/matrix.addr" -p lru -s 1:5 --json
	py matrix_pages '
import json, sys
rows = json.load(sys.stdin)
# 4 rows of 4 KiB pages plus the page of the result: 5 cold misses; the
# column sums cycle over the 4 row pages, so LRU with fewer than 4 frames
# misses every one of the 32 reads
m = {r["size"]: r["misses"] for r in rows}
assert m[4] == 5 and m[5] == 5, m
assert m[3] == 5 + 32 and m[1] == 5 + 32, m
'
	run matrix_512 0 cache "$TR/matrix.addr" -p lru -s 64 --page-size 512 --json
	py matrix_512 '
import json, sys
r = json.load(sys.stdin)[0]
assert r["misses"] == 33, r   # 32 distinct 512-byte elements and the result, all cold
'
	# string ids in csv (hashed), op column names, deletes
	run strings 0 cache "$DATA/strings.csv" --obj-id-col key --op-col op -p lru -s 2 --json
	py strings '
import json, sys
r = json.load(sys.stdin)[0]
# alpha beta, alpha hits, gamma evicts beta, (beta deleted: not replayed),
# beta evicts alpha, alpha evicts gamma: 5 misses in 6 requests
assert r["requests"] == 6 and r["misses"] == 5, r
'
	# csv options one by one or as libCacheSim's -t list give the same runs
	run semi1 0 cache "$DATA/semicolon.csv" -f csv --delimiter semicolon --obj-id-col 1 \
		--op-col 2 --has-header false -p lru -s 2 --json
	run semi2 0 cache "$DATA/semicolon.csv" -f csv --delimiter ';' \
		-t "obj-id-col=1,op-col=2,has-header=false" -p lru -s 2 --json
	checks=$((checks + 1))
	cmp -s "$TMP/semi1.out" "$TMP/semi2.out" || fail "--delimiter/--obj-id-col differ from -t"
	# a blank or a tab given as the character itself (not trimmed away)
	tr ';' ' ' <"$DATA/semicolon.csv" >"$TMP/space.csv"
	run space1 0 cache "$TMP/space.csv" -f csv --delimiter ' ' --obj-id-col 1 \
		--op-col 2 --has-header false -p lru -s 2 --json
	tr ';' '\t' <"$DATA/semicolon.csv" >"$TMP/tab.csv"
	run tab1 0 cache "$TMP/tab.csv" -f csv --delimiter "$(printf '\t')" --obj-id-col 1 \
		--op-col 2 --has-header false -p lru -s 2 --json
	checks=$((checks + 1))
	cmp -s "$TMP/semi1.out" "$TMP/space1.out" && cmp -s "$TMP/semi1.out" "$TMP/tab1.out" ||
		fail "--delimiter ' ' or TAB differs from --delimiter semicolon"
	py semi1 '
import json, sys
r = json.load(sys.stdin)[0]
# 7 8 7 9 8 with 2 frames: 7 hits once; 9 evicts 8 (written by its set:
# a dirty eviction), 8 evicts 7
assert (r["requests"], r["misses"], r["dirty_evictions"]) == (5, 4, 1), r
'
	run csv_t 0 cache "$TR/cache.csv" -t "obj-id-col=2, time-col=1, op-col=4" -p fifo,lru -s 2,4
	run csv_auto 0 cache "$TR/cache.csv" -p fifo,lru -s 2,4
	checks=$((checks + 1))
	cmp -s "$TMP/csv_t.out" "$TMP/csv_auto.out" || fail "named csv columns differ from detected ones"
	# size syntax: ranges with steps and factors, sorted, deduplicated
	run sizes 0 cache "$TR/belady.txt" -p fifo -s 16:128:*2 -s 1:10:3,4 --json
	py sizes '
import json, sys
assert [r["size"] for r in json.load(sys.stdin)] == [1, 4, 7, 10, 16, 32, 64, 128]
'
	run numreq 0 cache "$TR/belady.txt" -p fifo -s 3 -n 6 --json
	py numreq '
import json, sys
r = json.load(sys.stdin)[0]
assert r["requests"] == 6 and r["misses"] == 6, r
'
	# opt loads the trace for its pre-pass: only the first N requests, and
	# their next uses are within those N (1 2 3 4 1 with 3 frames: 4 misses)
	run numreq_opt 0 cache "$TR/belady.txt" -p belady -s 3 -n 5 --json
	py numreq_opt '
import json, sys
r = json.load(sys.stdin)[0]
assert r["policy"] == "opt" and r["requests"] == 5 and r["misses"] == 4, r
'
	# --check: consistent runs, lru against the stack algorithm
	run check 0 cache "$TR/touch.lk.gz" -p lru,fifo,clock -s 1:40 --check
	contains check err "check passed: 120 runs consistent, lru agrees with the stack algorithm"
	# a full disk is an I/O error
	checks=$((checks + 1))
	"$MMSIM" policies >/dev/full 2>"$TMP/full.err"
	[ $? = 4 ] || fail "writing to /dev/full: expected exit 4"
	contains full err "mmsim policies: error writing standard output: No space left on device"
	run full_csv 4 sweep "$TR/belady.txt" -p fifo --csv /dev/full
	contains full_csv err "error writing /dev/full"
	# out of memory is exit 5 (not under ASan, which needs its address space)
	if ! ldd "$MMSIM" 2>/dev/null | grep -q asan; then
		checks=$((checks + 1))
		(ulimit -v 300000; "$MMSIM" cache "$TR/belady.txt" -p fifo -s 32m) >/dev/null 2>"$TMP/oom.err"
		[ $? = 5 ] || fail "a cache of 2^25 objects in 300 MB: expected exit 5"
		contains oom err "mmsim cache: out of memory"
	fi
	# output file
	run output 0 cache "$TR/belady.txt" -p fifo -s 3,4 --json -o "$TMP/out.json"
	checks=$((checks + 1))
	cmp -s "$TMP/out.json" "$EXP/belady_json.out" || fail "-o FILE differs from stdout"
	# forced progress goes to stderr, never stdout
	run progress 0 cache "$TR/belady.txt" -p fifo -s 3 --progress
	contains progress err "mmsim cache: 0.0 M requests (100% read), "
	contains progress err " (done)"
	checks=$((checks + 1))
	grep -q "M requests" "$TMP/progress.out" && fail "progress written to stdout"
}

# ---- sweep ---------------------------------------------------------------------
group_sweep() {
	run sweep_text 0 sweep "$TR/belady.txt"
	golden sweep_text
	# a marked column keeps its decimal points aligned, and no line ends in a
	# blank when it is the last column
	run sweep_align 0 sweep "$TR/belady.txt" -p lru,fifo
	py sweep_align '
import sys
rows = sys.stdin.read().split("\n")[2:7]
assert len({tuple(i for i, c in enumerate(r) if c == ".") for r in rows}) == 1, rows
assert all(not r.endswith(" ") for r in rows) and rows[3].endswith("0.8333*"), rows
'
	run sweep_json 0 sweep "$TR/belady.txt" -p fifo,lru,clock -s 1:7 --json
	py sweep_json '
import json, sys
rows = json.load(sys.stdin)
assert list(rows[0])[:5] == ["policy", "size", "requests", "misses", "miss_ratio"]
anom = [(r["policy"], r["size"]) for r in rows if r["anomaly"]]
assert anom == [("fifo", 4)], anom
fifo = [r["misses"] for r in rows if r["policy"] == "fifo"]
assert fifo == [12, 12, 9, 10, 5, 5, 5], fifo
assert {r["method"] for r in rows if r["policy"] == "lru"} == {"stack"}
assert {r["method"] for r in rows if r["policy"] != "lru"} == {"replay"}
'
	# CSV to a file, with the table on stdout
	run sweep_csv 0 sweep "$TR/belady.txt" -p fifo,lru -s 1:6 --csv "$TMP/sweep.csv"
	checks=$((checks + 1))
	diff -u "$EXP/sweep_csv.csv" "$TMP/sweep.csv" >&2 || fail "sweep CSV differs"
	contains sweep_csv out "fifo: 4 frames give 10 faults, 3 frames gave 9"
	# the gnuplot script, data and anomaly label included
	run sweep_script 0 sweep "$TR/belady.txt" -p fifo,lru -s 1:6 --plot "$TMP/p.svg" \
		--plot-script "$TMP/p.gp" --no-progress
	checks=$((checks + 1))
	sed "s|$TMP/|OUT/|" "$TMP/p.gp" >"$TMP/p.gp.norm"
	diff -u "$EXP/sweep_script.gp" "$TMP/p.gp.norm" >&2 || fail "gnuplot script differs"
	# past gnuplot's 8 colours the lines are dashed; integer x over a range
	# of more than 20 keeps gnuplot's own ticks
	run sweep_script9 0 sweep "$TR/touch.lk.gz" -p fifo,lru,clock,lfu,random,nru,aging,wsclock,opt \
		-s 1:40 --plot "$TMP/p9.svg" --plot-script "$TMP/p9.gp" --no-progress
	checks=$((checks + 1))
	[ "$(grep -c ' dt 2 title' "$TMP/p9.gp")" = 1 ] && grep -q " dt 2 title 'opt'" "$TMP/p9.gp" &&
		! grep -q 'set xtics' "$TMP/p9.gp" || fail "sweep of 9 policies: the 9th line not dashed alone"
	# the legend below the plot takes three rows here: the image is 40 px taller
	contains p9 gp "set terminal svg size 960,640 dynamic"
	contains p9 gp "set key below"
	# gnuplot missing: a clear message, exit 4, the CSV still written
	checks=$((checks + 1))
	PATH=/nonexistent "$MMSIM" sweep "$TR/belady.txt" -p fifo -s 1:6 --csv "$TMP/np.csv" \
		--plot "$TMP/np.png" >"$TMP/nognuplot.out" 2>"$TMP/nognuplot.err"
	[ $? = 4 ] || fail "sweep without gnuplot: expected exit 4"
	contains nognuplot err "gnuplot not found in PATH: the plot $TMP/np.png was not drawn"
	checks=$((checks + 1))
	[ -s "$TMP/np.csv" ] && [ ! -e "$TMP/np.png" ] || fail "without gnuplot: CSV missing or PNG present"
	if command -v gnuplot >/dev/null; then
		run sweep_png 0 sweep "$TR/belady.txt" -p fifo,lru -s 1:6 --plot "$TMP/p.png"
		checks=$((checks + 1))
		[ "$(head -c 8 "$TMP/p.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
			fail "sweep --plot did not write a PNG"
		checks=$((checks + 1))
		grep -q "fifo: 4 frames" "$TMP/p.svg" || fail "the SVG lacks the anomaly label"
		# a plot that cannot be written is told as other outputs are
		run sweep_plotdir 4 sweep "$TR/belady.txt" --plot "$TMP/no/such/dir/p.png"
		contains sweep_plotdir err "mmsim sweep: cannot write $TMP/no/such/dir/p.png: No such file"
		checks=$((checks + 1))
		! grep -q "gnuplot>" "$TMP/sweep_plotdir.err" || fail "gnuplot's own error shown"
		# one size, or no request: drawn without gnuplot's range warnings
		: >"$TMP/empty.txt"
		run sweep_plot0 0 sweep "$TMP/empty.txt" --plot "$TMP/p0.svg"
		run sweep_plot1 0 sweep "$TR/belady.txt" -s 3 --plot "$TMP/p1.svg"
		checks=$((checks + 1))
		[ ! -s "$TMP/sweep_plot0.err" ] && [ ! -s "$TMP/sweep_plot1.err" ] &&
			grep -q "<svg" "$TMP/p0.svg" || fail "sweep plot of one size: gnuplot warned"
	else
		echo "note: gnuplot not installed: PNG/SVG rendering not checked" >&2
	fi
	# automatic sizes on a larger trace: 50 points up to the distinct count,
	# two passes over the file; stdin gives the same numbers in one pass
	run sweep_auto 0 sweep "$TR/touch.lk.gz" -p lru,fifo --json
	checks=$((checks + 1))
	gzip -dc "$TR/touch.lk.gz" | "$MMSIM" sweep - -p lru,fifo --json >"$TMP/auto_stdin.out" 2>/dev/null
	cmp -s "$TMP/sweep_auto.out" "$TMP/auto_stdin.out" || fail "sweep from stdin differs from file"
	py sweep_auto '
import json, sys
rows = json.load(sys.stdin)
lru = [r for r in rows if r["policy"] == "lru"]
sizes = [r["size"] for r in lru]
assert len(sizes) == 50 and sizes == sorted(sizes) and sizes[0] >= 1, sizes
assert all(a["misses"] >= b["misses"] for a, b in zip(lru, lru[1:])), "lru rose"
assert lru[-1]["misses"] == min(r["misses"] for r in rows), "the largest size has only cold misses"
'
	run sweep_check 0 sweep "$TR/touch.lk.gz" -p fifo,lru -s 1:64 --check
	contains sweep_check err "check passed: lru replayed at 64 sizes agrees with the stack algorithm"
	run sweep_mem 2 sweep "$TR/belady.txt" -p fifo -s 1:2000000000:100000000
	contains sweep_mem err "sample fewer sizes"
	# runs in groups of at most N frames, one pass each: same results from a
	# file (several passes), from stdin (loaded) and with --check
	checks=$((checks + 3))
	MMSIM_SWEEP_GROUP=6 "$MMSIM" sweep "$TR/belady.txt" >"$TMP/grp.out" 2>/dev/null
	cmp -s "$TMP/grp.out" "$EXP/sweep_text.out" || fail "sweep in groups of 6 frames differs"
	MMSIM_SWEEP_GROUP=6 "$MMSIM" sweep - <"$TR/belady.txt" >"$TMP/grp2.out" 2>/dev/null
	tail -n +2 "$EXP/sweep_text.out" | cmp -s - <(tail -n +2 "$TMP/grp2.out") ||
		fail "sweep from stdin in groups differs"
	MMSIM_SWEEP_GROUP=40 "$MMSIM" sweep "$TR/touch.lk.gz" -p fifo,random,lru -s 1:64 --check \
		--json >"$TMP/grp3.out" 2>"$TMP/grp3.err"
	"$MMSIM" sweep "$TR/touch.lk.gz" -p fifo,random,lru -s 1:64 --json >"$TMP/grp4.out" 2>/dev/null
	cmp -s "$TMP/grp3.out" "$TMP/grp4.out" || fail "sweep in groups of 40 frames differs"
	contains grp3 err "check passed: lru replayed at 64 sizes agrees"
}

# ---- policies ------------------------------------------------------------------
group_policies() {
	run pol_text 0 policies
	golden pol_text
	run pol_long 0 policies --long
	golden pol_long
	contains pol_long out "options: ref=0(0|1)"
	contains pol_long out "aliases: belady min"
	run pol_json 0 policies --json
	py pol_json '
import json, sys
rows = json.load(sys.stdin)
kind = {r["name"]: r["kind"] for r in rows}
assert {n for n, k in kind.items() if k == "idealised"} == {"lru", "lfu", "opt"}, kind
assert {"fifo", "clock", "second-chance", "nru", "aging", "wsclock", "linux", "random"} <= set(kind)
assert all(r["idealised"] == (r["kind"] == "idealised") for r in rows)
assert next(r for r in rows if r["name"] == "opt")["aliases"] == ["belady", "min"]
assert all(r["summary"] for r in rows)
'
	run pol_arg 2 policies extra
	contains pol_arg err "unexpected argument 'extra'"
}

# ---- docs: every option of --help is in the man page and the guide ----------------
group_docs() {
	local man=$SRC/docs/mmsim.1 md=$SRC/docs/mmsim.md
	for c in trace cache sweep policies run demo; do
		"$MMSIM" "$c" --help >"$TMP/h.txt"
		for o in $(grep -oE -- '--[a-z][a-z-]+' "$TMP/h.txt" | sort -u); do
			checks=$((checks + 1))
			# roff writes - as \-
			grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$man" ||
				fail "$c option $o is not in docs/mmsim.1"
			checks=$((checks + 1))
			grep -qF -- "$o" "$md" || fail "$c option $o is not in docs/mmsim.md"
		done
		checks=$((checks + 1))
		grep -q "^\.SS.*$c" "$man" || fail "docs/mmsim.1 has no section for $c"
	done
	# each exit code has its own entry under EXIT STATUS, as in --help
	for code in 0 1 2 3 4 5; do
		checks=$((checks + 1))
		sed -n '/^\.SH EXIT STATUS/,/^\.SH EXAMPLES/p' "$man" | grep -qx "\.B $code" ||
			fail "exit code $code not under EXIT STATUS in docs/mmsim.1"
		checks=$((checks + 1))
		grep -q "^| $code |" "$md" || fail "exit code $code not in the table of docs/mmsim.md"
	done
	# the man page renders without warnings
	if command -v groff >/dev/null; then
		checks=$((checks + 1))
		groff -ww -man -z "$man" 2>"$TMP/groff.err" && [ ! -s "$TMP/groff.err" ] ||
			{ fail "groff warns about docs/mmsim.1:"; cat "$TMP/groff.err" >&2; }
	fi
}

# ---- scenarios: mmsim run and the bundled scenarios ------------------------------
# norm FILE: blank what depends on the host or the build: temporary paths,
# device and inode numbers of mapped files, physical addresses of page-table
# frames, and in the kernel log the simulated time and the resident pages of
# the tasks when the OOM killer ran (debug builds' slab checks use other
# frames and more of them)
norm() {
	sed -E -i 's#[^ ]*/mmsim-[A-Za-z0-9]{6}/#<tmp>/#g;
		s#^([0-9a-f]+-[0-9a-f]+ [-rwxsp]{4} [0-9a-f]+) [0-9a-f]{2}:[0-9a-f]{2} [0-9]+ +<tmp>#\1 DEV INODE <tmp>#;
		s#CR3 = 0x[0-9a-f]+#CR3 = PHYS#; s# at 0x[0-9a-f]{8}: [0-9a-f]+ # at PHYS: ENTRY #
		s#^\[ *[0-9]+\.[0-9]{6}\] #[TIME] #
		s#^(\[TIME\] \[ *[0-9]+\] +[0-9]+ +[0-9]+ +[0-9]+) +[0-9]+ +[0-9]+ #\1 RSS RSS_ANON #' "$1"
}

group_scenarios() {
	local f n
	for f in examples/scenarios/*.mms; do
		n=$(basename "$f" .mms)
		[ "$n" = demo ] && continue   # the demo group runs it
		run "scn_$n" 0 run "$f"
		norm "$TMP/scn_$n.out"
		# a scenario marked "golden: optimized builds only" shows amounts that
		# depend on free memory, which debug builds' slab checks change
		if grep -q "^# golden: optimized builds only" "$f" && ldd "$MMSIM" 2>/dev/null | grep -q asan; then
			echo "note: sanitizer build: $n not compared with scn_$n.out" >&2
		else
			golden "scn_$n"
		fi
		contains "scn_$n" out " expects: "
		contains "scn_$n" out " passed, 0 failed"
		# --check: every invariant after every statement; --json: every expect ok
		run "scn_${n}_check" 0 run --check --quiet "$f"
		checks=$((checks + 1))
		[ -s "$TMP/scn_${n}_check.out" ] && fail "scn_$n: --quiet printed something"
		run "scn_${n}_json" 0 run --json "$f"
		py "scn_${n}_json" '
import json, sys
d = json.load(sys.stdin)
ex = [e for e in d["events"] if e["type"] == "expect"]
assert d["status"] == "ok" and d["failed"] == 0 and d["error"] == "", d["status"]
assert len(ex) == d["expects"] > 0 and all(e["ok"] for e in ex), ex
assert all(e["file"].endswith(".mms") and e["line"] > 0 for e in d["events"])
'
	done
	# a syntax error: FILE:LINE:COL, exit 3, nothing run
	printf 'machine ram=64M\nprocess a\nb = mmap 4K rw- privat\n' >"$TMP/syn.mms"
	run syn 3 run "$TMP/syn.mms"
	contains syn err "mmsim run: $TMP/syn.mms:3:17: unknown mmap flag 'privat' (did you mean 'private'?)"
	checks=$((checks + 1))
	[ -s "$TMP/syn.out" ] && fail "a syntax error still ran the scenario"
	# with --json a syntax error still gives one document, with no events
	run syn_json 3 run "$TMP/syn.mms" --json
	contains syn_json err "syn.mms:3:17: unknown mmap flag 'privat'"
	py syn_json 'import json,sys
d = json.load(sys.stdin)
assert d["events"] == [] and d["status"] == "bad input" and d["steps"] == 0, d
assert d["error"].endswith("syn.mms:3:17: unknown mmap flag \x27privat\x27 (did you mean \x27private\x27?)"), d
'
	printf 'process a\nrepeat 3 {\n  read 0x1000\n' >"$TMP/unclosed.mms"
	run unclosed 3 run "$TMP/unclosed.mms"
	contains unclosed err "end of file inside the repeat opened at $TMP/unclosed.mms:2"
	printf 'process a\nexpect minflts == 0\n' >"$TMP/name.mms"
	run name 3 run "$TMP/name.mms"
	contains name err "name.mms:2:8: unknown name 'minflts' (did you mean 'minflt'?"
	# a failed expect: FILE:LINE: expect failed ... (got X), the run goes on, exit 1
	printf 'process a\nb = mmap 8K\nwrite $b 7\nexpect minflt == 3\nexpect read $b == 8\necho end\n' \
		>"$TMP/fail.mms"
	run fail 1 run "$TMP/fail.mms"
	contains fail err "mmsim run: $TMP/fail.mms:4: expect failed: minflt == 3 (got 1)"
	contains fail err "mmsim run: $TMP/fail.mms:5: expect failed: read \$b == 8 (got 7)"
	contains fail out "end"
	contains fail out "2 expects: 0 passed, 2 failed"
	# the machine refuses: a fault outside try stops the run, exit 1
	printf 'process a\nb = mmap 4K r--\nwrite $b 1\necho not reached\n' >"$TMP/segv.mms"
	run segv 1 run "$TMP/segv.mms"
	contains segv err "segv.mms:3: write 0x7ffff7ffe000 in process 1: SIGSEGV (SEGV_ACCERR) at 0x7ffff7ffe000"
	checks=$((checks + 1))
	grep -q "not reached" "$TMP/segv.out" && fail "the run went on after a fault"
	printf 'process a\nmmap 0\n' >"$TMP/einval.mms"
	run einval 1 run "$TMP/einval.mms"
	contains einval err "einval.mms:2: mmap failed: EINVAL (Invalid argument)"
	# strace lines and failures use Linux's strerror() text
	printf 'process a\nx = mmap 8K\nstrace on\ntry mmap 4K addr=$x fixed_noreplace\n%s\n' \
		'try munmap 1 4K' >"$TMP/errtext.mms"
	run errtext 0 run "$TMP/errtext.mms"
	contains errtext out "[pid 1] munmap(0x1, 4096) = -1 EINVAL (Invalid argument)"
	contains errtext out "MAP_FIXED_NOREPLACE, -1, 0) = -1 EEXIST (File exists)"
	# misuse found while running: exit 3 with the column
	printf 'process a\n@b read 0\n' >"$TMP/noproc.mms"
	run noproc 3 run "$TMP/noproc.mms"
	contains noproc err "noproc.mms:2:1: no process named 'b'"
	# --progress: a line per update on stderr with the steps so far, then (done)
	printf 'process a\nx = mmap 4K\nrepeat 100000 {\n  read $x\n}\necho end\n' >"$TMP/long.mms"
	run progress 0 run "$TMP/long.mms" --progress
	contains progress err "mmsim run: 0.1 M steps"
	contains progress err "mmsim run: 0.2 M steps"
	contains progress err " (done)"
	contains progress out "end"
	run noprogress 0 run "$TMP/long.mms" --no-progress
	checks=$((checks + 1))
	[ -s "$TMP/noprogress.err" ] && fail "--no-progress printed on stderr"
	# an unset variable in echo text: its column
	printf 'let a = 1\necho a=$a  b=$(1 + 1) c=${nope}\n' >"$TMP/unset.mms"
	run unset 3 run "$TMP/unset.mms"
	contains unset err "unset.mms:2:25: variable \$nope is not set"
	# standard input that cannot be read
	checks=$((checks + 1))
	"$MMSIM" run - <"$TMP" >/dev/null 2>"$TMP/stdindir.err"
	[ $? = 4 ] || fail "run - from a directory did not exit 4"
	contains stdindir err "mmsim run: <stdin>: Is a directory"
	# a try access that completes clears what an earlier fault recorded
	printf '%s\n' 'process a' 'x = mmap 4K r--' 'try write $x 1' 'expect $signal == SIGSEGV' \
		'try read $x' 'expect $signal == 0' 'expect $si_code == 0' 'expect $si_addr == 0' \
		'try fill $x 8K 1' 'expect $si_addr == $x' >"$TMP/tryclear.mms"
	run tryclear 0 run "$TMP/tryclear.mms"
	contains tryclear out "5 expects: 5 passed, 0 failed"
	# a leading - joins the argument before it (docs/scenario.md): (-1) is a value
	printf 'process a\nx = mmap 8K\nwrite $x (-1)\nexpect read $x == 255\nwrite $x -1\n' \
		>"$TMP/minus.mms"
	run minus 3 run "$TMP/minus.mms"
	contains minus err "minus.mms:5:12: expected an expression at the end of the line"
	checks=$((checks + 1))
	[ -s "$TMP/minus.out" ] && fail "minus.mms ran before its syntax error"
	printf 'process a\nexit\nread 0x1000\n' >"$TMP/noleft.mms"
	run noleft 3 run "$TMP/noleft.mms"
	contains noleft err "noleft.mms:3:1: no process left (every one exited): start one with 'process NAME'"
	printf 'process a\nexpect meminfo.Nope == 0\n' >"$TMP/norow.mms"
	run norow 3 run "$TMP/norow.mms"
	contains norow err "norow.mms:2:8: meminfo has no row 'Nope'"
	printf 'machine ram=30M\n' >"$TMP/ram.mms"
	run ram 3 run "$TMP/ram.mms"
	contains ram err "ram.mms:1:9: ram=31457280: must be a multiple of 4M"
	printf 'machine ram=1T\n' >"$TMP/bigram.mms"
	run bigram 3 run "$TMP/bigram.mms"
	contains bigram err "more than the 16384 MiB allowed"
	# an include cycle is named as such, at the include's path
	printf 'echo one\ninclude cyc2.mms\n' >"$TMP/cyc1.mms"
	printf '\ninclude ./cyc1.mms\n' >"$TMP/cyc2.mms"
	run cycle 3 run "$TMP/cyc1.mms"
	contains cycle err "cyc2.mms:2:9: include cycle: $TMP/./cyc1.mms is already being read"
	# -D sets a param, include reads a file relative to the includer
	mkdir -p "$TMP/inc"
	printf 'param N = 2\nprocess a\nb = mmap $N*4K\nwrite seq $b $N*4K\ninclude inc/more.mms\n' \
		>"$TMP/main.mms"
	printf 'expect minflt == $N\necho N=$N faults=$(minflt)\n' >"$TMP/inc/more.mms"
	run param 0 run "$TMP/main.mms"
	contains param out "N=2 faults=2"
	run define 0 run "$TMP/main.mms" -D N=5
	contains define out "N=5 faults=5"
	run define_expr 0 run "$TMP/main.mms" -D N=2*3
	contains define_expr out "N=6 faults=6"
	run define_bad 2 run "$TMP/main.mms" -D 5N=1
	contains define_bad err "-D 5N: a name starts with a letter or _"
	run define_val 3 run "$TMP/main.mms" -D N=4Q
	contains define_val err "-D N=4Q: unexpected 'Q' after a number"
	printf 'include nosuch.mms\n' >"$TMP/inc/bad.mms"
	run include_missing 4 run "$TMP/inc/bad.mms"
	contains include_missing err "bad.mms:1:9: $TMP/inc/nosuch.mms: No such file or directory"
	printf 'include inc\n' >"$TMP/incdir.mms"
	run include_dir 4 run "$TMP/incdir.mms"
	contains include_dir err "incdir.mms:1:9: $TMP/inc: Is a directory"
	printf 'include self.mms\n' >"$TMP/self.mms"
	run include_loop 3 run "$TMP/self.mms"
	contains include_loop err "self.mms:1:9: include cycle: $TMP/self.mms is already being read"
	# 17 files each including the next: deeper than 16, no cycle
	for i in $(seq 0 17); do printf 'include d%d.mms\n' $((i + 1)) >"$TMP/d$i.mms"; done
	run include_deep 3 run "$TMP/d0.mms"
	contains include_deep err "d16.mms:1:1: includes nested more than 16 deep"
	# standard input; a missing file; usage
	checks=$((checks + 1))
	printf 'process a\nexpect pid == 1\necho from stdin\n' | "$MMSIM" run - >"$TMP/stdin.out" 2>&1 ||
		fail "a scenario from stdin failed"
	contains stdin out "from stdin"
	run missing 4 run "$TMP/nosuch.mms"
	contains missing err "mmsim run: $TMP/nosuch.mms: No such file or directory"
	run noscn 2 run
	contains noscn err "no scenario given"
	run twoscn 2 run a.mms b.mms
	contains twoscn err "one scenario at a time"
	# a host ELF: spawn and exec load it with its libraries; a missing one is ENOENT
	if [ -x /bin/true ]; then
		printf 'spawn t /bin/true\nexpect pid == 1\nshow maps\nexec /bin/true --version\nfork c\n@c try exec /nonexistent\nexpect $errno == ENOENT\n' \
			>"$TMP/spawn.mms"
		run spawn 0 run "$TMP/spawn.mms"
		contains spawn out "/true"
		contains spawn out "libc.so.6"
	fi
	# the examples of docs/scenario.md run and their expects hold
	checks=$((checks + 1))
	python3 - "$SRC/docs/scenario.md" "$TMP" <<'EOF' || fail "cannot extract the examples of docs/scenario.md"
import re, sys
doc = open(sys.argv[1]).read()
top = doc[:doc.index("## Lines")]
ex = doc[doc.index("## Examples"):doc.index("## Errors and exit status")]
blocks = [b for b in re.findall(r"```\n(.*?)```", top, re.S) if "process" in b]
blocks += re.findall(r"```\n(.*?)```", ex, re.S)
assert len(blocks) >= 5, len(blocks)
for i, b in enumerate(blocks):
    open("%s/docex%d.mms" % (sys.argv[2], i), "w").write(b)
EOF
	for f in "$TMP"/docex*.mms; do
		checks=$((checks + 1))
		"$MMSIM" run --quiet "$f" >/dev/null 2>"$TMP/docex.err" ||
			{ fail "docs/scenario.md example $f:"; sed 's/^/    /' "$TMP/docex.err" >&2; }
	done
	# try records errno and the signal
	printf 'process a\ntry mmap 0\nexpect $errno == EINVAL\ntry read 16\nexpect $signal == SIGSEGV\nexpect $si_addr == 16\n' \
		>"$TMP/try.mms"
	run try 0 run "$TMP/try.mms"
}

# ---- regen: rewrite the scenario and demo goldens (not a CTest test) ----------------
# After an intended change of the machine's behaviour:
#   bash tests/tools/test_mmsim.sh regen build/tools/mmsim/mmsim .
# then review `git diff tests/tools/expected/` before committing. Use an
# optimized build: debug builds differ where free memory shows.
group_regen() {
	local f n
	for f in examples/scenarios/*.mms; do
		n=$(basename "$f" .mms)
		[ "$n" = demo ] && continue
		"$MMSIM" run "$f" >"$EXP/scn_$n.out" 2>/dev/null
		norm "$EXP/scn_$n.out"
	done
	"$MMSIM" demo --out "$TMP/regen" >"$EXP/demo.out" 2>/dev/null
	norm "$EXP/demo.out"
	echo "regen: rewrote tests/tools/expected/scn_*.out and demo.out" >&2
}

# ---- demo: the bundled scenario, its report and plots -----------------------------
group_demo() {
	run demo 0 demo --out "$TMP/out"
	contains demo err "mmsim demo: report written to $TMP/out/report.md"
	contains demo out "==== 8. Out of memory: the OOM killer ===="
	contains demo out " passed, 0 failed"
	# the embedded scenario is examples/scenarios/demo.mms: the same text
	run demo_run 0 run examples/scenarios/demo.mms
	checks=$((checks + 1))
	cmp -s "$TMP/demo.out" "$TMP/demo_run.out" ||
		fail "mmsim demo differs from mmsim run examples/scenarios/demo.mms (rebuild after editing it?)"
	# the text is stable: compared byte for byte in optimized builds (debug
	# builds' slab checks change free memory, so only the structure there)
	norm "$TMP/demo.out"
	if ldd "$MMSIM" 2>/dev/null | grep -q asan; then
		echo "note: sanitizer build: demo output not compared with demo.out" >&2
	else
		golden demo
	fi
	checks=$((checks + 1))
	grep -qE '/tmp|/home|/work|[0-9]{4}-[0-9]{2}-[0-9]{2}' "$TMP/demo.out" &&
		fail "the demo's text holds a path or a date"
	# the report: every section, the checks, the plots (or their scripts)
	local r=$TMP/out/report.md
	checks=$((checks + 1))
	[ -s "$r" ] && [ -s "$TMP/out/memory.gp" ] && [ -s "$TMP/out/buddy.gp" ] ||
		fail "demo: report.md or the plot scripts missing"
	for t in "## 1. A process starts" "## 4. fork: copy-on-write" "## 8. Out of memory" "## 7. Memory pressure" \
		"## Memory over time" "## Buddy allocator: free areas" "## The scenario" \
		"Dotted lines mark where each section starts" "(external fragmentation)" \
		'- `minflt == 16 + 256`: holds' '$ cat /proc/meminfo' "expects:" " 0 failed"; do
		checks=$((checks + 1))
		grep -qF -- "$t" "$r" || fail "report.md lacks '$t'"
	done
	if command -v gnuplot >/dev/null; then
		checks=$((checks + 2))
		grep -qF '![memory over time](memory.png)' "$r" || fail "report.md lacks the memory plot"
		[ "$(head -c 8 "$TMP/out/memory.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
			fail "demo: memory.png is not a PNG"
	fi
	# the plot data: free memory falls when the hog runs, and comes back
	py demo '
import re, sys
gp = open(sys.argv[1] if len(sys.argv) > 1 else "'"$TMP"'/out/memory.gp").read()
free = [float(l.split()[1]) for l in gp.split("$s0 << EOD\n")[1].split("EOD")[0].splitlines()]
assert len(free) > 50 and min(free) < free[0] / 2 and free[-1] > free[0] * 0.8, (min(free), free[0], free[-1])
'
	# readable plots: the memory key below the curves, each section marked
	# where it starts; the buddy plot's ninth line (the end) not in the
	# first one's colour, its labels the titles up to their ':'
	py demo '
import sys
gp = open("'"$TMP"'/out/memory.gp").read()
head = gp.split("\nplot ")[0]
assert "set key outside below" in head, "memory key"
marks = [l for l in head.splitlines() if l.startswith("set label ")]
assert [l.split("\x27")[1] for l in marks] == [str(i) for i in range(1, 9)], marks
assert head.count("set arrow from") == 8
bd = open("'"$TMP"'/out/buddy.gp").read()
assert "set linetype 9 lc rgb" in bd.split("\nplot ")[0], "buddy colours"
assert "title \x277. Memory pressure\x27" in bd and "title \x27end\x27" in bd, "buddy labels"
'
	# HTML; gnuplot missing: the report says so and the run succeeds
	checks=$((checks + 1))
	PATH=/nonexistent "$MMSIM" demo --out "$TMP/html" --format html --quiet >"$TMP/nogp.out" \
		2>"$TMP/nogp.err" || fail "demo without gnuplot failed"
	checks=$((checks + 3))
	[ ! -s "$TMP/nogp.out" ] || fail "demo --quiet printed something"
	head -1 "$TMP/html/report.html" | grep -q '<!DOCTYPE html>' || fail "report.html is not HTML"
	grep -q "gnuplot was not found" "$TMP/html/report.html" || fail "report.html does not say gnuplot is missing"
	contains nogp err "gnuplot not found: no plots"
	# from another directory (the scenario is in the binary); another scenario
	checks=$((checks + 1))
	(cd / && "$MMSIM" demo --out "$TMP/elsewhere" --quiet 2>/dev/null) &&
		[ -s "$TMP/elsewhere/report.md" ] || fail "demo from / failed"
	run demo_scn 0 demo --scenario examples/scenarios/fork-cow.mms --out "$TMP/fc"
	checks=$((checks + 1))
	grep -q "## the child writes one page: one copy" "$TMP/fc/report.md" ||
		fail "demo --scenario: the report lacks the scenario's sections"
	# a scenario that cannot be read; one that never starts the machine
	run demo_dirscn 4 demo --scenario "$TMP" --out "$TMP/dirscn"
	contains demo_dirscn err "mmsim demo: $TMP: Is a directory"
	printf 'echo no machine here\n' >"$TMP/nomachine.mms"
	run demo_nomachine 0 demo --scenario "$TMP/nomachine.mms" --out "$TMP/nm"
	contains demo_nomachine err "report written to $TMP/nm/report.md (no plots: the scenario never started the machine)"
	checks=$((checks + 2))
	grep -q "gnuplot" "$TMP/demo_nomachine.err" && fail "demo ran gnuplot on no data"
	grep -qF "*No plot: the scenario never started the machine.*" "$TMP/nm/report.md" ||
		fail "demo: the report does not say why there is no plot"
	# echo text stays text in Markdown: no heading, list or quote from a line
	printf '%s\n' 'process a' 'echo # hash' 'echo 1. one' 'echo - dash' 'echo > gt' 'echo 3.5 MiB' \
		>"$TMP/mdtext.mms"
	run demo_md 0 demo --scenario "$TMP/mdtext.mms" --out "$TMP/md"
	contains demo_md out "# hash"
	checks=$((checks + 1))
	grep -qxF -e '\# hash' "$TMP/md/report.md" && grep -qxF -e '1\. one' "$TMP/md/report.md" &&
		grep -qxF -e '\- dash' "$TMP/md/report.md" && grep -qxF -e '\> gt' "$TMP/md/report.md" &&
		grep -qxF -e '3.5 MiB' "$TMP/md/report.md" ||
		fail "demo: echo lines not kept as text in report.md"
	run demo_fmt 2 demo --format pdf
	contains demo_fmt err "--format: expected md or html, not 'pdf'"
	run demo_arg 2 demo extra
	contains demo_arg err "unexpected argument 'extra'"
	touch "$TMP/file"
	run demo_dir 4 demo --out "$TMP/file/sub"
	contains demo_dir err "cannot create the directory $TMP/file/sub"
}

# ---- trace: the full machine -----------------------------------------------------
group_trace() {
	local LK=$TR/touch.lk.gz
	# the bundled lackey trace: summary and views, text and JSON
	run trace_text 0 trace "$LK" --show maps,status
	golden_norm trace_text
	run trace_free 0 trace "$LK" --json --show free
	py trace_free '
import json, sys
r = json.load(sys.stdin)
f = r["views"]["free"].split("\n")
assert f[0].split() == ["total", "used", "free", "shared", "buff/cache", "available"], f
assert int(f[1].split()[3]) == r["mem_free_kb"], (f, r["mem_free_kb"])
'
	run trace_json 0 trace "$LK" --json --show maps
	py trace_json '
import json, sys
r = json.load(sys.stdin)
# records = accesses + the 9 mapping system calls, all applied
assert r["records"] == r["accesses"] + 9 and r["syscalls"] == 9 and r["syscalls_applied"] == 9, r
assert r["accesses"] == r["reads"] + r["writes"] + r["modifies"] + r["ifetches"], r
assert (r["ifetches"], r["reads"], r["writes"], r["modifies"]) == (41003, 7275, 1508, 41), r
# every page access is one lookup: a hit in some TLB or a walk
assert r["page_accesses"] <= r["dtlb_hits"] + r["itlb_hits"] + r["stlb_hits"] + r["tlb_misses"]
assert r["min_flt"] > 0 and r["maj_flt"] == 0 and r["segv"] == 0 and not r["oom"], r
assert r["machine"]["ram_bytes"] == 64 << 20 and r["machine"]["dtlb"] == "64:4", r
assert r["views"]["maps"].count("\n") == r["vmas"] + 1, r   # and [vsyscall]
'
	golden_norm trace_json
	contains trace_text out "[heap]"
	contains trace_text out "Name:	touch"
	# the timeline: a sample at the start, every 10000 accesses, and the end
	run trace_tl 0 trace "$LK" --timeline 10000 --csv -
	py trace_tl '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
assert [int(r["accesses"]) for r in rows] == [0, 10000, 20000, 30000, 40000, 49827], rows
assert int(rows[0]["rss_kb"]) == 0 and int(rows[-1]["min_flt"]) > int(rows[1]["min_flt"])
assert int(rows[-1]["free_kb"]) < int(rows[0]["free_kb"])
'
	cp "$TMP/trace_tl.out" "$TMP/trace_tl_raw.out"
	golden_norm trace_tl
	# CSV to a file and the summary on stdout; the plot scripts (data inside)
	run trace_tlfile 0 trace "$LK" --timeline 10000 --csv "$TMP/tl.csv" --plot "$TMP/m.svg" \
		--plot-buddy "$TMP/b.svg" --plot-script "$TMP/tl.gp" --no-progress
	checks=$((checks + 1))
	cmp -s "$TMP/tl.csv" "$TMP/trace_tl_raw.out" || fail "--csv FILE differs from --csv -"
	contains trace_tlfile out "page faults"
	contains tl gp "title 'RSS (VmRSS)'"
	contains tl gp "set xlabel 'order (block = 2^order pages)'"
	if command -v gnuplot >/dev/null; then
		checks=$((checks + 1))
		grep -q "<svg" "$TMP/m.svg" && grep -q "<svg" "$TMP/b.svg" || fail "trace plots not drawn"
	fi
	# gnuplot missing: a message, exit 4, the summary and the CSV still written
	checks=$((checks + 1))
	PATH=/nonexistent "$MMSIM" trace "$LK" --timeline 20000 --csv "$TMP/np.csv" \
		--plot "$TMP/np.png" >"$TMP/trace_nognuplot.out" 2>"$TMP/trace_nognuplot.err"
	[ $? = 4 ] && [ -s "$TMP/np.csv" ] || fail "trace without gnuplot: expected exit 4 and the CSV"
	contains trace_nognuplot err "gnuplot not found in PATH"
	contains trace_nognuplot out "page faults"
	# stdin gives the same replay as the file
	checks=$((checks + 1))
	gzip -dc "$LK" | "$MMSIM" trace - --show maps 2>/dev/null | tail -n +2 >"$TMP/stdin_trace.out"
	tail -n +2 "$TMP/trace_text.out" | head -n "$(wc -l <"$TMP/stdin_trace.out")" |
		sed -E 's/MemFree N kB/MemFree/' >"$TMP/a.txt"
	sed -E 's/MemFree [0-9]+ kB/MemFree/' "$TMP/stdin_trace.out" >"$TMP/b.txt"
	cmp -s "$TMP/a.txt" "$TMP/b.txt" || fail "mmsim trace - (stdin) differs from the file"
	# ids: the k-th distinct id is the k-th page of one region, first touch writes
	run trace_ids 0 trace "$TR/belady.txt" --json
	py trace_ids '
import json, sys
r = json.load(sys.stdin)
assert r["vma_mode"] == "region" and r["distinct_ids"] == 5 and r["accesses"] == 12, r
assert r["min_flt"] == 5 and r["rss_kb"] == 20 and r["zero_maps"] == 0, r
'
	# a machine option changes the outcome: one-entry TLBs miss more
	run trace_tlb1 0 trace "$LK" --tlb 1:1 --stlb 0 --json
	py trace_tlb1 '
import json, sys
r = json.load(sys.stdin)
assert r["machine"]["dtlb"] == "1:1" and r["machine"]["stlb"] == "none", r
assert r["tlb_misses"] > 2000 and r["stlb_hits"] == 0, r   # 216 with the default TLBs
'
	run trace_2level 0 trace "$TR/matrix.addr" --paging 2 --ram 8m --no-pcid --json
	py trace_2level '
import json, sys
r = json.load(sys.stdin)
# 5 pages touched: 4 matrix rows and the result; 32-bit walks are 2 references
assert r["min_flt"] == 5 and r["auto_pages"] == 5 and r["machine"]["paging"] == 2, r
assert r["writes"] == 33 and r["reads"] == 32, r
'
	# only system calls: the image and the stack are not mapped, so SIGSEGV
	run trace_sysonly 0 trace "$LK" --vma syscalls
	contains trace_sysonly err "accesses raised a signal; the first: line 7: SIGSEGV at 0x4014f0 (SEGV_MAPERR)"
	# no automatic VMA above the user address space (TASK_SIZE): the
	# access is a SIGSEGV and the replay goes on, not out of memory
	printf ' L 7ffffffff000,4\n L ffff888000001000,8\n S 10000,4\n' >"$TMP/top.lk"
	run trace_top 0 trace "$TMP/top.lk" --json
	py trace_top '
import json, sys
r = json.load(sys.stdin)
assert not r["oom"] and r["segv"] == 2 and r["writes"] == 1 and r["auto_pages"] == 1, r
'
	contains trace_top err "the first: line 1: SIGSEGV at 0x7ffffffff000 (SEGV_MAPERR)"
	printf ' L c0000000,4\n S 10000,4\n' >"$TMP/top32.lk"
	run trace_top32 0 trace "$TMP/top32.lk" --paging 2 --json
	py trace_top32 'import json, sys; r = json.load(sys.stdin); assert not r["oom"] and r["segv"] == 1, r'
	# only automatic VMAs: system calls passed over
	run trace_touch 0 trace "$LK" --auto-vma --json
	contains trace_touch err "note: 9 system call records were passed over (--vma touch)"
	# out of simulated memory stops the replay, reported; exit 0
	"$SRC/scripts/gen-zipf-trace" -n 20000 -u 5000 -s 3 >"$TMP/z.txt"
	run trace_oom 0 trace "$TMP/z.txt" --ram 8m --json
	py trace_oom 'import json, sys; r = json.load(sys.stdin); assert r["oom"] and r["accesses"] < 20000, r'
	contains trace_oom err "out of simulated memory at line"
	# --check walks every structure; --num-req stops early
	run trace_check 0 trace "$LK" --check -n 20000
	contains trace_check err "check passed"
	contains trace_check out "accesses       20000:"
	# errors: a bad line names FILE:LINE:COL (exit 3), or is skipped and counted
	run trace_badline 3 trace "$DATA/bad-line.lk"
	contains trace_badline err "mmsim trace: $DATA/bad-line.lk:5:"
	run trace_skipbad 0 trace "$DATA/bad-line.lk" --skip-bad
	contains trace_skipbad err "note: 1 malformed lines were skipped; the last: $DATA/bad-line.lk:5:"
	contains trace_skipbad out "accesses       4:"
	run trace_missing 4 trace "$TMP/nosuch.lk"
	contains trace_missing err "mmsim trace: $TMP/nosuch.lk: No such file or directory"
	run trace_paging 2 trace "$LK" --paging 3
	contains trace_paging err "--paging: expected 2, 4 or 5"
	run trace_tlbbad 2 trace "$LK" --tlb 64:128
	contains trace_tlbbad err "--tlb: expected ENTRIES or ENTRIES:WAYS"
	run trace_geom 2 trace "$LK" --dtlb 48:5
	contains trace_geom err "the machine cannot be built with these options"
	run trace_ram 2 trace "$LK" --ram 5m
	contains trace_ram err "--ram: expected a multiple of 4 MiB"
	run trace_show 2 trace "$LK" --show mpas
	contains trace_show err "unknown view 'mpas' (did you mean 'maps'?)"
	run trace_csvneeds 2 trace "$LK" --csv -
	contains trace_csvneeds err "--csv needs --timeline N"
	run trace_vmabad 2 trace "$LK" --vma all
	contains trace_vmabad err "--vma: expected auto, syscalls, touch or region"
	run trace_pagesize 2 trace "$LK" --page-size 8k
	contains trace_pagesize err "--page-size does not apply"
	run trace_lat 2 trace "$LK" --latency mem=fast
	contains trace_lat err "--latency: expected KEY=NS"
	# the synthetic lackey trace of the benchmark: reproducible, every mapping
	# call applies, no access faults outside the program's VMAs
	checks=$((checks + 2))
	"$SRC/scripts/gen-lackey-trace" -n 30000 -s 7 -o "$TMP/g1.lk" || fail "gen-lackey-trace failed"
	"$SRC/scripts/gen-lackey-trace" -n 30000 -s 7 | cmp -s - "$TMP/g1.lk" ||
		fail "gen-lackey-trace: same seed, different traces"
	run trace_gen 0 trace "$TMP/g1.lk" --json
	py trace_gen '
import json, sys
r = json.load(sys.stdin)
assert r["accesses"] >= 30000 and r["syscalls"] >= 2, r
assert r["syscalls_applied"] == r["syscalls"] and r["segv"] == 0, r
assert 0.6 < r["ifetches"] / r["accesses"] < 0.8, r
'
	# memory pressure: swap, kswapd and direct reclaim, global or local
	# replacement, the policy of the LRU lists; --check walks the machine
	run trace_swap 0 trace "$TMP/z.txt" --ram 8m --swap 32m --check --json
	py trace_swap '
import json, sys
r = json.load(sys.stdin)
assert not r["oom"] and r["accesses"] == 20000 and r["reclaim"] == "linux (global)", r
assert r["pswpout"] > 0 and r["maj_flt"] == r["pswpin"] > 0, r
assert r["swap_total_kb"] == 32 * 1024 - 4 and r["kswapd_wakeups"] > 0 and r["ticks"] > 0, r
'
	contains trace_swap err "check passed"
	run trace_swaps 0 trace "$TMP/z.txt" --ram 8m --swap 32m --show swaps -n 100
	contains trace_swaps out "==> /proc/swaps <=="
	contains trace_swaps out "Filename"
	run trace_clock 0 trace "$TMP/z.txt" --ram 8m --swap 32m -p clock --json
	py trace_clock 'import json, sys; r = json.load(sys.stdin); assert r["reclaim"] == "clock (global)" and r["pswpout"] > 0, r'
	run trace_local 0 trace "$TMP/z.txt" --ram 8m --swap 32m --local 256 --json
	py trace_local '
import json, sys
r = json.load(sys.stdin)
# the process replaces its own frames: never more than 256 resident
assert r["reclaim"] == "linux (local, 256 frames)" and r["rss_kb"] <= 1024, r
assert r["maj_flt"] > 0 and not r["oom"], r
'
	run trace_tlswap 0 trace "$TMP/z.txt" --ram 8m --swap 32m --timeline 5000 --csv -
	py trace_tlswap '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
assert [int(r["accesses"]) for r in rows] == [0, 5000, 10000, 15000, 20000], rows
assert int(rows[-1]["pswpout"]) > 0 and int(rows[-1]["swap_kb"]) > 0, rows[-1]
assert all(int(a["pswpout"]) <= int(b["pswpout"]) for a, b in zip(rows, rows[1:]))
'
	run trace_norecl 0 trace "$TMP/z.txt" --ram 8m --no-reclaim --json
	py trace_norecl 'import json, sys; r = json.load(sys.stdin); assert r["oom"] and r["reclaim"] == "off", r'
	run trace_opt 2 trace "$LK" --policy belady
	contains trace_opt err "OPT needs the future"
	run trace_pol 2 trace "$LK" --policy lur
	contains trace_pol err "unknown policy 'lur' (did you mean 'lru'?"
	run trace_pols 2 trace "$LK" --policy lru,fifo
	contains trace_pols err "--policy: one policy"
	run trace_swapbad 2 trace "$LK" --swap 5000
	contains trace_swapbad err "--swap: expected 0 or a multiple of 4 KiB"
	# mremap: shrunk and grown in place, then moved; with only the system
	# calls, the store to the old place after the move is a SIGSEGV
	run trace_mremap 0 trace "$DATA/mremap.lk" --vma syscalls --show maps
	contains trace_mremap out "06000000-06028000 rw-p"
	contains trace_mremap out "4 system calls (4 applied, 0 failed in the trace, 0 refused)"
	contains trace_mremap out "signals        1 SIGSEGV, 0 SIGBUS"
	contains trace_mremap err "the first: line 10: SIGSEGV at 0x5000000 (SEGV_MAPERR)"
	# MAP_HUGETLB in a trace: 2 MiB pages from the pool with --hugepages,
	# else 4 KiB pages and a note
	run trace_huge 0 trace "$DATA/hugetlb.lk" --hugepages 4 --show meminfo
	contains trace_huge out "HugePages_Free:        2"
	contains trace_huge out "page faults    2 minor, 0 major"
	run trace_nohuge 0 trace "$DATA/hugetlb.lk"
	contains trace_nohuge err "note: 1 MAP_HUGETLB mappings were made of 4 KiB pages"
	# the host out of memory (not under ASan, which needs its address space)
	if ! ldd "$MMSIM" 2>/dev/null | grep -q asan; then
		checks=$((checks + 1))
		(ulimit -v 200000; "$MMSIM" trace "$LK" --ram 1g) >/dev/null 2>"$TMP/trace_hostoom.err"
		[ $? = 5 ] || fail "a 1 GiB machine in 200 MB: expected exit 5"
		contains trace_hostoom err "mmsim trace: out of memory: cannot boot a machine with 1024 MiB"
	fi
	run trace_progress 0 trace "$LK" --progress
	contains trace_progress err "mmsim trace: 0.0 M accesses (100% read), "
	contains trace_progress err " (done)"
	run trace_lat_ok 0 trace "$LK" --latency mem=50,tlb=0.5 --json
	py trace_lat_ok 'import json, sys; r = json.load(sys.stdin); assert 50 < r["eat_ns"] < 60, r'
}

# ---- scripts/record-trace: a lackey trace of a real program ------------------------
# Skipped (exit 77, CTest SKIP_RETURN_CODE) without valgrind or a C compiler.
group_record() {
	local rec=$SRC/scripts/record-trace
	# without valgrind: a clear message and exit 3 (bash found by its path)
	checks=$((checks + 1))
	PATH=/nonexistent /bin/bash "$rec" -- true >/dev/null 2>"$TMP/novg.err"
	[ $? = 3 ] || fail "record-trace without valgrind: expected exit 3"
	contains novg err "valgrind not found in PATH: install it"
	checks=$((checks + 1))
	"$rec" -o "$TMP/x.lk" >/dev/null 2>"$TMP/nocmd.err"
	[ $? = 2 ] || fail "record-trace without a program: expected exit 2"
	if ! command -v valgrind >/dev/null || ! command -v cc >/dev/null; then
		echo "record: $checks checks, $failures failures; valgrind or cc missing: skipped" >&2
		[ "$failures" = 0 ] && exit 77
		exit 1
	fi
	cc -O1 -static "$TR/touch.c" -o "$TMP/touch" 2>/dev/null || cc -O1 "$TR/touch.c" -o "$TMP/touch" ||
		fail "cannot compile examples/traces/touch.c"
	checks=$((checks + 1))
	(cd "$TMP" && "$rec" -o touch.lk.gz -- ./touch >"$TMP/rec.out" 2>"$TMP/rec.err") ||
		fail "record-trace failed: $(cat "$TMP/rec.err")"
	contains rec err "record-trace: wrote touch.lk.gz"
	checks=$((checks + 1))
	[ "$(head -c 2 "$TMP/touch.lk.gz" | od -An -tx1 | tr -d ' \n')" = 1f8b ] || fail "not gzip"
	# mmsim builds the VMAs from the recorded mmap/mprotect/munmap/brk lines
	run rec_trace 0 trace "$TMP/touch.lk.gz" --json
	py rec_trace '
import json, sys
r = json.load(sys.stdin)
assert r["format"] == "lackey" and r["compression"] == "gzip", r
assert r["syscalls"] >= 4 and r["syscalls_applied"] == r["syscalls"], r
assert r["segv"] == 0 and r["writes"] + r["modifies"] >= 16 and r["ifetches"] > 1000, r
'
	# memory accesses only, zstd
	checks=$((checks + 1))
	(cd "$TMP" && "$rec" --no-syscalls -o t2.lk.zst -- ./touch >/dev/null 2>&1) ||
		fail "record-trace --no-syscalls failed"
	run rec_zst 0 trace "$TMP/t2.lk.zst" --json
	py rec_zst '
import json, sys
r = json.load(sys.stdin)
assert r["compression"] == "zstd" and r["syscalls"] == 0 and r["segv"] == 0, r
assert r["auto_pages"] > 20, r
'
	# the program's exit status is passed on, the trace still written
	checks=$((checks + 1))
	"$rec" -o "$TMP/f.lk" -- /bin/sh -c "exit 7" >/dev/null 2>&1
	[ $? = 7 ] && [ -s "$TMP/f.lk" ] || fail "record-trace: exit status 7 not passed on, or no trace"
}

# ---- the Zipf trace generator --------------------------------------------------
group_zipf() {
	local gen=$SRC/scripts/gen-zipf-trace
	checks=$((checks + 3))
	"$gen" -n 20000 -u 500 -a 1.0 -s 42 -o "$TMP/z1.txt" || fail "gen-zipf-trace failed"
	"$gen" -n 20000 -u 500 -a 1.0 -s 42 >"$TMP/z2.txt"
	"$gen" -n 20000 -u 500 -a 1.0 -s 43 >"$TMP/z3.txt"
	cmp -s "$TMP/z1.txt" "$TMP/z2.txt" || fail "same seed, different traces"
	cmp -s "$TMP/z1.txt" "$TMP/z3.txt" && fail "different seeds, same trace"
	[ "$(wc -l <"$TMP/z1.txt")" = 20000 ] || fail "wrong number of requests"
	# ids in 1..500 and Zipf-shaped: the most popular id takes about
	# 1/H(500) = 14.7% of the requests (1.0 alpha), the top 10 about 43%
	run zipf_ro 0 cache "$TMP/z1.txt" --read-only --json
	py zipf_ro 'import json, sys; r = json.load(sys.stdin); assert r["format"] == "txt" and r["requests"] == 20000, r'
	checks=$((checks + 1))
	python3 - "$TMP/z1.txt" <<'EOF' || fail "the trace is not Zipf(1.0) over 500 ids"
import collections, sys
ids = [int(x) for x in open(sys.argv[1])]
assert min(ids) >= 1 and max(ids) <= 500
c = sorted(collections.Counter(ids).values(), reverse=True)
top = c[0] / len(ids)
top10 = sum(c[:10]) / len(ids)
assert 0.13 < top < 0.165, top
assert 0.40 < top10 < 0.46, top10
EOF
}

case $GROUP in
help | errors | cache | sweep | policies | docs | zipf | trace | record | scenarios | demo | regen) "group_$GROUP" ;;
*) echo "test_mmsim.sh: unknown group '$GROUP'" >&2; exit 2 ;;
esac
echo "$GROUP: $checks checks, $failures failures"
[ "$failures" = 0 ]
