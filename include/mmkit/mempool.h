/* mmkit/mempool.h — memory pools with a guaranteed reserve (Linux's mempool_t).
 *
 * A mempool wraps an allocator (alloc_fn/free_fn) and keeps min_nr
 * preallocated elements in reserve, so that an allocation that may wait
 * always succeeds eventually even when the allocator is out of memory: it
 * takes a reserve element, or sleeps until another thread frees an element
 * back into the pool. Linux uses this for allocations that must make forward
 * progress under memory pressure (bio and request structures on the write-out
 * path that frees memory).
 *
 * mm_mempool_alloc(pool, gfp):
 *   1. alloc_fn(gfp | MM_GFP_NOWAIT | MM_GFP_NOWARN): an opportunistic try
 *      without reclaim, so the reserve is not spent while memory is plentiful;
 *   2. else take an element from the reserve;
 *   3. else, if gfp may not sleep (MM_GFP_ATOMIC or MM_GFP_NOWAIT): NULL;
 *   4. else alloc_fn(gfp) once with reclaim allowed;
 *   5. else sleep until an element is freed into the reserve or the wait
 *      timeout passes (Linux: io_schedule_timeout(5 * HZ)), then call
 *      alloc_fn(gfp) again and continue at 2.
 *   So a sleeping allocation never returns NULL.
 * mm_mempool_free(elem, pool): if the reserve is below min_nr the element
 *   refills it and waiters are woken; otherwise it goes to free_fn. (A pool
 *   with min_nr 0 keeps one freed element while its reserve is empty, so
 *   that sleepers can be woken, as Linux does.)
 *
 * Elements are opaque pointers; a pool made by mm_mempool_create never
 * reads or writes them (see poisoning below for the ready-made pools). The
 * reserve is a LIFO stack (the most recently freed element is reused first,
 * while it is still cache-hot). MM_GFP_ZERO is removed from gfp: reserve
 * elements are not cleared (Linux warns on __GFP_ZERO for the same reason).
 *
 * In MMKIT_DEBUG builds the kmalloc and page pools poison elements resting
 * in the reserve (0x6b, last byte 0xa5, as Linux's slab-debug mempools do)
 * and check the poison when an element leaves the reserve: a write through a
 * pointer already freed into the pool aborts with a message.
 *
 * Thread safety: alloc, free, resize, stats and check may run concurrently
 * from any threads; alloc_fn and free_fn are called without the pool's lock
 * held and must be thread-safe themselves. destroy must not race with any
 * other call on the pool.
 */
#ifndef MMKIT_MEMPOOL_H
#define MMKIT_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "mmkit/gfp.h"
#include "mmkit/pagesrc.h"

struct mm_mempool;
struct mm_kmem;
struct mm_kmem_cache;

/* Linux's mempool_alloc_t / mempool_free_t: get one element (NULL on
 * failure, nothing changed) / give one back. */
typedef void *mm_mempool_alloc_t(mm_gfp_t gfp, void *pool_data);
typedef void mm_mempool_free_t(void *element, void *pool_data);

/* Default time a sleeping allocation waits before it retries alloc_fn on its
 * own (Linux waits 5 s in io_schedule_timeout). */
#define MM_MEMPOOL_WAIT_TIMEOUT_MS 5000

/* Create a pool and fill its reserve with min_nr elements from
 * alloc_fn(MM_GFP_KERNEL, pool_data). min_nr may be 0 (no reserve filled
 * up front; the pool then holds at most one freed element).
 * Returns NULL if min_nr < 0, memory for the pool is not available, or
 * alloc_fn fails before the reserve is full; every element taken is then
 * given back to free_fn and nothing is left allocated. */
struct mm_mempool *mm_mempool_create(int min_nr, mm_mempool_alloc_t *alloc_fn,
				     mm_mempool_free_t *free_fn, void *pool_data);

/* Give every reserve element to free_fn and free the pool. Elements still
 * held by users are theirs to free with free_fn (or were leaked). No thread
 * may be waiting in mm_mempool_alloc. NULL is a no-op. */
