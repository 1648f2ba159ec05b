/* core.c — the binary buddy algorithm on one zone (zone lock held).
 *
 * Algorithm (Knowlton 1965; Knuth TAOCP 2.5; Linux mm/page_alloc.c):
 * free blocks of 2^k pages, aligned to 2^k in PFN space, sit on free lists
 * per order and migrate type. Allocation of order k takes the first block
 * of the smallest order j >= k on the wanted type's lists (__rmqueue_smallest)
 * and splits it, putting the upper halves of orders j-1 .. k back (expand).
 * Free merges the block with its buddy pfn ^ (1 << k) while that buddy is a
 * free block of the same order in the same zone, then lists the result.
 *
 * Migrate types (Gorman's anti-fragmentation, Linux 2.6.24+): each pageblock
 * of 2^pageblock_order pages has a type; free blocks are listed under the
 * type of their pageblock. When the wanted type has nothing, the allocator
 * steals from the fallback types (Linux's fallbacks[] table), largest block
 * first, and claims the whole pageblock for the new type when the stolen
 * block is at least half a pageblock (or the request is unmovable or
 * reclaimable) and enough of the block is free or alike; otherwise it takes
 * just the block it needs. This follows Linux 6.10's __rmqueue_fallback /
 * steal_suitable_fallback, where a free block always sits on the list of its
 * pageblock's type (the invariant mm_buddy_check verifies). Not done:
 * watermark boosting, the high-atomic reserve, CMA.
 *
 * Cost: allocation O(max_order) list operations (+ O(pageblock) when a
 * pageblock is claimed); free O(max_order). No search: the free lists are
 * exact-size, so a block exists iff some list at order >= k is non-empty.
 * Fragmentation: internal fragmentation up to 50% for sizes that are not
 * powers of two (callers round up); external fragmentation is bounded by
 * the migrate-type grouping but not prevented (no compaction here).
 */
#include <string.h>

#include "buddy_internal.h"

/* Linux's fallbacks[]: the types to steal from, in order. */
static const int fallbacks[MM_MIGRATE_PCPTYPES][MM_MIGRATE_PCPTYPES - 1] = {
	[MM_MIGRATE_UNMOVABLE]   = { MM_MIGRATE_RECLAIMABLE, MM_MIGRATE_MOVABLE },
	[MM_MIGRATE_MOVABLE]     = { MM_MIGRATE_RECLAIMABLE, MM_MIGRATE_UNMOVABLE },
	[MM_MIGRATE_RECLAIMABLE] = { MM_MIGRATE_UNMOVABLE, MM_MIGRATE_MOVABLE },
};

/* ---- free-list primitives ----------------------------------------------------- */

static inline void add_to_free_list(struct mm_zone *z, struct mm_page *page,
				    unsigned int order, int mt, bool tail)
{
	struct mm_free_area *area = &z->area[order];
	set_pg_order(page, order);
	set_pg_state(page, MM_PAGE_BUDDY);
	if (tail)
		mm_list_add_tail(&page->lru, &area->free_list[mt]);
	else
		mm_list_add(&page->lru, &area->free_list[mt]);
	area->nr_free++;
	area->nr_free_mt[mt]++;
	zone_free_add(z, (int64_t)1 << order);
}

static inline void del_from_free_list(struct mm_zone *z, struct mm_page *page,
				      unsigned int order, int mt)
{
	struct mm_free_area *area = &z->area[order];
	mm_list_del(&page->lru);
	set_pg_state(page, 0);
	area->nr_free--;
	area->nr_free_mt[mt]--;
	zone_free_add(z, -((int64_t)1 << order));
}

static inline void move_to_free_list(struct mm_zone *z, struct mm_page *page,
				     unsigned int order, int old_mt, int new_mt)
{
	struct mm_free_area *area = &z->area[order];
	mm_list_move_tail(&page->lru, &area->free_list[new_mt]);
	area->nr_free_mt[old_mt]--;
	area->nr_free_mt[new_mt]++;
}

