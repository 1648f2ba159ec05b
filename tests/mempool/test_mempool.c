/* Mempool semantics: the reserve is used only when alloc_fn fails, the first
 * try carries MM_GFP_NOWAIT, ATOMIC returns NULL when everything is empty,
 * free refills the reserve first, create and resize are all-or-nothing,
 * destroy gives everything back, a sleeping alloc is woken by a free from
 * another thread or retries alloc_fn after its timeout, the ready-made slab /
 * kmalloc / page pools, and a randomized run against an exact model
 * (including which element the LIFO reserve returns) with check after each op. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/buddy.h"
#include "mmkit/error.h"
#include "mmkit/mempool.h"
#include "mmkit/rng.h"
#include "mmkit/slab.h"

/* ---- a scriptable allocator --------------------------------------------- */

#define ELEM_MAGIC 0x6d656d706f6f6cULL

struct elem {
	uint64_t magic;
	uint64_t id;
};

struct tctx {
	_Atomic unsigned pattern;  /* bit i set: the i-th call from now fails */
	_Atomic int fail_all;      /* every call fails */
	_Atomic int fail_nowait;   /* calls carrying MM_GFP_NOWAIT fail */
	_Atomic int fail_count;    /* fail this many calls from now */
	_Atomic uint64_t calls, fails, frees, serial;
	_Atomic long live;         /* elements alive (made by alloc, not yet freed) */
	mm_gfp_t gfp_log[256];     /* gfp of each call, in order */
	_Atomic unsigned ngfp;
};

static void *t_alloc(mm_gfp_t gfp, void *data)
{
	struct tctx *c = data;
	unsigned i = atomic_fetch_add(&c->ngfp, 1);
	if (i < MM_ARRAY_SIZE(c->gfp_log))
		c->gfp_log[i] = gfp;
	atomic_fetch_add(&c->calls, 1);
	unsigned p = atomic_load(&c->pattern);
	atomic_store(&c->pattern, p >> 1);
	if ((p & 1) || atomic_load(&c->fail_all) || atomic_fetch_sub(&c->fail_count, 1) > 0 ||
	    (atomic_load(&c->fail_nowait) && (gfp & MM_GFP_NOWAIT))) {
		atomic_fetch_add(&c->fails, 1);
		return NULL;
	}
	struct elem *e = malloc(sizeof(*e));
	assert_non_null(e);
	e->magic = ELEM_MAGIC;
	e->id = atomic_fetch_add(&c->serial, 1);
	atomic_fetch_add(&c->live, 1);
	return e;
}

static void t_free(void *element, void *data)
{
	struct tctx *c = data;
	struct elem *e = element;
	assert_int_equal(e->magic, ELEM_MAGIC);
	e->magic = 0;
	free(e);
	atomic_fetch_add(&c->frees, 1);
	atomic_fetch_sub(&c->live, 1);
}

static struct tctx *tctx_new(void)
{
	struct tctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	return c;
}

static struct mm_mempool_stats stats_of(struct mm_mempool *pool)
{
	struct mm_mempool_stats st;
	mm_mempool_stats(pool, &st);
	return st;
}

/* ---- basic semantics ---------------------------------------------------- */

static void test_create_fills_and_destroy_frees(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(4, t_alloc, t_free, c);
	assert_non_null(pool);
	assert_int_equal(c->calls, 4);
	assert_int_equal(c->live, 4);
	struct mm_mempool_stats st = stats_of(pool);
	assert_int_equal(st.min_nr, 4);
	assert_int_equal(st.curr_nr, 4);
	assert_int_equal(mm_mempool_check(pool), 0);
	/* the reserve is filled with plain MM_GFP_KERNEL */
	for (int i = 0; i < 4; i++)
		assert_int_equal(c->gfp_log[i], MM_GFP_KERNEL);
	void *held[3];
	for (int i = 0; i < 3; i++)
		assert_non_null(held[i] = mm_mempool_alloc(pool, MM_GFP_KERNEL));
	for (int i = 0; i < 3; i++)
		mm_mempool_free(held[i], pool);
	mm_mempool_free(NULL, pool); /* no-op */
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	assert_int_equal(c->frees, c->calls - c->fails);
	mm_mempool_destroy(NULL);

	/* invalid arguments */
	assert_null(mm_mempool_create(-1, t_alloc, t_free, c));
	assert_null(mm_mempool_create(1, NULL, t_free, c));
	assert_null(mm_mempool_create(1, t_alloc, NULL, c));
	free(c);
}

