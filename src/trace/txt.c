/* Format "txt": one page or object id per line, as libCacheSim's txt trace
 * (libCacheSim traceReader/generalReader/txt.c reads a line, and with
 * obj-id-is-num takes the id with strtoull(line, &end, 0)).
 *
 *     # a comment
 *     4096
 *     0x1f
 *     17
 *
 * An id is decimal, or hex after 0x/0X, from 0 to 2^64-1; spaces and tabs
 * may surround it. Unlike strtoull with base 0, a leading 0 does not mean
 * octal: "010" is ten. Blank lines and lines starting with '#' are skipped.
 *
 * With obj-id-is-num=false (id_is_num = 0) each line, trimmed of surrounding
 * spaces, is a string id hashed to 64 bits (tr_hash_id), as libCacheSim hashes
 * string ids; '#' lines are still comments. With id_is_num = -1 (the default)
 * the first id decides: a number makes the trace numeric (a later non-number
 * is an error), anything else makes every id a string.
 *
 * Records: kind MM_TRACE_READ, flags MM_TREC_ID, addr = the id, size 0.
 * Cost: the line is scanned once; this is the fast path for cache replay.
 */
#include "trace_internal.h"

struct txt_state {
	int id_is_num;               /* 1 numbers, 0 strings, -1 not yet known */
};

static int txt_setup(void *vst, const struct mm_trace_opts *o, const char *sample, size_t n,
		     int at_eof, char *err, size_t errlen)
{
	struct txt_state *st = vst;
	(void)sample, (void)n, (void)at_eof, (void)err, (void)errlen;
	st->id_is_num = o->id_is_num;
	return 0;
}

MM_NOINLINE static int txt_string(struct txt_state *st, const char *p, const char *end,
				  struct mm_trace_rec *rec)
{
	while (end > p && tr_isspace(end[-1]))
		end--;
	st->id_is_num = 0;
	rec->kind = MM_TRACE_READ;
	rec->flags = MM_TREC_ID;
	rec->addr = tr_hash_id(p, (size_t)(end - p));
	rec->size = 0;
	return TR_REC;
}

static int txt_parse(void *vst, struct tr_line *ln, struct mm_trace_rec *rec, struct tr_perr *e)
{
	struct txt_state *st = vst;
	const char *s = ln->p, *end = s + ln->len, *p = s;
	char b[16];
	ln->pos = ln->len;
	p = tr_skip_space(p, end);
	if (mm_unlikely(p == end || *p == '#'))
		return TR_NONE;
	if (mm_unlikely(st->id_is_num == 0))
		return txt_string(st, p, end, rec);
	const char *num = p;
	int r = tr_num(&p, end, &rec->addr);
	if (mm_likely(r == TR_NUM_OK)) {
		if (mm_likely(p == end) || (p = tr_skip_space(p, end)) == end) {
			st->id_is_num = 1;
			rec->kind = MM_TRACE_READ;
			rec->flags = MM_TREC_ID;
			rec->size = 0;
			return TR_REC;
		}
	}
	if (st->id_is_num < 0)
		return txt_string(st, num, end, rec);
	if (r == TR_NUM_OVF)
		return tr_fail(e, (size_t)(num - s), "object id does not fit in 64 bits");
	if (r == TR_NUM_BADHEX)
		return tr_fail(e, (size_t)(num - s + 2), "expected hex digits after '0x'");
	if (r == TR_NUM_NONE)
		return tr_fail(e, (size_t)(num - s), "expected a decimal or 0x hex object id, found %s",
			       tr_show(num, end, b));
	return tr_fail(e, (size_t)(p - s), "unexpected %s after the object id", tr_show(p, end, b));
}

/* txt if every sampled line is blank, a comment or one decimal number (hex
 * ids make the trace an address list: see docs/traces.md). */
static int txt_sniff(const char *sample, size_t n, int at_eof, const struct mm_trace_opts *o)
{
	struct tr_line ln;
	const char *cur = sample;
	int recs = 0;
	(void)o;
	for (int i = 0; i < TR_SNIFF_LINES && tr_sample_line(sample, n, at_eof, &cur, &ln); i++) {
		const char *p = tr_skip_space(ln.p, ln.p + ln.len), *end = ln.p + ln.len;
		uint64_t v;
		if (p == end || *p == '#')
			continue;
		if (tr_dec(&p, end, &v) != TR_NUM_OK || tr_skip_space(p, end) != end)
			return 0;
		recs++;
	}
	return recs > 0;
}

const struct tr_fmt_ops tr_txt_ops = {
	.name = "txt",
	.fmt = MM_TRACE_FMT_TXT,
	.state_size = sizeof(struct txt_state),
	.setup = txt_setup,
	.parse = txt_parse,
	.sniff = txt_sniff,
};
