/* cmd_trace.c — `mmsim trace`: replay a trace through the full simulated
 * machine (MMU, TLBs, page faults, reclaim) and report what it cost.
 *
 * The options configure the machine (RAM, paging mode, TLB arrays, PCID,
 * huge pages, latencies) and where the process's VMAs come from (--vma);
 * trace_replay.c runs the trace, trace_report.c prints the summary, the
 * views, the timeline and the plots.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmsim.h"
#include "trace_replay.h"
#include "trace_report.h"

enum {
	OPT_RAM = 1, OPT_PAGING, OPT_TLB, OPT_DTLB, OPT_ITLB, OPT_STLB, OPT_DTLB_2M, OPT_DTLB_1G,
	OPT_ITLB_2M, OPT_NO_PCID, OPT_HUGEPAGES, OPT_LATENCY, OPT_VMA, OPT_AUTO_VMA, OPT_JSON,
	OPT_SHOW, OPT_TIMELINE, OPT_CSV, OPT_PLOT, OPT_PLOT_BUDDY, OPT_PLOT_SCRIPT, OPT_SWAP,
	OPT_SWAP_FILE, OPT_NO_RECLAIM, OPT_LOCAL, OPT_GLOBAL, OPT_HZ,
};

static const struct cli_opt own_opts[] = {
	{ "ram", 'r', CLI_ARG_REQUIRED, OPT_RAM },
	{ "paging", 0, CLI_ARG_REQUIRED, OPT_PAGING },
	{ "tlb", 0, CLI_ARG_REQUIRED, OPT_TLB },
	{ "dtlb", 0, CLI_ARG_REQUIRED, OPT_DTLB },
	{ "itlb", 0, CLI_ARG_REQUIRED, OPT_ITLB },
	{ "stlb", 0, CLI_ARG_REQUIRED, OPT_STLB },
	{ "dtlb-2m", 0, CLI_ARG_REQUIRED, OPT_DTLB_2M },
	{ "dtlb-1g", 0, CLI_ARG_REQUIRED, OPT_DTLB_1G },
	{ "itlb-2m", 0, CLI_ARG_REQUIRED, OPT_ITLB_2M },
	{ "no-pcid", 0, CLI_ARG_NONE, OPT_NO_PCID },
	{ "hugepages", 0, CLI_ARG_REQUIRED, OPT_HUGEPAGES },
	{ "latency", 0, CLI_ARG_REQUIRED, OPT_LATENCY },
	{ "swap", 0, CLI_ARG_REQUIRED, OPT_SWAP },
	{ "swap-file", 0, CLI_ARG_REQUIRED, OPT_SWAP_FILE },
	{ "policy", 'p', CLI_ARG_REQUIRED, ROPT_POLICY },
	{ "no-reclaim", 0, CLI_ARG_NONE, OPT_NO_RECLAIM },
	{ "local", 0, CLI_ARG_REQUIRED, OPT_LOCAL },
	{ "global", 0, CLI_ARG_NONE, OPT_GLOBAL },
	{ "hz", 0, CLI_ARG_REQUIRED, OPT_HZ },
	{ "vma", 0, CLI_ARG_REQUIRED, OPT_VMA },
	{ "auto-vma", 0, CLI_ARG_NONE, OPT_AUTO_VMA },
	{ "json", 'j', CLI_ARG_NONE, OPT_JSON },
	{ "show", 0, CLI_ARG_REQUIRED, OPT_SHOW },
	{ "timeline", 0, CLI_ARG_REQUIRED, OPT_TIMELINE },
	{ "csv", 0, CLI_ARG_REQUIRED, OPT_CSV },
	{ "plot", 0, CLI_ARG_REQUIRED, OPT_PLOT },
	{ "plot-buddy", 0, CLI_ARG_REQUIRED, OPT_PLOT_BUDDY },
	{ "plot-script", 0, CLI_ARG_REQUIRED, OPT_PLOT_SCRIPT },
	{ "check", 0, CLI_ARG_NONE, ROPT_CHECK },
	{ "progress", 0, CLI_ARG_NONE, ROPT_PROGRESS },
	{ "no-progress", 0, CLI_ARG_NONE, ROPT_NO_PROGRESS },
	{ "num-req", 'n', CLI_ARG_REQUIRED, ROPT_NUM_REQ },
	{ "help", 'h', CLI_ARG_NONE, ROPT_HELP },
};

/* ---- Options ------------------------------------------------------------ */

