/* Trace reader: the line buffer, format detection, error positions, and the
 * public mm_trace_* API around the per-format parsers.
 *
 * Streaming: decompressed bytes land in one buffer (TR_BUF_INIT, 256 KiB);
 * lines are found with memchr and handed to the format's parser in place, so
 * there is no copy and no allocation per line. A line that does not fit grows
 * the buffer, up to max_line; a longer line is an error. Memory is therefore
 * bounded by max_line plus the decoder's state, whatever the trace's length.
 *
 * Detection (MM_TRACE_FMT_AUTO) looks at the first 64 KiB (at most
 * TR_SNIFF_LINES lines) and takes the first format in the order lackey, txt,
 * addr, csv whose sniff accepts the sample (csv first when its obj-id column
 * is given); an input with no content is an empty txt trace. docs/traces.md
 * states the rules.
 *
 * Errors are "NAME:LINE:COL: cause" with LINE and COL counted from 1 (COL in
 * bytes), built only when an error happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "trace_internal.h"

struct mm_trace {
	char *name;                  /* for messages */
	struct mm_trace_opts o;
	const struct tr_fmt_ops *ops;
	void *st;                    /* the format's state, ops->state_size bytes */
	struct tr_input in;
	char *buf;                   /* decompressed text; buf[start, end) unread */
	size_t cap, start, end;
	int in_eof;                  /* the input has nothing more */
	int in_fail;                 /* the input failed (mm_err < 0; why in in.err) */
	uint64_t lineno;             /* lines taken from the buffer so far */
	struct tr_line ln;           /* the line being parsed */
	int have_line;               /* ln still has records (pos < len) */
	uint64_t nrec;               /* records returned */
	uint64_t skipped;            /* bad lines skipped */
	int stop;                    /* 0 reading; else the value next() keeps returning */
	int stopped;
	int have_msg;
	char msg[TR_MSG_MAX];
};

/* ---- Shared helpers for the formats ------------------------------------- */

#define NO16 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1

const signed char tr_hex_tab[256] = {
	NO16, NO16, NO16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,          /* '0'..'9' */
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 'A'..'F' */
	NO16,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 'a'..'f' */
	NO16, NO16, NO16, NO16, NO16, NO16, NO16, NO16, NO16,           /* 0x70..0xff */
};

int tr_fail(struct tr_perr *e, size_t col, const char *fmt, ...)
{
	va_list ap;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return TR_ERR;
}

const char *tr_show(const char *p, const char *end, char *buf)
{
	unsigned char c;
	if (p >= end)
		return "end of line";
	c = (unsigned char)*p;
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "'\\x%02x'", c);
	return buf;
}

int tr_sample_line(const char *sample, size_t n, int at_eof, const char **cur, struct tr_line *ln)
{
	const char *p = *cur, *end = sample + n;
	if (p >= end)
		return 0;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl) {
		if (!at_eof)
			return 0;
		nl = end;
	}
	ln->p = p;
	ln->len = (size_t)(nl - p);
	if (ln->len && p[ln->len - 1] == '\r')
		ln->len--;
	ln->pos = 0;
	ln->no = 0;
	*cur = nl < end ? nl + 1 : end;
	return 1;
}

/* Read the sample as ops would: -1 if ops cannot be set up for it, else the
 * number of the first line that fails (0: none), with *recs the records
 * before it, *lines the lines before it that gave records, and *e the
 * failure. At most TR_SNIFF_LINES lines. */
static long read_sample(const struct tr_fmt_ops *ops, const struct mm_trace_opts *o,
			const char *sample, size_t n, int at_eof, int *recs, int *lines,
			struct tr_perr *e)
{
	char err[128];
	struct mm_trace_rec rec;
	struct tr_line ln;
	const char *cur = sample;
	long bad = 0;
	*recs = *lines = 0;
	void *st = calloc(1, ops->state_size);
	if (!st)
		return -1;
	if (ops->setup(st, o, sample, n, at_eof, err, sizeof(err)) < 0) {
		free(st);
		return -1;
	}
	for (int i = 0; !bad && i < TR_SNIFF_LINES && tr_sample_line(sample, n, at_eof, &cur, &ln);
	     i++) {
		int before = *recs;
		for (;;) {
			int r = ops->parse(st, &ln, &rec, e);
			if (r == TR_ERR)
				bad = i + 1;
			if (r != TR_REC)
				break;
			(*recs)++;
			if (ln.pos >= ln.len)
				break;
		}
		*lines += !bad && *recs > before;
	}
	free(st);
	return bad;
}

