/* scenario_run.c — the interpreter of the scenario language.
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
#include "scenario_internal.h"

#define SC_MAX_ACCESS   ((uint64_t)1 << 20)  /* bytes of one read/fetch */
#define SC_MAX_PROCS    4096
#define SC_MAX_VARS     4096
#define SC_MAX_TMPFILES 64

struct proc {
	char name[64];
	struct mm_task *t;
};

struct var {
	char *name;
	int64_t v;
	bool hex;    /* an address: printed in hex */
	bool fixed;  /* given with -D: param does not change it */
};

struct tmpf {
	char name[64];
	char *path;
};

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
	struct var *vars;
	size_t nvars, capvars;
	struct tmpf tmp[SC_MAX_TMPFILES];
	size_t ntmp;
	char *tmpdir;
	char swap_path[4096];       /* swap_file=, resolved */
	bool strace;
	bool stop;
	uint64_t top_steps;
	const struct sc_stmt *st;   /* the statement running, for messages */
};

/* ---- Messages ------------------------------------------------------------------------- */

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
static bool bad(struct run *r, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(struct run *r, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, SC_BADINPUT, col, fmt, ap);
	va_end(ap);
	return false;
}

/* The machine refused (a system call failed, a signal): exit 1. */
static bool refused(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refused(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, SC_FAILED, 0, fmt, ap);
	va_end(ap);
	return false;
}

static bool status_fail(struct run *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool status_fail(struct run *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(r, status, 0, fmt, ap);
	va_end(ap);
	return false;
}

static bool nomem(struct run *r)
{
	return status_fail(r, SC_NOMEM, "out of memory (host)");
}

static struct sc_where where(const struct run *r)
{
	struct sc_where w = { r->st ? r->s->files[r->st->file] : "", r->st ? r->st->line : 0 };
	return w;
}

static void strace_line(struct run *r, struct mm_task *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void strace_line(struct run *r, struct mm_task *t, const char *fmt, ...)
{
	if (!r->strace || !r->sink->strace)
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "[pid %d] ", t ? mm_task_pid(t) : 0);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	struct sc_where w = where(r);
	r->sink->strace(r->sink->ctx, &w, buf);
}

/* " = -1 ENOMEM (Cannot allocate memory)" */
static const char *errtext(int err, char *buf, size_t len)
{
	snprintf(buf, len, "-1 %s (%s)", mm_errname(err), mm_strerror(err));
	return buf;
}

/* ---- Steps ----------------------------------------------------------------------------- */

static bool step(struct run *r)
{
	if (++r->res->steps > r->lim.max_steps)
		return bad(r, 0, "the scenario runs more than %" PRIu64 " steps (statements and "
			   "accesses): stopped", r->lim.max_steps);
	return true;
}

/* ---- Variables --------------------------------------------------------------------------- */

static struct var *var_find(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->nvars; i++)
		if (strcmp(r->vars[i].name, name) == 0)
			return &r->vars[i];
	return NULL;
}

static bool var_set(struct run *r, const char *name, int64_t v, bool hex, bool fixed)
{
	struct var *x = var_find(r, name);
	if (!x) {
		if (r->nvars == SC_MAX_VARS)
			return bad(r, 0, "more than %d variables", SC_MAX_VARS);
		if (r->nvars == r->capvars) {
			size_t cap = r->capvars ? r->capvars * 2 : 16;
			struct var *nv = realloc(r->vars, cap * sizeof(*nv));
			if (!nv)
				return nomem(r);
			r->vars = nv;
			r->capvars = cap;
		}
		x = &r->vars[r->nvars];
		memset(x, 0, sizeof(*x));
		x->name = strdup(name);
		if (!x->name)
			return nomem(r);
		r->nvars++;
	}
	x->v = v;
	x->hex = hex;
	x->fixed = x->fixed || fixed;
	return true;
}

/* ---- The machine and processes ------------------------------------------------------------ */

static bool boot(struct run *r)
{
	if (r->m)
		return true;
	int rc = mm_machine_create(&r->cfg, &r->m);
	if (rc == -MM_ENOMEM)
		return status_fail(r, SC_NOMEM, "cannot boot the machine: out of memory (host)");
	if (rc)
		return bad(r, 0, "cannot boot the machine: %s (check the machine options: ram a "
			   "multiple of 4M, at most 4G with paging=2; TLB ways dividing entries into a "
			   "power-of-two number of sets; policy= a replacement policy spec, see "
			   "'mmsim policies'; swap_file= a file that can be created)",
			   mm_strerror(rc));
	return true;
}

