/* Format "csv": libCacheSim's csv trace (libCacheSim traceReader/generalReader/
 * csv.c; cachesim -t "time-col=2, obj-id-col=5, obj-size-col=4, ...").
 *
 *     time,obj_id,size,op          <- optional header
 *     1,4096,512,get
 *     2,8192,512,set
 *
 * Fields are separated by one delimiter character: ',' TAB ';' or '|'
 * detected from the first lines (the candidate found most often on the first
 * line, preferring one found equally often on the second), or any character
 * chosen with delimiter=. Spaces and tabs around a field are ignored (tabs
 * only when TAB is not the delimiter). A field may be double-quoted; the
 * delimiter inside quotes does not split it, and "" stands for one quote
 * (kept as the two bytes in a hashed id). Blank lines and lines starting with
 * '#' are skipped. Fields past the last column used are not examined.
 *
 * Columns (counted from 1, or named by a header field, case insensitive):
 *   obj-id   required. A number (decimal or 0x hex, up to 2^64-1) or, with
 *            obj-id-is-num=false, a string hashed to 64 bits; by default the
 *            first row decides (as in txt.c).
 *   time     optional, decimal, up to 2^64-1 (MM_TREC_TIME).
 *   size     optional, decimal bytes (MM_TREC_SIZE).
 *   op       optional: get gets read r lookup -> read; set add replace cas
 *            append prepend incr decr write w put update insert -> write;
 *            delete del remove invalidate -> delete (case insensitive).
 * Columns not given are looked up in the header by the usual names (obj_id,
 * id, key, addr, page, block, lba, ...; time, timestamp, ts; size, obj_size,
 * len, bytes; op, operation, type, rw). The header is detected when a field
 * of the first line is one of those names, or is not a number where the
 * second line has a number (one line alone: when none of its fields is a
 * number); has-header= overrides.
 *
 * Records: kind from op (read without one), flags MM_TREC_ID plus TIME/SIZE
 * when those columns exist. Cost: one scan of the line up to the last column
 * used, no allocation.
 */
#include <stdio.h>
#include <string.h>

#include "trace_internal.h"

enum { C_ID, C_TIME, C_SIZE, C_OP, C_N };

#define CSV_HDR_FIELDS 64             /* header fields examined for names */
#define CSV_MAX_COL    (1 << 20)

static const char *const col_key[C_N] = { "obj-id", "time", "size", "op" };

struct csv_state {
	char delim;
	int header_pending;          /* the next content line is the header */
	int col[C_N];                /* 0-based field index, -1 when absent */
	int maxcol;                  /* the last field index needed */
	int id_is_num;               /* 1 numbers, 0 strings, -1 not yet known */
};

/* ---- Fields ------------------------------------------------------------- */

struct csv_field {
	const char *s, *e;           /* content, trimmed, quotes removed */
	const char *next;            /* after the delimiter, or NULL at line end */
};

MM_INLINE int csv_blank(char c, char delim)
{
	return (c == ' ' || c == '\t') && c != delim;
}

/* Split off the field at p. TR_REC or TR_ERR (bad quoting). */
static int csv_field(const char *line, const char *p, const char *end, char delim,
		     struct csv_field *f, struct tr_perr *e)
{
	char b[16];
	while (p < end && csv_blank(*p, delim))
		p++;
	if (p < end && *p == '"') {
		const char *q = p + 1;
		for (;;) {
			q = memchr(q, '"', (size_t)(end - q));
			if (!q)
				return tr_fail(e, (size_t)(p - line), "unterminated quoted field");
			if (q + 1 < end && q[1] == '"') {
				q += 2;
				continue;
			}
			break;
		}
		f->s = p + 1;
		f->e = q;
		p = q + 1;
		while (p < end && csv_blank(*p, delim))
			p++;
		if (p < end && *p != delim)
			return tr_fail(e, (size_t)(p - line), "unexpected %s after the closing quote",
				       tr_show(p, end, b));
		f->next = p < end ? p + 1 : NULL;
		return TR_REC;
	}
	/* p <= end here; the explicit test also keeps gcc's -Wstringop-overread
	 * from assuming a negative length in some optimisation levels */
	const char *q = p < end ? memchr(p, delim, (size_t)(end - p)) : NULL;
	f->next = q ? q + 1 : NULL;
	if (!q)
		q = end;
	f->s = p;
	while (q > p && csv_blank(q[-1], delim))
		q--;
	f->e = q;
	return TR_REC;
}

