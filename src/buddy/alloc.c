/* alloc.c — mm_alloc_pages / mm_free_pages: the entry points.
 *
 * mm_alloc_pages walks the zonelist from the preferred zone (the highest
 * populated zone the gfp mask allows) down to DMA, as Linux's
 * get_page_from_freelist does: for each zone it checks the min watermark
 * (+ lowmem_reserve) and takes a block, order-0 pages from the calling
 * thread's cache, larger ones from the zone's free lists under the zone lock.
 * The order-0 cache hit is inlined in mm_alloc_pages / mm_free_pages (no
 * lock, no atomic read-modify-write); everything else is in the non-inlined
 * slow paths.
 * Cost: O(1) on the cache path; a mutex + O(max_order) list operations
 * otherwise (see core.c for the algorithm).
 */
#include <string.h>

#include "mmkit/error.h"
#include "buddy_internal.h"

/* ---- allocation ---------------------------------------------------------------------- */

/* Order 0 from the thread's cache of zone z; NULL if the cache is locked
 * out or the zone has nothing. */
static struct mm_page *rmqueue_pcp(struct pcp_set *set, struct mm_zone *z, int mt)
{
	if (mm_unlikely(!pcp_enter(set)))
		return NULL;
	struct mm_pcp *pcp = &set->pcp[z->idx];
	struct mm_list *list = &pcp->lists[mt];
	struct mm_page *page = NULL;
	if (mm_unlikely(mm_list_empty(list)))
		__mm_pcp_refill(z, pcp, mt);
	if (mm_likely(!mm_list_empty(list))) {
		page = mm_list_first_entry(list, struct mm_page, lru);
		mm_list_del(&page->lru);
		pcp->count--;
		pcp->ev_alloc++;
		mark_allocated(page, 0, mt);
	}
	pcp_exit(set);
	return page;
}

static struct mm_page *rmqueue_buddy(struct mm_zone *z, unsigned int order, int mt,
				     enum mm_zone_type h, int wclass, bool check)
{
	struct mm_page *page = NULL;
	zone_lock(z);
	if (!check || __mm_watermark_ok(z, order, atomic_load_explicit(&z->wmark[MM_WMARK_MIN],
								      memory_order_relaxed),
					h, wclass, zone_free(z)))
		page = __mm_rmqueue(z, order, mt);
	if (page) {
		mark_allocated(page, order, mt);
		z->ev_alloc += 1ULL << order;
	}
	zone_unlock(z);
	return page;
}

/* Owner fields of a freshly allocated head page. Tail pages are not touched
 * (see page.h): an order-10 block would cost 1024 descriptor writes. */
static inline void prep_head(struct mm_page *page)
{
	page->refcount = 1;
	page->mapcount = 0;
	page->mapping = NULL;
	page->index = 0;
	page->private = 0;
}

static inline void zero_block(struct mm_buddy *b, struct mm_page *page, mm_gfp_t gfp,
			      unsigned int order)
{
	if (mm_unlikely(gfp & MM_GFP_ZERO) && b->mem_base)
		memset(mm_page_address(b, page), 0, MM_PAGE_SIZE << order);
}

/* The general path: every zone of the zonelist, caches and free lists. */
static MM_NOINLINE struct mm_page *alloc_pages_slow(struct mm_buddy *b, mm_gfp_t gfp,
						   unsigned int order)
{
	if (mm_unlikely(order >= b->max_order))
		return NULL;
	enum mm_zone_type h = b->gfp_zone[gfp & (MM_GFP_DMA | MM_GFP_DMA32 | MM_GFP_HIGHMEM)];
	int mt = gfp_migratetype(gfp);
	int wclass = gfp_wclass(gfp);
	struct pcp_set *set = NULL;
	struct mm_page *page = NULL;

	if (order == 0 && b->pcp_on)
		set = pcp_set_get(b);
	for (int zi = (int)h; zi >= 0; zi--) {
		struct mm_zone *z = &b->zones[zi];
		if (!z->present)
			continue;
		if (set) {
			/* order-0 watermark check: one relaxed load */
			if (b->enforce_wmark &&
			    zone_free(z) <= atomic_load_explicit(&z->wmark_fast[h][wclass],
								 memory_order_relaxed))
				continue;
			page = rmqueue_pcp(set, z, mt);
			if (page)
				break;
		}
		page = rmqueue_buddy(z, order, mt, h, wclass, b->enforce_wmark);
		if (page)
			break;
	}
	if (!page) {
		atomic_fetch_add_explicit(&b->ev_alloc_fail, 1, memory_order_relaxed);
		return NULL;
	}
	mm_list_init(&page->lru);
	prep_head(page);
	zero_block(b, page, gfp, order);
	return page;
}