static void test_create_failure_cleans_up(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	atomic_store(&c->pattern, 1u << 2); /* third call fails */
	assert_null(mm_mempool_create(5, t_alloc, t_free, c));
	assert_int_equal(c->calls, 3);
	assert_int_equal(c->frees, 2);
	assert_int_equal(c->live, 0);
	/* a pool without reserve is fine */
	struct mm_mempool *pool = mm_mempool_create(0, t_alloc, t_free, c);
	assert_non_null(pool);
	assert_int_equal(stats_of(pool).curr_nr, 0);
	void *e = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	assert_non_null(e);
	void *e2 = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	uint64_t frees = c->frees;
	mm_mempool_free(e, pool);  /* min 0, reserve empty: kept (wakes sleepers) */
	assert_int_equal(stats_of(pool).curr_nr, 1);
	assert_int_equal(c->frees, frees);
	mm_mempool_free(e2, pool); /* one is enough: to free_fn */
	assert_int_equal(stats_of(pool).curr_nr, 1);
	assert_int_equal(c->frees, frees + 1);
	assert_int_equal(mm_mempool_check(pool), 0);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

static void test_reserve_only_when_alloc_fails(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(3, t_alloc, t_free, c);
	assert_non_null(pool);
	void *reserve_ids[3];
	/* with a working allocator the reserve is not touched */
	void *held[10];
	for (int i = 0; i < 10; i++)
		held[i] = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	struct mm_mempool_stats st = stats_of(pool);
	assert_int_equal(st.curr_nr, 3);
	assert_int_equal(st.reserve_allocs, 0);
	assert_int_equal(c->calls, 13);
	/* the first try never reclaims */
	for (unsigned i = 3; i < 13; i++) {
		assert_true(c->gfp_log[i] & MM_GFP_NOWAIT);
		assert_true(c->gfp_log[i] & MM_GFP_NOWARN);
	}
	for (int i = 0; i < 10; i++)
		mm_mempool_free(held[i], pool); /* reserve full: all to free_fn */
	assert_int_equal(c->frees, 10);

	/* allocator down: ATOMIC gets the reserve, LIFO, then NULL */
	atomic_store(&c->fail_all, 1);
	for (int i = 0; i < 3; i++) {
		uint64_t before = c->calls;
		reserve_ids[i] = mm_mempool_alloc(pool, MM_GFP_ATOMIC);
		assert_non_null(reserve_ids[i]);
		assert_int_equal(c->calls, before + 1); /* one try, then the reserve */
	}
	uint64_t before = c->calls;
	assert_null(mm_mempool_alloc(pool, MM_GFP_ATOMIC));
	assert_int_equal(c->calls, before + 1); /* ATOMIC: no second try */
	assert_false(c->gfp_log[c->ngfp - 1] & MM_GFP_NOWAIT); /* ATOMIC passes as is */
	assert_null(mm_mempool_alloc(pool, MM_GFP_NOWAIT));
	assert_null(mm_mempool_alloc_preallocated(pool));
	st = stats_of(pool);
	assert_int_equal(st.reserve_allocs, 3);
	assert_int_equal(st.failed_allocs, 3);
	assert_int_equal(st.curr_nr, 0);

	/* free refills the reserve first, without calling free_fn */
	uint64_t frees = c->frees;
	mm_mempool_free(reserve_ids[1], pool);
	st = stats_of(pool);
	assert_int_equal(st.curr_nr, 1);
	assert_int_equal(st.reserve_refills, 1);
	assert_int_equal(c->frees, frees);
	assert_ptr_equal(mm_mempool_alloc_preallocated(pool), reserve_ids[1]);
	mm_mempool_free(reserve_ids[0], pool);
	mm_mempool_free(reserve_ids[1], pool);
	mm_mempool_free(reserve_ids[2], pool);
	assert_int_equal(c->frees, frees);
	assert_int_equal(stats_of(pool).curr_nr, 3);
	assert_int_equal(mm_mempool_check(pool), 0);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

static void test_second_try_reclaims(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(1, t_alloc, t_free, c);
	assert_non_null(pool);
	atomic_store(&c->fail_nowait, 1); /* only the no-reclaim try fails */
	void *a = mm_mempool_alloc(pool, MM_GFP_KERNEL | MM_GFP_ZERO);
	assert_non_null(a);
	assert_int_equal(stats_of(pool).reserve_allocs, 1); /* reserve first ... */
	void *b = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	assert_non_null(b);
	/* ... then alloc_fn again with reclaim allowed */
	unsigned n = c->ngfp;
	assert_true(c->gfp_log[n - 2] & MM_GFP_NOWAIT);
	assert_false(c->gfp_log[n - 1] & MM_GFP_NOWAIT);
	assert_false(c->gfp_log[n - 1] & MM_GFP_ZERO);
	assert_int_equal(stats_of(pool).waits, 0);
	mm_mempool_free(a, pool);
	mm_mempool_free(b, pool);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

static void test_resize(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(2, t_alloc, t_free, c);
	assert_non_null(pool);
	assert_int_equal(mm_mempool_resize(pool, 8), 0);
	struct mm_mempool_stats st = stats_of(pool);
	assert_int_equal(st.min_nr, 8);
	assert_int_equal(st.curr_nr, 8);
	assert_int_equal(c->live, 8);
	assert_int_equal(mm_mempool_check(pool), 0);
	/* shrink: the extras go to free_fn */
	assert_int_equal(mm_mempool_resize(pool, 3), 0);
	st = stats_of(pool);
	assert_int_equal(st.min_nr, 3);
	assert_int_equal(st.curr_nr, 3);
	assert_int_equal(c->frees, 5);
	assert_int_equal(c->live, 3);
	/* grow failing at the 3rd new element: nothing changes */
	atomic_store(&c->pattern, 1u << 2);
	assert_int_equal(mm_mempool_resize(pool, 10), -MM_ENOMEM);
	st = stats_of(pool);
	assert_int_equal(st.min_nr, 3);
	assert_int_equal(st.curr_nr, 3);
	assert_int_equal(c->live, 3);
	assert_int_equal(mm_mempool_check(pool), 0);
	/* a free with a full reserve still goes to free_fn */
	void *e = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	uint64_t frees = c->frees;
	mm_mempool_free(e, pool);
	assert_int_equal(c->frees, frees + 1);
	/* grow while elements are out: only the missing ones are allocated */
	atomic_store(&c->fail_all, 1);
	void *r1 = mm_mempool_alloc(pool, MM_GFP_ATOMIC);
	void *r2 = mm_mempool_alloc(pool, MM_GFP_ATOMIC);
	atomic_store(&c->fail_all, 0);
	uint64_t calls = c->calls;
	assert_int_equal(mm_mempool_resize(pool, 5), 0);
	assert_int_equal(c->calls, calls + 4); /* 5 - 1 in reserve */
	assert_int_equal(stats_of(pool).curr_nr, 5);
	mm_mempool_free(r1, pool);
	mm_mempool_free(r2, pool);
	assert_int_equal(stats_of(pool).curr_nr, 5);
	assert_int_equal(mm_mempool_resize(pool, -1), -MM_EINVAL);
	assert_int_equal(mm_mempool_resize(pool, 0), 0);
	assert_int_equal(stats_of(pool).curr_nr, 0);
	assert_int_equal(c->live, 0);
	mm_mempool_destroy(pool);
	free(c);
}

/* ---- sleeping allocations ----------------------------------------------- */

struct sleeper {
	struct mm_mempool *pool;
	void *got;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	s->got = mm_mempool_alloc(s->pool, MM_GFP_KERNEL);
	return NULL;
}

/* Poll (not time) until `waiting` sleepers are inside mm_mempool_alloc. */
static void wait_for_sleepers(struct mm_mempool *pool, unsigned waiting)
{
	for (int i = 0; i < 200000 && stats_of(pool).waiting != waiting; i++)
		usleep(50);
	assert_int_equal(stats_of(pool).waiting, waiting);
}

static void test_sleeper_woken_by_free(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(1, t_alloc, t_free, c);
	assert_non_null(pool);
	atomic_store(&c->fail_all, 1);
	void *e = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	assert_non_null(e); /* the reserve element */
	struct sleeper s = { pool, NULL };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sleeper_main, &s), 0);
	wait_for_sleepers(pool, 1);
	mm_mempool_free(e, pool);
	pthread_join(t, NULL);
	assert_ptr_equal(s.got, e); /* the very element that was freed */
	struct mm_mempool_stats st = stats_of(pool);
	assert_true(st.waits >= 1);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.reserve_allocs, 2);
	atomic_store(&c->fail_all, 0);
	mm_mempool_free(s.got, pool);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

static void test_sleeper_retries_after_timeout(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(0, t_alloc, t_free, c);
	assert_non_null(pool);
	mm_mempool_set_wait_timeout(pool, 2);
	atomic_store(&c->fail_all, 1);
	struct sleeper s = { pool, NULL };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sleeper_main, &s), 0);
	for (int i = 0; i < 200000 && stats_of(pool).timeouts < 3; i++)
		usleep(100); /* it keeps retrying ... */
	assert_true(stats_of(pool).timeouts >= 3);
	assert_null(s.got);
	atomic_store(&c->fail_all, 0); /* ... memory comes back, nobody frees */
	pthread_join(t, NULL);
	assert_non_null(s.got);
	assert_int_equal(((struct elem *)s.got)->magic, ELEM_MAGIC);
	assert_int_equal(stats_of(pool).reserve_allocs, 0);
	mm_mempool_free(s.got, pool);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

