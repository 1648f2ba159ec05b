/* cmd_cache.c — `mmsim cache`: replay a trace through replacement policies
 * alone, as a cache simulator does (no MMU, no page tables: a request is an
 * id, a cache of size N holds N ids).
 *
 * Every (policy, size) pair is one run of the cachesim engine, and all runs
 * are fed from one pass over the trace in chunks (mm_cachesim_feed), so the
 * trace is read and parsed once whatever the number of runs. The trace is
 * streamed in constant memory, except when a run is OPT: OPT needs each
 * request's next use, which takes the whole trace in memory and a backward
 * pass (24 bytes per request, mm_cache_next_use).
 *
 * --check re-derives what can be derived another way: every run's
 * invariants (mm_cachesim_check: hits + misses = requests, residents =
 * misses - evictions, the policy's own structure), and every LRU run against
 * Mattson's stack algorithm, which computes LRU's misses independently.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmsim.h"

#define CHUNK       8192      /* requests per feed */
#define MAX_SIZE    ((1ull << 31) - 1)
#define MAX_SIZES   100000
#define MAX_RUNS    100000
#define SLOT_BYTES  100       /* per cached object of a run, rounded up (as mmsim sweep) */
#define MAX_MEM     (4ull << 30) /* refuse runs that would need more in all */

enum { OPT_ALL = 1, OPT_JSON, OPT_CSV, OPT_OUTPUT, OPT_READ_ONLY };

static const struct cli_opt own_opts[] = {
	{ "policy", 'p', CLI_ARG_REQUIRED, ROPT_POLICY },
	{ "all", 'a', CLI_ARG_NONE, OPT_ALL },
	{ "size", 's', CLI_ARG_REQUIRED, ROPT_SIZE },
	{ "json", 'j', CLI_ARG_NONE, OPT_JSON },
	{ "csv", 0, CLI_ARG_NONE, OPT_CSV },
	{ "output", 'o', CLI_ARG_REQUIRED, OPT_OUTPUT },
	{ "seed", 0, CLI_ARG_REQUIRED, ROPT_SEED },
	{ "tick", 0, CLI_ARG_REQUIRED, ROPT_TICK },
	{ "check", 0, CLI_ARG_NONE, ROPT_CHECK },
	{ "progress", 0, CLI_ARG_NONE, ROPT_PROGRESS },
	{ "no-progress", 0, CLI_ARG_NONE, ROPT_NO_PROGRESS },
	{ "num-req", 'n', CLI_ARG_REQUIRED, ROPT_NUM_REQ },
	{ "read-only", 0, CLI_ARG_NONE, OPT_READ_ONLY },
	{ "help", 'h', CLI_ARG_NONE, ROPT_HELP },
};

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_CSV };

struct cache_args {
	struct replay_args run;      /* trace, policies, sizes, ... */
	bool all;
	enum out_fmt fmt;
	const char *output;
	bool read_only;              /* read the trace, replay nothing */
};

/* ---- Options ------------------------------------------------------------ */

static void free_args(struct cache_args *a)
{
	cli_free_list(a->run.specs, a->run.nspecs);
	free(a->run.sizes);
}

static int own_opt(void *ctx, int id, const char *arg)
{
	struct cache_args *a = ctx;
	switch (id) {
	case OPT_ALL:
		a->all = true;
		break;
	case OPT_JSON:
		a->fmt = OUT_JSON;
		break;
	case OPT_CSV:
		a->fmt = OUT_CSV;
		break;
	case OPT_OUTPUT:
		a->output = arg;
		break;
	case OPT_READ_ONLY:
		a->read_only = true;
		break;
	}
	return 0;
}