static int is_num(const struct csv_field *f)
{
	uint64_t v;
	return tr_num_field(f->s, f->e, &v) == TR_NUM_OK;
}

/* ---- Ops ---------------------------------------------------------------- */

#define OP(s, k) { s, sizeof(s) - 1, k }
static const struct {
	const char *name;
	size_t len;
	enum mm_trace_kind kind;
} csv_ops_names[] = {
	OP("get", MM_TRACE_READ),     OP("gets", MM_TRACE_READ),     OP("read", MM_TRACE_READ),
	OP("r", MM_TRACE_READ),       OP("lookup", MM_TRACE_READ),   OP("set", MM_TRACE_WRITE),
	OP("add", MM_TRACE_WRITE),    OP("replace", MM_TRACE_WRITE), OP("cas", MM_TRACE_WRITE),
	OP("append", MM_TRACE_WRITE), OP("prepend", MM_TRACE_WRITE), OP("incr", MM_TRACE_WRITE),
	OP("decr", MM_TRACE_WRITE),   OP("write", MM_TRACE_WRITE),   OP("w", MM_TRACE_WRITE),
	OP("put", MM_TRACE_WRITE),    OP("update", MM_TRACE_WRITE),  OP("insert", MM_TRACE_WRITE),
	OP("delete", MM_TRACE_DELETE), OP("del", MM_TRACE_DELETE),   OP("remove", MM_TRACE_DELETE),
	OP("invalidate", MM_TRACE_DELETE),
};
#undef OP

#define CSV_OP_MAX 10 /* the longest op name */

static int csv_op(const char *p, const char *e)
{
	char low[CSV_OP_MAX];
	size_t n = (size_t)(e - p);
	if (n == 0 || n > CSV_OP_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] | 0x20 : p[i]);
	for (size_t i = 0; i < MM_ARRAY_SIZE(csv_ops_names); i++)
		if (csv_ops_names[i].len == n && memcmp(csv_ops_names[i].name, low, n) == 0)
			return (int)csv_ops_names[i].kind;
	return -1;
}

/* ---- Header names ------------------------------------------------------- */

static const char *const known_names[C_N][16] = {
	[C_ID] = { "obj_id", "objid", "id", "key", "obj", "object", "object_id", "addr", "address",
		   "page", "block", "lba", "item", NULL },
	[C_TIME] = { "time", "timestamp", "ts", "clock", "vtime", NULL },
	[C_SIZE] = { "size", "obj_size", "objsize", "len", "length", "bytes", NULL },
	[C_OP] = { "op", "operation", "op_type", "optype", "type", "rw", "cmd", "command", NULL },
};

/* Compare a field with a name: case insensitive, '-' same as '_'. */
static int name_eq(const struct csv_field *f, const char *name)
{
	size_t n = (size_t)(f->e - f->s);
	if (strlen(name) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = f->s[i], c = name[i];
		a = a == '-' ? '_' : (char)((a >= 'A' && a <= 'Z') ? a | 0x20 : a);
		c = c == '-' ? '_' : (char)((c >= 'A' && c <= 'Z') ? c | 0x20 : c);
		if (a != c)
			return 0;
	}
	return 1;
}

static int known_col(const struct csv_field *f)
{
	for (int c = 0; c < C_N; c++)
		for (int i = 0; known_names[c][i]; i++)
			if (name_eq(f, known_names[c][i]))
				return c;
	return -1;
}

/* Split a sample line into at most CSV_HDR_FIELDS fields; returns the count or
 * -1 on bad quoting. */
static int split(const struct tr_line *ln, char delim, struct csv_field *fs)
{
	struct tr_perr e;
	const char *p = ln->p, *end = ln->p + ln->len;
	int n = 0;
	while (n < CSV_HDR_FIELDS) {
		if (csv_field(ln->p, p, end, delim, &fs[n], &e) < 0)
			return -1;
		p = fs[n++].next;
		if (!p)
			break;
	}
	return n;
}

