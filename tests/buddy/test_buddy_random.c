/* Randomized buddy test against a reference model.
 *
 * A small zoned instance (crossing the DMA/DMA32 boundary, unaligned, with
 * reserved holes) runs a long random mix of allocations (orders 0..max,
 * every gfp combination) and frees, with mm_buddy_check() after every
 * operation. The model is the set of allocated blocks: a new block must not
 * overlap any allocated block or reserved page, must be aligned, must lie in
 * a zone the gfp mask allows; the page counts must add up. A failed request
 * must leave the allocator unchanged. At the end, with everything freed, the
 * free lists must equal those of a fresh allocator with the same reserved
 * pages (every page back, merged to the largest blocks). Seed printed for
 * replay.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "mmkit/buddy.h"
#include "mmkit/rng.h"

#define START 3900
#define NR 600
#define MAX_ORDER 7

struct blk {
	struct mm_page *page;
	uint64_t pfn;
	unsigned int order;
};

/* Two sets of holes: one on the DMA/DMA32 line (PFN 4096), one that leaves
 * the line free, so blocks on both sides of it can be free at once and must
 * never merge across it. */
static const struct mm_pfn_range holes_on_line[] = { { 3950, 3 }, { 4096, 1 }, { 4300, 17 } };
static const struct mm_pfn_range holes_off_line[] = { { 3950, 3 }, { 4300, 17 } };
#define MAX_HOLES 3

static const struct mm_pfn_range *holes;
static size_t nholes;

static bool reserved_pfn(uint64_t pfn)
{
	for (size_t i = 0; i < nholes; i++)
		if (pfn >= holes[i].start && pfn < holes[i].start + holes[i].nr)
			return true;
	return false;
}

/* Without caches or watermarks a request fails only if no naturally aligned
 * window of 2^order pages inside one allowed zone is entirely free in the
 * model (free lists fully merged make such a window one free block). The
 * window's first PFN, or 0 if there is none. */
static uint64_t free_window(unsigned int order, mm_gfp_t gfp, const uint8_t *owner)
{
	uint64_t len = 1ULL << order, end = START + NR;
	if ((gfp & MM_GFP_DMA) && end > MM_ZONE_DMA_END_PFN)
		end = MM_ZONE_DMA_END_PFN;
	for (uint64_t s = (START + len - 1) & ~(len - 1); s + len <= end; s += len) {
		if (s < MM_ZONE_DMA_END_PFN && s + len > MM_ZONE_DMA_END_PFN)
			continue; /* spans two zones */
		bool all_free = true;
		for (uint64_t q = s; q < s + len && all_free; q++)
			all_free = owner[q - START] == 0 && !reserved_pfn(q);
		if (all_free)
			return s;
	}
	return 0;
}

static struct mm_buddy *create(bool pcp, bool wmarks, unsigned int batch, unsigned int high,
			       const struct mm_pfn_range *res, size_t nres)
{
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, START, NR);
	cfg.max_order = MAX_ORDER;
	cfg.zones = true;
	cfg.no_pcp = !pcp;
	cfg.ignore_watermarks = !wmarks;
	cfg.pcp_batch = batch;
	cfg.pcp_high = high;
	cfg.reserved = res;
	cfg.nr_reserved = nres;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	return b;
}

