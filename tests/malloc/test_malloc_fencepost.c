/* A thread arena's 64 MiB heap filled to the last bytes: when a request
 * no longer fits, the old top is closed with fenceposts and a new heap is
 * chained. Whatever is left of the old top (32, 48, 64 or more bytes)
 * must leave a heap the checker accepts, and once the new heap empties
 * again it is unmapped and the old top comes back whole, with no byte
 * lost. 48 bytes is the case that used to leave 16 bytes in no chunk
 * (found in review): the first fencepost then takes 32 bytes. Each case
 * runs in a thread of its own arena; the fills are 300 KB and more, above
 * the medium cache's size classes, so the sizes are exact. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

#define HEAP_MAX ((uintptr_t)64 << 20)
#define FILL 300000     /* above the medium cache's classes: not rounded */

struct run {
	size_t left;          /* bytes to leave in the old top */
	int ok_before, ok_new, ok_after;
	int new_heap, at_top, done;
	size_t arena_full, arena_after;
};

static void fill_heap(void *arg)
{
	struct run *r = arg;
	static void *blk[300];
	size_t n = 0;
	char *p = mmalloc_malloc(FILL);
	blk[n++] = p;
	uintptr_t base = (uintptr_t)p & ~(HEAP_MAX - 1), end = base + HEAP_MAX;
	uintptr_t top = (uintptr_t)p - 16 + ((FILL + 8 + 15) & ~(size_t)15);
	while (end - top > 2 * FILL && n < 290) {
		p = mmalloc_malloc(FILL);
		blk[n++] = p;
		top = (uintptr_t)p - 16 + ((FILL + 8 + 15) & ~(size_t)15);
	}
	/* one chunk (300-600 KB) that leaves exactly r->left bytes of top */
	size_t last = end - top - r->left;
	blk[n++] = mmalloc_malloc(last - 8);
	r->at_top = (uintptr_t)blk[n - 1] - 16 == top;
	r->ok_before = mmalloc_check() == 0;
	/* the heap is full: this one goes to a new heap */
	char *q = mmalloc_malloc(FILL);
	memset(q, 0x3c, FILL);
	r->new_heap = ((uintptr_t)q & ~(HEAP_MAX - 1)) != base;
	r->ok_new = mmalloc_check() == 0;
	r->arena_full = mmalloc_mallinfo2().arena;
	/* empty the new heap: it goes back, the old top returns */
	mmalloc_free(q);
	mmalloc_free(blk[--n]);
	mmalloc_trim(0);
	r->ok_after = mmalloc_check() == 0;
	r->arena_after = mmalloc_mallinfo2().arena;
	while (n)
		mmalloc_free(blk[--n]);
	mmalloc_trim(0);
	if (mmalloc_check() != 0)
		r->ok_after = 0;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

/* Each case in its own thread, which stays alive (holding its arena)
 * until the end, so that every case starts in a fresh arena and heap. */
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_t threads[8];
static int nthreads;

static void *case_thread(void *arg)
{
	fill_heap(arg);
	pthread_mutex_lock(&hold);      /* parked until teardown */
	pthread_mutex_unlock(&hold);
	return NULL;
}

static void check_left(size_t left)
{
	struct run r = { .left = left };
	assert_true(nthreads < 8);
	assert_int_equal(pthread_create(&threads[nthreads], NULL, case_thread, &r), 0);
	/* wait for the case to finish (it then parks on `hold`) */
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		sched_yield();
	nthreads++;
	assert_true(r.at_top);          /* the setting up worked */
	assert_true(r.ok_before);
	assert_true(r.new_heap);
	assert_true(r.ok_new);
	assert_true(r.ok_after);
	assert_true(r.arena_after < r.arena_full);
}

static int setup(void **state)
{
	(void)state;
	mmalloc_free(mmalloc_malloc(64));   /* this thread takes the main arena */
	/* the fills stay in the heap (no mmap below 1 MiB) */
	if (mmalloc_mallopt(M_MMAP_THRESHOLD, 1 << 20) != 1)
		return -1;
	pthread_mutex_lock(&hold);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pthread_mutex_unlock(&hold);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	return mmalloc_check() == 0 ? 0 : -1;
}

static void test_top_left_32(void **state)
{
	(void)state;
	check_left(32);
}

static void test_top_left_48(void **state)
{
	(void)state;
	check_left(48);
}

static void test_top_left_64(void **state)
{
	(void)state;
	check_left(64);
}

static void test_top_left_128(void **state)
{
	(void)state;
	check_left(128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_left_32),
		cmocka_unit_test(test_top_left_48),
		cmocka_unit_test(test_top_left_64),
		cmocka_unit_test(test_top_left_128),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
