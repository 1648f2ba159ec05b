/* tcache.c — slow paths of the per-thread caches: refilling in batches,
 * flushing half a full bin, and giving everything back at thread exit.
 *
 * Algorithm: glibc's tcache keeps 7 chunks per size up to 1032 bytes and
 * refills one at a time; here bins go up to 4 KiB, each holds up to
 * mm_tc_cap[i] chunks (64 for sizes up to 128 bytes, 8 KiB worth above,
 * at least 8), and chunks move in
 * batches of half a bin under one arena lock (one spare only for chunks
 * above 1040 bytes: spares of big sizes cut from the top were measured to
 * fragment the heap, +40% RSS on rptest): a miss takes cap/2 chunks
 * (fast bin, small bin, unsorted or top; never growing the arena just to
 * fill the cache), a free into a full bin returns the older half. So a
 * thread pays one lock round trip per cap/2 operations of a size instead of
 * one per operation, and producer/consumer pairs (free on another thread)
 * still recycle memory through the owning arena.
 * Cost: O(1) amortized; the batch itself is O(cap) under the lock.
 * Memory: bounded by the limits, about 0.5 MiB per thread in chunks of
 * the class sizes at first (2.3 MiB at most with odd sizes from realloc
 * or memalign), TC_GROW_BUDGET (1 MiB) more as overflowing bins grow
 * (tc_grow), plus the medium cache's budget (1 MiB); flushed when the
 * thread exits.
 * (A byte budget on the small bins, checked on every free, cost 6-9
 * instructions a malloc/free pair and bounded nothing the caps do not.)
 * Reference: glibc malloc/malloc.c (tcache_get, tcache_put,
 * tcache_thread_shutdown); the batching follows tcmalloc's transfer caches.
 */
#include <errno.h>
#include <pthread.h>

#include "tcache.h"

MM_TLS struct tcache mm_tc;
uintptr_t mm_tc_key;
uint16_t mm_tc_cap[TC_NBINS];
size_t mm_tc_foreign_min = 64;
size_t mm_tc_round_min = 512;
uint16_t mm_tc_bin_of[TC_NBINS + 2];

/* The class of chunk size cs (a multiple of 16, 32 <= cs <= TC_MAX_CHUNK). */
static size_t class_size(size_t cs)
{
	if (cs <= mm_tc_round_min)
		return cs;
	size_t c = tc_class_up(cs);
	return c <= TC_MAX_CHUNK ? c : cs;
}
size_t mm_tc_med_budget = TC_MED_BUDGET_DEFAULT;
static size_t mm_tc_refill_big = 1040;   /* MMALLOC_TCACHE_REFILL_BIG */
pthread_key_t mm_thread_key;
static int have_key;

/* Decimal value of an environment variable, or dflt. */
static size_t env_size(const char *name, size_t dflt)
{
	const char *v = mm_getenv(name);
	if (!v || *v < '0' || *v > '9')
		return dflt;
	size_t n = 0;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (size_t)(*v - '0');
	return n;
}

void mm_tcache_init_global(void)
{
	/* MMALLOC_TCACHE_MAX: largest cached request (0 turns caching off);
	 * MMALLOC_TCACHE_COUNT: most chunks per size;
	 * MMALLOC_TCACHE_BYTES: most bytes per size (at least 8 chunks). */
	size_t max_req = env_size("MMALLOC_TCACHE_MAX", TC_MAX_REQ);
	size_t most = env_size("MMALLOC_TCACHE_COUNT", 64);
	size_t bytes = env_size("MMALLOC_TCACHE_BYTES", 8192);
	mm_tc_refill_big = env_size("MMALLOC_TCACHE_REFILL_BIG", 1040);
	mm_tc_foreign_min = env_size("MMALLOC_TCACHE_FOREIGN_MIN", 64);
	mm_tc_round_min = env_size("MMALLOC_TCACHE_ROUND_MIN", 512);
	for (unsigned u = 0; u < TC_NBINS + 2; u++) {
		size_t cs = u < 2 ? MINSIZE : (size_t)u * MALLOC_ALIGN;
		mm_tc_bin_of[u] = (uint16_t)(class_size(cs) / MALLOC_ALIGN - 2);
	}
	mm_tc_med_budget = env_size("MMALLOC_TCACHE_MED_BUDGET", TC_MED_BUDGET_DEFAULT);
	if (max_req == 0)
		mm_tc_med_budget = 0;
	if (most > 1024)
		most = 1024;
	for (unsigned i = 0; i < TC_NBINS; i++) {
		size_t cs = (size_t)(i + 2) * MALLOC_ALIGN;
		size_t cap = bytes / cs;
		if (cap > most)
			cap = most;
		if (cap < 8)
			cap = 8 < most ? 8 : most;
		if (max_req == 0 || cs > request2size(max_req))
			cap = 0;
		mm_tc_cap[i] = (uint16_t)cap;
	}
	/* an address-derived key; only needs to be unlikely in user data */
	uintptr_t k = (uintptr_t)&mm_tc_key ^ ((uintptr_t)&k << 17) ^ 0x9e3779b97f4a7c15ULL;
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ULL;
	mm_tc_key = k | 3;   /* bit 1 set: mm_slab_key is the same with it clear */
	if (pthread_key_create(&mm_thread_key, mm_tcache_thread_exit) == 0)
		have_key = 1;
}

