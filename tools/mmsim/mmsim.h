/* mmsim.h — what the files of the mmsim command line share.
 *
 * main.c dispatches argv[1] to one entry of the command table (commands.c);
 * each command parses its own options with the helpers of cli.c, reads its
 * input through reqsrc.c, and prints through out_table.c, out_json.c,
 * out_csv.c and plot.c. Nothing here is process-wide state: every command
 * keeps what it needs in locals of its run function.
 */
#ifndef MMSIM_H
#define MMSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/cachesim.h"
#include "mmkit/compiler.h"
#include "mmkit/trace.h"

#ifndef MMSIM_VERSION
#define MMSIM_VERSION "0.0.0"
#endif

/* ---- Exit codes (documented in `mmsim --help` and docs/mmsim.1) -------- */

enum mmsim_exit {
	EXIT_OK      = 0, /* success */
	EXIT_CHECK   = 1, /* a check failed: results differ (--check) */
	EXIT_USAGE   = 2, /* bad command line: unknown command or option, bad value */
	EXIT_INPUT   = 3, /* bad input: malformed trace line, undetectable format,
			   * corrupt or truncated compressed data */
	EXIT_IO      = 4, /* the system failed us: a file cannot be opened, read or
			   * written, gnuplot is missing or failed */
	EXIT_NOMEM   = 5, /* out of memory */
};

/* ---- Commands ----------------------------------------------------------- */

