/* Blockpool: fixed-size blocks with a bounded LIFO cache of free blocks.
 *
 * Algorithm (the seed's heappool<N>, made thread-safe and bounded at once):
 * a free block is pushed at the back of a list threaded through the free
 * blocks; alloc pops the back (the most recently freed block, still warm in
 * the cache hierarchy); when the list grows beyond max_cached, the front (the
 * oldest free block) goes back to the underlying allocator. An idle pool
 * therefore holds at most max_cached blocks, and a steady alloc/free rhythm
 * below that depth never touches the underlying allocator.
 *
 * Costs: O(1) per alloc/free under one mutex; a miss or an eviction adds one
 * underlying call made outside the lock. No per-block header: the list link
 * uses the free block's own first 16 bytes. Fragmentation is that of the
 * underlying allocator (blocks of one size are easy on malloc; over a page
 * source each block rounds up to 2^order pages, wasting the tail).
 *
 * Reference: seed 003 "用户态内存池" (heappool, set_block_count); the same
 * idea as Linux's per-CPU page lists (bounded by pcp->high, trimmed in
 * batches) and as glibc's tcache (bounded per-size LIFO lists).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/blockpool.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mempool_internal.h"

#define POISON_FREE 0x6b /* bytes of a cached block after its link (debug) */
#define MAX_PS_ORDER 20

/* ---- underlying allocator ----------------------------------------------- */

static void *under_alloc(struct mm_blockpool *bp)
{
	if (bp->use_ps)
		return mm_ps_alloc(&bp->ps, bp->order, MM_GFP_KERNEL);
	return malloc(bp->block_size);
}

static void under_free(struct mm_blockpool *bp, void *block)
{
	if (bp->use_ps)
		mm_ps_free(&bp->ps, block, bp->order);
	else
		free(block);
}

/* ---- debug poisoning ---------------------------------------------------- */

#ifdef MMKIT_DEBUG
static void poison_block(struct mm_blockpool *bp, void *block)
{
	memset((char *)block + sizeof(struct mm_list), POISON_FREE,
	       bp->block_size - sizeof(struct mm_list));
}

/* Offset of the first byte that lost its poison, or 0 if intact. */
static size_t poison_damage(const struct mm_blockpool *bp, const void *block)
{
	const unsigned char *p = block;
	for (size_t i = sizeof(struct mm_list); i < bp->block_size; i++)
		if (p[i] != POISON_FREE)
			return i;
	return 0;
}
#else
static inline void poison_block(struct mm_blockpool *bp, void *block)
{
	(void)bp;
	(void)block;
}

static inline size_t poison_damage(const struct mm_blockpool *bp, const void *block)
{
	(void)bp;
	(void)block;
	return 0;
}
#endif

/* ---- creation and destruction ------------------------------------------- */

static struct mm_blockpool *pool_new(size_t block_size, size_t max_cached)
{
	if (block_size == 0 || block_size > SIZE_MAX / 2)
		return NULL;
	struct mm_blockpool *bp = calloc(1, sizeof(*bp));
	if (!bp)
		return NULL;
	if (pthread_mutex_init(&bp->lock, NULL)) {
		free(bp);
		return NULL;
	}
	mm_list_init(&bp->cache);
	block_size = MM_MAX(block_size, (size_t)MM_BLOCKPOOL_MIN_BLOCK);
	bp->block_size = MM_ALIGN_UP(block_size, (size_t)16);
	bp->max_cached = max_cached;
	return bp;
}

struct mm_blockpool *mm_blockpool_create(size_t block_size, size_t max_cached)
{
	return pool_new(block_size, max_cached);
}

struct mm_blockpool *mm_blockpool_create_pagesrc(size_t block_size, size_t max_cached,
						 const struct mm_page_source *ps)
{
	if (!ps || !ps->ops || block_size == 0 || block_size > (MM_PAGE_SIZE << MAX_PS_ORDER))
		return NULL;
	unsigned int order = 0;
	while ((MM_PAGE_SIZE << order) < block_size)
		order++;
	struct mm_blockpool *bp = pool_new(block_size, max_cached);
	if (!bp)
		return NULL;
	bp->use_ps = true;
	bp->ps = *ps;
	bp->order = order;
	bp->block_size = MM_PAGE_SIZE << order; /* the whole block is usable */
	return bp;
}

void mm_blockpool_destroy(struct mm_blockpool *bp)
{
	if (!bp)
		return;
	struct mm_list *pos, *tmp;
	mm_list_for_each_safe(pos, tmp, &bp->cache) {
		mm_list_del(pos);
		under_free(bp, pos);
	}
	if (bp->outstanding)
		fprintf(stderr, "mmkit: blockpool %p (%zu-byte blocks) destroyed with %zu block(s) "
			"still allocated\n", (void *)bp, bp->block_size, bp->outstanding);
	pthread_mutex_destroy(&bp->lock);
	free(bp);
}

