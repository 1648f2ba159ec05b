/* scenario_expr.c — names and expressions of the scenario language.
 *
 * Expressions are integers (64-bit, wrapping) built from numbers with
 * K/M/G/T suffixes, hex and binary, 'c' characters, $variables, counter,
 * view-row and per-process names, - + * / %, parentheses and `read ADDR`.
 * Names are resolved here, so a misspelt counter is a parse error with a
 * hint; view rows (meminfo.X) and variables are looked up when the script
 * runs. Nesting is bounded (SC_MAX_EXPR).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/sim.h"
#include "scenario_parser.h"

/* ---- Names -------------------------------------------------------------- */

const char *const sc_ctr_names[SC_NCTR] = {
	[CTR_ACCESSES] = "accesses",
	[CTR_DTLB_HITS] = "dtlb_hits",
	[CTR_ITLB_HITS] = "itlb_hits",
	[CTR_STLB_HITS] = "stlb_hits",
	[CTR_TLB_MISSES] = "tlb_misses",
	[CTR_WALK_REFS] = "walk_refs",
	[CTR_DIRTY_WALKS] = "dirty_walks",
	[CTR_MINFLT] = "minflt",
	[CTR_MAJFLT] = "majflt",
	[CTR_COW_COPIES] = "cow_copies",
	[CTR_COW_REUSES] = "cow_reuses",
	[CTR_ZERO_MAPS] = "zero_maps",
	[CTR_SEGV] = "segv",
	[CTR_TLB_FLUSHES] = "tlb_flushes",
	[CTR_TLB_HITS] = "tlb_hits",
	[CTR_FAULTS] = "faults",
};

const char *const sc_tlbstat_names[SC_NTLBSTAT] = {
	[TLB_CR3_LOADS] = "cr3_loads",           [TLB_FULL_FLUSHES] = "full_flushes",
	[TLB_PCID_FLUSHES] = "pcid_flushes",     [TLB_INVLPG] = "invlpg",
	[TLB_GLOBAL_FLUSHES] = "global_flushes", [TLB_SHOOTDOWNS] = "shootdowns",
};

const char *const sc_swapstat_names[SC_NSWAPSTAT] = {
	[SW_TOTAL] = "total",
	[SW_FREE] = "free",
	[SW_USED] = "used",
	[SW_CACHED] = "cached",
	[SW_PSWPIN] = "pswpin",
	[SW_PSWPOUT] = "pswpout",
	[SW_WRITE_ERRORS] = "write_errors",
	[SW_FULL_EVENTS] = "full_events",
};

const char *const sc_rstat_names[SC_NRSTAT] = {
	[RS_PGSCAN_KSWAPD] = "pgscan_kswapd",   [RS_PGSCAN_DIRECT] = "pgscan_direct",
	[RS_PGSTEAL_KSWAPD] = "pgsteal_kswapd", [RS_PGSTEAL_DIRECT] = "pgsteal_direct",
	[RS_PGSTEAL_FILE] = "pgsteal_file",     [RS_PGSTEAL_ANON] = "pgsteal_anon",
	[RS_PGACTIVATE] = "pgactivate",         [RS_PGDEACTIVATE] = "pgdeactivate",
	[RS_PGROTATED] = "pgrotated",           [RS_PAGEOUTRUN] = "pageoutrun",
	[RS_ALLOCSTALL] = "allocstall",         [RS_KSWAPD_WAKEUPS] = "kswapd_wakeups",
	[RS_FILE_WRITEBACK] = "file_writeback", [RS_FLUSHER_WRITEBACK] = "flusher_writeback",
	[RS_LOCAL_RECLAIMS] = "local_reclaims", [RS_SLAB_SHRINKS] = "slab_shrinks",
	[RS_NR_ACTIVE_ANON] = "nr_active_anon", [RS_NR_INACTIVE_ANON] = "nr_inactive_anon",
	[RS_NR_ACTIVE_FILE] = "nr_active_file", [RS_NR_INACTIVE_FILE] = "nr_inactive_file",
	[RS_NR_UNEVICTABLE] = "nr_unevictable", [RS_KSWAPD_AWAKE] = "kswapd_awake",
};

/* Per-process names besides the counters (EX_OOM's num). */
static const char *const proc_names[] = { "oom_score", "oom_score_adj", "killed", "frames" };
#define NPROC_NAMES 4

struct sc_const {
	const char *name;
	int64_t v;
};

