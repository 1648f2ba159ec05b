/* Gzip and zstd input: traces compressed here with zlib and libzstd read back
 * record for record like the plain text; several members/frames; truncated,
 * corrupt and trailing-garbage input reported as such. */
#include <stdio.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "mmkit/rng.h"
#include "trace_test.h"

/* ---- Compressors ---------------------------------------------------------- */

static unsigned char *gzip_mem(const void *in, size_t n, size_t *outn)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&z, n) + 64;
	unsigned char *out = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outn = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static unsigned char *zstd_mem(const void *in, size_t n, size_t *outn)
{
	size_t cap = ZSTD_compressBound(n);
	unsigned char *out = malloc(cap);
	size_t r = ZSTD_compress(out, cap, in, n, 3);
	assert_false(ZSTD_isError(r));
	*outn = r;
	return out;
}

/* A lackey trace of n access lines with syscalls and banner lines mixed in. */
static char *make_lackey(size_t n, size_t *len)
{
	struct mm_rng rng;
	mm_rng_seed(&rng, 42);
	char *s = malloc(n * 64 + 256), *p = s;
	p += sprintf(p, "==9== Lackey, an example Valgrind tool\n");
	for (size_t i = 0; i < n; i++) {
		uint64_t a = mm_rng_next(&rng);
		a >>= mm_rng_below(&rng, 40); /* two statements: a fixed order of draws */
		unsigned sz = 1u << mm_rng_below(&rng, 4);
		switch (mm_rng_below(&rng, 5)) {
		case 0: p += sprintf(p, "I  %08llx,%u\n", (unsigned long long)a, sz); break;
		case 1: p += sprintf(p, " L %08llx,%u\n", (unsigned long long)a, sz); break;
		case 2: p += sprintf(p, " S %08llx,%u\n", (unsigned long long)a, sz); break;
		case 3: p += sprintf(p, " M %08llx,%u\n", (unsigned long long)a, sz); break;
		default:
			p += sprintf(p, "SYSCALL[9,1](9) sys_mmap ( 0x0, %u, 3, 34, 4294967295, 0 ) "
				     "--> [pre-success] Success(0x%llx) \n", sz << 12,
				     (unsigned long long)(a & ~0xfffULL));
			break;
		}
	}
	*len = (size_t)(p - s);
	return s;
}

static void same_records(const struct tt_run *a, const struct tt_run *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct mm_trace_rec *x = &a->r[i], *y = &b->r[i];
		if (x->kind != y->kind || x->addr != y->addr || x->size != y->size ||
		    x->time != y->time || x->line != y->line || x->flags != y->flags ||
		    (x->kind == MM_TRACE_SYSCALL && memcmp(&x->sys, &y->sys, sizeof(x->sys))))
			fail_msg("record %zu differs", i);
	}
}

/* ---- Round trips ------------------------------------------------------------ */

static void test_roundtrip(void **state)
{
	(void)state;
	size_t n, gzn, zsn;
	char *plain = make_lackey(50000, &n);
	unsigned char *gz = gzip_mem(plain, n, &gzn);
	unsigned char *zs = zstd_mem(plain, n, &zsn);
	struct tt_run a, b, c;
	tt_read(&a, plain, n, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.fmt, MM_TRACE_FMT_LACKEY);
	assert_int_equal(a.n, 50000);
	tt_read(&b, (const char *)gz, gzn, NULL);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.fmt, MM_TRACE_FMT_LACKEY);
	same_records(&a, &b);
	tt_read(&c, (const char *)zs, zsn, NULL);
	assert_int_equal(c.rc, 0);
	same_records(&a, &c);
	tt_free(&b);
	tt_free(&c);

	/* through files named against their content: magic bytes decide */
	static const char *const kinds[] = { "gzip", "zstd" };
	for (int k = 0; k < 2; k++) {
		char path[] = "/tmp/mmkit-trace-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		const void *d = k ? zs : gz;
		size_t dn = k ? zsn : gzn;
		assert_int_equal(write(fd, d, dn), (ssize_t)dn);
		close(fd);
		char err[300];
		struct mm_trace *t = mm_trace_open(path, NULL, err, sizeof(err));
		assert_non_null(t);
		assert_string_equal(mm_trace_compression(t), kinds[k]);
		struct mm_trace_rec rec;
		size_t i = 0;
		while (mm_trace_next(t, &rec) == 1) {
			assert_true(i < a.n && rec.addr == a.r[i].addr && rec.kind == a.r[i].kind);
			i++;
		}
		assert_int_equal(i, a.n);
		assert_null(mm_trace_error(t));
		mm_trace_close(t);
		unlink(path);
	}
	tt_free(&a);
	free(plain);
	free(gz);
	free(zs);
}

