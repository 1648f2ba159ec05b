/* libFuzzer target: format detection and the gzip/zstd input layer. The
 * input is read with MM_TRACE_FMT_AUTO, so it may be any format, compressed
 * or not (the seed corpus holds gzip and zstd files); fuzz_trace.h has the
 * checks. Besides, an input that is not compressed is compressed here with
 * zlib and libzstd, and all three must read the same: same format, records,
 * end and message. */
#include <zlib.h>
#include <zstd.h>

#include "fuzz_trace.h"

#define AUTO_MAX 4096 /* larger inputs skip the differential check */

struct whole {
	int rc;
	enum mm_trace_fmt fmt;
	uint64_t n;
	char msg[600];
	struct mm_trace_rec keep[FUZZ_MAX_KEEP];
};

static void read_whole(const uint8_t *d, size_t n, const struct mm_trace_opts *o, struct whole *w)
{
	char err[600];
	struct mm_trace_rec r;
	w->n = 0;
	w->fmt = MM_TRACE_FMT_AUTO;
	struct mm_trace *t = mm_trace_open_mem(d, n, "fuzz", o, err, sizeof(err));
	if (!t) {
		w->rc = FUZZ_OPEN_FAILED;
		snprintf(w->msg, sizeof(w->msg), "%s", err);
		return;
	}
	w->fmt = mm_trace_format(t);
	while ((w->rc = mm_trace_next(t, &r)) == 1) {
		if (w->n < FUZZ_MAX_KEEP)
			w->keep[w->n] = r;
		w->n++;
	}
	const char *m = mm_trace_error(t);
	snprintf(w->msg, sizeof(w->msg), "%s", m ? m : "");
	mm_trace_close(t);
}

static void same_whole(const struct whole *a, const struct whole *b)
{
	fuzz_check(a->rc == b->rc && a->fmt == b->fmt && a->n == b->n);
	fuzz_check(strcmp(a->msg, b->msg) == 0);
	for (uint64_t i = 0; i < a->n && i < FUZZ_MAX_KEEP; i++)
		fuzz_check(fuzz_same(&a->keep[i], &b->keep[i]));
}

static void differential(const uint8_t *data, size_t size, const struct mm_trace_opts *o)
{
	static struct whole plain, packed;
	static uint8_t buf[AUTO_MAX * 2 + 1024];
	if (size > AUTO_MAX || (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) ||
	    (size >= 4 && ((data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f &&
			    data[3] == 0xfd) ||
			   ((data[0] & 0xf0) == 0x50 && data[1] == 0x2a && data[2] == 0x4d &&
			    data[3] == 0x18))))
		return;
	read_whole(data, size, o, &plain);

	z_stream z;
	memset(&z, 0, sizeof(z));
	fuzz_check(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)size;
	z.next_out = buf;
	z.avail_out = sizeof(buf);
	fuzz_check(deflate(&z, Z_FINISH) == Z_STREAM_END);
	size_t gz = sizeof(buf) - z.avail_out;
	deflateEnd(&z);
	read_whole(buf, gz, o, &packed);
	same_whole(&plain, &packed);

	size_t zs = ZSTD_compress(buf, sizeof(buf), data, size, 3);
	fuzz_check(!ZSTD_isError(zs));
	read_whole(buf, zs, o, &packed);
	same_whole(&plain, &packed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_trace_opts o;
	mm_trace_opts_init(&o);
	fuzz_trace_run(data, size, &o);
	o.flags &= ~MM_TRACE_SKIP_BAD;
	differential(data, size, &o);
	o.flags |= MM_TRACE_ALL_SYSCALLS;
	o.max_line = 128;
	fuzz_trace_run(data, size, &o);
	return 0;
}
