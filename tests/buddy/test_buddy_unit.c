/* Unit tests of the buddy allocator: split/merge, unaligned ranges and
 * holes, zones and fallback, DMA caps, migrate-type stealing, watermarks,
 * the /proc views and the fragmentation indices. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "buddy_internal.h" /* to corrupt zone fields in the check test */
#include "mmkit/buddy.h"
#include "mmkit/error.h"
#include "mmkit/fragindex.h"
#include "mmkit/rng.h"

static struct mm_buddy *mk(uint64_t start, uint64_t nr, unsigned int max_order, bool zones,
			   bool pcp, const struct mm_pfn_range *res, size_t nres)
{
	struct mm_buddy_config cfg;
	struct mm_buddy *b = NULL;
	mm_buddy_config_init(&cfg, start, nr);
	cfg.max_order = max_order;
	cfg.zones = zones;
	cfg.no_pcp = !pcp;
	cfg.ignore_watermarks = true;
	cfg.reserved = res;
	cfg.nr_reserved = nres;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	assert_int_equal(mm_buddy_check(b), 0);
	return b;
}

/* nr_free of every order of a zone, as one comparable string "a b c ..." */
static void orders(struct mm_buddy *b, enum mm_zone_type t, char *out, size_t n)
{
	struct mm_zone *z = mm_buddy_zone(b, t);
	size_t len = 0;
	out[0] = '\0';
	for (unsigned int o = 0; o < mm_buddy_max_order(b); o++)
		len += (size_t)snprintf(out + len, n - len, "%s%llu", o ? " " : "",
					(unsigned long long)mm_zone_nr_free(z, o));
}

#define ASSERT_ORDERS(b, zone, expect)                      \
	do {                                                \
		char _s[256];                               \
		orders((b), (zone), _s, sizeof(_s));        \
		assert_string_equal(_s, (expect));          \
	} while (0)

/* The textbook example: allocating order 2 from an empty order-3 list splits
 * the order-3 block; one order-2 block stays free; freeing merges back. */
static void test_split_merge_textbook(void **state)
{
	(void)state;
	struct mm_buddy *b = mk(0, 8, 4, false, false, NULL, 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 1");
	struct mm_page *p = mm_alloc_pages(b, MM_GFP_KERNEL, 2);
	assert_non_null(p);
	assert_int_equal(mm_page_to_pfn(b, p), 0);        /* lower half kept */
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 1 0");      /* upper half [4,8) free */
	assert_true(mm_page_state(mm_pfn_to_page(b, 4)) == MM_PAGE_BUDDY);
	assert_int_equal(mm_pfn_to_page(b, 4)->order, 2);
	assert_int_equal(p->refcount, 1);
	assert_int_equal(mm_buddy_check(b), 0);
	/* order 0 splits the order-2 block into 1 + 2 + 1 */
	struct mm_page *q = mm_alloc_pages(b, MM_GFP_KERNEL, 0);
	assert_int_equal(mm_page_to_pfn(b, q), 4);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "1 1 0 0");
	mm_free_pages(b, q, 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 1 0");
	mm_free_pages(b, p, 2);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 1");
	assert_int_equal(mm_buddy_check(b), 0);
	assert_null(mm_alloc_pages(b, 0, 4));             /* order >= max_order */
	struct mm_page *all = mm_alloc_pages(b, 0, 3);
	assert_null(mm_alloc_pages(b, 0, 0));             /* counted as a failure */
	mm_free_pages(b, all, 3);
	struct mm_buddy_events ev;
	mm_buddy_events(b, &ev);
	assert_int_equal(ev.pgalloc[MM_ZONE_NORMAL], 4 + 1 + 8);
	assert_int_equal(ev.pgfree, 1 + 4 + 8);
	assert_int_equal(ev.alloc_fail, 1);
	mm_buddy_destroy(b);
}

/* Unaligned start, a reserved hole: blocks are the largest aligned pieces. */
static void test_unaligned_and_holes(void **state)
{
	(void)state;
	struct mm_pfn_range hole = { 10, 2 };
	/* [3, 32): 3 | 4-7 | 8-9 | (10-11 reserved) | 12-15 | 16-31 */
	struct mm_buddy *b = mk(3, 29, 5, false, false, &hole, 1);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "1 1 2 0 1");
	assert_int_equal(mm_buddy_reserved_pages(b), 2);
	assert_int_equal(mm_buddy_free_pages(b), 27);
	assert_true(mm_page_state(mm_pfn_to_page(b, 10)) == MM_PAGE_RESERVED);
	assert_null(mm_pfn_to_page(b, 2));
	assert_null(mm_pfn_to_page(b, 32));
	/* take every page one by one: never a reserved one, never twice */
	struct mm_page *pages[32];
	int n = 0;
	struct mm_page *p;
	while ((p = mm_alloc_pages(b, 0, 0)) != NULL) {
		uint64_t pfn = mm_page_to_pfn(b, p);
		assert_true(pfn >= 3 && pfn < 32 && pfn != 10 && pfn != 11);
		pages[n++] = p;
		assert_int_equal(mm_buddy_check(b), 0);
	}
	assert_int_equal(n, 27);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 0 0");
	for (int i = n - 1; i >= 0; i -= 2)
		mm_free_pages(b, pages[i], 0);
	for (int i = n - 2; i >= 0; i -= 2)
		mm_free_pages(b, pages[i], 0);
	assert_int_equal(mm_buddy_check(b), 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "1 1 2 0 1"); /* merged back exactly */
	mm_buddy_destroy(b);
}

/* Late reserve: free pages leave the buddy, allocated ones refuse. */
static void test_late_reserve(void **state)
{
	(void)state;
	struct mm_buddy *b = mk(0, 64, 7, false, true, NULL, 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 0 0 0 1");
	struct mm_page *p = mm_alloc_pages(b, 0, 0);       /* pfn 0, via the cache */
	assert_int_equal(mm_page_to_pfn(b, p), 0);
	char before[512], after[512];
	mm_buddy_show_buddyinfo(b, before, sizeof(before));
	assert_int_equal(mm_buddy_reserve(b, 0, 2), -MM_EBUSY);   /* pfn 0 in use */
	assert_int_equal(mm_buddy_reserve(b, 60, 5), -MM_EINVAL);
	assert_int_equal(mm_buddy_reserve(b, 3, 0), -MM_EINVAL);
	assert_int_equal(mm_buddy_reserved_pages(b), 0);
	mm_buddy_show_buddyinfo(b, after, sizeof(after));
	assert_string_equal(before, after);                 /* nothing changed */
	assert_int_equal(mm_buddy_check(b), 0);
	/* reserve [5, 8) and [33, 34): the blocks around them stay free */
	assert_int_equal(mm_buddy_reserve(b, 5, 3), 0);
	assert_int_equal(mm_buddy_reserve(b, 33, 1), 0);
	assert_int_equal(mm_buddy_reserve(b, 5, 1), 0);              /* again: fine */
	assert_int_equal(mm_buddy_reserved_pages(b), 4);
	assert_int_equal(mm_zone_managed_pages(mm_buddy_zone(b, MM_ZONE_NORMAL)), 60);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_free_pages(b, p, 0);
	mm_buddy_drain_local(b);
	/* free: 0-3 (o2) 4 (o0) 8-15 (o3) 16-31 (o4) 32 (o0) 34-35 (o1)
	 * 36-39 (o2) 40-47 (o3) 48-63 (o4) */
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "2 1 2 2 2 0 0");
	int n = 0;
	struct mm_page *q;
	while ((q = mm_alloc_pages(b, 0, 0)) != NULL) {
		uint64_t pfn = mm_page_to_pfn(b, q);
		assert_false((pfn >= 5 && pfn < 8) || pfn == 33);
		n++;
	}
	assert_int_equal(n, 60);
	mm_buddy_destroy(b);
}