static int proc_find(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (strcmp(r->procs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool proc_add(struct run *r, const char *name, struct mm_task *t)
{
	if (r->nprocs == r->capprocs) {
		size_t cap = r->capprocs ? r->capprocs * 2 : 8;
		struct proc *np = realloc(r->procs, cap * sizeof(*np));
		if (!np)
			return nomem(r);
		r->procs = np;
		r->capprocs = cap;
	}
	struct proc *p = &r->procs[r->nprocs];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->t = t;
	r->cur = (int)r->nprocs++;
	return true;
}

static void proc_remove(struct run *r, int i)
{
	memmove(&r->procs[i], &r->procs[i + 1], (r->nprocs - (size_t)i - 1) * sizeof(r->procs[0]));
	r->nprocs--;
	if (r->cur == i)
		r->cur = -1;
	else if (r->cur > i)
		r->cur--;
}

/* A new name must not be a live process's. */
static bool name_free(struct run *r, const char *name)
{
	if (proc_find(r, name) >= 0)
		return bad(r, r->st->col, "a process named '%s' is already running", name);
	if (r->nprocs >= SC_MAX_PROCS)
		return bad(r, r->st->col, "more than %d processes", SC_MAX_PROCS);
	return true;
}

/* The process a statement works on: @NAME, or the current one. */
static struct mm_task *task_of(struct run *r, const char *name)
{
	if (!boot(r))
		return NULL;
	if (name) {
		int i = proc_find(r, name);
		if (i < 0) {
			bad(r, r->st->col, "no process named '%s'", name);
			return NULL;
		}
		return r->procs[i].t;
	}
	if (r->cur < 0) {
		bad(r, r->st->col, r->nprocs ? "no current process (it exited: use 'switch NAME' or "
			"'@NAME')" : "no process yet: start one with 'process NAME'");
		return NULL;
	}
	return r->procs[r->cur].t;
}

static struct mm_task *task(struct run *r)
{
	return task_of(r, r->st->proc);
}

/* A path of the script: tmpfile names first, then relative to the file the
 * statement is in. */
static const char *resolve(struct run *r, const char *path, char *buf, size_t len)
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

static bool files_allowed(struct run *r)
{
	if (!r->lim.allow_files)
		return bad(r, r->st->col, "host files are disabled here");
	return true;
}

/* ---- Expressions ---------------------------------------------------------------------------- */

static bool eval(struct run *r, const struct sc_expr *e, int64_t *out);

static bool counter(struct run *r, const struct sc_expr *e, const struct mm_counters *c,
		    int64_t *out)
{
	(void)r;
	uint64_t v;
	switch ((enum sc_ctr)e->num) {
	case CTR_ACCESSES: v = c->accesses; break;
	case CTR_DTLB_HITS: v = c->dtlb_hits; break;
	case CTR_ITLB_HITS: v = c->itlb_hits; break;
	case CTR_STLB_HITS: v = c->stlb_hits; break;
	case CTR_TLB_MISSES: v = c->tlb_misses; break;
	case CTR_WALK_REFS: v = c->walk_refs; break;
	case CTR_DIRTY_WALKS: v = c->dirty_walks; break;
	case CTR_MINFLT: v = c->min_flt; break;
	case CTR_MAJFLT: v = c->maj_flt; break;
	case CTR_COW_COPIES: v = c->cow_copies; break;
	case CTR_COW_REUSES: v = c->cow_reuses; break;
	case CTR_ZERO_MAPS: v = c->zero_maps; break;
	case CTR_SEGV: v = c->segv; break;
	case CTR_TLB_FLUSHES: v = c->tlb_flushes; break;
	case CTR_TLB_HITS: v = c->dtlb_hits + c->itlb_hits + c->stlb_hits; break;
	case CTR_FAULTS: v = c->min_flt + c->maj_flt; break;
	default: v = 0; break;
	}
	*out = (int64_t)v;
	return true;
}

static const char *signame(int sig)
{
	return sig == MM_SIGSEGV ? "SIGSEGV" : sig == MM_SIGBUS ? "SIGBUS"
	     : sig == MM_SIGKILL ? "SIGKILL" : "signal";
}

static const char *sicode(const struct mm_siginfo *si)
{
	if (si->signo == MM_SIGSEGV)
		return si->code == MM_SEGV_MAPERR ? "SEGV_MAPERR" : si->code == MM_SEGV_ACCERR
			       ? "SEGV_ACCERR" : si->code == MM_SI_KERNEL ? "SI_KERNEL" : "?";
	if (si->signo == MM_SIGBUS)
		return si->code == MM_BUS_ADRERR ? "BUS_ADRERR" : "?";
	return "-";
}

/* An access the machine could not complete: record it for try, or stop. */
static bool access_failed(struct run *r, struct mm_task *t, const char *what, uint64_t va, int rc)
{
	const struct mm_siginfo *si = mm_task_siginfo(t);
	if (r->st->try_) {
		return var_set(r, "errno", -rc, false, false) &&
		       var_set(r, "signal", rc == -MM_ENOMEM ? 0 : si->signo, false, false) &&
		       var_set(r, "si_code", rc == -MM_ENOMEM ? 0 : si->code, false, false) &&
		       var_set(r, "si_addr", rc == -MM_ENOMEM ? 0 : (int64_t)si->addr, true, false);
	}
	if (rc == -MM_ENOMEM)
		return refused(r, "%s %#" PRIx64 " in process %d: out of memory", what, va,
			       mm_task_pid(t));
	if (rc == -MM_ESRCH)
		return refused(r, "%s %#" PRIx64 " in process %d: killed by the OOM killer (SIGKILL)",
			       what, va, mm_task_pid(t));
	return refused(r, "%s %#" PRIx64 " in process %d: %s (%s) at %#" PRIx64, what, va,
		       mm_task_pid(t), signame(si->signo), sicode(si), si->addr);
}

static bool eval_read(struct run *r, const struct sc_expr *e, int64_t *out)
{
	int64_t addr;
	if (!eval(r, e->a, &addr))
		return false;
	struct mm_task *t = task(r);
	if (!t || !step(r))
		return false;
	uint8_t b[8] = { 0 };
	int rc = mm_read(r->m, t, (uint64_t)addr, b, e->width);
	if (rc) {
		const struct mm_siginfo *si = mm_task_siginfo(t);
		if (rc == -MM_ENOMEM)
			return refused(r, "read %#" PRIx64 ": out of memory", (uint64_t)addr);
		if (rc == -MM_ESRCH)
			return refused(r, "read %#" PRIx64 " in process %d: killed by the OOM killer "
				       "(SIGKILL)", (uint64_t)addr, mm_task_pid(t));
		return refused(r, "read %#" PRIx64 " in process %d: %s (%s) at %#" PRIx64,
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
		if (!(t = task(r)))
			return false;
	} else if (!boot(r)) {
		return false;
	}
	char *text = sc_view_text(r->m, t, e->name, 0);
	if (!text)
		return nomem(r);
	int rc = sc_view_field(text, e->field, out);
	free(text);
	if (rc)
		return bad(r, e->col, "%s has no row '%s'", e->name, e->field);
	return true;
}

static bool eval(struct run *r, const struct sc_expr *e, int64_t *out)
{
	int64_t a, b;
	switch (e->op) {
	case EX_NUM:
		*out = e->num;
		return true;
	case EX_VAR: {
		struct var *v = var_find(r, e->name);
		if (!v)
			return bad(r, e->col, "variable $%s is not set", e->name);
		*out = v->v;
		return true;
	}
	case EX_CTR:
	case EX_PID:
	case EX_OOM: {
		struct mm_task *t = task_of(r, e->name ? e->name : r->st->proc);
		if (!t)
			return false;
		if (e->op == EX_PID) {
			*out = mm_task_pid(t);
			return true;
		}
		if (e->op == EX_OOM) {
			*out = e->num == 0 ? (int64_t)mm_task_oom_score(r->m, t)
			     : e->num == 1 ? mm_task_oom_score_adj(t)
			     : e->num == 2 ? mm_task_killed(t) : (int64_t)mm_task_frames(r->m, t);
			return true;
		}
		struct mm_counters c;
		mm_task_counters(t, &c);
		return counter(r, e, &c, out);
	}
	case EX_MCTR: {
		if (!boot(r))
			return false;
		struct mm_counters c;
		mm_machine_counters(r->m, &c);
		return counter(r, e, &c, out);
	}
	case EX_TLB: {
		if (!boot(r))
			return false;
		struct mm_tlb_stats s;
		mm_machine_tlb_stats(r->m, &s);
		const uint64_t v[SC_NTLBSTAT] = {
			s.cr3_loads, s.full_flushes, s.pcid_flushes, s.invlpg, s.global_flushes,
			s.shootdowns,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_SWAP: {
		if (!boot(r))
			return false;
		struct mm_swap_info si;
		mm_machine_swap_info(r->m, &si);
		const uint64_t v[SC_NSWAPSTAT] = {
			si.total_pages, si.free_pages, si.total_pages - si.free_pages, si.cached_pages,
			si.pswpin, si.pswpout, si.write_errors, si.full_events,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_RECLAIM: {
		if (!boot(r))
			return false;
		struct mm_reclaim_stats rs;
		mm_machine_reclaim_stats(r->m, &rs);
		const uint64_t v[SC_NRSTAT] = {
			rs.pgscan_kswapd, rs.pgscan_direct, rs.pgsteal_kswapd, rs.pgsteal_direct,
			rs.pgsteal_file, rs.pgsteal_anon, rs.pgactivate, rs.pgdeactivate, rs.pgrotated,
			rs.pageoutrun, rs.allocstall, rs.kswapd_wakeups, rs.file_writeback,
			rs.flusher_writeback, rs.local_reclaims, rs.slab_shrinks, rs.nr_active_anon,
			rs.nr_inactive_anon, rs.nr_active_file, rs.nr_inactive_file, rs.nr_unevictable,
			rs.kswapd_awake,
		};
		*out = (int64_t)v[e->num];
		return true;
	}
	case EX_JIFFIES:
		if (!boot(r))
			return false;
		*out = (int64_t)mm_machine_jiffies(r->m);
		return true;
	case EX_VIEW:
		return eval_view(r, e, out);
	case EX_READ:
		return eval_read(r, e, out);
	case EX_NEG:
		if (!eval(r, e->a, &a))
			return false;
		*out = (int64_t)(0 - (uint64_t)a);
		return true;
	default:
		break;
	}
	if (!eval(r, e->a, &a) || !eval(r, e->b, &b))
		return false;
	switch (e->op) {
	case EX_ADD: *out = (int64_t)((uint64_t)a + (uint64_t)b); return true;
	case EX_SUB: *out = (int64_t)((uint64_t)a - (uint64_t)b); return true;
	case EX_MUL: *out = (int64_t)((uint64_t)a * (uint64_t)b); return true;
	case EX_DIV:
	case EX_MOD:
		if (b == 0)
			return bad(r, e->col, "division by zero");
		if (a == INT64_MIN && b == -1) {
			*out = e->op == EX_DIV ? INT64_MIN : 0;
			return true;
		}
		*out = e->op == EX_DIV ? a / b : a % b;
		return true;
	default:
		return bad(r, e->col, "bad expression");
	}
}

/* An expression that must lie in [lo, hi]. */
static bool eval_range(struct run *r, const struct sc_expr *e, int64_t lo, int64_t hi,
		       const char *what, int64_t *out)
{
	if (!eval(r, e, out))
		return false;
	if (*out < lo || *out > hi)
		return bad(r, e->col, "%s %" PRId64 " out of range (%" PRId64 "..%" PRId64 ")", what,
			   *out, lo, hi);
	return true;
}

/* ---- machine ---------------------------------------------------------------------------- */

static bool tlb_geom(struct run *r, const struct sc_kv *kv, struct mm_tlb_geometry *g)
{
	const char *w = kv->word;
	if (strcmp(w, "off") == 0 || strcmp(w, "0") == 0) {
		g->entries = 0;
		g->ways = 0;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long e = strtoul(w, &end, 10), ways = e;
	if (*end == ':') {
		const char *s = end + 1;
		ways = strtoul(s, &end, 10);
		if (end == s)
			ways = 0;
	}
	if (errno || *end || e == 0 || e > 65536 || ways == 0 || ways > e)
		return bad(r, kv->col, "%s=%s: expected ENTRIES[:WAYS] (e.g. 64:4) or off", kv->key, w);
	g->entries = (unsigned)e;
	g->ways = (unsigned)ways;
	return true;
}

static bool on_off(struct run *r, const struct sc_kv *kv, bool *out)
{
	if (strcmp(kv->word, "on") == 0 || strcmp(kv->word, "1") == 0 ||
	    strcmp(kv->word, "yes") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(kv->word, "off") == 0 || strcmp(kv->word, "0") == 0 ||
	    strcmp(kv->word, "no") == 0) {
		*out = false;
		return true;
	}
	return bad(r, kv->col, "%s=%s: expected on or off", kv->key, kv->word);
}

static bool do_machine(struct run *r, const struct sc_stmt *st)
{
	if (r->m)
		return bad(r, st->col, "the machine is already running: 'machine' must come before "
			   "the first statement that uses it");
	struct mm_machine_config *c = &r->cfg;
	for (const struct sc_kv *kv = st->kv; kv; kv = kv->next) {
		int64_t v = 0;
		const char *k = kv->key;
		if (kv->e && !eval(r, kv->e, &v))
			return false;
		if (kv->e && v < 0)
			return bad(r, kv->col, "%s=%" PRId64 ": negative", k, v);
		if (strcmp(k, "ram") == 0) {
			if ((uint64_t)v > r->lim.max_ram)
				return bad(r, kv->col, "ram=%" PRId64 ": more than the %" PRIu64
					   " MiB allowed", v, r->lim.max_ram >> 20);
			if (v < (4 << 20) || v % (4 << 20))
				return bad(r, kv->col, "ram=%" PRId64 ": must be a multiple of 4M", v);
			c->ram_bytes = (uint64_t)v;
		} else if (strcmp(k, "paging") == 0) {
			if (v != 2 && v != 4 && v != 5)
				return bad(r, kv->col, "paging=%" PRId64 ": expected 2, 4 or 5 levels", v);
			c->paging = (enum mm_paging_mode)v;
		} else if (strcmp(k, "pcid") == 0) {
			if (!on_off(r, kv, &c->pcid))
				return false;
		} else if (strcmp(k, "zones") == 0) {
			if (!on_off(r, kv, &c->zones))
				return false;
		} else if (strcmp(k, "gbpages") == 0) {
			if (!on_off(r, kv, &c->gbpages))
				return false;
		} else if (strcmp(k, "dtlb") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_4k))
				return false;
		} else if (strcmp(k, "dtlb_large") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_large))
				return false;
		} else if (strcmp(k, "dtlb_1g") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_1g))
				return false;
		} else if (strcmp(k, "itlb") == 0) {
			if (!tlb_geom(r, kv, &c->itlb_4k))
				return false;
		} else if (strcmp(k, "itlb_large") == 0) {
			if (!tlb_geom(r, kv, &c->itlb_large))
				return false;
		} else if (strcmp(k, "stlb") == 0) {
			if (!tlb_geom(r, kv, &c->stlb))
				return false;
		} else if (strcmp(k, "tlb_ns") == 0) {
			c->lat.tlb_ns = (double)v;
		} else if (strcmp(k, "mem_ns") == 0) {
			c->lat.mem_ns = (double)v;
		} else if (strcmp(k, "disk_ns") == 0) {
			c->lat.disk_ns = (double)v;
		} else if (strcmp(k, "fault_ns") == 0) {
			c->lat.fault_ns = (double)v;
		} else if (strcmp(k, "stack_rlimit") == 0) {
			c->stack_rlimit = (uint64_t)v;
		} else if (strcmp(k, "stack_guard_gap") == 0) {
			c->stack_guard_gap = (uint64_t)v;
		} else if (strcmp(k, "mmap_min_addr") == 0) {
			c->mmap_min_addr = (uint64_t)v;
		} else if (strcmp(k, "reserve") == 0) {
			c->reserve_bytes = (uint64_t)v;
		} else if (strcmp(k, "swap") == 0) {
			if ((uint64_t)v > r->lim.max_swap)
				return bad(r, kv->col, "swap=%" PRId64 ": more than the %" PRIu64
					   " MiB allowed", v, r->lim.max_swap >> 20);
			if (v && (v % 4096 || v < 2 * 4096))
				return bad(r, kv->col, "swap=%" PRId64 ": a multiple of 4K, at least 8K "
					   "(one header page and one slot), or 0", v);
			c->swap_bytes = (uint64_t)v;
		} else if (strcmp(k, "swap_file") == 0) {
			if (!files_allowed(r))
				return false;
			c->swap_path = resolve(r, kv->word, r->swap_path, sizeof(r->swap_path));
			if (c->swap_path != r->swap_path) {
				snprintf(r->swap_path, sizeof(r->swap_path), "%s", c->swap_path);
				c->swap_path = r->swap_path;
			}
		} else if (strcmp(k, "reclaim") == 0) {
			bool on;
			if (!on_off(r, kv, &on))
				return false;
			c->no_reclaim = !on;
		} else if (strcmp(k, "policy") == 0) {
			c->reclaim_policy = kv->word;
		} else if (strcmp(k, "local") == 0) {
			if (!on_off(r, kv, &c->reclaim_local))
				return false;
		} else if (strcmp(k, "frame_limit") == 0) {
			c->frame_limit = (uint64_t)v;
		} else if (strcmp(k, "hz") == 0 || strcmp(k, "dirty_writeback") == 0 ||
			   strcmp(k, "dirty_expire") == 0 || strcmp(k, "policy_tick") == 0) {
			if (v > 1000000 || (k[0] == 'h' && v == 0))
				return bad(r, kv->col, "%s=%" PRId64 ": out of range (%s..1000000)", k, v,
					   k[0] == 'h' ? "1" : "0");
			unsigned int *f = k[0] == 'h' ? &c->hz
					: strcmp(k, "dirty_writeback") == 0 ? &c->dirty_writeback_centisecs
					: strcmp(k, "dirty_expire") == 0 ? &c->dirty_expire_centisecs
					: &c->policy_tick_centisecs;
			*f = (unsigned int)v;
		} else if (strcmp(k, "nr_hugepages") == 0) {
			if (v > (int64_t)r->lim.max_hugepages)
				return bad(r, kv->col, "nr_hugepages=%" PRId64 ": at most %u", v,
					   r->lim.max_hugepages);
			c->nr_hugepages = (unsigned)v;
		}
	}
	if (c->paging == MM_PAGING_2LEVEL && c->ram_bytes > ((uint64_t)4 << 30))
		return bad(r, st->col, "paging=2 machines have at most 4G of RAM");
	uint64_t huge = (uint64_t)c->nr_hugepages << (c->paging == MM_PAGING_2LEVEL ? 22 : 21);
	if (huge >= c->ram_bytes)
		return bad(r, st->col, "nr_hugepages=%u needs more RAM than the machine has",
			   c->nr_hugepages);
	if (c->reserve_bytes >= c->ram_bytes / 2)
		return bad(r, st->col, "reserve= must be less than half of the RAM");
	return boot(r);
}

/* ---- Processes -------------------------------------------------------------------------- */

static bool do_process(struct run *r, const struct sc_stmt *st)
{
	if (!boot(r) || !name_free(r, st->name))
		return false;
	int64_t sz[3] = { 64 << 10, 16 << 10, 16 << 10 };
	static const char *const what[3] = { "text", "data", "bss" };
	for (int i = 0; i < 3; i++)
		if (st->a[i] && !eval_range(r, st->a[i], 0, (int64_t)1 << 40, what[i], &sz[i]))
			return false;
	struct mm_task *t;
	int rc = mm_task_create(r->m, st->name, &t);
	if (rc)
		return refused(r, "cannot create process %s: %s", st->name, mm_strerror(rc));
	if (!st->on) {
		rc = mm_exec_synthetic(r->m, t, (uint64_t)sz[0], (uint64_t)sz[1], (uint64_t)sz[2]);
		if (rc) {
			mm_exit(r->m, t);
			return refused(r, "cannot lay out process %s: %s", st->name, mm_strerror(rc));
		}
	}
	if (!proc_add(r, st->name, t)) {
		mm_exit(r->m, t);
		return false;
	}
	strace_line(r, t, "started %s (pid %d)", st->name, mm_task_pid(t));
	return true;
}

static bool do_exec(struct run *r, const struct sc_stmt *st, struct mm_task *t)
{
	if (!files_allowed(r))
		return false;
	char buf[4096];
	const char *path = resolve(r, st->path, buf, sizeof(buf));
	const char *argv[65];
	for (int i = 0; i < st->argc && i < 64; i++)
		argv[i] = st->argv[i];
	argv[0] = path;
	argv[st->argc < 64 ? st->argc : 64] = NULL;
	static const char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	int rc = mm_execve(r->m, t, path, argv, envp);
	char eb[128];
	strace_line(r, t, "execve(\"%s\", ...) = %s", path, rc ? errtext(-rc, eb, sizeof(eb)) : "0");
	if (rc) {
		const char *why = mm_exec_error();
		if (rc == -MM_ENOMEM || rc == -MM_E2BIG) {
			/* past the point of no return: the process is gone, as Linux kills it */
			for (size_t i = 0; i < r->nprocs; i++)
				if (r->procs[i].t == t) {
					mm_exit(r->m, t);
					proc_remove(r, (int)i);
					break;
				}
		}
		if (st->try_)
			return var_set(r, "errno", -rc, false, false);
		return refused(r, "exec %s: %s%s%s", path, mm_strerror(rc), why[0] ? ": " : "", why);
	}
	return !st->try_ || var_set(r, "errno", 0, false, false);
}

static bool do_spawn(struct run *r, const struct sc_stmt *st)
{
	if (!files_allowed(r) || !boot(r) || !name_free(r, st->name))
		return false;
	struct mm_task *t;
	int rc = mm_task_create(r->m, st->name, &t);
	if (rc)
		return refused(r, "cannot create process %s: %s", st->name, mm_strerror(rc));
	if (!proc_add(r, st->name, t)) {
		mm_exit(r->m, t);
		return false;
	}
	size_t before = r->nprocs;
	if (!do_exec(r, st, t)) {
		if (r->nprocs == before) { /* still there: the exec changed nothing */
			int i = proc_find(r, st->name);
			if (i >= 0) {
				mm_exit(r->m, t);
				proc_remove(r, i);
			}
		}
		return false;
	}
	return true;
}

static bool do_fork(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t || !name_free(r, st->name))
		return false;
	struct mm_task *child;
	int rc = mm_fork(r->m, t, &child);
	char eb[128];
	if (rc) {
		strace_line(r, t, "fork() = %s", errtext(-rc, eb, sizeof(eb)));
		if (st->try_)
			return var_set(r, "errno", -rc, false, false);
		return refused(r, "fork failed: %s (%s)", mm_errname(-rc), mm_strerror(rc));
	}
	int cur = r->cur;
	if (!proc_add(r, st->name, child)) {
		mm_exit(r->m, child);
		return false;
	}
	r->cur = cur; /* the parent stays current */
	strace_line(r, t, "fork() = %d", mm_task_pid(child));
	return !st->try_ || var_set(r, "errno", 0, false, false);
}

static bool do_exit(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task_of(r, st->name ? st->name : st->proc);
	if (!t)
		return false;
	strace_line(r, t, "exit_group(0) = ?");
	for (size_t i = 0; i < r->nprocs; i++) {
		if (r->procs[i].t == t) {
			proc_remove(r, (int)i);
			break;
		}
	}
	mm_exit(r->m, t);
	return true;
}

/* ---- System calls ----------------------------------------------------------------------- */

/* The result of a system call: a value (>= 0) or -errno. */
static bool sys_result(struct run *r, const struct sc_stmt *st, int64_t rc, bool hex,
		       const char *name)
{
	if (rc < 0) {
		if (st->try_)
			return var_set(r, "errno", -rc, false, false);
		return refused(r, "%s failed: %s (%s)", name, mm_errname((int)-rc),
			       mm_strerror((int)-rc));
	}
	if (st->try_ && !var_set(r, "errno", 0, false, false))
		return false;
	if (st->var)
		return var_set(r, st->var, rc, hex, false);
	return true;
}

static void fmt_prot(char *buf, size_t len, int prot)
{
	if (!prot) {
		snprintf(buf, len, "PROT_NONE");
		return;
	}
	snprintf(buf, len, "%s%s%s%s%s", prot & MM_PROT_READ ? "PROT_READ" : "",
		 (prot & MM_PROT_READ) && (prot & (MM_PROT_WRITE | MM_PROT_EXEC)) ? "|" : "",
		 prot & MM_PROT_WRITE ? "PROT_WRITE" : "",
		 (prot & MM_PROT_WRITE) && (prot & MM_PROT_EXEC) ? "|" : "",
		 prot & MM_PROT_EXEC ? "PROT_EXEC" : "");
}

static void fmt_flags(char *buf, size_t len, int flags)
{
	static const struct { int v; const char *n; } names[] = {
		{ MM_MAP_FIXED, "MAP_FIXED" }, { MM_MAP_ANONYMOUS, "MAP_ANONYMOUS" },
		{ MM_MAP_GROWSDOWN, "MAP_GROWSDOWN" }, { MM_MAP_DENYWRITE, "MAP_DENYWRITE" },
		{ MM_MAP_EXECUTABLE, "MAP_EXECUTABLE" }, { MM_MAP_LOCKED, "MAP_LOCKED" },
		{ MM_MAP_NORESERVE, "MAP_NORESERVE" }, { MM_MAP_POPULATE, "MAP_POPULATE" },
		{ MM_MAP_NONBLOCK, "MAP_NONBLOCK" }, { MM_MAP_STACK, "MAP_STACK" },
		{ MM_MAP_HUGETLB, "MAP_HUGETLB" }, { MM_MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
	};
	int type = flags & MM_MAP_TYPE;
	size_t n = (size_t)snprintf(buf, len, "%s", type == MM_MAP_SHARED ? "MAP_SHARED"
					       : type == MM_MAP_PRIVATE ? "MAP_PRIVATE"
					       : type == MM_MAP_SHARED_VALIDATE ? "MAP_SHARED_VALIDATE"
					       : "0");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++)
		if (flags & names[i].v)
			n += (size_t)snprintf(buf + n, len - n, "|%s", names[i].n);
}

static bool do_mmap(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t)
		return false;
	int64_t len, addr = 0, off = 0, fd = -1;
	if (!eval(r, st->a[0], &len) || (st->addr && !eval(r, st->addr, &addr)) ||
	    (st->offset && !eval(r, st->offset, &off)) || (st->a[1] && !eval(r, st->a[1], &fd)))
		return false;
	bool own_fd = false;
	const char *path = NULL;
	char buf[4096];
	if (st->path) {
		if (!files_allowed(r))
			return false;
		path = resolve(r, st->path, buf, sizeof(buf));
		bool rw = (st->flags & MM_MAP_TYPE) != MM_MAP_PRIVATE && (st->prot & MM_PROT_WRITE);
		int rc = mm_open(r->m, t, path, rw ? MM_O_RDWR : MM_O_RDONLY);
		if (rc < 0)
			return refused(r, "mmap: cannot open %s: %s", path, mm_strerror(rc));
		fd = rc;
		own_fd = true;
	}
	int64_t rc = mm_do_mmap(r->m, t, (uint64_t)addr, (uint64_t)len, st->prot, st->flags,
				(int)fd, (uint64_t)off);
	if (own_fd)
		mm_close(r->m, t, (int)fd);
	if (r->strace) {
		char p[64], f[256], res[128], a[32];
		fmt_prot(p, sizeof(p), st->prot);
		fmt_flags(f, sizeof(f), st->flags);
		if (addr)
			snprintf(a, sizeof(a), "%#" PRIx64, (uint64_t)addr);
		else
			snprintf(a, sizeof(a), "NULL");
		if (rc < 0)
			errtext((int)-rc, res, sizeof(res));
		else
			snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc);
		strace_line(r, t, "mmap(%s, %" PRIu64 ", %s, %s, %d, %#" PRIx64 ") = %s%s%s", a,
			    (uint64_t)len, p, f, own_fd ? 3 : (int)fd, (uint64_t)off, res,
			    path ? "  # " : "", path ? st->path : "");
	}
	return sys_result(r, st, rc, true, "mmap");
}

