/* Blocks freed by a thread of another arena and left on that arena's
 * lock-free xfree stack (tcache.c push_home, api.c mm_free_slow).
 *
 * A second free of a chunk still on the stack aborts at that free
 * ("double free"), also for a non-slab chunk of fast-bin size (which the
 * old check, draining the stack first, then saw as in use in a fast bin:
 * the block was later handed out twice) and for one that merges into top
 * (SIGSEGV reading past the heap). Fixed in 9be4252; these are its tests.
 * The owner thread stays alive (attached != 0), so the chunk goes on its
 * arena's xfree stack instead of under its lock.
 *
 * test_remote_frees_return_memory_while_owner_idles: memory freed by
 * another thread must go back while its owner idles. Fails on 5af30b9
 * (40 MB stay on the idle owner's xfree stack); 3ca51c6, before the
 * lock-free big-chunk path of mm_free_slow, and glibc pass. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

struct owner {
	size_t size;
	int use_memalign;
	void *p;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ready, done;
};

static void *owner_main(void *arg)
{
	struct owner *o = arg;
	mmalloc_free(mmalloc_malloc(8));           /* its own arena */
	/* memalign: a heap chunk split off, not a slab block */
	void *p = o->use_memalign ? mmalloc_memalign(64, o->size) : mmalloc_malloc(o->size);
	pthread_mutex_lock(&o->mu);
	o->p = p;
	o->ready = 1;
	pthread_cond_broadcast(&o->cv);
	while (!o->done)
		pthread_cond_wait(&o->cv, &o->mu);  /* stays attached */
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

static void remote_double_free(void *arg)
{
	size_t size = *(size_t *)arg;
	struct owner o = { .size = size, .use_memalign = size < 4096 };
	pthread_mutex_init(&o.mu, NULL);
	pthread_cond_init(&o.cv, NULL);
	pthread_t t;
	mmalloc_free(mmalloc_malloc(8));            /* this thread has an arena */
	if (pthread_create(&t, NULL, owner_main, &o) != 0)
		return;
	pthread_mutex_lock(&o.mu);
	while (!o.ready)
		pthread_cond_wait(&o.cv, &o.mu);
	pthread_mutex_unlock(&o.mu);
	mmalloc_free(o.p);          /* remote list (< 64 B) or cached (>= 64 B) */
	mmalloc_thread_flush();     /* pushed on the owner arena's xfree stack */
	mmalloc_free(o.p);          /* double free: must abort here */
	_exit(0);                   /* not detected */
}

static void expect_double_free(size_t size)
{
	static const char *const needles[] = { "double free", NULL };
	mm_test_expect_abort(remote_double_free, &size, needles);
}

/* memalign'd chunks of 48 and 128 bytes: fast bins */
static void test_xfree_double_free_48(void **state)
{
	(void)state;
	expect_double_free(40);
}

static void test_xfree_double_free_128(void **state)
{
	(void)state;
	expect_double_free(100);
}

/* 5000 bytes: the big-chunk path of mm_free_slow, merged into top */
static void test_xfree_double_free_5000(void **state)
{
	(void)state;
	expect_double_free(5000);
}

/* Memory another thread frees goes back while its owner is idle: the
 * owner allocates 400 blocks of 100 KiB (heap chunks, below the mmap
 * threshold) and then waits; this thread frees them all. glibc, and this
 * allocator before the lock-free big-chunk path of mm_free_slow, return
 * the 40 MB at once (the chunks merge into top, the heap is trimmed);
 * with it they stay on the owner's xfree stack until the owner allocates
 * again. (mallinfo2 and malloc_stats drain the stack, so RSS is what
 * shows it.) */
enum { IDLE_N = 400, IDLE_SZ = 100 * 1024 };
static void *idle_blocks[IDLE_N];

static long rss_kib(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *idle_owner(void *arg)
{
	struct owner *o = arg;
	mmalloc_free(mmalloc_malloc(8));
	for (int i = 0; i < IDLE_N; i++) {
		idle_blocks[i] = mmalloc_malloc(IDLE_SZ);
		if (idle_blocks[i])
			memset(idle_blocks[i], 1, IDLE_SZ);
	}
	pthread_mutex_lock(&o->mu);
	o->ready = 1;
	pthread_cond_broadcast(&o->cv);
	while (!o->done)
		pthread_cond_wait(&o->cv, &o->mu);
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

static void test_remote_frees_return_memory_while_owner_idles(void **state)
{
	(void)state;
	struct owner o = { .size = 0 };
	pthread_mutex_init(&o.mu, NULL);
	pthread_cond_init(&o.cv, NULL);
	pthread_t t;
	mmalloc_free(mmalloc_malloc(8));
	assert_int_equal(pthread_create(&t, NULL, idle_owner, &o), 0);
	pthread_mutex_lock(&o.mu);
	while (!o.ready)
		pthread_cond_wait(&o.cv, &o.mu);
	pthread_mutex_unlock(&o.mu);
	long before = rss_kib();
	for (int i = 0; i < IDLE_N; i++)
		mmalloc_free(idle_blocks[i]);
	long after = rss_kib();
	pthread_mutex_lock(&o.mu);
	o.done = 1;
	pthread_cond_broadcast(&o.cv);
	pthread_mutex_unlock(&o.mu);
	pthread_join(t, NULL);
	if (before < 0 || after < 0)
		skip();
	/* 40 MB freed: at least half of it must be gone from RSS */
	if (before - after < (long)IDLE_N * IDLE_SZ / 1024 / 2)
		fail_msg("RSS %ld KiB before the frees, %ld KiB after: the freed "
			 "memory stays with the idle owner's arena", before, after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xfree_double_free_48),
		cmocka_unit_test(test_xfree_double_free_128),
		cmocka_unit_test(test_xfree_double_free_5000),
		cmocka_unit_test(test_remote_frees_return_memory_while_owner_idles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