static int parse_args(struct cache_args *a, int argc, char **argv, bool *help)
{
	const struct replay_cli cli = {
		.cmd = "cache", .opts = own_opts, .nopts = sizeof(own_opts) / sizeof(own_opts[0]),
		.max_size = MAX_SIZE, .max_sizes = MAX_SIZES,
		.tick_expect = "a number of requests (0: the cache size)", .own = own_opt, .ctx = a,
	};
	int rc = replay_parse(&cli, &a->run, argc, argv, help);
	if (rc || *help)
		return rc;
	if (cli_check_output("cache", "--output", a->output, a->run.trace))
		return EXIT_USAGE;
	if (a->read_only) {
		if (a->run.nspecs || a->all || a->run.nsizes || a->run.check)
			return mmsim_usage_err("cache", "--read-only replays nothing: no --policy, "
					       "--all, --size or --check with it");
		return 0;
	}
	if (a->all) {
		for (size_t i = 0; i < mm_policy_count(); i++)
			if (cli_list_append(&a->run.specs, &a->run.nspecs, mm_policy_info(i)->name)) {
				mmsim_err("cache", "out of memory");
				return EXIT_NOMEM;
			}
	}
	if (a->run.nspecs == 0)
		return mmsim_usage_err("cache", "no policy given (--policy P[,P...] or --all)");
	if (a->run.nsizes == 0)
		return mmsim_usage_err("cache", "no cache size given (--size N[,N...])");
	if (a->run.nspecs * a->run.nsizes > MAX_RUNS)
		return mmsim_usage_err("cache", "%zu policies x %zu sizes is too many runs (at most "
				       "%d)", a->run.nspecs, a->run.nsizes, MAX_RUNS);
	/* every run is sized for its cache from the start: refuse what would
	 * not fit rather than fill the host's memory */
	uint64_t slots = 0;
	for (size_t i = 0; i < a->run.nsizes; i++)
		slots += a->run.sizes[i];
	if (slots * a->run.nspecs > MAX_MEM / SLOT_BYTES)
		return mmsim_usage_err("cache", "--size: %zu runs holding %llu objects in all "
				       "would need about %llu MiB (about %d bytes an object; at "
				       "most %llu MiB): use smaller sizes",
				       a->run.nspecs * a->run.nsizes,
				       (unsigned long long)(slots * a->run.nspecs),
				       (unsigned long long)(slots * a->run.nspecs * SLOT_BYTES >> 20),
				       SLOT_BYTES, (unsigned long long)(MAX_MEM >> 20));
	if (cli_check_policies("cache", a->run.specs, a->run.nspecs))
		return EXIT_USAGE;
	return 0;
}

/* ---- Replay ------------------------------------------------------------- */

struct replay {
	struct mm_cachesim *cs;
	struct mm_lru_stack *stack;  /* --check with an lru run */
	struct progress prog;
	uint64_t fed;
};

static int feed(struct replay *r, const struct mm_cache_request *req, const uint64_t *next_use,
		size_t n)
{
	if (r->stack)
		for (size_t i = 0; i < n; i++)
			if (mm_lru_stack_access(r->stack, req[i].id) < 0)
				return EXIT_NOMEM;
	mm_cachesim_feed(r->cs, req, next_use, n);
	r->fed += n;
	progress_update(&r->prog, r->fed);
	return 0;
}

/* Stream the trace through every run; OPT's runs get the pre-pass. */
static int replay(struct replay *r, const struct cache_args *a)
{
	struct reqsrc src;
	int rc = reqsrc_open(&src, "cache", a->run.trace, &a->run.ta);
	if (rc)
		return rc;
	uint64_t limit = a->run.num_req ? a->run.num_req : UINT64_MAX;
	bool oom = false; /* our own allocation failed (reqsrc reports its own) */
	progress_phase(&r->prog, NULL, src.in_fd);
	if (mm_cachesim_needs_future(r->cs)) {
		progress_phase(&r->prog, "loading for opt", src.in_fd);
		struct mm_cache_request *all;
		size_t n;
		uint64_t *next = NULL;
		rc = reqsrc_load(&src, limit, &all, &n);
		if (rc == 0) {
			progress_phase(&r->prog, "replay", -1);
			next = malloc((n ? n : 1) * sizeof(*next));
			if (!next || mm_cache_next_use(all, n, next))
				oom = true;
			for (size_t i = 0; i < n && !oom; i += CHUNK)
				oom = feed(r, all + i, next + i, n - i < CHUNK ? n - i : CHUNK) != 0;
			free(next);
			free(all);
		}
	} else {
		struct mm_cache_request *buf = malloc(CHUNK * sizeof(*buf));
		oom = !buf;
		while (!oom && r->fed < limit) {
			uint64_t want = limit - r->fed < CHUNK ? limit - r->fed : CHUNK;
			long n = reqsrc_read(&src, buf, (size_t)want);
			if (n <= 0) {
				rc = (int)-n;
				break;
			}
			oom = feed(r, buf, NULL, (size_t)n) != 0;
		}
		free(buf);
	}
	progress_done(&r->prog, r->fed);
	progress_phase(&r->prog, NULL, -1);
	if (oom || rc == EXIT_NOMEM) {
		mmsim_err("cache", "out of memory");
		rc = EXIT_NOMEM;
	}
	if (!rc)
		reqsrc_notes(&src);
	reqsrc_close(&src);
	return rc;
}

/* --read-only: the trace is read and turned into requests, nothing more
 * (what the reader and the conversion cost; what a trace holds). */