/* The per-thread cache: refill by batch, drain by batch at high. */
static void test_pcp_batch_high(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 0, 256);
	cfg.ignore_watermarks = true;
	cfg.pcp_batch = 4;
	cfg.pcp_high = 12;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_page *pg[32];
	pg[0] = mm_alloc_pages(b, 0, 0);
	assert_int_equal(mm_buddy_free_pages(b), 256 - 4);   /* one refill of 4 */
	for (int i = 1; i < 4; i++)
		pg[i] = mm_alloc_pages(b, 0, 0);
	assert_int_equal(mm_buddy_free_pages(b), 256 - 4);   /* served by the cache */
	pg[4] = mm_alloc_pages(b, 0, 0);
	assert_int_equal(mm_buddy_free_pages(b), 256 - 8);   /* second refill */
	for (int i = 5; i < 20; i++)
		pg[i] = mm_alloc_pages(b, 0, 0);
	assert_int_equal(mm_buddy_free_pages(b), 256 - 20);
	/* free 11: the cache holds 11 < high */
	for (int i = 0; i < 11; i++)
		mm_free_pages(b, pg[i], 0);
	assert_int_equal(mm_buddy_free_pages(b), 256 - 20);
	mm_free_pages(b, pg[11], 0);                          /* count 12 = high: drain 4 */
	assert_int_equal(mm_buddy_free_pages(b), 256 - 20 + 4);
	assert_int_equal(mm_buddy_check(b), 0);
	for (int i = 12; i < 20; i++)
		mm_free_pages(b, pg[i], 0);
	mm_buddy_drain_local(b);
	assert_int_equal(mm_buddy_free_pages(b), 256);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 0 0 0 0 0 1 0 0");
	struct mm_buddy_events ev;
	mm_buddy_events(b, &ev);
	assert_int_equal(ev.pgalloc[MM_ZONE_NORMAL], 20);
	assert_int_equal(ev.pgalloc[MM_ZONE_DMA], 0);
	assert_int_equal(ev.pgfree, 20);
	assert_int_equal(ev.alloc_fail, 0);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* sizes the int counters cannot hold are refused */
	cfg.pcp_batch = 1u << 31;
	cfg.pcp_high = 0;
	assert_int_equal(mm_buddy_create(&cfg, &b), -MM_EINVAL);
	cfg.pcp_batch = 4;
	cfg.pcp_high = UINT_MAX;
	assert_int_equal(mm_buddy_create(&cfg, &b), -MM_EINVAL);
	cfg.pcp_batch = MM_PCP_LIMIT;
	cfg.pcp_high = MM_PCP_LIMIT;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_page *p = mm_alloc_pages(b, 0, 0);   /* takes the whole zone */
	assert_int_equal(mm_buddy_free_pages(b), 0);
	mm_free_pages(b, p, 0);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_drain_local(b);
	assert_int_equal(mm_buddy_free_pages(b), 256);
	mm_buddy_destroy(b);
}

/* The cache stays bounded whatever the mix of types. With batch 2, a drain
 * that always started at the unmovable list and took one page per list
 * never reached the reclaimable list: keeping one unmovable and one movable
 * page cached (each refill brings 2, the allocation takes 1) while freeing
 * reclaimable pages made that list grow by one page per round, without
 * bound. A drain starts at the list just freed to (Linux's
 * free_pcppages_bulk). Max order 3 makes every block a whole pageblock, so
 * each type gets pageblocks of its own and frees land on its list. */
static void test_pcp_bounded(void **state)
{
	(void)state;
	enum { ROUNDS = 200 };
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 0, 2048);
	cfg.max_order = 3;
	cfg.ignore_watermarks = true;
	cfg.pcp_batch = 2;
	cfg.pcp_high = 3;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_page *rec[ROUNDS], *held[2 * ROUNDS];
	for (int i = 0; i < ROUNDS; i++)
		assert_non_null(rec[i] = mm_alloc_pages(b, MM_GFP_RECLAIMABLE, 0));
	mm_buddy_drain_local(b);
	int nheld = 0;
	for (int i = 0; i < ROUNDS; i++) {
		assert_non_null(held[nheld++] = mm_alloc_pages(b, MM_GFP_KERNEL, 0));
		assert_non_null(held[nheld++] = mm_alloc_pages(b, MM_GFP_MOVABLE, 0));
		mm_free_pages(b, rec[i], 0);
		/* pages neither free in the zone nor allocated sit in the cache */
		uint64_t cached = 2048 - mm_buddy_free_pages(b) - (uint64_t)nheld - (ROUNDS - 1 - i);
		if (cached >= 3 + 3 * 2)
			fail_msg("round %d: %llu pages in the cache (high 3, batch 2)", i,
				 (unsigned long long)cached);
	}
	assert_int_equal(mm_buddy_check(b), 0);
	for (int i = 0; i < nheld; i++)
		mm_free_pages(b, held[i], 0);
	mm_buddy_drain_local(b);
	assert_int_equal(mm_buddy_free_pages(b), 2048);
	mm_buddy_destroy(b);
}

/* Pages in a per-thread cache neither merge nor serve other requests: with
 * all 64 pages of an instance in this thread's cache an order-6 request and
 * an order-0 request of another migrate type fail; after a drain both work
 * (the documented retry for callers, as Linux's slow path drains). */
static void test_pcp_pages_need_drain(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 0, 64);
	cfg.max_order = 7;
	cfg.ignore_watermarks = true;
	cfg.pcp_batch = 16;
	cfg.pcp_high = 96;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_page *pg[64];
	for (int i = 0; i < 64; i++)
		assert_non_null(pg[i] = mm_alloc_pages(b, MM_GFP_MOVABLE, 0));
	for (int i = 0; i < 64; i++)
		mm_free_pages(b, pg[i], 0);
	assert_int_equal(mm_buddy_free_pages(b), 0);       /* all cached */
	assert_null(mm_alloc_pages(b, MM_GFP_MOVABLE, 6));
	assert_null(mm_alloc_pages(b, MM_GFP_KERNEL, 0));  /* other type's list */
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_drain_all(b);
	assert_int_equal(mm_buddy_free_pages(b), 64);
	struct mm_page *big = mm_alloc_pages(b, MM_GFP_MOVABLE, 6);
	assert_non_null(big);
	mm_free_pages(b, big, 6);
	struct mm_page *u = mm_alloc_pages(b, MM_GFP_KERNEL, 0);
	assert_non_null(u);
	mm_free_pages(b, u, 0);
	mm_buddy_destroy(b);
}

/* mm_buddy_check notices broken invariants. */
static void test_check_detects_corruption(void **state)
{
	(void)state;
	struct mm_pfn_range hole = { 9, 1 };
	struct mm_buddy *b = mk(0, 16, 5, false, false, &hole, 1);
	/* 0-7 (o3) 8 (o0) | 9 reserved | 10-11 (o1) 12-15 (o2) */
	struct mm_page *head = mm_pfn_to_page(b, 12);
	struct mm_page *res = mm_pfn_to_page(b, 9);
	assert_int_equal(mm_page_state(head), MM_PAGE_BUDDY);
	head->order = 1;                                       /* wrong order */
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	head->order = 2;
	assert_int_equal(mm_buddy_check(b), 0);
	res->state = MM_PAGE_HEAD;                             /* reserved page "allocated" */
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	res->state = MM_PAGE_RESERVED;
	mm_pfn_to_page(b, 13)->state = MM_PAGE_PCP;            /* flag inside a free block */
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	mm_pfn_to_page(b, 13)->state = 0;
	struct mm_page *p = mm_alloc_pages(b, 0, 0);           /* pfn 8 */
	assert_int_equal(mm_page_to_pfn(b, p), 8);
	p->state = 0;                                          /* allocated page lost */
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	p->state = MM_PAGE_HEAD;
	assert_int_equal(mm_buddy_check(b), 0);
	mm_free_pages(b, p, 0);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* an allocated block that is not naturally aligned: pfn 1 claims
	 * order 1 (pages 1-2) and page 2's own head is gone */
	b = mk(0, 16, 5, false, false, NULL, 0);
	struct mm_page *pg[16];
	for (int i = 0; i < 16; i++)
		pg[i] = mm_alloc_pages(b, 0, 0);
	assert_int_equal(mm_page_to_pfn(b, pg[2]), 2);
	assert_int_equal(mm_buddy_check(b), 0);
	pg[1]->order = 1;
	pg[2]->state = 0;
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	pg[1]->order = 0;
	pg[2]->state = MM_PAGE_HEAD;
	assert_int_equal(mm_buddy_check(b), 0);
	for (int i = 0; i < 16; i++)
		mm_free_pages(b, pg[i], 0);
	/* a cached watermark threshold that disagrees with min */
	struct mm_zone *z = mm_buddy_zone(b, MM_ZONE_NORMAL);
	assert_int_equal(mm_zone_set_watermarks(z, 4, 5, 6), 0);
	assert_int_equal(mm_buddy_check(b), 0);
	atomic_store(&z->wmark[MM_WMARK_MIN], 3);
	assert_int_equal(mm_buddy_check(b), -MM_ECORRUPT);
	atomic_store(&z->wmark[MM_WMARK_MIN], 4);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);
}