/* A pool with min_nr 0 keeps a freed element while it is empty, so a free
 * wakes its sleeper (otherwise only the timeout retry would). */
static void test_zero_min_sleeper_woken_by_free(void **state)
{
	(void)state;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(0, t_alloc, t_free, c);
	assert_non_null(pool);
	mm_mempool_set_wait_timeout(pool, 1);
	void *e = mm_mempool_alloc(pool, MM_GFP_KERNEL);
	assert_non_null(e);
	/* the allocator fails for a long while (thousands of 1 ms retries): the
	 * sleeper can only get an element quickly through the free */
	atomic_store(&c->fail_count, 5000);
	struct sleeper s = { pool, NULL };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sleeper_main, &s), 0);
	wait_for_sleepers(pool, 1);
	mm_mempool_free(e, pool);
	pthread_join(t, NULL);
	assert_ptr_equal(s.got, e);
	assert_true(atomic_load(&c->fail_count) > 0);
	atomic_store(&c->fail_count, 0);
	mm_mempool_free(s.got, pool);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	free(c);
}

static void child_destroy_with_sleeper(void *arg)
{
	(void)arg;
	struct tctx *c = tctx_new();
	struct mm_mempool *pool = mm_mempool_create(0, t_alloc, t_free, c);
	atomic_store(&c->fail_all, 1);
	struct sleeper s = { pool, NULL };
	pthread_t t;
	pthread_create(&t, NULL, sleeper_main, &s);
	for (int i = 0; i < 200000 && stats_of(pool).waiting != 1; i++)
		usleep(100);
	mm_mempool_destroy(pool); /* aborts (the parent checks) */
}