static int read_only(const struct cache_args *a, struct progress *prog)
{
	struct reqsrc src;
	int rc = reqsrc_open(&src, "cache", a->run.trace, &a->run.ta);
	if (rc)
		return rc;
	uint64_t limit = a->run.num_req ? a->run.num_req : UINT64_MAX, fed = 0, writes = 0;
	progress_phase(prog, NULL, src.in_fd);
	struct mm_cache_request *buf = malloc(CHUNK * sizeof(*buf));
	if (!buf)
		rc = EXIT_NOMEM;
	while (!rc && fed < limit) {
		uint64_t want = limit - fed < CHUNK ? limit - fed : CHUNK;
		long n = reqsrc_read(&src, buf, (size_t)want);
		if (n <= 0) {
			rc = (int)-n;
			break;
		}
		for (long i = 0; i < n; i++)
			writes += buf[i].kind == MM_ACCESS_WRITE;
		fed += (uint64_t)n;
		progress_update(prog, fed);
	}
	free(buf);
	progress_done(prog, fed);
	progress_phase(prog, NULL, -1);
	if (rc == EXIT_NOMEM)
		mmsim_err("cache", "out of memory");
	if (rc) {
		reqsrc_close(&src);
		return rc;
	}
	const char *fmt = mm_trace_fmt_name(mm_trace_format(src.t));
	const char *comp = mm_trace_compression(src.t);
	FILE *out = out_open("cache", a->output ? a->output : "-");
	if (!out) {
		reqsrc_close(&src);
		return EXIT_IO;
	}
	if (a->fmt == OUT_JSON) {
		struct jw w;
		jw_init(&w, out);
		jw_begin_object(&w);
		jw_key(&w, "format");      jw_str(&w, fmt);
		jw_key(&w, "compression"); jw_str(&w, comp);
		jw_key(&w, "records");     jw_u64(&w, src.records);
		jw_key(&w, "requests");    jw_u64(&w, fed);
		jw_key(&w, "writes");      jw_u64(&w, writes);
		jw_key(&w, "deletes");     jw_u64(&w, src.deletes);
		jw_key(&w, "syscalls");    jw_u64(&w, src.syscalls);
		jw_key(&w, "split");       jw_u64(&w, src.split);
		jw_key(&w, "skipped");     jw_u64(&w, mm_trace_skipped(src.t));
		jw_end_object(&w);
		jw_finish(&w);
	} else if (a->fmt == OUT_CSV) {
		fputs("format,compression,records,requests,writes,deletes,syscalls,split,skipped\n",
		      out);
		fprintf(out, "%s,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n", fmt, comp,
			(unsigned long long)src.records, (unsigned long long)fed,
			(unsigned long long)writes, (unsigned long long)src.deletes,
			(unsigned long long)src.syscalls, (unsigned long long)src.split,
			(unsigned long long)mm_trace_skipped(src.t));
	} else {
		fprintf(out, "format       %s (%s)\n", fmt, comp);
		fprintf(out, "records      %llu\n", (unsigned long long)src.records);
		fprintf(out, "requests     %llu (%llu writes; %llu accesses crossed a page)\n",
			(unsigned long long)fed, (unsigned long long)writes,
			(unsigned long long)src.split);
		fprintf(out, "not replayed %llu deletes, %llu system calls, %llu bad lines skipped\n",
			(unsigned long long)src.deletes, (unsigned long long)src.syscalls,
			(unsigned long long)mm_trace_skipped(src.t));
	}
	reqsrc_close(&src);
	return out_close("cache", a->output ? a->output : "-", out);
}

/* --check: the engine's invariants, and LRU against the stack algorithm. */
static int check_results(const struct replay *r)
{
	int bad = 0;
	if (mm_cachesim_check(r->cs)) {
		mmsim_err("cache", "check failed: a run's counters or policy state are inconsistent");
		bad = 1;
	}
	for (size_t i = 0; i < mm_cachesim_nruns(r->cs); i++) {
		struct mm_cache_result res;
		mm_cachesim_result(r->cs, i, &res);
		if (strcmp(mm_policy_name(mm_cachesim_policy(r->cs, i)), "lru") != 0 || !r->stack)
			continue;
		uint64_t m = mm_lru_stack_misses(r->stack, res.size);
		if (m != res.misses) {
			mmsim_err("cache", "check failed: lru at size %zu has %llu misses, the stack "
				  "algorithm says %llu", res.size, (unsigned long long)res.misses,
				  (unsigned long long)m);
			bad = 1;
		}
	}
	if (!bad)
		mmsim_err("cache", "check passed: %zu runs consistent%s", mm_cachesim_nruns(r->cs),
			  r->stack ? ", lru agrees with the stack algorithm" : "");
	return bad ? EXIT_CHECK : 0;
}