void mm_mempool_destroy(struct mm_mempool *pool);

/* One element, by the steps above. Returns NULL only when gfp may not sleep
 * (MM_GFP_ATOMIC or MM_GFP_NOWAIT) and both alloc_fn and the reserve are
 * empty; the pool is unchanged then. */
void *mm_mempool_alloc(struct mm_mempool *pool, mm_gfp_t gfp);

/* An element from the reserve only, never calling alloc_fn (Linux's
 * mempool_alloc_preallocated). NULL if the reserve is empty. */
void *mm_mempool_alloc_preallocated(struct mm_mempool *pool);

/* Return an element obtained from this pool (from the reserve or from
 * alloc_fn: both are interchangeable). NULL is a no-op. */
void mm_mempool_free(void *element, struct mm_mempool *pool);

/* Change the reserve target to new_min_nr (>= 0). Shrinking hands the extra
 * reserve elements to free_fn. Growing first obtains every missing element
 * from alloc_fn(MM_GFP_KERNEL); if one fails, those obtained are given back,
 * -MM_ENOMEM is returned and the pool is unchanged (Linux instead keeps the
 * higher min_nr and lets frees fill the gap). Returns 0, -MM_EINVAL for a
 * negative new_min_nr, or -MM_ENOMEM. */
int mm_mempool_resize(struct mm_mempool *pool, int new_min_nr);

/* How long a sleeping allocation waits before retrying alloc_fn by itself
 * (default MM_MEMPOOL_WAIT_TIMEOUT_MS; a free into the reserve always wakes
 * it at once). ms must be > 0. */
void mm_mempool_set_wait_timeout(struct mm_mempool *pool, unsigned ms);

struct mm_mempool_stats {
	int min_nr;               /* reserve target */
	int curr_nr;              /* elements in the reserve now */
	unsigned waiting;         /* threads sleeping in mm_mempool_alloc now */
	uint64_t alloc_fn_fails;  /* alloc_fn calls that returned NULL (create and
				     resize included); successful calls and
				     free_fn calls are not counted: that would
				     cost two atomic increments per pair */
	uint64_t reserve_allocs;  /* allocations served from the reserve */
	uint64_t reserve_refills; /* frees that went into the reserve */
	uint64_t waits;           /* times an allocation went to sleep */
	uint64_t timeouts;        /* ... and woke by timeout, not by a free */
	uint64_t failed_allocs;   /* NULL returns (non-sleeping gfp) */
};

/* A snapshot of the pool's counters (taken under its lock). */
void mm_mempool_stats(struct mm_mempool *pool, struct mm_mempool_stats *st);

/* Verify the pool: 0 <= curr_nr <= min_nr (<= 1 if min_nr is 0), no NULL and
 * no duplicate among the reserve elements, intact poison (debug builds),
 * counters consistent (timeouts <= waits). O(curr_nr). Returns 0 or -MM_ECORRUPT. */
int mm_mempool_check(struct mm_mempool *pool);

/* ---- ready-made pools (Linux's mempool_create_*_pool) ------------------- */

/* Elements are objects of `cache` (mm_kmem_cache_alloc / _free). The cache
 * must outlive the pool. NULL as for mm_mempool_create. */
struct mm_mempool *mm_mempool_create_slab_pool(int min_nr, struct mm_kmem_cache *cache);

/* Elements are mm_kmalloc(kmem, size) blocks. kmem must outlive the pool. */
struct mm_mempool *mm_mempool_create_kmalloc_pool(int min_nr, struct mm_kmem *kmem, size_t size);

/* Elements are blocks of 2^order pages from `ps` (copied; its context must
 * outlive the pool). */
struct mm_mempool *mm_mempool_create_page_pool(int min_nr, unsigned int order,
					       const struct mm_page_source *ps);

/* The slab pool's callbacks, for callers composing their own pool
 * (pool_data is the struct mm_kmem_cache *). */
void *mm_mempool_alloc_slab(mm_gfp_t gfp, void *pool_data);
void mm_mempool_free_slab(void *element, void *pool_data);

#endif /* MMKIT_MEMPOOL_H */
