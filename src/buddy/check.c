/* check.c — mm_buddy_check(): every invariant of a buddy allocator.
 *
 * Cost: O(nr_pages + free blocks); meant for tests (after every operation
 * of a randomized run on a small instance) and debugging.
 */
#include <stdarg.h>
#include <stdio.h>

#include "mmkit/error.h"
#include "buddy_internal.h"

MM_PRINTF(1, 2)
static int corrupt(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mm_buddy_check: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -MM_ECORRUPT;
}

static int check_free_lists(struct mm_zone *z, uint64_t *blocks)
{
	struct mm_buddy *b = z->b;
	uint64_t pages = 0;
	for (unsigned int o = 0; o < MM_MAX_ORDER_LIMIT; o++) {
		struct mm_free_area *area = &z->area[o];
		uint64_t total = 0;
		for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++) {
			struct mm_list *head = &area->free_list[mt];
			if (mm_list_check(head, b->end_pfn - b->start_pfn + 1))
				return corrupt("zone %s order %u type %d: broken list", z->name, o, mt);
			if (o >= b->max_order && !mm_list_empty(head))
				return corrupt("zone %s: blocks on order %u >= max_order", z->name, o);
			uint64_t n = 0;
			struct mm_page *p;
			mm_list_for_each_entry(p, head, lru) {
				if (p < b->memmap || p >= b->memmap + (b->end_pfn - b->start_pfn))
					return corrupt("zone %s order %u: foreign descriptor", z->name, o);
				uint64_t pfn = page_pfn(b, p);
				uint64_t nr = 1ULL << o;
				if (pg_state(p) != MM_PAGE_BUDDY || p->order != o)
					return corrupt("pfn %llu on order-%u list: state %#x order %u",
						       (unsigned long long)pfn, o, pg_state(p), p->order);
				if (pfn & (nr - 1))
					return corrupt("pfn %llu: block of order %u not aligned",
						       (unsigned long long)pfn, o);
				if (pfn < z->start_pfn || pfn + nr > z->end_pfn)
					return corrupt("pfn %llu order %u: outside zone %s",
						       (unsigned long long)pfn, o, z->name);
				uint64_t step = 1ULL << b->pageblock_order;
				for (uint64_t q = pfn; q < pfn + nr; q += step)
					if (pageblock_mt(b, q) != mt)
						return corrupt("pfn %llu order %u on type-%d list, pageblock type %d",
							       (unsigned long long)pfn, o, mt,
							       pageblock_mt(b, q));
				if (o + 1 < b->max_order) {
					uint64_t bp = buddy_of(pfn, o);
					if (bp >= z->start_pfn && bp < z->end_pfn) {
						const struct mm_page *bb = pfn_page(b, bp);
						if (pg_state(bb) == MM_PAGE_BUDDY && bb->order == o)
							return corrupt("pfn %llu and its buddy %llu both free at order %u",
								       (unsigned long long)pfn,
								       (unsigned long long)bp, o);
					}
				}
				n++;
			}
			if (n != area->nr_free_mt[mt])
				return corrupt("zone %s order %u type %d: %llu blocks listed, counter %llu",
					       z->name, o, mt, (unsigned long long)n,
					       (unsigned long long)area->nr_free_mt[mt]);
			total += n;
			pages += n << o;
		}
		if (total != area->nr_free)
			return corrupt("zone %s order %u: nr_free %llu, lists hold %llu", z->name, o,
				       (unsigned long long)area->nr_free, (unsigned long long)total);
		*blocks += total;
	}
	if (pages != zone_free(z))
		return corrupt("zone %s: free_pages %llu, lists hold %llu", z->name,
			       (unsigned long long)zone_free(z), (unsigned long long)pages);
	return 0;
}

/* Watermarks ordered; the cached order-0 thresholds and lowmem_reserve as
 * derived from them (zone lock held). */
static int check_wmarks(const struct mm_zone *z)
{
	uint64_t min = atomic_load_explicit(&z->wmark[MM_WMARK_MIN], memory_order_relaxed);
	uint64_t low = atomic_load_explicit(&z->wmark[MM_WMARK_LOW], memory_order_relaxed);
	uint64_t high = atomic_load_explicit(&z->wmark[MM_WMARK_HIGH], memory_order_relaxed);
	if (min > low || low > high)
		return corrupt("zone %s: watermarks %llu/%llu/%llu out of order", z->name,
			       (unsigned long long)min, (unsigned long long)low,
			       (unsigned long long)high);
	for (int h = 0; h < MM_NR_ZONES; h++) {
		if (h <= (int)z->idx && z->lowmem_reserve[h])
			return corrupt("zone %s: lowmem_reserve[%d] set for a class at or below it",
				       z->name, h);
		for (int c = 0; c < NR_WCLASS; c++)
			if (atomic_load_explicit(&z->wmark_fast[h][c], memory_order_relaxed) !=
			    wmark_threshold(min, c, z->lowmem_reserve[h]))
				return corrupt("zone %s: cached threshold [%d][%d] is stale", z->name,
					       h, c);
	}
	return 0;
}