/* ---- alloc / free ------------------------------------------------------- */

static MM_NOINLINE void *blockpool_alloc_miss(struct mm_blockpool *bp)
{
	void *block = under_alloc(bp);
	pthread_mutex_lock(&bp->lock);
	if (block) {
		bp->underlying_allocs++;
		bp->allocs++;
		bp->outstanding++;
	} else {
		bp->underlying_fails++;
	}
	pthread_mutex_unlock(&bp->lock);
	return block;
}

void *mm_blockpool_alloc(struct mm_blockpool *bp)
{
	pthread_mutex_lock(&bp->lock);
	if (mm_unlikely(mm_list_empty(&bp->cache))) {
		pthread_mutex_unlock(&bp->lock);
		return blockpool_alloc_miss(bp);
	}
	struct mm_list *link = bp->cache.prev; /* newest */
	mm_list_del(link);
	bp->cached--;
	bp->outstanding++;
	bp->allocs++;
	bp->hits++;
	pthread_mutex_unlock(&bp->lock);
	size_t bad = poison_damage(bp, link);
	if (mm_unlikely(bad))
		MM_PANIC("blockpool %p: block %p written after free (byte %zu)", (void *)bp,
			 (void *)link, bad);
	return link;
}

void mm_blockpool_free(struct mm_blockpool *bp, void *block)
{
	if (!block)
		return;
	poison_block(bp, block);
	struct mm_list *link = block, *victim = NULL;
	pthread_mutex_lock(&bp->lock);
	MM_BUG_ON(bp->outstanding == 0);
	mm_list_add_tail(link, &bp->cache);
	bp->cached++;
	bp->outstanding--;
	bp->frees++;
	if (bp->cached > bp->max_cached) { /* evict the oldest */
		victim = bp->cache.next;
		mm_list_del(victim);
		bp->cached--;
		bp->underlying_frees++;
	}
	pthread_mutex_unlock(&bp->lock);
	if (victim)
		under_free(bp, victim);
}

void mm_blockpool_set_count(struct mm_blockpool *bp, size_t max_cached)
{
	struct mm_list evicted;
	mm_list_init(&evicted);
	pthread_mutex_lock(&bp->lock);
	bp->max_cached = max_cached;
	while (bp->cached > max_cached) {
		mm_list_move_tail(bp->cache.next, &evicted);
		bp->cached--;
		bp->underlying_frees++;
	}
	pthread_mutex_unlock(&bp->lock);
	struct mm_list *pos, *tmp;
	mm_list_for_each_safe(pos, tmp, &evicted) {
		mm_list_del(pos);
		under_free(bp, pos);
	}
}

size_t mm_blockpool_block_size(const struct mm_blockpool *bp)
{
	return bp->block_size;
}

/* ---- stats and checking ------------------------------------------------- */

void mm_blockpool_stats(struct mm_blockpool *bp, struct mm_blockpool_stats *st)
{
	pthread_mutex_lock(&bp->lock);
	st->block_size = bp->block_size;
	st->max_cached = bp->max_cached;
	st->cached = bp->cached;
	st->outstanding = bp->outstanding;
	st->allocs = bp->allocs;
	st->frees = bp->frees;
	st->hits = bp->hits;
	st->underlying_allocs = bp->underlying_allocs;
	st->underlying_frees = bp->underlying_frees;
	st->underlying_fails = bp->underlying_fails;
	pthread_mutex_unlock(&bp->lock);
}

int mm_blockpool_check(struct mm_blockpool *bp)
{
	int rc = 0;
	pthread_mutex_lock(&bp->lock);
	if (mm_list_check(&bp->cache, bp->cached) || mm_list_count(&bp->cache) != bp->cached)
		rc = -MM_ECORRUPT;
	if (bp->cached > bp->max_cached || bp->hits > bp->allocs)
		rc = -MM_ECORRUPT;
	if (bp->underlying_allocs - bp->underlying_frees != bp->cached + bp->outstanding)
		rc = -MM_ECORRUPT;
	if (bp->block_size < MM_BLOCKPOOL_MIN_BLOCK)
		rc = -MM_ECORRUPT;
	if (rc == 0) {
		struct mm_list *pos;
		mm_list_for_each(pos, &bp->cache) {
			if (bp->use_ps && (uintptr_t)pos % bp->block_size)
				rc = -MM_ECORRUPT;
			if (poison_damage(bp, pos))
				rc = -MM_ECORRUPT;
		}
	}
	pthread_mutex_unlock(&bp->lock);
	return rc;
}