static bool do_simple_sys(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t)
		return false;
	int64_t a = 0, b = 0, rc = 0;
	if ((st->a[0] && !eval(r, st->a[0], &a)) || (st->a[1] && !eval(r, st->a[1], &b)))
		return false;
	char res[128], p[64];
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (st->kind) {
	case ST_MUNMAP:
		rc = mm_do_munmap(r->m, t, ua, ub);
		strace_line(r, t, "munmap(%#" PRIx64 ", %" PRIu64 ") = %s", ua, ub,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "munmap");
	case ST_MPROTECT:
		rc = mm_do_mprotect(r->m, t, ua, ub, st->prot);
		fmt_prot(p, sizeof(p), st->prot);
		strace_line(r, t, "mprotect(%#" PRIx64 ", %" PRIu64 ", %s) = %s", ua, ub, p,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "mprotect");
	case ST_MADVISE:
		rc = mm_do_madvise(r->m, t, ua, ub, st->advice);
		strace_line(r, t, "madvise(%#" PRIx64 ", %" PRIu64 ", %d) = %s", ua, ub, st->advice,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "madvise");
	case ST_MSYNC:
		rc = mm_do_msync(r->m, t, ua, ub, st->flags);
		strace_line(r, t, "msync(%#" PRIx64 ", %" PRIu64 ", %s) = %s", ua, ub,
			    st->flags == MM_MS_SYNC ? "MS_SYNC" : st->flags == MM_MS_ASYNC ? "MS_ASYNC"
										: "flags",
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "msync");
	case ST_BRK: {
		uint64_t want = st->a[0] ? ua : 0;
		uint64_t got = mm_do_brk(r->m, t, want);
		strace_line(r, t, "brk(%#" PRIx64 ") = %#" PRIx64, want, got);
		if (st->a[0] && got != want)
			return sys_result(r, st, -MM_ENOMEM, true, "brk");
		return sys_result(r, st, (int64_t)got, true, "brk");
	}
	case ST_SBRK:
		rc = mm_sbrk(r->m, t, a);
		strace_line(r, t, "sbrk(%" PRId64 ") = %s", a,
			    rc < 0 ? errtext((int)-rc, res, sizeof(res))
				   : (snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc), res));
		return sys_result(r, st, rc, true, "sbrk");
	case ST_CLOSE:
		if (a < 0 || a > INT32_MAX)
			return sys_result(r, st, -MM_EBADF, false, "close");
		rc = mm_close(r->m, t, (int)a);
		strace_line(r, t, "close(%d) = %s", (int)a,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "close");
	case ST_SHMDT:
		rc = mm_shmdt(r->m, t, ua);
		strace_line(r, t, "shmdt(%#" PRIx64 ") = %s", ua,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "shmdt");
	case ST_SHMRM:
		if (a < 0 || a > INT32_MAX)
			return sys_result(r, st, -MM_EINVAL, false, "shmctl");
		rc = mm_shmctl(r->m, t, (int)a, MM_IPC_RMID, NULL);
		strace_line(r, t, "shmctl(%d, IPC_RMID, NULL) = %s", (int)a,
			    rc ? errtext((int)-rc, res, sizeof(res)) : "0");
		return sys_result(r, st, rc, false, "shmctl");
	default:
		return bad(r, st->col, "internal: not a simple system call");
	}
}