struct mm_page *mm_alloc_pages(struct mm_buddy *b, mm_gfp_t gfp, unsigned int order)
{
	/* Fast path: order 0 from the preferred zone's per-thread cache. */
	if (mm_likely(order == 0 && b->pcp_on)) {
		const struct pcp_slot *slot = &mm_pcp_slots[b->id % PCP_SLOTS];
		enum mm_zone_type h = b->gfp_zone[gfp & (MM_GFP_DMA | MM_GFP_DMA32 | MM_GFP_HIGHMEM)];
		struct mm_zone *z = &b->zones[h];
		if (mm_likely(slot->id == b->id && z->present) &&
		    (!b->enforce_wmark ||
		     zone_free(z) > atomic_load_explicit(&z->wmark_fast[h][gfp_wclass(gfp)],
							 memory_order_relaxed))) {
			struct pcp_set *set = slot->set;
			int mt = gfp_migratetype(gfp);
			struct mm_list *list = &set->pcp[h].lists[mt];
			if (mm_likely(pcp_enter(set))) {
				if (mm_likely(!mm_list_empty(list))) {
					struct mm_page *page = mm_list_first_entry(list, struct mm_page, lru);
					mm_list_del(&page->lru); /* leaves lru self-linked */
					set->pcp[h].count--;
					set->pcp[h].ev_alloc++;
					mark_allocated(page, 0, mt);
					pcp_exit(set);
					prep_head(page);
					zero_block(b, page, gfp, 0);
					return page;
				}
				pcp_exit(set);
			}
		}
	}
	return alloc_pages_slow(b, gfp, order);
}

/* ---- free ------------------------------------------------------------------------------- */

MM_NORETURN static void bad_free(const struct mm_buddy *b, const struct mm_page *page, unsigned int order,
		     const char *why)
{
	mm_panic(__FILE__, __LINE__, "mm_free_pages: %s (pfn %llu, order %u, state %#x, order at alloc %u)",
		 why, (unsigned long long)page_pfn(b, page), order, pg_state(page), page->order);
}

static MM_NOINLINE MM_NORETURN void bad_free_diagnose(const struct mm_buddy *b,
							 const struct mm_page *page,
							 unsigned int order)
{
	if (page < b->memmap || page >= b->memmap + (b->end_pfn - b->start_pfn))
		mm_panic(__FILE__, __LINE__, "mm_free_pages: page %p is not managed by this allocator",
			 (const void *)page);
	unsigned int st = pg_state(page);
	if (st == MM_PAGE_BUDDY || st == MM_PAGE_PCP)
		bad_free(b, page, order, "double free");
	if (st != MM_PAGE_HEAD)
		bad_free(b, page, order, "not the head of an allocated block");
	bad_free(b, page, order, "order differs from the allocation");
}

static MM_NOINLINE void free_pages_slow(struct mm_buddy *b, struct mm_page *page,
					unsigned int order)
{
	uint64_t pfn = page_pfn(b, page);
	struct mm_zone *z = &b->zones[page->zone];
	int mt = pageblock_mt(b, pfn);
	if (order == 0 && b->pcp_on && mt < MM_MIGRATE_PCPTYPES) {
		struct pcp_set *set = pcp_set_get(b);
		if (set && pcp_enter(set)) {
			struct mm_pcp *pcp = &set->pcp[z->idx];
			set_pg_state(page, MM_PAGE_PCP);
			mm_list_add(&page->lru, &pcp->lists[mt]);
			pcp->ev_free++;
			if (++pcp->count >= pcp->high)
				__mm_pcp_free_bulk(b, z, pcp, pcp->batch, mt);
			pcp_exit(set);
			return;
		}
	}
	zone_lock(z);
	set_pg_state(page, 0);
	__mm_free_one_page(z, pfn, order, pageblock_mt(b, pfn));
	z->ev_free += 1ULL << order;
	zone_unlock(z);
}

