/* mmkit/bitmap_alloc.h — seed 001's bitmap page allocator.
 *
 * One bit per page (1 = in use or reserved). An allocation of 2^order pages
 * searches for a run of clear bits aligned to 2^order with word-wide bit
 * operations (mm_bitmap_find_next_zero_area), next-fit by default (the search
 * resumes after the previous allocation and wraps around) or first-fit.
 * Freeing clears the bits: there is nothing to merge. It serves the same page
 * source interface as the buddy allocator and reports the same
 * fragmentation figures, so the two can be compared (bench/bench_buddy.c).
 *
 * Fragmentation figures: the free bits are cut into the blocks a buddy
 * allocator would hold for the same free set: each maximal run of free pages
 * is split greedily into the largest naturally aligned power-of-two blocks
 * (at most 2^(max_order-1) pages). The histogram of those blocks feeds
 * Linux's unusable free space index and fragmentation index
 * (mmkit/fragindex.h). Since allocations are aligned to their size, a request
 * of 2^j pages can be met exactly when such a block of order >= j exists, so
 * the figures mean the same thing for both allocators.
 *
 * Thread-safe: one mutex.
 */
#ifndef MMKIT_BITMAP_ALLOC_H
#define MMKIT_BITMAP_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/buddy.h"
#include "mmkit/gfp.h"
#include "mmkit/pagesrc.h"

struct mm_bitmap_alloc_config {
	uint64_t start_pfn;          /* first PFN managed */
	uint64_t nr_pages;           /* number of PFNs (> 0) */
	void *mem_base;              /* address of start_pfn's page, or NULL; aligned
				      * like start_pfn modulo the largest block */
	unsigned int max_order;      /* requests up to order max_order-1; 0 = 11 */
	bool first_fit;              /* first-fit instead of next-fit */
	const struct mm_pfn_range *reserved; /* never handed out */
	size_t nr_reserved;
};

struct mm_bitmap_alloc;

void mm_bitmap_alloc_config_init(struct mm_bitmap_alloc_config *cfg, uint64_t start_pfn,
				 uint64_t nr_pages);

/* Returns 0 and sets *out, or -MM_EINVAL / -MM_ENOMEM (nothing allocated). */
int mm_bitmap_alloc_create(const struct mm_bitmap_alloc_config *cfg, struct mm_bitmap_alloc **out);
/* NULL is a no-op. */
void mm_bitmap_alloc_destroy(struct mm_bitmap_alloc *ba);

/* Allocate 2^order pages aligned to 2^order: 0 and *pfn set, or -MM_ENOMEM
 * (no such run) / -MM_EINVAL (order >= max_order), nothing changed. */
int mm_bitmap_alloc_pages(struct mm_bitmap_alloc *ba, unsigned int order, uint64_t *pfn);

/* Free a block that mm_bitmap_alloc_pages returned. Aborts on a double free,
 * a wrong order or a foreign PFN. */
void mm_bitmap_free_pages(struct mm_bitmap_alloc *ba, uint64_t pfn, unsigned int order);

/* Address of pfn's page, or NULL without a memory base / outside. */
void *mm_bitmap_alloc_pfn_address(const struct mm_bitmap_alloc *ba, uint64_t pfn);

/* A page source over this allocator (real memory only; otherwise NULL). */
struct mm_page_source mm_bitmap_alloc_page_source(struct mm_bitmap_alloc *ba);

uint64_t mm_bitmap_alloc_free_pages(struct mm_bitmap_alloc *ba);
unsigned int mm_bitmap_alloc_max_order(const struct mm_bitmap_alloc *ba);

/* The buddy-equivalent free-block histogram: nr_free[o] for o < max_order. */
void mm_bitmap_alloc_free_histogram(struct mm_bitmap_alloc *ba, uint64_t *nr_free);

/* Fragmentation figures in thousandths (see mmkit/fragindex.h). */
int mm_bitmap_alloc_unusable_index(struct mm_bitmap_alloc *ba, unsigned int order);
int mm_bitmap_alloc_extfrag_index(struct mm_bitmap_alloc *ba, unsigned int order);

/* The two debugfs-style lines ("unusable_index" and "extfrag_index" layouts,
 * zone name "bitmap"); snprintf semantics. */
size_t mm_bitmap_alloc_show_frag(struct mm_bitmap_alloc *ba, char *buf, size_t size);

/* Every invariant: reserved and padding bits set, each allocated block's
 * bits set and blocks disjoint, every set bit reserved or inside a block,
 * the free count equal to the clear bits. 0 or -MM_ECORRUPT. */
int mm_bitmap_alloc_check(struct mm_bitmap_alloc *ba);

#endif /* MMKIT_BITMAP_ALLOC_H */