static const struct sc_const consts[] = {
	{ "EPERM", MM_EPERM },
	{ "ENOENT", MM_ENOENT },
	{ "EIO", MM_EIO },
	{ "ENOEXEC", MM_ENOEXEC },
	{ "EBADF", MM_EBADF },
	{ "EAGAIN", MM_EAGAIN },
	{ "ENOMEM", MM_ENOMEM },
	{ "EACCES", MM_EACCES },
	{ "EFAULT", MM_EFAULT },
	{ "EBUSY", MM_EBUSY },
	{ "EEXIST", MM_EEXIST },
	{ "EINVAL", MM_EINVAL },
	{ "EMFILE", MM_EMFILE },
	{ "EFBIG", MM_EFBIG },
	{ "ENOSPC", MM_ENOSPC },
	{ "E2BIG", 7 },
	{ "SIGSEGV", MM_SIGSEGV },
	{ "SIGBUS", MM_SIGBUS },
	{ "SEGV_MAPERR", MM_SEGV_MAPERR },
	{ "SEGV_ACCERR", MM_SEGV_ACCERR },
	{ "BUS_ADRERR", MM_BUS_ADRERR },
	{ "SI_KERNEL", MM_SI_KERNEL },
	{ "PAGE_SIZE", 4096 },
	{ "SIGKILL", MM_SIGKILL },
	{ "ESRCH", MM_ESRCH },
};

/* Words of the views whose rows expect can read. */
static const char *const row_views[] = { "meminfo", "vmstat", "status" };

/* ---- Expressions -------------------------------------------------------- */

static struct sc_expr *sum(struct parser *ps);

static struct sc_expr *node(struct parser *ps, enum sc_ex_op op, const char *at)
{
	struct sc_expr *e = scp_palloc(ps, sizeof(*e));
	if (e) {
		e->op = op;
		e->col = scp_col_of(ps, at);
	}
	return e;
}

/* A number: decimal, 0x hex, 0b binary, with an optional K/M/G/T suffix
 * (binary: 2^10...). */
static bool number(struct parser *ps, int64_t *out)
{
	const char *s = ps->p;
	int base = 10;
	const char *d = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		d = s + 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B') && (s[2] == '0' || s[2] == '1')) {
		base = 2;
		d = s + 2;
	}
	uint64_t v = 0;
	const char *q = d;
	for (;; q++) {
		int c = (unsigned char)*q, dv;
		if (c == '_' && q > d)
			continue;
		if (isdigit(c))
			dv = c - '0';
		else if (base == 16 && isxdigit(c))
			dv = tolower(c) - 'a' + 10;
		else
			break;
		if (dv >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)dv) / (uint64_t)base) {
			perr(ps, s, "number too large");
			return false;
		}
		v = v * (uint64_t)base + (uint64_t)dv;
	}
	if (q == d) {
		perr(ps, s, "expected a number");
		return false;
	}
	unsigned sh = 0;
	switch (*q) {
	case 'k':
	case 'K':
		sh = 10;
		break;
	case 'm':
	case 'M':
		sh = 20;
		break;
	case 'g':
	case 'G':
		sh = 30;
		break;
	case 't':
	case 'T':
		sh = 40;
		break;
	default:
		break;
	}
	if (sh) {
		q++;
		if (*q == 'i' && q[1] == 'B')
			q += 2;
		else if (*q == 'B')
			q++;
		if (v > (UINT64_MAX >> sh)) {
			perr(ps, s, "number too large");
			return false;
		}
		v <<= sh;
	}
	if (scp_is_id((unsigned char)*q)) {
		perr(ps, q, "unexpected '%c' after a number (suffixes: K M G T)", *q);
		return false;
	}
	if (v > (uint64_t)INT64_MAX && v != (uint64_t)INT64_MAX + 1 && base == 10) {
		perr(ps, s, "number too large");
		return false;
	}
	*out = (int64_t)v;
	ps->p = q;
	return true;
}

int scp_find_name(const char *w, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], w) == 0)
			return (int)i;
	return -1;
}

