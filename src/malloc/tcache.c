/* tcache.c — slow paths of the per-thread caches: refilling in batches,
 * flushing half a full bin, and giving everything back at thread exit.
 *
 * Algorithm: glibc's tcache keeps 7 chunks per size up to 1032 bytes and
 * refills one at a time; here bins go up to 4 KiB, each holds up to
 * mm_tc_cap[i] chunks (64 for sizes up to 512 bytes, 32 KiB worth above,
 * at least 8), the whole cache at most TC_BUDGET bytes, and chunks move in
 * batches of half a bin under one arena lock: a miss takes cap/2 chunks
 * (fast bin, small bin, unsorted or top; never growing the arena just to
 * fill the cache), a free into a full bin returns the older half. So a
 * thread pays one lock round trip per cap/2 operations of a size instead of
 * one per operation, and producer/consumer pairs (free on another thread)
 * still recycle memory through the owning arena.
 * Cost: O(1) amortized; the batch itself is O(cap) under the lock.
 * Memory: at most TC_BUDGET (256 KiB) per thread, typically a few KiB;
 * flushed when the thread exits.
 * Reference: glibc malloc/malloc.c (tcache_get, tcache_put,
 * tcache_thread_shutdown); the batching follows tcmalloc's transfer caches.
 */
#include <errno.h>
#include <pthread.h>

#include "tcache.h"

MM_TLS struct tcache mm_tc;
uintptr_t mm_tc_key;
uint16_t mm_tc_cap[TC_NBINS];
pthread_key_t mm_thread_key;
static int have_key;

void mm_tcache_init_global(void)
{
	for (unsigned i = 0; i < TC_NBINS; i++) {
		size_t cs = (size_t)(i + 2) * MALLOC_ALIGN;
		size_t cap = 32768 / cs;
		if (cap > 64)
			cap = 64;
		if (cap < 8)
			cap = 8;
		mm_tc_cap[i] = (uint16_t)cap;
	}
	/* an address-derived key; only needs to be unlikely in user data */
	uintptr_t k = (uintptr_t)&mm_tc_key ^ ((uintptr_t)&k << 17) ^ 0x9e3779b97f4a7c15ULL;
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ULL;
	mm_tc_key = k | 1;
	if (pthread_key_create(&mm_thread_key, mm_tcache_thread_exit) == 0)
		have_key = 1;
}

/* The thread's first use of its cache: arm the exit handler, open the bins. */
static void tc_register(void)
{
	if (!have_key) {
		mm_tc.state = TC_DEAD;  /* no way to flush at exit: no cache */
		return;
	}
	pthread_setspecific(mm_thread_key, (void *)1);
	for (unsigned i = 0; i < TC_NBINS; i++)
		mm_tc.limit[i] = mm_tc_cap[i];
	mm_tc.state = TC_ACTIVE;
}

void mm_tc_double_free_check(struct tc_entry *e, unsigned i)
{
	for (struct tc_entry *x = mm_tc.head[i]; x; x = x->next)
		if (x == e)
			mm_fatal("free(): double free detected in tcache 2", e);
}

/* Give a list of cached chunks back to their arenas, locking each arena
 * once per run of chunks from it. */
static void flush_list(struct tc_entry *e)
{
	struct mm_arena *locked = NULL;
	while (e) {
		struct tc_entry *next = e->next;
		struct mchunk *p = mem2chunk(e);
		struct mm_arena *av = arena_for_chunk(p);
		e->key = 0;
		if (av != locked) {
			if (locked)
				mm_unlock(locked);
			mm_lock(av);
			locked = av;
		}
		mm_int_free_locked(av, p);
		e = next;
	}
	if (locked)
		mm_unlock(locked);
}

static void flush_bin(unsigned i)
{
	struct tc_entry *e = mm_tc.head[i];
	mm_tc.bytes -= (size_t)mm_tc.count[i] * (i + 2) * MALLOC_ALIGN;
	mm_tc.head[i] = NULL;
	mm_tc.count[i] = 0;
	flush_list(e);
}

void *mm_tc_refill(size_t nb)
{
	if (mm_tc.state == TC_NEW)
		tc_register();
	unsigned i = (unsigned)(nb >> 4) - 2;
	unsigned want = mm_tc.limit[i] / 2;   /* 0 when the cache is closed */
	if (mm_tc.bytes + (size_t)want * nb > TC_BUDGET)
		want = 0;
	struct mm_arena *av = mm_arena_get();
	mm_lock(av);
	void *first = mm_int_malloc(av, nb);
	if (first && !chunk_is_mmapped(mem2chunk(first))) {
		while (mm_tc.count[i] < want) {
			struct tc_entry *e = mm_int_malloc_nogrow(av, nb);
			if (!e)
				break;
			e->key = mm_tc_key;
			e->next = mm_tc.head[i];
			mm_tc.head[i] = e;
			mm_tc.count[i]++;
			mm_tc.bytes += nb;
		}
	}
	mm_unlock(av);
	if (!first) {
		struct mm_arena *alt = mm_arena_retry(av, nb);
		if (alt) {
			mm_lock(alt);
			first = mm_int_malloc(alt, nb);
			mm_unlock(alt);
		}
		if (!first)
			errno = ENOMEM;
	}
	return first;
}

/* The bin for csize is full or the thread is new: make room and push.
 * Returns 0 if the chunk must go to its arena instead. */
int mm_tc_put_slow(void *mem, size_t csize)
{
	if (mm_tc.state != TC_ACTIVE) {
		if (mm_tc.state == TC_DEAD)
			return 0;
		tc_register();
		if (mm_tc.state != TC_ACTIVE)
			return 0;
		return tc_put(mem, csize);
	}
	unsigned i = (unsigned)(csize >> 4) - 2;
	if (i >= TC_NBINS || !aligned_ok(mem))
		return 0;
	/* keep the newest half (hot in cache), return the older half */
	unsigned keep = mm_tc.count[i] / 2;
	if (mm_tc.count[i] < mm_tc.limit[i]) {
		/* over the byte budget, not the count: drop the whole bin and
		 * send this chunk to its arena too */
		flush_bin(i);
		return 0;
	}
	struct tc_entry *e = mm_tc.head[i];
	if (keep == 0) {
		flush_bin(i);
	} else {
		for (unsigned k = 1; k < keep && e; k++)
			e = e->next;
		if (e) {
			struct tc_entry *rest = e->next;
			e->next = NULL;
			mm_tc.bytes -= (size_t)(mm_tc.count[i] - keep) * csize;
			mm_tc.count[i] = (uint16_t)keep;
			flush_list(rest);
		}
	}
	return tc_put(mem, csize);
}

void mm_tc_flush_all(void)
{
	for (unsigned i = 0; i < TC_NBINS; i++)
		if (mm_tc.head[i])
			flush_bin(i);
}

void mmalloc_thread_flush(void)
{
	mm_tc_flush_all();
}

/* pthread key destructor: the thread is exiting. Later allocations from
 * this thread (other TLS destructors) bypass the cache. */
void mm_tcache_thread_exit(void *unused)
{
	(void)unused;
	mm_tc.state = TC_DEAD;
	for (unsigned i = 0; i < TC_NBINS; i++)
		mm_tc.limit[i] = 0;
	mm_tc_flush_all();
	mm_arena_thread_detach();
}