static size_t count_char(const struct tr_line *ln, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < ln->len; i++)
		k += ln->p[i] == c;
	return k;
}

static char detect_delim(const struct tr_line *l1, const struct tr_line *l2)
{
	static const char cand[] = { ',', '\t', ';', '|' };
	char best = 0;
	size_t best_n = 0;
	int best_same = 0;
	for (size_t i = 0; i < sizeof(cand); i++) {
		size_t n1 = count_char(l1, cand[i]);
		int same = l2 && count_char(l2, cand[i]) == n1;
		if (n1 == 0)
			continue;
		if (same > best_same || (same == best_same && n1 > best_n))
			best = cand[i], best_n = n1, best_same = same;
	}
	return best ? best : ',';
}

/* ---- Setup -------------------------------------------------------------- */

static int csv_setup(void *vst, const struct mm_trace_opts *o, const char *sample, size_t n,
		     int at_eof, char *err, size_t errlen)
{
	struct csv_state *st = vst;
	const char *given[C_N] = { o->csv.obj_id_col, o->csv.time_col, o->csv.size_col,
				   o->csv.op_col };
	struct tr_line lines[2], ln;
	struct csv_field h[CSV_HDR_FIELDS], d[CSV_HDR_FIELDS];
	const char *cur = sample;
	int nl = 0, nh = 0, nd = 0, header;

	st->id_is_num = o->id_is_num;
	while (nl < 2 && tr_sample_line(sample, n, at_eof, &cur, &ln)) {
		const char *p = tr_skip_space(ln.p, ln.p + ln.len);
		if (p < ln.p + ln.len && *p != '#')
			lines[nl++] = ln;
	}
	st->delim = o->csv.delimiter ? o->csv.delimiter
		    : nl ? detect_delim(&lines[0], nl > 1 ? &lines[1] : NULL) : ',';
	if (nl > 0 && (nh = split(&lines[0], st->delim, h)) < 0)
		nh = 0;
	if (nl > 1 && (nd = split(&lines[1], st->delim, d)) < 0)
		nd = 0;

	header = o->csv.has_header;
	if (header < 0) {
		header = 0;
		for (int i = 0; i < nh && !header; i++) {
			if (known_col(&h[i]) >= 0)
				header = 1;
			else if (nl > 1 && i < nd && !is_num(&h[i]) && is_num(&d[i]))
				header = 1;
		}
		if (nl == 1) {
			header = 1;
			for (int i = 0; i < nh; i++)
				header &= !is_num(&h[i]);
		}
	}
	st->header_pending = header && nl > 0;

	st->maxcol = 0;
	for (int c = 0; c < C_N; c++) {
		const char *g = given[c];
		st->col[c] = -1;
		if (g[0]) {
			uint64_t v;
			if (tr_num_field(g, g + strlen(g), &v) == TR_NUM_OK) {
				if (v < 1 || v > CSV_MAX_COL) {
					snprintf(err, errlen, "csv: %s column %s out of range 1..%d",
						 col_key[c], g, CSV_MAX_COL);
					return -1;
				}
				st->col[c] = (int)v - 1;
			} else {
				for (int i = 0; header && i < nh && st->col[c] < 0; i++)
					if (name_eq(&h[i], g))
						st->col[c] = i;
				if (st->col[c] < 0 && nl > 0) {
					snprintf(err, errlen, "csv: no column named '%s' in the %s", g,
						 header ? "header" : "trace (it has no header)");
					return -1;
				}
			}
		} else {
			for (int i = 0; header && i < nh && st->col[c] < 0; i++)
				if (known_col(&h[i]) == c)
					st->col[c] = i;
		}
		if (st->col[c] > st->maxcol)
			st->maxcol = st->col[c];
	}
	if (st->col[C_ID] < 0) {
		if (nl == 0) { /* an empty trace needs no columns */
			st->col[C_ID] = 0;
			return 0;
		}
		snprintf(err, errlen,
			 "csv: which column holds the object id? give obj-id-col=N (from 1) or "
			 "a header naming it (obj_id, id, key, addr, ...)");
		return -1;
	}
	return 0;
}

