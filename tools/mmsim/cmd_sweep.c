/* cmd_sweep.c — `mmsim sweep`: fault rate against frame count for several
 * policies in one run, as a table, JSON, CSV and a plot; Belady's anomaly
 * where a curve shows it.
 *
 * How each curve is computed:
 *  - lru: Mattson's stack algorithm (mm_lru_stack_*). One pass gives the
 *    histogram of LRU stack distances, from which the misses at *every* size
 *    follow exactly; it also counts the distinct ids, which sets the range of
 *    the automatic sizes. LRU is a stack algorithm, so its curve never rises.
 *  - every other policy: one cachesim run per sampled size. The runs go
 *    through the engine in groups of at most GROUP_SLOTS frames in all, as
 *    mm_cache_curve groups its sizes (a larger run alone), all the runs of a
 *    group fed from one pass (mm_cachesim_feed): memory is bounded by the
 *    largest group (about 60 bytes per frame), time grows with the number of
 *    groups (one pass over the trace each). A run whose own size needs more
 *    than MAX_RUN_MEM is refused before starting.
 *  - opt needs the future: the trace is loaded (24 bytes per request) and
 *    the next-use pre-pass computed.
 *
 * Passes: with --size given (and no opt), the first streaming pass feeds the
 * stack and the first group together, and each further group reopens the
 * file. With automatic sizes the first pass (the stack) decides the sizes
 * and each group then reopens the file; a trace on stdin, or a sweep with
 * opt, is loaded once instead and every group replays it from memory.
 *
 * Belady's anomaly: a sampled size s whose misses exceed those of the
 * previous sampled size (more frames, more faults). With sampled sizes that
 * are not consecutive an anomaly between two samples can be missed; sweep
 * FIFO over A:B to see every one.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmsim.h"
#include "sweep.h"

#define CHUNK        8192
#define MAX_SIZE     ((1ull << 31) - 1)
#define MAX_SIZES    100000
#define SLOT_BYTES   100                    /* per cached item, all policies, rounded up */
#define MAX_RUN_MEM  (4ull << 30)           /* refuse runs that need more */
#define GROUP_SLOTS  (2u << 20)             /* frames per group of runs (as mm_cache_curve) */
#define DEF_POINTS   50

enum { OPT_POINTS = 1, OPT_MAX_SIZE, OPT_JSON, OPT_CSV, OPT_PLOT, OPT_PLOT_SCRIPT };

static const struct cli_opt own_opts[] = {
	{ "policy", 'p', CLI_ARG_REQUIRED, ROPT_POLICY },
	{ "size", 's', CLI_ARG_REQUIRED, ROPT_SIZE },
	{ "points", 0, CLI_ARG_REQUIRED, OPT_POINTS },
	{ "max-size", 0, CLI_ARG_REQUIRED, OPT_MAX_SIZE },
	{ "json", 'j', CLI_ARG_NONE, OPT_JSON },
	{ "csv", 0, CLI_ARG_REQUIRED, OPT_CSV },
	{ "plot", 0, CLI_ARG_REQUIRED, OPT_PLOT },
	{ "plot-script", 0, CLI_ARG_REQUIRED, OPT_PLOT_SCRIPT },
	{ "seed", 0, CLI_ARG_REQUIRED, ROPT_SEED },
	{ "tick", 0, CLI_ARG_REQUIRED, ROPT_TICK },
	{ "check", 0, CLI_ARG_NONE, ROPT_CHECK },
	{ "progress", 0, CLI_ARG_NONE, ROPT_PROGRESS },
	{ "no-progress", 0, CLI_ARG_NONE, ROPT_NO_PROGRESS },
	{ "num-req", 'n', CLI_ARG_REQUIRED, ROPT_NUM_REQ },
	{ "help", 'h', CLI_ARG_NONE, ROPT_HELP },
};

/* ---- Options ------------------------------------------------------------ */

