/* Mempool: an allocator wrapper with a guaranteed reserve (Linux mm/mempool.c).
 *
 * Algorithm: the pool keeps up to min_nr preallocated elements in a LIFO
 * array. Allocation asks the wrapped allocator first, without reclaim
 * (MM_GFP_NOWAIT), so the reserve is only spent when memory is short; then
 * pops the reserve; then, for callers that may sleep, retries the allocator
 * with reclaim and finally sleeps on a condition variable until a free
 * refills the reserve or a timeout (Linux: 5 s) elapses, and starts over.
 * Free pushes into the reserve while it is below min_nr (waking sleepers),
 * otherwise it calls the wrapped free. Because every element freed while
 * somebody sleeps lands in the reserve, a sleeping allocation is guaranteed
 * to finish as long as elements in use are eventually freed.
 *
 * Costs: alloc and free are O(1) plus one alloc_fn/free_fn call; the reserve
 * path takes one uncontended mutex. Free tests "reserve below target?"
 * without the lock, so a full pool frees straight to free_fn. Resize is
 * O(new_min_nr). Memory: one pointer per reserve slot; the pool adds no
 * fragmentation of its own (the reserve elements are whatever alloc_fn
 * returns and stay allocated while held).
 *
 * Reference: Linux mm/mempool.c (mempool_create, mempool_alloc,
 * mempool_free, mempool_resize); Documentation/core-api/memory-allocation.rst.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/hashmap.h"
#include "mempool_internal.h"

/* ---- reserve poisoning (MMKIT_DEBUG builds) ------------------------------
 * Like Linux with slab debugging: an element resting in the reserve is
 * filled with POISON_FREE and ends in POISON_END; taking it out checks the
 * pattern, so a write through a pointer freed into the pool is caught. Only
 * pools that know their element size (kmalloc and page pools) poison. */
#define POISON_FREE 0x6b
#define POISON_END  0xa5

#ifdef MMKIT_DEBUG
static void poison_element(const struct mm_mempool *pool, void *element)
{
	if (!pool->elem_size)
		return;
	memset(element, POISON_FREE, pool->elem_size - 1);
	((unsigned char *)element)[pool->elem_size - 1] = POISON_END;
}

/* 1 + offset of the first damaged byte, or 0 if the poison is intact. */
static size_t poison_damage(const struct mm_mempool *pool, const void *element)
{
	const unsigned char *p = element;
	for (size_t i = 0; i < pool->elem_size; i++) {
		unsigned char want = i + 1 == pool->elem_size ? POISON_END : POISON_FREE;
		if (p[i] != want)
			return i + 1;
	}
	return 0;
}
#else
static inline void poison_element(const struct mm_mempool *pool, void *element)
{
	(void)pool;
	(void)element;
}

static inline size_t poison_damage(const struct mm_mempool *pool, const void *element)
{
	(void)pool;
	(void)element;
	return 0;
}
#endif

static void check_element(const struct mm_mempool *pool, const void *element)
{
	size_t bad = poison_damage(pool, element);
	if (mm_unlikely(bad))
		MM_PANIC("mempool %p: element %p was written while in the reserve (byte %zu)",
			 (const void *)pool, element, bad - 1);
}

/* ---- reserve helpers (caller holds pool->lock) -------------------------- */

static inline void add_element_locked(struct mm_mempool *pool, void *element)
{
	int n = atomic_load(&pool->curr_nr);
	MM_BUG_ON(n >= pool->capacity);
	poison_element(pool, element);
	pool->elements[n] = element;
	atomic_store(&pool->curr_nr, n + 1);
}

static inline void *remove_element_locked(struct mm_mempool *pool)
{
	int n = atomic_load(&pool->curr_nr) - 1;
	MM_BUG_ON(n < 0);
	atomic_store(&pool->curr_nr, n);
	check_element(pool, pool->elements[n]);
	return pool->elements[n];
}

/* ---- calls to the wrapped allocator (never under the lock) -------------- */

/* Only failures are counted: an atomic increment per successful call would
 * more than double the cost of a pair over malloc (bench_mempool). */
static void *call_alloc(struct mm_mempool *pool, mm_gfp_t gfp)
{
	void *e = pool->alloc(gfp, pool->pool_data);
	if (!e)
		atomic_fetch_add_explicit(&pool->alloc_fn_fails, 1, memory_order_relaxed);
	return e;
}