/* "E" or "E:W" into a TLB geometry; without W the array keeps its ways
 * when they divide E, else it is fully associative. */
static int parse_tlb(const char *opt, const char *arg, struct mm_tlb_geometry *g)
{
	char buf[64];
	uint64_t e, w = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (cli_parse_u64(buf, &e) || e > 65536 || (colon && (cli_parse_u64(colon + 1, &w) ||
							      w == 0 || w > e)))
		return mmsim_usage_err("trace", "--%s: expected ENTRIES or ENTRIES:WAYS (entries up "
				       "to 65536, ways dividing them), got '%s'", opt, arg);
	if (!colon)
		w = g->ways && e % g->ways == 0 ? g->ways : e;
	g->entries = (unsigned)e;
	g->ways = e ? (unsigned)w : 0;
	return 0;
}

static int parse_latency(struct mm_latency *l, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		return EXIT_NOMEM;
	int rc = 0;
	for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
		while (*it == ' ')
			it++;
		char *eq = strchr(it, '='), *end;
		double v = eq ? strtod(eq + 1, &end) : 0;
		if (eq)
			*eq = '\0';
		double *dst = !eq ? NULL : strcmp(it, "tlb") == 0 ? &l->tlb_ns :
			      strcmp(it, "mem") == 0 ? &l->mem_ns : strcmp(it, "disk") == 0 ? &l->disk_ns :
			      strcmp(it, "fault") == 0 ? &l->fault_ns : NULL;
		if (!dst || end == eq + 1 || *end || !(v >= 0) || v > 1e12)
			rc = mmsim_usage_err("trace", "--latency: expected KEY=NS,... with keys tlb, "
					     "mem, disk, fault, got '%s'", arg);
		else
			*dst = v;
	}
	free(copy);
	return rc;
}

#define view_names trace_view_names
#define NVIEWS     trace_nviews

static int parse_show(struct trace_args_all *a, const char *arg)
{
	char err[256], **list;
	long n = cli_split_list(arg, &list, err, sizeof(err));
	if (n < 0)
		return mmsim_usage_err("trace", "--show: %s", err);
	int rc = 0;
	for (long i = 0; i < n && !rc; i++) {
		size_t k = 0;
		if (strcmp(list[i], "all") == 0) {
			a->views = (1u << NVIEWS) - 1;
			continue;
		}
		while (k < NVIEWS && strcmp(view_names[k], list[i]) != 0)
			k++;
		if (k < NVIEWS) {
			a->views |= 1u << k;
			continue;
		}
		const char *hint = mmsim_suggest(list[i], view_names, NVIEWS);
		if (hint)
			rc = mmsim_usage_err("trace", "--show: unknown view '%s' (did you mean '%s'?)",
					     list[i], hint);
		else
			rc = mmsim_usage_err("trace", "--show: unknown view '%s' (free, meminfo, "
					     "vmstat, buddyinfo, slabinfo, maps, smaps, status, ps, "
					     "swaps, dmesg, all)", list[i]);
	}
	cli_free_list(list, (size_t)n);
	return rc;
}

