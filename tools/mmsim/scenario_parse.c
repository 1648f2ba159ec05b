/* scenario_parse.c — the parser of the scenario language.
 *
 * Line-oriented recursive descent: each line is one statement (or a comment,
 * or the `}` that closes a `repeat`), read through a cursor over a NUL-ended
 * copy of the line. Expressions are integers (64-bit, wrapping) built from
 * numbers with K/M/G/T suffixes, hex, 'c' characters, $variables, counter
 * and view names, - + * / %, parentheses and `read ADDR`. Includes are read
 * and parsed in place (relative to the including file). Everything is
 * checked here that can be without running: keywords, options, view names,
 * counter names, nesting, sizes of the input. The first error stops the
 * parse with "FILE:LINE:COL: reason".
 *
 * Bounds (struct sc_limits): the size of each file read, the include depth,
 * repeat nesting (SC_MAX_NEST) and the arena (SC_MAX_ARENA), so no input can
 * make the parser use unbounded memory or recurse without end.
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
#include "scenario_internal.h"

#define SC_MAX_NEST   32                 /* repeat inside repeat */
#define SC_MAX_EXPR   64                 /* parenthesis/unary depth */
#define SC_MAX_ARENA  ((size_t)256 << 20)
#define SC_MAX_ARGS   64                 /* spawn/exec arguments */
#define SC_MAX_REPEAT 1000000000LL       /* one repeat count */

/* ---- Arena ------------------------------------------------------------------------ */

