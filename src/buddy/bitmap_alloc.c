/* bitmap_alloc.c — seed 001's bitmap page allocator.
 *
 * Algorithm: one bit per page, 1 = used. alloc(order) looks for 2^order clear
 * bits starting at a multiple of 2^order with mm_bitmap_find_next_zero_area
 * (a word at a time: find the next clear bit, align it, look for a set bit in
 * the window, restart past it). Next-fit (default): the search starts where
 * the previous allocation ended and wraps around once; first-fit starts at 0.
 * free() clears the bits.
 * Cost: alloc O(n / 64 + set bits skipped) worst case, next-fit typically
 * much less; free O(2^order / 64). No per-order lists, no merging.
 * Fragmentation: free space is never coalesced explicitly (clear bits are
 * contiguous by construction), but first/next-fit place blocks anywhere an
 * aligned run fits, so large runs are cut by small allocations more often
 * than the buddy allocator's smallest-block-first policy does; next-fit
 * spreads allocations over the whole range (Knuth TAOCP 2.5 discusses both).
 *
 * The bitmap is indexed from `base` = start_pfn rounded down to the largest
 * block, so bit alignment equals PFN alignment; the padding bits below
 * start_pfn are permanently set.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/bitmap.h"
#include "mmkit/bitmap_alloc.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/fragindex.h"

/* Invariants: used ⊇ reserved; every head bit starts a block of 2^order[i]
 * set bits; blocks are disjoint and hold no reserved bit; nr_free = clear
 * bits of used. All fields below `lock` are protected by it. */
struct mm_bitmap_alloc {
	pthread_mutex_t lock;
	uint64_t base;          /* PFN of bit 0 (aligned to the largest block) */
	uint64_t start_pfn, end_pfn;
	size_t nbits;           /* end_pfn - base */
	char *mem_base;         /* address of start_pfn, or NULL */
	unsigned int max_order;
	bool first_fit;
	uint64_t *used;         /* 1 = allocated, reserved or padding */
	uint64_t *reserved;     /* 1 = reserved or padding */
	uint64_t *heads;        /* 1 = first page of an allocated block */
	uint8_t *order;         /* order of the block at each head bit */
	size_t cursor;          /* next-fit: where the next search starts */
	uint64_t nr_free;       /* clear bits */
	uint64_t nr_reserved;   /* reserved pages inside [start, end) */
};

void mm_bitmap_alloc_config_init(struct mm_bitmap_alloc_config *cfg, uint64_t start_pfn,
				 uint64_t nr_pages)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->start_pfn = start_pfn;
	cfg->nr_pages = nr_pages;
	cfg->max_order = MM_MAX_ORDER_DEFAULT;
}

