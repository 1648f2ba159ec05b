/* Multi-threaded stress of the buddy allocator with per-thread caches on.
 *
 * Several threads allocate blocks of random order (mostly order 0, so the
 * per-thread caches carry the load) from one real-memory allocator, stamp
 * every page with their tag, and hand a share of their blocks to other
 * threads through a shared mailbox, which free them (cross-thread frees).
 * Before freeing, a block's stamps are verified: two owners of one page
 * would overwrite each other's stamps. One thread drains every cache and
 * runs the full check now and then while the others keep going. At the end
 * every page is back and merged. A second run does the same over zones
 * with watermarks and late reserves; the other tests cover the lifetime
 * paths: allocators destroyed while threads that used them live or exit, and
 * two allocators sharing a thread-local slot. Runs under ThreadSanitizer too
 * (label "stress").
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "buddy_internal.h" /* the allocator id, to find two sharing a TLS slot */
#include "mmkit/buddy.h"
#include "mmkit/rng.h"

#define NTHREADS 4
#define MAILBOX 64

struct mailbox {
	pthread_mutex_t lock;
	void *addr[MAILBOX];
	unsigned int order[MAILBOX];
	int n;
};

/* Post a block for another thread to free: false when the box is full. */
static bool box_put(struct mailbox *m, void *addr, unsigned int order)
{
	bool ok = false;
	pthread_mutex_lock(&m->lock);
	if (m->n < MAILBOX) {
		m->addr[m->n] = addr;
		m->order[m->n++] = order;
		ok = true;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* Take a posted block (NULL when the box is empty). */
static void *box_take(struct mailbox *m, unsigned int *order)
{
	void *addr = NULL;
	pthread_mutex_lock(&m->lock);
	if (m->n > 0) {
		addr = m->addr[--m->n];
		*order = m->order[m->n];
	}
	pthread_mutex_unlock(&m->lock);
	return addr;
}

struct ctx {
	struct mm_buddy *b;
	struct mailbox box;
	uint64_t iters;
	uint64_t seed;
	_Atomic int errors;
	_Atomic int checks_failed;
};

struct targ {
	void *c; /* struct ctx or struct zctx */
	int id;
};

static void stamp(void *addr, unsigned int order, uint64_t tag)
{
	for (size_t i = 0; i < (1ULL << order); i++) {
		uint64_t *w = (uint64_t *)((char *)addr + i * MM_PAGE_SIZE);
		w[0] = tag;
		w[511] = ~tag;
	}
}

static bool stamped(const void *addr, unsigned int order, uint64_t tag)
{
	for (size_t i = 0; i < (1ULL << order); i++) {
		const uint64_t *w = (const uint64_t *)((const char *)addr + i * MM_PAGE_SIZE);
		if (w[0] != tag || w[511] != ~tag)
			return false;
	}
	return true;
}

static uint64_t tag_of(const void *addr)
{
	return (uint64_t)(uintptr_t)addr * 0x9E3779B97F4A7C15ULL;
}

static void *worker(void *arg)
{
	struct targ *t = arg;
	struct ctx *c = t->c;
	struct mm_rng rng;
	mm_rng_seed(&rng, c->seed + (uint64_t)t->id * 7919);
	void *mine[128];
	unsigned int ord[128];
	int n = 0;
	for (uint64_t it = 0; it < c->iters; it++) {
		uint64_t r = mm_rng_below(&rng, 100);
		if (r < 50 && n < 128) {
			unsigned int o = mm_rng_below(&rng, 10) < 8 ? 0 : (unsigned int)mm_rng_below(&rng, 6);
			mm_gfp_t gfp = (mm_gfp_t)mm_rng_below(&rng, 3) * 8; /* kernel/movable/reclaimable */
			void *a = mm_get_free_pages(c->b, gfp, o);
			if (a) {
				stamp(a, o, tag_of(a));
				mine[n] = a;
				ord[n++] = o;
			}
		} else if (r < 85 && n > 0) {
			int i = (int)mm_rng_below(&rng, (uint64_t)n);
			if (!stamped(mine[i], ord[i], tag_of(mine[i])))
				c->errors++;
			mm_free_pages_addr(c->b, mine[i], ord[i]);
			mine[i] = mine[--n];
			ord[i] = ord[n];
		} else if (r < 95 && n > 0) {
			/* hand a block over for another thread to free */
			if (box_put(&c->box, mine[n - 1], ord[n - 1]))
				n--;
		} else {
			unsigned int o = 0;
			void *a = box_take(&c->box, &o);
			if (a) {
				if (!stamped(a, o, tag_of(a)))
					c->errors++;
				mm_free_pages_addr(c->b, a, o);
			}
		}
		/* thread 0 keeps draining the others' caches under their feet */
		if (t->id == 0 && it % 512 == 0)
			mm_buddy_drain_all(c->b);
		if (t->id == 1 && it % 4096 == 0 && mm_buddy_check(c->b) != 0)
			c->checks_failed++;
	}
	while (n > 0) {
		n--;
		if (!stamped(mine[n], ord[n], tag_of(mine[n])))
			c->errors++;
		mm_free_pages_addr(c->b, mine[n], ord[n]);
	}
	return NULL;
}

static void test_stress_cross_thread(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct ctx c;
	memset(&c, 0, sizeof(c));
	mm_buddy_config_init(&cfg, 0, 2048);   /* 8 MiB of real memory */
	cfg.ignore_watermarks = true;
	cfg.pcp_batch = 15;
	cfg.pcp_high = 90;
	assert_int_equal(mm_buddy_create_mmap(&cfg, &c.b), 0);
	char initial[1024];
	mm_buddy_show_buddyinfo(c.b, initial, sizeof(initial));
	pthread_mutex_init(&c.box.lock, NULL);
	c.iters = mm_test_iters(1000000);
	c.seed = mm_test_seed();

	pthread_t th[NTHREADS];
	struct targ ta[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		ta[i] = (struct targ){ &c, i };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &ta[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	while (c.box.n > 0) {
		c.box.n--;
		mm_free_pages_addr(c.b, c.box.addr[c.box.n], c.box.order[c.box.n]);
	}
	if (c.errors)
		mm_test_fail_seed("%d blocks had a foreign stamp (double allocation)", c.errors);
	if (c.checks_failed)
		mm_test_fail_seed("mm_buddy_check failed %d times during the run", c.checks_failed);
	/* exited threads drained their caches at exit; the main thread freed
	 * the mailbox pages into its own cache */
	mm_buddy_drain_local(c.b);
	assert_int_equal(mm_buddy_check(c.b), 0);
	assert_int_equal(mm_buddy_free_pages(c.b), 2048);
	char final[1024];
	mm_buddy_show_buddyinfo(c.b, final, sizeof(final));
	assert_string_equal(initial, final);
	/* the exited threads' event counts were folded into the zone */
	struct mm_buddy_events ev;
	mm_buddy_events(c.b, &ev);
	assert_true(ev.pgalloc[MM_ZONE_NORMAL] > 0);
	assert_int_equal(ev.pgalloc[MM_ZONE_NORMAL], ev.pgfree);
	pthread_mutex_destroy(&c.box.lock);
	mm_buddy_destroy(c.b);
}

/* Zones, watermarks and late reserves under concurrency, in simulated mode.
 * [3072, 5120) spans DMA and DMA32. Every page has an owner word taken with
 * compare-and-swap on allocation (a page handed out twice, or a reserved
 * page handed out, fails the swap) and cleared on free. Besides allocating
 * and freeing with every gfp combination (and freeing others' blocks through
 * the mailbox), thread 0 drains every cache, thread 1 runs the check, thread 2
 * reserves random pages late (mm_buddy_reserve freezes every cache) and
 * recomputes the watermarks, thread 3 reads the events and the views. At the
 * end the free lists equal a fresh allocator's with the same reserves. */
#define ZSTART 3072
#define ZNR 2048
#define ZRESERVE_MAX 24
#define OWNER_RESERVED 0xff

struct zctx {
	struct mm_buddy *b;
	struct mailbox box;
	_Atomic uint8_t owner[ZNR];
	uint64_t reserved[ZRESERVE_MAX];
	_Atomic int nreserved;
	uint64_t iters, seed;
	_Atomic int errors;
};

static void zclaim(struct zctx *c, uint64_t pfn, unsigned int order, uint8_t tag)
{
	for (uint64_t q = pfn; q < pfn + (1ULL << order); q++) {
		uint8_t zero = 0;
		if (q < ZSTART || q >= ZSTART + ZNR ||
		    !atomic_compare_exchange_strong(&c->owner[q - ZSTART], &zero, tag))
			c->errors++;
	}
}

static void zrelease(struct zctx *c, uint64_t pfn, unsigned int order)
{
	for (uint64_t q = pfn; q < pfn + (1ULL << order); q++)
		atomic_store(&c->owner[q - ZSTART], 0);
}

static void zfree(struct zctx *c, struct mm_page *p, unsigned int order)
{
	zrelease(c, mm_page_to_pfn(c->b, p), order);
	mm_free_pages(c->b, p, order);
}

static void *zworker(void *arg)
{
	struct targ *t = arg;
	struct zctx *c = t->c;
	struct mm_rng rng;
	mm_rng_seed(&rng, c->seed + (uint64_t)t->id * 104729);
	struct mm_page *mine[160]; /* enough to reach the watermarks */
	unsigned int ord[160];
	int n = 0;
	char view[8192];
	for (uint64_t it = 0; it < c->iters; it++) {
		uint64_t r = mm_rng_below(&rng, 100);
		if (r < 50 && n < 160) {
			unsigned int o = mm_rng_below(&rng, 4) ? 0 : (unsigned int)mm_rng_below(&rng, 7);
			static const mm_gfp_t zone[] = { 0, 0, MM_GFP_DMA, MM_GFP_DMA32 };
			static const mm_gfp_t mob[] = { 0, MM_GFP_MOVABLE, MM_GFP_RECLAIMABLE };
			static const mm_gfp_t res[] = { 0, 0, 0, MM_GFP_HIGH, MM_GFP_ATOMIC };
			mm_gfp_t gfp = zone[mm_rng_below(&rng, 4)] | mob[mm_rng_below(&rng, 3)] |
				       res[mm_rng_below(&rng, 5)];
			struct mm_page *p = mm_alloc_pages(c->b, gfp, o);
			if (p) {
				uint64_t pfn = mm_page_to_pfn(c->b, p);
				zclaim(c, pfn, o, (uint8_t)(t->id + 1));
				if ((gfp & MM_GFP_DMA) && pfn + (1ULL << o) > MM_ZONE_DMA_END_PFN)
					c->errors++;
				mine[n] = p;
				ord[n++] = o;
			}
		} else if (r < 85 && n > 0) {
			int i = (int)mm_rng_below(&rng, (uint64_t)n);
			zfree(c, mine[i], ord[i]);
			mine[i] = mine[--n];
			ord[i] = ord[n];
		} else if (r < 93 && n > 0) {
			if (box_put(&c->box, mine[n - 1], ord[n - 1]))
				n--;
		} else {
			unsigned int o = 0;
			struct mm_page *p = box_take(&c->box, &o);
			if (p)
				zfree(c, p, o);
		}
		if (it % 997 != 0)
			continue;
		switch (t->id) {
		case 0:
			mm_buddy_drain_all(c->b);
			break;
		case 1:
			if (mm_buddy_check(c->b) != 0)
				c->errors++;
			break;
		case 2: {
			uint64_t pfn = ZSTART + mm_rng_below(&rng, ZNR);
			int k = atomic_load(&c->nreserved);
			if (k < ZRESERVE_MAX && mm_buddy_reserve(c->b, pfn, 1) == 0) {
				uint8_t prev = atomic_exchange(&c->owner[pfn - ZSTART], OWNER_RESERVED);
				if (prev == 0) {
					c->reserved[k] = pfn;
					atomic_store(&c->nreserved, k + 1);
				} else if (prev != OWNER_RESERVED) {
					c->errors++; /* reserved while someone owns it */
				}
			}
			mm_buddy_setup_watermarks(c->b, 0, 0);
			break;
		}
		default: {
			struct mm_buddy_events ev;
			mm_buddy_events(c->b, &ev);
			mm_buddy_show_buddyinfo(c->b, view, sizeof(view));
			mm_buddy_show_pagetypeinfo(c->b, view, sizeof(view));
			mm_buddy_drain_local(c->b);
			break;
		}
		}
	}
	while (n > 0) {
		n--;
		zfree(c, mine[n], ord[n]);
	}
	return NULL;
}

static void test_stress_zones_reserve(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct zctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	mm_buddy_config_init(&cfg, ZSTART, ZNR);
	cfg.zones = true;
	cfg.pcp_batch = 7;
	cfg.pcp_high = 42;
	assert_int_equal(mm_buddy_create(&cfg, &c->b), 0);
	assert_non_null(mm_buddy_zone(c->b, MM_ZONE_DMA));
	assert_non_null(mm_buddy_zone(c->b, MM_ZONE_DMA32));
	pthread_mutex_init(&c->box.lock, NULL);
	c->iters = mm_test_iters(400000);
	c->seed = mm_test_seed();
	pthread_t th[NTHREADS];
	struct targ ta[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		ta[i] = (struct targ){ c, i };
		assert_int_equal(pthread_create(&th[i], NULL, zworker, &ta[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	while (c->box.n > 0) {
		c->box.n--;
		zfree(c, c->box.addr[c->box.n], c->box.order[c->box.n]);
	}
	if (c->errors)
		mm_test_fail_seed("%d ownership, zone or check errors", c->errors);
	mm_buddy_drain_local(c->b);
	assert_int_equal(mm_buddy_check(c->b), 0);
	int nres = atomic_load(&c->nreserved);
	assert_int_equal(mm_buddy_reserved_pages(c->b), nres);
	assert_int_equal(mm_buddy_free_pages(c->b), ZNR - nres);
	struct mm_buddy_events ev;
	mm_buddy_events(c->b, &ev);
	assert_int_equal(ev.pgalloc[MM_ZONE_DMA] + ev.pgalloc[MM_ZONE_DMA32], ev.pgfree);
	/* merged back: the same free lists as a fresh allocator with the
	 * same pages reserved from the start */
	struct mm_pfn_range res[ZRESERVE_MAX];
	for (int i = 0; i < nres; i++)
		res[i] = (struct mm_pfn_range){ c->reserved[i], 1 };
	cfg.reserved = res;
	cfg.nr_reserved = (size_t)nres;
	struct mm_buddy *fresh;
	assert_int_equal(mm_buddy_create(&cfg, &fresh), 0);
	char a[1024], bbuf[1024];
	mm_buddy_show_buddyinfo(c->b, a, sizeof(a));
	mm_buddy_show_buddyinfo(fresh, bbuf, sizeof(bbuf));
	assert_string_equal(a, bbuf);
	mm_buddy_destroy(fresh);
	pthread_mutex_destroy(&c->box.lock);
	mm_buddy_destroy(c->b);
	free(c);
}

/* Several allocators, one destroyed while a thread that used it lives on:
 * the thread's stale cache slot must not be reused for a new allocator. */
struct multi {
	struct mm_buddy *b[3];
	pthread_barrier_t bar;
	_Atomic int errors;
};

static void *multi_worker(void *arg)
{
	struct multi *m = arg;
	for (int k = 0; k < 3; k++) {
		struct mm_page *p = mm_alloc_pages(m->b[k], 0, 0);
		if (!p)
			m->errors++;
		else
			mm_free_pages(m->b[k], p, 0); /* stays in this thread's cache */
	}
	pthread_barrier_wait(&m->bar);  /* main destroys b[1], creates a new one */
	pthread_barrier_wait(&m->bar);
	for (int it = 0; it < 1000; it++) {
		for (int k = 0; k < 3; k++) {
			struct mm_page *p = mm_alloc_pages(m->b[k], 0, 0);
			if (!p) {
				m->errors++;
				continue;
			}
			mm_free_pages(m->b[k], p, 0);
		}
	}
	pthread_barrier_wait(&m->bar);  /* main checks while we still live */
	pthread_barrier_wait(&m->bar);
	return NULL;
}

static void test_multi_instance_destroy(void **state)
{
	(void)state;
	struct multi m;
	memset(&m, 0, sizeof(m));
	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, 256);
	cfg.ignore_watermarks = true;
	for (int k = 0; k < 3; k++)
		assert_int_equal(mm_buddy_create(&cfg, &m.b[k]), 0);
	pthread_barrier_init(&m.bar, NULL, 2);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, multi_worker, &m), 0);
	pthread_barrier_wait(&m.bar);
	mm_buddy_destroy(m.b[1]);      /* its cache in the worker holds a page */
	assert_int_equal(mm_buddy_create(&cfg, &m.b[1]), 0);
	pthread_barrier_wait(&m.bar);
	pthread_barrier_wait(&m.bar);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(mm_buddy_check(m.b[k]), 0);
		mm_buddy_drain_all(m.b[k]);    /* the live worker's cache too */
		assert_int_equal(mm_buddy_free_pages(m.b[k]), 256);
		assert_int_equal(mm_buddy_check(m.b[k]), 0);
	}
	pthread_barrier_wait(&m.bar);
	pthread_join(th, NULL);
	assert_int_equal(m.errors, 0);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(mm_buddy_free_pages(m.b[k]), 256);
		mm_buddy_destroy(m.b[k]);
	}
	pthread_barrier_destroy(&m.bar);
}

/* Two allocators whose ids share a slot of the 16-entry thread-local table.
 * A thread alternating between them must always reach its own cache of each
 * (a page of one must never come out of the other's cache), its caches must
 * go back to the right allocator when it exits, and destroying one of the
 * two while the thread lives must leave a stale slot that the other never
 * follows (ASan would see the freed cache set). */
struct coll {
	struct mm_buddy *x, *y;
	pthread_barrier_t bar;
	_Atomic int errors;
};

static bool owns(const struct mm_buddy *b, const struct mm_page *p)
{
	return p && p >= b->memmap && p < b->memmap + (b->end_pfn - b->start_pfn);
}

/* Allocate n order-0 pages from each allocator in turn, then free them in
 * turn. A foreign page is counted and leaked (freeing it would abort). */
static void coll_round(struct coll *c, struct mm_buddy *const *bs, int nb, int n)
{
	struct mm_page *pg[2][8];
	for (int i = 0; i < n; i++)
		for (int k = 0; k < nb; k++) {
			pg[k][i] = mm_alloc_pages(bs[k], 0, 0);
			if (!owns(bs[k], pg[k][i])) {
				c->errors++;
				pg[k][i] = NULL;
			}
		}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < nb; k++)
			if (pg[k][i])
				mm_free_pages(bs[k], pg[k][i], 0);
}

static void *coll_worker(void *arg)
{
	struct coll *c = arg;
	struct mm_buddy *both[2] = { c->x, c->y };
	for (int r = 0; r < 2000; r++)
		coll_round(c, both, 2, 1 + r % 8);
	pthread_barrier_wait(&c->bar); /* main checks while both caches hold pages */
	pthread_barrier_wait(&c->bar); /* main destroys y */
	for (int r = 0; r < 2000; r++)
		coll_round(c, both, 1, 1 + r % 8);
	return NULL;                   /* thread exit drains the cache of x */
}

static void test_slot_collision(void **state)
{
	(void)state;
	struct mm_buddy *made[PCP_SLOTS + 1];
	struct mm_buddy_config cfg;
	struct coll c;
	memset(&c, 0, sizeof(c));
	int nmade = 0;
	/* ids are consecutive here: within PCP_SLOTS + 1 creations two collide */
	for (; nmade < PCP_SLOTS + 1 && !c.y; nmade++) {
		mm_buddy_config_init(&cfg, (uint64_t)nmade << 20, 256);
		cfg.ignore_watermarks = true;
		cfg.pcp_batch = 4;
		cfg.pcp_high = 12;
		assert_int_equal(mm_buddy_create(&cfg, &made[nmade]), 0);
		for (int k = 0; k < nmade; k++)
			if (made[k]->id % PCP_SLOTS == made[nmade]->id % PCP_SLOTS) {
				c.x = made[k];
				c.y = made[nmade];
			}
	}
	assert_non_null(c.y);
	char initial[512], final[512];
	mm_buddy_show_buddyinfo(c.x, initial, sizeof(initial));
	pthread_barrier_init(&c.bar, NULL, 2);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, coll_worker, &c), 0);
	pthread_barrier_wait(&c.bar);
	assert_int_equal(c.errors, 0);
	assert_int_equal(mm_buddy_check(c.x), 0);
	assert_int_equal(mm_buddy_check(c.y), 0);
	/* the live worker's caches hold pages of both */
	assert_true(mm_buddy_free_pages(c.x) < 256);
	assert_true(mm_buddy_free_pages(c.y) < 256);
	mm_buddy_destroy(c.y);
	for (int k = 0; k < nmade; k++)
		if (made[k] == c.y)
			made[k] = NULL;
	pthread_barrier_wait(&c.bar);
	pthread_join(th, NULL);
	assert_int_equal(c.errors, 0);
	/* the exited worker's cache went back to x, and only to x */
	assert_int_equal(mm_buddy_check(c.x), 0);
	assert_int_equal(mm_buddy_free_pages(c.x), 256);
	mm_buddy_show_buddyinfo(c.x, final, sizeof(final));
	assert_string_equal(initial, final);
	pthread_barrier_destroy(&c.bar);
	for (int k = 0; k < nmade; k++)
		mm_buddy_destroy(made[k]);
}