/* Zones split by physical address; normal allocations prefer the highest
 * zone and fall back to lower ones; GFP_DMA is capped at ZONE_DMA. */
static void test_zones_and_fallback(void **state)
{
	(void)state;
	/* [4000, 4200): DMA = [4000, 4096), DMA32 = [4096, 4200) */
	struct mm_buddy *b = mk(4000, 200, 11, true, false, NULL, 0);
	struct mm_zone *dma = mm_buddy_zone(b, MM_ZONE_DMA);
	struct mm_zone *dma32 = mm_buddy_zone(b, MM_ZONE_DMA32);
	assert_non_null(dma);
	assert_non_null(dma32);
	assert_null(mm_buddy_zone(b, MM_ZONE_NORMAL));
	assert_int_equal(mm_zone_present_pages(dma), 96);
	assert_int_equal(mm_zone_present_pages(dma32), 104);
	ASSERT_ORDERS(b, MM_ZONE_DMA, "0 0 0 0 0 1 1 0 0 0 0");
	ASSERT_ORDERS(b, MM_ZONE_DMA32, "0 0 0 1 0 1 1 0 0 0 0");

	struct mm_page *d = mm_alloc_pages(b, MM_GFP_DMA, 3);
	assert_non_null(d);
	assert_true(mm_page_to_pfn(b, d) < MM_ZONE_DMA_END_PFN);
	assert_ptr_equal(mm_page_zone(b, d), dma);
	mm_free_pages(b, d, 3);

	/* ordinary order-0 allocations: all of DMA32 first, then DMA */
	struct mm_page **pg = calloc(200, sizeof(*pg));
	for (int i = 0; i < 200; i++) {
		pg[i] = mm_alloc_pages(b, 0, 0);
		assert_non_null(pg[i]);
		uint64_t pfn = mm_page_to_pfn(b, pg[i]);
		if (i < 104)
			assert_true(pfn >= 4096);
		else
			assert_true(pfn < 4096);
	}
	assert_null(mm_alloc_pages(b, 0, 0));
	assert_null(mm_alloc_pages(b, MM_GFP_DMA, 0));
	/* a free DMA32 page is not usable by GFP_DMA */
	mm_free_pages(b, pg[0], 0);
	assert_null(mm_alloc_pages(b, MM_GFP_DMA, 0));
	pg[0] = mm_alloc_pages(b, MM_GFP_DMA32, 0);
	assert_non_null(pg[0]);
	for (int i = 0; i < 200; i++)
		mm_free_pages(b, pg[i], 0);
	free(pg);
	assert_int_equal(mm_buddy_check(b), 0);
	ASSERT_ORDERS(b, MM_ZONE_DMA, "0 0 0 0 0 1 1 0 0 0 0");
	ASSERT_ORDERS(b, MM_ZONE_DMA32, "0 0 0 1 0 1 1 0 0 0 0");
	mm_buddy_destroy(b);
}

/* Across the 4 GiB line: Normal first, DMA32 below it, no DMA zone. */
static void test_normal_zone_above_4g(void **state)
{
	(void)state;
	uint64_t line = MM_ZONE_DMA32_END_PFN;
	struct mm_buddy *b = mk(line - 64, 192, 11, true, true, NULL, 0);
	assert_null(mm_buddy_zone(b, MM_ZONE_DMA));
	assert_int_equal(mm_zone_present_pages(mm_buddy_zone(b, MM_ZONE_DMA32)), 64);
	assert_int_equal(mm_zone_present_pages(mm_buddy_zone(b, MM_ZONE_NORMAL)), 128);
	struct mm_page *p = mm_alloc_pages(b, 0, 3);
	assert_true(mm_page_to_pfn(b, p) >= line);
	struct mm_page *q = mm_alloc_pages(b, MM_GFP_DMA32, 3);
	assert_true(mm_page_to_pfn(b, q) + 8 <= line);
	assert_null(mm_alloc_pages(b, MM_GFP_DMA, 0));   /* no DMA zone here */
	/* an order-7 block cannot span the zone line: Normal holds exactly one */
	struct mm_page *big = mm_alloc_pages(b, 0, 7);
	assert_null(big);                                  /* Normal has p in it */
	mm_free_pages(b, p, 3);
	big = mm_alloc_pages(b, 0, 7);
	assert_non_null(big);
	assert_int_equal(mm_page_to_pfn(b, big), line);
	mm_free_pages(b, big, 7);
	mm_free_pages(b, q, 3);
	assert_int_equal(mm_buddy_check(b), 0);
	char buf[1024];
	mm_buddy_show_buddyinfo(b, buf, sizeof(buf));
	assert_string_equal(buf,
		"Node 0, zone    DMA32      0      0      0      0      0      0      1      0      0      0      0 \n"
		"Node 0, zone   Normal      0      0      0      0      0      0      0      1      0      0      0 \n");
	mm_buddy_destroy(b);
}

/* Watermarks and lowmem_reserve with enforcement on, no per-thread cache.
 * [4000, 6000): DMA 96 pages, DMA32 1904 pages, 2000 managed.
 *   min_free_kbytes = int_sqrt(16 * 8000) = 357; pages_min = 89
 *   DMA min = 89 * 96 / 2000 = 4;  DMA32 min = 89 * 1904 / 2000 = 84
 *   DMA step = max(4/4, 96*10/10000) = 1: low 5, high 6
 *   DMA32 step = max(84/4, 1904*10/10000) = 21: low 105, high 126
 *   DMA lowmem_reserve[DMA32] = 1904 / 256 = 7 */