void *sc_alloc(struct sc_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (n == 0)
		n = sizeof(max_align_t);
	struct sc_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		if (a->total + cap > SC_MAX_ARENA)
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
		a->total += cap;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *sc_strndup(struct sc_arena *a, const char *s, size_t n)
{
	char *d = sc_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void sc_arena_free(struct sc_arena *a)
{
	struct sc_chunk *c = a->head;
	while (c) {
		struct sc_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->total = 0;
}

/* ---- Names -------------------------------------------------------------------------- */

const char *const sc_ctr_names[SC_NCTR] = {
	[CTR_ACCESSES] = "accesses",       [CTR_DTLB_HITS] = "dtlb_hits",
	[CTR_ITLB_HITS] = "itlb_hits",     [CTR_STLB_HITS] = "stlb_hits",
	[CTR_TLB_MISSES] = "tlb_misses",   [CTR_WALK_REFS] = "walk_refs",
	[CTR_DIRTY_WALKS] = "dirty_walks", [CTR_MINFLT] = "minflt",
	[CTR_MAJFLT] = "majflt",           [CTR_COW_COPIES] = "cow_copies",
	[CTR_COW_REUSES] = "cow_reuses",   [CTR_ZERO_MAPS] = "zero_maps",
	[CTR_SEGV] = "segv",               [CTR_TLB_FLUSHES] = "tlb_flushes",
	[CTR_TLB_HITS] = "tlb_hits",       [CTR_FAULTS] = "faults",
};

const char *const sc_tlbstat_names[SC_NTLBSTAT] = {
	[TLB_CR3_LOADS] = "cr3_loads",     [TLB_FULL_FLUSHES] = "full_flushes",
	[TLB_PCID_FLUSHES] = "pcid_flushes", [TLB_INVLPG] = "invlpg",
	[TLB_GLOBAL_FLUSHES] = "global_flushes", [TLB_SHOOTDOWNS] = "shootdowns",
};

const char *const sc_swapstat_names[SC_NSWAPSTAT] = {
	[SW_TOTAL] = "total", [SW_FREE] = "free", [SW_USED] = "used", [SW_CACHED] = "cached",
	[SW_PSWPIN] = "pswpin", [SW_PSWPOUT] = "pswpout", [SW_WRITE_ERRORS] = "write_errors",
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
	{ "EPERM", MM_EPERM },   { "ENOENT", MM_ENOENT }, { "EIO", MM_EIO },
	{ "ENOEXEC", MM_ENOEXEC }, { "EBADF", MM_EBADF }, { "EAGAIN", MM_EAGAIN },
	{ "ENOMEM", MM_ENOMEM }, { "EACCES", MM_EACCES }, { "EFAULT", MM_EFAULT },
	{ "EBUSY", MM_EBUSY },   { "EEXIST", MM_EEXIST }, { "EINVAL", MM_EINVAL },
	{ "EMFILE", MM_EMFILE }, { "EFBIG", MM_EFBIG },   { "ENOSPC", MM_ENOSPC },
	{ "E2BIG", 7 },          { "SIGSEGV", MM_SIGSEGV }, { "SIGBUS", MM_SIGBUS },
	{ "SEGV_MAPERR", MM_SEGV_MAPERR }, { "SEGV_ACCERR", MM_SEGV_ACCERR },
	{ "BUS_ADRERR", MM_BUS_ADRERR }, { "SI_KERNEL", MM_SI_KERNEL },
	{ "PAGE_SIZE", 4096 },    { "SIGKILL", MM_SIGKILL }, { "ESRCH", MM_ESRCH },
};

/* Words of the views whose rows expect can read. */
static const char *const row_views[] = { "meminfo", "vmstat", "status" };

/* ---- Parser state ------------------------------------------------------------------------ */

struct src {
	const char *name;
	int file;
	char *buf;           /* the whole file, owned */
	size_t len, pos;
	int line;
};

struct parser {
	struct sc_script *s;
	struct sc_result *res;
	struct src *src;
	char *lbuf;          /* the current line, NUL-ended (malloc'ed) */
	size_t lcap;
	const char *p;       /* cursor in lbuf */
	int depth;           /* include depth */
	int nest;            /* repeat depth */
	int edepth;          /* expression depth */
	bool failed;
};

static int col_of(const struct parser *ps, const char *at)
{
	return (int)(at - ps->lbuf) + 1;
}

static void fail_status(struct parser *ps, int status, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_status(struct parser *ps, int status, const char *at, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = true;
	ps->res->status = status;
	char *m = ps->res->msg;
	size_t cap = sizeof(ps->res->msg);
	int n;
	if (ps->src && at)
		n = snprintf(m, cap, "%s:%d:%d: ", ps->src->name, ps->src->line, col_of(ps, at));
	else if (ps->src)
		n = snprintf(m, cap, "%s:%d: ", ps->src->name, ps->src->line);
	else
		n = 0;
	if (n < 0 || (size_t)n >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

#define perr(ps, at, ...) fail_status(ps, SC_BADINPUT, at, __VA_ARGS__)

static void *palloc(struct parser *ps, size_t n)
{
	void *p = sc_alloc(&ps->s->arena, n);
	if (!p)
		fail_status(ps, SC_NOMEM, NULL, "out of memory (the scenario is too large)");
	return p;
}

static const char *pstrndup(struct parser *ps, const char *s, size_t n)
{
	char *d = sc_strndup(&ps->s->arena, s, n);
	if (!d)
		fail_status(ps, SC_NOMEM, NULL, "out of memory (the scenario is too large)");
	return d;
}

/* The closest word, for hints (edit distance <= 2 or a prefix). */
static size_t edit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t prev[41], cur[41];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

static const char *closest(const char *w, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t bd = 3;
	for (size_t i = 0; i < n; i++) {
		if (!words[i])
			continue;
		size_t d = edit(w, words[i]);
		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* "unknown X 'w'" with a hint */
static void unknown(struct parser *ps, const char *at, const char *what, const char *w,
		    const char *const *words, size_t n)
{
	const char *h = closest(w, words, n);
	if (h)
		perr(ps, at, "unknown %s '%s' (did you mean '%s'?)", what, w, h);
	else
		perr(ps, at, "unknown %s '%s'", what, w);
}

/* ---- Lexing on the current line ---------------------------------------------------------------- */

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static bool at_eol(struct parser *ps)
{
	skip_ws(ps);
	return *ps->p == 0 || *ps->p == '#';
}

static bool is_id0(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_id(int c)
{
	return isalnum(c) || c == '_';
}

/* An identifier at the cursor into buf (up to 63 characters); its start in
 * *at. false (cursor unchanged) if there is none. */
static bool ident(struct parser *ps, char *buf, size_t cap, const char **at)
{
	skip_ws(ps);
	const char *s = ps->p;
	if (!is_id0((unsigned char)*s))
		return false;
	const char *e = s;
	while (is_id((unsigned char)*e))
		e++;
	if ((size_t)(e - s) >= cap) {
		perr(ps, s, "name too long (at most %zu characters)", cap - 1);
		return false;
	}
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = 0;
	if (at)
		*at = s;
	ps->p = e;
	return true;
}

/* The next word must be an identifier: the name of a process, variable... */
static const char *need_name(struct parser *ps, const char *what)
{
	char w[64];
	const char *at;
	if (!ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected %s (a name: letters, digits, _)", what);
		return NULL;
	}
	return pstrndup(ps, w, strlen(w));
}

/* Is the word at the cursor `w` followed by a delimiter? Consumes it if so. */
static bool keyword(struct parser *ps, const char *w)
{
	skip_ws(ps);
	size_t n = strlen(w);
	if (strncmp(ps->p, w, n) != 0 || is_id((unsigned char)ps->p[n]))
		return false;
	ps->p += n;
	return true;
}

/* A word up to whitespace, or a "quoted string" (\" \\ \n \t \xHH escapes):
 * paths, echo text, exec arguments. */
static const char *raw_word(struct parser *ps, const char *what, size_t *len)
{
	skip_ws(ps);
	const char *s = ps->p;
	if (*s == '"') {
		size_t cap = strlen(s) + 1, n = 0;
		char *d = palloc(ps, cap);
		if (!d)
			return NULL;
		const char *q = s + 1;
		for (;;) {
			char c = *q;
			if (c == 0) {
				perr(ps, s, "unterminated string");
				return NULL;
			}
			q++;
			if (c == '"')
				break;
			if (c == '\\') {
				char e = *q++;
				switch (e) {
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case '0': c = 0; break;
				case '\\': case '"': c = e; break;
				case 'x':
					if (isxdigit((unsigned char)q[0]) && isxdigit((unsigned char)q[1])) {
						char hex[3] = { q[0], q[1], 0 };
						c = (char)strtol(hex, NULL, 16);
						q += 2;
						break;
					}
					perr(ps, q - 2, "bad escape: \\x needs two hex digits");
					return NULL;
				default:
					perr(ps, q - 2, "unknown escape '\\%c'", e ? e : '0');
					return NULL;
				}
			}
			d[n++] = c;
		}
		ps->p = q;
		if (len)
			*len = n;
		return d;
	}
	const char *e = s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (e == s) {
		perr(ps, s, "expected %s", what);
		return NULL;
	}
	ps->p = e;
	if (len)
		*len = (size_t)(e - s);
	return pstrndup(ps, s, (size_t)(e - s));
}

/* ---- Expressions -------------------------------------------------------------------------------- */

static struct sc_expr *sum(struct parser *ps);

static struct sc_expr *node(struct parser *ps, enum sc_ex_op op, const char *at)
{
	struct sc_expr *e = palloc(ps, sizeof(*e));
	if (e) {
		e->op = op;
		e->col = col_of(ps, at);
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
	case 'k': case 'K': sh = 10; break;
	case 'm': case 'M': sh = 20; break;
	case 'g': case 'G': sh = 30; break;
	case 't': case 'T': sh = 40; break;
	default: break;
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
	if (is_id((unsigned char)*q)) {
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

static int find_name(const char *w, const char *const *names, size_t n)
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
	if (!ident(ps, w, sizeof(w), &at))
		return NULL;
	if (*ps->p == '.') {
		ps->p++;
		const char *fs = ps->p;
		while (is_id((unsigned char)*ps->p))
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
		const char *field = pstrndup(ps, fs, (size_t)(ps->p - fs));
		if (!field)
			return NULL;
		struct sc_expr *e;
		if (strcmp(w, "machine") == 0) {
			int i = find_name(field, sc_ctr_names, SC_NCTR);
			if (i < 0) {
				unknown(ps, fs, "counter", field, sc_ctr_names, SC_NCTR);
				return NULL;
			}
			e = node(ps, EX_MCTR, at);
			if (e)
				e->num = i;
			return e;
		}
		if (strcmp(w, "swap") == 0 || strcmp(w, "reclaim") == 0) {
			bool sw = w[0] == 's';
			int i = sw ? find_name(field, sc_swapstat_names, SC_NSWAPSTAT)
				   : find_name(field, sc_rstat_names, SC_NRSTAT);
			if (i < 0) {
				if (sw)
					unknown(ps, fs, "swap statistic", field, sc_swapstat_names,
						SC_NSWAPSTAT);
				else
					unknown(ps, fs, "reclaim statistic", field, sc_rstat_names,
						SC_NRSTAT);
				return NULL;
			}
			e = node(ps, sw ? EX_SWAP : EX_RECLAIM, at);
			if (e)
				e->num = i;
			return e;
		}
		if (strcmp(w, "tlb") == 0) {
			int i = find_name(field, sc_tlbstat_names, SC_NTLBSTAT);
			if (i < 0) {
				unknown(ps, fs, "TLB statistic", field, sc_tlbstat_names, SC_NTLBSTAT);
				return NULL;
			}
			e = node(ps, EX_TLB, at);
			if (e)
				e->num = i;
			return e;
		}
		if (find_name(w, row_views, 3) < 0) {
			/* NAME.counter: a per-process name of another process */
			int ci = find_name(field, sc_ctr_names, SC_NCTR);
			int oi = find_name(field, proc_names, NPROC_NAMES);
			if (ci < 0 && oi < 0 && strcmp(field, "pid") != 0) {
				perr(ps, fs, "'%s.%s': not a counter, pid, oom_score, oom_score_adj, "
					 "killed or frames of a process (or machine.X, tlb.X, swap.X, "
					 "reclaim.X, meminfo.X, vmstat.X, status.X)", w, field);
				return NULL;
			}
			e = node(ps, ci >= 0 ? EX_CTR : oi >= 0 ? EX_OOM : EX_PID, at);
			if (e) {
				e->num = ci >= 0 ? ci : oi;
				e->name = pstrndup(ps, w, strlen(w));
			}
			return e;
		}
		e = node(ps, EX_VIEW, at);
		if (e) {
			e->name = pstrndup(ps, w, strlen(w));
			e->field = field;
		}
		return e;
	}
	int i = find_name(w, sc_ctr_names, SC_NCTR);
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
	int oi = find_name(w, proc_names, NPROC_NAMES);
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
	const char *h = closest(w, all, n);
	if (h)
		perr(ps, at, "unknown name '%s' (did you mean '%s'? variables are written $%s)", w, h, w);
	else
		perr(ps, at, "unknown name '%s' (variables are written $%s)", w, w);
	return NULL;
}

static struct sc_expr *unary(struct parser *ps);

static struct sc_expr *primary(struct parser *ps)
{
	skip_ws(ps);
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
		while (is_id((unsigned char)*e))
			e++;
		if (e == s || !is_id0((unsigned char)*s) || e - s > 63) {
			perr(ps, at, "expected a variable name after '$'");
			return NULL;
		}
		if (brace && *e != '}') {
			perr(ps, e, "expected '}' after ${%.*s", (int)(e - s), s);
			return NULL;
		}
		struct sc_expr *x = node(ps, EX_VAR, at);
		if (x)
			x->name = pstrndup(ps, s, (size_t)(e - s));
		ps->p = e + brace;
		return x;
	}
	if (c == '(') {
		ps->p++;
		struct sc_expr *e = sum(ps);
		if (!e)
			return NULL;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, ps->p, "expected ')' to close the '(' at column %d", col_of(ps, at));
			return NULL;
		}
		ps->p++;
		return e;
	}
	if (is_id0((unsigned char)c)) {
		static const struct { const char *w; unsigned width; } reads[] = {
			{ "read", 1 }, { "read8", 1 }, { "read16", 2 }, { "read32", 4 }, { "read64", 8 },
		};
		for (size_t k = 0; k < sizeof(reads) / sizeof(reads[0]); k++) {
			if (keyword(ps, reads[k].w)) {
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
	skip_ws(ps);
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
		skip_ws(ps);
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
		skip_ws(ps);
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

static struct sc_expr *expr(struct parser *ps)
{
	ps->edepth = 0;
	return sum(ps);
}

/* ---- Protection, flags, options ----------------------------------------------------------------- */

/* A protection: "rw-" style (r, w, x or - in their places), letters in any
 * order ("rw", "rx"), or "none". -1 if s is not one. */
static int parse_prot(const char *s, size_t n)
{
	if (n == 4 && strncmp(s, "none", 4) == 0)
		return MM_PROT_NONE;
	if (n == 0 || n > 3)
		return -1;
	int prot = 0;
	if (n == 3 && (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') &&
	    (s[2] == 'x' || s[2] == '-')) {
		return (s[0] == 'r' ? MM_PROT_READ : 0) | (s[1] == 'w' ? MM_PROT_WRITE : 0) |
		       (s[2] == 'x' ? MM_PROT_EXEC : 0);
	}
	for (size_t i = 0; i < n; i++) {
		int bit = s[i] == 'r' ? MM_PROT_READ : s[i] == 'w' ? MM_PROT_WRITE
						: s[i] == 'x' ? MM_PROT_EXEC : -1;
		if (bit < 0 || (prot & bit))
			return -1;
		prot |= bit;
	}
	return prot;
}

/* A bare protection word at the cursor (rw-, r--, ---, rwx, none): consumed
 * if present. */
static int try_prot(struct parser *ps)
{
	skip_ws(ps);
	const char *s = ps->p, *e = s;
	while (*e && *e != ' ' && *e != '\t' && *e != '#')
		e++;
	int prot = parse_prot(s, (size_t)(e - s));
	if (prot >= 0)
		ps->p = e;
	return prot;
}

struct sc_flag {
	const char *name;
	int v;
};

static const struct sc_flag map_flags[] = {
	{ "private", MM_MAP_PRIVATE }, { "shared", MM_MAP_SHARED },
	{ "shared_validate", MM_MAP_SHARED_VALIDATE }, { "anonymous", MM_MAP_ANONYMOUS },
	{ "anon", MM_MAP_ANONYMOUS }, { "fixed", MM_MAP_FIXED },
	{ "fixed_noreplace", MM_MAP_FIXED_NOREPLACE }, { "populate", MM_MAP_POPULATE },
	{ "hugetlb", MM_MAP_HUGETLB }, { "noreserve", MM_MAP_NORESERVE },
	{ "growsdown", MM_MAP_GROWSDOWN }, { "stack", MM_MAP_STACK }, { "locked", MM_MAP_LOCKED },
	{ "nonblock", MM_MAP_NONBLOCK }, { "denywrite", MM_MAP_DENYWRITE },
	{ "executable", MM_MAP_EXECUTABLE },
};
#define NMAP_FLAGS (sizeof(map_flags) / sizeof(map_flags[0]))

static int flag_lookup(const struct sc_flag *t, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, w) == 0)
			return t[i].v;
	return -1;
}

static void flag_unknown(struct parser *ps, const char *at, const char *what, const char *w,
			 const struct sc_flag *t, size_t n)
{
	const char *names[32];
	for (size_t i = 0; i < n && i < 32; i++)
		names[i] = t[i].name;
	unknown(ps, at, what, w, names, n < 32 ? n : 32);
}

/* key= at the cursor: the key in buf, the cursor after '='. */
static bool option_key(struct parser *ps, char *buf, size_t cap, const char **at)
{
	skip_ws(ps);
	const char *save = ps->p;
	if (!ident(ps, buf, cap, at)) {
		ps->p = save;
		return false;
	}
	if (*ps->p == '.' && is_id0((unsigned char)ps->p[1])) { /* dotted keys: tlb.ns */
		const char *s = ps->p + 1, *e = s;
		while (is_id((unsigned char)*e))
			e++;
		size_t l = strlen(buf);
		if (l + 1 + (size_t)(e - s) < cap) {
			buf[l] = '.';
			memcpy(buf + l + 1, s, (size_t)(e - s));
			buf[l + 1 + (size_t)(e - s)] = 0;
			ps->p = e;
		}
	}
	if (*ps->p != '=' || ps->p[1] == '=') {
		ps->p = save;
		return false;
	}
	ps->p++;
	return true;
}

/* A decimal fraction (alpha=0.9). */
static bool decimal(struct parser *ps, double *out)
{
	skip_ws(ps);
	char *end;
	errno = 0;
	double v = strtod(ps->p, &end);
	if (end == ps->p || errno || !(v > 0 && v < 100)) {
		perr(ps, ps->p, "expected a number between 0 and 100 (e.g. 0.9)");
		return false;
	}
	ps->p = end;
	*out = v;
	return true;
}

/* ---- Statements ---------------------------------------------------------------------------------- */

static struct sc_stmt *new_stmt(struct parser *ps, enum sc_kind k, const char *at)
{
	struct sc_stmt *st = palloc(ps, sizeof(*st));
	if (st) {
		st->kind = k;
		st->file = ps->src->file;
		st->line = ps->src->line;
		st->col = col_of(ps, at);
	}
	return st;
}

static bool need_expr(struct parser *ps, struct sc_expr **slot)
{
	*slot = expr(ps);
	return *slot != NULL;
}

/* The end of a statement: nothing but a comment may follow. */
static bool end_of_line(struct parser *ps)
{
	if (ps->failed)
		return false;
	if (!at_eol(ps)) {
		perr(ps, ps->p, "unexpected '%.20s' at the end of the statement", ps->p);
		return false;
	}
	return true;
}

static const char *const machine_keys[] = {
	"ram", "paging", "pcid", "zones", "gbpages", "dtlb", "dtlb_large", "dtlb_1g", "itlb",
	"itlb_large", "stlb", "tlb_ns", "mem_ns", "disk_ns", "fault_ns", "stack_rlimit",
	"stack_guard_gap", "mmap_min_addr", "reserve", "nr_hugepages", "swap", "swap_file",
	"reclaim", "policy", "local", "frame_limit", "hz", "dirty_writeback", "dirty_expire",
	"policy_tick",
};
#define NMACHINE_KEYS (sizeof(machine_keys) / sizeof(machine_keys[0]))

/* Keys whose value is a word, not an expression. */
static bool word_key(const char *k)
{
	return strcmp(k, "pcid") == 0 || strcmp(k, "zones") == 0 || strcmp(k, "gbpages") == 0 ||
	       strcmp(k, "dtlb") == 0 || strcmp(k, "dtlb_large") == 0 || strcmp(k, "dtlb_1g") == 0 ||
	       strcmp(k, "itlb") == 0 || strcmp(k, "itlb_large") == 0 || strcmp(k, "stlb") == 0 ||
	       strcmp(k, "swap_file") == 0 || strcmp(k, "reclaim") == 0 ||
	       strcmp(k, "policy") == 0 || strcmp(k, "local") == 0;
}

static bool parse_machine(struct parser *ps, struct sc_stmt *st)
{
	struct sc_kv **tail = &st->kv;
	while (!at_eol(ps)) {
		char k[64];
		const char *at;
		if (!option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p, "expected KEY=VALUE (keys: ram paging pcid zones gbpages dtlb "
				 "dtlb_large dtlb_1g itlb itlb_large stlb tlb_ns mem_ns disk_ns fault_ns "
				 "stack_rlimit stack_guard_gap mmap_min_addr reserve nr_hugepages swap "
				 "swap_file reclaim policy local frame_limit hz dirty_writeback "
				 "dirty_expire policy_tick)");
			return false;
		}
		if (find_name(k, machine_keys, NMACHINE_KEYS) < 0) {
			unknown(ps, at, "machine option", k, machine_keys, NMACHINE_KEYS);
			return false;
		}
		struct sc_kv *kv = palloc(ps, sizeof(*kv));
		if (!kv)
			return false;
		kv->key = pstrndup(ps, k, strlen(k));
		kv->col = col_of(ps, at);
		if (word_key(k)) {
			skip_ws(ps);
			const char *s = ps->p;
			while (*ps->p && *ps->p != ' ' && *ps->p != '\t' && *ps->p != '#')
				ps->p++;
			if (ps->p == s) {
				perr(ps, s, "expected a value for %s=", k);
				return false;
			}
			kv->word = pstrndup(ps, s, (size_t)(ps->p - s));
		} else if (!need_expr(ps, &kv->e)) {
			return false;
		}
		*tail = kv;
		tail = &kv->next;
	}
	return true;
}

static bool parse_process(struct parser *ps, struct sc_stmt *st)
{
	if (!(st->name = need_name(ps, "a process name")))
		return false;
	while (!at_eol(ps)) {
		char k[64];
		const char *at;
		if (keyword(ps, "empty")) {
			st->on = true;
			continue;
		}
		if (!option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p, "expected text=SIZE, data=SIZE, bss=SIZE or 'empty'");
			return false;
		}
		int i = strcmp(k, "text") == 0 ? 0 : strcmp(k, "data") == 0 ? 1
			: strcmp(k, "bss") == 0 ? 2 : -1;
		if (i < 0) {
			static const char *const keys[] = { "text", "data", "bss" };
			unknown(ps, at, "process option", k, keys, 3);
			return false;
		}
		if (!need_expr(ps, &st->a[i]))
			return false;
	}
	return true;
}

/* exec arguments: PATH [ARG...] */
static bool parse_argv(struct parser *ps, struct sc_stmt *st)
{
	const char *args[SC_MAX_ARGS];
	int n = 0;
	while (!at_eol(ps)) {
		if (n == SC_MAX_ARGS) {
			perr(ps, ps->p, "too many arguments (at most %d)", SC_MAX_ARGS);
			return false;
		}
		size_t len;
		const char *w = raw_word(ps, "an argument", &len);
		if (!w)
			return false;
		if (strlen(w) != len) {
			perr(ps, ps->p, "an argument cannot hold a NUL byte");
			return false;
		}
		args[n++] = w;
	}
	if (n == 0) {
		perr(ps, ps->p, "expected the path of a program");
		return false;
	}
	st->argv = palloc(ps, sizeof(*st->argv) * (size_t)(n + 1));
	if (!st->argv)
		return false;
	memcpy(st->argv, args, sizeof(*args) * (size_t)n);
	st->argc = n;
	st->path = args[0];
	return true;
}

static bool parse_mmap(struct parser *ps, struct sc_stmt *st)
{
	if (!need_expr(ps, &st->a[0]))
		return false;
	st->prot = -1;
	st->flags = 0;
	while (!at_eol(ps)) {
		char k[64];
		const char *at;
		if (option_key(ps, k, sizeof(k), &at)) {
			if (strcmp(k, "addr") == 0) {
				if (!need_expr(ps, &st->addr))
					return false;
			} else if (strcmp(k, "offset") == 0) {
				if (!need_expr(ps, &st->offset))
					return false;
			} else if (strcmp(k, "file") == 0) {
				if (!(st->path = raw_word(ps, "a file", NULL)))
					return false;
			} else if (strcmp(k, "fd") == 0) {
				if (!need_expr(ps, &st->a[1]))
					return false;
			} else if (strcmp(k, "prot") == 0) {
				const char *s = ps->p;
				if ((st->prot = try_prot(ps)) < 0) {
					perr(ps, s, "bad protection (r, w, x letters as in rw-, or none)");
					return false;
				}
			} else if (strcmp(k, "flags") == 0) {
				for (;;) {
					char f[64];
					const char *fat;
					if (!ident(ps, f, sizeof(f), &fat)) {
						perr(ps, ps->p, "expected a mapping flag");
						return false;
					}
					int v = flag_lookup(map_flags, NMAP_FLAGS, f);
					if (v < 0) {
						flag_unknown(ps, fat, "mmap flag", f, map_flags, NMAP_FLAGS);
						return false;
					}
					st->flags |= v;
					if (*ps->p != '|' && *ps->p != ',')
						break;
					ps->p++;
				}
			} else {
				static const char *const keys[] = { "addr", "offset", "file", "fd", "prot",
								    "flags" };
				unknown(ps, at, "mmap option", k, keys, 6);
				return false;
			}
			continue;
		}
		int prot = try_prot(ps);
		if (prot >= 0) {
			st->prot = prot;
			continue;
		}
		char f[64];
		const char *fat;
		if (!ident(ps, f, sizeof(f), &fat)) {
			perr(ps, ps->p, "expected a protection (rw-), a flag (private, shared, anon, "
				 "fixed, populate...) or KEY=VALUE");
			return false;
		}
		int v = flag_lookup(map_flags, NMAP_FLAGS, f);
		if (v < 0) {
			flag_unknown(ps, fat, "mmap flag", f, map_flags, NMAP_FLAGS);
			return false;
		}
		st->flags |= v;
	}
	if (ps->failed)
		return false;
	if (st->prot < 0)
		st->prot = MM_PROT_READ | MM_PROT_WRITE;
	if (!(st->flags & MM_MAP_TYPE))
		st->flags |= MM_MAP_PRIVATE;
	if (!st->path && !st->a[1])
		st->flags |= MM_MAP_ANONYMOUS;
	return true;
}

static const struct sc_flag advices[] = {
	{ "normal", MM_MADV_NORMAL }, { "random", MM_MADV_RANDOM },
	{ "sequential", MM_MADV_SEQUENTIAL }, { "willneed", MM_MADV_WILLNEED },
	{ "dontneed", MM_MADV_DONTNEED },
};

static const struct sc_flag msync_flags[] = {
	{ "sync", MM_MS_SYNC }, { "async", MM_MS_ASYNC }, { "invalidate", MM_MS_INVALIDATE },
};

static const struct sc_flag shm_flags[] = {
	{ "create", MM_IPC_CREAT }, { "excl", MM_IPC_EXCL }, { "rdonly", MM_SHM_RDONLY },
	{ "rnd", MM_SHM_RND },
};

/* flag words from a table until the end of the line */
static bool flag_words(struct parser *ps, const struct sc_flag *t, size_t n, const char *what,
		       int *out)
{
	while (!at_eol(ps)) {
		char f[64];
		const char *at;
		if (!ident(ps, f, sizeof(f), &at)) {
			perr(ps, ps->p, "expected %s", what);
			return false;
		}
		int v = flag_lookup(t, n, f);
		if (v < 0) {
			flag_unknown(ps, at, what, f, t, n);
			return false;
		}
		*out |= v;
	}
	return !ps->failed;
}

static const char *const patterns[] = { "seq", "random", "zipf" };

/* read/write/fetch: ADDR [LEN] | ADDR VALUE | PATTERN ADDR LEN [options] */
static bool parse_access(struct parser *ps, struct sc_stmt *st)
{
	st->pattern = PAT_ONE;
	for (int i = 0; i < 3; i++) {
		if (keyword(ps, patterns[i])) {
			st->pattern = PAT_SEQ + i;
			break;
		}
	}
	if (keyword(ps, "stride"))
		st->pattern = PAT_SEQ;
	if (!need_expr(ps, &st->a[0]))
		return false;
	if (st->pattern == PAT_ONE) {
		if (st->access == MM_ACCESS_WRITE) {
			skip_ws(ps);
			if (*ps->p == '"') {
				size_t len;
				const char *s = raw_word(ps, "a string", &len);
				if (!s)
					return false;
				if (len == 0) {
					perr(ps, ps->p, "empty string");
					return false;
				}
				st->data = (const uint8_t *)s;
				st->datalen = len;
			} else if (!need_expr(ps, &st->value)) {
				return false;
			}
		} else if (!at_eol(ps) && !(ps->p[0] == 's' && strncmp(ps->p, "size=", 5) == 0)) {
			if (!need_expr(ps, &st->a[1]))
				return false;
		}
	} else if (!need_expr(ps, &st->a[1])) {
		return false;
	}
	while (!at_eol(ps)) {
		char k[64];
		const char *at;
		if (!option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p, "expected KEY=VALUE (step, size, count, seed, alpha, value)");
			return false;
		}
		struct sc_expr **slot = NULL;
		if (strcmp(k, "size") == 0)
			slot = &st->size;
		else if (st->pattern != PAT_ONE && strcmp(k, "step") == 0)
			slot = &st->step;
		else if (st->pattern >= PAT_RANDOM && strcmp(k, "count") == 0)
			slot = &st->count;
		else if (st->pattern >= PAT_RANDOM && strcmp(k, "seed") == 0)
			slot = &st->seed;
		else if (st->pattern != PAT_ONE && st->access == MM_ACCESS_WRITE &&
			 strcmp(k, "value") == 0)
			slot = &st->value;
		if (slot) {
			if (!need_expr(ps, slot))
				return false;
			continue;
		}
		if (st->pattern == PAT_ZIPF && strcmp(k, "alpha") == 0) {
			if (!decimal(ps, &st->alpha))
				return false;
			continue;
		}
		perr(ps, at, "option '%s' does not apply here (seq: step size%s; random: count "
			 "step size seed%s; zipf: count step size seed alpha%s; one access: size)",
		     k, st->access == MM_ACCESS_WRITE ? " value" : "",
		     st->access == MM_ACCESS_WRITE ? " value" : "",
		     st->access == MM_ACCESS_WRITE ? " value" : "");
		return false;
	}
	if (st->pattern >= PAT_RANDOM && !st->count) {
		perr(ps, ps->p, "%s needs count=N", patterns[st->pattern - PAT_SEQ]);
		return false;
	}
	if (st->pattern == PAT_ZIPF && st->alpha == 0)
		st->alpha = 1.0;
	return true;
}

static bool parse_expect(struct parser *ps, struct sc_stmt *st)
{
	skip_ws(ps);
	const char *src = ps->p;
	if (!need_expr(ps, &st->a[0]))
		return false;
	skip_ws(ps);
	static const struct { const char *op; int cmp; } ops[] = {
		{ "==", CMP_EQ }, { "!=", CMP_NE }, { "<=", CMP_LE }, { ">=", CMP_GE },
		{ "<", CMP_LT }, { ">", CMP_GT },
	};
	size_t i;
	for (i = 0; i < 6; i++)
		if (strncmp(ps->p, ops[i].op, strlen(ops[i].op)) == 0)
			break;
	if (i == 6) {
		perr(ps, ps->p, "expected a comparison (== != < <= > >=)");
		return false;
	}
	st->cmp = ops[i].cmp;
	ps->p += strlen(ops[i].op);
	if (!need_expr(ps, &st->a[1]))
		return false;
	const char *e = ps->p;
	while (e > src && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	st->text = pstrndup(ps, src, (size_t)(e - src));
	return st->text != NULL;
}

static bool parse_show(struct parser *ps, struct sc_stmt *st)
{
	char w[64];
	const char *at;
	if (!ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected a view name");
		return false;
	}
	bool per, takes;
	if (!sc_view_known(w, &per, &takes)) {
		unknown(ps, at, "view", w, sc_view_names, sc_nviews);
		return false;
	}
	st->name = pstrndup(ps, w, strlen(w));
	if (takes && !need_expr(ps, &st->a[0]))
		return false;
	if (per && !at_eol(ps) && !(st->path = need_name(ps, "a process name")))
		return false;
	return true;
}

/* The text of echo/section: the rest of the line, verbatim, trimmed. */
static const char *rest_of_line(struct parser *ps)
{
	skip_ws(ps);
	const char *s = ps->p, *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	ps->p = s + strlen(s);
	return pstrndup(ps, s, (size_t)(e - s));
}

/* echo text: literal pieces and $(EXPR) */
static bool parse_text(struct parser *ps, struct sc_stmt *st)
{
	skip_ws(ps);
	struct sc_seg **tail = &st->segs;
	while (*ps->p) {
		const char *s = ps->p, *e = strstr(s, "$(");
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (!e)
			while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
		if (n) {
			struct sc_seg *g = palloc(ps, sizeof(*g));
			if (!g || !(g->text = pstrndup(ps, s, n)))
				return false;
			*tail = g;
			tail = &g->next;
		}
		if (!e) {
			ps->p = s + strlen(s);
			break;
		}
		ps->p = e + 2;
		struct sc_seg *g = palloc(ps, sizeof(*g));
		if (!g || !(g->e = expr(ps)))
			return false;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, ps->p, "expected ')' to close the '$(' at column %d", col_of(ps, e));
			return false;
		}
		ps->p++;
		*tail = g;
		tail = &g->next;
	}
	return true;
}

static bool parse_body(struct parser *ps, struct sc_stmt ***tail, const char *open_at_file,
		       int open_line);
static int parse_src(struct parser *ps, const char *name, char *buf, size_t len,
		     struct sc_stmt ***tail);
static int read_file(struct parser *ps, const char *path, char **buf, size_t *len,
		     const char *at);

/* Statements that produce a value (NAME = ...). */
static bool gives_value(enum sc_kind k)
{
	return k == ST_MMAP || k == ST_BRK || k == ST_SBRK || k == ST_SHMGET || k == ST_SHMAT ||
	       k == ST_OPEN;
}

struct sc_keyword {
	const char *w;
	enum sc_kind k;
};

static const struct sc_keyword keywords[] = {
	{ "machine", ST_MACHINE }, { "process", ST_PROCESS }, { "spawn", ST_SPAWN },
	{ "switch", ST_SWITCH }, { "fork", ST_FORK }, { "exec", ST_EXEC }, { "exit", ST_EXIT },
	{ "mmap", ST_MMAP }, { "munmap", ST_MUNMAP }, { "mprotect", ST_MPROTECT },
	{ "brk", ST_BRK }, { "sbrk", ST_SBRK }, { "madvise", ST_MADVISE }, { "msync", ST_MSYNC },
	{ "open", ST_OPEN }, { "close", ST_CLOSE }, { "shmget", ST_SHMGET }, { "shmat", ST_SHMAT },
	{ "shmdt", ST_SHMDT }, { "shmrm", ST_SHMRM }, { "drop_caches", ST_DROP_CACHES },
	{ "tmpfile", ST_TMPFILE }, { "read", ST_ACCESS }, { "write", ST_ACCESS },
	{ "fetch", ST_ACCESS }, { "fill", ST_FILL }, { "repeat", ST_REPEAT }, { "tick", ST_TICK },
	{ "show", ST_SHOW }, { "expect", ST_EXPECT }, { "check", ST_CHECK }, { "let", ST_LET },
	{ "param", ST_PARAM }, { "echo", ST_ECHO }, { "section", ST_SECTION },
	{ "strace", ST_STRACE }, { "oom_score_adj", ST_OOM_ADJ }, { "reclaim", ST_RECLAIM },
	{ "sync", ST_SYNC }, { "frame_limit", ST_FRAME_LIMIT }, { "swap_fail_after", ST_SWAP_FAIL },
	{ "include", ST_REPEAT /* handled apart */ },
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* Is this `exec` an instruction fetch (an address) rather than execve (a path)? */
static bool exec_is_fetch(struct parser *ps)
{
	skip_ws(ps);
	const char *p = ps->p;
	if (*p == '"' || *p == '/' || *p == '.' || *p == '~')
		return false;
	for (const char *q = p; *q && *q != ' ' && *q != '\t'; q++)
		if (*q == '/')
			return false;
	return true;
}

/* One line: NULL statement for blank lines and comments. Returns false on
 * error; *close set for a `}`. */
static bool parse_line(struct parser *ps, struct sc_stmt ***tail, bool *close)
{
	*close = false;
	if (at_eol(ps))
		return true;
	if (*ps->p == '}') {
		ps->p++;
		*close = true;
		return end_of_line(ps);
	}
	const char *start = ps->p;
	const char *proc = NULL, *var = NULL;
	int var_col = 0;
	bool try_ = false;
	if (*ps->p == '@') {
		ps->p++;
		if (!(proc = need_name(ps, "a process name after '@'")))
			return false;
	}
	if (keyword(ps, "try"))
		try_ = true;
	char w[64];
	const char *at;
	if (!ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected a statement");
		return false;
	}
	skip_ws(ps);
	if (*ps->p == '=' && ps->p[1] != '=') {
		var = pstrndup(ps, w, strlen(w));
		var_col = col_of(ps, at);
		ps->p++;
		if (!ident(ps, w, sizeof(w), &at)) {
			if (!ps->failed)
				perr(ps, ps->p, "expected a system call after '='");
			return false;
		}
	}
	const struct sc_keyword *kw = NULL;
	for (size_t i = 0; i < NKEYWORDS; i++)
		if (strcmp(keywords[i].w, w) == 0)
			kw = &keywords[i];
	if (!kw) {
		const char *names[NKEYWORDS];
		for (size_t i = 0; i < NKEYWORDS; i++)
			names[i] = keywords[i].w;
		unknown(ps, at, "statement", w, names, NKEYWORDS);
		return false;
	}
	if (strcmp(w, "include") == 0) {
		if (proc || var || try_) {
			perr(ps, start, "include takes no '@', '=' or 'try'");
			return false;
		}
		if (!ps->s->lim.allow_files) {
			perr(ps, at, "include: host files are disabled here");
			return false;
		}
		skip_ws(ps);
		const char *path_at = ps->p;
		const char *path = raw_word(ps, "a file name", NULL);
		if (!path || !end_of_line(ps))
			return false;
		if (ps->depth >= (int)ps->s->lim.max_include_depth) {
			perr(ps, at, "includes nested more than %u deep", ps->s->lim.max_include_depth);
			return false;
		}
		/* relative to the including file */
		char full[4096];
		const char *slash = strrchr(ps->src->name, '/');
		if (path[0] != '/' && slash)
			snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - ps->src->name),
				 ps->src->name, path);
		else
			snprintf(full, sizeof(full), "%s", path);
		char *buf;
		size_t len;
		if (read_file(ps, full, &buf, &len, path_at))
			return false;
		/* the include is parsed with its own line buffer and cursor */
		struct src *outer = ps->src;
		char *olbuf = ps->lbuf;
		size_t olcap = ps->lcap;
		ps->lbuf = NULL;
		ps->lcap = 0;
		ps->depth++;
		int rc = parse_src(ps, full, buf, len, tail);
		ps->depth--;
		free(ps->lbuf);
		ps->lbuf = olbuf;
		ps->lcap = olcap;
		ps->src = outer;
		return rc == 0;
	}
	enum sc_kind k = kw->k;
	if (k == ST_EXEC && exec_is_fetch(ps))
		k = ST_ACCESS;
	if (var && !gives_value(k)) {
		perr(ps, at, "'%s' gives no value to assign (use 'let NAME = EXPR')", w);
		return false;
	}
	struct sc_stmt *st = new_stmt(ps, k, start);
	if (!st)
		return false;
	st->proc = proc;
	st->var = var;
	st->var_col = var_col;
	st->try_ = try_;
	bool ok = true;
	switch (k) {
	case ST_MACHINE:
		ok = parse_machine(ps, st);
		break;
	case ST_PROCESS:
		ok = parse_process(ps, st);
		break;
	case ST_SPAWN:
		ok = (st->name = need_name(ps, "a process name")) && parse_argv(ps, st);
		break;
	case ST_EXEC:
		ok = parse_argv(ps, st);
		break;
	case ST_SWITCH:
	case ST_FORK:
		ok = (st->name = need_name(ps, "a process name")) != NULL;
		break;
	case ST_EXIT:
		if (!at_eol(ps))
			ok = (st->name = need_name(ps, "a process name")) != NULL;
		break;
	case ST_MMAP:
		ok = parse_mmap(ps, st);
		break;
	case ST_MUNMAP:
		ok = need_expr(ps, &st->a[0]) && need_expr(ps, &st->a[1]);
		break;
	case ST_MPROTECT: {
		ok = need_expr(ps, &st->a[0]) && need_expr(ps, &st->a[1]);
		if (ok) {
			const char *s = ps->p;
			if ((st->prot = try_prot(ps)) < 0) {
				perr(ps, s, "expected a protection (r, w, x letters as in rw-, or none)");
				ok = false;
			}
		}
		break;
	}
	case ST_BRK:
		if (!at_eol(ps))
			ok = need_expr(ps, &st->a[0]);
		break;
	case ST_SBRK:
	case ST_CLOSE:
	case ST_SHMDT:
	case ST_SHMRM:
		ok = need_expr(ps, &st->a[0]);
		break;
	case ST_MADVISE:
		ok = need_expr(ps, &st->a[0]) && need_expr(ps, &st->a[1]);
		if (ok) {
			char f[64];
			const char *fat;
			if (!ident(ps, f, sizeof(f), &fat)) {
				perr(ps, ps->p, "expected an advice (dontneed, normal, random, "
					 "sequential, willneed)");
				ok = false;
			} else if ((st->advice = flag_lookup(advices, 5, f)) < 0) {
				flag_unknown(ps, fat, "advice", f, advices, 5);
				ok = false;
			}
		}
		break;
	case ST_MSYNC:
		ok = need_expr(ps, &st->a[0]) && need_expr(ps, &st->a[1]) &&
		     flag_words(ps, msync_flags, 3, "msync flag", &st->flags);
		if (ok && !st->flags)
			st->flags = MM_MS_SYNC;
		break;
	case ST_OPEN:
		ok = (st->path = raw_word(ps, "a file", NULL)) != NULL;
		if (ok && keyword(ps, "rw"))
			st->flags = MM_O_RDWR;
		break;
	case ST_SHMGET:
		if (keyword(ps, "private"))
			st->on = true;
		else
			ok = need_expr(ps, &st->a[0]);
		ok = ok && need_expr(ps, &st->a[1]) &&
		     flag_words(ps, shm_flags, 2, "shmget flag (create, excl)", &st->shmflg);
		break;
	case ST_SHMAT:
		ok = need_expr(ps, &st->a[0]);
		skip_ws(ps);
		if (ok && !at_eol(ps) && !isalpha((unsigned char)*ps->p))
			ok = need_expr(ps, &st->a[1]);
		ok = ok && flag_words(ps, shm_flags + 2, 2, "shmat flag (rdonly, rnd)", &st->shmflg);
		break;
	case ST_DROP_CACHES:
	case ST_CHECK:
		break;
	case ST_TMPFILE:
		ok = (st->name = need_name(ps, "a file name")) && need_expr(ps, &st->a[0]);
		while (ok && !at_eol(ps)) {
			char key[64];
			const char *kat;
			if (!option_key(ps, key, sizeof(key), &kat)) {
				perr(ps, ps->p, "expected fill=BYTE");
				ok = false;
			} else if (strcmp(key, "fill") == 0) {
				ok = need_expr(ps, &st->fill);
			} else {
				perr(ps, kat, "unknown tmpfile option '%s' (fill=BYTE)", key);
				ok = false;
			}
		}
		break;
	case ST_ACCESS:
		st->access = strcmp(w, "write") == 0 ? MM_ACCESS_WRITE
			   : strcmp(w, "read") == 0 ? MM_ACCESS_READ : MM_ACCESS_EXEC;
		ok = parse_access(ps, st);
		break;
	case ST_FILL:
		ok = need_expr(ps, &st->a[0]) && need_expr(ps, &st->a[1]) &&
		     need_expr(ps, &st->value);
		break;
	case ST_REPEAT: {
		ok = need_expr(ps, &st->a[0]);
		if (!ok)
			break;
		skip_ws(ps);
		if (*ps->p != '{') {
			perr(ps, ps->p, "expected '{' after the repeat count");
			return false;
		}
		ps->p++;
		if (!end_of_line(ps))
			return false;
		if (ps->nest >= SC_MAX_NEST) {
			perr(ps, start, "repeat nested more than %d deep", SC_MAX_NEST);
			return false;
		}
		**tail = st;
		*tail = &st->next;
		struct sc_stmt **btail = &st->body;
		ps->nest++;
		ok = parse_body(ps, &btail, ps->src->name, st->line);
		ps->nest--;
		return ok;
	}
	case ST_OOM_ADJ:
	case ST_RECLAIM:
	case ST_FRAME_LIMIT:
		ok = need_expr(ps, &st->a[0]);
		break;
	case ST_SYNC:
		break;
	case ST_SWAP_FAIL:
		if (keyword(ps, "never"))
			st->on = true;
		else
			ok = need_expr(ps, &st->a[0]);
		break;
	case ST_TICK:
		if (!at_eol(ps))
			ok = need_expr(ps, &st->a[0]);
		break;
	case ST_SHOW:
		ok = parse_show(ps, st);
		break;
	case ST_EXPECT:
		ok = parse_expect(ps, st);
		break;
	case ST_LET:
	case ST_PARAM: {
		ok = (st->name = need_name(ps, "a variable name")) != NULL;
		skip_ws(ps);
		if (ok && (*ps->p != '=' || ps->p[1] == '=')) {
			perr(ps, ps->p, "expected '=' after the variable name");
			ok = false;
		}
		if (ok) {
			ps->p++;
			ok = need_expr(ps, &st->a[0]);
		}
		break;
	}
	case ST_ECHO:
		ok = parse_text(ps, st);
		break;
	case ST_SECTION:
		ok = (st->text = rest_of_line(ps)) != NULL;
		break;
	case ST_STRACE:
		if (keyword(ps, "on")) {
			st->on = true;
		} else if (!keyword(ps, "off")) {
			perr(ps, ps->p, "expected 'on' or 'off'");
			ok = false;
		}
		break;
	}
	if (!ok || !end_of_line(ps))
		return false;
	if (try_ && (k == ST_MACHINE || k == ST_REPEAT || k == ST_SHOW || k == ST_EXPECT ||
		     k == ST_LET || k == ST_PARAM || k == ST_ECHO || k == ST_SECTION ||
		     k == ST_STRACE || k == ST_CHECK)) {
		perr(ps, start, "'try' goes before a system call or an access");
		return false;
	}
	**tail = st;
	*tail = &st->next;
	return true;
}

/* ---- Files and lines -------------------------------------------------------------------------------- */

/* The next line of the source into ps->lbuf; false at the end. */
static bool next_line(struct parser *ps)
{
	struct src *s = ps->src;
	if (s->pos >= s->len)
		return false;
	const char *b = s->buf + s->pos;
	const char *nl = memchr(b, '\n', s->len - s->pos);
	size_t n = nl ? (size_t)(nl - b) : s->len - s->pos;
	s->pos += n + (nl ? 1 : 0);
	s->line++;
	if (n && b[n - 1] == '\r')
		n--;
	if (n + 1 > ps->lcap) {
		char *nb = realloc(ps->lbuf, n + 1);
		if (!nb) {
			fail_status(ps, SC_NOMEM, NULL, "out of memory");
			return false;
		}
		ps->lbuf = nb;
		ps->lcap = n + 1;
	}
	memcpy(ps->lbuf, b, n);
	ps->lbuf[n] = 0;
	ps->p = ps->lbuf;
	const char *z = memchr(b, 0, n);
	if (z) {
		ps->lbuf[z - b] = 0;
		perr(ps, ps->lbuf + (z - b), "NUL byte in the line");
		return false;
	}
	return true;
}

static bool parse_body(struct parser *ps, struct sc_stmt ***tail, const char *open_file,
		       int open_line)
{
	while (next_line(ps)) {
		bool close;
		if (!parse_line(ps, tail, &close))
			return false;
		if (close) {
			if (!open_file) {
				perr(ps, ps->lbuf, "'}' without a repeat");
				return false;
			}
			return true;
		}
	}
	if (ps->failed)
		return false;
	if (open_file) {
		perr(ps, NULL, "end of file inside the repeat opened at %s:%d", open_file, open_line);
		return false;
	}
	return true;
}

static int add_file(struct parser *ps, const char *name)
{
	struct sc_script *s = ps->s;
	if (s->nfiles == s->capfiles) {
		int cap = s->capfiles ? s->capfiles * 2 : 8;
		const char **f = sc_alloc(&s->arena, sizeof(*f) * (size_t)cap);
		if (!f)
			return -1;
		if (s->nfiles)
			memcpy(f, s->files, sizeof(*f) * (size_t)s->nfiles);
		s->files = f;
		s->capfiles = cap;
	}
	const char *d = sc_strndup(&s->arena, name, strlen(name));
	if (!d)
		return -1;
	s->files[s->nfiles] = d;
	return s->nfiles++;
}

/* Parse buf (owned: freed here) as file `name`. */
static int parse_src(struct parser *ps, const char *name, char *buf, size_t len,
		     struct sc_stmt ***tail)
{
	struct src src = { .buf = buf, .len = len };
	int f = add_file(ps, name);
	if (f < 0) {
		free(buf);
		fail_status(ps, SC_NOMEM, NULL, "out of memory");
		return -1;
	}
	src.name = ps->s->files[f];
	src.file = f;
	struct src *outer = ps->src;
	ps->src = &src;
	int outer_nest = ps->nest;
	ps->nest = 0;
	bool ok = parse_body(ps, tail, NULL, 0);
	ps->nest = outer_nest;
	if (!ok && !ps->failed)
		perr(ps, NULL, "parse error");
	/* an error message names the file it is in: keep ps->src until then */
	ps->src = outer;
	free(buf);
	return ok ? 0 : -1;
}

static int read_file(struct parser *ps, const char *path, char **out, size_t *len, const char *at)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail_status(ps, SC_IO, at, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	while (b) {
		if (n == cap) {
			if (cap >= ps->s->lim.max_file_bytes) {
				fclose(f);
				free(b);
				fail_status(ps, SC_BADINPUT, at, "%s: larger than %llu bytes", path,
					    (unsigned long long)ps->s->lim.max_file_bytes);
				return -1;
			}
			cap *= 2;
			char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
		}
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (!b) {
		fclose(f);
		fail_status(ps, SC_NOMEM, NULL, "out of memory");
		return -1;
	}
	if (ferror(f)) {
		fclose(f);
		free(b);
		fail_status(ps, SC_IO, at, "%s: read error", path);
		return -1;
	}
	fclose(f);
	if (n > ps->s->lim.max_file_bytes) {
		free(b);
		fail_status(ps, SC_BADINPUT, at, "%s: larger than %llu bytes", path,
			    (unsigned long long)ps->s->lim.max_file_bytes);
		return -1;
	}
	*out = b;
	*len = n;
	return 0;
}

/* ---- Entry points ------------------------------------------------------------------------------------ */

void sc_limits_default(struct sc_limits *l)
{
	l->max_ram = (uint64_t)16 << 30;
	l->max_swap = (uint64_t)16 << 30;
	l->max_steps = (uint64_t)1 << 34;
	l->max_file_bytes = (uint64_t)64 << 20;
	l->max_include_depth = 16;
	l->max_hugepages = 1 << 16;
	l->allow_files = true;
}

static int parse_common(const char *name, char *buf, size_t len, const struct sc_limits *lim,
			struct sc_script **out, struct sc_result *res)
{
	memset(res, 0, sizeof(*res));
	*out = NULL;
	struct sc_script *s = calloc(1, sizeof(*s));
	if (!s) {
		free(buf);
		res->status = SC_NOMEM;
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		return SC_NOMEM;
	}
	if (lim)
		s->lim = *lim;
	else
		sc_limits_default(&s->lim);
	struct parser ps = { .s = s, .res = res };
	struct sc_stmt **tail = &s->first;
	int rc = parse_src(&ps, name, buf, len, &tail);
	free(ps.lbuf);
	if (rc) {
		sc_script_free(s);
		return res->status;
	}
	*out = s;
	return 0;
}

int sc_parse_buffer(const char *name, const char *buf, size_t len, const struct sc_limits *lim,
		    struct sc_script **out, struct sc_result *res)
{
	char *copy = malloc(len ? len : 1);
	if (!copy) {
		memset(res, 0, sizeof(*res));
		res->status = SC_NOMEM;
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		return SC_NOMEM;
	}
	memcpy(copy, buf, len);
	return parse_common(name, copy, len, lim, out, res);
}

int sc_parse_file(const char *path, const struct sc_limits *lim, struct sc_script **out,
		  struct sc_result *res)
{
	memset(res, 0, sizeof(*res));
	*out = NULL;
	struct sc_limits def;
	if (!lim) {
		sc_limits_default(&def);
		lim = &def;
	}
	struct sc_script tmp = { .lim = *lim };
	struct parser ps = { .s = &tmp, .res = res };
	char *buf;
	size_t len;
	if (read_file(&ps, path, &buf, &len, NULL))
		return res->status;
	return parse_common(path, buf, len, lim, out, res);
}

void sc_script_free(struct sc_script *s)
{
	if (!s)
		return;
	sc_arena_free(&s->arena);
	free(s);
}