static void test_destroy_with_sleeper_aborts(void **state)
{
	(void)state;
	mm_test_expect_abort(child_destroy_with_sleeper, NULL,
			     (const char *const[]){ "destroyed while 1 thread(s) wait", NULL });
}

/* ---- reserve poisoning (debug builds) ------------------------------------ */

#ifdef MMKIT_DEBUG
static struct mm_mempool *poison_pool;
static unsigned char *poison_elem;

static void child_take_damaged(void *arg)
{
	(void)arg;
	mm_mempool_alloc_preallocated(poison_pool);
}
#endif

static void test_reserve_poison(void **state)
{
	(void)state;
#ifdef MMKIT_DEBUG
	poison_pool = mm_mempool_create_page_pool(1, 0, &mm_page_source_mmap);
	assert_non_null(poison_pool);
	poison_elem = mm_mempool_alloc_preallocated(poison_pool);
	assert_non_null(poison_elem);
	memset(poison_elem, 0, MM_PAGE_SIZE);
	mm_mempool_free(poison_elem, poison_pool); /* back into the reserve */
	assert_int_equal(poison_elem[0], 0x6b);
	assert_int_equal(poison_elem[MM_PAGE_SIZE - 1], 0xa5);
	assert_int_equal(mm_mempool_check(poison_pool), 0);
	poison_elem[100] = 1; /* a write after free */
	assert_int_equal(mm_mempool_check(poison_pool), -MM_ECORRUPT);

	mm_test_expect_abort(child_take_damaged, NULL,
			     (const char *const[]){ "was written while in the reserve (byte 100)", NULL });

	poison_elem[100] = 0x6b; /* repair, then the pool is sound again */
	assert_int_equal(mm_mempool_check(poison_pool), 0);
	mm_mempool_destroy(poison_pool);
#else
	skip(); /* poisoning exists in MMKIT_DEBUG builds only */
#endif
}

