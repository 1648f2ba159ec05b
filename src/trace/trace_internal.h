/* trace_internal.h — what the trace readers share: the decompressing input,
 * the line type, the per-format ops table, and hand-written number parsing.
 *
 * Layering inside src/trace:
 *   input.c    bytes from a descriptor or memory, gzip/zstd by magic bytes
 *   reader.c   line buffer, format detection, error positions, the public API
 *   opts.c     options and libCacheSim-style "key=value" parameters
 *   lackey.c txt.c addr.c csv.c   one format each, behind struct tr_fmt_ops
 */
#ifndef MMKIT_TRACE_INTERNAL_H
#define MMKIT_TRACE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>
#include <zstd.h>

#include "mmkit/compiler.h"
#include "mmkit/trace.h"

#define TR_BUF_INIT      (256u * 1024)  /* line buffer to start with */
#define TR_CIN_SIZE      (128u * 1024)  /* compressed input chunk */
#define TR_SNIFF_BYTES   (64u * 1024)   /* detection looks at this much */
#define TR_SNIFF_LINES   200            /* ... and at most this many lines */
#define TR_MAX_LINE_DEF  (1024u * 1024) /* default longest line */
#define TR_MSG_MAX       512            /* longest error message */

/* ---- Input: bytes, decompressed ----------------------------------------- */

enum tr_comp { TR_COMP_NONE, TR_COMP_GZIP, TR_COMP_ZSTD };

struct tr_input {
	int fd;                      /* source descriptor, or -1 for memory */
	int own_fd;                  /* close fd at the end */
	const unsigned char *mem;    /* memory source */
	size_t mem_len;
	enum tr_comp comp;
	unsigned char *cin;          /* raw bytes read but not yet consumed (memory
				      * input: the input itself, never written) */
	int own_cin;                 /* cin was allocated here */
	size_t cin_pos, cin_len;     /* cin[cin_pos, cin_len) is pending */
	int raw_eof;                 /* the source has no more raw bytes */
	z_stream z;                  /* gzip state (comp == TR_COMP_GZIP) */
	int z_live;                  /* inflateInit2 done */
	int gz_member_end;           /* the current gzip member ended */
	ZSTD_DStream *zs;            /* zstd state (comp == TR_COMP_ZSTD) */
	size_t zs_hint;              /* last ZSTD_decompressStream result: 0 = frame done */
	uint64_t out_bytes;          /* decompressed bytes delivered */
	int fail;                    /* sticky error, reported after the bytes before it */
	char err[TR_MSG_MAX];        /* why the last read failed (no file name) */
};

/* Prepare *in over fd or memory and detect compression from the magic bytes.
 * Returns 0, or -MM_EIO / -MM_ENOMEM with in->err set (nothing to close). */
int tr_input_open_fd(struct tr_input *in, int fd, int own_fd);
int tr_input_open_mem(struct tr_input *in, const void *data, size_t len);

/* Read up to n decompressed bytes into dst (n > 0). Returns the count (> 0),
 * 0 at the end of the input, or a negative mm_err with in->err set. */
ssize_t tr_input_read(struct tr_input *in, void *dst, size_t n);

void tr_input_close(struct tr_input *in);

/* ---- Lines and the format ops table ------------------------------------- */

/* One line of text without its "\n" or "\r\n". A parser starts at pos and
 * moves pos on; the reader hands the same line again while pos < len (addr
 * lists hold several records on a line). */
struct tr_line {
	const char *p;
	size_t len;
	size_t pos;
	uint64_t no;                 /* line number, from 1 */
};

/* A parse error: the 0-based byte offset on the line and the cause. */
struct tr_perr {
	size_t col;
	char msg[200];
};

enum { TR_ERR = -1, TR_NONE = 0, TR_REC = 1 };

struct tr_fmt_ops {
	const char *name;
	enum mm_trace_fmt fmt;
	size_t state_size;
	/* Ready a zeroed state for reading. sample holds the first n bytes of the
	 * trace (all of it when at_eof). Returns 0, or -1 with a message in err. */
	int (*setup)(void *st, const struct mm_trace_opts *o, const char *sample, size_t n,
		     int at_eof, char *err, size_t errlen);
	/* Parse from ln->pos: TR_REC (*rec filled: kind, flags, addr, size, time
	 * if MM_TREC_TIME, sys if a syscall), TR_NONE (line used up, no record),
	 * TR_ERR (*e filled). After TR_NONE or TR_ERR the line is finished. */
	int (*parse)(void *st, struct tr_line *ln, struct mm_trace_rec *rec, struct tr_perr *e);
	/* Does the sample look like this format? (auto-detection) */
	int (*sniff)(const char *sample, size_t n, int at_eof, const struct mm_trace_opts *o);
};