/* Is pfn the head of a free block of exactly `order` in zone z? */
static inline bool page_is_buddy(const struct mm_zone *z, uint64_t pfn, unsigned int order)
{
	if (pfn < z->start_pfn || pfn >= z->end_pfn)
		return false;
	const struct mm_page *p = pfn_page(z->b, pfn);
	return pg_state(p) == MM_PAGE_BUDDY && pg_order(p) == order;
}

/* Set the type of every pageblock in [pfn, pfn + 2^order). */
static void change_pageblock_range(struct mm_buddy *b, uint64_t pfn, unsigned int order, int mt)
{
	uint64_t nr = 1ULL << order, step = 1ULL << b->pageblock_order;
	if (order < b->pageblock_order) {
		set_pageblock_mt(b, pfn, mt);
		return;
	}
	for (uint64_t p = pfn; p < pfn + nr; p += step)
		set_pageblock_mt(b, p, mt);
}

/* Split a block of order `high` at `page` down to `low`: the upper halves go
 * back on the free lists of type mt (Linux's expand()). */
static inline void expand(struct mm_zone *z, struct mm_page *page, unsigned int low,
			  unsigned int high, int mt)
{
	uint64_t size = 1ULL << high;
	while (high > low) {
		high--;
		size >>= 1;
		add_to_free_list(z, &page[size], high, mt, false);
	}
}

/* ---- allocation --------------------------------------------------------------- */

static struct mm_page *__rmqueue_smallest(struct mm_zone *z, unsigned int order, int mt)
{
	for (unsigned int o = order; o < z->b->max_order; o++) {
		struct mm_free_area *area = &z->area[o];
		if (mm_list_empty(&area->free_list[mt]))
			continue;
		struct mm_page *page = mm_list_first_entry(&area->free_list[mt], struct mm_page, lru);
		del_from_free_list(z, page, o, mt);
		expand(z, page, order, o, mt);
		return page;
	}
	return NULL;
}

/* Linux's can_steal_fallback(): may a block of `order` found on a fallback
 * list claim its pageblock for start_mt? */
static bool can_steal_fallback(const struct mm_buddy *b, unsigned int order, int start_mt)
{
	if (order >= b->pageblock_order)
		return true;
	return order >= b->pageblock_order / 2 || start_mt == MM_MIGRATE_RECLAIMABLE ||
	       start_mt == MM_MIGRATE_UNMOVABLE;
}

static int find_suitable_fallback(const struct mm_zone *z, unsigned int order, int mt,
				  bool *can_steal)
{
	const struct mm_free_area *area = &z->area[order];
	*can_steal = false;
	if (!area->nr_free)
		return -1;
	for (int i = 0; i < MM_MIGRATE_PCPTYPES - 1; i++) {
		int fmt = fallbacks[mt][i];
		if (mm_list_empty(&area->free_list[fmt]))
			continue;
		*can_steal = can_steal_fallback(z->b, order, mt);
		return fmt;
	}
	return -1;
}

/* Count free pages and pages of movable allocations in the pageblock of pfn.
 * False if the pageblock is not entirely inside the zone. */
static bool pageblock_census(const struct mm_zone *z, uint64_t pfn, uint64_t *start,
			     uint64_t *free_pages, uint64_t *movable)
{
	const struct mm_buddy *b = z->b;
	uint64_t nr = 1ULL << b->pageblock_order;
	uint64_t s = pfn & ~(nr - 1);
	if (s < z->start_pfn || s + nr > z->end_pfn)
		return false;
	*start = s;
	*free_pages = *movable = 0;
	for (uint64_t p = s; p < s + nr;) {
		const struct mm_page *pg = pfn_page(b, p);
		unsigned int st = pg_state(pg);
		if (st == MM_PAGE_BUDDY) {
			*free_pages += 1ULL << pg_order(pg);
			p += 1ULL << pg_order(pg);
		} else if (st == MM_PAGE_HEAD) {
			/* a cache owner may be marking this page right now: the
			 * order and type may be stale, never torn */
			unsigned int o = pg_order(pg);
			if (__atomic_load_n(&pg->migratetype, __ATOMIC_RELAXED) == MM_MIGRATE_MOVABLE)
				*movable += 1ULL << o;
			p += 1ULL << o;
		} else {
			p++;
		}
	}
	return true;
}

