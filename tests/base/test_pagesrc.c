/* Page sources: the mmap source returns size-aligned, writable, zeroed blocks
 * for every order 0..10; the fault-injecting wrapper fails exactly the calls
 * fail_nth / fail_every / page_limit describe and counts correctly. */
#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/pagesrc.h"

static void test_mmap_aligned_writable(void **state)
{
	(void)state;
	const struct mm_page_source *ps = &mm_page_source_mmap;
	assert_non_null(ps->ops->name);
	void *blk[11];
	for (unsigned k = 0; k <= 10; k++) {
		size_t size = MM_PAGE_SIZE << k;
		unsigned char *p = mm_ps_alloc(ps, k, MM_GFP_KERNEL);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % size, 0);
		/* zero-filled, and every page writable */
		for (size_t off = 0; off < size; off += MM_PAGE_SIZE)
			assert_int_equal(p[off], 0);
		memset(p, 0x5a, size);
		assert_int_equal(p[size - 1], 0x5a);
		blk[k] = p;
	}
	/* blocks do not overlap */
	for (unsigned a = 0; a <= 10; a++)
		for (unsigned b = a + 1; b <= 10; b++) {
			uintptr_t pa = (uintptr_t)blk[a], pb = (uintptr_t)blk[b];
			assert_true(pa + (MM_PAGE_SIZE << a) <= pb || pb + (MM_PAGE_SIZE << b) <= pa);
		}
	for (unsigned k = 0; k <= 10; k++)
		mm_ps_free(ps, blk[k], k);
	/* an absurd order fails cleanly */
	assert_null(mm_ps_alloc(ps, 60, MM_GFP_KERNEL));
}

static void test_fault_fail_nth_every(void **state)
{
	(void)state;
	struct mm_fault_source fs;
	const struct mm_page_source *ps = mm_fault_source_init(&fs, &mm_page_source_mmap);
	assert_ptr_equal(ps, &fs.base);
	fs.fail_nth = 3;
	fs.fail_every = 4;
	/* calls 1..16: fail 3, 7, 11, 15 */
	void *got[16];
	for (int i = 0; i < 16; i++) {
		got[i] = mm_ps_alloc(ps, 0, MM_GFP_KERNEL);
		int n = i + 1;
		bool should_fail = n == 3 || (n > 3 && (n - 3) % 4 == 0);
		if (should_fail)
			assert_null(got[i]);
		else
			assert_non_null(got[i]);
	}
	assert_int_equal(atomic_load(&fs.allocs), 16);
	assert_int_equal(atomic_load(&fs.failures), 4);
	assert_int_equal(atomic_load(&fs.pages_out), 12);
	for (int i = 0; i < 16; i++)
		if (got[i])
			mm_ps_free(ps, got[i], 0);
	assert_int_equal(atomic_load(&fs.frees), 12);
	assert_int_equal(atomic_load(&fs.pages_out), 0);

	/* fail_nth alone fails once */
	mm_fault_source_init(&fs, &mm_page_source_mmap);
	fs.fail_nth = 1;
	assert_null(mm_ps_alloc(ps, 0, 0));
	for (int i = 0; i < 5; i++) {
		void *p = mm_ps_alloc(ps, 1, 0);
		assert_non_null(p);
		mm_ps_free(ps, p, 1);
	}
	assert_int_equal(atomic_load(&fs.failures), 1);
	assert_int_equal(atomic_load(&fs.allocs), 6);
	/* no rules: never fails */
	mm_fault_source_init(&fs, &mm_page_source_mmap);
	fs.fail_every = 2; /* ignored without fail_nth */
	for (int i = 0; i < 6; i++) {
		void *p = mm_ps_alloc(ps, 0, 0);
		assert_non_null(p);
		mm_ps_free(ps, p, 0);
	}
	assert_int_equal(atomic_load(&fs.failures), 0);
}

static void test_fault_page_limit(void **state)
{
	(void)state;
	struct mm_fault_source fs;
	const struct mm_page_source *ps = mm_fault_source_init(&fs, &mm_page_source_mmap);
	fs.page_limit = 10;
	void *a = mm_ps_alloc(ps, 3, 0); /* 8 pages */
	assert_non_null(a);
	assert_null(mm_ps_alloc(ps, 2, 0)); /* 8 + 4 > 10 */
	void *b = mm_ps_alloc(ps, 1, 0);    /* 8 + 2 = 10: allowed */
	assert_non_null(b);
	assert_null(mm_ps_alloc(ps, 0, 0)); /* 11 > 10 */
	assert_int_equal(atomic_load(&fs.pages_out), 10);
	assert_int_equal(atomic_load(&fs.failures), 2);
	mm_ps_free(ps, a, 3);
	assert_int_equal(atomic_load(&fs.pages_out), 2);
	void *c = mm_ps_alloc(ps, 3, 0);
	assert_non_null(c);
	mm_ps_free(ps, b, 1);
	mm_ps_free(ps, c, 3);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
	assert_int_equal(atomic_load(&fs.allocs), 5);
	assert_int_equal(atomic_load(&fs.frees), 3);
}

/* Threads racing for the last pages under a limit never hold more than the
 * limit together (the check and the count are one atomic step). */
struct race {
	const struct mm_page_source *ps;
	struct mm_fault_source *fs;
	_Atomic long held;     /* pages the threads hold right now */
	_Atomic long max_held; /* the most they ever held together */
	int rounds;
};

static void *racer(void *arg)
{
	struct race *rc = arg;
	void *mine[4];
	for (int r = 0; r < rc->rounds; r++) {
		int n = 0;
		for (int i = 0; i < 4; i++) {
			mine[n] = mm_ps_alloc(rc->ps, 0, 0);
			if (mine[n]) {
				long h = atomic_fetch_add(&rc->held, 1) + 1;
				long m = atomic_load(&rc->max_held);
				while (h > m && !atomic_compare_exchange_weak(&rc->max_held, &m, h))
					;
				n++;
			}
		}
		while (n > 0) {
			atomic_fetch_sub(&rc->held, 1);
			mm_ps_free(rc->ps, mine[--n], 0);
		}
	}
	return NULL;
}

static void *counting_alloc(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	(void)ctx;
	(void)order;
	(void)gfp;
	return malloc(16); /* stands in for a page: only the counting matters */
}

static void counting_free(void *ctx, void *addr, unsigned int order)
{
	(void)ctx;
	(void)order;
	free(addr);
}

static const struct mm_page_source_ops counting_ops = { "malloc16", counting_alloc,
							counting_free };

static void test_fault_page_limit_threads(void **state)
{
	(void)state;
	const struct mm_page_source inner = { &counting_ops, NULL };
	struct mm_fault_source fs;
	struct race rc = { .fs = &fs, .rounds = (int)mm_test_iters(100000) };
	rc.ps = mm_fault_source_init(&fs, &inner);
	fs.page_limit = 6; /* 4 threads want up to 16 */
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, &rc), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(atomic_load(&rc.max_held) <= 6);
	assert_true(atomic_load(&rc.max_held) >= 1);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
	assert_int_equal(atomic_load(&fs.allocs), atomic_load(&fs.frees) + atomic_load(&fs.failures));
	/* an order that cannot be counted fails cleanly */
	assert_null(mm_ps_alloc(rc.ps, 63, 0));
	assert_int_equal(atomic_load(&fs.pages_out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_aligned_writable),
		cmocka_unit_test(test_fault_fail_nth_every),
		cmocka_unit_test(test_fault_page_limit),
		cmocka_unit_test(test_fault_page_limit_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