/* ---- ready-made pools --------------------------------------------------- */

static void test_page_pool(void **state)
{
	(void)state;
	struct mm_fault_source fs;
	const struct mm_page_source *ps = mm_fault_source_init(&fs, &mm_page_source_mmap);
	struct mm_mempool *pool = mm_mempool_create_page_pool(3, 2, ps);
	assert_non_null(pool);
	assert_int_equal(atomic_load(&fs.pages_out), 12);
	fs.page_limit = 12; /* the source is now exhausted */
	void *blk[3];
	for (int i = 0; i < 3; i++) {
		blk[i] = mm_mempool_alloc(pool, MM_GFP_KERNEL);
		assert_non_null(blk[i]);
		assert_int_equal((uintptr_t)blk[i] % (MM_PAGE_SIZE << 2), 0);
		memset(blk[i], i + 1, MM_PAGE_SIZE << 2);
	}
	assert_int_equal(stats_of(pool).reserve_allocs, 3);
	assert_null(mm_mempool_alloc(pool, MM_GFP_ATOMIC));
	for (int i = 0; i < 3; i++)
		mm_mempool_free(blk[i], pool);
	assert_int_equal(atomic_load(&fs.frees), 0); /* all back in the reserve */
	fs.page_limit = 0;
	mm_mempool_destroy(pool);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
	assert_int_equal(atomic_load(&fs.frees), 3);

	/* creation fails cleanly when the source cannot fill the reserve */
	mm_fault_source_init(&fs, &mm_page_source_mmap);
	fs.page_limit = 8;
	assert_null(mm_mempool_create_page_pool(3, 2, ps));
	assert_int_equal(atomic_load(&fs.pages_out), 0);
	assert_null(mm_mempool_create_page_pool(1, 0, NULL));
}

/* The arrangement the simulator uses: a page mempool over the buddy
 * allocator's page source. When the buddy allocator runs dry, the reserve
 * keeps ATOMIC callers going; frees refill it first; destroy gives every
 * page back to the buddy allocator. */