int mm_bitmap_alloc_create(const struct mm_bitmap_alloc_config *cfg, struct mm_bitmap_alloc **out)
{
	unsigned int max_order = cfg->max_order ? cfg->max_order : MM_MAX_ORDER_DEFAULT;
	if (!cfg->nr_pages || max_order > MM_MAX_ORDER_LIMIT ||
	    cfg->start_pfn + cfg->nr_pages < cfg->start_pfn)
		return -MM_EINVAL;
	uint64_t blk = 1ULL << (max_order - 1);
	if (cfg->mem_base && (((uintptr_t)cfg->mem_base & (MM_PAGE_SIZE - 1)) ||
			      ((((uint64_t)(uintptr_t)cfg->mem_base >> MM_PAGE_SHIFT) -
				cfg->start_pfn) & (blk - 1))))
		return -MM_EINVAL;
	if (cfg->nr_reserved && !cfg->reserved)
		return -MM_EINVAL;
	for (size_t i = 0; i < cfg->nr_reserved; i++) {
		const struct mm_pfn_range *r = &cfg->reserved[i];
		if (r->start < cfg->start_pfn || r->start + r->nr < r->start ||
		    r->start + r->nr > cfg->start_pfn + cfg->nr_pages)
			return -MM_EINVAL;
	}
	struct mm_bitmap_alloc *ba = calloc(1, sizeof(*ba));
	if (!ba)
		return -MM_ENOMEM;
	ba->base = cfg->start_pfn & ~(blk - 1);
	ba->start_pfn = cfg->start_pfn;
	ba->end_pfn = cfg->start_pfn + cfg->nr_pages;
	ba->nbits = (size_t)(ba->end_pfn - ba->base);
	ba->mem_base = cfg->mem_base;
	ba->max_order = max_order;
	ba->first_fit = cfg->first_fit;
	size_t words = MM_BITMAP_WORDS(ba->nbits);
	ba->used = calloc(words, sizeof(uint64_t));
	ba->reserved = calloc(words, sizeof(uint64_t));
	ba->heads = calloc(words, sizeof(uint64_t));
	ba->order = calloc(ba->nbits, 1);
	if (!ba->used || !ba->reserved || !ba->heads || !ba->order) {
		mm_bitmap_alloc_destroy(ba);
		return -MM_ENOMEM;
	}
	pthread_mutex_init(&ba->lock, NULL);
	size_t pad = (size_t)(ba->start_pfn - ba->base);
	mm_bitmap_set_range(ba->reserved, 0, pad);
	for (size_t i = 0; i < cfg->nr_reserved; i++)
		mm_bitmap_set_range(ba->reserved, (size_t)(cfg->reserved[i].start - ba->base),
				    (size_t)cfg->reserved[i].nr);
	memcpy(ba->used, ba->reserved, words * sizeof(uint64_t));
	ba->nr_reserved = mm_bitmap_weight(ba->reserved, ba->nbits) - pad;
	ba->nr_free = ba->nbits - mm_bitmap_weight(ba->used, ba->nbits);
	ba->cursor = pad;
	*out = ba;
	return 0;
}

void mm_bitmap_alloc_destroy(struct mm_bitmap_alloc *ba)
{
	if (!ba)
		return;
	if (ba->used && ba->reserved && ba->heads && ba->order)
		pthread_mutex_destroy(&ba->lock);
	free(ba->used);
	free(ba->reserved);
	free(ba->heads);
	free(ba->order);
	free(ba);
}

int mm_bitmap_alloc_pages(struct mm_bitmap_alloc *ba, unsigned int order, uint64_t *pfn)
{
	if (order >= ba->max_order)
		return -MM_EINVAL;
	size_t len = (size_t)1 << order;
	pthread_mutex_lock(&ba->lock);
	if (ba->nr_free < len) {
		pthread_mutex_unlock(&ba->lock);
		return -MM_ENOMEM;
	}
	size_t from = ba->first_fit ? 0 : ba->cursor;
	size_t i = mm_bitmap_find_next_zero_area(ba->used, ba->nbits, from, len, len);
	if (i >= ba->nbits && from > 0) {
		/* next-fit wraps around once: runs that start before `from` */
		size_t limit = MM_MIN(ba->nbits, from + len - 1);
		i = mm_bitmap_find_next_zero_area(ba->used, limit, 0, len, len);
		if (i >= limit)
			i = ba->nbits;
	}
	if (i >= ba->nbits || i + len > ba->nbits) {
		pthread_mutex_unlock(&ba->lock);
		return -MM_ENOMEM;
	}
	mm_bitmap_set_range(ba->used, i, len);
	mm_bit_set(ba->heads, i);
	ba->order[i] = (uint8_t)order;
	ba->nr_free -= len;
	ba->cursor = i + len < ba->nbits ? i + len : 0;
	pthread_mutex_unlock(&ba->lock);
	*pfn = ba->base + i;
	return 0;
}

void mm_bitmap_free_pages(struct mm_bitmap_alloc *ba, uint64_t pfn, unsigned int order)
{
	if (pfn < ba->start_pfn || pfn >= ba->end_pfn || order >= ba->max_order)
		MM_PANIC("mm_bitmap_free_pages: pfn %llu order %u is not managed here",
			 (unsigned long long)pfn, order);
	size_t i = (size_t)(pfn - ba->base), len = (size_t)1 << order;
	pthread_mutex_lock(&ba->lock);
	if (!mm_bit_test(ba->heads, i))
		MM_PANIC("mm_bitmap_free_pages: double free or not a block (pfn %llu)",
			 (unsigned long long)pfn);
	if (ba->order[i] != order)
		MM_PANIC("mm_bitmap_free_pages: pfn %llu freed with order %u, allocated with %u",
			 (unsigned long long)pfn, order, ba->order[i]);
	mm_bit_clear(ba->heads, i);
	mm_bitmap_clear_range(ba->used, i, len);
	ba->nr_free += len;
	pthread_mutex_unlock(&ba->lock);
}