/* ---- Rows --------------------------------------------------------------- */

/* A whole field as a decimal number (time, size). */
static int csv_dec(const struct csv_field *f, uint64_t *v, struct tr_perr *e, const char *line,
		   int i, const char *what)
{
	char b[16];
	const char *p = f->s;
	int r = tr_dec(&p, f->e, v);
	if (r == TR_NUM_OVF)
		return tr_fail(e, (size_t)(f->s - line), "%s does not fit in 64 bits", what);
	if (r != TR_NUM_OK || p != f->e)
		return tr_fail(e, (size_t)(p - line), "expected a decimal %s in field %d, found %s",
			       what, i + 1, tr_show(p, f->e, b));
	return 0;
}

static int csv_parse(void *vst, struct tr_line *ln, struct mm_trace_rec *rec, struct tr_perr *e)
{
	struct csv_state *st = vst;
	const char *s = ln->p, *end = s + ln->len, *p = s;
	struct csv_field f;
	char b[16];
	ln->pos = ln->len;
	p = tr_skip_space(p, end);
	if (p == end || *p == '#')
		return TR_NONE;
	if (st->header_pending) {
		st->header_pending = 0;
		return TR_NONE;
	}
	rec->kind = MM_TRACE_READ;
	rec->flags = MM_TREC_ID;
	rec->size = 0;
	p = s;
	for (int i = 0; i <= st->maxcol; i++) {
		if (!p)
			return tr_fail(e, ln->len, "row has %d field%s, expected at least %d", i,
				       i == 1 ? "" : "s", st->maxcol + 1);
		if (csv_field(s, p, end, st->delim, &f, e) < 0)
			return TR_ERR;
		p = f.next;
		uint64_t v;
		int r;
		if (i == st->col[C_ID]) {
			if (st->id_is_num != 0) {
				r = tr_num_field(f.s, f.e, &v);
				if (r == TR_NUM_OK) {
					st->id_is_num = 1;
					rec->addr = v;
					continue;
				}
				if (st->id_is_num > 0) {
					if (r == TR_NUM_OVF)
						return tr_fail(e, (size_t)(f.s - s),
							       "object id does not fit in 64 bits");
					return tr_fail(e, (size_t)(f.s - s),
						       "expected a numeric object id in field %d, found %s "
						       "(obj-id-is-num=false hashes string ids)",
						       i + 1, tr_show(f.s, f.e, b));
				}
			}
			st->id_is_num = 0;
			rec->addr = tr_hash_id(f.s, (size_t)(f.e - f.s));
		}
		if (i == st->col[C_TIME]) {
			if (csv_dec(&f, &v, e, s, i, "time") < 0)
				return TR_ERR;
			rec->time = v;
			rec->flags |= MM_TREC_TIME;
		}
		if (i == st->col[C_SIZE]) {
			if (csv_dec(&f, &v, e, s, i, "size") < 0)
				return TR_ERR;
			rec->size = v;
			rec->flags |= MM_TREC_SIZE;
		}
		if (i == st->col[C_OP]) {
			int k = csv_op(f.s, f.e);
			if (k < 0)
				return tr_fail(e, (size_t)(f.s - s),
					       "unknown op '%.*s' in field %d (expected get, set, delete, "
					       "read, write, ...)", (int)MM_MIN(f.e - f.s, 32),
					       f.s, i + 1);
			rec->kind = (enum mm_trace_kind)k;
		}
	}
	return TR_REC;
}

static int csv_sniff(const char *sample, size_t n, int at_eof, const struct mm_trace_opts *o)
{
	return tr_sniff_by_parse(&tr_csv_ops, o, sample, n, at_eof);
}

const struct tr_fmt_ops tr_csv_ops = {
	.name = "csv",
	.fmt = MM_TRACE_FMT_CSV,
	.state_size = sizeof(struct csv_state),
	.setup = csv_setup,
	.parse = csv_parse,
	.sniff = csv_sniff,
};