static int own_opt(void *ctx, int id, const char *arg)
{
	struct sweep_args *a = ctx;
	uint64_t v;
	switch (id) {
	case OPT_POINTS:
		if (cli_parse_u64(arg, &v) || v < 2 || v > MAX_SIZES)
			return mmsim_usage_err("sweep", "--points: expected 2 to %d, got '%s'",
					       MAX_SIZES, arg);
		a->points = v;
		break;
	case OPT_MAX_SIZE:
		if (cli_parse_u64(arg, &v) || v < 1 || v > MAX_SIZE)
			return mmsim_usage_err("sweep", "--max-size: expected 1 to %llu, got '%s'",
					       (unsigned long long)MAX_SIZE, arg);
		a->max_size = v;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_CSV:
		a->csv = arg;
		break;
	case OPT_PLOT:
		if (!plot_kind(arg))
			return mmsim_usage_err("sweep", "--plot: the file name must end in .png or "
					       ".svg, got '%s'", arg);
		a->plot = arg;
		break;
	case OPT_PLOT_SCRIPT:
		a->plot_script = arg;
		break;
	}
	return 0;
}

static int parse_args(struct sweep_args *a, int argc, char **argv, bool *help)
{
	const struct replay_cli cli = {
		.cmd = "sweep", .opts = own_opts, .nopts = sizeof(own_opts) / sizeof(own_opts[0]),
		.max_size = MAX_SIZE, .max_sizes = MAX_SIZES, .tick_expect = "a number",
		.own = own_opt, .ctx = a,
	};
	int rc = replay_parse(&cli, &a->run, argc, argv, help);
	if (rc || *help)
		return rc;
	if (!a->run.specs && (rc = cli_add_policies("sweep", &a->run.specs, &a->run.nspecs, DEF_POLICIES)))
		return rc;
	if (a->plot_script && !a->plot)
		return mmsim_usage_err("sweep", "--plot-script needs --plot FILE.png|.svg (the "
				       "script draws into that file)");
	if (a->json && a->csv && strcmp(a->csv, "-") == 0)
		return mmsim_usage_err("sweep", "--json and --csv - both go to standard output "
				       "(--csv FILE writes the CSV elsewhere)");
	const char *t = a->run.trace;
	if (cli_check_output("sweep", "--csv", a->csv, t) ||
	    cli_check_output("sweep", "--plot", a->plot, t) ||
	    cli_check_output("sweep", "--plot-script", a->plot_script, t))
		return EXIT_USAGE;
	if (cli_check_policies("sweep", a->run.specs, a->run.nspecs))
		return EXIT_USAGE;
	return 0;
}

/* ---- Passes ------------------------------------------------------------- */

/* The canonical spec of a policy spec (checked already). */
static const char *canonical(struct mm_policy **p, const char *spec)
{
	struct mm_policy_config cfg = { .capacity = 1 };
	if (mm_policy_create(spec, &cfg, p))
		return NULL;
	return mm_policy_spec(*p);
}

static bool is_opt(const char *spec)
{
	char name[64];
	size_t len = strcspn(spec, ":");
	snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), spec);
	const struct mm_policy_info *in = mm_policy_find(name);
	return in && strcmp(in->name, "opt") == 0;
}

/* Feed n requests to the stack and/or the engine. */
static int feed(struct sweep *sw, const struct mm_cache_request *req, const uint64_t *next,
		size_t n, bool stack, bool engine)
{
	if (stack)
		for (size_t i = 0; i < n; i++)
			if (mm_lru_stack_access(sw->stack, req[i].id) < 0)
				return EXIT_NOMEM;
	if (engine && sw->cs)
		mm_cachesim_feed(sw->cs, req, next, n);
	sw->work += n;
	progress_update(&sw->prog, sw->work);
	return 0;
}