void *mm_bitmap_alloc_pfn_address(const struct mm_bitmap_alloc *ba, uint64_t pfn)
{
	if (!ba->mem_base || pfn < ba->start_pfn || pfn >= ba->end_pfn)
		return NULL;
	return ba->mem_base + ((size_t)(pfn - ba->start_pfn) << MM_PAGE_SHIFT);
}

uint64_t mm_bitmap_alloc_free_pages(struct mm_bitmap_alloc *ba)
{
	pthread_mutex_lock(&ba->lock);
	uint64_t n = ba->nr_free;
	pthread_mutex_unlock(&ba->lock);
	return n;
}

unsigned int mm_bitmap_alloc_max_order(const struct mm_bitmap_alloc *ba)
{
	return ba->max_order;
}

/* ---- page source --------------------------------------------------------------------- */

static void *ps_alloc(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	struct mm_bitmap_alloc *ba = ctx;
	uint64_t pfn;
	if (!ba->mem_base || mm_bitmap_alloc_pages(ba, order, &pfn))
		return NULL;
	void *a = mm_bitmap_alloc_pfn_address(ba, pfn);
	if (gfp & MM_GFP_ZERO)
		memset(a, 0, MM_PAGE_SIZE << order);
	return a;
}

static void ps_free(void *ctx, void *addr, unsigned int order)
{
	struct mm_bitmap_alloc *ba = ctx;
	if (!ba->mem_base || (char *)addr < ba->mem_base)
		MM_PANIC("bitmap page source: %p is not ours", addr);
	mm_bitmap_free_pages(ba, ba->start_pfn + ((uint64_t)((char *)addr - ba->mem_base) >> MM_PAGE_SHIFT),
			     order);
}

static const struct mm_page_source_ops bitmap_ps_ops = {
	.name = "bitmap",
	.alloc_pages = ps_alloc,
	.free_pages = ps_free,
};

struct mm_page_source mm_bitmap_alloc_page_source(struct mm_bitmap_alloc *ba)
{
	struct mm_page_source ps = { &bitmap_ps_ops, ba };
	return ps;
}

/* ---- fragmentation figures ----------------------------------------------------------- */

static void histogram_locked(struct mm_bitmap_alloc *ba, uint64_t *nr_free)
{
	for (unsigned int o = 0; o < ba->max_order; o++)
		nr_free[o] = 0;
	size_t i = 0;
	while ((i = mm_bitmap_find_next_zero_bit(ba->used, ba->nbits, i)) < ba->nbits) {
		size_t e = mm_bitmap_find_next_bit(ba->used, ba->nbits, i);
		/* cut [i, e) into the largest aligned blocks */
		while (i < e) {
			unsigned int o = ba->max_order - 1;
			while (o && ((i & (((size_t)1 << o) - 1)) || i + ((size_t)1 << o) > e))
				o--;
			nr_free[o]++;
			i += (size_t)1 << o;
		}
	}
}

void mm_bitmap_alloc_free_histogram(struct mm_bitmap_alloc *ba, uint64_t *nr_free)
{
	pthread_mutex_lock(&ba->lock);
	histogram_locked(ba, nr_free);
	pthread_mutex_unlock(&ba->lock);
}

static void contig_info(struct mm_bitmap_alloc *ba, unsigned int order, struct mm_contig_info *info)
{
	uint64_t h[MM_MAX_ORDER_LIMIT];
	mm_bitmap_alloc_free_histogram(ba, h);
	mm_fill_contig_info(h, ba->max_order, order, info);
}

int mm_bitmap_alloc_unusable_index(struct mm_bitmap_alloc *ba, unsigned int order)
{
	struct mm_contig_info info;
	contig_info(ba, order, &info);
	return mm_unusable_free_index(order, &info);
}

