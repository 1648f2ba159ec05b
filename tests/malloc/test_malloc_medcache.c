/* The medium part of libmmalloc's thread cache (src/malloc/tcache.c):
 * chunks above 4 KiB and up to 256 KiB are rounded up to one of eight
 * classes per doubling, kept per thread when freed and handed out again
 * to any request of their class; a chunk next to top is not kept (so top
 * can absorb it and trimming works); a double free of a kept chunk
 * aborts; malloc_trim gives the kept chunks back; frees from another
 * thread go to the owner's xfree stack and come back intact. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

/* Chunk size the cache rounds a request of n bytes up to (n + 8 > 4112). */
static size_t class_of(size_t n)
{
	size_t nb = (n + 8 + 15) & ~(size_t)15;
	unsigned e = 63u - (unsigned)__builtin_clzll(nb - 1);
	size_t step = (size_t)1 << (e - 3);
	return (nb + step - 1) & ~(step - 1);
}

static void test_class_rounding(void **state)
{
	(void)state;
	/* spot checks of the class table: 12.5% steps above 4 KiB */
	assert_int_equal(class_of(4200), 4608);
	assert_int_equal(class_of(8184), 8192);
	assert_int_equal(class_of(8185), 9216);
	assert_int_equal(class_of(100000), 106496);
	const size_t sizes[] = { 4200, 5000, 8184, 8185, 10000, 33000, 100000, 120000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		void *p = mmalloc_malloc(sizes[k]);
		void *guard = mmalloc_malloc(64);   /* p is not next to top */
		assert_non_null(p);
		assert_true(mmalloc_usable_size(p) >= sizes[k]);
		assert_int_equal(mmalloc_usable_size(p), class_of(sizes[k]) - 8);
		mmalloc_free(p);
		mmalloc_free(guard);
	}
	/* whose class would reach the mmap threshold (128 KiB): not rounded,
	 * mmap-ed as glibc would */
	size_t hblks = mmalloc_mallinfo2().hblks;
	void *big = mmalloc_malloc(140000);
	assert_int_equal(mmalloc_mallinfo2().hblks, hblks + 1);
	assert_true(mmalloc_usable_size(big) < class_of(140000) - 8);
	mmalloc_free(big);
	assert_int_equal(mmalloc_check(), 0);
	mmalloc_trim(0);
}

/* A freed medium chunk serves the next request of its class, even a
 * smaller one, and its contents are the caller's to write. */
static void test_reuse_within_class(void **state)
{
	(void)state;
	unsigned char *p = mmalloc_malloc(10000);
	void *guard = mmalloc_malloc(64);
	memset(p, 0xab, 10000);
	mmalloc_free(p);
	assert_int_equal(mmalloc_check(), 0);     /* checker walks the cache */
	unsigned char *q = mmalloc_malloc(9500);  /* same class: 10240 */
	assert_ptr_equal(q, p);
	memset(q, 0x11, 9500);
	unsigned char *r = mmalloc_malloc(12000); /* another class */
	assert_ptr_not_equal(r, p);
	mmalloc_free(r);
	mmalloc_free(q);
	mmalloc_free(guard);
	assert_int_equal(mmalloc_check(), 0);
	mmalloc_trim(0);
	assert_int_equal(mmalloc_check(), 0);
}

/* The chunk right below top is given to the arena, not cached: top
 * takes it back (the in-use total drops by its size at once). */
static void test_top_neighbour_not_kept(void **state)
{
	(void)state;
	mmalloc_trim(0);
	void *p = mmalloc_malloc(20000);
	struct mallinfo2 before = mmalloc_mallinfo2();
	mmalloc_free(p);
	struct mallinfo2 after = mmalloc_mallinfo2();
	assert_true(before.uordblks >= after.uordblks + class_of(20000));
	assert_int_equal(mmalloc_check(), 0);
}

/* malloc_trim gives back what this thread keeps: free bytes grow by at
 * least the cached chunks. */