/* Debug builds fill freed real pages with Linux's PAGE_POISON byte, so a
 * use after free reads garbage instead of the old data (STYLE.md 15). */
#ifdef MMKIT_DEBUG
#define BUDDY_PAGE_POISON 0xaa
static void poison_block(struct mm_buddy *b, struct mm_page *page, unsigned int order)
{
	if (b->mem_base)
		memset(mm_page_address(b, page), BUDDY_PAGE_POISON, MM_PAGE_SIZE << order);
}
#else
static inline void poison_block(struct mm_buddy *b, struct mm_page *page, unsigned int order)
{
	(void)b;
	(void)page;
	(void)order;
}
#endif

void mm_free_pages(struct mm_buddy *b, struct mm_page *page, unsigned int order)
{
	if (mm_unlikely(!page))
		return;
	/* cheap checks, kept in release builds */
	if (mm_unlikely(page < b->memmap || page >= b->memmap + (b->end_pfn - b->start_pfn) ||
			pg_state(page) != MM_PAGE_HEAD || page->order != order))
		bad_free_diagnose(b, page, order);
	poison_block(b, page, order);

	/* Fast path: order 0 onto this thread's cache. */
	if (mm_likely(order == 0 && b->pcp_on)) {
		const struct pcp_slot *slot = &mm_pcp_slots[b->id % PCP_SLOTS];
		uint64_t pfn = page_pfn(b, page);
		int mt = pageblock_mt(b, pfn);
		if (mm_likely(slot->id == b->id && mt < MM_MIGRATE_PCPTYPES)) {
			struct pcp_set *set = slot->set;
			struct mm_pcp *pcp = &set->pcp[page->zone];
			if (mm_likely(pcp_enter(set))) {
				set_pg_state(page, MM_PAGE_PCP);
				mm_list_add(&page->lru, &pcp->lists[mt]);
				pcp->ev_free++;
				if (mm_unlikely(++pcp->count >= pcp->high))
					__mm_pcp_free_bulk(b, &b->zones[page->zone], pcp, pcp->batch,
							   mt);
				pcp_exit(set);
				return;
			}
		}
	}
	free_pages_slow(b, page, order);
}

void mm_put_page(struct mm_buddy *b, struct mm_page *page)
{
	/* a put on a page that is no longer allocated (its last reference
	 * already freed it) would only push the count below zero: abort as
	 * mm_free_pages does (Linux: VM_BUG_ON_PAGE in put_page_testzero) */
	if (mm_unlikely(page < b->memmap || page >= b->memmap + (b->end_pfn - b->start_pfn) ||
			pg_state(page) != MM_PAGE_HEAD))
		bad_free_diagnose(b, page, page->order);
	if (mm_page_put_testzero(page))
		mm_free_pages(b, page, page->order);
}

void *mm_get_free_pages(struct mm_buddy *b, mm_gfp_t gfp, unsigned int order)
{
	if (!b->mem_base)
		return NULL;
	struct mm_page *page = mm_alloc_pages(b, gfp, order);
	return page ? mm_page_address(b, page) : NULL;
}

void mm_free_pages_addr(struct mm_buddy *b, void *addr, unsigned int order)
{
	if (!addr)
		return;
	struct mm_page *page = mm_virt_to_page(b, addr);
	if (!page || ((uintptr_t)addr & (MM_PAGE_SIZE - 1)))
		mm_panic(__FILE__, __LINE__, "mm_free_pages_addr: %p is not a page of this allocator",
			 addr);
	mm_free_pages(b, page, order);
}