static bool do_open(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t || !files_allowed(r))
		return false;
	char buf[4096], res[128];
	const char *path = resolve(r, st->path, buf, sizeof(buf));
	int rc = mm_open(r->m, t, path, st->flags);
	strace_line(r, t, "open(\"%s\", %s) = %s", st->path,
		    st->flags == MM_O_RDWR ? "O_RDWR" : "O_RDONLY",
		    rc < 0 ? errtext(-rc, res, sizeof(res)) : (snprintf(res, sizeof(res), "%d", rc), res));
	return sys_result(r, st, rc, false, "open");
}

static bool do_shm(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t)
		return false;
	char res[128];
	int64_t a = 0, b = 0;
	if ((st->a[0] && !eval(r, st->a[0], &a)) || (st->a[1] && !eval(r, st->a[1], &b)))
		return false;
	if (st->kind == ST_SHMGET) {
		if (!st->on && (a < 1 || a > INT32_MAX))
			return bad(r, st->a[0]->col, "shmget: key %" PRId64 " out of range "
				   "(1..2147483647, or private)", a);
		int32_t key = st->on ? MM_IPC_PRIVATE : (int32_t)a;
		int rc = mm_shmget(r->m, t, key, (uint64_t)b, st->shmflg | 0600);
		char k[32];
		if (st->on)
			snprintf(k, sizeof(k), "IPC_PRIVATE");
		else
			snprintf(k, sizeof(k), "%#x", (unsigned)key);
		strace_line(r, t, "shmget(%s, %" PRIu64 ", %s%s) = %s", k, (uint64_t)b,
			    st->shmflg & MM_IPC_CREAT ? "IPC_CREAT|" : "",
			    st->shmflg & MM_IPC_EXCL ? "IPC_EXCL|0600" : "0600",
			    rc < 0 ? errtext(-rc, res, sizeof(res))
				   : (snprintf(res, sizeof(res), "%d", rc), res));
		return sys_result(r, st, rc, false, "shmget");
	}
	if (a < 0 || a > INT32_MAX)
		return sys_result(r, st, -MM_EINVAL, true, "shmat");
	int64_t rc = mm_shmat(r->m, t, (int)a, (uint64_t)b, st->shmflg);
	char at[32];
	if (b)
		snprintf(at, sizeof(at), "%#" PRIx64, (uint64_t)b);
	else
		snprintf(at, sizeof(at), "NULL");
	strace_line(r, t, "shmat(%d, %s, %s) = %s", (int)a, at,
		    st->shmflg & MM_SHM_RDONLY ? "SHM_RDONLY" : "0",
		    rc < 0 ? errtext((int)-rc, res, sizeof(res))
			   : (snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc), res));
	return sys_result(r, st, rc, true, "shmat");
}

