/* Multi-threaded stress of the buddy allocator with per-thread caches on.
 *
 * Several threads allocate blocks of random order (mostly order 0, so the
 * per-thread caches carry the load) from one real-memory allocator, stamp
 * every page with their tag, and hand a share of their blocks to other
 * threads through a shared mailbox, which free them (cross-thread frees).
 * Before freeing, a block's stamps are verified: two owners of one page
 * would overwrite each other's stamps. One thread drains every cache and
 * runs the full check now and then while the others keep going. At the end
 * every page is back and merged. Runs under ThreadSanitizer too (label
 * "stress").
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
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

struct ctx {
	struct mm_buddy *b;
	struct mailbox box;
	uint64_t iters;
	uint64_t seed;
	_Atomic int errors;
	_Atomic int checks_failed;
};

struct targ {
	struct ctx *c;
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
			pthread_mutex_lock(&c->box.lock);
			if (c->box.n < MAILBOX) {
				c->box.addr[c->box.n] = mine[n - 1];
				c->box.order[c->box.n++] = ord[n - 1];
				n--;
			}
			pthread_mutex_unlock(&c->box.lock);
		} else {
			void *a = NULL;
			unsigned int o = 0;
			pthread_mutex_lock(&c->box.lock);
			if (c->box.n > 0) {
				a = c->box.addr[--c->box.n];
				o = c->box.order[c->box.n];
			}
			pthread_mutex_unlock(&c->box.lock);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_cross_thread),
		cmocka_unit_test(test_multi_instance_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