void mm_thread_arm_exit(void)
{
	if (have_key)
		pthread_setspecific(mm_thread_key, (void *)1);
}

/* The thread's first use of its cache: arm the exit handler, open the bins. */
static void tc_register(void)
{
	/* debug mode: nothing is cached, so that every block passes the
	 * checking layer (and the interposed malloc/free can take their
	 * cache fast paths without testing the mode) */
	if (!have_key || mm_debug_mode > 0) {
		mm_tc.state = TC_DEAD;  /* no way to flush at exit: no cache */
		return;
	}
	mm_thread_arm_exit();
	for (unsigned i = 0; i < TC_NBINS; i++)
		mm_tc.limit[i] = mm_tc_cap[i];
	mm_tc.state = TC_ACTIVE;
}

void mm_tc_double_free_check(struct tc_entry *e, unsigned i)
{
	for (struct tc_entry *x = mm_tc.head[i]; x; x = x->next)
		if (x == e)
			mm_fatal("free(): double free detected in tcache 2", e);
	for (struct tc_entry *x = mm_tc.remote; x; x = x->next)
		if (x == e)
			mm_fatal("free(): double free detected in tcache 2", e);
}

/* Give a list of cached chunks back to their arenas: one pass per arena
 * met, each under one lock hold (chunks freed here often come from
 * several threads' arenas, interleaved). */
/* Push the chunks of arena av found on list e on av's xfree stack, as one
 * chain with skip pointers (struct mm_xfree), without taking av's lock;
 * returns the chunks of other arenas. */
static struct tc_entry *push_home(struct tc_entry *e, struct mm_arena *av)
{
	struct tc_entry *first = NULL, *last = NULL, *rest = NULL;
	struct mm_xfree *ring[XFREE_SKIP];
	unsigned n = 0;
	while (e) {
		struct tc_entry *next = e->next;
		if (arena_for_chunk(mem2chunk(e)) == av) {
			/* a second free of it now takes the checked path,
			 * which drains the stack first (no list damage) */
			struct mm_xfree *x = (struct mm_xfree *)(void *)e;
			x->skip = n >= XFREE_SKIP ? ring[n % XFREE_SKIP] : NULL;
			ring[n++ % XFREE_SKIP] = x;
			e->key = mm_slab_key;
			e->next = first;
			first = e;
			if (!last)
				last = e;
		} else {
			e->next = rest;
			rest = e;
		}
		e = next;
	}
	mm_arena_push_xfree(av, (struct mm_xfree *)(void *)first, (struct mm_xfree *)(void *)last);
	return rest;
}

/* Give a list of cached chunks back to their arenas: the thread's own
 * (or an arena no thread uses) under one lock hold each, another
 * thread's arena on its xfree stack without its lock (chunks of other
 * arenas are cached from mm_tc_foreign_min bytes up: taking their owners'
 * locks here made those threads wait, 3x the context switches in
 * mstress). */
static void flush_list(struct tc_entry *e)
{
	while (e) {
		struct mm_arena *av = arena_for_chunk(mem2chunk(e));
		if (av != mm_thread_arena && mm_thread_arena != NULL &&
		    __atomic_load_n(&av->attached, __ATOMIC_RELAXED)) {
			e = push_home(e, av);
			continue;
		}
		struct tc_entry *rest = NULL;
		mm_lock(av);
		while (e) {
			struct tc_entry *next = e->next;
			struct mchunk *p = mem2chunk(e);
			if (arena_for_chunk(p) == av) {
				if (chunk_is_slab(p)) {
					mm_slab_free_locked(av, p);   /* sets the key */
				} else {
					e->key = 0;
					mm_int_free_locked(av, p);
				}
			} else {
				e->next = rest;
				rest = e;
			}
			e = next;
		}
		mm_unlock(av);
		e = rest;
	}
}

static void flush_bin(unsigned i)
{
	struct tc_entry *e = mm_tc.head[i];
	mm_tc.head[i] = NULL;
	mm_tc.count[i] = 0;
	flush_list(e);
}