static void test_watermarks_enforced(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 4000, 2000);
	cfg.zones = true;
	cfg.no_pcp = true;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_zone *dma = mm_buddy_zone(b, MM_ZONE_DMA);
	struct mm_zone *dma32 = mm_buddy_zone(b, MM_ZONE_DMA32);
	assert_int_equal(mm_zone_wmark(dma, MM_WMARK_MIN), 4);
	assert_int_equal(mm_zone_wmark(dma, MM_WMARK_LOW), 5);
	assert_int_equal(mm_zone_wmark(dma, MM_WMARK_HIGH), 6);
	assert_int_equal(mm_zone_wmark(dma32, MM_WMARK_MIN), 84);
	assert_int_equal(mm_zone_wmark(dma32, MM_WMARK_LOW), 105);
	assert_int_equal(mm_zone_wmark(dma32, MM_WMARK_HIGH), 126);
	assert_int_equal(mm_zone_lowmem_reserve(dma, MM_ZONE_DMA32), 7);
	assert_int_equal(mm_zone_lowmem_reserve(dma, MM_ZONE_DMA), 0);
	assert_int_equal(mm_zone_lowmem_reserve(dma32, MM_ZONE_NORMAL), 0);

	int n32 = 0, ndma = 0;
	struct mm_page *p;
	while ((p = mm_alloc_pages(b, 0, 0)) != NULL) {
		if (mm_page_to_pfn(b, p) >= 4096)
			n32++;
		else
			ndma++;
	}
	/* DMA32 stops at free == min (84); DMA at free == min + reserve (11) */
	assert_int_equal(n32, 1904 - 84);
	assert_int_equal(ndma, 96 - 11);
	assert_int_equal(mm_zone_free_pages(dma32), 84);
	assert_int_equal(mm_zone_free_pages(dma), 11);
	assert_false(mm_zone_watermark_ok(dma32, 0, 84, MM_ZONE_DMA32, 0));
	assert_true(mm_zone_watermark_ok(dma32, 0, 83, MM_ZONE_DMA32, 0)); /* leaves 83 */
	assert_false(mm_zone_watermark_ok(dma32, 1, 83, MM_ZONE_DMA32, 0)); /* would leave 82 */
	{
		/* refusals below the watermark change nothing */
		char before[1024], after[1024];
		mm_buddy_show_buddyinfo(b, before, sizeof(before));
		for (unsigned int o = 0; o < 4; o++)
			assert_null(mm_alloc_pages(b, MM_GFP_MOVABLE, o));
		mm_buddy_show_buddyinfo(b, after, sizeof(after));
		assert_string_equal(before, after);
	}
	assert_true(mm_zone_watermark_ok(dma32, 0, 84, MM_ZONE_DMA32, MM_GFP_HIGH));
	/* GFP_DMA: classzone DMA, no reserve: down to min (4) */
	int n = 0;
	while (mm_alloc_pages(b, MM_GFP_DMA, 0))
		n++;
	assert_int_equal(n, 11 - 4);
	/* __GFP_HIGH: half of min; ATOMIC: a further quarter of that */
	n = 0;
	while (mm_alloc_pages(b, MM_GFP_DMA | MM_GFP_HIGH, 0))
		n++;
	assert_int_equal(n, 2);        /* min 4 -> 2 */
	n = 0;
	while (mm_alloc_pages(b, MM_GFP_DMA | MM_GFP_ATOMIC, 0))
		n++;
	assert_int_equal(n, 0);        /* 2 - 2/4 = 2: no further page */
	n = 0;
	while (mm_alloc_pages(b, MM_GFP_ATOMIC, 0))
		n++;
	/* DMA32: min 84 -> 42 -> 42 - 10 = 32: 84 - 32 = 52 pages */
	assert_int_equal(n, 52);
	assert_int_equal(mm_buddy_check(b), 0);
	/* an override takes effect */
	assert_int_equal(mm_zone_set_watermarks(dma32, 0, 1, 2), 0);
	assert_non_null(mm_alloc_pages(b, 0, 0));
	assert_int_equal(mm_zone_set_watermarks(dma32, 3, 2, 1), -MM_EINVAL);
	/* the largest marks refuse everything: nothing wraps around, neither
	 * the order-0 threshold nor the query nor the order > 0 check */
	assert_int_equal(mm_zone_set_watermarks(dma32, UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(mm_zone_set_watermarks(dma, UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
	assert_false(mm_zone_watermark_ok(dma32, 0, UINT64_MAX, MM_ZONE_DMA32, 0));
	assert_false(mm_zone_watermark_ok(dma, 0, UINT64_MAX, MM_ZONE_DMA32, MM_GFP_ATOMIC));
	for (unsigned int o = 0; o < 3; o++) {
		assert_null(mm_alloc_pages(b, 0, o));
		assert_null(mm_alloc_pages(b, MM_GFP_ATOMIC, o));
		assert_null(mm_alloc_pages(b, MM_GFP_DMA | MM_GFP_HIGH, o));
	}
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);
}

/* Watermark values compared with Linux's formula, worked by hand.
 * 64 MiB from PFN 0 (DMA 4096 pages, DMA32 12288):
 *   min_free_kbytes = int_sqrt(16 * 65536) = 1024, pages_min = 256
 *   DMA:   min 256*4096/16384 = 64,   step max(16, 4)  = 16 -> low 80,  high 96
 *   DMA32: min 256*12288/16384 = 192, step max(48, 12) = 48 -> low 240, high 288
 *   lowmem_reserve DMA[DMA32] = DMA[Normal] = 12288/256 = 48
 * 1 GiB from PFN 0 (DMA 4096, DMA32 258048):
 *   min_free_kbytes = int_sqrt(16 * 1048576) = 4096, pages_min = 1024
 *   DMA:   min 1024*4096/262144 = 16,     step max(4, 4)     = 4   -> 20, 24
 *   DMA32: min 1024*258048/262144 = 1008, step max(252, 258) = 258 -> 1266, 1524
 *   lowmem_reserve DMA[DMA32] = 258048/256 = 1008 */
static void test_watermark_values(void **state)
{
	(void)state;
	assert_int_equal(mm_calc_min_free_kbytes(1024), 128);       /* sqrt(16384) = 128 */
	assert_int_equal(mm_calc_min_free_kbytes(256), 128);        /* 64 -> clamped up */
	assert_int_equal(mm_calc_min_free_kbytes(8000), 357);       /* sqrt(128000) = 357.7 */
	assert_int_equal(mm_calc_min_free_kbytes(16ULL << 20), 16384); /* 16 GiB */
	assert_int_equal(mm_calc_min_free_kbytes(1ULL << 30), 131072); /* 1 TiB */
	assert_int_equal(mm_calc_min_free_kbytes(16ULL << 30), 262144); /* clamped down */

	static const struct {
		uint64_t pages;
		uint64_t min[2], low[2], high[2], reserve;
	} cases[] = {
		{ 16384, { 64, 192 }, { 80, 240 }, { 96, 288 }, 48 },
		{ 262144, { 16, 1008 }, { 20, 1266 }, { 24, 1524 }, 1008 },
	};
	for (size_t i = 0; i < MM_ARRAY_SIZE(cases); i++) {
		struct mm_buddy_config cfg;
		struct mm_buddy *b;
		mm_buddy_config_init(&cfg, 0, cases[i].pages);
		cfg.zones = true;
		cfg.no_pcp = true;
		assert_int_equal(mm_buddy_create(&cfg, &b), 0);
		for (int z = 0; z < 2; z++) {
			struct mm_zone *zone = mm_buddy_zone(b, (enum mm_zone_type)z);
			assert_int_equal(mm_zone_wmark(zone, MM_WMARK_MIN), cases[i].min[z]);
			assert_int_equal(mm_zone_wmark(zone, MM_WMARK_LOW), cases[i].low[z]);
			assert_int_equal(mm_zone_wmark(zone, MM_WMARK_HIGH), cases[i].high[z]);
		}
		assert_int_equal(mm_zone_lowmem_reserve(mm_buddy_zone(b, MM_ZONE_DMA), MM_ZONE_DMA32),
				 cases[i].reserve);
		assert_int_equal(mm_zone_lowmem_reserve(mm_buddy_zone(b, MM_ZONE_DMA), MM_ZONE_NORMAL),
				 cases[i].reserve);
		/* zone_batchsize(): DMA32 of 64 MiB: 12288 >> 10 = 12, /4 = 3,
		 * rounddown_pow_of_two(3 + 1) - 1 = 3; of 1 GiB: 252 -> 63 ->
		 * rounddown_pow_of_two(94) - 1 = 63; high = 6 * batch */
		struct mm_zone *d32 = mm_buddy_zone(b, MM_ZONE_DMA32);
		unsigned int want_batch = i == 0 ? 3 : 63;
		assert_int_equal(mm_zone_pcp_batch(d32), want_batch);
		assert_int_equal(mm_zone_pcp_high(d32), 6 * want_batch);
		/* a min_free_kbytes override: 4096 KiB = 1024 pages split by size */
		mm_buddy_setup_watermarks(b, 4096, 0);
		uint64_t m0 = mm_zone_wmark(mm_buddy_zone(b, MM_ZONE_DMA), MM_WMARK_MIN);
		uint64_t m1 = mm_zone_wmark(mm_buddy_zone(b, MM_ZONE_DMA32), MM_WMARK_MIN);
		assert_int_equal(m0, 1024 * 4096 / cases[i].pages);
		assert_int_equal(m1, 1024 * (cases[i].pages - 4096) / cases[i].pages);
		/* absurd sysctls do not wrap around: min_free_kbytes = 2^62 is
		 * 2^60 pages, far more than the zone, and pages_min * managed
		 * (a multiple of 2^64 here) must not come out as 0 */
		mm_buddy_setup_watermarks(b, 1UL << 62, UINT_MAX);
		for (int z = 0; z < 2; z++) {
			struct mm_zone *zone = mm_buddy_zone(b, (enum mm_zone_type)z);
			uint64_t want = (1ULL << 60) / cases[i].pages * mm_zone_managed_pages(zone);
			assert_int_equal(mm_zone_wmark(zone, MM_WMARK_MIN), want);
			assert_true(mm_zone_wmark(zone, MM_WMARK_LOW) > want);
			assert_true(mm_zone_wmark(zone, MM_WMARK_HIGH) >= mm_zone_wmark(zone, MM_WMARK_LOW));
		}
		assert_null(mm_alloc_pages(b, 0, 0));
		assert_null(mm_alloc_pages(b, MM_GFP_ATOMIC, 2));
		assert_int_equal(mm_buddy_check(b), 0);
		mm_buddy_destroy(b);
	}
}

/* Migrate-type fallback: claiming whole pageblocks, and not claiming. */
static void test_migratetype_stealing(void **state)
{
	(void)state;
	/* 1024 pages, one order-10 block, two pageblocks of 512, both movable */
	struct mm_buddy *b = mk(0, 1024, 11, false, false, NULL, 0);
	assert_int_equal(mm_buddy_pageblock_order(b), 9);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 0), MM_MIGRATE_MOVABLE);
	/* an unmovable page steals the order-10 block: >= pageblock, both
	 * pageblocks become unmovable */
	struct mm_page *u = mm_alloc_pages(b, MM_GFP_KERNEL, 0);
	assert_int_equal(mm_page_to_pfn(b, u), 0);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 0), MM_MIGRATE_UNMOVABLE);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 512), MM_MIGRATE_UNMOVABLE);
	assert_int_equal(mm_buddy_check(b), 0);
	/* a movable page now steals the largest unmovable block (512..1023,
	 * a whole pageblock) and converts that pageblock */
	struct mm_page *m = mm_alloc_pages(b, MM_GFP_MOVABLE, 0);
	assert_int_equal(mm_page_to_pfn(b, m), 512);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 512), MM_MIGRATE_MOVABLE);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 0), MM_MIGRATE_UNMOVABLE);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_free_pages(b, u, 0);
	mm_free_pages(b, m, 0);
	/* the merged order-10 block takes the type of the block freed last:
	 * both pageblocks are movable again, on the movable list */
	assert_int_equal(mm_buddy_check(b), 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "0 0 0 0 0 0 0 0 0 0 1");
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 0), MM_MIGRATE_MOVABLE);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 512), MM_MIGRATE_MOVABLE);
	mm_buddy_destroy(b);

	/* partial pageblock, enough free: claimed (free 256 >= 512/2) */
	b = mk(0, 1024, 11, false, false, NULL, 0);
	struct mm_page *a9 = mm_alloc_pages(b, MM_GFP_MOVABLE, 9);   /* 0..511 */
	struct mm_page *a8 = mm_alloc_pages(b, MM_GFP_MOVABLE, 8);   /* 512..767 */
	assert_int_equal(mm_page_to_pfn(b, a9), 0);
	assert_int_equal(mm_page_to_pfn(b, a8), 512);
	u = mm_alloc_pages(b, MM_GFP_RECLAIMABLE, 0);
	assert_int_equal(mm_page_to_pfn(b, u), 768);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 512), MM_MIGRATE_RECLAIMABLE);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_free_pages(b, u, 0);
	mm_free_pages(b, a8, 8);
	mm_free_pages(b, a9, 9);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* partial pageblock, too little free (128 < 256): only the page is
	 * taken, the pageblock stays movable and the rest stays movable */
	b = mk(0, 1024, 11, false, false, NULL, 0);
	a9 = mm_alloc_pages(b, MM_GFP_MOVABLE, 9);
	a8 = mm_alloc_pages(b, MM_GFP_MOVABLE, 8);
	struct mm_page *a7 = mm_alloc_pages(b, MM_GFP_MOVABLE, 7); /* 768..895 */
	assert_int_equal(mm_page_to_pfn(b, a7), 768);
	u = mm_alloc_pages(b, MM_GFP_KERNEL, 0);
	assert_int_equal(mm_page_to_pfn(b, u), 896);
	assert_int_equal(mm_buddy_pageblock_migratetype(b, 512), MM_MIGRATE_MOVABLE);
	assert_int_equal(mm_buddy_check(b), 0);
	char buf[4096];
	mm_buddy_show_pagetypeinfo(b, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Node    0, zone   Normal, type      Movable      1      1      1      1      1      1      1      0      0      0      0 \n"));
	assert_non_null(strstr(buf, "Node 0, zone   Normal            0            2            0            0            0 \n"));
	mm_buddy_destroy(b);
}

