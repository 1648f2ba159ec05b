/* Private structures of the mempool component (mempool and blockpool). */
#ifndef MMKIT_MEMPOOL_INTERNAL_H
#define MMKIT_MEMPOOL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmkit/list.h"
#include "mmkit/mempool.h"

/* ---- mempool -------------------------------------------------------------
 *
 * Invariants (mm_mempool_check):
 *   0 <= curr_nr <= max(min_nr, 1) <= capacity, and curr_nr <= min_nr when
 *   min_nr > 0 (a pool with min_nr 0 keeps at most one freed element, so
 *   that its sleepers can be woken); elements[0..curr_nr) are distinct,
 *   non-NULL elements owned by the pool.
 * Locking:
 *   `lock` protects elements, capacity, the plain counters and `waiting`;
 *   curr_nr and min_nr are only written under `lock` but are atomics so that
 *   mm_mempool_free can test "reserve below target?" without the lock (as
 *   Linux does). alloc_fn/free_fn are never called with `lock` held, so they
 *   may sleep, take their own locks or even free into this pool.
 */
struct mm_mempool {
	pthread_mutex_t lock;
	pthread_cond_t wait;          /* broadcast when the reserve gains elements */
	_Atomic int min_nr;           /* reserve target */
	_Atomic int curr_nr;          /* elements in the reserve */
	int capacity;                 /* slots in elements[] (>= min_nr) */
	void **elements;              /* the reserve, a LIFO stack */
	mm_mempool_alloc_t *alloc;    /* the wrapped allocator ... */
	mm_mempool_free_t *free;      /* ... and its free */
	void *pool_data;              /* their context */
	size_t elem_size;             /* element bytes if known (kmalloc/page
					 pools): reserve poisoning in debug
					 builds; 0 = unknown, no poisoning */
	unsigned wait_timeout_ms;     /* sleep this long, then retry alloc_fn */
	unsigned waiting;             /* threads asleep in alloc now */
	/* alloc_fn failures (counted without the lock) */
	_Atomic uint64_t alloc_fn_fails;
	/* counters kept under the lock */
	uint64_t reserve_allocs, reserve_refills, waits, timeouts, failed_allocs;
	/* pool_data of the ready-made pools points here */
	union {
		struct {
			struct mm_kmem *kmem;
			size_t size;
		} kmalloc;
		struct {
			struct mm_page_source ps;
			unsigned int order;
		} pages;
	} helper;
};

/* A pool with an empty reserve and min_nr recorded (create's first half);
 * NULL if memory is short. mempool_fill() then fills the reserve. */
struct mm_mempool *mempool_new(int min_nr, mm_mempool_alloc_t *alloc_fn,
			       mm_mempool_free_t *free_fn, void *pool_data);
/* Fill the reserve up to min_nr; on failure destroy the pool and return NULL. */
struct mm_mempool *mempool_fill(struct mm_mempool *pool);

/* ---- blockpool -----------------------------------------------------------
 *
 * Invariants (mm_blockpool_check):
 *   `cache` holds exactly `cached` free blocks, oldest at the front;
 *   cached <= max_cached;
 *   underlying_allocs - underlying_frees == cached + outstanding.
 * Locking: `lock` protects every field but the constants (block_size,
 * use_ps, ps, order). The underlying allocator is called without the lock;
 * the counters are updated under the lock in the same critical section as
 * the list change, so the invariants hold whenever the lock is free.
 */
struct mm_blockpool {
	pthread_mutex_t lock;
	struct mm_list cache;        /* cached free blocks; link at block start */
	size_t block_size;           /* usable bytes per block (constant) */
	size_t max_cached;           /* cache bound (set_count) */
	size_t cached;               /* blocks on `cache` */
	size_t outstanding;          /* blocks held by users */
	uint64_t allocs, frees, hits;
	uint64_t underlying_allocs, underlying_frees, underlying_fails;
	bool use_ps;                 /* blocks come from `ps`, else malloc */
	struct mm_page_source ps;    /* the page source (copied) */
	unsigned int order;          /* pages per block = 2^order (use_ps) */
};

#endif /* MMKIT_MEMPOOL_INTERNAL_H */