/* ---- Output ------------------------------------------------------------- */

static const char *run_name(const struct replay *r, size_t i)
{
	return mm_policy_spec(mm_cachesim_policy(r->cs, i));
}

static int print_results(const struct replay *r, enum out_fmt fmt, FILE *f)
{
	size_t n = mm_cachesim_nruns(r->cs);
	struct mm_cache_result res;
	if (fmt == OUT_JSON) {
		struct jw w;
		jw_init(&w, f);
		w.compact = true;
		jw_begin_array(&w);
		for (size_t i = 0; i < n; i++) {
			mm_cachesim_result(r->cs, i, &res);
			jw_begin_object(&w);
			jw_key(&w, "policy");          jw_str(&w, run_name(r, i));
			jw_key(&w, "size");            jw_u64(&w, res.size);
			jw_key(&w, "requests");        jw_u64(&w, res.requests);
			jw_key(&w, "misses");          jw_u64(&w, res.misses);
			jw_key(&w, "miss_ratio");      jw_double(&w, res.miss_ratio);
			jw_key(&w, "hits");            jw_u64(&w, res.hits);
			jw_key(&w, "evictions");       jw_u64(&w, res.evictions);
			jw_key(&w, "dirty_evictions"); jw_u64(&w, res.dirty_evictions);
			jw_key(&w, "writebacks");      jw_u64(&w, res.writebacks);
			jw_end_object(&w);
		}
		jw_end_array(&w);
		jw_finish(&w);
		return 0;
	}
	if (fmt == OUT_CSV) {
		fputs("policy,size,requests,misses,miss_ratio,hits,evictions,dirty_evictions,"
		      "writebacks\n", f);
		for (size_t i = 0; i < n; i++) {
			mm_cachesim_result(r->cs, i, &res);
			csv_field(f, run_name(r, i), false);
			csv_u64(f, res.size, false);
			csv_u64(f, res.requests, false);
			csv_u64(f, res.misses, false);
			csv_double(f, res.miss_ratio, false);
			csv_u64(f, res.hits, false);
			csv_u64(f, res.evictions, false);
			csv_u64(f, res.dirty_evictions, false);
			csv_u64(f, res.writebacks, true);
		}
		return 0;
	}
	static const char *const heads[] = { "policy", "size", "requests", "misses", "miss_ratio" };
	static const bool right[] = { false, true, true, true, true };
	struct table t;
	if (table_init(&t, 5, heads, right))
		return EXIT_NOMEM;
	for (size_t i = 0; i < n; i++) {
		char size[24], req[24], miss[24], ratio[24];
		mm_cachesim_result(r->cs, i, &res);
		snprintf(size, sizeof(size), "%zu", res.size);
		snprintf(req, sizeof(req), "%llu", (unsigned long long)res.requests);
		snprintf(miss, sizeof(miss), "%llu", (unsigned long long)res.misses);
		fmt_ratio(ratio, sizeof(ratio), res.miss_ratio);
		const char *row[] = { run_name(r, i), size, req, miss, ratio };
		if (table_add(&t, row)) {
			table_free(&t);
			return EXIT_NOMEM;
		}
	}
	table_print(&t, f);
	table_free(&t);
	return 0;
}

/* ---- The command -------------------------------------------------------- */

