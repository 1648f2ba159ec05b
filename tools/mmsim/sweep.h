/* sweep.h — what cmd_sweep.c (options, passes) and sweep_out.c (results:
 * anomalies, table, JSON, CSV, plot) share. */
#ifndef MMSIM_SWEEP_H
#define MMSIM_SWEEP_H

#include "mmsim.h"

#define DEF_POLICIES "lru,fifo,clock,opt"

/* The command line, as parsed. */
struct sweep_args {
	struct replay_args run;      /* trace, policies (default DEF_POLICIES), sizes
				      * (NULL: automatic), seed, tick, check, ... */
	uint64_t points, max_size;   /* automatic sizes: how many, the largest (0: defaults) */
	bool json;
	const char *csv;             /* CSV file, "-" for stdout, or NULL */
	const char *plot;            /* .png or .svg file, or NULL */
	const char *plot_script;     /* where to save the gnuplot script, or NULL */
};

/* One curve. */
struct curve {
	const char *spec;            /* canonical spec */
	bool stack;                  /* lru through the stack algorithm */
	size_t run0;                 /* its first cachesim run (not stack) */
	uint64_t *misses;            /* per size */
	bool *anomaly;               /* per size */
	size_t nanomalies;
};

/* The replayed runs, one per replayed curve and size (curve-major, then
 * the --check lru runs), go through the engine in groups of consecutive
 * runs of at most GROUP_SLOTS frames in all (a larger run alone), one pass
 * over the trace per group: memory is bounded by the largest group, not by
 * the sum of the sizes. Run k has the seed it would have as run k of one
 * engine, so grouping never changes a result. */
struct run_group {
	size_t first, n;             /* runs [first, first + n) */
};

/* One sweep: the stack (always: it also counts the distinct ids), the runs
 * and their groups (none if only lru is swept), the engine of the group
 * being replayed, and the sampled sizes, ascending. */
struct sweep {
	struct sweep_args *a;
	struct mm_lru_stack *stack;
	struct mm_cachesim *cs;      /* the current group's engine, or NULL */
	struct progress prog;
	size_t *sizes;
	size_t nsizes;
	struct curve *curves;
	size_t ncurves;
	size_t *order;               /* the replayed curves' indices, in run order */
	char phase[32];              /* "pass 2 of 3" */
	size_t check_run0;           /* --check: lru runs among the runs */
	size_t nruns;                /* replayed runs in all */
	uint64_t *run_misses;        /* per run, filled as groups finish */
	struct run_group *groups;
	size_t ngroups;
	bool engine_bad;             /* --check: a group's engine check failed */
	uint64_t requests;            /* requests in the (possibly cut) trace */
	uint64_t work;                /* requests fed, all passes: for progress */
};

/* Fill each curve's misses and anomalies from the stack and the runs.
 * 0 or EXIT_NOMEM. */
int sweep_collect(struct sweep *sw);

/* --check: lru replayed against the stack, and every invariant. 0 or
 * EXIT_CHECK after the messages. */
int sweep_check(const struct sweep *sw);

/* The table or JSON on stdout, the CSV file, the plot. 0 or an exit code. */
int sweep_write_outputs(struct sweep *sw);

#endif /* MMSIM_SWEEP_H */
