/* scenario.h — the scenario language of mmsim: parser and interpreter.
 *
 * A scenario is a line-oriented script that boots a simulated machine
 * (mmkit/sim.h), starts processes, makes their system calls and memory
 * accesses, shows the /proc views and checks counters and data with
 * `expect` (docs/scenario.md is the reference). It is parsed whole first
 * (every syntax error is found before anything runs), then run.
 *
 * Nothing here is process-wide state, and nothing prints: what a run shows
 * goes to the callbacks of a struct sc_sink, and errors come back as text.
 * `mmsim run`, `mmsim demo` and the fuzz target (fuzz/fuzz_scenario.c) are
 * the users; this code does not depend on the rest of the command line.
 */
#ifndef MMSIM_SCENARIO_H
#define MMSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mm_machine;
struct sc_script;

/* Exit statuses a run maps to (the same numbers as mmsim's). */
enum sc_status {
	SC_OK = 0,       /* every expect passed */
	SC_FAILED = 1,   /* an expect failed, or the machine refused: a system call
			  * failed or an access raised a signal outside `try` */
	SC_BADINPUT = 3, /* a syntax error or a misuse found while running
			  * (FILE:LINE:COL: reason) */
	SC_IO = 4,       /* a file could not be read or created */
	SC_NOMEM = 5,    /* the host ran out of memory */
};

/* What a parse and a run may use: the fuzz target turns host files off and
 * keeps everything small; mmsim run uses sc_limits_default(). */
struct sc_limits {
	uint64_t max_ram;          /* largest `machine ram=` (bytes) */
	uint64_t max_swap;         /* largest `machine swap=` (bytes) */
	uint64_t max_steps;        /* statements executed + accesses made */
	uint64_t max_file_bytes;   /* a scenario file, an include, a tmpfile */
	unsigned int max_include_depth;
	unsigned int max_hugepages;
	bool allow_files;          /* include, tmpfile, file=, open, spawn, exec PATH */
};

void sc_limits_default(struct sc_limits *l);

/* A variable given on the command line (-D NAME=VALUE). */
struct sc_define {
	const char *name;
	const char *value;  /* an expression: 64M, 0x1000, 3*4K */
};

/* Where a statement comes from. */
struct sc_where {
	const char *file;
	int line;
};

/* A sample of the machine after a statement of the script or of a
 * first-level repeat (mmsim demo plots them), in pages. */
struct sc_sample {
	uint64_t step;                  /* statements sampled so far */
	uint64_t free, anon, cached, shmem, pagetables, slab, swap_used;
	uint64_t total;
};

/* The callbacks a run reports through (any may be NULL). Texts are only
 * valid during the call. */
struct sc_sink {
	/* `echo TEXT` */
	void (*echo)(void *ctx, const struct sc_where *w, const char *text);
	/* `section TITLE` */
	void (*section)(void *ctx, const struct sc_where *w, const char *title);
	/* `show VIEW`: prompt is the shell line that would print it
	 * ("$ cat /proc/meminfo"), view its name ("meminfo"), pid the process
	 * (0 for machine-wide views), text the view. */
	void (*view)(void *ctx, const struct sc_where *w, const char *prompt, const char *view, int pid,
		     const char *text);
	/* a system call when `strace on`: "[pid 1] mmap(...) = 0x..." */
	void (*strace)(void *ctx, const struct sc_where *w, const char *line);
	/* an `expect`: its source text, whether it held, and the left side's
	 * value (and the right's); msg is the failure line without the place
	 * ("expect failed: minflt == 3 (got 4)"), NULL when it held. */
	void (*expect)(void *ctx, const struct sc_where *w, const char *src, bool ok, int64_t got,
		       int64_t want, const char *msg);
	/* after every statement of the script or of a first-level repeat,
	 * with the machine running */
	void (*step)(void *ctx, struct mm_machine *m, const struct sc_sample *s);
	void *ctx;
};

/* The result of a parse or a run. */
struct sc_result {
	int status;            /* enum sc_status */
	char msg[1024];        /* FILE:LINE[:COL]: reason, when status is not OK
				* and not a failed expect (those go to the sink) */
	uint64_t expects, expects_failed;
	uint64_t steps;        /* statements run + accesses */
};

/* Parse a scenario file (path) or a buffer (name is used in messages;
 * include is resolved relative to the current directory). Returns 0 and
 * *out, or the status with res->msg set. */
int sc_parse_file(const char *path, const struct sc_limits *lim, struct sc_script **out,
		  struct sc_result *res);
int sc_parse_buffer(const char *name, const char *buf, size_t len, const struct sc_limits *lim,
		    struct sc_script **out, struct sc_result *res);
void sc_script_free(struct sc_script *s);

/* Run options. */
struct sc_run_opts {
	const struct sc_limits *lim;
	const struct sc_define *defs;  /* -D NAME=VALUE, applied before the run */
	size_t ndefs;
	bool check;                    /* mm_machine_check after every statement */
	/* called every SC_PROGRESS_EVERY steps with the steps so far (a
	 * progress line for long runs), or NULL */
	void (*progress)(void *ctx, uint64_t steps);
	void *progress_ctx;
};

#define SC_PROGRESS_EVERY (1u << 16)

/* Run a parsed script on a fresh machine. Returns res->status: SC_OK, or
 * SC_FAILED when an expect failed (the run goes on) or the machine refused
 * (the run stops, res->msg says where and why), SC_BADINPUT / SC_IO /
 * SC_NOMEM with res->msg. Every resource is released before returning. */
int sc_run(const struct sc_script *s, const struct sc_run_opts *o, const struct sc_sink *sink,
	   struct sc_result *res);

#endif /* MMSIM_SCENARIO_H */
