/* Threads: 4 workers allocate from two kmem caches (one with a ctor) and
 * kmalloc, write a pattern, and free objects themselves or hand them to
 * another worker's mailbox to be checked and freed there (cross-thread
 * frees). Two workers exit half way and two new ones start (thread-exit
 * destructors while others run); the main thread runs the shrinker and
 * reads slabinfo meanwhile. At the end two workers stay alive, parked with
 * objects in their magazines, while the caches and the instance are
 * destroyed: every page must be back. Runs under -DMMKIT_TSAN=ON. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/rng.h"
#include "mmkit/slab.h"

#define NWORK 4
#define MAILBOX 512
#define LOCAL 128
#define CTOR_MAGIC 0xC7C7C7C7C7C7C7C7ull

struct obj_hdr {
	uint64_t magic;    /* ctor's word (cache 1) or unused */
	uint64_t tag;      /* kind << 56 | size << 24 | serial */
};

struct mailbox {
	pthread_mutex_t mu;
	void *slot[MAILBOX];
	int n;
};

struct shared {
	struct mm_fault_source fs;
	struct mm_kmem *k;
	struct mm_kmem_cache *c[2];
	struct mailbox box[NWORK + 2];
	atomic_int failed;
	char why[256];
	atomic_int stop_main;
	pthread_mutex_t park_mu;
	pthread_cond_t park_cv;
	int released;
	int parked;
};

struct worker {
	struct shared *sh;
	int id;
	uint64_t ops;
	int park;   /* stay alive at the end, holding magazines */
	uint64_t seed;
};

static const size_t cache_size[2] = { 64, 500 };

static void ctor(void *p)
{
	((struct obj_hdr *)p)->magic = CTOR_MAGIC;
}

static void fail_with(struct shared *sh, const char *why)
{
	if (atomic_exchange(&sh->failed, 1) == 0)
		snprintf(sh->why, sizeof(sh->why), "%s", why);
}

static size_t obj_size(uint64_t tag)
{
	return (size_t)((tag >> 24) & 0xffffffu);
}

static void fill(unsigned char *p, uint64_t tag)
{
	((struct obj_hdr *)(void *)p)->tag = tag;
	for (size_t i = sizeof(struct obj_hdr); i < obj_size(tag); i++)
		p[i] = (unsigned char)(tag + i);
}

static int verify(const unsigned char *p)
{
	const struct obj_hdr *h = (const void *)p;
	uint64_t tag = h->tag;
	int kind = (int)(tag >> 56);
	if (kind == 1 && h->magic != CTOR_MAGIC)
		return -1;
	for (size_t i = sizeof(struct obj_hdr); i < obj_size(tag); i++)
		if (p[i] != (unsigned char)(tag + i))
			return -1;
	return 0;
}

static void release(struct shared *sh, void *p)
{
	if (verify(p) < 0) {
		fail_with(sh, "object changed while live");
		return;
	}
	int kind = (int)(((struct obj_hdr *)p)->tag >> 56);
	if (kind < 2)
		mm_kmem_cache_free(sh->c[kind], p);
	else
		mm_kfree(sh->k, p);
}

static void drain_box(struct shared *sh, int id)
{
	void *v[MAILBOX];
	struct mailbox *b = &sh->box[id];
	pthread_mutex_lock(&b->mu);
	int n = b->n;
	memcpy(v, b->slot, (size_t)n * sizeof(void *));
	b->n = 0;
	pthread_mutex_unlock(&b->mu);
	for (int i = 0; i < n; i++)
		release(sh, v[i]);
}