/* An identifier in an expression: a counter, pid, X.Y, a constant. */
static struct sc_expr *name_expr(struct parser *ps)
{
	char w[64];
	const char *at;
	if (!scp_ident(ps, w, sizeof(w), &at))
		return NULL;
	if (*ps->p == '.') {
		ps->p++;
		const char *fs = ps->p;
		while (scp_is_id((unsigned char)*ps->p))
			ps->p++;
		if (*ps->p == '(' && isalpha((unsigned char)ps->p[1])) { /* Active(anon) */
			const char *q = ps->p + 1;
			while (isalpha((unsigned char)*q))
				q++;
			if (*q == ')')
				ps->p = q + 1;
		}
		if (ps->p == fs) {
			perr(ps, fs, "expected a field name after '%s.'", w);
			return NULL;
		}
		const char *field = scp_pstrndup(ps, fs, (size_t)(ps->p - fs));
		if (!field)
			return NULL;
		struct sc_expr *e;
		if (strcmp(w, "machine") == 0) {
			int i = scp_find_name(field, sc_ctr_names, SC_NCTR);
			if (i < 0) {
				scp_unknown(ps, fs, "counter", field, sc_ctr_names, SC_NCTR);
				return NULL;
			}
			e = node(ps, EX_MCTR, at);
			if (e)
				e->num = i;
			return e;
		}
		if (strcmp(w, "swap") == 0 || strcmp(w, "reclaim") == 0) {
			bool sw = w[0] == 's';
			int i = sw ? scp_find_name(field, sc_swapstat_names, SC_NSWAPSTAT)
				   : scp_find_name(field, sc_rstat_names, SC_NRSTAT);
			if (i < 0) {
				if (sw)
					scp_unknown(ps, fs, "swap statistic", field,
						    sc_swapstat_names, SC_NSWAPSTAT);
				else
					scp_unknown(ps, fs, "reclaim statistic", field,
						    sc_rstat_names, SC_NRSTAT);
				return NULL;
			}
			e = node(ps, sw ? EX_SWAP : EX_RECLAIM, at);
			if (e)
				e->num = i;
			return e;
		}
		if (strcmp(w, "tlb") == 0) {
			int i = scp_find_name(field, sc_tlbstat_names, SC_NTLBSTAT);
			if (i < 0) {
				scp_unknown(ps, fs, "TLB statistic", field, sc_tlbstat_names,
					    SC_NTLBSTAT);
				return NULL;
			}
			e = node(ps, EX_TLB, at);
			if (e)
				e->num = i;
			return e;
		}
		if (scp_find_name(w, row_views, 3) < 0) {
			/* NAME.counter: a per-process name of another process */
			int ci = scp_find_name(field, sc_ctr_names, SC_NCTR);
			int oi = scp_find_name(field, proc_names, NPROC_NAMES);
			if (ci < 0 && oi < 0 && strcmp(field, "pid") != 0) {
				perr(ps, fs,
				     "'%s.%s': not a counter, pid, oom_score, oom_score_adj, "
				     "killed or frames of a process (or machine.X, tlb.X, swap.X, "
				     "reclaim.X, meminfo.X, vmstat.X, status.X)",
				     w, field);
				return NULL;
			}
			e = node(ps, ci >= 0 ? EX_CTR : oi >= 0 ? EX_OOM : EX_PID, at);
			if (e) {
				e->num = ci >= 0 ? ci : oi;
				e->name = scp_pstrndup(ps, w, strlen(w));
			}
			return e;
		}
		e = node(ps, EX_VIEW, at);
		if (e) {
			e->name = scp_pstrndup(ps, w, strlen(w));
			e->field = field;
		}
		return e;
	}
	int i = scp_find_name(w, sc_ctr_names, SC_NCTR);
	if (i >= 0) {
		struct sc_expr *e = node(ps, EX_CTR, at);
		if (e)
			e->num = i;
		return e;
	}
	if (strcmp(w, "pid") == 0)
		return node(ps, EX_PID, at);
	if (strcmp(w, "jiffies") == 0)
		return node(ps, EX_JIFFIES, at);
	int oi = scp_find_name(w, proc_names, NPROC_NAMES);
	if (oi >= 0) {
		struct sc_expr *e = node(ps, EX_OOM, at);
		if (e)
			e->num = oi;
		return e;
	}
	for (size_t k = 0; k < sizeof(consts) / sizeof(consts[0]); k++) {
		if (strcmp(consts[k].name, w) == 0) {
			struct sc_expr *e = node(ps, EX_NUM, at);
			if (e)
				e->num = consts[k].v;
			return e;
		}
	}
	const char *all[SC_NCTR + 1 + sizeof(consts) / sizeof(consts[0])];
	size_t n = 0;
	for (size_t k = 0; k < SC_NCTR; k++)
		all[n++] = sc_ctr_names[k];
	all[n++] = "pid";
	for (size_t k = 0; k < sizeof(consts) / sizeof(consts[0]); k++)
		all[n++] = consts[k].name;
	const char *h = scp_closest(w, all, n);
	if (h)
		perr(ps, at, "unknown name '%s' (did you mean '%s'? variables are written $%s)", w,
		     h, w);
	else
		perr(ps, at, "unknown name '%s' (variables are written $%s)", w, w);
	return NULL;
}

static struct sc_expr *unary(struct parser *ps);

