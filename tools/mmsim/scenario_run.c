/* scenario_run.c — the interpreter of the scenario language: its core.
 *
 * Runs a parsed script (scenario_internal.h) statement by statement on one
 * simulated machine, booted on the first statement that needs it with the
 * configuration of `machine` (or the defaults). Processes are named by the
 * script; one of them is current (the last started, forked-from or switched
 * to) and `@NAME` picks another for one statement. Values are 64-bit
 * integers in variables; system calls that fail and accesses that raise a
 * signal stop the run unless `try` asks to record them in $errno, $signal,
 * $si_code and $si_addr.
 *
 * This file holds the messages, the step budget, variables, processes,
 * expressions, the statement loop and the entry point; scenario_sys.c the
 * machine's configuration, processes' life and system calls;
 * scenario_access.c accesses, show, expect and echo.
 *
 * Work is bounded: every statement and every access counts one step against
 * limits.max_steps, RAM and huge pages against their caps, tmpfiles against
 * max_file_bytes, a single access against SC_MAX_ACCESS bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "scenario_runner.h"

/* ---- Messages ----------------------------------------------------------- */

static void vfail(struct run *r, int status, int col, const char *fmt, va_list ap)
{
	if (r->stop)
		return;
	r->stop = true;
	r->res->status = status;
	char *m = r->res->msg;
	size_t cap = sizeof(r->res->msg);
	int n = 0;
	if (r->st && col > 0)
		n = snprintf(m, cap, "%s:%d:%d: ", r->s->files[r->st->file], r->st->line, col);
	else if (r->st)
		n = snprintf(m, cap, "%s:%d: ", r->s->files[r->st->file], r->st->line);
	if (n < 0 || (size_t)n >= cap)
		return;
	vsnprintf(m + n, cap - (size_t)n, fmt, ap);
}

/* A mistake in the script found while running: exit 3, with the column. */
bool scr_bad(struct run *r, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, SC_BADINPUT, col, fmt, ap);
	va_end(ap);
	return false;
}

/* The machine refused (a system call failed, a signal): exit 1. */
bool scr_refused(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, SC_FAILED, 0, fmt, ap);
	va_end(ap);
	return false;
}

bool scr_status_fail(struct run *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, status, 0, fmt, ap);
	va_end(ap);
	return false;
}

bool scr_nomem(struct run *r)
{
	return scr_status_fail(r, SC_NOMEM, "out of memory (host)");
}

struct sc_where scr_where(const struct run *r)
{
	struct sc_where w = { r->st ? r->s->files[r->st->file] : "", r->st ? r->st->line : 0 };
	return w;
}

void scr_strace_line(struct run *r, struct mm_task *t, const char *fmt, ...)
{
	if (!r->strace || !r->sink->strace)
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "[pid %d] ", t ? mm_task_pid(t) : 0);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	struct sc_where w = scr_where(r);
	r->sink->strace(r->sink->ctx, &w, buf);
}

/* What strerror() says on Linux (glibc) for the errors the machine returns,
 * so strace lines and failures read as they do on a real system; mmkit's own
 * codes keep mm_strerror's text. */