/* One streaming pass over the trace file. */
static int stream_pass(struct sweep *sw, const char *phase, bool stack, bool engine,
		       uint64_t *count)
{
	struct sweep_args *a = sw->a;
	struct reqsrc src;
	int rc = reqsrc_open(&src, "sweep", a->run.trace, &a->run.ta);
	if (rc)
		return rc;
	uint64_t limit = a->run.num_req ? a->run.num_req : UINT64_MAX, fed = 0;
	struct mm_cache_request *buf = malloc(CHUNK * sizeof(*buf));
	if (!buf)
		rc = EXIT_NOMEM;
	progress_phase(&sw->prog, phase, src.in_fd);
	while (!rc && fed < limit) {
		uint64_t want = limit - fed < CHUNK ? limit - fed : CHUNK;
		long n = reqsrc_read(&src, buf, (size_t)want);
		if (n <= 0) {
			rc = (int)-n;
			break;
		}
		rc = feed(sw, buf, NULL, (size_t)n, stack, engine);
		fed += (uint64_t)n;
	}
	free(buf);
	if (!rc && stack)
		reqsrc_notes(&src); /* once: the first pass */
	progress_phase(&sw->prog, phase, -1);
	reqsrc_close(&src);
	*count = fed;
	return rc;
}

/* Choose the sizes: the given ones, or `points` evenly spaced up to the
 * number of distinct ids (every size when there are few). */
static int choose_sizes(struct sweep *sw)
{
	struct sweep_args *a = sw->a;
	if (a->run.sizes) {
		sw->sizes = a->run.sizes;
		sw->nsizes = a->run.nsizes;
		a->run.sizes = NULL;
		return 0;
	}
	uint64_t d = mm_lru_stack_distinct(sw->stack);
	uint64_t top = d ? d : 1, pts = a->points ? a->points : DEF_POINTS;
	if (a->max_size && top > a->max_size)
		top = a->max_size;
	if (top > MAX_SIZE)
		top = MAX_SIZE;
	size_t n = top <= pts ? (size_t)top : (size_t)pts;
	sw->sizes = malloc(n * sizeof(*sw->sizes));
	if (!sw->sizes)
		return EXIT_NOMEM;
	size_t m = 0;
	for (size_t k = 1; k <= n; k++) {
		uint64_t s = top <= pts ? k : (top * k + n / 2) / n;
		if (s < 1)
			s = 1;
		if (m == 0 || sw->sizes[m - 1] != s)
			sw->sizes[m++] = (size_t)s;
	}
	sw->nsizes = m;
	return 0;
}

/* The spec and size of run k (curve-major, then the --check lru runs). */
static void run_at(const struct sweep *sw, size_t k, const char **spec, size_t *size)
{
	size_t i = k / sw->nsizes;
	*size = sw->sizes[k % sw->nsizes];
	*spec = k >= sw->check_run0 ? "lru" : sw->curves[sw->order[i]].spec;
}

/* Plan the replayed runs: every non-stack curve at every size, and with
 * --check lru too; their groups; refuse a run too large for memory. */
static int plan_runs(struct sweep *sw)
{
	size_t engine_curves = 0;
	for (size_t i = 0; i < sw->ncurves; i++)
		if (!sw->curves[i].stack) {
			sw->curves[i].run0 = engine_curves * sw->nsizes;
			sw->order[engine_curves++] = i;
		}
	sw->check_run0 = engine_curves * sw->nsizes;
	engine_curves += sw->a->run.check;
	size_t largest = sw->nsizes ? sw->sizes[sw->nsizes - 1] : 0;
	if (engine_curves && largest > MAX_RUN_MEM / SLOT_BYTES) {
		mmsim_err("sweep", "a run of %zu frames would need about %llu MiB; sample fewer "
			  "sizes or smaller ones (--points, --max-size, --size), or sweep only lru "
			  "(exact at every size)", largest,
			  (unsigned long long)((uint64_t)largest * SLOT_BYTES >> 20));
		return EXIT_USAGE;
	}
	sw->nruns = engine_curves * sw->nsizes;
	if (!sw->nruns)
		return 0;
	sw->run_misses = calloc(sw->nruns, sizeof(*sw->run_misses));
	sw->groups = calloc(sw->nruns, sizeof(*sw->groups));
	if (!sw->run_misses || !sw->groups)
		return EXIT_NOMEM;
	/* MMSIM_SWEEP_GROUP=N: groups of N frames (tests use it to make many
	 * groups out of small sizes) */
	uint64_t group = GROUP_SLOTS, slots = 0;
	const char *env = getenv("MMSIM_SWEEP_GROUP");
	if (env && cli_parse_u64(env, &group))
		group = GROUP_SLOTS;
	for (size_t k = 0; k < sw->nruns; k++) {
		const char *spec;
		size_t size;
		run_at(sw, k, &spec, &size);
		if (!sw->ngroups || slots + size > group) {
			struct run_group *g = &sw->groups[sw->ngroups++];
			g->first = k;
			g->n = 0;
			slots = 0;
		}
		sw->groups[sw->ngroups - 1].n++;
		slots += size;
	}
	return 0;
}