static void call_free(struct mm_mempool *pool, void *element)
{
	pool->free(element, pool->pool_data);
}

/* ---- creation and destruction ------------------------------------------- */

struct mm_mempool *mempool_new(int min_nr, mm_mempool_alloc_t *alloc_fn,
			       mm_mempool_free_t *free_fn, void *pool_data)
{
	if (min_nr < 0 || !alloc_fn || !free_fn)
		return NULL;
	struct mm_mempool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->capacity = min_nr ? min_nr : 1; /* min_nr 0 still keeps one */
	pool->elements = malloc((size_t)pool->capacity * sizeof(void *));
	if (!pool->elements)
		goto fail_pool;
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr))
		goto fail_elements;
	/* timeouts are measured on the monotonic clock (immune to date changes) */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) || pthread_cond_init(&pool->wait, &attr)) {
		pthread_condattr_destroy(&attr);
		goto fail_elements;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_mutex_init(&pool->lock, NULL))
		goto fail_cond;
	atomic_store(&pool->min_nr, min_nr);
	atomic_store(&pool->curr_nr, 0);
	pool->alloc = alloc_fn;
	pool->free = free_fn;
	pool->pool_data = pool_data;
	pool->wait_timeout_ms = MM_MEMPOOL_WAIT_TIMEOUT_MS;
	return pool;

fail_cond:
	pthread_cond_destroy(&pool->wait);
fail_elements:
	free(pool->elements);
fail_pool:
	free(pool);
	return NULL;
}

struct mm_mempool *mempool_fill(struct mm_mempool *pool)
{
	if (!pool)
		return NULL;
	while (atomic_load(&pool->curr_nr) < atomic_load(&pool->min_nr)) {
		void *e = call_alloc(pool, MM_GFP_KERNEL);
		if (!e) {
			mm_mempool_destroy(pool);
			return NULL;
		}
		/* nobody else can see the pool yet; the lock keeps TSan's view simple */
		pthread_mutex_lock(&pool->lock);
		add_element_locked(pool, e);
		pthread_mutex_unlock(&pool->lock);
	}
	return pool;
}

struct mm_mempool *mm_mempool_create(int min_nr, mm_mempool_alloc_t *alloc_fn,
				     mm_mempool_free_t *free_fn, void *pool_data)
{
	return mempool_fill(mempool_new(min_nr, alloc_fn, free_fn, pool_data));
}

void mm_mempool_destroy(struct mm_mempool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	if (pool->waiting)
		MM_PANIC("mempool %p destroyed while %u thread(s) wait in mm_mempool_alloc",
			 (void *)pool, pool->waiting);
	pthread_mutex_unlock(&pool->lock);
	while (atomic_load(&pool->curr_nr) > 0)
		call_free(pool, remove_element_locked(pool)); /* sole owner now */
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->wait);
	free(pool->elements);
	free(pool);
}

/* ---- allocation --------------------------------------------------------- */

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* alloc_fn failed with gfp_temp: the reserve, then (if gfp allows) reclaim
 * and sleeping, as laid out in mempool.h. */
static MM_NOINLINE void *mempool_alloc_slow(struct mm_mempool *pool, mm_gfp_t gfp,
					    mm_gfp_t gfp_temp)
{
	bool can_sleep = !(gfp & (MM_GFP_ATOMIC | MM_GFP_NOWAIT));
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		if (mm_likely(atomic_load(&pool->curr_nr) > 0)) {
			void *e = remove_element_locked(pool);
			pool->reserve_allocs++;
			pthread_mutex_unlock(&pool->lock);
			return e;
		}
		if (!can_sleep) {
			pool->failed_allocs++;
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		if (gfp_temp != gfp) {
			/* reserve empty: now let the allocator reclaim */
			pthread_mutex_unlock(&pool->lock);
			gfp_temp = gfp;
		} else {
			/* sleep until a free refills the reserve or the timeout
			 * passes; the reserve test above and the sleep are atomic
			 * under the lock, so a wakeup cannot be lost */
			struct timespec deadline;
			deadline_after(&deadline, pool->wait_timeout_ms);
			pool->waiting++;
			pool->waits++;
			int rc;
			do
				rc = pthread_cond_timedwait(&pool->wait, &pool->lock, &deadline);
			while (rc == 0 && atomic_load(&pool->curr_nr) == 0);
			pool->waiting--;
			if (rc == ETIMEDOUT)
				pool->timeouts++;
			pthread_mutex_unlock(&pool->lock);
			MM_BUG_ON(rc != 0 && rc != ETIMEDOUT);
		}
		void *e = call_alloc(pool, gfp_temp);
		if (e)
			return e;
	}
}