/* gzip members and zstd frames in a row read as one stream */
static void test_concatenated(void **state)
{
	(void)state;
	const char *p1 = "1\n2\n", *p2 = "3\n4\n";
	size_t n1, n2;
	unsigned char *g1 = gzip_mem(p1, 4, &n1), *g2 = gzip_mem(p2, 4, &n2);
	unsigned char *both = malloc(n1 + n2);
	memcpy(both, g1, n1);
	memcpy(both + n1, g2, n2);
	struct tt_run run;
	tt_read(&run, (const char *)both, n1 + n2, NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 4);
	for (int i = 0; i < 4; i++)
		assert_true(run.r[i].addr == (uint64_t)i + 1 && run.r[i].line == (uint64_t)i + 1);
	tt_free(&run);

	/* bytes after the last member that are not another member */
	memcpy(both + n1, "junk", 4);
	tt_read(&run, (const char *)both, n1 + 4, NULL);
	assert_int_equal(run.rc, -MM_EIO);
	assert_int_equal(run.n, 2);
	assert_string_equal(run.err, "t:3: corrupt gzip data: trailing bytes after the gzip stream");
	tt_free(&run);
	free(g1);
	free(g2);
	free(both);

	unsigned char *z1 = zstd_mem(p1, 4, &n1), *z2 = zstd_mem(p2, 4, &n2);
	both = malloc(n1 + n2);
	memcpy(both, z1, n1);
	memcpy(both + n1, z2, n2);
	tt_read(&run, (const char *)both, n1 + n2, NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 4);
	assert_true(run.r[3].addr == 4);
	tt_free(&run);
	free(z1);
	free(z2);
	free(both);

	/* an empty compressed file is an empty trace */
	unsigned char *e = gzip_mem("", 0, &n1);
	tt_read(&run, (const char *)e, n1, NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 0);
	tt_free(&run);
	free(e);
}

/* ---- Truncation and corruption ------------------------------------------------ */

static void test_truncated(void **state)
{
	(void)state;
	size_t n, cn[2];
	char *plain = make_lackey(20000, &n);
	unsigned char *c[2];
	c[0] = gzip_mem(plain, n, &cn[0]);
	c[1] = zstd_mem(plain, n, &cn[1]);
	static const char *const why[2] = {
		"truncated gzip data: the input ends inside the compressed stream",
		"truncated zstd data: the input ends inside a frame",
	};
	struct tt_run full;
	tt_read(&full, plain, n, NULL);
	for (int k = 0; k < 2; k++) {
		size_t cuts[] = { cn[k] / 2, cn[k] - 1, cn[k] - 3, 20, 5 };
		for (size_t j = 0; j < sizeof(cuts) / sizeof(cuts[0]); j++) {
			struct tt_run run;
			tt_read(&run, (const char *)c[k], cuts[j], "format=lackey");
			if (run.rc != -MM_EIO)
				fail_msg("%s cut at %zu of %zu: rc %d (%s)", k ? "zstd" : "gzip",
					 cuts[j], cn[k], run.rc, run.err);
			/* everything before the cut came out intact */
			assert_true(run.n <= full.n);
			for (size_t i = 0; i < run.n; i++)
				assert_true(run.r[i].addr == full.r[i].addr &&
					    run.r[i].line == full.r[i].line);
			/* the message names the line being read: one line per record,
			 * after the banner (line 1, unless the cut is inside it) */
			char want[200];
			size_t line = run.n + 2;
			if (run.n == 0 && strncmp(run.err, "t:1: ", 5) == 0)
				line = 1;
			snprintf(want, sizeof(want), "t:%zu: %s", line, why[k]);
			assert_string_equal(run.err, want);
			tt_free(&run);
		}
	}
	/* skipping bad lines does not skip a truncated input */
	struct tt_run run;
	tt_read(&run, (const char *)c[0], cn[0] / 2, "format=lackey,skip-bad=1");
	assert_int_equal(run.rc, -MM_EIO);
	assert_true(strstr(run.err, why[0]) != NULL);
	tt_free(&run);
	tt_free(&full);
	free(c[0]);
	free(c[1]);
	free(plain);
}