static bool do_tmpfile(struct run *r, const struct sc_stmt *st)
{
	if (!files_allowed(r))
		return false;
	int64_t size, fill = 0;
	if (!eval_range(r, st->a[0], 0, (int64_t)r->lim.max_file_bytes, "tmpfile size", &size) ||
	    (st->fill && !eval_range(r, st->fill, 0, 255, "fill byte", &fill)))
		return false;
	size_t i;
	for (i = 0; i < r->ntmp; i++)
		if (strcmp(r->tmp[i].name, st->name) == 0)
			break;
	if (i == r->ntmp && r->ntmp == SC_MAX_TMPFILES)
		return bad(r, st->col, "more than %d tmpfiles", SC_MAX_TMPFILES);
	if (!r->tmpdir) {
		const char *base = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/mmsim-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmpl))
			return status_fail(r, SC_IO, "tmpfile: cannot create a directory %s: %s", tmpl,
					   strerror(errno));
		if (!(r->tmpdir = strdup(tmpl)))
			return nomem(r);
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", r->tmpdir, st->name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return status_fail(r, SC_IO, "tmpfile: cannot create %s: %s", path, strerror(errno));
	uint8_t block[4096];
	memset(block, (int)fill, sizeof(block));
	for (int64_t done = 0; done < size;) {
		size_t n = (size_t)(size - done < 4096 ? size - done : 4096);
		ssize_t w = write(fd, block, n);
		if (w <= 0) {
			int e = errno;
			close(fd);
			return status_fail(r, SC_IO, "tmpfile: cannot write %s: %s", path, strerror(e));
		}
		done += w;
	}
	close(fd);
	if (i == r->ntmp) {
		if (!(r->tmp[i].path = strdup(path)))
			return nomem(r);
		snprintf(r->tmp[i].name, sizeof(r->tmp[i].name), "%s", st->name);
		r->ntmp++;
	}
	return true;
}

