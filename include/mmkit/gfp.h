/* mmkit/gfp.h — page size and allocation flags (Linux's gfp_t, trimmed).
 *
 * The zone modifiers choose the highest zone an allocation may come from
 * (DMA < DMA32 < NORMAL < HIGHMEM; without one the allocation may use any zone, highest
 * first, falling back to lower ones, but never HighMem unless MM_GFP_HIGHMEM). The mobility modifiers choose the
 * migrate type of the free lists (unmovable by default). MM_GFP_HIGH lets an
 * allocation dip below the min watermark (Linux's __GFP_HIGH/ALLOC_HIGH),
 * MM_GFP_ZERO clears the memory when it is real.
 */
#ifndef MMKIT_GFP_H
#define MMKIT_GFP_H

#include <stdint.h>

#define MM_PAGE_SHIFT 12
#define MM_PAGE_SIZE  (1UL << MM_PAGE_SHIFT)
#define MM_PAGE_MASK  (~(MM_PAGE_SIZE - 1))

typedef unsigned int mm_gfp_t;

/* zone modifiers (at most one) */
#define MM_GFP_DMA         0x01u  /* ZONE_DMA: the first 16 MiB */
#define MM_GFP_DMA32       0x02u  /* ZONE_DMA32: below 4 GiB */
#define MM_GFP_HIGHMEM     0x04u  /* may use ZONE_HIGHMEM (Linux's __GFP_HIGHMEM):
				     user pages; only the 32-bit zone layout
				     has high memory, elsewhere it is ignored */
/* mobility (at most one; neither = unmovable) */
#define MM_GFP_MOVABLE     0x08u  /* user pages: may be migrated */
#define MM_GFP_RECLAIMABLE 0x10u  /* caches that a shrinker can free */
/* behaviour */
#define MM_GFP_HIGH        0x20u  /* may use part of the reserve below min */
#define MM_GFP_ZERO        0x40u  /* zero the pages (real memory only) */
#define MM_GFP_NOWARN      0x80u  /* no failure message */
#define MM_GFP_ATOMIC      0x100u /* cannot sleep/reclaim; implies HIGH */
#define MM_GFP_NOWAIT      0x200u /* do not sleep or reclaim, no reserve access:
				     Linux's GFP_NOWAIT (no __GFP_DIRECT_RECLAIM);
				     mempool's first, opportunistic try */

/* The usual combinations, with Linux's names. */
#define MM_GFP_KERNEL      0u
#define MM_GFP_USER        MM_GFP_MOVABLE
#define MM_GFP_HIGHUSER    MM_GFP_HIGHMEM
#define MM_GFP_HIGHUSER_MOVABLE (MM_GFP_HIGHMEM | MM_GFP_MOVABLE)

#endif /* MMKIT_GFP_H */