static void test_page_pool_over_buddy(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, 256);
	cfg.ignore_watermarks = true; /* every page may be taken */
	cfg.no_pcp = true;            /* counts are exact at once */
	struct mm_buddy *b;
	assert_int_equal(mm_buddy_create_mmap(&cfg, &b), 0);
	struct mm_page_source ps = mm_buddy_page_source(b);
	uint64_t free0 = mm_buddy_free_pages(b);
	struct mm_mempool *pool = mm_mempool_create_page_pool(4, 1, &ps);
	assert_non_null(pool);
	assert_int_equal(mm_buddy_free_pages(b), free0 - 8);
	/* drain the buddy allocator through the pool */
	void *blk[200];
	int n = 0;
	for (;;) {
		void *p = mm_mempool_alloc(pool, MM_GFP_ATOMIC);
		if (!p)
			break;
		assert_true(n < 200);
		assert_int_equal((uintptr_t)p % (2 * MM_PAGE_SIZE), 0);
		memset(p, n, 2 * MM_PAGE_SIZE);
		blk[n++] = p;
	}
	struct mm_mempool_stats st = stats_of(pool);
	assert_int_equal(st.reserve_allocs, 4); /* the reserve went last */
	assert_int_equal(st.curr_nr, 0);
	assert_int_equal(mm_buddy_free_pages(b), 0);
	assert_int_equal(n, (int)(free0 / 2));
	/* the contents survived: no block was handed out twice */
	for (int i = 0; i < n; i++)
		assert_int_equal(((unsigned char *)blk[i])[2 * MM_PAGE_SIZE - 1], (unsigned char)i);
	/* frees refill the reserve before the buddy allocator sees pages */
	for (int i = 0; i < 4; i++)
		mm_mempool_free(blk[--n], pool);
	assert_int_equal(stats_of(pool).curr_nr, 4);
	assert_int_equal(mm_buddy_free_pages(b), 0);
	while (n > 0)
		mm_mempool_free(blk[--n], pool);
	assert_int_equal(mm_buddy_free_pages(b), free0 - 8);
	assert_int_equal(mm_mempool_check(pool), 0);
	mm_mempool_destroy(pool);
	assert_int_equal(mm_buddy_free_pages(b), free0);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);
}

static void test_slab_and_kmalloc_pools(void **state)
{
	(void)state;
	struct mm_kmem *k = mm_kmem_create(&mm_page_source_mmap, 0);
	assert_non_null(k);
	struct mm_kmem_cache *cache = mm_kmem_cache_create(k, "mempool_test", 96, 0, MM_SLAB_NO_MAGAZINES, NULL);
	assert_non_null(cache);
	struct mm_mempool *sp = mm_mempool_create_slab_pool(5, cache);
	assert_non_null(sp);
	struct mm_kmem_cache_stats cst;
	mm_kmem_cache_stats(cache, &cst);
	assert_int_equal(cst.active_objs, 5);
	void *o[20];
	for (int i = 0; i < 20; i++) {
		o[i] = mm_mempool_alloc(sp, MM_GFP_KERNEL);
		assert_non_null(o[i]);
		memset(o[i], 0xab, 96);
	}
	mm_kmem_cache_stats(cache, &cst);
	assert_int_equal(cst.active_objs, 25);
	for (int i = 0; i < 20; i++)
		mm_mempool_free(o[i], sp);
	assert_int_equal(mm_kmem_cache_check(cache), 0);
	mm_mempool_destroy(sp);
	mm_kmem_cache_stats(cache, &cst);
	assert_int_equal(cst.active_objs, 0);
	assert_null(mm_mempool_create_slab_pool(1, NULL));

	struct mm_mempool *kp = mm_mempool_create_kmalloc_pool(4, k, 300);
	assert_non_null(kp);
	for (int i = 0; i < 10; i++) {
		o[i] = mm_mempool_alloc(kp, MM_GFP_KERNEL);
		assert_non_null(o[i]);
		assert_true(mm_ksize(k, o[i]) >= 300);
		memset(o[i], 0xcd, 300);
	}
	for (int i = 0; i < 10; i++)
		mm_mempool_free(o[i], kp);
	assert_int_equal(mm_mempool_check(kp), 0);
	mm_mempool_destroy(kp);
	assert_null(mm_mempool_create_kmalloc_pool(1, k, 0));
	assert_int_equal(mm_kmem_check(k), 0);
	mm_kmem_cache_destroy(cache);
	mm_kmem_destroy(k);
}

