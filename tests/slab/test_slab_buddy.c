/* The slab allocator over the buddy allocator's page source (as the
 * simulator runs it): a mixed workload, the shrinker returning pages to the
 * buddy, exhaustion of a small buddy (NULL, then everything still valid),
 * and after every cache and the instance are destroyed every page is back in
 * the buddy and merged into its largest blocks again. */
#include <string.h>

#include "testutil.h"

#include "mmkit/buddy.h"
#include "mmkit/rng.h"
#include "mmkit/slab.h"

struct snapshot {
	uint64_t free;
	uint64_t nr_free[MM_MAX_ORDER_LIMIT];
};

static void snap(struct mm_buddy *b, struct snapshot *s)
{
	mm_buddy_drain_all(b);
	memset(s, 0, sizeof(*s));
	s->free = mm_buddy_free_pages(b);
	struct mm_zone *z = mm_buddy_zone(b, MM_ZONE_NORMAL);
	for (unsigned o = 0; o < mm_buddy_max_order(b); o++)
		s->nr_free[o] = mm_zone_nr_free(z, o);
}

static struct mm_buddy *new_buddy(uint64_t pages)
{
	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, pages);
	cfg.ignore_watermarks = true;
	struct mm_buddy *b = NULL;
	assert_int_equal(mm_buddy_create_mmap(&cfg, &b), 0);
	return b;
}

static void test_all_pages_back_and_merged(void **state)
{
	(void)state;
	struct mm_buddy *b = new_buddy(32768); /* 128 MiB */
	struct snapshot before, after;
	snap(b, &before);
	struct mm_page_source ps = mm_buddy_page_source(b);
	struct mm_kmem *k = mm_kmem_create(&ps, 0);
	assert_non_null(k);
	struct mm_kmem_cache *c1 = mm_kmem_cache_create(k, "vma", 200, 0, 0, NULL);
	struct mm_kmem_cache *c2 = mm_kmem_cache_create(k, "task", 3000, 64, 0, NULL);
	assert_true(c1 && c2);
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	static void *v[3000];
	static int kind[3000];
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 3000; i++) {
			kind[i] = (int)mm_rng_below(&r, 4);
			size_t size;
			switch (kind[i]) {
			case 0: size = 200; v[i] = mm_kmem_cache_alloc(c1, 0); break;
			case 1: size = 3000; v[i] = mm_kmem_cache_alloc(c2, 0); break;
			case 2: size = 1 + mm_rng_below(&r, 8192); v[i] = mm_kmalloc(k, size, 0); break;
			default: size = 8193 + mm_rng_below(&r, 30000); v[i] = mm_kmalloc(k, size, 0); break;
			}
			assert_non_null(v[i]);
			memset(v[i], i, size);
		}
		assert_int_equal(mm_kmem_check(k), 0);
		assert_int_equal(mm_buddy_check(b), 0);
		for (int i = 0; i < 3000; i++) {
			if (kind[i] == 0)
				mm_kmem_cache_free(c1, v[i]);
			else if (kind[i] == 1)
				mm_kmem_cache_free(c2, v[i]);
			else
				mm_kfree(k, v[i]);
		}
	}
	/* the shrinker gives pages straight back to the buddy */
	struct snapshot mid1, mid2;
	snap(b, &mid1);
	long freed = mm_kmem_shrink_all(k);
	assert_true(freed > 0);
	snap(b, &mid2);
	assert_int_equal(mid2.free, mid1.free + (uint64_t)freed);
	mm_kmem_cache_destroy(c1);
	mm_kmem_cache_destroy(c2);
	mm_kmem_destroy(k);
	snap(b, &after);
	assert_int_equal(after.free, before.free);
	for (unsigned o = 0; o < mm_buddy_max_order(b); o++)
		if (after.nr_free[o] != before.nr_free[o])
			fail_msg("order %u: %llu free blocks, %llu before", o,
				 (unsigned long long)after.nr_free[o],
				 (unsigned long long)before.nr_free[o]);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);
}

static void test_exhaustion(void **state)
{
	(void)state;
	struct mm_buddy *b = new_buddy(512); /* 2 MiB */
	struct snapshot before, after;
	snap(b, &before);
	struct mm_page_source ps = mm_buddy_page_source(b);
	struct mm_kmem *k = mm_kmem_create(&ps, 0);
	assert_non_null(k);
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "fill", 1000, 0, 0, NULL);
	static void *v[4000];
	int n = 0;
	while (n < 4000 && (v[n] = mm_kmem_cache_alloc(c, 0)) != NULL)
		n++;
	assert_true(n > 100 && n < 4000); /* the buddy ran dry */
	assert_null(mm_kmalloc(k, 100000, 0));
	assert_int_equal(mm_kmem_check(k), 0);
	assert_int_equal(mm_buddy_check(b), 0);
	for (int i = 0; i < n; i++)
		mm_kmem_cache_free(c, v[i]);
	/* memory is usable again after the shrinker */
	mm_kmem_shrink_all(k);
	void *big = mm_kmalloc(k, 100000, 0);
	assert_non_null(big);
	mm_kfree(k, big);
	mm_kmem_cache_destroy(c);
	mm_kmem_destroy(k);
	snap(b, &after);
	assert_int_equal(after.free, before.free);
	assert_int_equal(after.nr_free[mm_buddy_max_order(b) - 1],
			 before.nr_free[mm_buddy_max_order(b) - 1]);
	mm_buddy_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_pages_back_and_merged),
		cmocka_unit_test(test_exhaustion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