/* Exact /proc/buddyinfo and /proc/pagetypeinfo text for a small instance. */
static void test_views_exact(void **state)
{
	(void)state;
	struct mm_buddy *b = mk(4000, 200, 11, true, false, NULL, 0);
	char buf[8192];
	const char *bi =
		"Node 0, zone      DMA      0      0      0      0      0      1      1      0      0      0      0 \n"
		"Node 0, zone    DMA32      0      0      0      1      0      1      1      0      0      0      0 \n";
	size_t n = mm_buddy_show_buddyinfo(b, buf, sizeof(buf));
	assert_string_equal(buf, bi);
	assert_int_equal(n, strlen(bi));
	/* truncation follows snprintf */
	char small[10];
	assert_int_equal(mm_buddy_show_buddyinfo(b, small, sizeof(small)), strlen(bi));
	assert_string_equal(small, "Node 0, z");

	/* one unmovable page from DMA32: the order-6 block at 4096 cannot claim
	 * its pageblock (the pageblock crosses the zone end), so it is split
	 * and the remainders stay movable */
	struct mm_page *p = mm_alloc_pages(b, MM_GFP_KERNEL, 0);
	assert_int_equal(mm_page_to_pfn(b, p), 4096);
	const char *pti =
		"Page block order: 9\n"
		"Pages per block:  512\n"
		"\n"
		"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
		"Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone      DMA, type      Movable      0      0      0      0      0      1      1      0      0      0      0 \n"
		"Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone    DMA32, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone    DMA32, type      Movable      1      1      1      2      1      2      0      0      0      0      0 \n"
		"Node    0, zone    DMA32, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone    DMA32, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
		"Node    0, zone    DMA32, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
		"\n"
		"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
		"Node 0, zone      DMA            0            1            0            0            0 \n"
		"Node 0, zone    DMA32            0            1            0            0            0 \n";
	mm_buddy_show_pagetypeinfo(b, buf, sizeof(buf));
	assert_string_equal(buf, pti);
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(mm_buddy_print_pagetypeinfo(b, f), 0);
	rewind(f);
	char fbuf[8192];
	size_t got = fread(fbuf, 1, sizeof(fbuf) - 1, f);
	fbuf[got] = '\0';
	fclose(f);
	assert_string_equal(fbuf, pti);
	mm_free_pages(b, p, 0);
	mm_buddy_destroy(b);
}

/* Fragmentation indices for a hand-built state of 16 pages:
 * free order-0 blocks at 0, 2, 4, 6; order 1 at 8; order 2 at 12.
 * free_pages = 10, blocks = 6.
 *   unusable(j) = (10 - suitable(j) << j) / 10:
 *     j=0: 0; j=1: suitable 3 -> 0.4; j=2: suitable 1 -> 0.6; j>=3: 1
 *   extfrag(j) = -1 while a suitable block exists, then
 *     j=3: 1000 - (1000 + 10000/8) / 6 = 1000 - 375 = 625
 *     j=4: 1000 - (1000 + 10000/16) / 6 = 1000 - 270 = 730 */
