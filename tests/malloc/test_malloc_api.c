/* Conformance of the core entry points (mmalloc_*), called directly:
 * alignment, malloc(0), errno on overflow, realloc/calloc edge cases,
 * the memalign family, usable sizes, mallopt and the heap checker. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

static void check_heap(void)
{
	assert_int_equal(mmalloc_check(), 0);
}

static void test_alignment_and_zero(void **state)
{
	(void)state;
	void *a = mmalloc_malloc(0), *b = mmalloc_malloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	for (size_t n = 0; n < 5000; n += 7) {
		void *p = mmalloc_malloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(mmalloc_usable_size(p) >= n);
		memset(p, 0xab, n);
		mmalloc_free(p);
	}
	mmalloc_free(a);
	mmalloc_free(b);
	mmalloc_free(NULL);
	assert_int_equal(mmalloc_usable_size(NULL), 0);
	check_heap();
}

static void test_overflow_errno(void **state)
{
	(void)state;
	errno = 0;
	assert_null(mmalloc_calloc(SIZE_MAX / 2, 3));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mmalloc_malloc(SIZE_MAX - 10));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mmalloc_malloc(PTRDIFF_MAX));
	assert_int_equal(errno, ENOMEM);
	void *p = mmalloc_malloc(10);
	errno = 0;
	assert_null(mmalloc_reallocarray(p, SIZE_MAX / 4, 8));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mmalloc_realloc(p, SIZE_MAX - 100));
	assert_int_equal(errno, ENOMEM);
	mmalloc_free(p);   /* p untouched by the failed calls */
	check_heap();
}

static void test_calloc_zeroes(void **state)
{
	(void)state;
	/* dirty some memory, free it, calloc must still give zeros */
	for (int round = 0; round < 3; round++) {
		void *d[64];
		for (int i = 0; i < 64; i++) {
			d[i] = mmalloc_malloc((size_t)i * 40 + 1);
			memset(d[i], 0x5a, (size_t)i * 40 + 1);
		}
		for (int i = 0; i < 64; i++)
			mmalloc_free(d[i]);
		for (int i = 0; i < 64; i++) {
			size_t n = (size_t)i * 40 + 1;
			unsigned char *c = mmalloc_calloc(n, 1);
			assert_non_null(c);
			for (size_t k = 0; k < n; k++)
				assert_int_equal(c[k], 0);
			d[i] = c;
		}
		for (int i = 0; i < 64; i++)
			mmalloc_free(d[i]);
	}
	unsigned char *big = mmalloc_calloc(1 << 20, 1);
	assert_non_null(big);
	assert_int_equal(big[12345], 0);
	mmalloc_free(big);
	check_heap();
}

static void test_realloc_semantics(void **state)
{
	(void)state;
	char *p = mmalloc_realloc(NULL, 100);
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		p[i] = (char)i;
	/* grow through every regime: in place, moved, into mmap, mremap */
	size_t sizes[] = { 200, 1000, 5000, 70000, 300000, 3000000, 50, 20 };
	size_t prev = 100;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		p = mmalloc_realloc(p, sizes[k]);
		assert_non_null(p);
		size_t keep = prev < sizes[k] ? prev : sizes[k];
		for (size_t i = 0; i < keep && i < 100; i++)
			assert_int_equal(p[i], (char)i);
		for (size_t i = 100; i < sizes[k]; i++)
			p[i] = 1;
		assert_true(mmalloc_usable_size(p) >= sizes[k]);
		prev = sizes[k];
		check_heap();
	}
	/* realloc(p, 0) frees and returns NULL, as glibc */
	assert_null(mmalloc_realloc(p, 0));
	check_heap();
}

static void test_memalign_family(void **state)
{
	(void)state;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	for (size_t a = 1; a <= (1u << 20); a <<= 1) {
		for (size_t n = 0; n < 300000; n = n * 3 + 17) {
			void *p = mmalloc_memalign(a, n);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % (a < 16 ? 16 : a), 0);
			memset(p, 1, n);
			assert_true(mmalloc_usable_size(p) >= n);
			mmalloc_free(p);
		}
	}
	check_heap();
	/* not a power of two: memalign rounds up, and aligned_alloc too, as
	 * in glibc 2.36 (2.38 returns EINVAL) */
	void *p = mmalloc_memalign(48, 10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	mmalloc_free(p);
	errno = 0;
	p = mmalloc_aligned_alloc(48, 10);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	assert_int_equal(errno, 0);
	mmalloc_free(p);
	p = mmalloc_aligned_alloc(0, 10);   /* alignment 0: like malloc */
	assert_non_null(p);
	mmalloc_free(p);
	errno = 0;
	assert_null(mmalloc_memalign(SIZE_MAX / 2 + 2, 10));
	assert_int_equal(errno, EINVAL);

	void *out = (void *)0x1;
	assert_int_equal(mmalloc_posix_memalign(&out, 3, 10), EINVAL);
	assert_int_equal(mmalloc_posix_memalign(&out, 4, 10), EINVAL);
	assert_int_equal(mmalloc_posix_memalign(&out, 24, 10), EINVAL);
	assert_ptr_equal(out, (void *)0x1);
	assert_int_equal(mmalloc_posix_memalign(&out, 64, 10), 0);
	assert_int_equal((uintptr_t)out % 64, 0);
	mmalloc_free(out);
	errno = 0;
	assert_int_equal(mmalloc_posix_memalign(&out, 8, SIZE_MAX - 100), ENOMEM);
	assert_int_equal(errno, ENOMEM);   /* glibc 2.36 leaves it set */

	p = mmalloc_valloc(100);
	assert_int_equal((uintptr_t)p % ps, 0);
	mmalloc_free(p);
	p = mmalloc_pvalloc(100);
	assert_int_equal((uintptr_t)p % ps, 0);
	assert_true(mmalloc_usable_size(p) >= ps);
	mmalloc_free(p);
	check_heap();
}