/* ---- Accesses --------------------------------------------------------------------------- */

static const char *access_word(int kind)
{
	return kind == MM_ACCESS_WRITE ? "write" : kind == MM_ACCESS_READ ? "read" : "fetch";
}

/* One access of len bytes (buf holds the data of a write). */
static bool one_access(struct run *r, struct mm_task *t, uint64_t va, uint8_t *buf, size_t len,
		       int kind)
{
	if (!step(r))
		return false;
	int rc = mm_access(r->m, t, va, buf, len, (enum mm_access_kind)kind);
	if (rc)
		return access_failed(r, t, access_word(kind), va, rc);
	return true;
}

static bool do_access(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t)
		return false;
	int64_t addr, len = 1, size = 1, value = 0;
	if (!eval(r, st->a[0], &addr))
		return false;
	if (st->try_ && !var_set(r, "errno", 0, false, false))
		return false;
	if (st->pattern == PAT_ONE) {
		if (st->data) {
			uint8_t *d = malloc(st->datalen);
			if (!d)
				return nomem(r);
			memcpy(d, st->data, st->datalen);
			bool ok = one_access(r, t, (uint64_t)addr, d, st->datalen, st->access);
			free(d);
			return ok;
		}
		if (st->access == MM_ACCESS_WRITE) {
			if (st->size && !eval_range(r, st->size, 1, 8, "size", &size))
				return false;
			if (size != 1 && size != 2 && size != 4 && size != 8)
				return bad(r, st->size->col, "size %" PRId64 ": a write of a number is "
					   "1, 2, 4 or 8 bytes", size);
			if (!eval(r, st->value, &value))
				return false;
			if (size < 8 && (value >= (int64_t)1 << (8 * size) ||
					 value < -((int64_t)1 << (8 * size - 1))))
				return bad(r, st->value->col, "value %" PRId64 " does not fit in %" PRId64
					   " byte%s (size=N)", value, size, size > 1 ? "s" : "");
			uint8_t b[8];
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)((uint64_t)value >> (8 * i));
			return one_access(r, t, (uint64_t)addr, b, (size_t)size, st->access);
		}
		const struct sc_expr *le = st->a[1] ? st->a[1] : st->size;
		if (le && !eval_range(r, le, 1, (int64_t)SC_MAX_ACCESS, "length", &len))
			return false;
		uint8_t *b = calloc(1, (size_t)len);
		if (!b)
			return nomem(r);
		bool ok = one_access(r, t, (uint64_t)addr, b, (size_t)len, st->access);
		free(b);
		return ok;
	}
	/* patterns */
	int64_t step_ = 4096, count, seed = 1;
	if (!eval_range(r, st->a[1], 1, INT64_MAX, "length", &len) ||
	    (st->step && !eval_range(r, st->step, 1, INT64_MAX, "step", &step_)) ||
	    (st->size && !eval_range(r, st->size, 1, 4096, "size", &size)) ||
	    (st->seed && !eval(r, st->seed, &seed)))
		return false;
	if (st->access == MM_ACCESS_WRITE) {
		value = 1;
		if (st->value && !eval_range(r, st->value, 0, 255, "value", &value))
			return false;
	}
	uint64_t slots = (uint64_t)((len + step_ - 1) / step_);
	if (st->pattern == PAT_SEQ)
		count = (int64_t)slots;
	else if (!eval_range(r, st->count, 0, INT64_MAX, "count", &count))
		return false;
	uint8_t buf[4096];
	struct mm_rng rng;
	struct mm_zipf z;
	mm_rng_seed(&rng, (uint64_t)seed);
	if (st->pattern == PAT_ZIPF)
		mm_zipf_init(&z, slots, st->alpha);
	for (int64_t i = 0; i < count; i++) {
		uint64_t slot;
		if (st->pattern == PAT_SEQ)
			slot = (uint64_t)i;
		else if (st->pattern == PAT_RANDOM)
			slot = mm_rng_below(&rng, slots);
		else
			slot = mm_zipf_draw(&z, &rng);
		uint64_t va = (uint64_t)addr + slot * (uint64_t)step_;
		memset(buf, (int)value, (size_t)size);
		if (!one_access(r, t, va, buf, (size_t)size, st->access) || r->stop)
			return false;
		if (st->try_) {
			struct var *e = var_find(r, "errno");
			if (e && e->v)
				return true; /* stop at the first fault, recorded */
		}
	}
	return true;
}

