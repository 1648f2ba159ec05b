/* buddy.c — creating and destroying a buddy allocator, late reserves,
 * descriptor/address conversions, queries and the page source.
 *
 * Creation follows Linux's boot: descriptors for every PFN (memmap_init, all
 * pageblocks movable), reserved ranges marked (memblock), zones spanned by
 * physical address, every other page freed as the largest aligned blocks
 * (memblock_free_all), then watermarks and per-thread cache sizes.
 * Cost: O(nr_pages) for creation; the rest O(1) except mm_buddy_reserve
 * (O(nr * max_order) plus draining the caches).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmkit/error.h"
#include "buddy_internal.h"

_Static_assert(sizeof(void *) != 8 || sizeof(struct mm_page) == 56,
	       "struct mm_page is documented as 56 bytes on 64-bit hosts");

/* ---- creation ---------------------------------------------------------------------- */

void mm_buddy_config_init(struct mm_buddy_config *cfg, uint64_t start_pfn, uint64_t nr_pages)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->start_pfn = start_pfn;
	cfg->nr_pages = nr_pages;
	cfg->max_order = MM_MAX_ORDER_DEFAULT;
}

static int validate_config(const struct mm_buddy_config *cfg, unsigned int max_order)
{
	if (cfg->nr_pages == 0 || max_order < 1 || max_order > MM_MAX_ORDER_LIMIT)
		return -MM_EINVAL;
	if (cfg->start_pfn + cfg->nr_pages < cfg->start_pfn ||
	    cfg->start_pfn + cfg->nr_pages > (UINT64_MAX >> MM_PAGE_SHIFT))
		return -MM_EINVAL;
	if (cfg->nr_reserved && !cfg->reserved)
		return -MM_EINVAL;
	for (size_t i = 0; i < cfg->nr_reserved; i++) {
		const struct mm_pfn_range *r = &cfg->reserved[i];
		if (r->start < cfg->start_pfn || r->start + r->nr < r->start ||
		    r->start + r->nr > cfg->start_pfn + cfg->nr_pages)
			return -MM_EINVAL;
	}
	if (cfg->mem_base) {
		uintptr_t a = (uintptr_t)cfg->mem_base;
		uint64_t blk = 1ULL << (max_order - 1);
		if (a & (MM_PAGE_SIZE - 1))
			return -MM_EINVAL;
		if ((((uint64_t)a >> MM_PAGE_SHIFT) - cfg->start_pfn) & (blk - 1))
			return -MM_EINVAL;
	}
	if (cfg->pcp_high && cfg->pcp_batch && cfg->pcp_high < cfg->pcp_batch)
		return -MM_EINVAL;
	/* the caches count in int; 6 * batch must fit too */
	if (cfg->pcp_batch > MM_PCP_LIMIT || cfg->pcp_high > MM_PCP_LIMIT)
		return -MM_EINVAL;
	return 0;
}

/* Put every non-reserved page of [s, e) (one zone) on the free lists as the
 * largest aligned blocks (Linux's memblock_free_all -> __free_pages_core). */
static void free_range_init(struct mm_zone *z, uint64_t s, uint64_t e)
{
	struct mm_buddy *b = z->b;
	while (s < e) {
		unsigned int order = b->max_order - 1;
		while (order && ((s & ((1ULL << order) - 1)) || s + (1ULL << order) > e))
			order--;
		__mm_free_one_page(z, s, order, pageblock_mt(b, s));
		s += 1ULL << order;
	}
}