static int own_opt(void *ctx, int id, const char *arg)
{
	struct trace_args_all *a = ctx;
	struct mm_machine_config *c = &a->cfg;
	uint64_t v;
	switch (id) {
	case OPT_RAM:
		if (cli_parse_u64(arg, &v) || v < (8u << 20) || v % (4u << 20) || v > (1ull << 40))
			return mmsim_usage_err("trace", "--ram: expected a multiple of 4 MiB from 8 MiB "
					       "to 1 TiB (suffix k, m, g), got '%s'", arg);
		c->ram_bytes = v;
		break;
	case OPT_PAGING:
		if (strcmp(arg, "2") && strcmp(arg, "4") && strcmp(arg, "5"))
			return mmsim_usage_err("trace", "--paging: expected 2, 4 or 5 (levels), got "
					       "'%s'", arg);
		c->paging = (enum mm_paging_mode)(arg[0] - '0');
		break;
	case OPT_TLB: {
		int rc = parse_tlb("tlb", arg, &c->dtlb_4k);
		if (!rc)
			rc = parse_tlb("tlb", arg, &c->itlb_4k);
		return rc;
	}
	case OPT_DTLB: return parse_tlb("dtlb", arg, &c->dtlb_4k);
	case OPT_ITLB: return parse_tlb("itlb", arg, &c->itlb_4k);
	case OPT_STLB: return parse_tlb("stlb", arg, &c->stlb);
	case OPT_DTLB_2M: return parse_tlb("dtlb-2m", arg, &c->dtlb_large);
	case OPT_DTLB_1G: return parse_tlb("dtlb-1g", arg, &c->dtlb_1g);
	case OPT_ITLB_2M: return parse_tlb("itlb-2m", arg, &c->itlb_large);
	case OPT_NO_PCID:
		c->pcid = false;
		break;
	case OPT_HUGEPAGES:
		if (cli_parse_u64(arg, &v) || v > 1000000)
			return mmsim_usage_err("trace", "--hugepages: expected a number of huge pages, "
					       "got '%s'", arg);
		c->nr_hugepages = (unsigned)v;
		break;
	case OPT_LATENCY:
		return parse_latency(&c->lat, arg);
	case OPT_SWAP:
		if (cli_parse_u64(arg, &v) || (v && (v < 8192 || v % 4096)) || v > (1ull << 40))
			return mmsim_usage_err("trace", "--swap: expected 0 or a multiple of 4 KiB from "
					       "8 KiB (suffix k, m, g), got '%s'", arg);
		c->swap_bytes = v;
		break;
	case OPT_SWAP_FILE:
		c->swap_path = arg;
		break;
	case OPT_NO_RECLAIM:
		c->no_reclaim = true;
		break;
	case OPT_LOCAL:
		if (cli_parse_u64(arg, &v) || v == 0)
			return mmsim_usage_err("trace", "--local: expected the process's frames (>= 1), "
					       "got '%s'", arg);
		c->reclaim_local = true;
		c->frame_limit = v;
		break;
	case OPT_GLOBAL:
		c->reclaim_local = false;
		c->frame_limit = 0;
		break;
	case OPT_HZ:
		if (cli_parse_u64(arg, &v) || v == 0 || v > 100000)
			return mmsim_usage_err("trace", "--hz: expected 1 to 100000 ticks a second, "
					       "got '%s'", arg);
		c->hz = (unsigned)v;
		break;
	case OPT_VMA:
		if (strcmp(arg, "auto") == 0)
			a->vma = VMA_AUTO;
		else if (strcmp(arg, "syscalls") == 0)
			a->vma = VMA_SYSCALLS;
		else if (strcmp(arg, "touch") == 0)
			a->vma = VMA_TOUCH;
		else if (strcmp(arg, "region") == 0)
			a->vma = VMA_REGION;
		else
			return mmsim_usage_err("trace", "--vma: expected auto, syscalls, touch or "
					       "region, got '%s'", arg);
		break;
	case OPT_AUTO_VMA:
		a->vma = VMA_TOUCH;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_SHOW:
		return parse_show(a, arg);
	case OPT_TIMELINE:
		if (cli_parse_u64(arg, &v) || v == 0)
			return mmsim_usage_err("trace", "--timeline: expected a number of accesses >= "
					       "1, got '%s'", arg);
		a->every = v;
		break;
	case OPT_CSV:
		a->csv = arg;
		break;
	case OPT_PLOT:
	case OPT_PLOT_BUDDY:
		if (!plot_kind(arg))
			return mmsim_usage_err("trace", "--%s: the file name must end in .png or "
					       ".svg, got '%s'", id == OPT_PLOT ? "plot" : "plot-buddy",
					       arg);
		if (id == OPT_PLOT)
			a->plot = arg;
		else
			a->plot_buddy = arg;
		break;
	case OPT_PLOT_SCRIPT:
		a->plot_script = arg;
		break;
	}
	return 0;
}