static bool do_fill(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = task(r);
	if (!t)
		return false;
	int64_t addr, len, value;
	if (!eval(r, st->a[0], &addr) || !eval_range(r, st->a[1], 0, INT64_MAX, "length", &len) ||
	    !eval_range(r, st->value, 0, 255, "value", &value))
		return false;
	if (st->try_ && !var_set(r, "errno", 0, false, false))
		return false;
	uint8_t buf[4096];
	memset(buf, (int)value, sizeof(buf));
	uint64_t va = (uint64_t)addr, end = va + (uint64_t)len;
	while (va < end) {
		uint64_t n = 4096 - (va & 4095);
		if (n > end - va)
			n = end - va;
		if (!one_access(r, t, va, buf, n, MM_ACCESS_WRITE) || r->stop)
			return false;
		struct var *e = st->try_ ? var_find(r, "errno") : NULL;
		if (e && e->v)
			return true;
		va += n;
	}
	return true;
}

/* ---- show, expect, echo ---------------------------------------------------------------------- */

static bool do_show(struct run *r, const struct sc_stmt *st)
{
	bool per, takes;
	sc_view_known(st->name, &per, &takes);
	struct mm_task *t = NULL;
	if (per) {
		if (!(t = task_of(r, st->path ? st->path : st->proc)))
			return false;
	} else if (!boot(r)) {
		return false;
	}
	int64_t arg = 0;
	if (takes && !eval(r, st->a[0], &arg))
		return false;
	char *text = sc_view_text(r->m, t, st->name, (uint64_t)arg);
	if (!text)
		return nomem(r);
	char prompt[128];
	int pid = t ? mm_task_pid(t) : 0;
	sc_view_prompt(prompt, sizeof(prompt), st->name, pid, (uint64_t)arg);
	if (r->sink->view) {
		struct sc_where w = where(r);
		r->sink->view(r->sink->ctx, &w, prompt, st->name, pid, text);
	}
	free(text);
	return true;
}

static void fmt_value(char *buf, size_t len, int64_t v)
{
	if (v > 9 || v < -9)
		snprintf(buf, len, "%" PRId64 " = %#" PRIx64, v, (uint64_t)v);
	else
		snprintf(buf, len, "%" PRId64, v);
}

static bool do_expect(struct run *r, const struct sc_stmt *st)
{
	int64_t a, b;
	if (!eval(r, st->a[0], &a) || !eval(r, st->a[1], &b))
		return false;
	bool ok;
	switch (st->cmp) {
	case CMP_EQ: ok = a == b; break;
	case CMP_NE: ok = a != b; break;
	case CMP_LT: ok = a < b; break;
	case CMP_LE: ok = a <= b; break;
	case CMP_GT: ok = a > b; break;
	default: ok = a >= b; break;
	}
	r->res->expects++;
	char msg[1024] = "";
	if (!ok) {
		r->res->expects_failed++;
		r->res->status = SC_FAILED;
		char ga[64], gb[64];
		fmt_value(ga, sizeof(ga), a);
		fmt_value(gb, sizeof(gb), b);
		if (st->a[1]->op == EX_NUM)
			snprintf(msg, sizeof(msg), "expect failed: %s (got %s)", st->text, ga);
		else
			snprintf(msg, sizeof(msg), "expect failed: %s (got %s; right side %s)", st->text,
				 ga, gb);
	}
	if (r->sink->expect) {
		struct sc_where w = where(r);
		r->sink->expect(r->sink->ctx, &w, st->text, ok, a, b, ok ? NULL : msg);
	}
	return true;
}