int mm_buddy_create(const struct mm_buddy_config *cfg, struct mm_buddy **out)
{
	unsigned int max_order = cfg->max_order ? cfg->max_order : MM_MAX_ORDER_DEFAULT;
	int err = validate_config(cfg, max_order);
	if (err)
		return err;

	struct mm_buddy *b = calloc(1, sizeof(*b));
	if (!b)
		return -MM_ENOMEM;
	b->start_pfn = cfg->start_pfn;
	b->end_pfn = cfg->start_pfn + cfg->nr_pages;
	b->mem_base = cfg->mem_base;
	b->max_order = max_order;
	b->pageblock_order = MM_MIN(MM_PAGEBLOCK_ORDER, max_order - 1);
	b->zones_on = cfg->zones;
	b->layout = cfg->zone_layout;
	b->pcp_on = !cfg->no_pcp;
	b->enforce_wmark = !cfg->ignore_watermarks;
	b->node_id = cfg->node_id;
	mm_list_init(&b->pcp_sets);

	b->memmap = calloc(cfg->nr_pages, sizeof(struct mm_page));
	b->pb_first = b->start_pfn >> b->pageblock_order;
	uint64_t nr_pb = ((b->end_pfn - 1) >> b->pageblock_order) - b->pb_first + 1;
	b->pb_mt = malloc(nr_pb);
	if (!b->memmap || !b->pb_mt) {
		free(b->memmap);
		free((void *)(uintptr_t)b->pb_mt);
		free(b);
		return -MM_ENOMEM;
	}
	/* Linux's memmap_init: every pageblock starts movable. */
	for (uint64_t i = 0; i < nr_pb; i++)
		atomic_init(&b->pb_mt[i], MM_MIGRATE_MOVABLE);

	static const unsigned int default_ratio[MM_NR_ZONES] = { 256, 256, 32, 0 };
	bool any_ratio = false;
	for (int i = 0; i < MM_NR_ZONES; i++)
		any_ratio |= cfg->lowmem_reserve_ratio[i] != 0;
	for (int i = 0; i < MM_NR_ZONES; i++)
		b->lowmem_ratio[i] = any_ratio ? cfg->lowmem_reserve_ratio[i] : default_ratio[i];

	/* zones: spans, descriptors, reserved pages */
	__mm_zones_init(b);
	for (uint64_t pfn = b->start_pfn; pfn < b->end_pfn; pfn++) {
		struct mm_page *p = pfn_page(b, pfn);
		mm_list_init(&p->lru);
	}
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn; pfn++)
			pfn_page(b, pfn)->zone = (uint8_t)zi;
	}
	for (size_t i = 0; i < cfg->nr_reserved; i++) {
		const struct mm_pfn_range *r = &cfg->reserved[i];
		for (uint64_t pfn = r->start; pfn < r->start + r->nr; pfn++) {
			struct mm_page *p = pfn_page(b, pfn);
			if (pg_state(p) != MM_PAGE_RESERVED) {
				set_pg_state(p, MM_PAGE_RESERVED);
				b->zones[p->zone].reserved++;
			}
		}
	}
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		z->managed = z->present - z->reserved;
		uint64_t s = z->start_pfn;
		while (s < z->end_pfn) {
			while (s < z->end_pfn && pg_state(pfn_page(b, s)) == MM_PAGE_RESERVED)
				s++;
			uint64_t e = s;
			while (e < z->end_pfn && pg_state(pfn_page(b, e)) != MM_PAGE_RESERVED)
				e++;
			free_range_init(z, s, e);
			s = e;
		}
	}
	/* gfp -> preferred zone: the highest populated zone at or below the
	 * cap. Using it as the classzone gives the same lowmem_reserve as
	 * Linux's gfp_zone() cap, since empty zones add nothing to it. */
	for (unsigned int g = 0; g < 8; g++) {
		enum mm_zone_type h = (g & MM_GFP_HIGHMEM) ? MM_ZONE_HIGHMEM : MM_ZONE_NORMAL;
		if (b->zones_on) {
			if (g & MM_GFP_DMA)
				h = MM_ZONE_DMA;
			else if ((g & MM_GFP_DMA32) && b->layout == MM_ZONES_X86_32)
				h = MM_ZONE_NORMAL; /* no DMA32 on 32-bit: all of lowmem is < 4 GiB */
			else if (g & MM_GFP_DMA32)
				h = MM_ZONE_DMA32;
		}
		while (h > MM_ZONE_DMA && !b->zones[h].present)
			h--;
		b->gfp_zone[g] = h;
	}
	b->cfg_min_free_kbytes = cfg->min_free_kbytes;
	b->cfg_wsf = cfg->watermark_scale_factor;
	mm_buddy_setup_watermarks(b, cfg->min_free_kbytes, cfg->watermark_scale_factor);
	/* per-thread cache sizes: Linux's zone_batchsize(), high = 6 * batch */
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		uint64_t batch = MM_MIN(z->managed >> 10, (1ULL << 20) / MM_PAGE_SIZE);
		batch /= 4;
		if (batch < 1)
			batch = 1;
		uint64_t x = batch + batch / 2, p2 = 1;
		while (p2 * 2 <= x)
			p2 *= 2;
		batch = p2 - 1;
		if (batch < 1)
			batch = 1;
		if (cfg->pcp_batch)
			batch = cfg->pcp_batch;
		z->pcp_batch = (unsigned int)batch;
		z->pcp_high = cfg->pcp_high ? cfg->pcp_high : 6 * z->pcp_batch;
		if (z->pcp_high < z->pcp_batch)
			z->pcp_high = z->pcp_batch;
	}
	if (b->pcp_on)
		__mm_pcp_global_init();
	b->id = __mm_buddy_next_id();
	*out = b;
	return 0;
}

