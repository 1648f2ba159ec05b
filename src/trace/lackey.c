/* Format "lackey": the log of valgrind's Lackey tool with memory tracing,
 *
 *     valgrind --tool=lackey --trace-mem=yes [--trace-syscalls=yes] prog
 *
 * Lackey prints one line per guest access (lackey/lk_main.c, printf formats
 * "I  %08lx,%lu", " L %08lx,%lu", " S %08lx,%lu", " M %08lx,%lu"):
 *
 *     I  0400d7d4,8        instruction fetch of 8 bytes at 0x400d7d4
 *      L 1ffefffe88,8      load
 *      S 1ffefffe80,8      store
 *      M 0421f8e8,4        modify (load then store, e.g. "inc [mem]")
 *
 * Accepted: spaces or tabs before the letter, one or more after it; the
 * address in hex (an optional 0x), a comma, the size in decimal, trailing
 * spaces. Skipped: valgrind's own lines "==PID== ...", "--PID-- ...",
 * "**PID** ...", superblock lines "SB addr" (--trace-superblocks=yes), blank
 * lines, and lines starting with '#'.
 *
 * With --trace-syscalls=yes valgrind's core adds, in valgrind 3.19:
 *
 *     SYSCALL[7572,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)
 *     SYSCALL[7572,1](11) sys_munmap ( 0x483c000, 44675 )[sync] --> Success(0x0)
 *     SYSCALL[7572,1](12) sys_brk ( 0x4056000 ) --> [pre-success] Success(0x4056000)
 *     SYSCALL[7572,1](9) sys_mmap ( 0x1, 4096, 1, 50, 4294967295, 0 ) --> [pre-fail] Failure(0x16)
 *     SYSCALL[7572,1](0) sys_read ( 4, 0x1ffeffece8, 832 ) --> [async] ...
 *     SYSCALL[7572,1](0) ... [async] --> Success(0x340)
 *
 * i.e. SYSCALL[pid,tid](nr) name ( args ) [tag] --> [tag] Success(ret) or
 * Failure(errno), or a blocking call split over a "[async] ..." line and a
 * "... [async] -->" completion. mmap, mmap2, munmap, mprotect, brk and mremap
 * become MM_TRACE_SYSCALL records, strictly checked; other calls are skipped
 * (or, with MM_TRACE_ALL_SYSCALLS, yielded leniently as MM_SYS_OTHER). Calls
 * split by [async] wait in a table of TR_LK_PENDING slots (constant memory;
 * when full the oldest is dropped). Lines that continue a syscall message
 * (" --> [pre-fail] Failure(0x26)" after "unimplemented ... syscall") are
 * skipped.
 *
 * Records: addr and size as printed; MM_TREC_SIZE. A syscall record has addr
 * = the mapping's start (mmap/mremap: the result when it succeeded, else
 * args[0]) and size = its length (mmap len, munmap len, mprotect len, mremap
 * new len; 0 for brk).
 *
 * Cost: one pass over the line, no allocation.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "trace_internal.h"

#define TR_LK_PENDING 16

struct lk_pending {
	int used;
	struct mm_trace_syscall sys;
};

struct lk_state {
	unsigned flags;
	unsigned next_slot;          /* round-robin victim when the table is full */
	struct lk_pending pend[TR_LK_PENDING];
};

static int lk_setup(void *vst, const struct mm_trace_opts *o, const char *sample, size_t n,
		    int at_eof, char *err, size_t errlen)
{
	struct lk_state *st = vst;
	(void)sample, (void)n, (void)at_eof, (void)err, (void)errlen;
	st->flags = o->flags;
	return 0;
}

/* "==123==", "--123--", "**123**": valgrind's own output */
static int is_vg_line(const char *p, const char *end)
{
	char c = *p;
	if (end - p < 5 || p[1] != c)
		return 0;
	p += 2;
	if (!tr_isdigit(*p))
		return 0;
	while (p < end && tr_isdigit(*p))
		p++;
	return end - p >= 2 && p[0] == c && p[1] == c;
}

