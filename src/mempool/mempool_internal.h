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
 *   0 <= curr_nr <= min_nr <= capacity; elements[0..curr_nr) are distinct,
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
	unsigned wait_timeout_ms;     /* sleep this long, then retry alloc_fn */
	unsigned waiting;             /* threads asleep in alloc now */
	/* counters of calls made without the lock */
	_Atomic uint64_t alloc_fn_calls, alloc_fn_fails, free_fn_calls;
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

#endif /* MMKIT_MEMPOOL_INTERNAL_H */