static int post(struct shared *sh, int to, void *p)
{
	struct mailbox *b = &sh->box[to];
	pthread_mutex_lock(&b->mu);
	int ok = b->n < MAILBOX;
	if (ok)
		b->slot[b->n++] = p;
	pthread_mutex_unlock(&b->mu);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct mm_rng r;
	mm_rng_seed(&r, w->seed);
	void *local[LOCAL];
	int nlocal = 0;
	for (uint64_t op = 0; op < w->ops && !atomic_load(&sh->failed); op++) {
		uint64_t x = mm_rng_below(&r, 100);
		if (x < 50 && nlocal < LOCAL) {
			int kind = (int)mm_rng_below(&r, 3);
			size_t size = kind < 2 ? cache_size[kind] : 16 + mm_rng_below(&r, 3000);
			void *p = kind < 2 ? mm_kmem_cache_alloc(sh->c[kind], 0)
					   : mm_kmalloc(sh->k, size, 0);
			if (!p) {
				fail_with(sh, "allocation failed");
				break;
			}
			if (kind == 1 && ((struct obj_hdr *)p)->magic != CTOR_MAGIC) {
				fail_with(sh, "object not constructed");
				break;
			}
			uint64_t tag = (uint64_t)kind << 56 | (uint64_t)size << 24 |
				       (mm_rng_next(&r) & 0xffffff);
			fill(p, tag);
			local[nlocal++] = p;
		} else if (x < 90 && nlocal > 0) {
			int i = (int)mm_rng_below(&r, (uint64_t)nlocal);
			void *p = local[i];
			local[i] = local[--nlocal];
			int to = (int)mm_rng_below(&r, NWORK);
			if (to == w->id || !post(sh, to, p))
				release(sh, p);
		} else {
			drain_box(sh, w->id);
		}
	}
	for (int i = 0; i < nlocal; i++)
		release(sh, local[i]);
	drain_box(sh, w->id);
	if (w->park) {
		/* stay alive with full magazines until the caches are gone */
		pthread_mutex_lock(&sh->park_mu);
		sh->parked++;
		pthread_cond_broadcast(&sh->park_cv);
		while (!sh->released)
			pthread_cond_wait(&sh->park_cv, &sh->park_mu);
		pthread_mutex_unlock(&sh->park_mu);
	}
	return NULL;
}

static void *shrinker_main(void *arg)
{
	struct shared *sh = arg;
	char buf[8192];
	while (!atomic_load(&sh->stop_main)) {
		mm_kmem_shrink_all(sh->k);
		mm_kmem_slabinfo(sh->k, buf, sizeof(buf));
		struct mm_kmem_cache_stats st;
		mm_kmem_cache_stats(sh->c[0], &st);
		sched_yield();
	}
	return NULL;
}

static void test_threads_cross_free(void **state)
{
	(void)state;
	static struct shared sh;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.park_mu, NULL);
	pthread_cond_init(&sh.park_cv, NULL);
	for (int i = 0; i < NWORK + 2; i++)
		pthread_mutex_init(&sh.box[i].mu, NULL);
	sh.k = mm_kmem_create(mm_fault_source_init(&sh.fs, &mm_page_source_mmap), 0);
	assert_non_null(sh.k);
	sh.c[0] = mm_kmem_cache_create(sh.k, "stress64", cache_size[0], 0, 0, NULL);
	sh.c[1] = mm_kmem_cache_create(sh.k, "stress500", cache_size[1], 0, 0, ctor);
	assert_true(sh.c[0] && sh.c[1]);

	uint64_t seed = mm_test_seed();
	uint64_t ops = mm_test_iters(600000);
	struct worker w[NWORK + 2];
	pthread_t t[NWORK + 2], shr;
	for (int i = 0; i < NWORK; i++) {
		w[i] = (struct worker){ .sh = &sh, .id = i, .ops = i < 2 ? ops / 2 : ops,
					.park = i >= 2, .seed = seed + (uint64_t)i };
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	pthread_create(&shr, NULL, shrinker_main, &sh);
	/* two workers exit half way; two new ones take their mailboxes */
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		w[NWORK + i] = (struct worker){ .sh = &sh, .id = i, .ops = ops / 2,
						.seed = seed + 100 + (uint64_t)i };
		pthread_create(&t[NWORK + i], NULL, worker_main, &w[NWORK + i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[NWORK + i], NULL);
	pthread_mutex_lock(&sh.park_mu);
	while (sh.parked < 2)
		pthread_cond_wait(&sh.park_cv, &sh.park_mu);
	pthread_mutex_unlock(&sh.park_mu);
	atomic_store(&sh.stop_main, 1);
	pthread_join(shr, NULL);
	if (atomic_load(&sh.failed))
		mm_test_fail_seed("%s", sh.why);
	/* leftovers posted to exited workers' boxes */
	for (int i = 0; i < NWORK + 2; i++)
		drain_box(&sh, i);
	assert_int_equal(mm_kmem_check(sh.k), 0);
	struct mm_kmem_stats ks;
	mm_kmem_stats(sh.k, &ks);
	/* the two parked workers, and this thread if it freed leftovers */
	assert_true(ks.threads >= 2 && ks.threads <= 3);
	/* live parked threads still hold magazines: destroy reclaims them */
	mm_kmem_cache_destroy(sh.c[0]);
	mm_kmem_cache_destroy(sh.c[1]);
	char buf[8192];
	mm_kmem_slabinfo(sh.k, buf, sizeof(buf));
	assert_null(strstr(buf, "stress"));
	assert_int_equal(mm_kmem_check(sh.k), 0);
	mm_kmem_destroy(sh.k);
	assert_int_equal(atomic_load(&sh.fs.pages_out), 0);
	pthread_mutex_lock(&sh.park_mu);
	sh.released = 1;
	pthread_cond_broadcast(&sh.park_cv);
	pthread_mutex_unlock(&sh.park_mu);
	for (int i = 2; i < NWORK; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&sh.failed))
		mm_test_fail_seed("%s", sh.why);
}