/* The engine of group g: its runs with the seeds they have as runs of one
 * engine. */
static int group_start(struct sweep *sw, size_t g)
{
	const struct run_group *gr = &sw->groups[g];
	struct mm_cachesim_config cfg = sw->a->run.cfg;
	cfg.seed += gr->first;
	if (mm_cachesim_create(&cfg, &sw->cs))
		return EXIT_NOMEM;
	for (size_t k = gr->first; k < gr->first + gr->n; k++) {
		const char *spec;
		size_t size;
		run_at(sw, k, &spec, &size);
		int err = mm_cachesim_add(sw->cs, spec, size);
		if (err == -MM_ENOMEM)
			return EXIT_NOMEM;
		if (err)
			return mmsim_usage_err("sweep", "policy %s cannot run with %zu frames", spec,
					       size);
	}
	return 0;
}

/* Keep group g's results and free its engine. */
static void group_finish(struct sweep *sw, size_t g)
{
	const struct run_group *gr = &sw->groups[g];
	for (size_t k = 0; k < gr->n; k++) {
		struct mm_cache_result r;
		mm_cachesim_result(sw->cs, k, &r);
		sw->run_misses[gr->first + k] = r.misses;
	}
	if (sw->a->run.check && mm_cachesim_check(sw->cs))
		sw->engine_bad = true;
	mm_cachesim_destroy(sw->cs);
	sw->cs = NULL;
}

/* "pass N of M" for the progress line (NULL for a single pass). */
static const char *pass_name(struct sweep *sw, size_t pass, size_t passes)
{
	if (passes < 2)
		return NULL;
	snprintf(sw->phase, sizeof(sw->phase), "pass %zu of %zu", pass, passes);
	return sw->phase;
}

/* The streaming passes: the stack (with the first group when the sizes are
 * given), then one pass per further group. */
static int stream_passes(struct sweep *sw, bool planned)
{
	struct sweep_args *a = sw->a;
	int rc;
	bool known = planned || a->run.sizes != NULL;
	size_t g = 0, pass = 1, passes = 2;
	if (known) {
		if (!planned && ((rc = choose_sizes(sw)) || (rc = plan_runs(sw))))
			return rc;
		passes = sw->ngroups ? sw->ngroups : 1;
		if (sw->ngroups && (rc = group_start(sw, 0)))
			return rc;
	}
	if ((rc = stream_pass(sw, pass_name(sw, pass, passes), true, known, &sw->requests)))
		return rc;
	if (known && sw->ngroups)
		group_finish(sw, g++);
	if (!known) {
		if ((rc = choose_sizes(sw)) || (rc = plan_runs(sw)))
			return rc;
		passes = 1 + sw->ngroups;
	}
	for (; g < sw->ngroups; g++) {
		uint64_t again;
		if ((rc = group_start(sw, g)))
			return rc;
		if ((rc = stream_pass(sw, pass_name(sw, ++pass, passes), false, true, &again)))
			return rc;
		group_finish(sw, g);
		if (again != sw->requests) {
			mmsim_err("sweep", "%s changed between two passes (%llu then %llu "
				  "requests)", a->run.trace, (unsigned long long)sw->requests,
				  (unsigned long long)again);
			return EXIT_INPUT;
		}
	}
	return 0;
}