/* Move every free block of the pageblock at start from old_mt to new_mt and
 * set the pageblock's type (Linux's move_freepages_block). */
static void move_freepages_block(struct mm_zone *z, uint64_t start, int old_mt, int new_mt)
{
	struct mm_buddy *b = z->b;
	uint64_t nr = 1ULL << b->pageblock_order;
	for (uint64_t p = start; p < start + nr;) {
		struct mm_page *pg = pfn_page(b, p);
		if (pg_state(pg) == MM_PAGE_BUDDY) {
			move_to_free_list(z, pg, pg_order(pg), old_mt, new_mt);
			p += 1ULL << pg_order(pg);
		} else {
			p++;
		}
	}
	set_pageblock_mt(b, start, new_mt);
}

static struct mm_page *steal_suitable_fallback(struct mm_zone *z, struct mm_page *page,
					       unsigned int cur, unsigned int order,
					       int start_mt, bool whole_block, int block_mt)
{
	struct mm_buddy *b = z->b;
	uint64_t pfn = page_pfn(b, page);

	/* A block of a whole pageblock or more: take it all. */
	if (cur >= b->pageblock_order) {
		del_from_free_list(z, page, cur, block_mt);
		change_pageblock_range(b, pfn, cur, start_mt);
		expand(z, page, order, cur, start_mt);
		return page;
	}
	if (whole_block) {
		uint64_t start, free_pages, movable, alike;
		if (pageblock_census(z, pfn, &start, &free_pages, &movable)) {
			uint64_t nr = 1ULL << b->pageblock_order;
			if (start_mt == MM_MIGRATE_MOVABLE)
				alike = movable;
			else if (block_mt == MM_MIGRATE_MOVABLE)
				alike = nr - (free_pages + movable);
			else
				alike = 0;
			if (free_pages + alike >= nr / 2) {
				move_freepages_block(z, start, block_mt, start_mt);
				return __rmqueue_smallest(z, order, start_mt);
			}
		}
	}
	/* Just the block we need; the rest stays with its pageblock's type. */
	del_from_free_list(z, page, cur, block_mt);
	expand(z, page, order, cur, block_mt);
	return page;
}

static struct mm_page *__rmqueue_fallback(struct mm_zone *z, unsigned int order, int start_mt)
{
	struct mm_buddy *b = z->b;
	bool can_steal;
	int fmt = -1;
	int cur;

	/* The largest block first: it approximates the pageblock with the
	 * most free pages, the one worth converting. */
	for (cur = (int)b->max_order - 1; cur >= (int)order; cur--) {
		fmt = find_suitable_fallback(z, (unsigned int)cur, start_mt, &can_steal);
		if (fmt < 0)
			continue;
		/* A movable request that cannot claim the block takes the
		 * smallest one instead: it does not pollute a whole block. */
		if (!can_steal && start_mt == MM_MIGRATE_MOVABLE && cur > (int)order)
			goto find_smallest;
		goto do_steal;
	}
	return NULL;

find_smallest:
	for (cur = (int)order; cur < (int)b->max_order; cur++) {
		fmt = find_suitable_fallback(z, (unsigned int)cur, start_mt, &can_steal);
		if (fmt >= 0)
			break;
	}
	MM_BUG_ON(cur == (int)b->max_order);
do_steal: {
	struct mm_page *page = mm_list_first_entry(&z->area[cur].free_list[fmt],
						   struct mm_page, lru);
	return steal_suitable_fallback(z, page, (unsigned int)cur, order, start_mt, can_steal, fmt);
}
}

struct mm_page *__mm_rmqueue(struct mm_zone *z, unsigned int order, int mt)
{
	struct mm_page *page = __rmqueue_smallest(z, order, mt);
	if (mm_unlikely(!page))
		page = __rmqueue_fallback(z, order, mt);
	return page;
}