/* Threads that used an allocator exit while the main thread destroys it:
 * their exit-time drains and the destroy race for the same cache sets
 * (ThreadSanitizer and ASan builds watch for a set used after it was freed
 * or a page drained into a freed allocator). Repeated, with a second
 * allocator that lives on and must get its pages back. */
struct exitrace {
	struct mm_buddy *gone, *kept;
	pthread_barrier_t bar;
	_Atomic int errors;
};

static void *exitrace_worker(void *arg)
{
	struct exitrace *e = arg;
	struct mm_buddy *bs[2] = { e->gone, e->kept };
	for (int k = 0; k < 2; k++) {
		struct mm_page *p[5];
		for (int i = 0; i < 5; i++)
			if (!(p[i] = mm_alloc_pages(bs[k], 0, 0)))
				e->errors++;
		for (int i = 0; i < 5; i++)
			mm_free_pages(bs[k], p[i], 0); /* stay in this thread's caches */
	}
	pthread_barrier_wait(&e->bar);
	return NULL; /* exit drains both caches, racing with the destroy */
}

static void test_destroy_during_thread_exit(void **state)
{
	(void)state;
	enum { THREADS = 4 };
	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, 512);
	cfg.ignore_watermarks = true;
	cfg.pcp_batch = 8;
	cfg.pcp_high = 48;
	int rounds = (int)mm_test_iters(200);
	for (int r = 0; r < rounds; r++) {
		struct exitrace e;
		memset(&e, 0, sizeof(e));
		assert_int_equal(mm_buddy_create(&cfg, &e.gone), 0);
		assert_int_equal(mm_buddy_create(&cfg, &e.kept), 0);
		pthread_barrier_init(&e.bar, NULL, THREADS + 1);
		pthread_t th[THREADS];
		for (int i = 0; i < THREADS; i++)
			assert_int_equal(pthread_create(&th[i], NULL, exitrace_worker, &e), 0);
		pthread_barrier_wait(&e.bar);
		mm_buddy_destroy(e.gone);
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		assert_int_equal(e.errors, 0);
		assert_int_equal(mm_buddy_check(e.kept), 0);
		assert_int_equal(mm_buddy_free_pages(e.kept), 512);
		mm_buddy_destroy(e.kept);
		pthread_barrier_destroy(&e.bar);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_cross_thread),
		cmocka_unit_test(test_stress_zones_reserve),
		cmocka_unit_test(test_multi_instance_destroy),
		cmocka_unit_test(test_slot_collision),
		cmocka_unit_test(test_destroy_during_thread_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
