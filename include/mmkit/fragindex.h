/* mmkit/fragindex.h — Linux's external-fragmentation figures (mm/vmstat.c).
 *
 * Both work from a histogram nr_free[o] = number of free blocks of order o
 * (o < nr_orders), as the buddy allocator keeps it; the bitmap allocator
 * builds the same histogram from its free runs (see bitmap_alloc.h).
 * For a request of 2^j pages:
 *   free_pages      = sum nr_free[o] << o
 *   blocks_total    = sum nr_free[o]
 *   blocks_suitable = sum over o >= j of nr_free[o] << (o - j)
 *
 * Unusable free space index (Gorman & Whysocki 2008; unusable_free_index):
 *   (free_pages - (blocks_suitable << j)) / free_pages, 1 when nothing is
 *   free. 0 = every free page usable for the request, 1 = none usable.
 * Fragmentation index (__fragmentation_index), meaningful only when the
 * request would fail:
 *   0 when nothing is free; -1 ("not applicable") when a suitable block
 *   exists; else 1 - (1 + free_pages / 2^j) / blocks_total. Near 0 = the
 *   request fails for lack of memory, near 1 = because of fragmentation.
 *
 * Values are returned in thousandths with Linux's integer arithmetic, so
 * they print exactly as the kernel prints them.
 */
#ifndef MMKIT_FRAGINDEX_H
#define MMKIT_FRAGINDEX_H

#include <stddef.h>
#include <stdint.h>

/* Orders at or above this give unusable 1000 and fragmentation 0 (as
 * Linux's __fragmentation_index does above MAX_PAGE_ORDER). */
#define MM_FRAG_ORDER_LIMIT 32

struct mm_contig_info {
	uint64_t free_pages;
	uint64_t free_blocks_total;
	uint64_t free_blocks_suitable;
};

/* Linux's fill_contig_page_info() over a histogram. */
void mm_fill_contig_info(const uint64_t *nr_free, unsigned int nr_orders,
			 unsigned int suitable_order, struct mm_contig_info *info);

/* In thousandths: 0..1000. */
int mm_unusable_free_index(unsigned int order, const struct mm_contig_info *info);

/* In thousandths: -1000 (a suitable block exists) or 0..1000. */
int mm_fragmentation_index(unsigned int order, const struct mm_contig_info *info);

#endif /* MMKIT_FRAGINDEX_H */
