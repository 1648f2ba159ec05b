/* Format "addr": a list of byte addresses, each optionally marked read or
 * write. mmkit's own format, for hand-written traces and the exercises of
 * textbooks ("the reference string 0x1000, 0x2004 W, ...").
 *
 *     line    := entry { ',' entry } [ '#' comment ]  |  blank  |  '#' comment
 *     entry   := [ mark ] address [ mark ]       (at most one mark)
 *     address := '0x' hexdigits | '0X' hexdigits | decimal digits
 *     mark    := 'R' | 'r' | 'W' | 'w'
 *
 * Spaces and tabs may appear between all the parts; a mark may also touch
 * the address ("W0x1000", "4096r"). An address without a mark is a read.
 * Every ',' must be followed by another entry on the same line. Addresses
 * range over 0 .. 2^64-1; leading zeros are decimal, not octal.
 *
 *     0x7fff0010                   a read
 *     W 0x601040, R 4096, 8192w    three records on one line
 *
 * Records: kind MM_TRACE_READ or MM_TRACE_WRITE, addr, size 0, no flags.
 * A line may hold many entries (up to max_line bytes); they come out one per
 * mm_trace_next call. With MM_TRACE_SKIP_BAD an error drops the rest of its
 * line.
 */
#include "trace_internal.h"

struct addr_state {
	int unused;
};

static int addr_setup(void *vst, const struct mm_trace_opts *o, const char *sample, size_t n,
		      int at_eof, char *err, size_t errlen)
{
	(void)vst, (void)o, (void)sample, (void)n, (void)at_eof, (void)err, (void)errlen;
	return 0;
}

MM_INLINE int addr_mark(char c)
{
	c |= 0x20;
	return c == 'r' ? 1 : c == 'w' ? 2 : 0;
}

static int addr_parse(void *vst, struct tr_line *ln, struct mm_trace_rec *rec, struct tr_perr *e)
{
	const char *s = ln->p, *end = s + ln->len, *p = s + ln->pos + (ln->pos > 0);
	char b[16];
	int mark = 0, m, after_comma = ln->pos > 0;
	char markc = 0;
	(void)vst;
	p = tr_skip_space(p, end);
	if (ln->pos == 0 && (p == end || *p == '#')) {
		ln->pos = ln->len;
		return TR_NONE;
	}
	ln->pos = ln->len; /* unless another entry follows */
	if (p < end && (m = addr_mark(*p))) {
		mark = m;
		markc = *p;
		p = tr_skip_space(p + 1, end);
	}
	const char *num = p;
	int r = tr_num(&p, end, &rec->addr);
	if (mm_unlikely(r != TR_NUM_OK)) {
		if (r == TR_NUM_OVF)
			return tr_fail(e, (size_t)(num - s), "address does not fit in 64 bits");
		if (r == TR_NUM_BADHEX)
			return tr_fail(e, (size_t)(num - s + 2), "expected hex digits after '0x'");
		if (mark || after_comma)
			return tr_fail(e, (size_t)(num - s), "expected an address after '%c', found %s",
				       mark ? markc : ',', tr_show(num, end, b));
		return tr_fail(e, (size_t)(num - s), "expected an address, found %s",
			       tr_show(num, end, b));
	}
	p = tr_skip_space(p, end);
	if (p < end && (m = addr_mark(*p))) {
		if (mark)
			return tr_fail(e, (size_t)(p - s), "second R/W mark on one address");
		mark = m;
		p = tr_skip_space(p + 1, end);
	}
	if (p < end && *p == ',') {
		ln->pos = (size_t)(p - s); /* at the ',': another entry must follow */
	} else if (p < end && *p != '#') {
		return tr_fail(e, (size_t)(p - s), "unexpected %s after the address",
			       tr_show(p, end, b));
	}
	rec->kind = mark == 2 ? MM_TRACE_WRITE : MM_TRACE_READ;
	rec->flags = 0;
	rec->size = 0;
	return TR_REC;
}

static int addr_sniff(const char *sample, size_t n, int at_eof, const struct mm_trace_opts *o)
{
	return tr_sniff_by_parse(&tr_addr_ops, o, sample, n, at_eof);
}

const struct tr_fmt_ops tr_addr_ops = {
	.name = "addr",
	.fmt = MM_TRACE_FMT_ADDR,
	.state_size = sizeof(struct addr_state),
	.setup = addr_setup,
	.parse = addr_parse,
	.sniff = addr_sniff,
};
