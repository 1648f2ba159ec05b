/* Mempool under contention: producers allocate (mostly sleeping, some ATOMIC)
 * and hand elements through a queue to consumers that free them, while a
 * third party resizes the reserve. The wrapped allocator fails half of the
 * time and also whenever a small budget of live elements is reached, so the
 * demand exceeds what the reserve and the allocator can give and producers
 * must sleep until consumers free. At the end every element is accounted
 * for: each was handed out to one holder at a time, every sleeping alloc
 * succeeded, and the allocator's successes equal its frees. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "testutil.h"

#include "mmkit/error.h"
#include "mmkit/hashmap.h"
#include "mmkit/mempool.h"
#include "mmkit/rng.h"

#define NPROD   3
#define NCONS   2
#define BUDGET  10  /* live elements the allocator will make at most */
#define QCAP    64
#define MAGIC   0x5354524553530000ULL

struct elem {
	uint64_t magic;
	_Atomic int in_use; /* 1 while a producer/consumer holds it */
	int owner;
	uint64_t seq;
};

struct alloc_ctx {
	_Atomic uint64_t calls, made, freed;
	_Atomic long live;
};

static void *s_alloc(mm_gfp_t gfp, void *data)
{
	(void)gfp;
	struct alloc_ctx *c = data;
	uint64_t n = atomic_fetch_add(&c->calls, 1);
	if (mm_hash64(n ^ 0xabcdef) % 100 < 50)
		return NULL;
	if (atomic_fetch_add(&c->live, 1) >= BUDGET) {
		atomic_fetch_sub(&c->live, 1);
		return NULL;
	}
	struct elem *e = malloc(sizeof(*e));
	if (!e) {
		atomic_fetch_sub(&c->live, 1);
		return NULL;
	}
	e->magic = MAGIC;
	atomic_store(&e->in_use, 0);
	atomic_fetch_add(&c->made, 1);
	return e;
}

static void s_free(void *element, void *data)
{
	struct alloc_ctx *c = data;
	struct elem *e = element;
	if (e->magic != MAGIC || atomic_load(&e->in_use) != 0)
		abort(); /* checked again by the consumers' accounting */
	e->magic = 0;
	free(e);
	atomic_fetch_add(&c->freed, 1);
	atomic_fetch_sub(&c->live, 1);
}

/* ---- a bounded queue ---------------------------------------------------- */

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct elem *items[QCAP];
	unsigned head, count;
};

static void q_push(struct queue *q, struct elem *e)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == QCAP)
		pthread_cond_wait(&q->not_full, &q->lock);
	q->items[(q->head + q->count++) % QCAP] = e;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

static struct elem *q_pop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0)
		pthread_cond_wait(&q->not_empty, &q->lock);
	struct elem *e = q->items[q->head];
	q->head = (q->head + 1) % QCAP;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return e;
}

/* ---- threads ------------------------------------------------------------ */

struct shared {
	struct mm_mempool *pool;
	struct queue q;
	uint64_t items;                 /* per producer */
	_Atomic uint64_t produced, consumed, atomic_nulls, bad;
	_Atomic int producers_left;
	uint64_t seed;
};

struct prod_arg {
	struct shared *sh;
	int id;
};

static void *producer(void *arg)
{
	struct prod_arg *pa = arg;
	struct shared *sh = pa->sh;
	struct mm_rng r;
	mm_rng_seed(&r, sh->seed + (uint64_t)pa->id);
	for (uint64_t i = 0; i < sh->items; i++) {
		bool atomic = mm_rng_below(&r, 10) == 0;
		struct elem *e = mm_mempool_alloc(sh->pool, atomic ? MM_GFP_ATOMIC : MM_GFP_KERNEL);
		if (!e) {
			if (!atomic)
				atomic_fetch_add(&sh->bad, 1); /* a sleeping alloc returned NULL */
			atomic_fetch_add(&sh->atomic_nulls, 1);
			continue;
		}
		if (e->magic != MAGIC || atomic_exchange(&e->in_use, 1) != 0)
			atomic_fetch_add(&sh->bad, 1); /* handed out twice */
		e->owner = pa->id;
		e->seq = i;
		atomic_fetch_add(&sh->produced, 1);
		q_push(&sh->q, e);
	}
	if (atomic_fetch_sub(&sh->producers_left, 1) == 1)
		for (int i = 0; i < NCONS; i++)
			q_push(&sh->q, NULL); /* one stop mark per consumer */
	return NULL;
}

static void *consumer(void *arg)
{
	struct shared *sh = arg;
	struct elem *e;
	while ((e = q_pop(&sh->q)) != NULL) {
		if (e->magic != MAGIC || e->owner < 0 || e->owner >= NPROD || e->seq >= sh->items ||
		    atomic_exchange(&e->in_use, 0) != 1)
			atomic_fetch_add(&sh->bad, 1);
		atomic_fetch_add(&sh->consumed, 1);
		mm_mempool_free(e, sh->pool);
	}
	return NULL;
}