static int parse_args(struct trace_args_all *a, int argc, char **argv, bool *help)
{
	const struct replay_cli cli = {
		.cmd = "trace", .opts = own_opts, .nopts = sizeof(own_opts) / sizeof(own_opts[0]),
		.max_size = 1, .max_sizes = 1, .tick_expect = "a number", .own = own_opt, .ctx = a,
	};
	int rc = replay_parse(&cli, &a->run, argc, argv, help);
	if (rc || *help)
		return rc;
	if (a->run.nspecs > 1)
		return mmsim_usage_err("trace", "--policy: one policy, the machine's (got %zu)",
				       a->run.nspecs);
	if (a->run.nspecs) {
		if (cli_check_policies("trace", a->run.specs, 1))
			return EXIT_USAGE;
		char name[64];
		size_t len = strcspn(a->run.specs[0], ":");
		snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), a->run.specs[0]);
		const struct mm_policy_info *in = mm_policy_find(name);
		if (in && strcmp(in->name, "opt") == 0)
			return mmsim_usage_err("trace", "--policy %s: OPT needs the future, which a "
					       "streamed trace does not give (try mmsim sweep)",
					       a->run.specs[0]);
		a->cfg.reclaim_policy = a->run.specs[0];
	}
	if (a->cfg.no_reclaim && (a->run.nspecs || a->cfg.reclaim_local))
		return mmsim_usage_err("trace", "--no-reclaim leaves no replacement: --policy and "
				       "--local need reclaim");
	if (a->run.ta.page_shift != 12)
		return mmsim_usage_err("trace", "--page-size does not apply: the machine's pages are "
				       "4 KiB (huge pages: --hugepages)");
	if ((a->csv || a->plot) && !a->every)
		return mmsim_usage_err("trace", "--%s needs --timeline N (a sample every N accesses)",
				       a->csv ? "csv" : "plot");
	if (a->json && a->csv && strcmp(a->csv, "-") == 0)
		return mmsim_usage_err("trace", "--json and --csv - both go to standard output "
				       "(--csv FILE writes the CSV elsewhere)");
	const char *t = a->run.trace;
	if (cli_check_output("trace", "--csv", a->csv, t) ||
	    cli_check_output("trace", "--plot", a->plot, t) ||
	    cli_check_output("trace", "--plot-buddy", a->plot_buddy, t) ||
	    cli_check_output("trace", "--plot-script", a->plot_script, t) ||
	    cli_check_output("trace", "--swap-file", a->cfg.swap_path, t))
		return EXIT_USAGE;
	if (a->plot_script && !a->plot && !a->plot_buddy)
		return mmsim_usage_err("trace", "--plot-script needs --plot or --plot-buddy (the "
				       "script draws into that file)");
	return 0;
}

/* ---- The command -------------------------------------------------------- */

/* The process's name: the trace file's name up to its first dot. */
static void comm_of(const char *path, char *comm, size_t len)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strcmp(path, "-") == 0 || !*b)
		b = "trace";
	size_t n = strcspn(b, ".");
	if (!n) {
		b = "trace";
		n = 5;
	}
	snprintf(comm, len, "%.*s", (int)(n < len - 1 ? n : len - 1), b);
}

