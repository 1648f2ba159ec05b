/* fragindex.c — Linux's unusable free space index and fragmentation index
 * (mm/vmstat.c: fill_contig_page_info, unusable_free_index,
 * __fragmentation_index), over a free-block histogram. */
#include "mmkit/fragindex.h"

void mm_fill_contig_info(const uint64_t *nr_free, unsigned int nr_orders,
			 unsigned int suitable_order, struct mm_contig_info *info)
{
	info->free_pages = 0;
	info->free_blocks_total = 0;
	info->free_blocks_suitable = 0;
	for (unsigned int o = 0; o < nr_orders; o++) {
		uint64_t blocks = nr_free[o];
		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= suitable_order)
			info->free_blocks_suitable += blocks << (o - suitable_order);
	}
}

int mm_unusable_free_index(unsigned int order, const struct mm_contig_info *info)
{
	/* no free memory: all of it is "unusable"; nor can any of it serve a
	 * request larger than any order (and 2^order would overflow) */
	if (info->free_pages == 0 || order >= MM_FRAG_ORDER_LIMIT)
		return 1000;
	return (int)((info->free_pages - (info->free_blocks_suitable << order)) * 1000ULL /
		     info->free_pages);
}

int mm_fragmentation_index(unsigned int order, const struct mm_contig_info *info)
{
	/* Linux returns 0 for an order above MAX_PAGE_ORDER (with a warning) */
	if (order >= MM_FRAG_ORDER_LIMIT || !info->free_blocks_total)
		return 0;
	uint64_t requested = 1ULL << order;
	/* only meaningful when the request would fail */
	if (info->free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + info->free_pages * 1000ULL / requested) /
			    info->free_blocks_total);
}