/* ---- the shrinker against cache destroy ---------------------------------- *
 * A thread that used a cache, and no longer does, runs the memory-pressure
 * shrinker (as a page source may do from any allocation) while another
 * thread destroys that cache: the shrinker flushes the thread's magazines
 * of every cache and destroy reclaims the same magazines. */
struct sd_shared {
	struct mm_kmem *k;
	struct mm_kmem_cache *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long round;  /* published by the main thread with a new cache */
	long used;   /* the last round the worker is done with its cache */
	long shrunk; /* the last round the worker's shrinker returned */
	int quit;
};

/* Wait until *v >= want or quit; returns quit. */
static int sd_wait(struct sd_shared *sd, const long *v, long want)
{
	pthread_mutex_lock(&sd->mu);
	while (*v < want && !sd->quit)
		pthread_cond_wait(&sd->cv, &sd->mu);
	int quit = sd->quit;
	pthread_mutex_unlock(&sd->mu);
	return quit;
}

static void sd_set(struct sd_shared *sd, long *v, long val)
{
	pthread_mutex_lock(&sd->mu);
	*v = val;
	pthread_cond_broadcast(&sd->cv);
	pthread_mutex_unlock(&sd->mu);
}

static void *sd_worker(void *arg)
{
	struct sd_shared *sd = arg;
	void *o[150];
	for (long r = 1;; r++) {
		if (sd_wait(sd, &sd->round, r))
			return NULL;
		for (int i = 0; i < 150; i++)
			o[i] = mm_kmem_cache_alloc(sd->c, 0);
		for (int i = 0; i < 150; i++)
			mm_kmem_cache_free(sd->c, o[i]);
		sd_set(sd, &sd->used, r);
		mm_kmem_shrink_all(sd->k); /* races the destroy */
		sd_set(sd, &sd->shrunk, r);
	}
}

static void test_shrink_all_races_cache_destroy(void **state)
{
	(void)state;
	struct mm_fault_source fs;
	struct sd_shared sd = { .mu = PTHREAD_MUTEX_INITIALIZER,
				.cv = PTHREAD_COND_INITIALIZER };
	sd.k = mm_kmem_create(mm_fault_source_init(&fs, &mm_page_source_mmap), 0);
	assert_non_null(sd.k);
	pthread_t t;
	pthread_create(&t, NULL, sd_worker, &sd);
	uint64_t rounds = mm_test_iters(2000);
	for (long r = 1; r <= (long)rounds; r++) {
		sd.c = mm_kmem_cache_create(sd.k, "doomed", 200, 0, 0, NULL);
		assert_non_null(sd.c);
		sd_set(&sd, &sd.round, r);
		sd_wait(&sd, &sd.used, r);
		mm_kmem_cache_destroy(sd.c);
		sd_wait(&sd, &sd.shrunk, r);
		assert_int_equal(mm_kmem_check(sd.k), 0);
	}
	pthread_mutex_lock(&sd.mu);
	sd.quit = 1;
	pthread_cond_broadcast(&sd.cv);
	pthread_mutex_unlock(&sd.mu);
	pthread_join(t, NULL);
	mm_kmem_destroy(sd.k);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_cross_free),
		cmocka_unit_test(test_shrink_all_races_cache_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