int tr_sniff_by_parse(const struct tr_fmt_ops *ops, const struct mm_trace_opts *o,
		      const char *sample, size_t n, int at_eof)
{
	struct tr_perr e;
	int recs, lines;
	return read_sample(ops, o, sample, n, at_eof, &recs, &lines, &e) == 0 && recs > 0;
}

uint64_t tr_hash_id(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* ---- Names -------------------------------------------------------------- */

static const char *const fmt_names[MM_TRACE_FMT_COUNT] = {
	[MM_TRACE_FMT_AUTO] = "auto",  [MM_TRACE_FMT_LACKEY] = "lackey",
	[MM_TRACE_FMT_TXT] = "txt",    [MM_TRACE_FMT_ADDR] = "addr",
	[MM_TRACE_FMT_CSV] = "csv",
};

const char *mm_trace_fmt_name(enum mm_trace_fmt fmt)
{
	return (unsigned)fmt < MM_TRACE_FMT_COUNT ? fmt_names[fmt] : "?";
}

int mm_trace_fmt_parse(const char *name)
{
	for (int i = 0; i < MM_TRACE_FMT_COUNT; i++)
		if (name && strcasecmp(name, fmt_names[i]) == 0)
			return i;
	return -MM_EINVAL;
}

const char *mm_trace_kind_name(enum mm_trace_kind kind)
{
	static const char *const names[] = { "read", "write", "modify", "ifetch", "delete",
					     "syscall" };
	return (unsigned)kind < MM_ARRAY_SIZE(names) ? names[kind] : "?";
}

static const struct tr_fmt_ops *fmt_ops(enum mm_trace_fmt fmt)
{
	switch (fmt) {
	case MM_TRACE_FMT_LACKEY: return &tr_lackey_ops;
	case MM_TRACE_FMT_TXT: return &tr_txt_ops;
	case MM_TRACE_FMT_ADDR: return &tr_addr_ops;
	case MM_TRACE_FMT_CSV: return &tr_csv_ops;
	default: return NULL;
	}
}

/* ---- Errors ------------------------------------------------------------- */

MM_PRINTF(2, 3)
static void set_msg(struct mm_trace *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->have_msg = 1;
}

static int stop_with(struct mm_trace *t, int ret)
{
	t->stop = ret;
	t->stopped = 1;
	return ret;
}

/* An input error (not a line's fault): always fatal. */
static int input_failed(struct mm_trace *t, int r)
{
	set_msg(t, "%s:%llu: %s", t->name, (unsigned long long)(t->lineno + 1), t->in.err);
	return stop_with(t, r);
}

/* ---- The line buffer ---------------------------------------------------- */

/* Read more input into the buffer, growing it if a line fills it. Returns
 * > 0, 0 at the end of input, 1 with t->cap unchanged when the line is at
 * max_line (the caller checks), or a negative error, which sticks (the lines
 * already in the buffer are still read before it is reported). */
static int fill(struct mm_trace *t)
{
	if (t->in_fail)
		return t->in_fail;
	/* slide the unread tail to the front when little room is left after it */
	if (t->start && (t->start == t->end || t->cap - t->end < t->cap / 4)) {
		memmove(t->buf, t->buf + t->start, t->end - t->start);
		t->end -= t->start;
		t->start = 0;
	}
	if (t->end == t->cap) {
		size_t ncap = t->cap * 2;
		if (ncap > t->o.max_line + 2)
			ncap = t->o.max_line + 2;
		if (ncap <= t->cap)
			return 1;
		char *nb = realloc(t->buf, ncap);
		if (!nb) {
			snprintf(t->in.err, sizeof(t->in.err),
				 "out of memory for a %zu-byte line buffer", ncap);
			return t->in_fail = -MM_ENOMEM;
		}
		t->buf = nb;
		t->cap = ncap;
	}
	ssize_t r = tr_input_read(&t->in, t->buf + t->end, t->cap - t->end);
	if (r < 0)
		return t->in_fail = (int)r;
	if (r == 0)
		t->in_eof = 1;
	t->end += (size_t)r;
	return r > 0;
}

/* Throw away the rest of an overlong line, through its newline. */
static int discard_line(struct mm_trace *t)
{
	for (;;) {
		char *nl = memchr(t->buf + t->start, '\n', t->end - t->start);
		if (nl) {
			t->start = (size_t)(nl + 1 - t->buf);
			return 0;
		}
		t->start = t->end = 0;
		if (t->in_eof)
			return 0;
		int r = fill(t);
		if (r < 0)
			return input_failed(t, r);
	}
}

/* A line longer than max_line (its number already counted): stop, or count
 * it as skipped (0). */
MM_NOINLINE static int too_long(struct mm_trace *t)
{
	set_msg(t, "%s:%llu:%zu: line longer than %zu bytes", t->name,
		(unsigned long long)t->lineno, t->o.max_line + 1, t->o.max_line);
	if (!(t->o.flags & MM_TRACE_SKIP_BAD))
		return stop_with(t, -MM_EPARSE);
	t->skipped++;
	return 0;
}

/* Next line into t->ln: 1, 0 at the end, or a negative error (fatal). A line
 * longer than max_line (not counting a "\r" before its "\n") is a line
 * error, skipped when skipping. */
static int next_line(struct mm_trace *t)
{
	for (;;) {
		size_t avail = t->end - t->start;
		char *p = t->buf + t->start;
		char *nl = memchr(p, '\n', avail);
		size_t len;
		int r;
		if (mm_likely(nl != NULL)) {
			len = (size_t)(nl - p);
			t->start += len + 1;
		} else if (avail > t->o.max_line + 1) { /* too long, whatever follows */
			t->lineno++;
			if ((r = too_long(t)) < 0 || (r = discard_line(t)) < 0)
				return r;
			continue;
		} else if (!t->in_eof) {
			r = fill(t);
			if (r < 0)
				return input_failed(t, r);
			continue;
		} else if (avail) {
			len = avail; /* last line without a newline */
			t->start = t->end;
		} else {
			return 0;
		}
		t->lineno++;
		if (len && p[len - 1] == '\r')
			len--;
		if (mm_unlikely(len > t->o.max_line)) {
			if ((r = too_long(t)) < 0)
				return r;
			continue;
		}
		t->ln.p = p;
		t->ln.len = len;
		t->ln.pos = 0;
		t->ln.no = t->lineno;
		return 1;
	}
}

/* ---- Opening ------------------------------------------------------------ */

static const struct tr_fmt_ops *detect(const struct mm_trace_opts *o, const char *s, size_t n,
				       int at_eof)
{
	static const enum mm_trace_fmt order[] = { MM_TRACE_FMT_LACKEY, MM_TRACE_FMT_TXT,
						   MM_TRACE_FMT_ADDR, MM_TRACE_FMT_CSV };
	/* nothing but blank and comment lines: an empty trace; call it txt */
	struct tr_line ln;
	const char *cur = s;
	int content = 0;
	while (!content && tr_sample_line(s, n, at_eof, &cur, &ln)) {
		const char *p = tr_skip_space(ln.p, ln.p + ln.len);
		content = p < ln.p + ln.len && *p != '#';
	}
	if (!content)
		return at_eof ? &tr_txt_ops : NULL;
	/* csv columns named in the options: csv comes right after lackey */
	if (o->csv.obj_id_col[0] && tr_csv_ops.sniff(s, n, at_eof, o))
		return &tr_csv_ops;
	for (size_t i = 0; i < MM_ARRAY_SIZE(order); i++) {
		const struct tr_fmt_ops *ops = fmt_ops(order[i]);
		if (ops->sniff(s, n, at_eof, o))
			return ops;
	}
	return NULL;
}

/* Why detection failed, when the sample looks like a format up to a bad
 * line: the format that reads the most lines (then records) of it before
 * failing, and its error, as " (read as txt: NAME:LINE:COL: reason)".
 * "" when no format reads a whole line of records before failing. */
static void closest_format(const char *name, const struct mm_trace_opts *o, const char *s,
			   size_t n, int at_eof, char *why, size_t len)
{
	static const enum mm_trace_fmt order[] = { MM_TRACE_FMT_LACKEY, MM_TRACE_FMT_TXT,
						   MM_TRACE_FMT_ADDR, MM_TRACE_FMT_CSV };
	const struct tr_fmt_ops *best = NULL;
	struct tr_perr e, best_e;
	long best_line = 0;
	int best_recs = 0, recs, lines;
	why[0] = 0;
	for (size_t i = 0; i < MM_ARRAY_SIZE(order); i++) {
		const struct tr_fmt_ops *ops = fmt_ops(order[i]);
		long line = read_sample(ops, o, s, n, at_eof, &recs, &lines, &e);
		if (line <= 0 || lines == 0)
			continue;
		if (line > best_line || (line == best_line && recs > best_recs)) {
			best = ops;
			best_line = line;
			best_recs = recs;
			best_e = e;
		}
	}
	if (best)
		snprintf(why, len, " (read as %s: %s:%ld:%zu: %s)", best->name, name, best_line,
			 best_e.col + 1, best_e.msg);
}

static struct mm_trace *open_common(struct mm_trace *t, const struct mm_trace_opts *o,
				    size_t size_hint, char *err, size_t errlen)
{
	if (o)
		t->o = *o;
	else
		mm_trace_opts_init(&t->o);
	if (t->o.max_line == 0)
		t->o.max_line = TR_MAX_LINE_DEF;
	t->cap = TR_BUF_INIT;
	if (size_hint && size_hint < t->cap / 4) /* a small input: grow if needed */
		t->cap = MM_MAX(size_hint + 2, 256);
	if (t->cap > t->o.max_line + 2)
		t->cap = t->o.max_line + 2;
	t->buf = malloc(t->cap);
	if (!t->buf) {
		snprintf(err, errlen, "%s: out of memory", t->name);
		goto fail;
	}
	/* fill the sample for detection and for the format's setup */
	while (!t->in_eof && t->end < TR_SNIFF_BYTES) {
		size_t before = t->end;
		if (fill(t) < 0)
			break; /* reported when reading reaches it */
		if (t->end == before && !t->in_eof)
			break; /* the buffer is at max_line */
	}
	if (t->in_fail == -MM_ENOMEM) {
		snprintf(err, errlen, "%s: %s", t->name, t->in.err);
		goto fail;
	}
	if (t->end >= 3 && memcmp(t->buf, "\xef\xbb\xbf", 3) == 0)
		t->start = 3; /* a UTF-8 byte-order mark, as spreadsheets write csv */
	const char *sample = t->buf + t->start;
	size_t n = t->end - t->start;
	if (t->o.fmt == MM_TRACE_FMT_AUTO) {
		t->ops = detect(&t->o, sample, n, t->in_eof);
		if (!t->ops && t->in_fail) {
			snprintf(err, errlen, "%s:1: %s", t->name, t->in.err);
			goto fail;
		}
		if (!t->ops) {
			char why[300];
			closest_format(t->name, &t->o, sample, n, t->in_eof, why, sizeof(why));
			snprintf(err, errlen,
				 "%s: cannot detect the trace format (not lackey, txt, addr or csv "
				 "by the rules of docs/traces.md); name the format%s",
				 t->name, why);
			goto fail;
		}
	} else {
		t->ops = fmt_ops(t->o.fmt);
		if (!t->ops) {
			snprintf(err, errlen, "%s: unknown trace format %d", t->name, (int)t->o.fmt);
			goto fail;
		}
	}
	t->o.fmt = t->ops->fmt;
	t->st = calloc(1, t->ops->state_size);
	if (!t->st) {
		snprintf(err, errlen, "%s: out of memory", t->name);
		goto fail;
	}
	char why[TR_MSG_MAX - 64];
	if (t->ops->setup(t->st, &t->o, sample, n, t->in_eof, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", t->name, why);
		goto fail;
	}
	return t;
fail:
	mm_trace_close(t);
	return NULL;
}

static struct mm_trace *trace_alloc(const char *name, char *err, size_t errlen)
{
	struct mm_trace *t = calloc(1, sizeof(*t));
	if (t)
		t->name = strdup(name ? name : "?");
	if (!t || !t->name) {
		free(t);
		snprintf(err, errlen, "%s: out of memory", name ? name : "?");
		return NULL;
	}
	t->in.fd = -1;
	return t;
}

struct mm_trace *mm_trace_open_fd(int fd, const char *name, const struct mm_trace_opts *o,
				  char *err, size_t errlen)
{
	struct mm_trace *t = trace_alloc(name, err, errlen);
	if (!t)
		return NULL;
	if (tr_input_open_fd(&t->in, fd, 0) < 0) {
		snprintf(err, errlen, "%s: %s", t->name, t->in.err);
		mm_trace_close(t);
		return NULL;
	}
	return open_common(t, o, 0, err, errlen);
}

struct mm_trace *mm_trace_open_mem(const void *data, size_t len, const char *name,
				   const struct mm_trace_opts *o, char *err, size_t errlen)
{
	struct mm_trace *t = trace_alloc(name, err, errlen);
	if (!t)
		return NULL;
	if (tr_input_open_mem(&t->in, data, len) < 0) {
		snprintf(err, errlen, "%s: %s", t->name, t->in.err);
		mm_trace_close(t);
		return NULL;
	}
	/* plain text fits as it is; compressed text grows the buffer as needed */
	return open_common(t, o, len, err, errlen);
}

struct mm_trace *mm_trace_open(const char *path, const struct mm_trace_opts *o, char *err,
			       size_t errlen)
{
	if (path && strcmp(path, "-") == 0)
		return mm_trace_open_fd(0, "<stdin>", o, err, errlen);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path ? path : "(null)",
			 path ? strerror(errno) : "no path");
		return NULL;
	}
	struct mm_trace *t = trace_alloc(path, err, errlen);
	if (!t) {
		close(fd);
		return NULL;
	}
	if (tr_input_open_fd(&t->in, fd, 1) < 0) { /* closes fd */
		snprintf(err, errlen, "%s: %s", t->name, t->in.err);
		mm_trace_close(t);
		return NULL;
	}
	return open_common(t, o, 0, err, errlen);
}