static int run_passes(struct sweep *sw)
{
	struct sweep_args *a = sw->a;
	bool opt = false;
	for (size_t i = 0; i < sw->ncurves; i++)
		opt |= is_opt(sw->curves[i].spec);
	int rc;
	if (!opt && strcmp(a->run.trace, "-") != 0)
		return stream_passes(sw, false);
	/* stdin cannot be read twice: one pass if the sizes are given and the
	 * runs make one group, else the trace is loaded */
	bool planned = false;
	if (!opt && a->run.sizes) {
		if ((rc = choose_sizes(sw)) || (rc = plan_runs(sw)))
			return rc;
		if (sw->ngroups <= 1)
			return stream_passes(sw, true);
		planned = true;
	}
	/* the whole trace in memory */
	struct reqsrc src;
	struct mm_cache_request *all = NULL;
	uint64_t *next = NULL;
	size_t n = 0;
	if ((rc = reqsrc_open(&src, "sweep", a->run.trace, &a->run.ta)))
		return rc;
	progress_phase(&sw->prog, "loading", src.in_fd);
	rc = reqsrc_load(&src, a->run.num_req ? a->run.num_req : UINT64_MAX, &all, &n);
	if (!rc)
		reqsrc_notes(&src);
	progress_phase(&sw->prog, NULL, -1);
	reqsrc_close(&src);
	if (rc)
		return rc;
	sw->requests = n;
	progress_phase(&sw->prog, "lru stack", -1);
	for (size_t i = 0; i < n && !rc; i += CHUNK)
		rc = feed(sw, all + i, NULL, n - i < CHUNK ? n - i : CHUNK, true, false);
	if (!rc && !planned)
		rc = choose_sizes(sw);
	if (!rc && !planned)
		rc = plan_runs(sw);
	progress_phase(&sw->prog, "replay", -1);
	for (size_t g = 0; g < sw->ngroups && !rc; g++) {
		if ((rc = group_start(sw, g)))
			break;
		if (!next && mm_cachesim_needs_future(sw->cs)) {
			next = malloc((n ? n : 1) * sizeof(*next));
			if (!next || mm_cache_next_use(all, n, next)) {
				rc = EXIT_NOMEM;
				break;
			}
		}
		for (size_t i = 0; i < n && !rc; i += CHUNK)
			rc = feed(sw, all + i, next ? next + i : NULL, n - i < CHUNK ? n - i : CHUNK,
				  false, true);
		if (!rc)
			group_finish(sw, g);
	}
	free(next);
	free(all);
	return rc;
}

/* ---- The command -------------------------------------------------------- */

static int run_sweep(int argc, char **argv)
{
	struct sweep_args a = { .run.progress = PROGRESS_AUTO };
	struct sweep sw = { .a = &a };
	struct mm_policy **pols = NULL;
	bool help = false;
	trace_args_init(&a.run.ta);
	int rc = parse_args(&a, argc, argv, &help);
	if (rc || help) {
		if (help)
			mmsim_print_help(&mmsim_cmd_sweep, stdout);
		goto out;
	}
	sw.curves = calloc(a.run.nspecs, sizeof(*sw.curves));
	sw.order = calloc(a.run.nspecs, sizeof(*sw.order));
	pols = calloc(a.run.nspecs, sizeof(*pols));
	if (!sw.curves || !sw.order || !pols || mm_lru_stack_create(&sw.stack))
		goto nomem;
	for (size_t i = 0; i < a.run.nspecs; i++) {
		const char *spec = canonical(&pols[i], a.run.specs[i]);
		if (!spec)
			goto nomem;
		sw.curves[i].spec = spec;
		sw.curves[i].stack = strcmp(spec, "lru") == 0;
	}
	sw.ncurves = a.run.nspecs;
	progress_init(&sw.prog, "sweep", a.run.progress);
	rc = run_passes(&sw);
	progress_done(&sw.prog, sw.work);
	if (rc == EXIT_NOMEM)
		goto nomem;
	if (rc)
		goto out;
	if ((rc = sweep_collect(&sw)))
		goto nomem;
	rc = sweep_write_outputs(&sw);
	if (!rc && a.run.check)
		rc = sweep_check(&sw);
	goto out;
nomem:
	mmsim_err("sweep", "out of memory");
	rc = EXIT_NOMEM;
out:
	for (size_t i = 0; i < sw.ncurves; i++) {
		free(sw.curves[i].misses);
		free(sw.curves[i].anomaly);
	}
	for (size_t i = 0; pols && i < a.run.nspecs; i++)
		mm_policy_destroy(pols[i]);
	free(pols);
	free(sw.curves);
	free(sw.sizes);
	mm_cachesim_destroy(sw.cs);
	free(sw.run_misses);
	free(sw.groups);
	free(sw.order);
	mm_lru_stack_destroy(sw.stack);
	cli_free_list(a.run.specs, a.run.nspecs);
	free(a.run.sizes);
	return rc;
}