struct mmsim_cmd {
	const char *name;
	const char *summary; /* one line for `mmsim --help` */
	const char *help;    /* the full text of `mmsim help NAME` */
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

/* The table, in the order `mmsim --help` lists it. */
extern const struct mmsim_cmd *const mmsim_cmds[];
extern const size_t mmsim_ncmds;

const struct mmsim_cmd *mmsim_find_cmd(const char *name);

extern const struct mmsim_cmd mmsim_cmd_cache;
extern const struct mmsim_cmd mmsim_cmd_sweep;
extern const struct mmsim_cmd mmsim_cmd_policies;
extern const struct mmsim_cmd mmsim_cmd_trace;
extern const struct mmsim_cmd mmsim_cmd_run;
extern const struct mmsim_cmd mmsim_cmd_demo;
extern const struct mmsim_cmd mmsim_cmd_help;

/* Print a command's help to f (the trace options block where its text says
 * %TRACE_OPTS%). */
void mmsim_print_help(const struct mmsim_cmd *c, FILE *f);

/* Print the general help (`mmsim --help`) to f. */
void mmsim_usage(FILE *f);

/* ---- Messages (cli.c) --------------------------------------------------- */

/* "mmsim CMD: message\n" on stderr. */
void mmsim_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As mmsim_err, then "Try 'mmsim CMD --help'." and EXIT_USAGE. */
int mmsim_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The closest of the n words to `word` (edit distance at most 2, or a
 * prefix), or NULL: for "did you mean" hints. */
const char *mmsim_suggest(const char *word, const char *const *words, size_t n);

/* ---- Option parsing (cli.c) --------------------------------------------- */

enum { CLI_ARG_NONE = 0, CLI_ARG_REQUIRED = 1 };

struct cli_opt {
	const char *name; /* long name without "--" */
	char shortname;   /* 0 if none */
	int has_arg;      /* CLI_ARG_* */
	int id;           /* returned by cli_next(); > 0 */
};

/* Returned by cli_next() besides an option id. */
enum { CLI_END = 0, CLI_POSITIONAL = -1, CLI_ERROR = -2 };

/* The state of one parse: argv[1..argc-1] of a command. */
struct cli {
	const char *cmd;   /* the command name, for messages */
	int argc;
	char **argv;
	int i;             /* next argv index */
	const char *rest;  /* rest of a cluster of short options ("-ab") */
	bool only_positional; /* after "--" */
	const struct cli_opt *opts;
	size_t nopts;
};

void cli_init(struct cli *c, const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts, size_t nopts);

/* The next item: an option id (its value in *arg if it takes one),
 * CLI_POSITIONAL (the word in *arg; "-" is a positional), CLI_END, or
 * CLI_ERROR after printing a usage message (unknown option, missing value,
 * value given to a flag). "--name=value", "--name value", "-x value",
 * "-xvalue" and "--" are understood. */
int cli_next(struct cli *c, const char **arg);

/* Parse an unsigned decimal integer with an optional binary suffix
 * k/K (2^10), m/M (2^20), g/G (2^30). 0 on success, -1 if malformed or
 * out of range. */
int cli_parse_u64(const char *s, uint64_t *out);

/* A list of sizes: comma-separated items, each N, A:B (every size from A to
 * B), A:B:S (step S) or A:B:*F (multiply by F each time). Sizes must be
 * >= 1 and at most max. The result is sorted ascending without duplicates,
 * at most max_count entries. Returns the count (>= 1), or -1 with a message
 * in err. *out is malloc'ed on success. */
long cli_parse_sizes(const char *s, uint64_t max, size_t max_count, size_t **out, char *err,
		     size_t errlen);

/* Split a comma-separated list into newly allocated strings (empty items
 * are an error). Returns the count, or -1 with a message in err. */
long cli_split_list(const char *s, char ***out, char *err, size_t errlen);
void cli_free_list(char **list, size_t n);

/* Append a copy of s to a list made by cli_split_list. 0 or -1 (no memory). */
int cli_list_append(char ***list, size_t *n, const char *s);

/* Add the sizes of one --size option to a sorted list without duplicates,
 * and the specs of one --policy option to a list. 0, or an exit code after
 * printing the message. */
int cli_add_sizes(const char *cmd, size_t **sizes, size_t *nsizes, const char *arg,
		  uint64_t max, size_t max_count);
int cli_add_policies(const char *cmd, char ***specs, size_t *nspecs, const char *arg);

/* Check every policy spec with mm_policy_create(); message and -1 on the
 * first bad one. */
int cli_check_policies(const char *cmd, char *const *specs, size_t n);

/* An output file (option opt, path out; NULL or "-" for none) must not be
 * the trace (a path, or "-" for standard input): it would be truncated
 * before or while the trace is read. 0, or EXIT_USAGE after a message. */
int cli_check_output(const char *cmd, const char *opt, const char *out, const char *trace);

/* ---- Trace input (reqsrc.c) --------------------------------------------- */

/* Trace options every replaying command accepts (--format, --trace-params,
 * --obj-id-col ..., --page-size, --skip-bad). */
struct trace_args {
	struct mm_trace_opts opts;
	unsigned page_shift;     /* addresses -> page ids: id = addr >> page_shift */
};

void trace_args_init(struct trace_args *ta);

/* If option id belongs to the trace options, apply arg and return 1; 0 if it
 * is not a trace option; EXIT_USAGE-style error (message printed) as -1. */
int trace_args_apply(struct trace_args *ta, const char *cmd, int id, const char *arg);

/* The option table entries for trace options; ids start at TRACE_OPT_BASE. */
#define TRACE_OPT_BASE 1000
extern const struct cli_opt trace_cli_opts[];
extern const size_t trace_cli_nopts;

/* The help text block for the trace options. */
extern const char trace_opts_help[];

/* ---- Options of the replaying commands (cli.c) ------------------------- */

/* What cache and sweep both take: the trace, --policy, --size, --seed,
 * --tick, --check, --progress, --no-progress, --num-req, --help and the
 * trace options. */
struct replay_args {
	const char *trace;           /* path or "-" */
	char **specs;                /* policy specs as given */
	size_t nspecs;
	size_t *sizes;               /* given sizes, sorted, or NULL */
	size_t nsizes;
	struct mm_cachesim_config cfg; /* seed and tick interval of the runs */
	bool check;
	int progress;                /* PROGRESS_* */
	uint64_t num_req;            /* 0: the whole trace */
	struct trace_args ta;
};

/* Ids of the shared options, for the command's own option table (which
 * keeps its order: "did you mean" hints follow it). Its other options take
 * ids below REPLAY_OPT_BASE. */
#define REPLAY_OPT_BASE 900
enum {
	ROPT_POLICY = REPLAY_OPT_BASE, ROPT_SIZE, ROPT_SEED, ROPT_TICK, ROPT_CHECK, ROPT_PROGRESS,
	ROPT_NO_PROGRESS, ROPT_NUM_REQ, ROPT_HELP,
};

/* How a replaying command parses: its option table (the trace options are
 * added), the bounds of --size, what --tick expects (for its message), and
 * its own options, handed to own(ctx, id, arg) (0, or an exit code after a
 * message). */
struct replay_cli {
	const char *cmd;
	const struct cli_opt *opts;
	size_t nopts;
	uint64_t max_size;
	size_t max_sizes;
	const char *tick_expect;
	int (*own)(void *ctx, int id, const char *arg);
	void *ctx;
};

/* Parse argv[1..argc-1] into r (and the command's own options). Sets *help
 * and returns 0 at --help; otherwise a trace must be given. 0, or an exit
 * code after a message. */
int replay_parse(const struct replay_cli *rc, struct replay_args *r, int argc, char **argv,
		 bool *help);

/* A stream of cache requests from a trace file or from memory. */
struct reqsrc {
	const char *cmd;          /* for messages */
	const char *path;
	struct mm_trace *t;       /* NULL for an in-memory source */
	int fd;                   /* owned file descriptor, or -1 */
	int in_fd;                /* the descriptor read (0 for stdin), -1 in memory */
	unsigned page_shift;
	/* pending second page of an access that crosses a page boundary */
	bool have_pending;
	struct mm_cache_request pending;
	/* in-memory source */
	const struct mm_cache_request *mem;
	size_t mem_n, mem_pos;
	/* counters */
	uint64_t records;         /* trace records read */
	uint64_t requests;        /* requests produced */
	uint64_t deletes;         /* csv delete records (not replayed) */
	uint64_t syscalls;        /* lackey syscall records (not requests) */
	uint64_t split;           /* accesses that touched two pages */
};

/* Open a trace. 0, or an exit code after printing the message: EXIT_IO when
 * the file cannot be opened, EXIT_INPUT when the reader rejects it. */
int reqsrc_open(struct reqsrc *s, const char *cmd, const char *path, const struct trace_args *ta);

/* A source over requests already in memory. */
void reqsrc_open_mem(struct reqsrc *s, const char *cmd, const struct mm_cache_request *r,
		     size_t n);

/* Up to cap requests into buf. Returns the count (0 at the end), or minus
 * an exit code: -EXIT_INPUT after printing the reader's FILE:LINE:COL
 * message, -EXIT_NOMEM without a message (the caller prints it). */
long reqsrc_read(struct reqsrc *s, struct mm_cache_request *buf, size_t cap);

/* Print notes about records that were not requests, and skipped lines, on
 * stderr (nothing if there were none). */
void reqsrc_notes(const struct reqsrc *s);

void reqsrc_close(struct reqsrc *s);

/* Read the source, up to limit requests, into a malloc'ed array. 0 or an
 * exit code, as reqsrc_read(). */
int reqsrc_load(struct reqsrc *s, uint64_t limit, struct mm_cache_request **out, size_t *n);

/* ---- Progress (progress.c) ---------------------------------------------- */

enum { PROGRESS_AUTO = -1, PROGRESS_OFF = 0, PROGRESS_ON = 1 };

struct progress {
	const char *cmd;
	const char *phase;    /* "pass 1 of 2"..., or NULL */
	const char *unit;     /* what is counted: "requests" (set by init), "accesses" */
	int fd;               /* input being read, for the share done, or -1 */
	uint64_t total;       /* its size in bytes if a regular file, else 0 */
	int mode;             /* PROGRESS_*: AUTO shows after 1 s if stderr is a tty */
	bool shown;           /* a line is on the screen */
	uint64_t next_check;  /* count at which to look at the clock again */
	double start, last;   /* seconds */
};

void progress_init(struct progress *p, const char *cmd, int mode);
/* Name the phase shown ("loading", "pass 2 of 2"; NULL: none) and the input
 * descriptor whose offset shows how much is done (-1: none). */
void progress_phase(struct progress *p, const char *phase, int fd);
/* The slow path of progress_update(). */
void progress_tick(struct progress *p, uint64_t done);
/* Cheap unless a check is due; `done` counts requests so far. */
static inline void progress_update(struct progress *p, uint64_t done)
{
	if (p->mode != PROGRESS_OFF && done >= p->next_check)
		progress_tick(p, done);
}
/* The final line (if anything was shown), ending with a newline. */
void progress_done(struct progress *p, uint64_t done);

/* ---- Output (out_table.c, out_json.c, out_csv.c) ------------------------ */

/* A text table: columns with headers, left- or right-aligned cells. */
struct table {
	size_t ncols, nrows, cap;
	const char **heads;
	bool *right;          /* right-align the column */
	char **cells;         /* nrows * ncols strings, owned */
};

int table_init(struct table *t, size_t ncols, const char *const *heads, const bool *right);
/* Append a row; the cells are printf'ed by the caller into strings. 0 or -1. */
int table_add(struct table *t, const char *const *cells);
/* Print with two spaces between columns; the last column is not padded. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* A JSON writer: nested arrays and objects, two-space indentation. */
#define JW_MAX_DEPTH 16
struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;
	bool compact;             /* objects on one line */
};