/* The smallest power of two >= n (n >= 1), or 0 if it does not fit. */
static size_t pow2_cover(size_t n)
{
	size_t a = 1;
	while (a < n) {
		if (a > SIZE_MAX / 2)
			return 0;
		a *= 2;
	}
	return a;
}

/* Map [want, want + len) of a block of `align` bytes (a power of two) at an
 * address aligned to `align`: reserve the block plus slack with no access
 * (not committed), map the part wanted over it and unmap the rest. Returns
 * the address of `want`'s byte, or NULL when the host has not the address
 * space to spare. */
static char *map_aligned(size_t align, size_t want, size_t len)
{
	if (align > SIZE_MAX - want - len)
		return NULL;
	size_t rlen = align + want + len;
	char *r = mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	char *base = (char *)MM_ALIGN_UP((uintptr_t)r, (uintptr_t)align) + want;
	char *p = mmap(base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		       -1, 0);
	if (p != base) {
		munmap(r, rlen);
		return NULL;
	}
	if (base > r)
		munmap(r, (size_t)(base - r));
	if (base + len < r + rlen)
		munmap(base + len, (size_t)(r + rlen - (base + len)));
	return base;
}

int mm_buddy_create_mmap(const struct mm_buddy_config *cfg, struct mm_buddy **out)
{
	unsigned int max_order = cfg->max_order ? cfg->max_order : MM_MAX_ORDER_DEFAULT;
	if (cfg->nr_pages == 0 || max_order < 1 || max_order > MM_MAX_ORDER_LIMIT ||
	    cfg->nr_pages > (SIZE_MAX >> (MM_PAGE_SHIFT + 1)))
		return -MM_EINVAL;
	size_t blk = MM_PAGE_SIZE << (max_order - 1);
	size_t len = cfg->nr_pages << MM_PAGE_SHIFT;
	/* start_pfn's page must sit at an address congruent to start_pfn
	 * modulo the largest block. Beyond that, the memory goes at an
	 * address aligned to the power of two covering the block-aligned
	 * range (want + len): its offset from every power-of-two boundary of
	 * the host's address space is then the same on every run, whatever
	 * address the host would pick (ASLR). Structures keyed by host
	 * address over it take the same shape every run: the slab's page map,
	 * a radix tree over the host page number, takes a node per 2 MiB,
	 * 1 GiB and 512 GiB range its slabs touch, so at a random address the
	 * 32 MiB of `mmsim demo` straddled a 1 GiB boundary about once in 30
	 * runs and a slab there cost one more page of the simulated RAM (272
	 * pages swapped out instead of 271). Only a host short of address
	 * space gets the old placement (aligned to the largest block). */
	uint64_t want = (cfg->start_pfn << MM_PAGE_SHIFT) & (blk - 1);
	size_t cover = pow2_cover((size_t)want + len);
	char *map = NULL, *base = NULL;
	size_t map_len = 0;
	if (cover) {
		base = map_aligned(MM_MAX(cover, blk), (size_t)want, len);
		map = base;
		map_len = len;
	}
	if (!base) {
		size_t span = len + blk;
		char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -MM_ENOMEM;
		uintptr_t b = MM_ALIGN_DOWN((uintptr_t)p, blk) + want;
		if (b < (uintptr_t)p)
			b += blk;
		base = (char *)b;
		map = p;
		map_len = span;
	}
	struct mm_buddy_config c = *cfg;
	c.mem_base = base;
	int err = mm_buddy_create(&c, out);
	if (err) {
		munmap(map, map_len);
		return err;
	}
	(*out)->map_addr = map;
	(*out)->map_len = map_len;
	return 0;
}

void mm_buddy_destroy(struct mm_buddy *b)
{
	if (!b)
		return;
	if (b->pcp_on)
		__mm_pcp_destroy_all(b);
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		pthread_mutex_destroy(&b->zones[zi].lock);
	if (b->map_addr)
		munmap(b->map_addr, b->map_len);
	free(b->memmap);
	free((void *)(uintptr_t)b->pb_mt);
	free(b);
}

/* ---- late reserve ------------------------------------------------------------------------ */

