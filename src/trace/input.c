/* Trace input: raw bytes from a descriptor or memory, decompressed on the fly.
 *
 * Compression is recognised by magic bytes, never by the file name:
 *   1f 8b              gzip (RFC 1952), decoded by zlib's inflate with the
 *                      gzip wrapper (so the CRC-32 and length trailer are
 *                      checked); several members in a row ("cat a.gz b.gz")
 *                      are read as one stream, as gzip -d does.
 *   28 b5 2f fd        a zstd frame (RFC 8878), and 5X 2a 4d 18 a skippable
 *                      frame; decoded by libzstd's streaming API, frame
 *                      after frame.
 *   anything else      plain text, passed through.
 *
 * Memory: one TR_CIN_SIZE input chunk for a descriptor (memory input is used
 * in place), plus the decoder's own state (zlib's 32 KiB window; zstd's
 * window, at most 128 MiB as libzstd allows by default, typically a few MiB).
 * Output goes straight into the caller's buffer.
 *
 * Errors: input that ends inside a gzip member or a zstd frame is reported as
 * truncated; bytes that fail to decode as corrupt, with the decoder's reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "trace_internal.h"

/* ---- Raw bytes ---------------------------------------------------------- */

/* Read raw bytes from the descriptor into dst (memory input is all in cin
 * from the start). Returns the count, 0 at the end, -MM_EIO on error. */
