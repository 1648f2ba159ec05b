/* Multi-threaded stress on the core: threads allocate blocks and hand them
 * to the next thread through a mutex-protected queue, which verifies and
 * frees them (cross-thread frees); threads exit and are replaced so arenas
 * are reused and caches flushed at thread exit. At the end every block has
 * been freed, and the memory in use must be back near where it started
 * (nothing stranded in a dead thread's cache), with the heap checker clean.
 * Run by `make tsan` (label stress) against the core without interposition. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

#define NTHREADS 4
#define QCAP 256

struct queue {
	pthread_mutex_t lock;
	void *item[QCAP];
	size_t len[QCAP];
	unsigned head, count;
};

static struct queue queues[NTHREADS];
static uint64_t per_thread_ops;
static int failed;

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void consume(void *p, size_t n)
{
	unsigned char *c = p;
	if (n && (c[0] != (unsigned char)n || (n > 1 && c[n - 1] != (unsigned char)(n >> 3))))
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
	mmalloc_free(p);
}

/* Move a block to queue q; if it is full, free the oldest there. */
static void hand_over(struct queue *q, void *p, size_t n)
{
	void *old = NULL;
	size_t oldn = 0;
	pthread_mutex_lock(&q->lock);
	if (q->count == QCAP) {
		old = q->item[q->head];
		oldn = q->len[q->head];
		q->head = (q->head + 1) % QCAP;
		q->count--;
	}
	unsigned tail = (q->head + q->count) % QCAP;
	q->item[tail] = p;
	q->len[tail] = n;
	q->count++;
	pthread_mutex_unlock(&q->lock);
	if (old)
		consume(old, oldn);
}

static int take(struct queue *q, void **p, size_t *n)
{
	int got = 0;
	pthread_mutex_lock(&q->lock);
	if (q->count) {
		*p = q->item[q->head];
		*n = q->len[q->head];
		q->head = (q->head + 1) % QCAP;
		q->count--;
		got = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

struct worker {
	int id;
	uint64_t seed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed;
	void *local[64] = { 0 };
	size_t llen[64] = { 0 };
	for (uint64_t i = 0; i < per_thread_ops; i++) {
		uint64_t r = next(&s);
		size_t n = (r & 7) == 0 ? (size_t)(next(&s) % 100000) : (size_t)(next(&s) % 600);
		unsigned char *p = (r & 16) ? mmalloc_calloc(1, n) : mmalloc_malloc(n);
		if (!p) {
			__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
			break;
		}
		if (n) {
			p[n - 1] = (unsigned char)(n >> 3);
			p[0] = (unsigned char)n;
		}
		if (r & 32) {
			hand_over(&queues[(w->id + 1) % NTHREADS], p, n);
		} else {
			unsigned k = (unsigned)(r >> 8) % 64;
			if (local[k])
				consume(local[k], llen[k]);
			local[k] = p;
			llen[k] = n;
		}
		void *q;
		size_t qn;
		if ((r & 64) && take(&queues[w->id], &q, &qn))
			consume(q, qn);
	}
	for (int k = 0; k < 64; k++)
		if (local[k])
			consume(local[k], llen[k]);
	return NULL;
}

static void test_cross_thread_frees(void **state)
{
	(void)state;
	for (int i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	/* warm up the main thread so its cache/arena exist before measuring */
	mmalloc_free(mmalloc_malloc(1));
	mmalloc_thread_flush();
	struct mallinfo2 before = mmalloc_mallinfo2();
	per_thread_ops = mm_test_iters(400000);
	uint64_t seed = mm_test_seed();
	/* three generations of threads: arenas get reused after exits */
	for (int gen = 0; gen < 3; gen++) {
		pthread_t t[NTHREADS];
		struct worker w[NTHREADS];
		for (int i = 0; i < NTHREADS; i++) {
			w[i].id = i;
			w[i].seed = seed + (uint64_t)(gen * NTHREADS + i) * 7919;
			assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
		}
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(t[i], NULL);
		if (failed)
			mm_test_fail_seed("a block was corrupted or an allocation failed");
		if (mmalloc_check() != 0)
			mm_test_fail_seed("heap check failed after generation %d", gen);
	}
	/* drain the queues from the main thread */
	for (int i = 0; i < NTHREADS; i++) {
		void *p;
		size_t n;
		while (take(&queues[i], &p, &n))
			consume(p, n);
	}
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
	struct mallinfo2 after = mmalloc_mallinfo2();
	/* every block is freed: in-use bytes (arena + mmap) back to the start,
	 * allowing only for the arena headers of the new arenas */
	size_t used_before = before.uordblks + before.hblkhd;
	size_t used_after = after.uordblks + after.hblkhd;
	if (used_after > used_before + 64 * 1024)
		mm_test_fail_seed("in use grew from %zu to %zu bytes: memory stranded",
				  used_before, used_after);
	assert_int_equal(after.hblks, before.hblks);
}

/* Many short-lived threads that only free what another thread allocated. */
static void *free_only(void *arg)
{
	void **blocks = arg;
	for (int i = 0; i < 100; i++)
		mmalloc_free(blocks[i]);
	return NULL;
}

static void test_free_only_threads(void **state)
{
	(void)state;
	mmalloc_thread_flush();
	struct mallinfo2 before = mmalloc_mallinfo2();
	for (int round = 0; round < (int)mm_test_iters(200); round++) {
		void *blocks[100];
		for (int i = 0; i < 100; i++)
			blocks[i] = mmalloc_malloc((size_t)(i * 13 % 900));
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, free_only, blocks), 0);
		pthread_join(t, NULL);
	}
	mmalloc_thread_flush();
	struct mallinfo2 after = mmalloc_mallinfo2();
	if (after.uordblks > before.uordblks + 64 * 1024)
		mm_test_fail_seed("in use grew from %zu to %zu bytes", before.uordblks,
				  after.uordblks);
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_thread_frees),
		cmocka_unit_test(test_free_only_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
