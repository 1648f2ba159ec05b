/* Blockpool semantics: LIFO reuse, at most max_cached cached, the OLDEST
 * cached block is the one returned to the underlying allocator, set_count
 * trims at once, underlying failures change nothing, size rounding, debug
 * poisoning catches writes after free, destroy reports live blocks, and a
 * randomized run against an exact model with check after every op. */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "mmkit/blockpool.h"
#include "mmkit/compiler.h"
#include "mmkit/rng.h"

/* ---- a page source that records what it hands out and gets back --------- */

struct rec_source {
	struct mm_page_source ps;
	int fail;             /* fail the next allocation(s) */
	void *freed[4096];    /* in order of return */
	size_t nfreed;
	size_t allocs;
	long live;
};

static void *rec_alloc(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	(void)gfp;
	struct rec_source *rs = ctx;
	if (rs->fail > 0) {
		rs->fail--;
		return NULL;
	}
	void *p = aligned_alloc(MM_PAGE_SIZE << order, MM_PAGE_SIZE << order);
	assert_non_null(p);
	rs->allocs++;
	rs->live++;
	return p;
}

static void rec_free(void *ctx, void *addr, unsigned int order)
{
	(void)order;
	struct rec_source *rs = ctx;
	if (rs->nfreed < MM_ARRAY_SIZE(rs->freed))
		rs->freed[rs->nfreed] = addr;
	rs->nfreed++;
	rs->live--;
	free(addr);
}

static const struct mm_page_source_ops rec_ops = { "recording", rec_alloc, rec_free };

static struct rec_source *rec_new(void)
{
	struct rec_source *rs = calloc(1, sizeof(*rs));
	assert_non_null(rs);
	rs->ps.ops = &rec_ops;
	rs->ps.ctx = rs;
	return rs;
}

static struct mm_blockpool_stats bstats(struct mm_blockpool *bp)
{
	struct mm_blockpool_stats st;
	mm_blockpool_stats(bp, &st);
	return st;
}

/* ---- semantics ---------------------------------------------------------- */

static void test_lifo_and_oldest_evicted(void **state)
{
	(void)state;
	struct rec_source *rs = rec_new();
	struct mm_blockpool *bp = mm_blockpool_create_pagesrc(100, 3, &rs->ps);
	assert_non_null(bp);
	assert_int_equal(mm_blockpool_block_size(bp), MM_PAGE_SIZE);
	void *b[5];
	for (int i = 0; i < 5; i++) {
		b[i] = mm_blockpool_alloc(bp);
		assert_non_null(b[i]);
		memset(b[i], i, 100);
	}
	struct mm_blockpool_stats st = bstats(bp);
	assert_int_equal(st.underlying_allocs, 5);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.outstanding, 5);
	for (int i = 0; i < 3; i++)
		mm_blockpool_free(bp, b[i]);
	assert_int_equal(rs->nfreed, 0); /* 3 cached, none returned */
	mm_blockpool_free(bp, b[3]);
	assert_int_equal(rs->nfreed, 1);
	assert_ptr_equal(rs->freed[0], b[0]); /* the oldest goes */
	mm_blockpool_free(bp, b[4]);
	assert_int_equal(rs->nfreed, 2);
	assert_ptr_equal(rs->freed[1], b[1]);
	st = bstats(bp);
	assert_int_equal(st.cached, 3);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(mm_blockpool_check(bp), 0);
	/* reuse is newest first */
	assert_ptr_equal(mm_blockpool_alloc(bp), b[4]);
	assert_ptr_equal(mm_blockpool_alloc(bp), b[3]);
	assert_ptr_equal(mm_blockpool_alloc(bp), b[2]);
	st = bstats(bp);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.cached, 0);
	void *n = mm_blockpool_alloc(bp); /* a miss */
	assert_non_null(n);
	assert_int_equal(bstats(bp).underlying_allocs, 6);
	mm_blockpool_free(bp, n);
	mm_blockpool_free(bp, b[2]);
	mm_blockpool_free(bp, b[3]);
	mm_blockpool_free(bp, b[4]);
	assert_ptr_equal(rs->freed[2], n);
	/* set_count: trims the oldest at once */
	mm_blockpool_set_count(bp, 1);
	assert_int_equal(rs->nfreed, 5);
	assert_ptr_equal(rs->freed[3], b[2]);
	assert_ptr_equal(rs->freed[4], b[3]);
	st = bstats(bp);
	assert_int_equal(st.cached, 1);
	assert_int_equal(st.max_cached, 1);
	assert_int_equal(mm_blockpool_check(bp), 0);
	/* count 0: every free goes straight back */
	mm_blockpool_set_count(bp, 0);
	void *x = mm_blockpool_alloc(bp);
	mm_blockpool_free(bp, x);
	assert_int_equal(bstats(bp).cached, 0);
	assert_int_equal(rs->live, 0);
	mm_blockpool_free(bp, NULL);
	mm_blockpool_destroy(bp);
	assert_int_equal(rs->live, 0);
	free(rs);
}

