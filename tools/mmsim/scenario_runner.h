/* scenario_runner.h — what the files of the scenario interpreter share:
 * scenario_run.c (messages, steps, variables, processes, expressions, the
 * statement loop and the entry point), scenario_sys.c (the machine's
 * configuration, processes, system calls) and scenario_access.c (accesses
 * and their patterns, show, expect, echo). Private to the interpreter.
 */
#ifndef MMSIM_SCENARIO_RUNNER_H
#define MMSIM_SCENARIO_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmkit/sim.h"
#include "scenario_internal.h"

#define SC_MAX_ACCESS   ((uint64_t)1 << 20)  /* bytes of one read/fetch */
#define SC_MAX_PROCS    4096
#define SC_MAX_VARS     4096
#define SC_MAX_TMPFILES 64

/* A process of the script: its name there and its task. */
struct proc {
	char name[64];
	struct mm_task *t;
};

/* A variable. */
struct var {
	char *name;
	int64_t v;
	bool hex;    /* an address: printed in hex */
	bool fixed;  /* given with -D: param does not change it */
};

/* A tmpfile: its name in the script and its host path. */
struct tmpf {
	char name[64];
	char *path;
};

/* One run of a script: the machine, its processes, the variables. */
struct run {
	const struct sc_script *s;
	const struct sc_run_opts *o;
	const struct sc_sink *sink;
	struct sc_result *res;
	struct sc_limits lim;
	struct mm_machine_config cfg;
	struct mm_machine *m;
	struct proc *procs;
	size_t nprocs, capprocs;
	int cur;                    /* index in procs, or -1 */
	bool had_procs;             /* a process was ever started */
	struct var *vars;
	size_t nvars, capvars;
	struct tmpf tmp[SC_MAX_TMPFILES];
	size_t ntmp;
	char *tmpdir;
	char swap_path[4096];       /* swap_file=, resolved */
	bool strace;
	bool stop;
	uint64_t top_steps;         /* statements sampled (depth 0 and 1) */
	int depth;                  /* repeat nesting of the statement running */
	const struct sc_stmt *st;   /* the statement running, for messages */
};

/* Messages stop the run: scr_bad() for a mistake in the script (exit 3,
 * FILE:LINE:COL), scr_refused() when the machine refused (exit 1),
 * scr_status_fail() with a status, scr_nomem() for the host. All return
 * false. */
bool scr_bad(struct run *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool scr_refused(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool scr_status_fail(struct run *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool scr_nomem(struct run *r);
struct sc_where scr_where(const struct run *r);
void scr_strace_line(struct run *r, struct mm_task *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Linux's strerror() text of an error ("Cannot allocate memory"). */
const char *scr_strerror(int err);
const char *scr_errtext(int err, char *buf, size_t len);
bool scr_step(struct run *r);
struct var *scr_var_find(struct run *r, const char *name);
bool scr_var_set(struct run *r, const char *name, int64_t v, bool hex, bool fixed);
bool scr_boot(struct run *r);
int scr_proc_find(struct run *r, const char *name);
bool scr_proc_add(struct run *r, const char *name, struct mm_task *t);
void scr_proc_remove(struct run *r, int i);
bool scr_name_free(struct run *r, const char *name);
struct mm_task *scr_task_of(struct run *r, const char *name);
struct mm_task *scr_task(struct run *r);
const char *scr_resolve(struct run *r, const char *path, char *buf, size_t len);
bool scr_files_allowed(struct run *r);
bool scr_eval(struct run *r, const struct sc_expr *e, int64_t *out);
/* A try access starts clean: $errno, $signal, $si_code and $si_addr are 0
 * unless this access faults. */
bool scr_try_reset(struct run *r);
bool scr_access_failed(struct run *r, struct mm_task *t, const char *what, uint64_t va, int rc);
bool scr_eval_range(struct run *r, const struct sc_expr *e, int64_t lo, int64_t hi,
		    const char *what, int64_t *out);
bool scr_do_machine(struct run *r, const struct sc_stmt *st);
bool scr_do_process(struct run *r, const struct sc_stmt *st);
bool scr_do_exec(struct run *r, const struct sc_stmt *st, struct mm_task *t);
bool scr_do_spawn(struct run *r, const struct sc_stmt *st);
bool scr_do_fork(struct run *r, const struct sc_stmt *st);
bool scr_do_exit(struct run *r, const struct sc_stmt *st);
bool scr_sys_result(struct run *r, const struct sc_stmt *st, int64_t rc, bool hex,
		    const char *name);
bool scr_do_mmap(struct run *r, const struct sc_stmt *st);
bool scr_do_simple_sys(struct run *r, const struct sc_stmt *st);
bool scr_do_open(struct run *r, const struct sc_stmt *st);
bool scr_do_shm(struct run *r, const struct sc_stmt *st);
bool scr_do_tmpfile(struct run *r, const struct sc_stmt *st);
bool scr_do_access(struct run *r, const struct sc_stmt *st);
bool scr_do_fill(struct run *r, const struct sc_stmt *st);
bool scr_do_show(struct run *r, const struct sc_stmt *st);
bool scr_do_expect(struct run *r, const struct sc_stmt *st);
bool scr_do_echo(struct run *r, const struct sc_stmt *st);

#endif /* MMSIM_SCENARIO_RUNNER_H */