const char *scr_strerror(int err)
{
	static const struct {
		int code;
		const char *msg;
	} linux_msgs[] = {
		{ MM_EPERM, "Operation not permitted" },
		{ MM_ENOENT, "No such file or directory" },
		{ MM_ESRCH, "No such process" },
		{ MM_EINTR, "Interrupted system call" },
		{ MM_EIO, "Input/output error" },
		{ MM_E2BIG, "Argument list too long" },
		{ MM_ENOEXEC, "Exec format error" },
		{ MM_EBADF, "Bad file descriptor" },
		{ MM_EAGAIN, "Resource temporarily unavailable" },
		{ MM_ENOMEM, "Cannot allocate memory" },
		{ MM_EACCES, "Permission denied" },
		{ MM_EFAULT, "Bad address" },
		{ MM_EBUSY, "Device or resource busy" },
		{ MM_EEXIST, "File exists" },
		{ MM_ENODEV, "No such device" },
		{ MM_EINVAL, "Invalid argument" },
		{ MM_EMFILE, "Too many open files" },
		{ MM_EFBIG, "File too large" },
		{ MM_ENOSPC, "No space left on device" },
		{ MM_ERANGE, "Numerical result out of range" },
		{ MM_ENOSYS, "Function not implemented" },
		{ MM_EOVERFLOW, "Value too large for defined data type" },
	};
	int e = err < 0 ? -err : err;
	for (size_t i = 0; i < sizeof(linux_msgs) / sizeof(linux_msgs[0]); i++)
		if (linux_msgs[i].code == e)
			return linux_msgs[i].msg;
	return mm_strerror(err);
}

/* " = -1 ENOMEM (Cannot allocate memory)" */
const char *scr_errtext(int err, char *buf, size_t len)
{
	snprintf(buf, len, "-1 %s (%s)", mm_errname(err), scr_strerror(err));
	return buf;
}

/* ---- Steps -------------------------------------------------------------- */

bool scr_step(struct run *r)
{
	if (++r->res->steps > r->lim.max_steps)
		return scr_bad(r, 0,
			       "the scenario runs more than %" PRIu64 " steps (statements and "
			       "accesses): stopped",
			       r->lim.max_steps);
	if (r->res->steps % SC_PROGRESS_EVERY == 0 && r->o->progress)
		r->o->progress(r->o->progress_ctx, r->res->steps);
	return true;
}

/* ---- Variables ---------------------------------------------------------- */

struct var *scr_var_find(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->nvars; i++)
		if (strcmp(r->vars[i].name, name) == 0)
			return &r->vars[i];
	return NULL;
}

bool scr_var_set(struct run *r, const char *name, int64_t v, bool hex, bool fixed)
{
	struct var *x = scr_var_find(r, name);
	if (!x) {
		if (r->nvars == SC_MAX_VARS)
			return scr_bad(r, 0, "more than %d variables", SC_MAX_VARS);
		if (r->nvars == r->capvars) {
			size_t cap = r->capvars ? r->capvars * 2 : 16;
			struct var *nv = realloc(r->vars, cap * sizeof(*nv));
			if (!nv)
				return scr_nomem(r);
			r->vars = nv;
			r->capvars = cap;
		}
		x = &r->vars[r->nvars];
		memset(x, 0, sizeof(*x));
		x->name = strdup(name);
		if (!x->name)
			return scr_nomem(r);
		r->nvars++;
	}
	x->v = v;
	x->hex = hex;
	x->fixed = x->fixed || fixed;
	return true;
}

/* ---- The machine and processes ------------------------------------------ */

bool scr_boot(struct run *r)
{
	if (r->m)
		return true;
	int rc = mm_machine_create(&r->cfg, &r->m);
	if (rc == -MM_ENOMEM)
		return scr_status_fail(r, SC_NOMEM,
				       "cannot boot the machine: out of memory (host)");
	if (rc)
		return scr_bad(r, 0,
			       "cannot boot the machine: %s (check the machine options: ram a "
			       "multiple of 4M, at most 4G with paging=2; TLB ways dividing "
			       "entries into a power-of-two number of sets; policy= a replacement "
			       "policy spec, see 'mmsim policies'; swap_file= a file that can be "
			       "created)",
			       mm_strerror(rc));
	return true;
}