static int run_trace(int argc, char **argv)
{
	struct trace_args_all a = { .run.progress = PROGRESS_AUTO };
	struct replay r = { .cmd = "trace" };
	struct mm_machine *m = NULL;
	struct reqsrc src = { .fd = -1 };
	struct progress prog;
	bool help = false, opened = false;
	FILE *csv = NULL;
	mm_machine_config_init(&a.cfg);
	trace_args_init(&a.run.ta);
	int rc = parse_args(&a, argc, argv, &help);
	if (rc || help) {
		if (help)
			mmsim_print_help(&mmsim_cmd_trace, stdout);
		goto out;
	}
	int err = mm_machine_create(&a.cfg, &m);
	if (err == -MM_ENOMEM) {
		mmsim_err("trace", "out of memory: cannot boot a machine with %llu MiB of RAM",
			  (unsigned long long)(a.cfg.ram_bytes >> 20));
		rc = EXIT_NOMEM;
		goto out;
	}
	if (err) {
		rc = mmsim_usage_err("trace", "the machine cannot be built with these options (%s): "
				     "check --ram, --paging, the TLB geometries (entries / ways a "
				     "power of two) and --hugepages", mm_strerror(err));
		goto out;
	}
	if ((rc = reqsrc_open(&src, "trace", a.run.trace, &a.run.ta)))
		goto out;
	opened = true;
	enum mm_trace_fmt fmt = mm_trace_format(src.t);
	char comm[16];
	comm_of(a.run.trace, comm, sizeof(comm));
	r.every = a.every;
	if ((rc = replay_init(&r, m, comm, a.vma, fmt == MM_TRACE_FMT_TXT || fmt == MM_TRACE_FMT_CSV)))
		goto out;
	if (a.csv) {
		if (!(csv = out_open("trace", a.csv))) {
			rc = EXIT_IO;
			goto out;
		}
		timeline_csv_header(csv);
		r.tl_csv = csv;
	}
	if (a.every && (rc = replay_sample(&r)))  /* the start: before any access */
		goto nomem;
	progress_init(&prog, "trace", a.run.progress);
	prog.unit = "accesses";
	progress_phase(&prog, NULL, src.in_fd);
	rc = replay_run(&r, src.t, a.run.num_req, &prog);
	progress_done(&prog, r.st.accesses);
	if (rc)
		goto out;
	replay_clock(&r);
	if (a.every && (rc = replay_sample(&r)))
		goto nomem;
	if (csv) {
		r.tl_csv = NULL;
		FILE *f = csv;
		csv = NULL;
		if ((rc = out_close("trace", a.csv, f)))
			goto out;
	}
	struct trace_report rep = {
		.a = &a, .r = &r, .m = m, .t = src.t,
	};
	rc = trace_report(&rep);
	if (!rc && a.run.check) {
		if (mm_machine_check(m)) {
			mmsim_err("trace", "check failed: the machine's structures are inconsistent");
			rc = EXIT_CHECK;
		} else {
			mmsim_err("trace", "check passed: the machine's structures are consistent");
		}
	}
	goto out;
nomem:
	mmsim_err("trace", "out of memory");
	rc = EXIT_NOMEM;
out:
	if (csv)
		out_close("trace", a.csv, csv);
	replay_free(&r);
	if (opened)
		reqsrc_close(&src);
	mm_machine_destroy(m);
	cli_free_list(a.run.specs, a.run.nspecs);
	free(a.run.sizes);
	return rc;
}