static void test_fragmentation_indices(void **state)
{
	(void)state;
	struct mm_buddy *b = mk(0, 16, 5, false, false, NULL, 0);
	struct mm_page *pg[16];
	for (int i = 0; i < 16; i++) {
		pg[i] = mm_alloc_pages(b, 0, 0);
		assert_int_equal(mm_page_to_pfn(b, pg[i]), i);
	}
	static const int to_free[] = { 0, 2, 4, 6, 8, 9, 12, 13, 14, 15 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(to_free); i++)
		mm_free_pages(b, pg[to_free[i]], 0);
	ASSERT_ORDERS(b, MM_ZONE_NORMAL, "4 1 1 0 0");
	struct mm_zone *z = mm_buddy_zone(b, MM_ZONE_NORMAL);
	static const int unusable[] = { 0, 400, 600, 1000, 1000 };
	static const int extfrag[] = { -1000, -1000, -1000, 625, 730 };
	for (unsigned int o = 0; o < 5; o++) {
		assert_int_equal(mm_zone_unusable_index(z, o), unusable[o]);
		assert_int_equal(mm_zone_extfrag_index(z, o), extfrag[o]);
	}
	/* orders beyond any block: no shift past 64 bits (UBSan), Linux's values */
	assert_int_equal(mm_zone_unusable_index(z, 64), 1000);
	assert_int_equal(mm_zone_extfrag_index(z, 64), 0);
	assert_int_equal(mm_zone_extfrag_index(z, 1000), 0);
	char buf[512];
	mm_buddy_show_unusable_index(b, buf, sizeof(buf));
	assert_string_equal(buf, "Node 0, zone   Normal 0.000 0.400 0.600 1.000 1.000 \n");
	mm_buddy_show_extfrag_index(b, buf, sizeof(buf));
	assert_string_equal(buf, "Node 0, zone   Normal -1.000 -1.000 -1.000  0.625  0.730 \n");
	/* nothing free: unusable 1, extfrag 0 */
	int taken = 0;
	while (mm_alloc_pages(b, 0, 0))
		taken++;
	assert_int_equal(taken, 10);
	assert_int_equal(mm_zone_unusable_index(z, 0), 1000);
	assert_int_equal(mm_zone_extfrag_index(z, 0), 0);
	mm_buddy_show_extfrag_index(b, buf, sizeof(buf));
	assert_string_equal(buf, "Node 0, zone   Normal  0.000  0.000  0.000  0.000  0.000 \n");
	mm_buddy_destroy(b);
}

/* A request that cannot be met returns NULL and changes nothing. */
static void test_oom_unchanged(void **state)
{
	(void)state;
	struct mm_pfn_range hole = { 4100, 3 };
	struct mm_buddy *b = mk(4000, 200, 8, true, true, &hole, 1);
	/* fragment: take everything, give back every other page */
	struct mm_page *pg[200];
	int n = 0;
	struct mm_page *p;
	while ((p = mm_alloc_pages(b, MM_GFP_MOVABLE, 0)) != NULL)
		pg[n++] = p;
	for (int i = 0; i < n; i += 2)
		mm_free_pages(b, pg[i], 0);
	mm_buddy_drain_local(b);
	char before[8192], after[8192], tb[8192], ta[8192];
	mm_buddy_show_buddyinfo(b, before, sizeof(before));
	mm_buddy_show_pagetypeinfo(b, tb, sizeof(tb));
	uint64_t free_before = mm_buddy_free_pages(b);
	static const mm_gfp_t gfps[] = { 0, MM_GFP_MOVABLE, MM_GFP_RECLAIMABLE, MM_GFP_DMA,
					 MM_GFP_DMA32 | MM_GFP_HIGH, MM_GFP_ATOMIC | MM_GFP_DMA };
	for (size_t g = 0; g < MM_ARRAY_SIZE(gfps); g++) {
		for (unsigned int o = 1; o < 10; o++) {
			assert_null(mm_alloc_pages(b, gfps[g], o));
			mm_buddy_show_buddyinfo(b, after, sizeof(after));
			mm_buddy_show_pagetypeinfo(b, ta, sizeof(ta));
			assert_string_equal(before, after);
			assert_string_equal(tb, ta);
			assert_int_equal(mm_buddy_free_pages(b), free_before);
			assert_int_equal(mm_buddy_check(b), 0);
		}
	}
	/* now order 0 too: take the rest, then every path must fail cleanly,
	 * including the per-thread cache path (empty cache, refill finds
	 * nothing) */
	struct mm_page *rest[200];
	int nrest = 0;
	while ((p = mm_alloc_pages(b, 0, 0)) != NULL)
		rest[nrest++] = p;
	assert_int_equal(nrest, (n + 1) / 2);           /* the pages freed above */
	mm_buddy_show_buddyinfo(b, before, sizeof(before));
	mm_buddy_show_pagetypeinfo(b, tb, sizeof(tb));
	for (size_t g = 0; g < MM_ARRAY_SIZE(gfps); g++) {
		assert_null(mm_alloc_pages(b, gfps[g], 0));
		mm_buddy_show_buddyinfo(b, after, sizeof(after));
		mm_buddy_show_pagetypeinfo(b, ta, sizeof(ta));
		assert_string_equal(before, after);
		assert_string_equal(tb, ta);
		assert_int_equal(mm_buddy_check(b), 0);
	}
	for (int i = 0; i < nrest; i++)
		mm_free_pages(b, rest[i], 0);
	for (int i = 1; i < n; i += 2)
		mm_free_pages(b, pg[i], 0);
	mm_buddy_drain_local(b);
	assert_int_equal(mm_buddy_check(b), 0);
	assert_int_equal(mm_buddy_free_pages(b), 197);
	mm_buddy_destroy(b);
}

/* After freeing everything and draining the caches every page is back and
 * merged to the largest blocks the range allows. */
static void test_free_all_merges(void **state)
{
	(void)state;
	struct {
		uint64_t start, nr;
		unsigned int max_order;
		const char *expect;
	} cases[] = {
		{ 0, 1024, 11, "0 0 0 0 0 0 0 0 0 0 1" },
		{ 0, 4096, 11, "0 0 0 0 0 0 0 0 0 0 4" },
		/* [5, 1005): 5 | 6-7 | 8-15 | 16-31 | ... | 256-511 | 512-767 |
		 * 768-895 | 896-959 | 960-991 | 992-999 | 1000-1003 | 1004 */
		{ 5, 1000, 11, "2 1 1 2 1 2 2 2 2 0 0" },
		{ 1, 63, 4, "1 1 1 7" },                   /* [1, 64) */
	};
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	for (size_t c = 0; c < MM_ARRAY_SIZE(cases); c++) {
		struct mm_buddy *b = mk(cases[c].start, cases[c].nr, cases[c].max_order, false, true,
					NULL, 0);
		ASSERT_ORDERS(b, MM_ZONE_NORMAL, cases[c].expect);
		struct mm_page **pg = calloc(cases[c].nr, sizeof(*pg));
		unsigned int *ord = calloc(cases[c].nr, sizeof(*ord));
		size_t n = 0;
		for (int round = 0; round < 4000; round++) {
			unsigned int o = (unsigned int)mm_rng_below(&rng, 4);
			struct mm_page *p = mm_alloc_pages(b, (mm_gfp_t)mm_rng_below(&rng, 3) * 8, o);
			if (!p)
				break;
			pg[n] = p;
			ord[n++] = o;
		}
		/* free in random order */
		for (size_t i = n; i > 1; i--) {
			size_t j = mm_rng_below(&rng, i);
			struct mm_page *t = pg[i - 1];
			unsigned int to = ord[i - 1];
			pg[i - 1] = pg[j];
			ord[i - 1] = ord[j];
			pg[j] = t;
			ord[j] = to;
		}
		for (size_t i = 0; i < n; i++)
			mm_free_pages(b, pg[i], ord[i]);
		mm_buddy_drain_local(b);
		assert_int_equal(mm_buddy_check(b), 0);
		assert_int_equal(mm_buddy_free_pages(b), cases[c].nr);
		ASSERT_ORDERS(b, MM_ZONE_NORMAL, cases[c].expect);
		free(pg);
		free(ord);
		mm_buddy_destroy(b);
	}
}