void jw_init(struct jw *w, FILE *f);
void jw_begin_array(struct jw *w);
void jw_end_array(struct jw *w);
void jw_begin_object(struct jw *w);
void jw_end_object(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_u64(struct jw *w, uint64_t v);
void jw_double(struct jw *w, double v); /* NaN and infinities become null */
void jw_bool(struct jw *w, bool v);
/* Finish the document (a newline). */
void jw_finish(struct jw *w);

/* CSV (RFC 4180): fields quoted only when they need it. */
void csv_field(FILE *f, const char *s, bool last);
void csv_u64(FILE *f, uint64_t v, bool last);
void csv_double(FILE *f, double v, bool last);

/* Format a miss ratio the way every text output does ("0.7500"). */
void fmt_ratio(char *buf, size_t len, double r);

/* Open an output file ("-" is stdout). NULL after printing the message. */
FILE *out_open(const char *cmd, const char *path);
/* Flush and close (not stdout: only flushed); 0 or EXIT_IO after a message. */
int out_close(const char *cmd, const char *path, FILE *f);

/* ---- Plots (plot.c) ----------------------------------------------------- */

struct plot_series {
	const char *name;
	size_t n;
	const double *x, *y;
	/* points to mark (Belady's anomaly), drawn over the line */
	size_t nmarks;
	const double *mx, *my;
};

struct plot {
	const char *title;
	const char *xlabel, *ylabel;
	const char *marks_label;  /* legend entry of the marks */
	const char *with;         /* gnuplot style of the lines; NULL: lines and points */
	size_t nseries;
	const struct plot_series *series;
};

/* Write the gnuplot script that draws p into `output` (PNG or SVG, by its
 * extension). */
void plot_write_script(FILE *f, const struct plot *p, const char *output);

/* The terminal for an output name: "png", "svg", or NULL if the extension is
 * neither. */
const char *plot_kind(const char *output);

/* Is there an executable gnuplot in PATH? */
bool plot_gnuplot_in_path(void);

/* Run gnuplot on the script. 0, or EXIT_IO after a message (gnuplot not found
 * in PATH, or it failed). */
int plot_render(const char *cmd, const struct plot *p, const char *output);

#endif /* MMSIM_H */