void mm_trace_close(struct mm_trace *t)
{
	if (!t)
		return;
	tr_input_close(&t->in);
	free(t->st);
	free(t->buf);
	free(t->name);
	free(t);
}

/* ---- Reading ------------------------------------------------------------ */

MM_NOINLINE static int line_error(struct mm_trace *t, const struct tr_perr *e)
{
	set_msg(t, "%s:%llu:%zu: %s", t->name, (unsigned long long)t->ln.no, e->col + 1, e->msg);
	if (!(t->o.flags & MM_TRACE_SKIP_BAD))
		return stop_with(t, -MM_EPARSE);
	t->skipped++;
	return 0;
}

int mm_trace_next(struct mm_trace *t, struct mm_trace_rec *rec)
{
	if (mm_unlikely(t->stopped))
		return t->stop;
	for (;;) {
		if (!t->have_line) {
			int r = next_line(t);
			if (mm_unlikely(r <= 0))
				return r < 0 ? r : stop_with(t, 0);
			t->have_line = 1;
		}
		struct tr_perr e;
		int r = t->ops->parse(t->st, &t->ln, rec, &e);
		if (mm_likely(r == TR_REC)) {
			t->have_line = t->ln.pos < t->ln.len;
			rec->line = t->ln.no;
			if (!(rec->flags & MM_TREC_TIME))
				rec->time = t->nrec;
			t->nrec++;
			return 1;
		}
		t->have_line = 0;
		if (r == TR_ERR) {
			int s = line_error(t, &e);
			if (s < 0)
				return s;
		}
	}
}

const char *mm_trace_error(const struct mm_trace *t)
{
	return t->have_msg ? t->msg : NULL;
}

uint64_t mm_trace_skipped(const struct mm_trace *t)
{
	return t->skipped;
}

uint64_t mm_trace_count(const struct mm_trace *t)
{
	return t->nrec;
}

enum mm_trace_fmt mm_trace_format(const struct mm_trace *t)
{
	return t->o.fmt;
}

const char *mm_trace_compression(const struct mm_trace *t)
{
	switch (t->in.comp) {
	case TR_COMP_GZIP: return "gzip";
	case TR_COMP_ZSTD: return "zstd";
	default: return "plain";
	}
}