static int has_prefix(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* ---- System calls ------------------------------------------------------- */

static const struct {
	const char *name;
	enum mm_trace_sysno which;
	unsigned min_args, max_args;
} lk_sys[] = {
	{ "mmap", MM_SYS_MMAP, 6, 6 },         { "mmap2", MM_SYS_MMAP, 6, 6 },
	{ "munmap", MM_SYS_MUNMAP, 2, 2 },     { "mprotect", MM_SYS_MPROTECT, 3, 3 },
	{ "brk", MM_SYS_BRK, 1, 1 },           { "mremap", MM_SYS_MREMAP, 4, 5 },
};

static int sys_lookup(const char *name, size_t n)
{
	if (n > 4 && memcmp(name, "sys_", 4) == 0)
		name += 4, n -= 4;
	for (size_t i = 0; i < MM_ARRAY_SIZE(lk_sys); i++)
		if (strlen(lk_sys[i].name) == n && memcmp(lk_sys[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* A number as valgrind prints arguments: 0x hex, decimal, or -decimal. */
static int sys_num(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	int neg = 0;
	if (p < end && *p == '-')
		neg = 1, p++;
	int r = tr_num(&p, end, v);
	if (r != TR_NUM_OK)
		return r == TR_NUM_BADHEX ? TR_NUM_NONE : r;
	if (neg)
		*v = (uint64_t)0 - *v;
	*pp = p;
	return TR_NUM_OK;
}

/* "Success(0x..)" or "Failure(0x..)" at p; the rest of the line may only be
 * spaces. */
static int sys_result(const char *s, const char *p, const char *end, struct mm_trace_syscall *sc,
		      struct tr_perr *e)
{
	char b[16];
	if (has_prefix(p, end, "Success("))
		sc->failed = 0, p += 8;
	else if (has_prefix(p, end, "Failure("))
		sc->failed = 1, p += 8;
	else
		return tr_fail(e, (size_t)(p - s), "expected Success(...) or Failure(...), found %s",
			       tr_show(p, end, b));
	int r = tr_num(&p, end, &sc->ret);
	if (r == TR_NUM_OVF)
		return tr_fail(e, (size_t)(p - s), "result does not fit in 64 bits");
	if (r != TR_NUM_OK)
		return tr_fail(e, (size_t)(p - s), "expected a number in the result, found %s",
			       tr_show(p, end, b));
	if (p >= end || *p != ')')
		return tr_fail(e, (size_t)(p - s), "expected ')' after the result, found %s",
			       tr_show(p, end, b));
	p = tr_skip_space(p + 1, end);
	if (p != end)
		return tr_fail(e, (size_t)(p - s), "unexpected %s after the result",
			       tr_show(p, end, b));
	return TR_REC;
}

static void sys_to_rec(struct mm_trace_rec *rec, const struct mm_trace_syscall *sc)
{
	rec->kind = MM_TRACE_SYSCALL;
	rec->flags = 0;
	rec->sys = *sc;
	rec->addr = sc->nargs ? sc->args[0] : 0;
	rec->size = 0;
	switch (sc->which) {
	case MM_SYS_MMAP:
		if (!sc->failed)
			rec->addr = sc->ret;
		rec->size = sc->args[1];
		break;
	case MM_SYS_MREMAP:
		if (!sc->failed)
			rec->addr = sc->ret;
		rec->size = sc->args[2];
		break;
	case MM_SYS_MUNMAP:
	case MM_SYS_MPROTECT:
		rec->size = sc->args[1];
		break;
	default:
		break;
	}
}

static struct lk_pending *pend_find(struct lk_state *st, const struct mm_trace_syscall *k)
{
	for (int i = 0; i < TR_LK_PENDING; i++) {
		struct lk_pending *q = &st->pend[i];
		if (q->used && q->sys.pid == k->pid && q->sys.tid == k->tid && q->sys.nr == k->nr)
			return q;
	}
	return NULL;
}

static void pend_add(struct lk_state *st, const struct mm_trace_syscall *sc)
{
	struct lk_pending *q = pend_find(st, sc);
	for (int i = 0; !q && i < TR_LK_PENDING; i++)
		if (!st->pend[i].used)
			q = &st->pend[i];
	if (!q)
		q = &st->pend[st->next_slot++ % TR_LK_PENDING];
	q->used = 1;
	q->sys = *sc;
}

/* Arguments "( a, b, c )" starting at the '('; strict for the mapping calls,
 * lenient (stop quietly at anything odd) for the others. Returns the position
 * after ')' or NULL (error in *e when strict, *lenient_bad set otherwise). */
static const char *sys_args(const char *s, const char *p, const char *end,
			    struct mm_trace_syscall *sc, int strict, struct tr_perr *e, int *bad)
{
	char b[16];
	p = tr_skip_space(p + 1, end);
	if (p < end && *p == ')')
		return p + 1;
	for (;;) {
		uint64_t v;
		int r = sys_num(&p, end, &v);
		if (r != TR_NUM_OK || sc->nargs == MM_TRACE_SYS_MAXARGS) {
			if (!strict)
				return *bad = 1, NULL;
			if (sc->nargs == MM_TRACE_SYS_MAXARGS)
				tr_fail(e, (size_t)(p - s), "more than %d arguments",
					MM_TRACE_SYS_MAXARGS);
			else if (r == TR_NUM_OVF)
				tr_fail(e, (size_t)(p - s), "argument %u does not fit in 64 bits",
					sc->nargs + 1);
			else
				tr_fail(e, (size_t)(p - s), "expected a number as argument %u, found %s",
					sc->nargs + 1, tr_show(p, end, b));
			return *bad = 0, NULL;
		}
		sc->args[sc->nargs++] = v;
		if (!strict && p < end && *p == '(') {
			/* "0x4034bb0(/a (1).so)": skip the note, up to the ')' that
			 * is followed by ',' or ')' */
			const char *q = p, *after;
			do {
				q = memchr(q + 1, ')', (size_t)(end - q - 1));
				if (!q)
					return *bad = 1, NULL;
				after = tr_skip_space(q + 1, end);
			} while (after < end && *after != ',' && *after != ')');
			p = q + 1;
		}
		p = tr_skip_space(p, end);
		if (p < end && *p == ')')
			return p + 1;
		if (p < end && *p == ',') {
			p = tr_skip_space(p + 1, end);
			continue;
		}
		if (!strict)
			return *bad = 1, NULL;
		tr_fail(e, (size_t)(p - s), "expected ',' or ')' after argument %u, found %s",
			sc->nargs, tr_show(p, end, b));
		return *bad = 0, NULL;
	}
}

static int lk_syscall(struct lk_state *st, const char *s, const char *p, const char *end,
		      struct mm_trace_rec *rec, struct tr_perr *e)
{
	struct mm_trace_syscall sc;
	uint64_t v;
	char b[16];
	memset(&sc, 0, sizeof(sc));
	p += 8; /* "SYSCALL[" */
	if (tr_dec(&p, end, &v) != TR_NUM_OK || v > UINT32_MAX)
		return tr_fail(e, (size_t)(p - s), "expected a process id after 'SYSCALL['");
	sc.pid = (uint32_t)v;
	if (p >= end || *p++ != ',')
		return tr_fail(e, (size_t)(p - 1 - s), "expected ',' after the process id");
	if (tr_dec(&p, end, &v) != TR_NUM_OK || v > UINT32_MAX)
		return tr_fail(e, (size_t)(p - s), "expected a thread id after ','");
	sc.tid = (uint32_t)v;
	if (end - p < 2 || p[0] != ']' || p[1] != '(')
		return tr_fail(e, (size_t)(p - s), "expected '](' after the thread id");
	p += 2;
	if (tr_dec(&p, end, &v) != TR_NUM_OK || v > INT32_MAX)
		return tr_fail(e, (size_t)(p - s), "expected a syscall number after '('");
	sc.nr = (int32_t)v;
	if (p >= end || *p++ != ')')
		return tr_fail(e, (size_t)(p - 1 - s), "expected ')' after the syscall number");
	p = tr_skip_space(p, end);

	if (has_prefix(p, end, "...")) { /* completion of an [async] call */
		const char *arrow = memmem(p, (size_t)(end - p), "-->", 3);
		if (!arrow)
			return tr_fail(e, (size_t)(p - s), "expected '-->' in the [async] completion");
		struct lk_pending *q = pend_find(st, &sc);
		if (!q)
			return TR_NONE; /* not a call we keep */
		struct mm_trace_syscall done = q->sys;
		q->used = 0;
		int r = sys_result(s, tr_skip_space(arrow + 3, end), end, &done, e);
		if (r == TR_REC)
			sys_to_rec(rec, &done);
		else if (done.which == MM_SYS_OTHER)
			r = TR_NONE; /* lenient for the other calls, as below */
		return r;
	}

	const char *name = p;
	while (p < end && (tr_hexval(*p) >= 0 || (*p >= 'a' && *p <= 'z') ||
			   (*p >= 'A' && *p <= 'Z') || *p == '_'))
		p++;
	size_t nlen = (size_t)(p - name);
	int k = sys_lookup(name, nlen);
	if (k < 0 && !(st->flags & MM_TRACE_ALL_SYSCALLS))
		return TR_NONE;
	size_t cp = MM_MIN(nlen, sizeof(sc.name) - 1);
	memcpy(sc.name, name, cp);
	sc.name[cp] = 0;
	sc.which = k < 0 ? MM_SYS_OTHER : lk_sys[k].which;
	int strict = k >= 0, bad = 0;

	p = tr_skip_space(p, end);
	if (p >= end || *p != '(') {
		if (!strict)
			return TR_NONE;
		return tr_fail(e, (size_t)(p - s), "expected '(' after %s, found %s", sc.name,
			       tr_show(p, end, b));
	}
	p = sys_args(s, p, end, &sc, strict, e, &bad);
	if (!p)
		return bad ? TR_NONE : TR_ERR;
	if (strict && (sc.nargs < lk_sys[k].min_args || sc.nargs > lk_sys[k].max_args))
		return tr_fail(e, (size_t)(name - s), "%s takes %u%s arguments, found %u", sc.name,
			       lk_sys[k].min_args, lk_sys[k].max_args > lk_sys[k].min_args ? "+" : "",
			       sc.nargs);
	if (strict && strcmp(lk_sys[k].name, "mmap2") == 0)
		sc.args[5] <<= 12; /* mmap2 counts the offset in 4096-byte units */

	p = tr_skip_space(p, end);
	if (has_prefix(p, end, "[sync]"))
		p = tr_skip_space(p + 6, end);
	if (!has_prefix(p, end, "-->")) {
		if (!strict)
			return TR_NONE;
		return tr_fail(e, (size_t)(p - s), "expected '-->' after the arguments, found %s",
			       tr_show(p, end, b));
	}
	p = tr_skip_space(p + 3, end);
	if (has_prefix(p, end, "[async]")) {
		pend_add(st, &sc);
		return TR_NONE;
	}
	if (p < end && *p == '[') { /* [pre-success], [pre-fail], ... */
		const char *q = memchr(p, ']', (size_t)(end - p));
		if (!q) {
			if (!strict)
				return TR_NONE;
			return tr_fail(e, (size_t)(p - s), "expected ']' to close the status tag");
		}
		p = tr_skip_space(q + 1, end);
	}
	int r = sys_result(s, p, end, &sc, e);
	if (r != TR_REC)
		return strict ? r : TR_NONE;
	sys_to_rec(rec, &sc);
	return TR_REC;
}

/* ---- Access lines ------------------------------------------------------- */

static int lk_parse(void *vst, struct tr_line *ln, struct mm_trace_rec *rec, struct tr_perr *e)
{
	const char *s = ln->p, *end = s + ln->len, *p = s;
	enum mm_trace_kind kind;
	char b[16];
	ln->pos = ln->len;
	p = tr_skip_space(p, end);
	if (p == end)
		return TR_NONE;
	switch (*p) {
	case 'I': kind = MM_TRACE_IFETCH; break;
	case 'L': kind = MM_TRACE_READ; break;
	case 'M': kind = MM_TRACE_MODIFY; break;
	case 'S':
		if (has_prefix(p, end, "SYSCALL["))
			return lk_syscall(vst, s, p, end, rec, e);
		if (has_prefix(p, end, "SB") && (end - p == 2 || tr_isspace(p[2])))
			return TR_NONE;
		kind = MM_TRACE_WRITE;
		break;
	case '#':
		return TR_NONE;
	case '=': case '-': case '*':
		if (is_vg_line(p, end) || has_prefix(p, end, "-->"))
			return TR_NONE;
		/* fall through */
	default:
		return tr_fail(e, (size_t)(p - s),
			       "unrecognised line: expected I, L, S or M, a valgrind ==PID== line "
			       "or SYSCALL[...], found %s", tr_show(p, end, b));
	}
	char op = *p++;
	if (p >= end || !tr_isspace(*p))
		return tr_fail(e, (size_t)(p - s), "expected a space after '%c', found %s", op,
			       tr_show(p, end, b));
	p = tr_skip_space(p, end);
	if (end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
		p += 2;
	const char *num = p;
	int r = tr_hex(&p, end, &rec->addr);
	if (mm_unlikely(r != TR_NUM_OK)) {
		if (r == TR_NUM_OVF)
			return tr_fail(e, (size_t)(num - s), "address does not fit in 64 bits");
		return tr_fail(e, (size_t)(p - s), "expected hex address after '%c', found %s", op,
			       tr_show(p, end, b));
	}
	if (mm_unlikely(p >= end || *p != ','))
		return tr_fail(e, (size_t)(p - s), "expected ',' after the address, found %s",
			       tr_show(p, end, b));
	num = ++p;
	r = tr_dec(&p, end, &rec->size);
	if (mm_unlikely(r != TR_NUM_OK)) {
		if (r == TR_NUM_OVF)
			return tr_fail(e, (size_t)(num - s), "size does not fit in 64 bits");
		return tr_fail(e, (size_t)(p - s), "expected decimal size after ',', found %s",
			       tr_show(p, end, b));
	}
	p = tr_skip_space(p, end);
	if (mm_unlikely(p != end))
		return tr_fail(e, (size_t)(p - s), "unexpected %s after the size", tr_show(p, end, b));
	rec->kind = kind;
	rec->flags = MM_TREC_SIZE;
	return TR_REC;
}

/* Lackey if the first line with content is valgrind's banner, a SYSCALL line
 * or a well-formed access line. */
static int lk_sniff(const char *sample, size_t n, int at_eof, const struct mm_trace_opts *o)
{
	struct tr_line ln;
	const char *cur = sample;
	while (tr_sample_line(sample, n, at_eof, &cur, &ln)) {
		const char *p = tr_skip_space(ln.p, ln.p + ln.len), *end = ln.p + ln.len;
		if (p == end || *p == '#')
			continue;
		if (is_vg_line(p, end) || has_prefix(p, end, "SYSCALL["))
			return 1;
		struct lk_state st;
		struct mm_trace_rec rec;
		struct tr_perr e;
		memset(&st, 0, sizeof(st));
		st.flags = o->flags;
		/* an access line: a letter and spaces first, so "1,2" is not lackey */
		if (!(*p == 'I' || *p == 'L' || *p == 'S' || *p == 'M'))
			return 0;
		return lk_parse(&st, &ln, &rec, &e) == TR_REC;
	}
	return 0;
}

const struct tr_fmt_ops tr_lackey_ops = {
	.name = "lackey",
	.fmt = MM_TRACE_FMT_LACKEY,
	.state_size = sizeof(struct lk_state),
	.setup = lk_setup,
	.parse = lk_parse,
	.sniff = lk_sniff,
};