void *mm_mempool_alloc(struct mm_mempool *pool, mm_gfp_t gfp)
{
	gfp = (gfp & ~MM_GFP_ZERO) | MM_GFP_NOWARN;
	/* the first try never reclaims (Linux clears __GFP_DIRECT_RECLAIM/IO) */
	mm_gfp_t gfp_temp = gfp & MM_GFP_ATOMIC ? gfp : gfp | MM_GFP_NOWAIT;
	void *e = call_alloc(pool, gfp_temp);
	if (mm_likely(e != NULL))
		return e;
	return mempool_alloc_slow(pool, gfp, gfp_temp);
}

void *mm_mempool_alloc_preallocated(struct mm_mempool *pool)
{
	void *e = NULL;
	pthread_mutex_lock(&pool->lock);
	if (atomic_load(&pool->curr_nr) > 0) {
		e = remove_element_locked(pool);
		pool->reserve_allocs++;
	} else {
		pool->failed_allocs++;
	}
	pthread_mutex_unlock(&pool->lock);
	return e;
}

/* ---- free --------------------------------------------------------------- */

/* Does a freed element belong in the reserve? Below target, yes; and a pool
 * with min_nr == 0 keeps one element when it is empty, or a sleeper in such
 * a pool could only be woken by its timeout (Linux handles this edge case
 * the same way since 6.x). */
static inline bool reserve_wants(int curr, int min)
{
	return curr < min || (min == 0 && curr == 0);
}

void mm_mempool_free(void *element, struct mm_mempool *pool)
{
	if (mm_unlikely(element == NULL))
		return;
	/* Unlocked test first (Linux does the same): a pool whose reserve is
	 * full frees straight to free_fn. A stale "full" answer only means this
	 * element goes to free_fn as if it had been freed a moment earlier. */
	if (mm_unlikely(reserve_wants(atomic_load(&pool->curr_nr), atomic_load(&pool->min_nr)))) {
		pthread_mutex_lock(&pool->lock);
		if (reserve_wants(atomic_load(&pool->curr_nr), atomic_load(&pool->min_nr))) {
			add_element_locked(pool, element);
			pool->reserve_refills++;
			if (pool->waiting)
				pthread_cond_broadcast(&pool->wait);
			pthread_mutex_unlock(&pool->lock);
			return;
		}
		pthread_mutex_unlock(&pool->lock);
	}
	call_free(pool, element);
}

/* ---- resize ------------------------------------------------------------- */

/* Shrink: lower the target first, so concurrent frees stop refilling, then
 * hand the extra elements to free_fn one by one without the lock. */