static void test_mallopt(void **state)
{
	(void)state;
	/* glibc 2.36: an unknown id succeeds, any threshold is taken */
	assert_int_equal(mmalloc_mallopt(12345, 1), 1);
	assert_int_equal(mmalloc_mallopt(-100, 1), 1);
	assert_int_equal(mmalloc_mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024), 1);
	{
		/* 40 MiB, below the 64 MiB threshold: from the heap, not mapped */
		struct mallinfo2 b0 = mmalloc_mallinfo2();
		char *big = mmalloc_malloc((size_t)40 << 20);
		assert_non_null(big);
		struct mallinfo2 b1 = mmalloc_mallinfo2();
		assert_int_equal(b1.hblks, b0.hblks);
		assert_true(b1.uordblks >= b0.uordblks + ((size_t)40 << 20));
		big[0] = 1;
		big[((size_t)40 << 20) - 1] = 2;
		mmalloc_free(big);
	}
	assert_int_equal(mmalloc_mallopt(M_MMAP_THRESHOLD, 256 * 1024), 1);
	struct mallinfo2 before = mmalloc_mallinfo2();
	void *p = mmalloc_malloc(200 * 1024);           /* below: from the heap */
	struct mallinfo2 mid = mmalloc_mallinfo2();
	assert_int_equal(mid.hblks, before.hblks);
	void *q = mmalloc_malloc(300 * 1024);           /* above: mmap */
	struct mallinfo2 after = mmalloc_mallinfo2();
	assert_int_equal(after.hblks, before.hblks + 1);
	assert_true(after.hblkhd >= before.hblkhd + 300 * 1024);
	mmalloc_free(q);
	mmalloc_free(p);
	assert_int_equal(mmalloc_mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
	assert_int_equal(mmalloc_mallopt(M_TRIM_THRESHOLD, 128 * 1024), 1);
	assert_int_equal(mmalloc_mallopt(M_TOP_PAD, 0), 1);
	{
		/* a negative M_MMAP_MAX forbids mmap, as glibc's int compare */
		assert_int_equal(mmalloc_mallopt(M_MMAP_MAX, -1), 1);
		struct mallinfo2 m0 = mmalloc_mallinfo2();
		void *big = mmalloc_malloc(300 * 1024);
		assert_non_null(big);
		assert_int_equal(mmalloc_mallinfo2().hblks, m0.hblks);
		mmalloc_free(big);
	}
	assert_int_equal(mmalloc_mallopt(M_MMAP_MAX, 65536), 1);
	assert_int_equal(mmalloc_mallopt(M_ARENA_MAX, 4), 1);
	assert_int_equal(mmalloc_mallopt(M_MXFAST, 64), 1);
	assert_int_equal(mmalloc_mallopt(M_MXFAST, 1000), 0);
	assert_int_equal(mmalloc_mallopt(M_MXFAST, 128), 1);
	check_heap();
}

static void test_usable_and_trim(void **state)
{
	(void)state;
	void *blocks[256];
	for (int i = 0; i < 256; i++)
		blocks[i] = mmalloc_malloc(4000);
	for (int i = 0; i < 256; i++)
		mmalloc_free(blocks[i]);
	mmalloc_thread_flush();
	check_heap();
	mmalloc_trim(0);
	check_heap();
	struct mallinfo2 mi = mmalloc_mallinfo2();
	assert_true(mi.arena >= mi.uordblks);
	assert_true(mi.fordblks <= mi.arena);
}

/* In a thread's own heap: freed memory is given back (automatically or by
 * malloc_trim), counted by the OS layer, and system bytes shrink. */