extern const struct tr_fmt_ops tr_lackey_ops;
extern const struct tr_fmt_ops tr_txt_ops;
extern const struct tr_fmt_ops tr_addr_ops;
extern const struct tr_fmt_ops tr_csv_ops;

/* Fill e and return TR_ERR. */
MM_PRINTF(3, 4)
int tr_fail(struct tr_perr *e, size_t col, const char *fmt, ...);

/* Quote the byte at p for a message ("'x'", "'\x01'"), or "end of line" when
 * p == end. buf holds at least 16 bytes. */
const char *tr_show(const char *p, const char *end, char *buf);

/* Iterate the complete lines of a sample (the last, partial one only when
 * at_eof). Returns 1 with *ln filled, 0 when done. *cur starts at sample. */
int tr_sample_line(const char *sample, size_t n, int at_eof, const char **cur,
		   struct tr_line *ln);

/* Run ops->parse over every line of the sample with a scratch state set up
 * from o. True if no line fails and at least one record comes out. */
int tr_sniff_by_parse(const struct tr_fmt_ops *ops, const struct mm_trace_opts *o,
		      const char *sample, size_t n, int at_eof);

/* 64-bit hash of a string id (FNV-1a, then a murmur3 finaliser). */
uint64_t tr_hash_id(const char *p, size_t n);

/* ---- Numbers (hot path: hand-written, no locale, no errno) --------------- */

enum { TR_NUM_OK = 0, TR_NUM_NONE = 1, TR_NUM_OVF = 2, TR_NUM_BADHEX = 3 };

MM_INLINE int tr_isspace(char c)
{
	return c == ' ' || c == '\t';
}

MM_INLINE int tr_isdigit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* value of each byte as a hex digit, -1 if it is not one (reader.c) */
extern const signed char tr_hex_tab[256];

MM_INLINE int tr_hexval(char c)
{
	return tr_hex_tab[(unsigned char)c];
}

MM_INLINE const char *tr_skip_space(const char *p, const char *end)
{
	while (p < end && tr_isspace(*p))
		p++;
	return p;
}

/* Decimal digits at *pp: TR_NUM_OK (*pp moved past them), TR_NUM_NONE, or
 * TR_NUM_OVF (above 2^64-1; *pp moved past all the digits). */
MM_INLINE int tr_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int ovf = 0;
	if (p >= end || !tr_isdigit(*p))
		return TR_NUM_NONE;
	do {
		unsigned d = (unsigned)(*p - '0');
		if (mm_unlikely(v >= 1844674407370955161ULL) &&
		    (v > 1844674407370955161ULL || d > 5))
			ovf = 1;
		v = v * 10 + d;
		p++;
	} while (p < end && tr_isdigit(*p));
	*pp = p;
	*out = v;
	return ovf ? TR_NUM_OVF : TR_NUM_OK;
}

/* Hex digits (no prefix) at *pp, as tr_dec; leading zeros are free. */
MM_INLINE int tr_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp, *sig;
	uint64_t v = 0;
	int d;
	if (p >= end || tr_hexval(*p) < 0)
		return TR_NUM_NONE;
	while (p < end && *p == '0')
		p++;
	sig = p;
	while (p < end && (d = tr_hexval(*p)) >= 0) {
		v = (v << 4) | (uint64_t)d;
		p++;
	}
	*pp = p;
	*out = v;
	return p - sig > 16 ? TR_NUM_OVF : TR_NUM_OK;
}

/* "0x"/"0X" then hex digits, or decimal digits. TR_NUM_BADHEX: "0x" with no
 * hex digit after it (*pp not moved). */
MM_INLINE int tr_num(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	if (end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
		const char *q = p + 2;
		int r = tr_hex(&q, end, out);
		if (r == TR_NUM_NONE)
			return TR_NUM_BADHEX;
		*pp = q;
		return r;
	}
	return tr_dec(pp, end, out);
}

/* A whole field [p, end) as one number (surrounding spaces allowed). */
MM_INLINE int tr_num_field(const char *p, const char *end, uint64_t *out)
{
	p = tr_skip_space(p, end);
	int r = tr_num(&p, end, out);
	if (r != TR_NUM_OK)
		return r == TR_NUM_OVF ? TR_NUM_OVF : TR_NUM_NONE;
	p = tr_skip_space(p, end);
	return p == end ? TR_NUM_OK : TR_NUM_NONE;
}

#endif /* MMKIT_TRACE_INTERNAL_H */