struct resizer_arg {
	struct shared *sh;
	_Atomic int stop;
	uint64_t resizes, enomem;
};

static void *resizer(void *arg)
{
	struct resizer_arg *ra = arg;
	struct mm_rng r;
	mm_rng_seed(&r, ra->sh->seed ^ 0x5a5a);
	while (!atomic_load(&ra->stop)) {
		int rc = mm_mempool_resize(ra->sh->pool, (int)mm_rng_range(&r, 2, 6));
		ra->resizes++;
		if (rc == -MM_ENOMEM)
			ra->enomem++;
		else if (rc != 0)
			atomic_fetch_add(&ra->sh->bad, 1);
		if (mm_mempool_check(ra->sh->pool))
			atomic_fetch_add(&ra->sh->bad, 1);
		sched_yield();
	}
	return NULL;
}

static void run(bool with_resizer)
{
	struct alloc_ctx ac = { 0 };
	struct shared *sh = calloc(1, sizeof(*sh));
	assert_non_null(sh);
	pthread_mutex_init(&sh->q.lock, NULL);
	pthread_cond_init(&sh->q.not_empty, NULL);
	pthread_cond_init(&sh->q.not_full, NULL);
	sh->items = mm_test_iters(20000);
	sh->seed = mm_test_seed();
	atomic_store(&sh->producers_left, NPROD);
	/* creation may need several tries: the allocator fails half the time */
	for (int tries = 0; !sh->pool && tries < 100; tries++)
		sh->pool = mm_mempool_create(4, s_alloc, s_free, &ac);
	assert_non_null(sh->pool);

	pthread_t prod[NPROD], cons[NCONS], rz;
	struct prod_arg pa[NPROD];
	struct resizer_arg ra = { .sh = sh };
	for (int i = 0; i < NCONS; i++)
		assert_int_equal(pthread_create(&cons[i], NULL, consumer, sh), 0);
	for (int i = 0; i < NPROD; i++) {
		pa[i] = (struct prod_arg){ sh, i };
		assert_int_equal(pthread_create(&prod[i], NULL, producer, &pa[i]), 0);
	}
	if (with_resizer)
		assert_int_equal(pthread_create(&rz, NULL, resizer, &ra), 0);
	for (int i = 0; i < NPROD; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < NCONS; i++)
		pthread_join(cons[i], NULL);
	if (with_resizer) {
		atomic_store(&ra.stop, 1);
		pthread_join(rz, NULL);
	}

	struct mm_mempool_stats st;
	mm_mempool_stats(sh->pool, &st);
	print_message("  %s: %llu produced, %llu ATOMIC NULLs, %llu reserve allocs, %llu waits "
		      "(%llu timeouts), %llu alloc_fn calls, %llu resizes (%llu ENOMEM)\n",
		      with_resizer ? "with resizer" : "fixed reserve",
		      (unsigned long long)sh->produced, (unsigned long long)sh->atomic_nulls,
		      (unsigned long long)st.reserve_allocs, (unsigned long long)st.waits,
		      (unsigned long long)st.timeouts, (unsigned long long)atomic_load(&ac.calls),
		      (unsigned long long)ra.resizes, (unsigned long long)ra.enomem);
	if (sh->bad)
		mm_test_fail_seed("%llu accounting errors", (unsigned long long)sh->bad);
	assert_int_equal(sh->produced + sh->atomic_nulls, NPROD * sh->items);
	assert_int_equal(sh->consumed, sh->produced);
	assert_int_equal(mm_mempool_check(sh->pool), 0);
	/* every element taken from the reserve came back to it */
	assert_int_equal(st.curr_nr, st.min_nr);
	assert_int_equal(st.waiting, 0);
	/* the demand really exceeded supply: the reserve and sleeping were used */
	assert_true(st.reserve_allocs > 0);
	assert_true(st.waits > 0);
	/* elements alive = the reserve; after destroy, none */
	assert_int_equal(atomic_load(&ac.live), st.curr_nr);
	mm_mempool_destroy(sh->pool);
	assert_int_equal(atomic_load(&ac.live), 0);
	assert_int_equal(atomic_load(&ac.made), atomic_load(&ac.freed));
	pthread_mutex_destroy(&sh->q.lock);
	pthread_cond_destroy(&sh->q.not_empty);
	pthread_cond_destroy(&sh->q.not_full);
	free(sh);
}

static void test_producers_consumers(void **state)
{
	(void)state;
	run(false);
}

static void test_producers_consumers_resize(void **state)
{
	(void)state;
	run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_producers_consumers),
		cmocka_unit_test(test_producers_consumers_resize),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