static void test_underlying_failure(void **state)
{
	(void)state;
	struct rec_source *rs = rec_new();
	struct mm_blockpool *bp = mm_blockpool_create_pagesrc(3 * MM_PAGE_SIZE, 2, &rs->ps);
	assert_non_null(bp);
	assert_int_equal(mm_blockpool_block_size(bp), 4 * MM_PAGE_SIZE);
	void *a = mm_blockpool_alloc(bp);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % (4 * MM_PAGE_SIZE), 0);
	rs->fail = 1;
	struct mm_blockpool_stats before = bstats(bp);
	assert_null(mm_blockpool_alloc(bp));
	struct mm_blockpool_stats after = bstats(bp);
	assert_int_equal(after.underlying_fails, before.underlying_fails + 1);
	assert_int_equal(after.outstanding, before.outstanding);
	assert_int_equal(after.allocs, before.allocs);
	assert_int_equal(mm_blockpool_check(bp), 0);
	/* a cached block is still served while the source is down */
	mm_blockpool_free(bp, a);
	rs->fail = 1;
	assert_ptr_equal(mm_blockpool_alloc(bp), a);
	rs->fail = 0;
	mm_blockpool_free(bp, a);
	mm_blockpool_destroy(bp);
	assert_int_equal(rs->live, 0);
	free(rs);
}

static void test_sizes_and_malloc_backend(void **state)
{
	(void)state;
	assert_null(mm_blockpool_create(0, 4));
	struct mm_blockpool *bp = mm_blockpool_create(1, 4);
	assert_non_null(bp);
	assert_int_equal(mm_blockpool_block_size(bp), 16);
	mm_blockpool_destroy(bp);
	bp = mm_blockpool_create(17, 4);
	assert_int_equal(mm_blockpool_block_size(bp), 32);
	void *p[10];
	for (int i = 0; i < 10; i++) {
		p[i] = mm_blockpool_alloc(bp);
		assert_non_null(p[i]);
		memset(p[i], 0x11, 32);
	}
	for (int i = 0; i < 10; i++)
		mm_blockpool_free(bp, p[i]);
	struct mm_blockpool_stats st = bstats(bp);
	assert_int_equal(st.cached, 4);
	assert_int_equal(st.underlying_frees, 6);
	assert_int_equal(mm_blockpool_check(bp), 0);
	mm_blockpool_destroy(bp);
	struct rec_source *rs = rec_new();
	assert_null(mm_blockpool_create_pagesrc(0, 1, &rs->ps));
	assert_null(mm_blockpool_create_pagesrc(MM_PAGE_SIZE << 21, 1, &rs->ps));
	assert_null(mm_blockpool_create_pagesrc(64, 1, NULL));
	free(rs);
}

/* ---- failure reporting (in a child) ------------------------------------- */

static void child_destroy_live(void *arg)
{
	(void)arg;
	struct mm_blockpool *bp = mm_blockpool_create(64, 4);
	mm_blockpool_alloc(bp);
	mm_blockpool_alloc(bp);
	mm_blockpool_destroy(bp);
}

static void test_destroy_reports_live_blocks(void **state)
{
	(void)state;
	char buf[512];
	int st = mm_test_run_child(child_destroy_live, NULL, buf, sizeof(buf));
	assert_true(WIFEXITED(st));
	assert_non_null(strstr(buf, "destroyed with 2 block(s) still allocated"));
}

#ifdef MMKIT_DEBUG
static void child_use_after_free(void *arg)
{
	(void)arg;
	struct mm_blockpool *bp = mm_blockpool_create(64, 4);
	char *p = mm_blockpool_alloc(bp);
	mm_blockpool_free(bp, p);
	p[40] = 1; /* write after free */
	mm_blockpool_alloc(bp);
}
#endif

static void test_poison_catches_write_after_free(void **state)
{
	(void)state;
#ifdef MMKIT_DEBUG
	mm_test_expect_abort(child_use_after_free, NULL,
			     (const char *const[]){ "written after free (byte 40)", NULL });
	/* and the checker sees it without an alloc */
	struct mm_blockpool *bp = mm_blockpool_create(64, 4);
	char *p = mm_blockpool_alloc(bp);
	mm_blockpool_free(bp, p);
	assert_int_equal(mm_blockpool_check(bp), 0);
	p[63] = 0;
	assert_int_equal(mm_blockpool_check(bp), -1001);
	p[63] = 0x6b;
	mm_blockpool_destroy(bp);
#else
	skip(); /* poisoning exists in MMKIT_DEBUG builds only */
#endif
}