static void test_trim_flushes(void **state)
{
	(void)state;
	enum { N = 6 };
	void *p[N], *guard[N];
	for (int i = 0; i < N; i++) {
		p[i] = mmalloc_malloc(30000);
		guard[i] = mmalloc_malloc(64);
	}
	for (int i = 0; i < N; i++)
		mmalloc_free(p[i]);
	struct mallinfo2 kept = mmalloc_mallinfo2();
	mmalloc_trim(0);
	struct mallinfo2 trimmed = mmalloc_mallinfo2();
	/* class 32768 keeps at most 2 (64 KiB worth): those 2 come back */
	assert_true(kept.uordblks >= trimmed.uordblks + 2 * class_of(30000));
	for (int i = 0; i < N; i++)
		mmalloc_free(guard[i]);
	assert_int_equal(mmalloc_check(), 0);
}

/* Many classes past the 1 MiB budget: the cache halves itself and every
 * invariant holds; all memory comes back. */
static void test_budget(void **state)
{
	(void)state;
	enum { N = 400 };
	static void *p[N], *guard[N];
	uint64_t seed = mm_test_seed();
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t n = 4200 + (size_t)(seed >> 33) % (250 * 1024 - 4200);
		p[i] = mmalloc_malloc(n);
		assert_non_null(p[i]);
		memset(p[i], i & 0xff, n);
		guard[i] = mmalloc_malloc(32);
	}
	for (int i = 0; i < N; i++) {
		mmalloc_free(p[i]);
		if (i % 50 == 0)
			assert_int_equal(mmalloc_check(), 0);
	}
	for (int i = 0; i < N; i++)
		mmalloc_free(guard[i]);
	assert_int_equal(mmalloc_check(), 0);
	mmalloc_trim(0);
	assert_int_equal(mmalloc_check(), 0);
}

static void do_cached_double_free(void *arg)
{
	(void)arg;
	void *p = mmalloc_malloc(10000);
	void *guard = mmalloc_malloc(64);
	(void)guard;
	mmalloc_free(p);
	mmalloc_free(p);
}

static void *alloc_medium(void *arg)
{
	void **pp = arg;
	pp[0] = mmalloc_malloc(50000);
	pp[1] = mmalloc_malloc(64);   /* neighbours stay in use */
	memset(pp[0], 0x5c, 50000);
	return NULL;
}

static void *free_first(void *arg)
{
	void **pp = arg;
	mmalloc_free(mmalloc_malloc(8));   /* this thread has an arena */
	mmalloc_free(pp[0]);
	return NULL;
}

/* A medium chunk freed by another thread goes home on the xfree stack
 * and is freed there; freeing it again aborts. */
static void do_remote_medium_double_free(void *arg)
{
	(void)arg;
	void *pp[2];
	void *before = mmalloc_malloc(64);
	(void)before;
	pthread_t t;
	if (pthread_create(&t, NULL, alloc_medium, pp) != 0)
		return;
	pthread_join(t, NULL);
	mmalloc_free(mmalloc_malloc(8));
	mmalloc_free(pp[0]);   /* the allocating thread's arena: pushed home */
	mmalloc_free(pp[0]);
}

static void test_double_free_aborts(void **state)
{
	(void)state;
	static const char *const needles[] = { "double free", NULL };
	mm_test_expect_abort(do_cached_double_free, NULL, needles);
	mm_test_expect_abort(do_remote_medium_double_free, NULL, needles);
}

/* Remote frees of medium chunks come back to their arena intact, while
 * the owning thread keeps allocating. */
static void test_remote_free(void **state)
{
	(void)state;
	void *pp[2];
	pthread_t t;
	for (int round = 0; round < 20; round++) {
		assert_int_equal(pthread_create(&t, NULL, alloc_medium, pp), 0);
		pthread_join(t, NULL);
		const unsigned char *c = pp[0];
		for (int i = 0; i < 50000; i += 997)
			assert_int_equal(c[i], 0x5c);
		assert_int_equal(pthread_create(&t, NULL, free_first, pp), 0);
		pthread_join(t, NULL);
		mmalloc_free(pp[1]);
		assert_int_equal(mmalloc_check(), 0);
	}
	mmalloc_trim(0);
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_rounding),
		cmocka_unit_test(test_reuse_within_class),
		cmocka_unit_test(test_top_neighbour_not_kept),
		cmocka_unit_test(test_trim_flushes),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_double_free_aborts),
		cmocka_unit_test(test_remote_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
