/* Blockpool under contention: threads allocate and free blocks at random,
 * sometimes passing blocks to another thread to free, while one thread moves
 * the cache bound up and down. Every block carries its holder's stamp, which
 * must be intact when it is freed (a block handed to two holders at once
 * would be overwritten); at the end the counters balance and destroy returns
 * every block. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/blockpool.h"
#include "mmkit/rng.h"

#define NTHREADS 4
#define HELD     32
#define BLOCK    48

struct shared {
	struct mm_blockpool *bp;
	uint64_t ops;
	uint64_t seed;
	_Atomic uint64_t bad, allocs, frees, nulls;
	_Atomic int running;
	/* a one-slot mailbox per thread for cross-thread frees */
	_Atomic(void *) mailbox[NTHREADS];
};

struct targ {
	struct shared *sh;
	int id;
};

static void stamp(void *b, uint64_t v)
{
	uint64_t *w = b;
	for (size_t i = 0; i < BLOCK / 8; i++)
		w[i] = v;
}

static bool stamp_ok(const void *b, uint64_t v)
{
	const uint64_t *w = b;
	for (size_t i = 0; i < BLOCK / 8; i++)
		if (w[i] != v)
			return false;
	return true;
}

static void *worker(void *arg)
{
	struct targ *ta = arg;
	struct shared *sh = ta->sh;
	struct mm_rng r;
	mm_rng_seed(&r, sh->seed * 31 + (uint64_t)ta->id);
	void *held[HELD];
	uint64_t tag[HELD];
	int n = 0;
	for (uint64_t op = 0; op < sh->ops; op++) {
		/* a block mailed to us: its stamp is its address */
		void *m = atomic_exchange(&sh->mailbox[ta->id], NULL);
		if (m) {
			if (!stamp_ok(m, (uint64_t)(uintptr_t)m))
				atomic_fetch_add(&sh->bad, 1);
			mm_blockpool_free(sh->bp, m);
			atomic_fetch_add(&sh->frees, 1);
		}
		if (n < HELD && (n == 0 || mm_rng_below(&r, 2))) {
			void *b = mm_blockpool_alloc(sh->bp);
			if (!b) {
				atomic_fetch_add(&sh->nulls, 1);
				continue;
			}
			atomic_fetch_add(&sh->allocs, 1);
			tag[n] = mm_rng_next(&r);
			stamp(b, tag[n]);
			held[n++] = b;
		} else {
			int i = (int)mm_rng_below(&r, (uint64_t)n);
			void *b = held[i];
			if (!stamp_ok(b, tag[i]))
				atomic_fetch_add(&sh->bad, 1);
			held[i] = held[--n];
			tag[i] = tag[n];
			int to = (int)mm_rng_below(&r, NTHREADS);
			void *expected = NULL;
			stamp(b, (uint64_t)(uintptr_t)b);
			if (to == ta->id ||
			    !atomic_compare_exchange_strong(&sh->mailbox[to], &expected, b)) {
				mm_blockpool_free(sh->bp, b);
				atomic_fetch_add(&sh->frees, 1);
			}
		}
	}
	while (n > 0) {
		n--;
		if (!stamp_ok(held[n], tag[n]))
			atomic_fetch_add(&sh->bad, 1);
		mm_blockpool_free(sh->bp, held[n]);
		atomic_fetch_add(&sh->frees, 1);
	}
	return NULL;
}

static void *tuner(void *arg)
{
	struct shared *sh = arg;
	struct mm_rng r;
	mm_rng_seed(&r, sh->seed ^ 0x77);
	while (atomic_load(&sh->running)) {
		mm_blockpool_set_count(sh->bp, (size_t)mm_rng_below(&r, 64));
		if (mm_blockpool_check(sh->bp))
			atomic_fetch_add(&sh->bad, 1);
		sched_yield();
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct shared *sh = calloc(1, sizeof(*sh));
	assert_non_null(sh);
	sh->bp = mm_blockpool_create(BLOCK, 16);
	assert_non_null(sh->bp);
	sh->ops = mm_test_iters(100000);
	sh->seed = mm_test_seed();
	atomic_store(&sh->running, 1);
	pthread_t t[NTHREADS], tu;
	struct targ ta[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		ta[i] = (struct targ){ sh, i };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &ta[i]), 0);
	}
	assert_int_equal(pthread_create(&tu, NULL, tuner, sh), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&sh->running, 0);
	pthread_join(tu, NULL);
	/* blocks still in mailboxes */
	for (int i = 0; i < NTHREADS; i++) {
		void *m = atomic_exchange(&sh->mailbox[i], NULL);
		if (m) {
			assert_true(stamp_ok(m, (uint64_t)(uintptr_t)m));
			mm_blockpool_free(sh->bp, m);
			atomic_fetch_add(&sh->frees, 1);
		}
	}
	if (sh->bad)
		mm_test_fail_seed("%llu corrupted or double-handed blocks", (unsigned long long)sh->bad);
	struct mm_blockpool_stats st;
	mm_blockpool_stats(sh->bp, &st);
	assert_int_equal(mm_blockpool_check(sh->bp), 0);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.allocs, sh->allocs);
	assert_int_equal(st.frees, sh->frees);
	assert_int_equal(sh->nulls, 0);
	assert_true(st.cached <= st.max_cached);
	assert_int_equal(st.underlying_allocs - st.underlying_frees, st.cached);
	assert_true(st.hits > 0);
	print_message("  %llu allocs, %llu cache hits (%.1f%%), %llu underlying allocs\n",
		      (unsigned long long)st.allocs, (unsigned long long)st.hits,
		      100.0 * (double)st.hits / (double)st.allocs,
		      (unsigned long long)st.underlying_allocs);
	mm_blockpool_destroy(sh->bp);
	free(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
