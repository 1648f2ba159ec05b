/* Direct reclaim from inside the page source, as the simulator does it: a
 * page source that calls mm_kmem_shrink_all before every allocation (so the
 * shrinker runs inside slab builds, magazine allocations, per-thread state
 * creation and large kmalloc). A random workload on top must keep every
 * object intact and every structure valid, and all pages come back. */
#include <stdatomic.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/rng.h"
#include "mmkit/slab.h"

struct reclaiming_source {
	struct mm_page_source base;
	struct mm_fault_source counted;  /* the real pages, counted */
	struct mm_kmem *k;               /* set once the instance exists */
	unsigned long reclaims;
	long reclaimed;
	int depth;
};

static void *rs_alloc(void *ctx, unsigned order, mm_gfp_t gfp)
{
	struct reclaiming_source *rs = ctx;
	if (rs->k && rs->depth == 0) {
		rs->depth++;
		rs->reclaimed += mm_kmem_shrink_all(rs->k);
		rs->reclaims++;
		rs->depth--;
	}
	return mm_ps_alloc(&rs->counted.base, order, gfp);
}

static void rs_free(void *ctx, void *addr, unsigned order)
{
	struct reclaiming_source *rs = ctx;
	mm_ps_free(&rs->counted.base, addr, order);
}

static const struct mm_page_source_ops rs_ops = {
	.name = "reclaiming",
	.alloc_pages = rs_alloc,
	.free_pages = rs_free,
};

#define NLIVE 200

static void test_shrinker_inside_page_source(void **state)
{
	(void)state;
	static struct reclaiming_source rs;
	memset(&rs, 0, sizeof(rs));
	mm_fault_source_init(&rs.counted, &mm_page_source_mmap);
	rs.base.ops = &rs_ops;
	rs.base.ctx = &rs;
	struct mm_kmem *k = mm_kmem_create(&rs.base, 0);
	assert_non_null(k);
	rs.k = k;
	struct mm_kmem_cache *c[3] = {
		mm_kmem_cache_create(k, "rc_64", 64, 0, 0, NULL),
		mm_kmem_cache_create(k, "rc_700", 700, 0, 0, NULL),
		mm_kmem_cache_create(k, "rc_direct", 300, 0, MM_SLAB_NO_MAGAZINES, NULL),
	};
	const size_t csize[3] = { 64, 700, 300 };
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	static unsigned char *p[NLIVE];
	static size_t sz[NLIVE];
	static int kind[NLIVE];
	static unsigned char tag[NLIVE];
	uint64_t ops = mm_test_iters(200000);
	for (uint64_t op = 0; op < ops; op++) {
		size_t i = mm_rng_below(&r, NLIVE);
		if (p[i]) {
			for (size_t j = 0; j < sz[i]; j++)
				if (p[i][j] != (unsigned char)(tag[i] + j))
					mm_test_fail_seed("op %llu: object changed", (unsigned long long)op);
			if (kind[i] < 3)
				mm_kmem_cache_free(c[kind[i]], p[i]);
			else
				mm_kfree(k, p[i]);
			p[i] = NULL;
			continue;
		}
		kind[i] = (int)mm_rng_below(&r, 5);
		if (kind[i] < 3) {
			sz[i] = csize[kind[i]];
			p[i] = mm_kmem_cache_alloc(c[kind[i]], 0);
		} else {
			sz[i] = kind[i] == 3 ? 1 + mm_rng_below(&r, 4000) : 9000 + mm_rng_below(&r, 30000);
			p[i] = mm_kmalloc(k, sz[i], 0);
		}
		if (!p[i])
			mm_test_fail_seed("op %llu: allocation failed", (unsigned long long)op);
		tag[i] = (unsigned char)mm_rng_next(&r);
		for (size_t j = 0; j < sz[i]; j++)
			p[i][j] = (unsigned char)(tag[i] + j);
		if ((op & 63) == 0 && mm_kmem_check(k) != 0)
			mm_test_fail_seed("op %llu: check failed", (unsigned long long)op);
	}
	assert_true(rs.reclaims > 100);
	assert_true(rs.reclaimed > 0);
	for (size_t i = 0; i < NLIVE; i++) {
		if (!p[i])
			continue;
		if (kind[i] < 3)
			mm_kmem_cache_free(c[kind[i]], p[i]);
		else
			mm_kfree(k, p[i]);
	}
	assert_int_equal(mm_kmem_check(k), 0);
	for (int i = 0; i < 3; i++)
		mm_kmem_cache_destroy(c[i]);
	rs.k = NULL;
	mm_kmem_destroy(k);
	assert_int_equal(atomic_load(&rs.counted.pages_out), 0);
}

/* A constructor that allocates from its own instance: a kmalloc whose slow
 * path runs (and ends) inside the outer slab build, then a large kmalloc
 * whose page-source call runs the shrinker. The outer slow path is still
 * filling its magazine then: the shrinker must leave that one alone too. */
static struct mm_kmem *ctor_k;

static void allocating_ctor(void *obj)
{
	memset(obj, 0x5a, 16);
	void *small = mm_kmalloc(ctor_k, 200, 0);
	void *large = mm_kmalloc(ctor_k, 4 * MM_PAGE_SIZE, 0);
	assert_non_null(small);
	assert_non_null(large);
	mm_kfree(ctor_k, large);
	mm_kfree(ctor_k, small);
}

static void test_shrinker_inside_nested_slow_paths(void **state)
{
	(void)state;
	static struct reclaiming_source rs;
	memset(&rs, 0, sizeof(rs));
	mm_fault_source_init(&rs.counted, &mm_page_source_mmap);
	rs.base.ops = &rs_ops;
	rs.base.ctx = &rs;
	struct mm_kmem *k = mm_kmem_create(&rs.base, 0);
	assert_non_null(k);
	rs.k = ctor_k = k;
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "ctor_allocs", 100, 0, 0,
						       allocating_ctor);
	assert_non_null(c);
	static unsigned char *o[600];
	for (int i = 0; i < 600; i++) {
		o[i] = mm_kmem_cache_alloc(c, 0);
		assert_non_null(o[i]);
		assert_int_equal(o[i][0], 0x5a);
	}
	assert_int_equal(mm_kmem_check(k), 0);
	for (int i = 0; i < 600; i++)
		mm_kmem_cache_free(c, o[i]);
	mm_kmem_shrink_all(k);
	assert_int_equal(mm_kmem_check(k), 0);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	assert_int_equal(st.active_objs, 0); /* every object back in its slab */
	mm_kmem_cache_destroy(c);
	rs.k = NULL;
	mm_kmem_destroy(k);
	assert_int_equal(atomic_load(&rs.counted.pages_out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrinker_inside_page_source),
		cmocka_unit_test(test_shrinker_inside_nested_slow_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