static int run_cache(int argc, char **argv)
{
	struct cache_args a = { .run.progress = PROGRESS_AUTO };
	struct replay r = { 0 };
	bool help = false;
	trace_args_init(&a.run.ta);
	int rc = parse_args(&a, argc, argv, &help);
	if (rc || help) {
		if (help)
			mmsim_print_help(&mmsim_cmd_cache, stdout);
		free_args(&a);
		return rc;
	}
	FILE *out = NULL;
	if (a.read_only) {
		progress_init(&r.prog, "cache", a.run.progress);
		rc = read_only(&a, &r.prog);
		goto out;
	}
	if (mm_cachesim_create(&a.run.cfg, &r.cs))
		goto nomem;
	for (size_t i = 0; i < a.run.nspecs; i++) {
		for (size_t j = 0; j < a.run.nsizes; j++) {
			int err = mm_cachesim_add(r.cs, a.run.specs[i], a.run.sizes[j]);
			if (err == -MM_ENOMEM)
				goto nomem;
			if (err) { /* specs were checked: only the size can be wrong */
				rc = mmsim_usage_err("cache", "policy %s cannot run with size %zu",
						     a.run.specs[i], a.run.sizes[j]);
				goto out;
			}
		}
	}
	for (size_t i = 0; a.run.check && !r.stack && i < mm_cachesim_nruns(r.cs); i++)
		if (strcmp(mm_policy_name(mm_cachesim_policy(r.cs, i)), "lru") == 0 &&
		    mm_lru_stack_create(&r.stack))
			goto nomem;
	progress_init(&r.prog, "cache", a.run.progress);
	rc = replay(&r, &a);
	if (rc)
		goto out;
	out = out_open("cache", a.output ? a.output : "-");
	if (!out) {
		rc = EXIT_IO;
		goto out;
	}
	rc = print_results(&r, a.fmt, out);
	if (rc == EXIT_NOMEM)
		goto nomem;
	rc = out_close("cache", a.output ? a.output : "-", out);
	out = NULL;
	if (!rc && a.run.check)
		rc = check_results(&r);
	goto out;
nomem:
	mmsim_err("cache", "out of memory");
	rc = EXIT_NOMEM;
out:
	if (out && out != stdout)
		fclose(out);
	mm_lru_stack_destroy(r.stack);
	mm_cachesim_destroy(r.cs);
	free_args(&a);
	return rc;
}

const struct mmsim_cmd mmsim_cmd_cache = {
	.name = "cache",
	.summary = "replay a trace through replacement policies alone (a cache simulator)",
	.help =
	"Usage: mmsim cache TRACE --policy P[,P...] --size N[,N...] [OPTIONS]\n"
	"\n"
	"Replay a trace of page or object ids through replacement policies alone,\n"
	"with no MMU, as a cache simulator does: a cache of size N holds N ids, every\n"
	"object counts as one (libCacheSim's --ignore-obj-size). All policy x size\n"
	"runs share one pass over the trace. For each run: requests, misses (first\n"
	"references included) and the miss ratio.\n"
	"\n"
	"Options:\n"
	"  -p, --policy LIST     policy specs, comma-separated: fifo,lru,clock:ref=1\n"
	"                        (repeatable; 'mmsim policies --long' lists them)\n"
	"  -a, --all             every policy, with its default options\n"
	"  -s, --size LIST       cache sizes in objects, comma-separated items:\n"
	"                          N        one size (suffix k = 1024, m, g)\n"
	"                          A:B      every size from A to B\n"
	"                          A:B:S    A, A+S, A+2S ... up to B\n"
	"                          A:B:*F   A, A*F, A*F*F ... up to B\n"
	"                        e.g. 3,4  1:16  16:4096:*2  (repeatable; sorted,\n"
	"                        duplicates dropped)\n"
	"  -j, --json            a JSON list of objects: policy, size, requests,\n"
	"                        misses, miss_ratio, hits, evictions, dirty_evictions,\n"
	"                        writebacks\n"
	"      --csv             CSV with the same columns\n"
	"  -o, --output FILE     write the results to FILE instead of stdout\n"
	"  -n, --num-req N       replay only the first N requests\n"
	"      --seed N          seed of random and nru (run i uses N + i; default 0)\n"
	"      --tick N          requests between clock ticks (nru, aging); default 0:\n"
	"                        each run's size\n"
	"      --check           verify every run's invariants and LRU against\n"
	"                        Mattson's stack algorithm; exit 1 if anything differs\n"
	"      --progress        show progress on stderr (default: only when stderr\n"
	"                        is a terminal and the run lasts over a second)\n"
	"      --no-progress     never show progress\n"
	"      --read-only       read the trace and count its requests (records,\n"
	"                        writes, deletes, system calls, page-crossing accesses,\n"
	"                        skipped lines), replay nothing; no --policy or --size\n"
	"  -h, --help            this help\n"
	"\n"
	"%TRACE_OPTS%"
	"\n"
	"Requests: lackey and addr records are byte addresses, turned into page ids\n"
	"(an access that crosses a page boundary requests both pages); txt and csv\n"
	"records are ids. Stores and lackey modifies are writes (they set the dirty\n"
	"bit), instruction fetches are exec accesses. csv deletes and lackey system\n"
	"calls are not requests: they are counted in a note on stderr. OPT keeps the\n"
	"whole trace in memory (24 bytes per request); the others stream. Each run\n"
	"takes about 100 bytes per object of its size from the start: runs needing\n"
	"over 4 GiB in all are refused.\n"
	"\n"
	"Example:\n"
	"  mmsim cache examples/traces/belady.txt --policy fifo,lru,opt --size 3,4\n",
	.run = run_cache,
};