/* Take the older half of bin i off it (the newest half stays, hot in
 * cache) and return it as a list. */
static struct tc_entry *take_half(unsigned i)
{
	unsigned keep = mm_tc.count[i] / 2;
	struct tc_entry **link = &mm_tc.head[i];
	for (unsigned k = 0; k < keep; k++)
		link = &(*link)->next;
	struct tc_entry *rest = *link;
	*link = NULL;
	mm_tc.count[i] = (uint16_t)keep;
	return rest;
}

/* Keep the newest half of bin i, give the older half back. */
static void halve_bin(unsigned i)
{
	flush_list(take_half(i));
}

/* A bin that overflows has room for twice as many chunks next time (as
 * tcmalloc's free lists lengthen when they overflow): up to 64 KiB worth
 * or 1024 chunks, and the thread's bins together at most TC_GROW_BUDGET
 * above their caps. A program that frees batches longer than the cap
 * (glibc-simple: 400 and 1600 blocks) then moves them in batches of half
 * a bin under one lock instead of 4 to 32 at a time. 1 if it grew. */
#define TC_GROW_BUDGET ((size_t)1024 * 1024)
static int tc_grow(unsigned i)
{
	size_t cs = (size_t)(i + 2) * MALLOC_ALIGN;
	size_t most = ((size_t)64 * 1024) / cs;
	if (most > 1024)
		most = 1024;
	if (most < mm_tc_cap[i])
		most = mm_tc_cap[i];
	size_t now = mm_tc.limit[i], next = 2 * now;
	if (next > most)
		next = most;
	if (next <= now || mm_tc.grown + (next - now) * cs > TC_GROW_BUDGET)
		return 0;
	mm_tc.grown += (next - now) * cs;
	mm_tc.limit[i] = (uint16_t)next;
	return 1;
}