static int check_pcp(struct mm_buddy *b, uint64_t *pcp_pages)
{
	struct pcp_set *s;
	mm_list_for_each_entry(s, &b->pcp_sets, b_node) {
		for (int zi = 0; zi < MM_NR_ZONES; zi++) {
			struct mm_pcp *pcp = &s->pcp[zi];
			int n = 0;
			for (int mt = 0; mt < MM_MIGRATE_PCPTYPES; mt++) {
				if (mm_list_check(&pcp->lists[mt], b->end_pfn - b->start_pfn + 1))
					return corrupt("per-thread cache: broken list");
				struct mm_page *p;
				mm_list_for_each_entry(p, &pcp->lists[mt], lru) {
					if (pg_state(p) != MM_PAGE_PCP || p->zone != zi)
						return corrupt("per-thread cache of zone %d: pfn %llu state %#x zone %u",
							       zi, (unsigned long long)page_pfn(b, p),
							       pg_state(p), p->zone);
					n++;
				}
			}
			if (n != pcp->count)
				return corrupt("per-thread cache: count %d, lists hold %d", pcp->count, n);
			/* a free drains at high; a refill fills one empty list
			 * with at most batch pages (as in Linux, count may pass
			 * high that way, by at most one batch per list) */
			if (pcp->count >= pcp->high + MM_MIGRATE_PCPTYPES * pcp->batch)
				return corrupt("per-thread cache: count %d above high %d + batch %d",
					       pcp->count, pcp->high, pcp->batch);
			*pcp_pages += (uint64_t)n;
		}
	}
	return 0;
}

/* Every page is exactly one of: reserved, free block (head + interior),
 * cached, allocated block (head + tails). */
static int check_coverage(struct mm_buddy *b, uint64_t *buddy_heads, uint64_t *pcp_pages)
{
	uint64_t reserved[MM_NR_ZONES] = { 0 };
	for (uint64_t pfn = b->start_pfn; pfn < b->end_pfn;) {
		const struct mm_page *p = pfn_page(b, pfn);
		if (p->zone >= MM_NR_ZONES || pfn < b->zones[p->zone].start_pfn ||
		    pfn >= b->zones[p->zone].end_pfn)
			return corrupt("pfn %llu: zone field %u wrong", (unsigned long long)pfn, p->zone);
		unsigned int af = pg_state(p);
		uint64_t nr = 1;
		if (af == MM_PAGE_RESERVED) {
			reserved[p->zone]++;
		} else if (af == MM_PAGE_PCP) {
			(*pcp_pages)++;
		} else if (af == MM_PAGE_BUDDY || af == MM_PAGE_HEAD) {
			nr = 1ULL << p->order;
			if (p->order >= b->max_order || pfn + nr > b->end_pfn)
				return corrupt("pfn %llu: order %u too large", (unsigned long long)pfn,
					       p->order);
			if (pfn & (nr - 1))
				return corrupt("pfn %llu: block of order %u not aligned",
					       (unsigned long long)pfn, p->order);
			if (pfn + nr > b->zones[p->zone].end_pfn)
				return corrupt("pfn %llu: block of order %u crosses the end of zone %s",
					       (unsigned long long)pfn, p->order, b->zones[p->zone].name);
			for (uint64_t i = 1; i < nr; i++)
				if (pg_state(&p[i]))
					return corrupt("pfn %llu inside the block at %llu has state %#x",
						       (unsigned long long)(pfn + i),
						       (unsigned long long)pfn, pg_state(&p[i]));
			if (af == MM_PAGE_BUDDY)
				(*buddy_heads)++;
		} else {
			return corrupt("pfn %llu is neither free, cached, reserved nor allocated (state %#x)",
				       (unsigned long long)pfn, af);
		}
		pfn += nr;
	}
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		const struct mm_zone *z = &b->zones[zi];
		if (reserved[zi] != z->reserved)
			return corrupt("zone %s: %llu reserved pages found, %llu counted", z->name,
				       (unsigned long long)reserved[zi], (unsigned long long)z->reserved);
		if (z->managed + z->reserved != z->present || z->present != z->end_pfn - z->start_pfn)
			return corrupt("zone %s: present/managed/reserved disagree", z->name);
	}
	return 0;
}

int mm_buddy_check(struct mm_buddy *b)
{
	int err = 0;
	uint64_t blocks = 0, heads = 0, pcp_listed = 0, pcp_flagged = 0;

	__mm_pcp_freeze(b);
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		zone_lock(&b->zones[zi]);

	for (int zi = 0; zi < MM_NR_ZONES && !err; zi++) {
		const struct mm_zone *z = &b->zones[zi];
		if (zi > 0 && z->present && b->zones[zi - 1].present &&
		    z->start_pfn < b->zones[zi - 1].end_pfn)
			err = corrupt("zones %d and %d overlap", zi - 1, zi);
	}
	for (int zi = 0; zi < MM_NR_ZONES && !err; zi++)
		err = check_free_lists(&b->zones[zi], &blocks);
	for (int zi = 0; zi < MM_NR_ZONES && !err; zi++)
		err = check_wmarks(&b->zones[zi]);
	if (!err)
		err = check_pcp(b, &pcp_listed);
	if (!err)
		err = check_coverage(b, &heads, &pcp_flagged);
	if (!err && heads != blocks)
		err = corrupt("%llu free block heads in the descriptors, %llu on the lists",
			      (unsigned long long)heads, (unsigned long long)blocks);
	if (!err && pcp_flagged != pcp_listed)
		err = corrupt("%llu cached pages flagged, %llu on cache lists",
			      (unsigned long long)pcp_flagged, (unsigned long long)pcp_listed);
	if (!err) {
		uint64_t nr_pb = ((b->end_pfn - 1) >> b->pageblock_order) - b->pb_first + 1;
		for (uint64_t i = 0; i < nr_pb; i++)
			if (atomic_load_explicit(&b->pb_mt[i], memory_order_relaxed) >= MM_MIGRATE_TYPES)
				err = corrupt("pageblock %llu: bad type", (unsigned long long)i);
	}

	for (int zi = MM_NR_ZONES - 1; zi >= 0; zi--)
		zone_unlock(&b->zones[zi]);
	__mm_pcp_thaw(b);
	return err;
}