/* Ranges far from PFN 0 and large orders: the top of the PFN space (one
 * past it is refused), a range at 2^40 + 3 with 20 orders, and 20 orders
 * across the 4 GiB line, where a 2^19-page block fits below the line but
 * must not merge across it. Each: take everything in random orders, free
 * it, and find the initial free lists again. */
static void test_extreme_ranges(void **state)
{
	(void)state;
	const uint64_t top = UINT64_MAX >> MM_PAGE_SHIFT;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, top - 4999, 5000);
	assert_int_equal(mm_buddy_create(&cfg, &b), -MM_EINVAL);   /* ends past the top */
	static const struct {
		uint64_t start, nr;
		unsigned int max_order;
	} cases[] = {
		{ (UINT64_MAX >> MM_PAGE_SHIFT) - 5000, 5000, 11 },
		{ (1ULL << 40) + 3, 300000, 20 },
		{ MM_ZONE_DMA32_END_PFN - (1ULL << 19), 1ULL << 20, 20 },
	};
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	for (size_t c = 0; c < MM_ARRAY_SIZE(cases); c++) {
		struct mm_buddy_config cc;
		mm_buddy_config_init(&cc, cases[c].start, cases[c].nr);
		cc.max_order = cases[c].max_order;
		cc.zones = true;
		cc.ignore_watermarks = true;
		assert_int_equal(mm_buddy_create(&cc, &b), 0);
		assert_int_equal(mm_buddy_check(b), 0);
		char before[4096], after[4096];
		mm_buddy_show_buddyinfo(b, before, sizeof(before));
		struct mm_page *pg[4096];
		unsigned int ord[4096];
		size_t n = 0;
		uint64_t taken = 0;
		while (n < 4096) {
			unsigned int o = (unsigned int)mm_rng_below(&rng, cases[c].max_order);
			struct mm_page *p = mm_alloc_pages(b, (mm_gfp_t)mm_rng_below(&rng, 3) * 8, o);
			if (!p) {
				if (!mm_buddy_free_pages(b))
					break;
				continue;
			}
			uint64_t pfn = mm_page_to_pfn(b, p);
			assert_int_equal(pfn & ((1ULL << o) - 1), 0);
			assert_true(pfn >= cases[c].start && pfn + (1ULL << o) <= cases[c].start + cases[c].nr);
			/* never across the 4 GiB line */
			assert_true(pfn >= MM_ZONE_DMA32_END_PFN ||
				    pfn + (1ULL << o) <= MM_ZONE_DMA32_END_PFN);
			pg[n] = p;
			ord[n++] = o;
			taken += 1ULL << o;
		}
		assert_int_equal(mm_buddy_check(b), 0);
		mm_buddy_drain_local(b);   /* refills left pages in this thread's cache */
		assert_int_equal(mm_buddy_free_pages(b) + taken, cases[c].nr);
		while (n) {
			n--;
			mm_free_pages(b, pg[n], ord[n]);
		}
		mm_buddy_drain_local(b);
		assert_int_equal(mm_buddy_check(b), 0);
		mm_buddy_show_buddyinfo(b, after, sizeof(after));
		assert_string_equal(before, after);
		mm_buddy_destroy(b);
	}
	/* the 4 GiB case: one 2^19 block each side of the line */
	mm_buddy_config_init(&cfg, MM_ZONE_DMA32_END_PFN - (1ULL << 19), 1ULL << 20);
	cfg.max_order = 20;
	cfg.zones = true;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	assert_int_equal(mm_zone_nr_free(mm_buddy_zone(b, MM_ZONE_DMA32), 19), 1);
	assert_int_equal(mm_zone_nr_free(mm_buddy_zone(b, MM_ZONE_NORMAL), 19), 1);
	mm_buddy_destroy(b);
}

/* Real memory: addresses, alignment, GFP_ZERO, the page source. */
static void test_real_memory(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 100, 512);
	cfg.ignore_watermarks = true;
	assert_int_equal(mm_buddy_create_mmap(&cfg, &b), 0);
	char *a = mm_get_free_pages(b, 0, 3);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % (MM_PAGE_SIZE << 3), 0);
	struct mm_page *p = mm_virt_to_page(b, a + 5000);
	assert_ptr_equal(p, mm_virt_to_page(b, a) + 1);
	assert_ptr_equal(mm_page_address(b, mm_virt_to_page(b, a)), a);
	assert_int_equal(mm_page_to_pfn(b, mm_virt_to_page(b, a)) % 8, 0);
	memset(a, 0xab, MM_PAGE_SIZE << 3);
	mm_free_pages_addr(b, a, 3);
#ifdef MMKIT_DEBUG
	/* debug builds poison freed pages (the region stays mapped) */
	assert_int_equal((unsigned char)a[100], 0xaa);
	assert_int_equal((unsigned char)a[(MM_PAGE_SIZE << 3) - 1], 0xaa);
#endif
	char *z = mm_get_free_pages(b, MM_GFP_ZERO, 3);
	assert_ptr_equal(z, a);
	for (size_t i = 0; i < MM_PAGE_SIZE << 3; i++)
		if (z[i])
			fail_msg("byte %zu not zeroed", i);
	mm_free_pages_addr(b, z, 3);
	struct mm_page_source ps = mm_buddy_page_source(b);
	void *blk = mm_ps_alloc(&ps, 2, 0);
	assert_non_null(blk);
	assert_int_equal((uintptr_t)blk % (MM_PAGE_SIZE << 2), 0);
	mm_ps_free(&ps, blk, 2);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* simulated mode: no addresses */
	b = mk(0, 64, 4, false, true, NULL, 0);
	assert_null(mm_get_free_pages(b, 0, 0));
	p = mm_alloc_pages(b, MM_GFP_ZERO, 0);
	assert_non_null(p);
	assert_null(mm_page_address(b, p));
	ps = mm_buddy_page_source(b);
	assert_null(mm_ps_alloc(&ps, 0, 0));
	mm_free_pages(b, p, 0);
	mm_buddy_destroy(b);

	/* a misaligned memory base is refused */
	static char raw[3 * 4096];
	mm_buddy_config_init(&cfg, 0, 2);
	cfg.max_order = 1;
	cfg.mem_base = (void *)(MM_ALIGN_UP((uintptr_t)raw, 4096) + 8);
	assert_int_equal(mm_buddy_create(&cfg, &b), -MM_EINVAL);
	cfg.mem_base = NULL;
	cfg.nr_pages = 0;
	assert_int_equal(mm_buddy_create(&cfg, &b), -MM_EINVAL);
}

/* Run fn in a forked child: it must abort (SIGABRT) with a message on
 * stderr containing `want`. */