void *mm_tc_refill(size_t nb)
{
	if (mm_tc.state == TC_NEW)
		tc_register();
	unsigned i = (unsigned)(nb >> 4) - 2;
	unsigned want = mm_tc.limit[i] / 2;   /* 0 when the cache is closed */
	int slab = nb <= mm_slab_max;
	if (nb > mm_tc_refill_big && !slab)
		want = want < 1 ? want : 1;   /* big chunks: keep spares few */
	struct mm_arena *av = mm_arena_get();
	void *spare[129];
	void *odd = NULL;
	void *first = NULL;
	size_t got = 0;
	if (want > 128)
		want = 128;
	mm_lock(av);
	mm_arena_drain(av);
	if (slab) {
		/* from the spans: the first block for the caller, the rest
		 * for the cache */
		got = mm_slab_alloc_batch(av, nb, spare, want + 1);
		if (got) {
			first = spare[0];
			got--;
		}
	}
	if (!first) {
		first = mm_int_malloc(av, nb);
		if (first && want > 0 && !chunk_is_mmapped(mem2chunk(first)))
			got = mm_int_malloc_batch(av, nb, spare + 1, want, &odd);
	}
	if (odd)
		mm_int_free_locked(av, mem2chunk(odd));
	mm_unlock(av);
	/* pushed from the top down, so the next allocations walk up through
	 * memory in address order (friendlier to the hardware prefetcher) */
	for (size_t k = got; k-- > 0;) {
		struct tc_entry *e = spare[k + 1];
		e->key = mm_tc_key;
		e->next = mm_tc.head[i];
		mm_tc.head[i] = e;
	}
	mm_tc.count[i] = (uint16_t)(mm_tc.count[i] + got);
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

/* The remote list goes back without taking any lock: its blocks are
 * pushed, one chain per arena, on their arena's xfree stack, and the
 * arena's own thread gives them back at its next refill. */
static void flush_remote(void)
{
	struct tc_entry *e = mm_tc.remote;
	mm_tc.remote = NULL;
	mm_tc.nremote = 0;
	while (e)
		e = push_home(e, arena_for_chunk(mem2chunk(e)));
}

int mm_tc_free_slow(void *mem, size_t csize)
{
	unsigned i = (unsigned)(csize >> 4) - 2;
	struct tc_entry *e = mem;
	if (i >= TC_NBINS || !aligned_ok(mem))
		return 0;
	if (mm_unlikely(e->key == mm_tc_key))
		mm_tc_double_free_check(e, i);
	if (mm_tc.state != TC_ACTIVE) {
		if (mm_tc.state == TC_DEAD)
			return 0;
		tc_register();
		if (mm_tc.state != TC_ACTIVE)
			return 0;
	}
	if (mm_tc.limit[i] == 0)
		return 0;          /* caching is off for this size */
	if (csize < mm_tc_foreign_min && arena_for_chunk(mem2chunk(mem)) != mm_thread_arena) {
		e->key = mm_tc_key;
		e->next = mm_tc.remote;
		mm_tc.remote = e;
		if (++mm_tc.nremote >= TC_REMOTE_MAX)
			flush_remote();
		return 1;
	}
	if (tc_put(mem, csize))
		return 1;
	/* the bin is full: let it grow, or keep the newest half (hot) */
	if (!tc_grow(i))
		halve_bin(i);
	return tc_put(mem, csize);
}

/* Give medium chunks back, under one lock per arena: every class keeps
 * its newest half (over the budget), or nothing (malloc_trim, exit). */
static void release_med(int keep_half)
{
	struct tc_entry *all = NULL;
	for (unsigned c = 0; c < TC_NMED; c++) {
		unsigned keep = keep_half ? mm_tc.mcount[c] / 2u : 0;
		struct tc_entry **link = &mm_tc.mhead[c];
		for (unsigned k = 0; k < keep; k++)
			link = &(*link)->next;
		struct tc_entry *e = *link;
		*link = NULL;
		mm_tc.mcount[c] = (uint8_t)keep;
		while (e) {
			struct tc_entry *next = e->next;
			mm_tc.mbytes -= chunksize(mem2chunk(e));
			e->next = all;
			all = e;
			e = next;
		}
	}
	flush_list(all);
}

void mm_tc_flush_med(void)
{
	release_med(0);
}

void *mm_tc_med_get(size_t nb, size_t *round)
{
	*round = nb;
	if (mm_tc_med_budget == 0 || nb > TC_MED_MAX)
		return NULL;
	if (mm_tc.state != TC_ACTIVE) {
		if (mm_tc.state == TC_DEAD)
			return NULL;
		tc_register();
		if (mm_tc.state != TC_ACTIVE)
			return NULL;
	}
	unsigned c = tc_med_index(nb);
	struct tc_entry *e = mm_tc.mhead[c];
	if (e) {
		mm_tc.mhead[c] = e->next;
		mm_tc.mcount[c]--;
		mm_tc.mbytes -= chunksize(mem2chunk(e));
		e->key = 0;
		return e;
	}
	*round = tc_med_size(c);
	return NULL;
}

int mm_tc_med_put(void *mem, size_t csize)
{
	if (csize < TC_MED_MIN || csize > TC_MED_MAX || mm_tc.state != TC_ACTIVE ||
	    csize > mm_tc_med_budget || arena_for_chunk(mem2chunk(mem)) != mm_thread_arena)
		return 0;
	/* next to top: let it merge into top (trimming depends on it) */
	if (chunk_at(mem2chunk(mem), csize) == __atomic_load_n(&mm_thread_arena->top, __ATOMIC_RELAXED))
		return 0;
	unsigned c = tc_med_index(csize);
	if (tc_med_size(c) > csize)
		c--;                 /* the largest class not above csize */
	if (mm_tc.mcount[c] >= tc_med_limit(c))
		return 0;
	if (mm_tc.mbytes + csize > mm_tc_med_budget) {
		release_med(1);
		if (mm_tc.mbytes + csize > mm_tc_med_budget)
			return 0;     /* a small budget: still no room */
	}
	struct tc_entry *e = mem;
	e->next = mm_tc.mhead[c];
	e->key = mm_tc_key;
	mm_tc.mhead[c] = e;
	mm_tc.mcount[c]++;
	mm_tc.mbytes += csize;
	return 1;
}

void mm_tc_med_double_free_check(void *mem, size_t csize)
{
	if (csize < TC_MED_MIN || csize > TC_MED_MAX)
		return;
	unsigned c = tc_med_index(csize);
	if (tc_med_size(c) > csize)
		c--;
	for (struct tc_entry *x = mm_tc.mhead[c]; x; x = x->next)
		if (x == mem)
			mm_fatal("free(): double free detected in tcache 2", mem);
}

void mm_tc_flush_all(void)
{
	for (unsigned i = 0; i < TC_NBINS; i++)
		if (mm_tc.head[i])
			flush_bin(i);
	if (mm_tc.mbytes)
		mm_tc_flush_med();
	if (mm_tc.remote)
		flush_remote();
}

void mm_tc_close(void)
{
	for (unsigned i = 0; i < TC_NBINS; i++) {
		mm_tc_cap[i] = 0;
		mm_tc.limit[i] = 0;
	}
	mm_tc_med_budget = 0;
	mm_tc_flush_all();
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
	struct mm_arena *av = mm_thread_arena;
	if (av) {
		/* what other threads gave back to the arena it leaves */
		mm_lock(av);
		mm_arena_drain(av);
		mm_unlock(av);
	}
	mm_arena_thread_detach();
}