static void *trim_body(void *arg)
{
	(void)arg;
	struct mmalloc_os_counters c0, c1;
	mmalloc_os_counters(&c0);
	void *b[200];
	for (int i = 0; i < 200; i++) {
		b[i] = mmalloc_malloc(20000);
		memset(b[i], 1, 20000);
	}
	struct mallinfo2 full = mmalloc_mallinfo2();
	for (int i = 199; i >= 0; i--)
		mmalloc_free(b[i]);
	mmalloc_trim(0);
	mmalloc_os_counters(&c1);
	struct mallinfo2 after = mmalloc_mallinfo2();
	assert_true(c1.bytes_trimmed - c0.bytes_trimmed >= 2u << 20);
	assert_true(after.arena + (2u << 20) <= full.arena);
	assert_int_equal(mmalloc_check(), 0);
	return NULL;
}

static void test_trim_gives_back(void **state)
{
	(void)state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, trim_body, NULL), 0);
	pthread_join(t, NULL);
}

/* A thread arena outgrowing its 64 MiB heap: a second heap is chained
 * (the first closed by a fencepost), and once everything is freed the
 * empty heap is unmapped again. mmap is off so all of it comes from heaps. */
static void *heaps_body(void *arg)
{
	(void)arg;
	enum { N = 100 };
	static void *b[N];
	for (int i = 0; i < N; i++) {
		b[i] = mmalloc_malloc(1 << 20);
		assert_non_null(b[i]);
		memset(b[i], i, 4096);
	}
	assert_int_equal(mmalloc_check(), 0);
	struct mallinfo2 full = mmalloc_mallinfo2();
	assert_int_equal(full.hblks, 0);
	for (int i = 0; i < N; i += 2)
		mmalloc_free(b[i]);
	assert_int_equal(mmalloc_check(), 0);
	for (int i = N - 1; i >= 1; i -= 2)
		mmalloc_free(b[i]);
	mmalloc_trim(0);
	assert_int_equal(mmalloc_check(), 0);
	struct mallinfo2 after = mmalloc_mallinfo2();
	assert_true(after.arena + (64u << 20) <= full.arena);
	return NULL;
}

static void test_heap_chain(void **state)
{
	(void)state;
	assert_int_equal(mmalloc_mallopt(M_MMAP_MAX, 0), 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, heaps_body, NULL), 0);
	pthread_join(t, NULL);
	{
		/* a negative M_MMAP_MAX forbids mmap, as glibc's int compare */
		assert_int_equal(mmalloc_mallopt(M_MMAP_MAX, -1), 1);
		struct mallinfo2 m0 = mmalloc_mallinfo2();
		void *big = mmalloc_malloc(300 * 1024);
		assert_non_null(big);
		assert_int_equal(mmalloc_mallinfo2().hblks, m0.hblks);
		mmalloc_free(big);
	}
	assert_int_equal(mmalloc_mallopt(M_MMAP_MAX, 65536), 1);
}

/* A freed mmap-ed chunk is kept and reused (grown with mremap) for the
 * next big request; the reused memory is dirty, yet calloc returns zeros;
 * malloc_trim unmaps what is kept. Runs first: needs the default
 * thresholds (128 KiB, dynamic). */
static void test_mmap_cache(void **state)
{
	(void)state;
	struct mmalloc_os_counters c0, c1, c2;
	unsigned char *a = mmalloc_malloc(1u << 20);
	assert_non_null(a);
	assert_int_equal(mmalloc_mallinfo2().hblks, 1);
	memset(a, 0xab, 1u << 20);
	mmalloc_os_counters(&c0);
	mmalloc_free(a);
	assert_int_equal(mmalloc_mallinfo2().hblks, 0);
	/* above the raised threshold: mmap-ed, from the cached mapping */
	size_t n = (1u << 20) + (1u << 18);
	unsigned char *b = mmalloc_calloc(1, n);
	assert_non_null(b);
	mmalloc_os_counters(&c1);
	assert_int_equal(c1.mmap_calls, c0.mmap_calls);
	assert_int_equal(c1.munmap_calls, c0.munmap_calls);
	assert_int_equal(c1.mremap_calls, c0.mremap_calls + 1);
	assert_int_equal(mmalloc_mallinfo2().hblks, 1);
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			fail_msg("calloc byte %zu is %u", i, b[i]);
	mmalloc_free(b);
	assert_int_equal(mmalloc_trim(0), 1);
	mmalloc_os_counters(&c2);
	assert_true(c2.munmap_calls > c1.munmap_calls);
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_cache),
		cmocka_unit_test(test_alignment_and_zero),
		cmocka_unit_test(test_overflow_errno),
		cmocka_unit_test(test_calloc_zeroes),
		cmocka_unit_test(test_realloc_semantics),
		cmocka_unit_test(test_memalign_family),
		cmocka_unit_test(test_mallopt),
		cmocka_unit_test(test_usable_and_trim),
		cmocka_unit_test(test_trim_gives_back),
		cmocka_unit_test(test_heap_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