/* ---- free ---------------------------------------------------------------------- */

/* Linux's buddy_merge_likely(): if the block we could not merge has a free
 * buddy one order up, the next free here will likely merge, so put it at the
 * tail where it is allocated last. */
static bool buddy_merge_likely(const struct mm_zone *z, uint64_t pfn, unsigned int order)
{
	if (order + 2 >= z->b->max_order)
		return false;
	uint64_t higher = pfn & buddy_of(pfn, order);
	return page_is_buddy(z, buddy_of(higher, order + 1), order + 1);
}

void __mm_free_one_page(struct mm_zone *z, uint64_t pfn, unsigned int order, int mt)
{
	struct mm_buddy *b = z->b;

	if (order >= b->pageblock_order)
		change_pageblock_range(b, pfn, order, mt);
	while (order < b->max_order - 1) {
		uint64_t bpfn = buddy_of(pfn, order);
		if (!page_is_buddy(z, bpfn, order))
			break;
		int bmt = mt;
		if (order >= b->pageblock_order) {
			bmt = pageblock_mt(b, bpfn);
			/* the merged block takes the freed block's type */
			if (bmt != mt)
				change_pageblock_range(b, bpfn, order, mt);
		}
		struct mm_page *bp = pfn_page(b, bpfn);
		del_from_free_list(z, bp, order, bmt);
		set_pg_order(bp, 0);
		pfn &= bpfn;
		order++;
	}
	add_to_free_list(z, pfn_page(b, pfn), order, mt, buddy_merge_likely(z, pfn, order));
}

/* ---- taking a page out of the buddy (late reserve) ------------------------------------ */

/* The free block containing pfn: its head PFN, or UINT64_MAX. */
uint64_t __mm_free_block_of(const struct mm_zone *z, uint64_t pfn, unsigned int *order)
{
	const struct mm_buddy *b = z->b;
	for (unsigned int o = 0; o < b->max_order; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);
		if (head < z->start_pfn)
			break;
		const struct mm_page *pg = pfn_page(b, head);
		if (pg_state(pg) == MM_PAGE_BUDDY && pg_order(pg) >= o) {
			*order = pg_order(pg);
			return head;
		}
	}
	return UINT64_MAX;
}

/* Remove the free page pfn from the free lists, splitting the block that
 * holds it; the other pieces stay free (Linux's take_page_off_buddy). */
bool __mm_take_page_off_buddy(struct mm_zone *z, uint64_t pfn)
{
	struct mm_buddy *b = z->b;
	unsigned int o;
	uint64_t head = __mm_free_block_of(z, pfn, &o);
	if (head == UINT64_MAX)
		return false;
	int mt = pageblock_mt(b, head);
	del_from_free_list(z, pfn_page(b, head), o, mt);
	while (o > 0) {
		o--;
		uint64_t half = head + (1ULL << o);
		if (pfn >= half) {
			add_to_free_list(z, pfn_page(b, head), o, pageblock_mt(b, head), false);
			head = half;
		} else {
			add_to_free_list(z, pfn_page(b, half), o, pageblock_mt(b, half), false);
		}
	}
	set_pg_order(pfn_page(b, pfn), 0);
	return true;
}

/* ---- watermarks ------------------------------------------------------------------ */

bool __mm_watermark_ok(const struct mm_zone *z, unsigned int order, uint64_t mark,
		       enum mm_zone_type classzone, int wclass, uint64_t free)
{
	/* Linux: fail when free - (2^order - 1) <= min + lowmem_reserve */
	uint64_t need = wmark_threshold(mark, wclass, z->lowmem_reserve[classzone]);
	uint64_t take = (1ULL << order) - 1;
	if (free <= take || free - take <= need)
		return false;
	if (!order)
		return true;
	for (unsigned int o = order; o < z->b->max_order; o++) {
		const struct mm_free_area *area = &z->area[o];
		if (!area->nr_free)
			continue;
		for (int mt = 0; mt < MM_MIGRATE_PCPTYPES; mt++)
			if (area->nr_free_mt[mt])
				return true;
	}
	return false;
}
