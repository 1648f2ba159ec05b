/* mmkit/blockpool.h — a fixed-block pool with a bounded free-block cache
 * (the user-space memory pool of the seed notes: `heappool<N>` with
 * `set_block_count`).
 *
 * Every block has the same size. Freed blocks are kept on a list instead of
 * being returned, and the next allocation reuses the most recently freed one
 * (LIFO: it is still warm in the CPU cache). When more than `max_cached` free
 * blocks are cached, the OLDEST cached block goes back to the underlying
 * allocator, so an idle pool holds at most max_cached blocks. The underlying
 * allocator is malloc, or a page source (each block is then one naturally
 * aligned 2^order-page block).
 *
 * Costs: alloc and free are O(1) (a list operation under a mutex) on a cache
 * hit; a miss or an eviction adds one malloc/free (or page-source) call, made
 * without the lock. set_count is O(blocks evicted). Memory: nothing per block
 * (the free list runs through the free blocks themselves, so blocks are at
 * least 16 bytes); blocks smaller than the underlying granularity waste the
 * difference (malloc: its header; page source: the rest of the pages).
 *
 * Thread safety: every function except destroy may be called concurrently.
 * In MMKIT_DEBUG builds a cached block is filled with 0x6b after its list
 * link and checked when reused: a write after free aborts with a message.
 */
#ifndef MMKIT_BLOCKPOOL_H
#define MMKIT_BLOCKPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "mmkit/pagesrc.h"

struct mm_blockpool;

/* Smallest block: the free list's link lives inside free blocks. */
#define MM_BLOCKPOOL_MIN_BLOCK 16

/* A pool of `block_size`-byte blocks (rounded up to MM_BLOCKPOOL_MIN_BLOCK
 * and to a multiple of 16) over malloc, caching at most `max_cached` free
 * blocks. Returns NULL if block_size is 0 or memory is short. */
struct mm_blockpool *mm_blockpool_create(size_t block_size, size_t max_cached);

/* The same over a page source: each block is 2^order pages, the smallest
 * order that holds block_size; blocks are aligned to that size. `ps` is
 * copied (its context must outlive the pool). NULL if block_size is 0 or
 * larger than 2^20 pages, or memory is short. */
struct mm_blockpool *mm_blockpool_create_pagesrc(size_t block_size, size_t max_cached,
						 const struct mm_page_source *ps);

/* Free every cached block and the pool. Blocks still allocated are reported
 * on stderr (with their count) and left to leak, as Linux does for a slab
 * cache destroyed with live objects. NULL is a no-op. */
void mm_blockpool_destroy(struct mm_blockpool *bp);

/* One block: the most recently freed cached block, else a new one from the
 * underlying allocator. NULL if that fails (the pool is unchanged). The
 * content is undefined (not zeroed). */
void *mm_blockpool_alloc(struct mm_blockpool *bp);

/* Give a block of this pool back: it joins the cache as its newest member;
 * if the cache then holds more than max_cached blocks, the oldest goes back
 * to the underlying allocator. NULL is a no-op. */
void mm_blockpool_free(struct mm_blockpool *bp, void *block);

/* Change max_cached (the seed's set_block_count). Lowering it returns the
 * oldest cached blocks to the underlying allocator at once. */
void mm_blockpool_set_count(struct mm_blockpool *bp, size_t max_cached);

/* Usable bytes per block (block_size as rounded at creation). */
size_t mm_blockpool_block_size(const struct mm_blockpool *bp);

struct mm_blockpool_stats {
	size_t block_size;          /* usable bytes per block */
	size_t max_cached;          /* cache bound */
	size_t cached;              /* free blocks cached now */
	size_t outstanding;         /* blocks allocated to users now */
	uint64_t allocs, frees;     /* calls of alloc (successful) and free */
	uint64_t hits;              /* allocations served from the cache */
	uint64_t underlying_allocs; /* blocks obtained from the underlying allocator */
	uint64_t underlying_frees;  /* blocks returned to it */
	uint64_t underlying_fails;  /* underlying allocations that failed */
};

/* A snapshot of the counters, taken under the pool's lock. */
void mm_blockpool_stats(struct mm_blockpool *bp, struct mm_blockpool_stats *st);

/* Verify the pool: the cache list is well linked and holds `cached` blocks,
 * cached <= max_cached, underlying_allocs - underlying_frees == cached +
 * outstanding, page-source blocks are aligned, and (debug builds) cached
 * blocks still hold their poison. O(cached). Returns 0 or -MM_ECORRUPT. */
int mm_blockpool_check(struct mm_blockpool *bp);

#endif /* MMKIT_BLOCKPOOL_H */