static void test_corrupt(void **state)
{
	(void)state;
	size_t n, gn, zn;
	char *plain = make_lackey(5000, &n);
	unsigned char *gz = gzip_mem(plain, n, &gn), *zs = zstd_mem(plain, n, &zn);
	struct tt_run run;

	/* a wrong CRC in the gzip trailer */
	gz[gn - 6] ^= 0x55;
	tt_read(&run, (const char *)gz, gn, "format=lackey");
	assert_int_equal(run.rc, -MM_EIO);
	assert_int_equal(run.n, 5000); /* the data decoded; the check failed at the end */
	assert_string_equal(run.err, "t:5002: corrupt gzip data: incorrect data check");
	tt_free(&run);
	gz[gn - 6] ^= 0x55;

	/* a bad compression method in the gzip header: nothing decodes */
	gz[2] = 7;
	tt_read(&run, (const char *)gz, gn, "format=lackey");
	assert_int_equal(run.rc, -MM_EIO);
	assert_int_equal(run.n, 0);
	assert_string_equal(run.err, "t:1: corrupt gzip data: unknown compression method");
	tt_free(&run);
	gz[2] = 8;

	/* garbage in the middle of the deflate data (this data: the decoder
	 * notices before it has produced a bad line) */
	memset(gz + gn / 2, 0xff, 64);
	tt_read(&run, (const char *)gz, gn, "format=lackey");
	assert_int_equal(run.rc, -MM_EIO);
	assert_true(strstr(run.err, ": corrupt gzip data: ") != NULL);
	tt_free(&run);

	/* zstd: a reserved bit set in the frame header */
	zs[4] |= 0x08;
	tt_read(&run, (const char *)zs, zn, "format=lackey");
	assert_int_equal(run.rc, -MM_EIO);
	assert_int_equal(run.n, 0);
	assert_true(strncmp(run.err, "t:1: corrupt zstd data: ", 24) == 0);
	tt_free(&run);
	zs[4] &= (unsigned char)~0x08;

	/* zstd: a damaged block */
	memset(zs + zn / 2, 0xff, 64);
	tt_read(&run, (const char *)zs, zn, "format=lackey");
	assert_int_equal(run.rc, -MM_EIO);
	assert_true(strstr(run.err, ": corrupt zstd data: ") != NULL);
	tt_free(&run);
	free(plain);
	free(gz);
	free(zs);
}

/* detection works on the decompressed text */
static void test_detect_compressed(void **state)
{
	(void)state;
	const char *csv = "time,key,size\n1,a,10\n2,b,20\n";
	size_t n;
	unsigned char *z = zstd_mem(csv, strlen(csv), &n);
	struct tt_run run;
	tt_read(&run, (const char *)z, n, NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(run.n, 2);
	assert_true(run.r[1].size == 20 && run.r[1].time == 2);
	tt_free(&run);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_detect_compressed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