static ssize_t raw_read(struct tr_input *in, unsigned char *dst, size_t n)
{
	if (in->fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(in->fd, dst, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		snprintf(in->err, sizeof(in->err), "read error: %s", strerror(errno));
		return -MM_EIO;
	}
}

/* Make sure at least want bytes are pending in cin, unless the source ends
 * first. Returns 0 or -MM_EIO. */
static int cin_want(struct tr_input *in, size_t want)
{
	if (in->cin_len - in->cin_pos >= want || in->raw_eof)
		return 0;
	if (in->cin_pos) {
		memmove(in->cin, in->cin + in->cin_pos, in->cin_len - in->cin_pos);
		in->cin_len -= in->cin_pos;
		in->cin_pos = 0;
	}
	while (in->cin_len < want && !in->raw_eof) {
		ssize_t r = raw_read(in, in->cin + in->cin_len, TR_CIN_SIZE - in->cin_len);
		if (r < 0)
			return (int)r;
		if (r == 0)
			in->raw_eof = 1;
		in->cin_len += (size_t)r;
	}
	return 0;
}

/* ---- Opening: detect compression ---------------------------------------- */

static int is_gzip(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static int is_zstd(const unsigned char *p, size_t n)
{
	if (n < 4)
		return 0;
	if (p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return 1;
	/* skippable frame: magic 0x184D2A50..0x184D2A5F little-endian */
	return (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18;
}

static int input_start(struct tr_input *in)
{
	if (in->fd < 0) { /* memory: the whole input is pending already, no copy */
		in->cin = (unsigned char *)(uintptr_t)in->mem;
		in->cin_len = in->mem_len;
		in->raw_eof = 1;
	} else {
		in->cin = malloc(TR_CIN_SIZE);
		in->own_cin = 1;
		if (!in->cin) {
			snprintf(in->err, sizeof(in->err), "out of memory");
			return -MM_ENOMEM;
		}
	}
	int r = cin_want(in, 4);
	if (r < 0)
		return r;
	const unsigned char *p = in->cin + in->cin_pos;
	size_t n = in->cin_len - in->cin_pos;
	if (is_gzip(p, n)) {
		memset(&in->z, 0, sizeof(in->z));
		if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) {
			snprintf(in->err, sizeof(in->err), "cannot start the gzip decoder");
			return -MM_ENOMEM;
		}
		in->z_live = 1;
		in->comp = TR_COMP_GZIP;
	} else if (is_zstd(p, n)) {
		in->zs = ZSTD_createDStream();
		if (!in->zs) {
			snprintf(in->err, sizeof(in->err), "cannot start the zstd decoder");
			return -MM_ENOMEM;
		}
		ZSTD_initDStream(in->zs);
		in->zs_hint = 1;
		in->comp = TR_COMP_ZSTD;
	} else {
		in->comp = TR_COMP_NONE;
	}
	return 0;
}

int tr_input_open_fd(struct tr_input *in, int fd, int own_fd)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->own_fd = own_fd;
	int r = input_start(in);
	if (r < 0)
		tr_input_close(in);
	return r;
}

int tr_input_open_mem(struct tr_input *in, const void *data, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->mem = data;
	in->mem_len = data ? len : 0;
	int r = input_start(in);
	if (r < 0)
		tr_input_close(in);
	return r;
}

void tr_input_close(struct tr_input *in)
{
	if (in->z_live)
		inflateEnd(&in->z);
	in->z_live = 0;
	if (in->zs)
		ZSTD_freeDStream(in->zs);
	in->zs = NULL;
	if (in->own_cin)
		free(in->cin);
	in->cin = NULL;
	in->own_cin = 0;
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	in->own_fd = 0;
}

/* ---- Decoders ----------------------------------------------------------- */

static ssize_t plain_read(struct tr_input *in, unsigned char *dst, size_t n)
{
	size_t have = in->cin_len - in->cin_pos;
	if (have) { /* the bytes read while looking for a magic number */
		if (n > have)
			n = have;
		memcpy(dst, in->cin + in->cin_pos, n);
		in->cin_pos += n;
		return (ssize_t)n;
	}
	if (in->raw_eof)
		return 0;
	ssize_t r = raw_read(in, dst, n);
	if (r == 0)
		in->raw_eof = 1;
	return r;
}

static ssize_t gzip_read(struct tr_input *in, unsigned char *dst, size_t n)
{
	for (;;) {
		int r;
		if (in->gz_member_end) {
			/* another member may follow; anything else is an error */
			r = cin_want(in, 2);
			if (r < 0)
				return r;
			size_t have = in->cin_len - in->cin_pos;
			if (have == 0)
				return 0;
			if (!is_gzip(in->cin + in->cin_pos, have)) {
				snprintf(in->err, sizeof(in->err),
					 "corrupt gzip data: trailing bytes after the gzip stream");
				return -MM_EIO;
			}
			inflateReset(&in->z);
			in->gz_member_end = 0;
		}
		if (in->cin_pos == in->cin_len && !in->raw_eof) {
			r = cin_want(in, 1);
			if (r < 0)
				return r;
		}
		in->z.next_in = in->cin + in->cin_pos;
		in->z.avail_in = (uInt)(in->cin_len - in->cin_pos);
		in->z.next_out = dst;
		in->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		uInt out0 = in->z.avail_out;
		r = inflate(&in->z, Z_NO_FLUSH);
		in->cin_pos = in->cin_len - in->z.avail_in;
		size_t got = out0 - in->z.avail_out;
		if (r == Z_STREAM_END) {
			in->gz_member_end = 1;
		} else if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR) {
			snprintf(in->err, sizeof(in->err), "corrupt gzip data: %s",
				 in->z.msg ? in->z.msg : "invalid stream");
			in->fail = -MM_EIO;
		} else if (r == Z_MEM_ERROR) {
			snprintf(in->err, sizeof(in->err), "out of memory in the gzip decoder");
			in->fail = -MM_ENOMEM;
		}
		if (in->fail && !got)
			return in->fail;
		if (got)
			return (ssize_t)got;
		if (!in->gz_member_end && in->cin_pos == in->cin_len && in->raw_eof) {
			snprintf(in->err, sizeof(in->err),
				 "truncated gzip data: the input ends inside the compressed stream");
			return -MM_EIO;
		}
	}
}

static ssize_t zstd_read(struct tr_input *in, unsigned char *dst, size_t n)
{
	for (;;) {
		if (in->cin_pos == in->cin_len) {
			int r = cin_want(in, 1);
			if (r < 0)
				return r;
		}
		int at_end = in->cin_pos == in->cin_len;
		if (at_end && in->zs_hint == 0)
			return 0;
		/* at the end, one more call flushes what the decoder still holds */
		ZSTD_inBuffer ib = { in->cin, in->cin_len, in->cin_pos };
		ZSTD_outBuffer ob = { dst, n, 0 };
		size_t r = ZSTD_decompressStream(in->zs, &ob, &ib);
		in->cin_pos = ib.pos;
		if (ZSTD_isError(r)) {
			snprintf(in->err, sizeof(in->err), "corrupt zstd data: %s",
				 ZSTD_getErrorName(r));
			return -MM_EIO;
		}
		in->zs_hint = r;
		if (ob.pos)
			return (ssize_t)ob.pos;
		if (at_end) {
			snprintf(in->err, sizeof(in->err),
				 "truncated zstd data: the input ends inside a frame");
			return -MM_EIO;
		}
	}
}

ssize_t tr_input_read(struct tr_input *in, void *dst, size_t n)
{
	ssize_t r;
	if (in->fail)
		return in->fail;
	switch (in->comp) {
	case TR_COMP_GZIP:
		r = gzip_read(in, dst, n);
		break;
	case TR_COMP_ZSTD:
		r = zstd_read(in, dst, n);
		break;
	default:
		r = plain_read(in, dst, n);
		break;
	}
	if (r > 0)
		in->out_bytes += (uint64_t)r;
	else if (r < 0)
		in->fail = (int)r;
	return r;
}
