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

/* One sweep: the stack (always: it also counts the distinct ids), the engine
 * with one run per replayed curve and size (NULL if only lru is swept), and
 * the sampled sizes, ascending. */
struct sweep {
	struct sweep_args *a;
	struct mm_lru_stack *stack;
	struct mm_cachesim *cs;
	struct progress prog;
	size_t *sizes;
	size_t nsizes;
	struct curve *curves;
	size_t ncurves;
	size_t check_run0;           /* --check: lru runs in the engine */
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