int scr_proc_find(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (strcmp(r->procs[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool scr_proc_add(struct run *r, const char *name, struct mm_task *t)
{
	if (r->nprocs == r->capprocs) {
		size_t cap = r->capprocs ? r->capprocs * 2 : 8;
		struct proc *np = realloc(r->procs, cap * sizeof(*np));
		if (!np)
			return scr_nomem(r);
		r->procs = np;
		r->capprocs = cap;
	}
	struct proc *p = &r->procs[r->nprocs];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->t = t;
	r->cur = (int)r->nprocs++;
	r->had_procs = true;
	return true;
}

void scr_proc_remove(struct run *r, int i)
{
	memmove(&r->procs[i], &r->procs[i + 1], (r->nprocs - (size_t)i - 1) * sizeof(r->procs[0]));
	r->nprocs--;
	if (r->cur == i)
		r->cur = -1;
	else if (r->cur > i)
		r->cur--;
}

/* A new name must not be a live process's. */
bool scr_name_free(struct run *r, const char *name)
{
	if (scr_proc_find(r, name) >= 0)
		return scr_bad(r, r->st->col, "a process named '%s' is already running", name);
	if (r->nprocs >= SC_MAX_PROCS)
		return scr_bad(r, r->st->col, "more than %d processes", SC_MAX_PROCS);
	return true;
}

/* The process a statement works on: @NAME, or the current one. */
struct mm_task *scr_task_of(struct run *r, const char *name)
{
	if (!scr_boot(r))
		return NULL;
	if (name) {
		int i = scr_proc_find(r, name);
		if (i < 0) {
			scr_bad(r, r->st->col, "no process named '%s'", name);
			return NULL;
		}
		return r->procs[i].t;
	}
	if (r->cur < 0) {
		scr_bad(r, r->st->col,
			r->nprocs ? "no current process (it exited: use 'switch NAME' or "
				    "'@NAME')"
			: r->had_procs ? "no process left (every one exited): start one with "
					 "'process NAME'"
				       : "no process yet: start one with 'process NAME'");
		return NULL;
	}
	return r->procs[r->cur].t;
}

struct mm_task *scr_task(struct run *r)
{
	return scr_task_of(r, r->st->proc);
}

/* A path of the script: tmpfile names first, then relative to the file the
 * statement is in. */
const char *scr_resolve(struct run *r, const char *path, char *buf, size_t len)
{
	for (size_t i = 0; i < r->ntmp; i++)
		if (strcmp(r->tmp[i].name, path) == 0)
			return r->tmp[i].path;
	const char *file = r->s->files[r->st->file];
	const char *slash = strrchr(file, '/');
	if (path[0] == '/' || !slash)
		return path;
	snprintf(buf, len, "%.*s/%s", (int)(slash - file), file, path);
	return buf;
}

bool scr_files_allowed(struct run *r)
{
	if (!r->lim.allow_files)
		return scr_bad(r, r->st->col, "host files are disabled here");
	return true;
}

/* ---- Expressions -------------------------------------------------------- */

static bool counter(struct run *r, const struct sc_expr *e, const struct mm_counters *c,
		    int64_t *out)
{
	(void)r;
	uint64_t v;
	switch ((enum sc_ctr)e->num) {
	case CTR_ACCESSES:
		v = c->accesses;
		break;
	case CTR_DTLB_HITS:
		v = c->dtlb_hits;
		break;
	case CTR_ITLB_HITS:
		v = c->itlb_hits;
		break;
	case CTR_STLB_HITS:
		v = c->stlb_hits;
		break;
	case CTR_TLB_MISSES:
		v = c->tlb_misses;
		break;
	case CTR_WALK_REFS:
		v = c->walk_refs;
		break;
	case CTR_DIRTY_WALKS:
		v = c->dirty_walks;
		break;
	case CTR_MINFLT:
		v = c->min_flt;
		break;
	case CTR_MAJFLT:
		v = c->maj_flt;
		break;
	case CTR_COW_COPIES:
		v = c->cow_copies;
		break;
	case CTR_COW_REUSES:
		v = c->cow_reuses;
		break;
	case CTR_ZERO_MAPS:
		v = c->zero_maps;
		break;
	case CTR_SEGV:
		v = c->segv;
		break;
	case CTR_TLB_FLUSHES:
		v = c->tlb_flushes;
		break;
	case CTR_TLB_HITS:
		v = c->dtlb_hits + c->itlb_hits + c->stlb_hits;
		break;
	case CTR_FAULTS:
		v = c->min_flt + c->maj_flt;
		break;
	default:
		v = 0;
		break;
	}
	*out = (int64_t)v;
	return true;
}

static const char *signame(int sig)
{
	return sig == MM_SIGSEGV   ? "SIGSEGV"
	       : sig == MM_SIGBUS  ? "SIGBUS"
	       : sig == MM_SIGKILL ? "SIGKILL"
				   : "signal";
}

static const char *sicode(const struct mm_siginfo *si)
{
	if (si->signo == MM_SIGSEGV)
		return si->code == MM_SEGV_MAPERR   ? "SEGV_MAPERR"
		       : si->code == MM_SEGV_ACCERR ? "SEGV_ACCERR"
		       : si->code == MM_SI_KERNEL   ? "SI_KERNEL"
						    : "?";
	if (si->signo == MM_SIGBUS)
		return si->code == MM_BUS_ADRERR ? "BUS_ADRERR" : "?";
	return "-";
}

bool scr_try_reset(struct run *r)
{
	return scr_var_set(r, "errno", 0, false, false) &&
	       scr_var_set(r, "signal", 0, false, false) &&
	       scr_var_set(r, "si_code", 0, false, false) &&
	       scr_var_set(r, "si_addr", 0, true, false);
}

/* An access the machine could not complete: record it for try, or stop. */
bool scr_access_failed(struct run *r, struct mm_task *t, const char *what, uint64_t va, int rc)
{
	const struct mm_siginfo *si = mm_task_siginfo(t);
	if (r->st->try_) {
		return scr_var_set(r, "errno", -rc, false, false) &&
		       scr_var_set(r, "signal", rc == -MM_ENOMEM ? 0 : si->signo, false, false) &&
		       scr_var_set(r, "si_code", rc == -MM_ENOMEM ? 0 : si->code, false, false) &&
		       scr_var_set(r, "si_addr", rc == -MM_ENOMEM ? 0 : (int64_t)si->addr, true,
				   false);
	}
	if (rc == -MM_ENOMEM)
		return scr_refused(r, "%s %#" PRIx64 " in process %d: out of memory", what, va,
				   mm_task_pid(t));
	if (rc == -MM_ESRCH)
		return scr_refused(
			r, "%s %#" PRIx64 " in process %d: killed by the OOM killer (SIGKILL)",
			what, va, mm_task_pid(t));
	return scr_refused(r, "%s %#" PRIx64 " in process %d: %s (%s) at %#" PRIx64, what, va,
			   mm_task_pid(t), signame(si->signo), sicode(si), si->addr);
}

static bool eval_read(struct run *r, const struct sc_expr *e, int64_t *out)
{
	int64_t addr;
	if (!scr_eval(r, e->a, &addr))
		return false;
	struct mm_task *t = scr_task(r);
	if (!t || !scr_step(r))
		return false;
	uint8_t b[8] = { 0 };
	int rc = mm_read(r->m, t, (uint64_t)addr, b, e->width);
	if (rc) {
		const struct mm_siginfo *si = mm_task_siginfo(t);
		if (rc == -MM_ENOMEM)
			return scr_refused(r, "read %#" PRIx64 ": out of memory", (uint64_t)addr);
		if (rc == -MM_ESRCH)
			return scr_refused(r,
					   "read %#" PRIx64
					   " in process %d: killed by the OOM killer "
					   "(SIGKILL)",
					   (uint64_t)addr, mm_task_pid(t));
		return scr_refused(r, "read %#" PRIx64 " in process %d: %s (%s) at %#" PRIx64,
				   (uint64_t)addr, mm_task_pid(t), signame(si->signo), sicode(si),
				   si->addr);
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < e->width; i++)
		v |= (uint64_t)b[i] << (8 * i);
	*out = (int64_t)v;
	return true;
}

static bool eval_view(struct run *r, const struct sc_expr *e, int64_t *out)
{
	struct mm_task *t = NULL;
	if (strcmp(e->name, "status") == 0) {
		if (!(t = scr_task(r)))
			return false;
	} else if (!scr_boot(r)) {
		return false;
	}
	char *text = sc_view_text(r->m, t, e->name, 0);
	if (!text)
		return scr_nomem(r);
	int rc = sc_view_field(text, e->field, out);
	free(text);
	if (rc)
		return scr_bad(r, e->col, "%s has no row '%s'", e->name, e->field);
	return true;
}

bool scr_eval(struct run *r, const struct sc_expr *e, int64_t *out)
{
	int64_t a, b;
	switch (e->op) {
	case EX_NUM:
		*out = e->num;
		return true;
	case EX_VAR: {
		struct var *v = scr_var_find(r, e->name);
		if (!v)
			return scr_bad(r, e->col, "variable $%s is not set", e->name);
		*out = v->v;
		return true;
	}
	case EX_CTR:
	case EX_PID:
	case EX_OOM: {
		struct mm_task *t = scr_task_of(r, e->name ? e->name : r->st->proc);
		if (!t)
			return false;
		if (e->op == EX_PID) {
			*out = mm_task_pid(t);
			return true;
		}
		if (e->op == EX_OOM) {
			*out = e->num == 0   ? (int64_t)mm_task_oom_score(r->m, t)
			       : e->num == 1 ? mm_task_oom_score_adj(t)
			       : e->num == 2 ? mm_task_killed(t)
					     : (int64_t)mm_task_frames(r->m, t);
			return true;
		}
		struct mm_counters c;
		mm_task_counters(t, &c);
		return counter(r, e, &c, out);
	}
	case EX_MCTR: {
		if (!scr_boot(r))
			return false;
		struct mm_counters c;
		mm_machine_counters(r->m, &c);
		return counter(r, e, &c, out);
	}
	case EX_TLB: {
		if (!scr_boot(r))
			return false;
		struct mm_tlb_stats s;
		mm_machine_tlb_stats(r->m, &s);
		const uint64_t v[SC_NTLBSTAT] = {
			s.cr3_loads, s.full_flushes,   s.pcid_flushes,
			s.invlpg,    s.global_flushes, s.shootdowns,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_SWAP: {
		if (!scr_boot(r))
			return false;
		struct mm_swap_info si;
		mm_machine_swap_info(r->m, &si);
		const uint64_t v[SC_NSWAPSTAT] = {
			si.total_pages,  si.free_pages,  si.total_pages - si.free_pages,
			si.cached_pages, si.pswpin,      si.pswpout,
			si.write_errors, si.full_events,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_RECLAIM: {
		if (!scr_boot(r))
			return false;
		struct mm_reclaim_stats rs;
		mm_machine_reclaim_stats(r->m, &rs);
		const uint64_t v[SC_NRSTAT] = {
			rs.pgscan_kswapd,  rs.pgscan_direct,     rs.pgsteal_kswapd,
			rs.pgsteal_direct, rs.pgsteal_file,      rs.pgsteal_anon,
			rs.pgactivate,     rs.pgdeactivate,      rs.pgrotated,
			rs.pageoutrun,     rs.allocstall,        rs.kswapd_wakeups,
			rs.file_writeback, rs.flusher_writeback, rs.local_reclaims,
			rs.slab_shrinks,   rs.nr_active_anon,    rs.nr_inactive_anon,
			rs.nr_active_file, rs.nr_inactive_file,  rs.nr_unevictable,
			rs.kswapd_awake,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_JIFFIES:
		if (!scr_boot(r))
			return false;
		*out = (int64_t)mm_machine_jiffies(r->m);
		return true;
	case EX_VIEW:
		return eval_view(r, e, out);
	case EX_READ:
		return eval_read(r, e, out);
	case EX_NEG:
		if (!scr_eval(r, e->a, &a))
			return false;
		*out = (int64_t)(0 - (uint64_t)a);
		return true;
	default:
		break;
	}
	if (!scr_eval(r, e->a, &a) || !scr_eval(r, e->b, &b))
		return false;
	switch (e->op) {
	case EX_ADD:
		*out = (int64_t)((uint64_t)a + (uint64_t)b);
		return true;
	case EX_SUB:
		*out = (int64_t)((uint64_t)a - (uint64_t)b);
		return true;
	case EX_MUL:
		*out = (int64_t)((uint64_t)a * (uint64_t)b);
		return true;
	case EX_DIV:
	case EX_MOD:
		if (b == 0)
			return scr_bad(r, e->col, "division by zero");
		if (a == INT64_MIN && b == -1) {
			*out = e->op == EX_DIV ? INT64_MIN : 0;
			return true;
		}
		*out = e->op == EX_DIV ? a / b : a % b;
		return true;
	default:
		return scr_bad(r, e->col, "bad expression");
	}
}

/* An expression that must lie in [lo, hi]. */
bool scr_eval_range(struct run *r, const struct sc_expr *e, int64_t lo, int64_t hi,
		    const char *what, int64_t *out)
{
	if (!scr_eval(r, e, out))
		return false;
	if (*out < lo || *out > hi)
		return scr_bad(r, e->col, "%s %" PRId64 " out of range (%" PRId64 "..%" PRId64 ")",
			       what, *out, lo, hi);
	return true;
}

/* ---- The statement loop ------------------------------------------------- */

static bool exec_list(struct run *r, const struct sc_stmt *st, int depth);

static bool exec_one(struct run *r, const struct sc_stmt *st)
{
	r->st = st;
	if (!scr_step(r))
		return false;
	switch (st->kind) {
	case ST_MACHINE:
		return scr_do_machine(r, st);
	case ST_PROCESS:
		return scr_do_process(r, st);
	case ST_SPAWN:
		return scr_do_spawn(r, st);
	case ST_SWITCH: {
		struct mm_task *t = scr_task_of(r, st->name);
		if (!t)
			return false;
		r->cur = scr_proc_find(r, st->name);
		mm_context_switch(r->m, t);
		return true;
	}
	case ST_FORK:
		return scr_do_fork(r, st);
	case ST_EXEC: {
		struct mm_task *t = scr_task(r);
		return t && scr_do_exec(r, st, t);
	}
	case ST_EXIT:
		return scr_do_exit(r, st);
	case ST_MMAP:
		return scr_do_mmap(r, st);
	case ST_MUNMAP:
	case ST_MPROTECT:
	case ST_BRK:
	case ST_SBRK:
	case ST_MADVISE:
	case ST_MSYNC:
	case ST_CLOSE:
	case ST_SHMDT:
	case ST_SHMRM:
		return scr_do_simple_sys(r, st);
	case ST_OPEN:
		return scr_do_open(r, st);
	case ST_SHMGET:
	case ST_SHMAT:
		return scr_do_shm(r, st);
	case ST_DROP_CACHES:
		if (!scr_boot(r))
			return false;
		mm_machine_drop_caches(r->m);
		return true;
	case ST_TMPFILE:
		return scr_do_tmpfile(r, st);
	case ST_ACCESS:
		return scr_do_access(r, st);
	case ST_FILL:
		return scr_do_fill(r, st);
	case ST_REPEAT: {
		int64_t n;
		if (!scr_eval_range(r, st->a[0], 0, 1000000000, "repeat count", &n))
			return false;
		for (int64_t i = 0; i < n; i++)
			if (!exec_list(r, st->body, r->depth + 1))
				return false;
		return true;
	}
	case ST_TICK: {
		int64_t n = 1;
		if (st->a[0] && !scr_eval_range(r, st->a[0], 0, 1000000000, "tick count", &n))
			return false;
		if (!scr_boot(r))
			return false;
		mm_machine_tick(r->m, (uint64_t)n);
		return true;
	}
	case ST_RECLAIM: {
		int64_t n;
		if (!scr_boot(r) || !scr_eval_range(r, st->a[0], 0, INT64_MAX, "page count", &n))
			return false;
		uint64_t got = mm_machine_reclaim(r->m, (uint64_t)n);
		return scr_var_set(r, "reclaimed", (int64_t)got, false, false);
	}
	case ST_SYNC: {
		if (!scr_boot(r))
			return false;
		int rc = mm_machine_sync(r->m);
		return scr_sys_result(r, st, rc, false, "sync");
	}
	case ST_FRAME_LIMIT: {
		struct mm_task *t = scr_task(r);
		int64_t n;
		if (!t || !scr_eval_range(r, st->a[0], 0, INT64_MAX, "frame limit", &n))
			return false;
		int rc = mm_task_set_frame_limit(r->m, t, (uint64_t)n);
		if (rc == -MM_EINVAL && !st->try_)
			return scr_bad(r, st->col,
				       "frame_limit: the machine has no reclaim (reclaim=off)");
		return scr_sys_result(r, st, rc, false, "frame_limit");
	}
	case ST_SWAP_FAIL: {
		int64_t n = 0;
		if (!scr_boot(r) ||
		    (st->a[0] && !scr_eval_range(r, st->a[0], 0, INT64_MAX, "count", &n)))
			return false;
		mm_machine_swap_fail_after(r->m, st->on ? MM_SWAP_FAIL_NEVER : (uint64_t)n);
		return true;
	}
	case ST_SHOW:
		return scr_do_show(r, st);
	case ST_EXPECT:
		return scr_do_expect(r, st);
	case ST_CHECK:
		if (!scr_boot(r))
			return false;
		if (mm_machine_check(r->m))
			return scr_refused(r, "machine check failed (details above)");
		return true;
	case ST_LET:
	case ST_PARAM: {
		struct var *v = scr_var_find(r, st->name);
		if (st->kind == ST_PARAM && v && v->fixed)
			return true;
		int64_t x;
		if (!scr_eval(r, st->a[0], &x))
			return false;
		return scr_var_set(r, st->name, x, st->a[0]->op == EX_VAR && v && v->hex, false);
	}
	case ST_ECHO:
		return scr_do_echo(r, st);
	case ST_SECTION:
		if (r->sink->section) {
			struct sc_where w = scr_where(r);
			r->sink->section(r->sink->ctx, &w, st->text);
		}
		return true;
	case ST_STRACE:
		r->strace = st->on;
		return true;
	case ST_OOM_ADJ: {
		struct mm_task *t = scr_task(r);
		int64_t v;
		if (!t || !scr_eval_range(r, st->a[0], MM_OOM_SCORE_ADJ_MIN, MM_OOM_SCORE_ADJ_MAX,
					  "oom_score_adj", &v))
			return false;
		int rc = mm_task_set_oom_score_adj(t, (int)v);
		scr_strace_line(r, t, "write(/proc/%d/oom_score_adj, \"%d\") = %s", mm_task_pid(t),
				(int)v, rc ? "-1 ESRCH (No such process)" : "0");
		return scr_sys_result(r, st, rc, false, "oom_score_adj");
	}
	}
	return scr_bad(r, st->col, "internal: unknown statement");
}

static void sample(struct run *r)
{
	if (!r->m || !r->sink->step)
		return;
	struct mm_meminfo mi;
	mm_machine_meminfo(r->m, &mi);
	struct sc_sample s = {
		.step = r->top_steps,
		.free = mi.free_pages,
		.anon = mi.anon_pages,
		.cached = mi.cached_pages,
		.shmem = mi.shmem_pages,
		.pagetables = mi.pagetable_pages,
		.slab = mi.slab_pages,
		.total = mi.total_pages,
	};
	struct mm_swap_info si;
	mm_machine_swap_info(r->m, &si);
	s.swap_used = si.total_pages - si.free_pages;
	r->sink->step(r->sink->ctx, r->m, &s);
}

/* Statements at depth 0 (the script) and 1 (inside one repeat) are
 * sampled: a plot then shows a loop's progress, and deeper loops do not
 * multiply the samples. */
static bool exec_list(struct run *r, const struct sc_stmt *st, int depth)
{
	int outer = r->depth;
	bool ok = true;
	for (; ok && st; st = st->next) {
		r->depth = depth;
		ok = exec_one(r, st);
		r->st = st;
		if (ok && r->o->check && r->m && mm_machine_check(r->m))
			ok = scr_refused(
				r, "machine check failed after this statement (details above)");
		if (!ok || r->stop) {
			ok = false;
			break;
		}
		if (depth <= 1) {
			r->top_steps++;
			sample(r);
		}
	}
	r->depth = outer;
	return ok;
}

/* ---- Entry point -------------------------------------------------------- */

static bool apply_defines(struct run *r)
{
	for (size_t i = 0; i < r->o->ndefs; i++) {
		const struct sc_define *d = &r->o->defs[i];
		char src[512];
		int n = snprintf(src, sizeof(src), "let %s = %s", d->name, d->value);
		if (n < 0 || (size_t)n >= sizeof(src))
			return scr_status_fail(r, SC_BADINPUT, "-D %s: too long", d->name);
		struct sc_script *s;
		struct sc_result pr;
		struct sc_limits lim = r->lim;
		lim.allow_files = false;
		if (sc_parse_buffer("-D", src, (size_t)n, &lim, &s, &pr)) {
			const char *why = strstr(pr.msg, ": "); /* after "-D:1:COL" */
			return scr_status_fail(r, pr.status, "-D %s=%s: %s", d->name, d->value,
					       why ? why + 2 : pr.msg);
		}
		const struct sc_stmt *st = s->first;
		int64_t v = 0;
		const struct sc_script *outer = r->s;
		r->s = s;
		r->st = st;
		bool ok = st && st->kind == ST_LET && !st->next && scr_eval(r, st->a[0], &v);
		r->s = outer;
		r->st = NULL;
		sc_script_free(s);
		if (!ok) {
			if (!r->stop)
				scr_status_fail(r, SC_BADINPUT, "-D %s=%s: not a NAME=VALUE",
						d->name, d->value);
			return false;
		}
		if (!scr_var_set(r, d->name, v, false, true))
			return false;
	}
	return true;
}

int sc_run(const struct sc_script *s, const struct sc_run_opts *o, const struct sc_sink *sink,
	   struct sc_result *res)
{
	static const struct sc_sink none;
	memset(res, 0, sizeof(*res));
	struct run r = { .s = s, .o = o, .sink = sink ? sink : &none, .res = res, .cur = -1 };
	if (o->lim)
		r.lim = *o->lim;
	else
		r.lim = s->lim;
	mm_machine_config_init(&r.cfg);
	if (r.cfg.ram_bytes > r.lim.max_ram)
		r.cfg.ram_bytes = r.lim.max_ram & ~(((uint64_t)4 << 20) - 1);
	bool ok = apply_defines(&r);
	if (ok)
		exec_list(&r, s->first, 0);
	if (r.m)
		mm_machine_destroy(r.m);
	free(r.procs);
	for (size_t i = 0; i < r.nvars; i++)
		free(r.vars[i].name);
	free(r.vars);
	for (size_t i = 0; i < r.ntmp; i++) {
		unlink(r.tmp[i].path);
		free(r.tmp[i].path);
	}
	if (r.tmpdir) {
		rmdir(r.tmpdir);
		free(r.tmpdir);
	}
	return res->status;
}