const struct mmsim_cmd mmsim_cmd_trace = {
	.name = "trace",
	.summary = "replay a trace through the simulated machine: TLB, faults, memory",
	.help =
	"Usage: mmsim trace TRACE [OPTIONS]\n"
	"\n"
	"Replay a trace through the full simulated machine (MMU, TLBs, page walks,\n"
	"page faults, reclaim) as the accesses of one process, then print what it\n"
	"cost: accesses, TLB hits and misses, page walks, faults, the effective\n"
	"access time, and the views asked for.\n"
	"\n"
	"Where the process's VMAs come from:\n"
	"  lackey traces recorded with --trace-syscalls=yes (scripts/record-trace):\n"
	"  mmap, munmap, mprotect, brk and mremap are applied as they come; every\n"
	"  page touched outside them (the program image, the stack) is mapped when\n"
	"  first touched (an automatic VMA). Traces without system calls, and addr\n"
	"  traces: automatic VMAs only. txt and csv traces of ids: the k-th distinct\n"
	"  id is the k-th page of one anonymous region.\n"
	"\n"
	"Machine options:\n"
	"  -r, --ram SIZE        simulated RAM, a multiple of 4m from 8m (default 64m)\n"
	"      --paging L        page-table levels: 2 (32-bit), 4 (default) or 5\n"
	"      --tlb E[:W]       first-level 4K data and instruction TLBs: E entries,\n"
	"                        W ways (default ways: kept if they divide E, else E)\n"
	"      --dtlb E[:W]      first-level 4K data TLB (default 64:4)\n"
	"      --itlb E[:W]      first-level 4K instruction TLB (default 128:8)\n"
	"      --stlb E[:W]      second-level TLB (default 1536:12; 0: none)\n"
	"      --dtlb-2m E[:W]   2M/4M data TLB (default 32:4)\n"
	"      --dtlb-1g E[:W]   1G data TLB (default 4:4)\n"
	"      --itlb-2m E[:W]   2M/4M instruction TLB (default 8:8)\n"
	"      --no-pcid         flush the TLB on every CR3 load instead of PCID tags\n"
	"      --hugepages N     vm.nr_hugepages: huge pages reserved at boot, for the\n"
	"                        trace's MAP_HUGETLB mappings\n"
	"      --latency LIST    cost model in ns: tlb=1,mem=100,disk=5e6,fault=1000\n"
	"      --swap SIZE       a swap file of SIZE (default 0: no swap)\n"
	"      --swap-file PATH  the swap file (default: a temporary file, removed)\n"
	"  -p, --policy P        replacement policy of the LRU lists (default linux:\n"
	"                        active/inactive lists; 'mmsim policies'; not opt)\n"
	"      --local FRAMES    local replacement: the process holds at most FRAMES\n"
	"                        frames and replaces its own (default: global)\n"
	"      --global          global replacement (the default)\n"
	"      --no-reclaim      no LRU lists, kswapd or direct reclaim: allocations\n"
	"                        fail when memory runs out\n"
	"      --hz N            simulated clock ticks a second (default 100): kswapd\n"
	"                        and the flusher run as the cost model's time passes\n"
	"\n"
	"Replay options:\n"
	"      --vma MODE        auto (default: system calls, then automatic VMAs),\n"
	"                        syscalls (only them: other accesses are SIGSEGV),\n"
	"                        touch (only automatic VMAs), region (addresses are\n"
	"                        offsets into one anonymous region)\n"
	"      --auto-vma        the same as --vma touch\n"
	"  -n, --num-req N       replay only the first N accesses\n"
	"      --check           walk every structure of the machine at the end\n"
	"                        (mm_machine_check); exit 1 if one is inconsistent\n"
	"      --progress        show progress on stderr (default: only when stderr\n"
	"                        is a terminal and the run lasts over a second)\n"
	"      --no-progress     never show progress\n"
	"  -h, --help            this help\n"
	"\n"
	"Output options:\n"
	"  -j, --json            the summary (and the views) as one JSON object\n"
	"      --show LIST       print views at the end: free, meminfo, vmstat,\n"
	"                        buddyinfo, slabinfo, maps, smaps, status, ps, swaps,\n"
	"                        dmesg (the kernel log), all\n"
	"      --timeline N      sample memory and counters every N accesses\n"
	"      --csv FILE        write the samples as CSV to FILE (- for stdout,\n"
	"                        instead of the summary; not with --json)\n"
	"      --plot FILE       draw memory over time (free, RSS, swap) into\n"
	"                        FILE.png or FILE.svg with gnuplot (needs --timeline)\n"
	"      --plot-buddy FILE draw the buddy allocator's free blocks per order at\n"
	"                        the end, one line per zone\n"
	"      --plot-script FILE  also save the gnuplot script(s) (data included)\n"
	"\n"
	"%TRACE_OPTS%"
	"\n"
	"Accesses the machine refuses (SIGSEGV, SIGBUS) are counted and passed over;\n"
	"running out of simulated memory stops the replay (reported, exit 0).\n"
	"\n"
	"Examples:\n"
	"  mmsim trace examples/traces/touch.lk.gz --show maps,status\n"
	"  mmsim trace app.lk.zst --ram 16m --tlb 32:4 --timeline 10000 --plot mem.png\n",
	.run = run_trace,
};