static void run(bool pcp, bool wmarks, uint64_t iters, struct mm_rng *rng)
{
	/* cache sizes from the seed: small batches (1, 2) and high close to
	 * batch stress the refill/drain balance between the type lists */
	unsigned int batch = 1 + (unsigned int)mm_rng_below(rng, 5);
	unsigned int high = batch * (1 + (unsigned int)mm_rng_below(rng, 6));
	struct mm_buddy *b = create(pcp, wmarks, batch, high, holes, nholes);
	/* the holes plus the pages reserved late, for the final comparison */
	struct mm_pfn_range all_res[MAX_HOLES + NR];
	size_t nall_res = nholes;
	memcpy(all_res, holes, nholes * sizeof(*holes));

	uint8_t owner[NR] = { 0 };   /* 1 = allocated in the model */
	struct blk *live = calloc(NR, sizeof(*live));
	size_t nlive = 0, live_pages = 0;
	uint64_t nreserved = 0;
	for (uint64_t p = START; p < START + NR; p++)
		nreserved += reserved_pfn(p);

	for (uint64_t it = 0; it < iters; it++) {
		bool do_alloc = nlive == 0 || mm_rng_below(rng, 100) < 55;
		if (do_alloc) {
			unsigned int order = (unsigned int)mm_rng_below(rng, 100) < 60 ? 0
					     : (unsigned int)mm_rng_below(rng, MAX_ORDER + 1);
			mm_gfp_t gfp = 0;
			switch (mm_rng_below(rng, 4)) {
			case 1: gfp |= MM_GFP_DMA; break;
			case 2: gfp |= MM_GFP_DMA32; break;
			default: break;
			}
			switch (mm_rng_below(rng, 3)) {
			case 1: gfp |= MM_GFP_MOVABLE; break;
			case 2: gfp |= MM_GFP_RECLAIMABLE; break;
			default: break;
			}
			if (mm_rng_below(rng, 8) == 0)
				gfp |= mm_rng_below(rng, 2) ? MM_GFP_HIGH : MM_GFP_ATOMIC;
			char before[2048] = "", after[2048];
			bool compare = mm_rng_below(rng, 4) == 0;
			if (compare)
				mm_buddy_show_pagetypeinfo(b, before, sizeof(before));
			uint64_t free_before = mm_buddy_free_pages(b);
			struct mm_page *p = mm_alloc_pages(b, gfp, order);
			if (!p) {
				if (order < MAX_ORDER && !wmarks && !pcp) {
					uint64_t pfn = free_window(order, gfp, owner);
					if (pfn)
						mm_test_fail_seed("order %u (gfp %#x) failed, %llu.. free",
								  order, gfp, (unsigned long long)pfn);
				}
				if (mm_buddy_free_pages(b) != free_before)
					mm_test_fail_seed("failed allocation changed the free count");
				if (compare) {
					mm_buddy_show_pagetypeinfo(b, after, sizeof(after));
					if (strcmp(before, after))
						mm_test_fail_seed("failed allocation changed the free lists");
				}
			} else {
				uint64_t pfn = mm_page_to_pfn(b, p);
				uint64_t n = 1ULL << order;
				if (order >= MAX_ORDER)
					mm_test_fail_seed("order %u >= max_order succeeded", order);
				if (pfn & (n - 1))
					mm_test_fail_seed("pfn %llu not aligned to order %u",
							  (unsigned long long)pfn, order);
				if (pfn < START || pfn + n > START + NR)
					mm_test_fail_seed("block outside the range");
				if ((gfp & MM_GFP_DMA) && pfn + n > MM_ZONE_DMA_END_PFN)
					mm_test_fail_seed("GFP_DMA block above 16 MiB");
				if (p->refcount != 1 || !mm_page_is_head(p) || p->order != order)
					mm_test_fail_seed("bad head page state");
				for (uint64_t q = pfn; q < pfn + n; q++) {
					if (owner[q - START] || reserved_pfn(q))
						mm_test_fail_seed("pfn %llu handed out twice or reserved",
								  (unsigned long long)q);
					owner[q - START] = 1;
				}
				live[nlive++] = (struct blk){ p, pfn, order };
				live_pages += n;
			}
		} else {
			size_t i = mm_rng_below(rng, nlive);
			struct blk bl = live[i];
			live[i] = live[--nlive];
			for (uint64_t q = bl.pfn; q < bl.pfn + (1ULL << bl.order); q++)
				owner[q - START] = 0;
			live_pages -= 1ULL << bl.order;
			if (mm_rng_below(rng, 2)) {
				mm_free_pages(b, bl.page, bl.order);
			} else {
				mm_page_get(bl.page);
				mm_put_page(b, bl.page);
				mm_put_page(b, bl.page);
			}
		}
		if (pcp && mm_rng_below(rng, 500) == 0)
			mm_buddy_drain_all(b);
		if (mm_rng_below(rng, 20000) == 0) {
			/* late reserve of one page: works iff the model has it free */
			uint64_t pfn = START + mm_rng_below(rng, NR);
			int err = mm_buddy_reserve(b, pfn, 1);
			bool was_free = owner[pfn - START] != 1; /* free or reserved */
			if (was_free != (err == 0))
				mm_test_fail_seed("reserve of pfn %llu returned %d, model free %d",
						  (unsigned long long)pfn, err, was_free);
			if (!err && !reserved_pfn(pfn) && owner[pfn - START] == 0) {
				owner[pfn - START] = 2; /* reserved for good */
				nreserved++;
				all_res[nall_res++] = (struct mm_pfn_range){ pfn, 1 };
			}
		}
		if (mm_buddy_check(b) != 0)
			mm_test_fail_seed("mm_buddy_check failed at op %llu", (unsigned long long)it);
		/* the free count never exceeds what the model leaves */
		if (mm_buddy_free_pages(b) > NR - nreserved - live_pages)
			mm_test_fail_seed("free count %llu above model %llu",
					  (unsigned long long)mm_buddy_free_pages(b),
					  (unsigned long long)(NR - nreserved - live_pages));
		if (!pcp && mm_buddy_free_pages(b) != NR - nreserved - live_pages)
			mm_test_fail_seed("free count disagrees with the model");
		if (it % 1024 == 0) {
			struct mm_buddy_events ev;
			mm_buddy_events(b, &ev);
			uint64_t alloc = ev.pgalloc[0] + ev.pgalloc[1] + ev.pgalloc[2];
			if (alloc - ev.pgfree != live_pages)
				mm_test_fail_seed("events: %llu allocated - %llu freed != %llu live",
						  (unsigned long long)alloc,
						  (unsigned long long)ev.pgfree,
						  (unsigned long long)live_pages);
		}
	}
	while (nlive) {
		struct blk bl = live[--nlive];
		mm_free_pages(b, bl.page, bl.order);
	}
	mm_buddy_drain_local(b);
	assert_int_equal(mm_buddy_check(b), 0);
	assert_int_equal(mm_buddy_free_pages(b), NR - nreserved);
	assert_int_equal(mm_buddy_reserved_pages(b), nreserved);
	/* Every page is back and merged to the largest blocks: the free lists
	 * equal those of a fresh allocator with the same reserved pages. */
	char final[2048], fresh[2048];
	mm_buddy_show_buddyinfo(b, final, sizeof(final));
	struct mm_buddy *f = create(pcp, wmarks, batch, high, all_res, nall_res);
	mm_buddy_show_buddyinfo(f, fresh, sizeof(fresh));
	assert_string_equal(final, fresh);
	mm_buddy_destroy(f);
	free(live);
	mm_buddy_destroy(b);
}

static void test_random_no_pcp(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	holes = holes_on_line;
	nholes = MM_ARRAY_SIZE(holes_on_line);
	run(false, false, mm_test_iters(700000), &rng);
}

static void test_random_pcp_watermarks(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() + 1);
	holes = holes_off_line;
	nholes = MM_ARRAY_SIZE(holes_off_line);
	run(true, true, mm_test_iters(700000), &rng);
}

static void test_random_pcp(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() + 2);
	holes = holes_off_line;
	nholes = MM_ARRAY_SIZE(holes_off_line);
	run(true, false, mm_test_iters(600000), &rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_no_pcp),
		cmocka_unit_test(test_random_pcp_watermarks),
		cmocka_unit_test(test_random_pcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