/* ---- randomized run against a model ------------------------------------- */

#define MAXOUT 200

static void test_random_vs_model(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	struct rec_source *rs = rec_new();
	size_t count = (size_t)mm_rng_below(&r, 20);
	struct mm_blockpool *bp = mm_blockpool_create_pagesrc(200, count, &rs->ps);
	assert_non_null(bp);
	void *cache[MAXOUT + 64]; /* model: oldest first */
	size_t ncache = 0;
	void *out[MAXOUT];
	size_t nout = 0;
	uint64_t hits = 0, under_allocs = 0, under_frees = 0;
	uint64_t ops = mm_test_iters(100000);
	for (uint64_t op = 0; op < ops; op++) {
		unsigned what = (unsigned)mm_rng_below(&r, 100);
		/* phases: mostly allocating, then mostly freeing */
		unsigned alloc_pct = (op / 500) % 2 ? 35 : 60;
		size_t nfreed_before = rs->nfreed;
		if (what < alloc_pct && nout < MAXOUT) {
			bool fail = mm_rng_below(&r, 10) == 0;
			rs->fail = fail;
			void *b = mm_blockpool_alloc(bp);
			rs->fail = 0;
			if (ncache > 0) {
				void *expect = cache[--ncache];
				hits++;
				if (b != expect)
					mm_test_fail_seed("op %llu: got %p, expected newest cached %p",
							  (unsigned long long)op, b, expect);
			} else if (fail) {
				if (b)
					mm_test_fail_seed("op %llu: allocation should fail",
							  (unsigned long long)op);
			} else {
				under_allocs++;
				if (!b)
					mm_test_fail_seed("op %llu: unexpected NULL", (unsigned long long)op);
			}
			if (b) {
				memset(b, (int)op, 200);
				out[nout++] = b;
			}
		} else if (what < 95 && nout > 0) {
			size_t i = (size_t)mm_rng_below(&r, nout);
			void *b = out[i];
			out[i] = out[--nout];
			mm_blockpool_free(bp, b);
			cache[ncache++] = b;
			if (ncache > count) {
				if (rs->nfreed != nfreed_before + 1 || rs->freed[rs->nfreed - 1] != cache[0])
					mm_test_fail_seed("op %llu: the oldest cached block was not returned",
							  (unsigned long long)op);
				memmove(cache, cache + 1, --ncache * sizeof(void *));
				under_frees++;
			}
		} else {
			count = (size_t)mm_rng_below(&r, 20);
			mm_blockpool_set_count(bp, count);
			size_t k = 0;
			while (ncache > count) {
				if (rs->freed[nfreed_before + k] != cache[0])
					mm_test_fail_seed("op %llu: set_count returned the wrong block",
							  (unsigned long long)op);
				memmove(cache, cache + 1, --ncache * sizeof(void *));
				under_frees++;
				k++;
			}
		}
		if (rs->nfreed >= MM_ARRAY_SIZE(rs->freed) - 64)
			rs->nfreed = 0; /* keep recording room; checks use relative indices */
		struct mm_blockpool_stats st = bstats(bp);
		if (mm_blockpool_check(bp) || st.cached != ncache || st.outstanding != nout ||
		    st.hits != hits || st.underlying_allocs != under_allocs ||
		    st.underlying_frees != under_frees || st.max_cached != count)
			mm_test_fail_seed("op %llu: pool cached %zu out %zu hits %llu ua %llu uf %llu; "
					  "model %zu %zu %llu %llu %llu",
					  (unsigned long long)op, st.cached, st.outstanding,
					  (unsigned long long)st.hits,
					  (unsigned long long)st.underlying_allocs,
					  (unsigned long long)st.underlying_frees, ncache, nout,
					  (unsigned long long)hits, (unsigned long long)under_allocs,
					  (unsigned long long)under_frees);
		if (rs->live != (long)(ncache + nout))
			mm_test_fail_seed("op %llu: %ld blocks live in the source, model %zu",
					  (unsigned long long)op, rs->live, ncache + nout);
	}
	while (nout > 0)
		mm_blockpool_free(bp, out[--nout]);
	mm_blockpool_destroy(bp);
	assert_int_equal(rs->live, 0);
	free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifo_and_oldest_evicted),
		cmocka_unit_test(test_underlying_failure),
		cmocka_unit_test(test_sizes_and_malloc_backend),
		cmocka_unit_test(test_destroy_reports_live_blocks),
		cmocka_unit_test(test_poison_catches_write_after_free),
		cmocka_unit_test(test_random_vs_model),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