const struct mmsim_cmd mmsim_cmd_sweep = {
	.name = "sweep",
	.summary = "fault rate against frame count for several policies, CSV and plot",
	.help =
	"Usage: mmsim sweep TRACE [--policy P[,P...]] [--size LIST] [OPTIONS]\n"
	"\n"
	"Fault rate (misses / requests) against the number of frames for several\n"
	"policies in one run. lru comes from Mattson's stack algorithm, exact at every\n"
	"size from one pass; the other policies are replayed at the sampled sizes, all\n"
	"from one pass. Where a curve rises with more frames (Belady's anomaly, e.g.\n"
	"FIFO), the sizes are reported in the text, marked * in the table, flagged in\n"
	"JSON and CSV (anomaly), and circled and labelled on the plot.\n"
	"\n"
	"Options:\n"
	"  -p, --policy LIST     policy specs (default " DEF_POLICIES "); opt keeps the\n"
	"                        trace in memory (24 bytes per request)\n"
	"  -s, --size LIST       the frame counts to sample (syntax of mmsim cache:\n"
	"                        N, A:B, A:B:S, A:B:*F, comma-separated). Default:\n"
	"                        every size from 1 to D if the trace has D <= --points\n"
	"                        distinct ids, else --points sizes evenly spaced up to D\n"
	"      --points N        number of automatic sizes (default 50)\n"
	"      --max-size N      largest automatic size (default D)\n"
	"  -j, --json            print a JSON list of objects: policy, size, requests,\n"
	"                        misses, miss_ratio, anomaly, method (stack or replay)\n"
	"      --csv FILE        write the same as CSV to FILE (- for stdout, instead\n"
	"                        of the table; not with --json)\n"
	"      --plot FILE       draw the curves with gnuplot into FILE.png or FILE.svg\n"
	"                        (if gnuplot is missing: a message, exit 4; the table\n"
	"                        and the CSV are still written)\n"
	"      --plot-script FILE  also save the gnuplot script (data included)\n"
	"  -n, --num-req N       use only the first N requests\n"
	"      --seed N          seed of random and nru (default 0)\n"
	"      --tick N          requests between clock ticks (default: each size)\n"
	"      --check           also replay lru at every sampled size and compare it\n"
	"                        with the stack algorithm; exit 1 if they differ\n"
	"      --progress        show progress on stderr (default: only when stderr\n"
	"                        is a terminal and the run lasts over a second)\n"
	"      --no-progress     never show progress\n"
	"  -h, --help            this help\n"
	"\n"
	"%TRACE_OPTS%"
	"\n"
	"Memory: the replayed runs go in groups of at most 2 Mi frames in all (about\n"
	"60 bytes a frame), one pass over the trace per group; a run needing over\n"
	"4 GiB alone is refused (use --points or --max-size).\n"
	"\n"
	"Example:\n"
	"  mmsim sweep examples/traces/belady.txt --policy fifo,lru --plot belady.png\n",
	.run = run_sweep,
};