int mm_bitmap_alloc_extfrag_index(struct mm_bitmap_alloc *ba, unsigned int order)
{
	struct mm_contig_info info;
	contig_info(ba, order, &info);
	return mm_fragmentation_index(order, &info);
}

MM_PRINTF(4, 5)
static size_t appendf(char *buf, size_t size, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = len < size ? size - len : 0;
	int n = vsnprintf(room ? buf + len : NULL, room, fmt, ap);
	va_end(ap);
	return n > 0 ? len + (size_t)n : len;
}

size_t mm_bitmap_alloc_show_frag(struct mm_bitmap_alloc *ba, char *buf, size_t size)
{
	uint64_t h[MM_MAX_ORDER_LIMIT];
	size_t len = 0;
	if (size)
		buf[0] = '\0';
	mm_bitmap_alloc_free_histogram(ba, h);
	for (int pass = 0; pass < 2; pass++) {
		len = appendf(buf, size, len, "Node 0, zone %8s ", "bitmap");
		for (unsigned int o = 0; o < ba->max_order; o++) {
			struct mm_contig_info info;
			mm_fill_contig_info(h, ba->max_order, o, &info);
			if (pass == 0) {
				int idx = mm_unusable_free_index(o, &info);
				len = appendf(buf, size, len, "%d.%03d ", idx / 1000, idx % 1000);
			} else {
				int idx = mm_fragmentation_index(o, &info);
				len = appendf(buf, size, len, "%2d.%03d ", idx / 1000,
					      (idx < 0 ? -idx : idx) % 1000);
			}
		}
		len = appendf(buf, size, len, "\n");
	}
	return len;
}

/* ---- check ------------------------------------------------------------------------------ */

static int bcorrupt(const char *what, size_t i)
{
	fprintf(stderr, "mm_bitmap_alloc_check: %s (bit %zu)\n", what, i);
	return -MM_ECORRUPT;
}

int mm_bitmap_alloc_check(struct mm_bitmap_alloc *ba)
{
	int err = 0;
	pthread_mutex_lock(&ba->lock);
	size_t pad = (size_t)(ba->start_pfn - ba->base);
	size_t words = MM_BITMAP_WORDS(ba->nbits);
	uint64_t covered_pages = 0;
	if (!mm_bitmap_range_is_set(ba->reserved, 0, pad))
		err = bcorrupt("padding below start_pfn not reserved", 0);
	for (size_t w = 0; w < words && !err; w++)
		if ((ba->used[w] & ba->reserved[w]) != ba->reserved[w])
			err = bcorrupt("reserved page not marked used", w * 64);
	/* walk the blocks in order: each fully set, disjoint, no reserved bit */
	size_t next_free = 0; /* first bit not covered by the previous block */
	for (size_t i = 0; !err && (i = mm_bitmap_find_next_bit(ba->heads, ba->nbits, i)) < ba->nbits;) {
		size_t len = (size_t)1 << ba->order[i];
		if (ba->order[i] >= ba->max_order || i + len > ba->nbits || (i & (len - 1)))
			err = bcorrupt("block order or alignment wrong", i);
		else if (i < next_free)
			err = bcorrupt("blocks overlap", i);
		else if (!mm_bitmap_range_is_set(ba->used, i, len))
			err = bcorrupt("allocated block has clear bits", i);
		else if (!mm_bitmap_range_is_clear(ba->reserved, i, len))
			err = bcorrupt("allocated block covers a reserved page", i);
		else if (mm_bitmap_find_next_bit(ba->heads, i + len, i + 1) < i + len)
			err = bcorrupt("a block head inside another block", i);
		covered_pages += len;
		next_free = i + len;
		i += len;
	}
	uint64_t used = mm_bitmap_weight(ba->used, ba->nbits);
	uint64_t reserved = mm_bitmap_weight(ba->reserved, ba->nbits);
	if (!err && used != reserved + covered_pages)
		err = bcorrupt("set bits are neither reserved nor allocated", 0);
	if (!err && ba->nr_free != ba->nbits - used)
		err = bcorrupt("free count disagrees with the bitmap", 0);
	if (!err && reserved - pad != ba->nr_reserved)
		err = bcorrupt("reserved count changed", 0);
	pthread_mutex_unlock(&ba->lock);
	return err;
}