static int mempool_shrink(struct mm_mempool *pool, int new_min_nr)
{
	atomic_store(&pool->min_nr, new_min_nr);
	while (atomic_load(&pool->curr_nr) > new_min_nr) {
		void *e = remove_element_locked(pool);
		pthread_mutex_unlock(&pool->lock);
		call_free(pool, e);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

/* Grow: get the new array and every missing element first, so that a
 * failure can undo everything and leave the pool as it was. */
static int mempool_grow(struct mm_mempool *pool, int new_min_nr)
{
	int need = new_min_nr - atomic_load(&pool->curr_nr);
	pthread_mutex_unlock(&pool->lock);

	void **arr = malloc((size_t)new_min_nr * sizeof(void *));
	void **fresh = malloc((size_t)(need > 0 ? need : 1) * sizeof(void *));
	int got = 0;
	if (!arr || !fresh)
		goto fail;
	for (; got < need; got++) {
		fresh[got] = call_alloc(pool, MM_GFP_KERNEL);
		if (!fresh[got])
			goto fail;
	}

	pthread_mutex_lock(&pool->lock);
	if (new_min_nr <= atomic_load(&pool->min_nr)) {
		/* a concurrent resize got there first; it did our work */
		pthread_mutex_unlock(&pool->lock);
		free(arr);
		arr = NULL;
	} else {
		int curr = atomic_load(&pool->curr_nr);
		memcpy(arr, pool->elements, (size_t)curr * sizeof(void *));
		void **old = pool->elements;
		pool->elements = arr;
		pool->capacity = new_min_nr;
		atomic_store(&pool->min_nr, new_min_nr);
		while (got > 0 && atomic_load(&pool->curr_nr) < new_min_nr)
			add_element_locked(pool, fresh[--got]);
		if (pool->waiting)
			pthread_cond_broadcast(&pool->wait);
		pthread_mutex_unlock(&pool->lock);
		free(old);
	}
	while (got > 0) /* raced: more than we needed */
		call_free(pool, fresh[--got]);
	free(fresh);
	return 0;

fail:
	while (got > 0)
		call_free(pool, fresh[--got]);
	free(fresh);
	free(arr);
	return -MM_ENOMEM;
}

int mm_mempool_resize(struct mm_mempool *pool, int new_min_nr)
{
	if (new_min_nr < 0)
		return -MM_EINVAL;
	pthread_mutex_lock(&pool->lock);
	if (new_min_nr <= atomic_load(&pool->min_nr))
		return mempool_shrink(pool, new_min_nr);
	return mempool_grow(pool, new_min_nr);
}

void mm_mempool_set_wait_timeout(struct mm_mempool *pool, unsigned ms)
{
	pthread_mutex_lock(&pool->lock);
	pool->wait_timeout_ms = ms ? ms : 1;
	pthread_mutex_unlock(&pool->lock);
}

/* ---- stats and checking ------------------------------------------------- */

void mm_mempool_stats(struct mm_mempool *pool, struct mm_mempool_stats *st)
{
	pthread_mutex_lock(&pool->lock);
	st->min_nr = atomic_load(&pool->min_nr);
	st->curr_nr = atomic_load(&pool->curr_nr);
	st->waiting = pool->waiting;
	st->alloc_fn_fails = atomic_load(&pool->alloc_fn_fails);
	st->reserve_allocs = pool->reserve_allocs;
	st->reserve_refills = pool->reserve_refills;
	st->waits = pool->waits;
	st->timeouts = pool->timeouts;
	st->failed_allocs = pool->failed_allocs;
	pthread_mutex_unlock(&pool->lock);
}

/* True if elements[0..n) holds a repeated pointer. */
static bool has_duplicates(void *const *elements, int n)
{
	struct mm_hashmap seen;
	if (mm_hashmap_init(&seen, (size_t)n, NULL) == 0) {
		bool dup = false;
		for (int i = 0; i < n && !dup; i++) {
			int rc = mm_hashmap_put(&seen, (uintptr_t)elements[i], 1);
			if (rc < 0)
				break; /* cannot happen: sized for n */
			dup = rc == 1;
		}
		mm_hashmap_destroy(&seen);
		return dup;
	}
	for (int i = 0; i < n; i++) /* out of memory: the slow way */
		for (int j = 0; j < i; j++)
			if (elements[i] == elements[j])
				return true;
	return false;
}

int mm_mempool_check(struct mm_mempool *pool)
{
	int rc = 0;
	pthread_mutex_lock(&pool->lock);
	int curr = atomic_load(&pool->curr_nr), min = atomic_load(&pool->min_nr);
	if (curr < 0 || curr > MM_MAX(min, 1) || (min > 0 && curr > min) ||
	    MM_MAX(min, 1) > pool->capacity || !pool->elements)
		rc = -MM_ECORRUPT;
	for (int i = 0; rc == 0 && i < curr; i++)
		if (!pool->elements[i] || poison_damage(pool, pool->elements[i]))
			rc = -MM_ECORRUPT;
	if (rc == 0 && has_duplicates(pool->elements, curr))
		rc = -MM_ECORRUPT;
	if (pool->timeouts > pool->waits)
		rc = -MM_ECORRUPT;
	if (pool->wait_timeout_ms == 0 || !pool->alloc || !pool->free)
		rc = -MM_ECORRUPT;
	pthread_mutex_unlock(&pool->lock);
	return rc;
}