/* ---- randomized run against an exact model ------------------------------ */

#define MAXHELD 64

struct model {
	void *reserve[256]; /* LIFO, as the pool */
	int curr, min;
	void *held[MAXHELD];
	int nheld;
	uint64_t calls, fails, frees, reserve_allocs, refills, failed, waits;
};

static void model_compare(struct mm_mempool *pool, const struct tctx *c, const struct model *m,
			  uint64_t op)
{
	struct mm_mempool_stats st = stats_of(pool);
	if (mm_mempool_check(pool))
		mm_test_fail_seed("check failed after op %llu", (unsigned long long)op);
	if (st.curr_nr != m->curr || st.min_nr != m->min || c->calls != m->calls ||
	    st.alloc_fn_fails != m->fails || c->fails != m->fails || c->frees != m->frees ||
	    st.reserve_allocs != m->reserve_allocs || st.reserve_refills != m->refills ||
	    st.failed_allocs != m->failed || st.waits != m->waits)
		mm_test_fail_seed("op %llu: pool curr %d min %d calls %llu fails %llu frees %llu "
				  "res %llu refills %llu failed %llu waits %llu; model %d %d %llu %llu "
				  "%llu %llu %llu %llu %llu",
				  (unsigned long long)op, st.curr_nr, st.min_nr,
				  (unsigned long long)c->calls,
				  (unsigned long long)st.alloc_fn_fails,
				  (unsigned long long)c->frees,
				  (unsigned long long)st.reserve_allocs,
				  (unsigned long long)st.reserve_refills,
				  (unsigned long long)st.failed_allocs, (unsigned long long)st.waits,
				  m->curr, m->min, (unsigned long long)m->calls,
				  (unsigned long long)m->fails, (unsigned long long)m->frees,
				  (unsigned long long)m->reserve_allocs, (unsigned long long)m->refills,
				  (unsigned long long)m->failed, (unsigned long long)m->waits);
	if (c->live != m->curr + m->nheld)
		mm_test_fail_seed("op %llu: %ld elements alive, model %d", (unsigned long long)op,
				  (long)c->live, m->curr + m->nheld);
}