static struct sc_expr *primary(struct parser *ps)
{
	scp_skip_ws(ps);
	const char *at = ps->p;
	char c = *at;
	if (isdigit((unsigned char)c)) {
		int64_t v;
		if (!number(ps, &v))
			return NULL;
		struct sc_expr *e = node(ps, EX_NUM, at);
		if (e)
			e->num = v;
		return e;
	}
	if (c == '\'') {
		if (at[1] && at[1] != '\\' && at[2] == '\'') {
			struct sc_expr *e = node(ps, EX_NUM, at);
			if (e)
				e->num = (unsigned char)at[1];
			ps->p = at + 3;
			return e;
		}
		perr(ps, at, "bad character literal (one character between quotes: 'A')");
		return NULL;
	}
	if (c == '$') {
		const char *s = at + 1;
		bool brace = *s == '{';
		if (brace)
			s++;
		const char *e = s;
		while (scp_is_id((unsigned char)*e))
			e++;
		if (e == s || !scp_is_id0((unsigned char)*s) || e - s > 63) {
			perr(ps, at, "expected a variable name after '$'");
			return NULL;
		}
		if (brace && *e != '}') {
			perr(ps, e, "expected '}' after ${%.*s", (int)(e - s), s);
			return NULL;
		}
		struct sc_expr *x = node(ps, EX_VAR, at);
		if (x)
			x->name = scp_pstrndup(ps, s, (size_t)(e - s));
		ps->p = e + brace;
		return x;
	}
	if (c == '(') {
		ps->p++;
		struct sc_expr *e = sum(ps);
		if (!e)
			return NULL;
		scp_skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, ps->p, "expected ')' to close the '(' at column %d",
			     scp_col_of(ps, at));
			return NULL;
		}
		ps->p++;
		return e;
	}
	if (scp_is_id0((unsigned char)c)) {
		static const struct {
			const char *w;
			unsigned width;
		} reads[] = {
			{ "read", 1 },   { "read8", 1 },  { "read16", 2 },
			{ "read32", 4 }, { "read64", 8 },
		};
		for (size_t k = 0; k < sizeof(reads) / sizeof(reads[0]); k++) {
			if (scp_keyword(ps, reads[k].w)) {
				struct sc_expr *e = node(ps, EX_READ, at);
				if (!e)
					return NULL;
				e->width = reads[k].width;
				e->a = sum(ps);
				return e->a ? e : NULL;
			}
		}
		return name_expr(ps);
	}
	if (c == 0 || c == '#')
		perr(ps, at, "expected an expression at the end of the line");
	else
		perr(ps, at, "expected an expression, found '%c'", c);
	return NULL;
}

static struct sc_expr *unary(struct parser *ps)
{
	if (++ps->edepth > SC_MAX_EXPR) {
		perr(ps, ps->p, "expression nested too deeply");
		return NULL;
	}
	scp_skip_ws(ps);
	struct sc_expr *r;
	if (*ps->p == '-') {
		const char *at = ps->p++;
		r = node(ps, EX_NEG, at);
		if (r && !(r->a = unary(ps)))
			r = NULL;
	} else if (*ps->p == '+') {
		ps->p++;
		r = unary(ps);
	} else {
		r = primary(ps);
	}
	ps->edepth--;
	return r;
}

static struct sc_expr *term(struct parser *ps)
{
	struct sc_expr *l = unary(ps);
	while (l) {
		scp_skip_ws(ps);
		const char *at = ps->p;
		enum sc_ex_op op;
		if (*at == '*')
			op = EX_MUL;
		else if (*at == '/')
			op = EX_DIV;
		else if (*at == '%')
			op = EX_MOD;
		else
			break;
		ps->p++;
		struct sc_expr *n = node(ps, op, at);
		if (!n)
			return NULL;
		n->a = l;
		if (!(n->b = unary(ps)))
			return NULL;
		l = n;
	}
	return l;
}

/* "---", "--x", "-w-", "-wx": a protection, not a subtraction */
static bool is_prot_word(const char *at)
{
	return (at[1] == '-' || at[1] == 'w') && (at[2] == '-' || at[2] == 'x') &&
	       (at[3] == 0 || at[3] == ' ' || at[3] == '\t' || at[3] == '#');
}

static struct sc_expr *sum(struct parser *ps)
{
	if (++ps->edepth > SC_MAX_EXPR) {
		perr(ps, ps->p, "expression nested too deeply");
		return NULL;
	}
	struct sc_expr *l = term(ps);
	while (l) {
		scp_skip_ws(ps);
		const char *at = ps->p;
		enum sc_ex_op op;
		if (*at == '+')
			op = EX_ADD;
		else if (*at == '-' && !is_prot_word(at))
			op = EX_SUB;
		else
			break;
		ps->p++;
		struct sc_expr *n = node(ps, op, at);
		if (!n) {
			l = NULL;
			break;
		}
		n->a = l;
		if (!(n->b = term(ps))) {
			l = NULL;
			break;
		}
		l = n;
	}
	ps->edepth--;
	return l;
}

struct sc_expr *scp_expr(struct parser *ps)
{
	ps->edepth = 0;
	return sum(ps);
}