/* echo text with $NAME / ${NAME} replaced by values, $(EXPR) by its value */
static bool do_echo(struct run *r, const struct sc_stmt *st)
{
	size_t cap = 256, n = 0;
	char *out = malloc(cap);
	if (!out)
		return nomem(r);
	for (const struct sc_seg *g = st->segs; g; g = g->next) {
	if (g->e) {
		int64_t v;
		if (!eval(r, g->e, &v)) {
			free(out);
			return false;
		}
		if (n + 48 >= cap) {
			cap *= 2;
			char *no = realloc(out, cap);
			if (!no) {
				free(out);
				return nomem(r);
			}
			out = no;
		}
		n += (size_t)snprintf(out + n, cap - n, "%" PRId64, v);
		continue;
	}
	const char *s = g->text;
	while (*s) {
		if (n + 48 >= cap) {
			cap *= 2;
			char *no = realloc(out, cap);
			if (!no) {
				free(out);
				return nomem(r);
			}
			out = no;
		}
		if (*s == '$' && (s[1] == '{' || s[1] == '_' || (s[1] >= 'a' && s[1] <= 'z') ||
				  (s[1] >= 'A' && s[1] <= 'Z'))) {
			bool brace = s[1] == '{';
			const char *b = s + 1 + brace, *e = b;
			while (*e == '_' || (*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
			       (*e >= '0' && *e <= '9'))
				e++;
			char name[64];
			if (e == b || e - b >= 64 || (brace && *e != '}')) {
				out[n++] = *s++;
				continue;
			}
			memcpy(name, b, (size_t)(e - b));
			name[e - b] = 0;
			struct var *v = var_find(r, name);
			if (!v) {
				free(out);
				return bad(r, 0, "echo: variable $%s is not set", name);
			}
			n += (size_t)snprintf(out + n, cap - n, v->hex ? "%#" PRIx64 : "%" PRId64,
					      v->v);
			s = e + brace;
			continue;
		}
		out[n++] = *s++;
	}
	}
	out[n] = 0;
	if (r->sink->echo) {
		struct sc_where w = where(r);
		r->sink->echo(r->sink->ctx, &w, out);
	}
	free(out);
	return true;
}

/* ---- The statement loop --------------------------------------------------------------------- */

static bool exec_list(struct run *r, const struct sc_stmt *st, bool top);

static bool exec_one(struct run *r, const struct sc_stmt *st)
{
	r->st = st;
	if (!step(r))
		return false;
	switch (st->kind) {
	case ST_MACHINE: return do_machine(r, st);
	case ST_PROCESS: return do_process(r, st);
	case ST_SPAWN: return do_spawn(r, st);
	case ST_SWITCH: {
		struct mm_task *t = task_of(r, st->name);
		if (!t)
			return false;
		r->cur = proc_find(r, st->name);
		mm_context_switch(r->m, t);
		return true;
	}
	case ST_FORK: return do_fork(r, st);
	case ST_EXEC: {
		struct mm_task *t = task(r);
		return t && do_exec(r, st, t);
	}
	case ST_EXIT: return do_exit(r, st);
	case ST_MMAP: return do_mmap(r, st);
	case ST_MUNMAP:
	case ST_MPROTECT:
	case ST_BRK:
	case ST_SBRK:
	case ST_MADVISE:
	case ST_MSYNC:
	case ST_CLOSE:
	case ST_SHMDT:
	case ST_SHMRM:
		return do_simple_sys(r, st);
	case ST_OPEN: return do_open(r, st);
	case ST_SHMGET:
	case ST_SHMAT:
		return do_shm(r, st);
	case ST_DROP_CACHES:
		if (!boot(r))
			return false;
		mm_machine_drop_caches(r->m);
		return true;
	case ST_TMPFILE: return do_tmpfile(r, st);
	case ST_ACCESS: return do_access(r, st);
	case ST_FILL: return do_fill(r, st);
	case ST_REPEAT: {
		int64_t n;
		if (!eval_range(r, st->a[0], 0, 1000000000, "repeat count", &n))
			return false;
		for (int64_t i = 0; i < n; i++)
			if (!exec_list(r, st->body, false))
				return false;
		return true;
	}
	case ST_TICK: {
		int64_t n = 1;
		if (st->a[0] && !eval_range(r, st->a[0], 0, 1000000000, "tick count", &n))
			return false;
		if (!boot(r))
			return false;
		mm_machine_tick(r->m, (uint64_t)n);
		return true;
	}
	case ST_RECLAIM: {
		int64_t n;
		if (!boot(r) || !eval_range(r, st->a[0], 0, INT64_MAX, "page count", &n))
			return false;
		uint64_t got = mm_machine_reclaim(r->m, (uint64_t)n);
		return var_set(r, "reclaimed", (int64_t)got, false, false);
	}
	case ST_SYNC: {
		if (!boot(r))
			return false;
		int rc = mm_machine_sync(r->m);
		return sys_result(r, st, rc, false, "sync");
	}
	case ST_FRAME_LIMIT: {
		struct mm_task *t = task(r);
		int64_t n;
		if (!t || !eval_range(r, st->a[0], 0, INT64_MAX, "frame limit", &n))
			return false;
		int rc = mm_task_set_frame_limit(r->m, t, (uint64_t)n);
		if (rc == -MM_EINVAL && !st->try_)
			return bad(r, st->col, "frame_limit: the machine has no reclaim (reclaim=off)");
		return sys_result(r, st, rc, false, "frame_limit");
	}
	case ST_SWAP_FAIL: {
		int64_t n = 0;
		if (!boot(r) || (st->a[0] && !eval_range(r, st->a[0], 0, INT64_MAX, "count", &n)))
			return false;
		mm_machine_swap_fail_after(r->m, st->on ? MM_SWAP_FAIL_NEVER : (uint64_t)n);
		return true;
	}
	case ST_SHOW: return do_show(r, st);
	case ST_EXPECT: return do_expect(r, st);
	case ST_CHECK:
		if (!boot(r))
			return false;
		if (mm_machine_check(r->m))
			return refused(r, "machine check failed (details above)");
		return true;
	case ST_LET:
	case ST_PARAM: {
		struct var *v = var_find(r, st->name);
		if (st->kind == ST_PARAM && v && v->fixed)
			return true;
		int64_t x;
		if (!eval(r, st->a[0], &x))
			return false;
		return var_set(r, st->name, x, st->a[0]->op == EX_VAR && v && v->hex, false);
	}
	case ST_ECHO: return do_echo(r, st);
	case ST_SECTION:
		if (r->sink->section) {
			struct sc_where w = where(r);
			r->sink->section(r->sink->ctx, &w, st->text);
		}
		return true;
	case ST_STRACE:
		r->strace = st->on;
		return true;
	case ST_OOM_ADJ: {
		struct mm_task *t = task(r);
		int64_t v;
		if (!t || !eval_range(r, st->a[0], MM_OOM_SCORE_ADJ_MIN, MM_OOM_SCORE_ADJ_MAX,
				      "oom_score_adj", &v))
			return false;
		int rc = mm_task_set_oom_score_adj(t, (int)v);
		strace_line(r, t, "write(/proc/%d/oom_score_adj, \"%d\") = %s", mm_task_pid(t), (int)v,
			    rc ? "-1 ESRCH (No such process)" : "0");
		return sys_result(r, st, rc, false, "oom_score_adj");
	}
	}
	return bad(r, st->col, "internal: unknown statement");
}

static void sample(struct run *r)
{
	if (!r->m || !r->sink->step)
		return;
	struct mm_meminfo mi;
	mm_machine_meminfo(r->m, &mi);
	struct sc_sample s = {
		.step = r->top_steps, .free = mi.free_pages, .anon = mi.anon_pages,
		.cached = mi.cached_pages, .shmem = mi.shmem_pages, .pagetables = mi.pagetable_pages,
		.slab = mi.slab_pages, .total = mi.total_pages,
	};
	struct mm_swap_info si;
	mm_machine_swap_info(r->m, &si);
	s.swap_used = si.total_pages - si.free_pages;
	r->sink->step(r->sink->ctx, r->m, &s);
}

static bool exec_list(struct run *r, const struct sc_stmt *st, bool top)
{
	for (; st; st = st->next) {
		bool ok = exec_one(r, st);
		r->st = st;
		if (ok && r->o->check && r->m && mm_machine_check(r->m))
			ok = refused(r, "machine check failed after this statement (details above)");
		if (!ok || r->stop)
			return false;
		if (top) {
			r->top_steps++;
			sample(r);
		}
	}
	return true;
}

/* ---- Entry point ------------------------------------------------------------------------------ */

static bool apply_defines(struct run *r)
{
	for (size_t i = 0; i < r->o->ndefs; i++) {
		const struct sc_define *d = &r->o->defs[i];
		char src[512];
		int n = snprintf(src, sizeof(src), "let %s = %s", d->name, d->value);
		if (n < 0 || (size_t)n >= sizeof(src))
			return status_fail(r, SC_BADINPUT, "-D %s: too long", d->name);
		struct sc_script *s;
		struct sc_result pr;
		struct sc_limits lim = r->lim;
		lim.allow_files = false;
		if (sc_parse_buffer("-D", src, (size_t)n, &lim, &s, &pr)) {
			const char *why = strstr(pr.msg, ": "); /* after "-D:1:COL" */
			return status_fail(r, pr.status, "-D %s=%s: %s", d->name, d->value,
					   why ? why + 2 : pr.msg);
		}
		const struct sc_stmt *st = s->first;
		int64_t v = 0;
		const struct sc_script *outer = r->s;
		r->s = s;
		r->st = st;
		bool ok = st && st->kind == ST_LET && !st->next && eval(r, st->a[0], &v);
		r->s = outer;
		r->st = NULL;
		sc_script_free(s);
		if (!ok) {
			if (!r->stop)
				status_fail(r, SC_BADINPUT, "-D %s=%s: not a NAME=VALUE", d->name, d->value);
			return false;
		}
		if (!var_set(r, d->name, v, false, true))
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
		exec_list(&r, s->first, true);
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