static void test_random_vs_model(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	struct tctx *c = tctx_new();
	struct model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->min = (int)mm_rng_below(&r, 8);
	struct mm_mempool *pool = mm_mempool_create(m->min, t_alloc, t_free, c);
	assert_non_null(pool);
	mm_mempool_set_wait_timeout(pool, 1);
	/* the reserve's initial content, in fill order */
	for (int i = 0; i < m->min; i++)
		m->reserve[m->curr++] = NULL; /* unknown pointers: learnt when popped */
	m->calls = (uint64_t)m->min;
	uint64_t ops = mm_test_iters(60000);
	for (uint64_t op = 0; op < ops; op++) {
		unsigned what = (unsigned)mm_rng_below(&r, 100);
		/* which of the next alloc_fn calls fail: often some */
		unsigned pattern = (unsigned)mm_rng_next(&r) & (unsigned)mm_rng_next(&r);
		if (what < 45 && m->nheld < MAXHELD) {
			bool atomic = mm_rng_below(&r, 3) == 0;
			if (!atomic)
				pattern &= ~4u; /* the try after one wait succeeds */
			atomic_store(&c->pattern, pattern);
			void *e = mm_mempool_alloc(pool, atomic ? MM_GFP_ATOMIC : MM_GFP_KERNEL);
			enum { FRESH, RESERVE, NONE } kind = FRESH;
			void *expect = NULL; /* reserve top, if known */
			m->calls++;
			if (pattern & 1) {
				m->fails++;
				if (m->curr > 0) {
					kind = RESERVE;
					expect = m->reserve[--m->curr];
					m->reserve_allocs++;
				} else if (atomic) {
					kind = NONE;
					m->failed++;
				} else {
					m->calls++; /* the retry with reclaim */
					if (pattern & 2) {
						m->fails++;
						m->waits++; /* sleeps 1 ms, nobody frees */
						m->calls++; /* pattern bit 2 clear: succeeds */
					}
				}
			}
			if (kind == FRESH && (!e || ((struct elem *)e)->magic != ELEM_MAGIC))
				mm_test_fail_seed("op %llu: expected a fresh element", (unsigned long long)op);
			if (kind == RESERVE && (!e || (expect && e != expect)))
				mm_test_fail_seed("op %llu: reserve returned %p, model %p",
						  (unsigned long long)op, e, expect);
			if (kind == NONE && e)
				mm_test_fail_seed("op %llu: expected NULL", (unsigned long long)op);
			if (e)
				m->held[m->nheld++] = e;
		} else if (what < 90 && m->nheld > 0) {
			int i = (int)mm_rng_below(&r, (uint64_t)m->nheld);
			void *e = m->held[i];
			m->held[i] = m->held[--m->nheld];
			mm_mempool_free(e, pool);
			if (m->curr < m->min || (m->min == 0 && m->curr == 0)) {
				m->reserve[m->curr++] = e;
				m->refills++;
			} else {
				m->frees++;
			}
		} else if (what < 96) {
			int n = (int)mm_rng_below(&r, 12);
			atomic_store(&c->pattern, pattern);
			int rc = mm_mempool_resize(pool, n);
			int expect_rc = 0;
			if (n <= m->min) {
				while (m->curr > n) {
					m->curr--;
					m->frees++;
				}
				m->min = n;
			} else {
				int need = n - m->curr, got = 0;
				while (got < need) {
					m->calls++;
					if (pattern & (1u << got)) {
						m->fails++;
						break;
					}
					got++;
				}
				if (got < need) {
					expect_rc = -MM_ENOMEM;
					m->frees += (uint64_t)got;
				} else {
					/* pushed in reverse order of allocation */
					for (int k = 0; k < got; k++)
						m->reserve[m->curr++] = NULL;
					m->min = n;
				}
			}
			if (rc != expect_rc)
				mm_test_fail_seed("op %llu: resize(%d) returned %d, model %d",
						  (unsigned long long)op, n, rc, expect_rc);
		} else {
			void *e = m->nheld < MAXHELD ? mm_mempool_alloc_preallocated(pool) : NULL;
			if (m->nheld < MAXHELD) {
				if (m->curr > 0) {
					void *expect = m->reserve[--m->curr];
					m->reserve_allocs++;
					if (!e || (expect && e != expect))
						mm_test_fail_seed("op %llu: preallocated wrong",
								  (unsigned long long)op);
					m->held[m->nheld++] = e;
				} else {
					m->failed++;
					if (e)
						mm_test_fail_seed("op %llu: preallocated from empty",
								  (unsigned long long)op);
				}
			}
		}
		atomic_store(&c->pattern, 0);
		model_compare(pool, c, m, op);
	}
	/* every path was taken */
	assert_true(m->waits > 0 && m->reserve_allocs > 0 && m->failed > 0 && m->refills > 0);
	while (m->nheld > 0)
		mm_mempool_free(m->held[--m->nheld], pool);
	mm_mempool_destroy(pool);
	assert_int_equal(c->live, 0);
	assert_int_equal(c->frees, c->calls - c->fails);
	free(m);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_fills_and_destroy_frees),
		cmocka_unit_test(test_create_failure_cleans_up),
		cmocka_unit_test(test_reserve_only_when_alloc_fails),
		cmocka_unit_test(test_second_try_reclaims),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_sleeper_woken_by_free),
		cmocka_unit_test(test_sleeper_retries_after_timeout),
		cmocka_unit_test(test_zero_min_sleeper_woken_by_free),
		cmocka_unit_test(test_destroy_with_sleeper_aborts),
		cmocka_unit_test(test_reserve_poison),
		cmocka_unit_test(test_page_pool),
		cmocka_unit_test(test_page_pool_over_buddy),
		cmocka_unit_test(test_slab_and_kmalloc_pools),
		cmocka_unit_test(test_random_vs_model),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