int mm_buddy_reserve(struct mm_buddy *b, uint64_t pfn, uint64_t nr)
{
	if (nr == 0 || pfn < b->start_pfn || pfn + nr < pfn || pfn + nr > b->end_pfn)
		return -MM_EINVAL;
	int err = 0;
	__mm_pcp_freeze(b);
	__mm_pcp_drain_frozen(b);
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		zone_lock(&b->zones[zi]);
	/* all or nothing: every page must be free or already reserved */
	for (uint64_t p = pfn; p < pfn + nr && !err; p++) {
		struct mm_page *pg = pfn_page(b, p);
		unsigned int o;
		if (pg_state(pg) != MM_PAGE_RESERVED &&
		    __mm_free_block_of(&b->zones[pg->zone], p, &o) == UINT64_MAX)
			err = -MM_EBUSY;
	}
	if (!err) {
		for (uint64_t p = pfn; p < pfn + nr; p++) {
			struct mm_page *pg = pfn_page(b, p);
			struct mm_zone *z = &b->zones[pg->zone];
			if (pg_state(pg) == MM_PAGE_RESERVED)
				continue;
			MM_BUG_ON(!__mm_take_page_off_buddy(z, p));
			set_pg_state(pg, MM_PAGE_RESERVED);
			z->reserved++;
			z->managed--;
		}
	}
	for (int zi = MM_NR_ZONES - 1; zi >= 0; zi--)
		zone_unlock(&b->zones[zi]);
	__mm_pcp_thaw(b);
	if (!err)
		mm_buddy_setup_watermarks(b, b->cfg_min_free_kbytes, b->cfg_wsf);
	return err;
}

/* ---- descriptors and addresses ----------------------------------------------------------- */

uint64_t mm_page_to_pfn(const struct mm_buddy *b, const struct mm_page *page)
{
	return page_pfn(b, page);
}

struct mm_page *mm_pfn_to_page(const struct mm_buddy *b, uint64_t pfn)
{
	return pfn_valid(b, pfn) ? pfn_page(b, pfn) : NULL;
}

void *mm_page_address(const struct mm_buddy *b, const struct mm_page *page)
{
	if (!b->mem_base)
		return NULL;
	return b->mem_base + ((size_t)(page - b->memmap) << MM_PAGE_SHIFT);
}

struct mm_page *mm_virt_to_page(const struct mm_buddy *b, const void *addr)
{
	if (!b->mem_base)
		return NULL;
	const char *a = addr;
	if (a < b->mem_base)
		return NULL;
	uint64_t idx = (uint64_t)(a - b->mem_base) >> MM_PAGE_SHIFT;
	if (idx >= b->end_pfn - b->start_pfn)
		return NULL;
	return &b->memmap[idx];
}

/* ---- queries -------------------------------------------------------------------------------- */

uint64_t mm_buddy_start_pfn(const struct mm_buddy *b)
{
	return b->start_pfn;
}

uint64_t mm_buddy_nr_pages(const struct mm_buddy *b)
{
	return b->end_pfn - b->start_pfn;
}

unsigned int mm_buddy_max_order(const struct mm_buddy *b)
{
	return b->max_order;
}

unsigned int mm_buddy_pageblock_order(const struct mm_buddy *b)
{
	return b->pageblock_order;
}

uint64_t mm_buddy_free_pages(const struct mm_buddy *b)
{
	uint64_t n = 0;
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		n += zone_free(&b->zones[zi]);
	return n;
}

uint64_t mm_buddy_reserved_pages(const struct mm_buddy *b)
{
	uint64_t n = 0;
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		n += b->zones[zi].reserved;
	return n;
}

int mm_buddy_pageblock_migratetype(const struct mm_buddy *b, uint64_t pfn)
{
	if (!pfn_valid(b, pfn))
		return -MM_EINVAL;
	return pageblock_mt(b, pfn);
}

/* ---- page source ------------------------------------------------------------------------------ */

static void *ps_alloc(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	return mm_get_free_pages(ctx, gfp, order);
}

static void ps_free(void *ctx, void *addr, unsigned int order)
{
	mm_free_pages_addr(ctx, addr, order);
}

static const struct mm_page_source_ops buddy_ps_ops = {
	.name = "buddy",
	.alloc_pages = ps_alloc,
	.free_pages = ps_free,
};

struct mm_page_source mm_buddy_page_source(struct mm_buddy *b)
{
	struct mm_page_source ps = { &buddy_ps_ops, b };
	return ps;
}