static void expect_abort(void (*fn)(void), const char *want)
{
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	char msg[1024] = "";
	ssize_t got, total = 0;
	while ((got = read(pipefd[0], msg + total, sizeof(msg) - 1 - (size_t)total)) > 0)
		total += got;
	msg[total] = '\0';
	close(pipefd[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(msg, want));
}

static void double_free(void)
{
	struct mm_buddy *b = mk(0, 16, 5, false, false, NULL, 0);
	struct mm_page *p = mm_alloc_pages(b, 0, 1);
	mm_free_pages(b, p, 1);
	mm_free_pages(b, p, 1);
}

/* One put too many: the first drops the count to 0 and frees the page; the
 * second must not pass silently (the count goes negative, nothing frees). */
static void double_put(void)
{
	struct mm_buddy *b = mk(0, 16, 5, false, true, NULL, 0);
	struct mm_page *p = mm_alloc_pages(b, 0, 0);
	mm_put_page(b, p);
	mm_put_page(b, p);
}

/* A double free or a put of a freed page aborts with a message naming it. */
static void test_double_free_aborts(void **state)
{
	(void)state;
	expect_abort(double_free, "double free");
	expect_abort(double_put, "double free");
}

/* The 32-bit layout (Linux/x86-32): DMA [0, 16 MiB), Normal [16 MiB,
 * 896 MiB), HighMem above; 1 GiB here. min_free_kbytes counts lowmem only
 * (int_sqrt(16 * 917504) = 3831 KiB, 957 pages, split between DMA and
 * Normal); HighMem's min is clamp(32768 / 1024, 32, 128) = 32 with the
 * step of its proportional share (136 / 4 = 34); lowmem_reserve with the
 * ratios DMA 256, Normal 32. Only MM_GFP_HIGHMEM allocations reach
 * HighMem; its zonelist falls back to Normal, then DMA. */
static void test_zones_x86_32(void **state)
{
	(void)state;
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 0, 262144);
	cfg.zones = true;
	cfg.zone_layout = MM_ZONES_X86_32;
	cfg.no_pcp = true;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	struct mm_zone *dma = mm_buddy_zone(b, MM_ZONE_DMA);
	struct mm_zone *nrm = mm_buddy_zone(b, MM_ZONE_NORMAL);
	struct mm_zone *high = mm_buddy_zone(b, MM_ZONE_HIGHMEM);
	assert_null(mm_buddy_zone(b, MM_ZONE_DMA32));
	assert_int_equal(mm_zone_start_pfn(dma), 0);
	assert_int_equal(mm_zone_spanned_pages(dma), 4096);
	assert_int_equal(mm_zone_start_pfn(nrm), 4096);
	assert_int_equal(mm_zone_spanned_pages(nrm), 229376 - 4096);
	assert_int_equal(mm_zone_start_pfn(high), MM_ZONE_HIGHMEM_START_PFN);
	assert_int_equal(mm_zone_spanned_pages(high), 32768);
	assert_string_equal(mm_zone_name(high), "HighMem");
	assert_int_equal(mm_zone_idx(high), MM_ZONE_HIGHMEM);

	assert_int_equal(mm_zone_wmark(dma, MM_WMARK_MIN), 957 * 4096 / 229376);
	assert_int_equal(mm_zone_wmark(nrm, MM_WMARK_MIN), 957ULL * 225280 / 229376);
	assert_int_equal(mm_zone_wmark(high, MM_WMARK_MIN), 32);
	assert_int_equal(mm_zone_wmark(high, MM_WMARK_LOW), 32 + 34);
	assert_int_equal(mm_zone_wmark(high, MM_WMARK_HIGH), 32 + 2 * 34);
	assert_int_equal(mm_zone_lowmem_reserve(dma, MM_ZONE_NORMAL), 225280 / 256);
	assert_int_equal(mm_zone_lowmem_reserve(dma, MM_ZONE_HIGHMEM), (225280 + 32768) / 256);
	assert_int_equal(mm_zone_lowmem_reserve(nrm, MM_ZONE_HIGHMEM), 32768 / 32);
	assert_int_equal(mm_zone_lowmem_reserve(nrm, MM_ZONE_NORMAL), 0);
	assert_int_equal(mm_zone_lowmem_reserve(high, MM_ZONE_HIGHMEM), 0);

	/* kernel allocations never come from HighMem */
	uint64_t high_free = mm_zone_free_pages(high);
	struct mm_page *p;
	for (int i = 0; i < 256; i++) {
		p = mm_alloc_pages(b, 0, i % 4);
		assert_non_null(p);
		assert_true(mm_page_to_pfn(b, p) + (1u << (i % 4)) <= MM_ZONE_HIGHMEM_START_PFN);
		assert_true(mm_page_zone(b, p) == nrm);
	}
	assert_int_equal(mm_zone_free_pages(high), high_free);
	/* no DMA32 zone: MM_GFP_DMA32 means Normal; MM_GFP_DMA means DMA */
	p = mm_alloc_pages(b, MM_GFP_DMA32, 0);
	assert_true(mm_page_zone(b, p) == nrm);
	p = mm_alloc_pages(b, MM_GFP_DMA | MM_GFP_HIGHMEM, 0);
	assert_true(mm_page_zone(b, p) == dma);

	/* user pages: HighMem down to its min, then Normal */
	uint64_t nhigh = 0;
	while ((p = mm_alloc_pages(b, MM_GFP_HIGHUSER_MOVABLE, 0)) != NULL &&
	       mm_page_zone(b, p) == high)
		nhigh++;
	assert_int_equal(nhigh, 32768 - 32);
	assert_non_null(p);
	assert_true(mm_page_zone(b, p) == nrm);
	assert_int_equal(mm_zone_free_pages(high), 32);
	struct mm_buddy_events ev;
	mm_buddy_events(b, &ev);
	assert_int_equal(ev.pgalloc[MM_ZONE_HIGHMEM], 32768 - 32);

	/* the views show the three populated zones, in order */
	char buf[16384];
	mm_buddy_show_buddyinfo(b, buf, sizeof(buf));
	const char *d = strstr(buf, "zone      DMA ");
	const char *n = strstr(buf, "zone   Normal ");
	const char *h = strstr(buf, "zone  HighMem ");
	assert_true(d && n && h && d < n && n < h);
	assert_null(strstr(buf, "DMA32"));
	mm_buddy_show_pagetypeinfo(b, buf, sizeof(buf));
	assert_non_null(strstr(buf, "zone  HighMem, type      Movable"));
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* smaller than 896 MiB: no HighMem at all, everyone uses Normal */
	mm_buddy_config_init(&cfg, 0, 65536);
	cfg.zones = true;
	cfg.zone_layout = MM_ZONES_X86_32;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	assert_null(mm_buddy_zone(b, MM_ZONE_HIGHMEM));
	p = mm_alloc_pages(b, MM_GFP_HIGHUSER_MOVABLE, 0);
	assert_true(mm_page_zone(b, p) == mm_buddy_zone(b, MM_ZONE_NORMAL));
	mm_free_pages(b, p, 0);
	assert_int_equal(mm_buddy_check(b), 0);
	mm_buddy_destroy(b);

	/* the default x86-64 layout ignores MM_GFP_HIGHMEM */
	mm_buddy_config_init(&cfg, 0, 65536);
	cfg.zones = true;
	assert_int_equal(mm_buddy_create(&cfg, &b), 0);
	assert_null(mm_buddy_zone(b, MM_ZONE_HIGHMEM));
	p = mm_alloc_pages(b, MM_GFP_HIGHUSER_MOVABLE, 0);
	assert_true(mm_page_zone(b, p) == mm_buddy_zone(b, MM_ZONE_DMA32));
	mm_free_pages(b, p, 0);
	mm_buddy_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_merge_textbook),
		cmocka_unit_test(test_unaligned_and_holes),
		cmocka_unit_test(test_late_reserve),
		cmocka_unit_test(test_pcp_batch_high),
		cmocka_unit_test(test_pcp_pages_need_drain),
		cmocka_unit_test(test_pcp_bounded),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_zones_and_fallback),
		cmocka_unit_test(test_normal_zone_above_4g),
		cmocka_unit_test(test_watermarks_enforced),
		cmocka_unit_test(test_watermark_values),
		cmocka_unit_test(test_migratetype_stealing),
		cmocka_unit_test(test_views_exact),
		cmocka_unit_test(test_fragmentation_indices),
		cmocka_unit_test(test_oom_unchanged),
		cmocka_unit_test(test_free_all_merges),
		cmocka_unit_test(test_extreme_ranges),
		cmocka_unit_test(test_zones_x86_32),
		cmocka_unit_test(test_real_memory),
		cmocka_unit_test(test_double_free_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
