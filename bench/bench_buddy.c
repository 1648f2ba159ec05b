/* bench_buddy — the buddy allocator against seed 001's bitmap allocator.
 *
 * Timings (ns per operation, best of 25 short runs for the pairs and 5 for
 * the mix: the machine is shared, so the minimum is the least disturbed
 * figure; one process, simulated mode so
 * no page memory is touched; 1 GiB = 262144 pages, one zone):
 *   - order-0 alloc+free pair, buddy with the per-thread cache
 *     (target: < 20 ns; Linux's per-CPU path costs ~160 cycles);
 *   - the same pair without the cache (zone lock + free lists);
 *   - the same pair on the bitmap allocator (next-fit);
 *   - a random mix: 256 live blocks, orders uniform in 0..10, each step
 *     frees a random live block and allocates a new one (same sequence for
 *     every allocator).
 * Fragmentation: the same random workload (orders 0..6, P(order k) halving,
 * occupancy held near 90%) on both allocators, then Linux's unusable free
 * space index and fragmentation index per order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmkit/bitmap_alloc.h"
#include "mmkit/buddy.h"
#include "mmkit/rng.h"

#define NPAGES   262144
#define PAIRS    500000  /* per run; many short runs dodge load bursts */
#define PAIR_RUNS 25
#define MIX_OPS  400000
#define MIX_LIVE 256
#define RUNS     5

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct mm_buddy *mk_buddy(bool pcp)
{
	struct mm_buddy_config cfg;
	struct mm_buddy *b;
	mm_buddy_config_init(&cfg, 0, NPAGES);
	cfg.no_pcp = !pcp;
	if (mm_buddy_create(&cfg, &b)) {
		fprintf(stderr, "mm_buddy_create failed\n");
		exit(1);
	}
	return b;
}

static struct mm_bitmap_alloc *mk_bitmap(bool first_fit)
{
	struct mm_bitmap_alloc_config cfg;
	struct mm_bitmap_alloc *ba;
	mm_bitmap_alloc_config_init(&cfg, 0, NPAGES);
	cfg.first_fit = first_fit;
	if (mm_bitmap_alloc_create(&cfg, &ba)) {
		fprintf(stderr, "mm_bitmap_alloc_create failed\n");
		exit(1);
	}
	return ba;
}

static volatile uintptr_t sink;

/* ---- order-0 pairs ------------------------------------------------------------- */

static double buddy_pairs(struct mm_buddy *b)
{
	double best = 1e30;
	for (int r = 0; r < PAIR_RUNS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < PAIRS; i++) {
			struct mm_page *p = mm_alloc_pages(b, 0, 0);
			sink += (uintptr_t)p;
			mm_free_pages(b, p, 0);
		}
		double dt = (now_ns() - t0) / PAIRS;
		if (dt < best)
			best = dt;
	}
	return best;
}

static double bitmap_pairs(struct mm_bitmap_alloc *ba)
{
	double best = 1e30;
	for (int r = 0; r < PAIR_RUNS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < PAIRS; i++) {
			uint64_t pfn;
			mm_bitmap_alloc_pages(ba, 0, &pfn);
			sink += pfn;
			mm_bitmap_free_pages(ba, pfn, 0);
		}
		double dt = (now_ns() - t0) / PAIRS;
		if (dt < best)
			best = dt;
	}
	return best;
}

/* Two threads doing pairs on one allocator at once: each has its own cache,
 * so the hit path shares nothing but read-only allocator fields. */
struct pair_arg {
	struct mm_buddy *b;
	double ns;
};

static void *pair_thread(void *arg)
{
	struct pair_arg *a = arg;
	a->ns = buddy_pairs(a->b);
	return NULL;
}

static double buddy_pairs_2threads(struct mm_buddy *b)
{
	pthread_t t;
	struct pair_arg a0 = { b, 0 }, a1 = { b, 0 };
	pthread_create(&t, NULL, pair_thread, &a1);
	pair_thread(&a0);
	pthread_join(t, NULL);
	return (a0.ns + a1.ns) / 2;
}

/* ---- random mix ----------------------------------------------------------------- */

struct mix {
	unsigned int order[MIX_OPS];  /* order of the new block */
	unsigned int victim[MIX_OPS]; /* slot freed before it */
};

static void make_mix(struct mix *m, uint64_t seed)
{
	struct mm_rng r;
	mm_rng_seed(&r, seed);
	for (int i = 0; i < MIX_OPS; i++) {
		m->order[i] = (unsigned int)mm_rng_below(&r, 11);
		m->victim[i] = (unsigned int)mm_rng_below(&r, MIX_LIVE);
	}
}

static double buddy_mix(struct mm_buddy *b, const struct mix *m, uint64_t *fails)
{
	struct mm_page *live[MIX_LIVE] = { 0 };
	unsigned int lo[MIX_LIVE] = { 0 };
	double t0 = now_ns();
	for (int i = 0; i < MIX_OPS; i++) {
		unsigned int v = m->victim[i];
		if (live[v])
			mm_free_pages(b, live[v], lo[v]);
		live[v] = mm_alloc_pages(b, 0, m->order[i]);
		lo[v] = m->order[i];
		*fails += !live[v];
	}
	double dt = (now_ns() - t0) / (2.0 * MIX_OPS);
	for (int v = 0; v < MIX_LIVE; v++)
		if (live[v])
			mm_free_pages(b, live[v], lo[v]);
	return dt;
}

static double bitmap_mix(struct mm_bitmap_alloc *ba, const struct mix *m, uint64_t *fails)
{
	uint64_t live[MIX_LIVE];
	unsigned int lo[MIX_LIVE];
	bool have[MIX_LIVE] = { 0 };
	double t0 = now_ns();
	for (int i = 0; i < MIX_OPS; i++) {
		unsigned int v = m->victim[i];
		if (have[v])
			mm_bitmap_free_pages(ba, live[v], lo[v]);
		have[v] = mm_bitmap_alloc_pages(ba, m->order[i], &live[v]) == 0;
		lo[v] = m->order[i];
		*fails += !have[v];
	}
	double dt = (now_ns() - t0) / (2.0 * MIX_OPS);
	for (int v = 0; v < MIX_LIVE; v++)
		if (have[v])
			mm_bitmap_free_pages(ba, live[v], lo[v]);
	return dt;
}

/* ---- fragmentation workload ------------------------------------------------------- */

#define FRAG_OPS 2000000
#define FRAG_MAX 200000

struct fblk {
	uint64_t pfn;
	struct mm_page *page;
	unsigned int order;
};

/* Same decisions for both: decided from the rng and the occupancy, which
 * both allocators track identically as long as no allocation fails. */
static void frag_workload(struct mm_buddy *b, struct mm_bitmap_alloc *ba, uint64_t seed,
			  bool mixed_types, uint64_t *fails)
{
	struct mm_rng r;
	struct fblk *live = calloc(FRAG_MAX, sizeof(*live));
	size_t n = 0;
	uint64_t used = 0;
	mm_rng_seed(&r, seed);
	for (int i = 0; i < FRAG_OPS; i++) {
		/* below the target occupancy: allocate (mostly); above: free */
		bool alloc = n == 0 || (n < FRAG_MAX && mm_rng_below(&r, 100) <
					(used < NPAGES * 9 / 10 ? 90u : 10u));
		if (alloc) {
			unsigned int o = 0;
			while (o < 6 && mm_rng_below(&r, 2))
				o++;
			struct fblk f = { 0, NULL, o };
			if (b) {
				bool movable = mm_rng_below(&r, 2) || !mixed_types;
				f.page = mm_alloc_pages(b, movable ? MM_GFP_MOVABLE : 0, o);
				if (!f.page) {
					(*fails)++;
					continue;
				}
			} else {
				(void)mm_rng_below(&r, 2);
				if (mm_bitmap_alloc_pages(ba, o, &f.pfn)) {
					(*fails)++;
					continue;
				}
			}
			live[n++] = f;
			used += 1ULL << o;
		} else {
			size_t k = mm_rng_below(&r, n);
			if (b)
				mm_free_pages(b, live[k].page, live[k].order);
			else
				mm_bitmap_free_pages(ba, live[k].pfn, live[k].order);
			used -= 1ULL << live[k].order;
			live[k] = live[--n];
		}
	}
	free(live);
}

int main(void)
{
	printf("bench_buddy: %d pages (1 GiB), simulated mode, best of %d (pairs) / %d (mix) runs\n\n",
	       NPAGES, PAIR_RUNS, RUNS);

	struct mm_buddy *bp = mk_buddy(true), *bn = mk_buddy(false);
	struct mm_bitmap_alloc *bm = mk_bitmap(false), *bf = mk_bitmap(true);
	double t_pcp = buddy_pairs(bp), t_nopcp = buddy_pairs(bn);
	double t_bm = bitmap_pairs(bm), t_bf = bitmap_pairs(bf);
	double t_pcp2 = buddy_pairs_2threads(bp), t_nopcp2 = buddy_pairs_2threads(bn);

	printf("order-0 alloc+free pair                 ns/pair   vs buddy+cache\n");
	printf("  buddy, per-thread cache          %10.1f   %8.2fx\n", t_pcp, 1.0);
	printf("  buddy, no cache (zone lock)      %10.1f   %8.2fx\n", t_nopcp, t_nopcp / t_pcp);
	printf("  bitmap, next-fit                 %10.1f   %8.2fx\n", t_bm, t_bm / t_pcp);
	printf("  bitmap, first-fit                %10.1f   %8.2fx\n", t_bf, t_bf / t_pcp);
	printf("  2 threads at once, buddy + cache  %9.1f   %8.2fx   (per thread)\n", t_pcp2,
	       t_pcp2 / t_pcp);
	printf("  2 threads at once, buddy no cache %9.1f   %8.2fx   (per thread, one zone lock)\n",
	       t_nopcp2, t_nopcp2 / t_pcp);
	printf("  target: order-0 pair with the cache < 20 ns: %.1f ns -> %s\n\n", t_pcp,
	       t_pcp < 20.0 ? "met" : "NOT met");

	struct mix *m = malloc(sizeof(*m));
	make_mix(m, 42);
	double mb_pcp = 1e30, mb_nopcp = 1e30, mm_nf = 1e30, mm_ff = 1e30;
	uint64_t f_pcp = 0, f_nopcp = 0, f_nf = 0, f_ff = 0;
	for (int r = 0; r < RUNS; r++) {
		uint64_t f;
		double t;
		f = 0; t = buddy_mix(bp, m, &f); if (t < mb_pcp) { mb_pcp = t; f_pcp = f; }
		f = 0; t = buddy_mix(bn, m, &f); if (t < mb_nopcp) { mb_nopcp = t; f_nopcp = f; }
		f = 0; t = bitmap_mix(bm, m, &f); if (t < mm_nf) { mm_nf = t; f_nf = f; }
		f = 0; t = bitmap_mix(bf, m, &f); if (t < mm_ff) { mm_ff = t; f_ff = f; }
	}
	printf("random mix, orders 0..10, %d live       ns/op   vs buddy   failed allocs\n", MIX_LIVE);
	printf("  buddy, per-thread cache          %10.1f   %8.2fx   %llu\n", mb_pcp, 1.0,
	       (unsigned long long)f_pcp);
	printf("  buddy, no cache                  %10.1f   %8.2fx   %llu\n", mb_nopcp,
	       mb_nopcp / mb_pcp, (unsigned long long)f_nopcp);
	printf("  bitmap, next-fit                 %10.1f   %8.2fx   %llu\n", mm_nf, mm_nf / mb_pcp,
	       (unsigned long long)f_nf);
	printf("  bitmap, first-fit                %10.1f   %8.2fx   %llu\n\n", mm_ff, mm_ff / mb_pcp,
	       (unsigned long long)f_ff);

	/* fragmentation after the same workload */
	struct mm_buddy *fb = mk_buddy(false), *fb1 = mk_buddy(false);
	struct mm_bitmap_alloc *fnf = mk_bitmap(false), *fff = mk_bitmap(true);
	uint64_t fails_b = 0, fails_b1 = 0, fails_nf = 0, fails_ff = 0;
	frag_workload(fb, NULL, 7, true, &fails_b);
	frag_workload(fb1, NULL, 7, false, &fails_b1);
	frag_workload(NULL, fnf, 7, true, &fails_nf);
	frag_workload(NULL, fff, 7, true, &fails_ff);
	printf("fragmentation after %d random ops (orders 0..6, ~90%% full; buddy: half movable,\n"
	       "half unmovable; buddy 1-type: all movable); failed allocs: buddy %llu, buddy 1-type %llu,\n"
	       "next-fit %llu, first-fit %llu\n",
	       FRAG_OPS, (unsigned long long)fails_b, (unsigned long long)fails_b1,
	       (unsigned long long)fails_nf, (unsigned long long)fails_ff);
	printf("order:                     ");
	for (int o = 0; o < 11; o++)
		printf("%6d ", o);
	printf("\n");
	struct mm_zone *z = mm_buddy_zone(fb, MM_ZONE_NORMAL);
	struct mm_zone *z1 = mm_buddy_zone(fb1, MM_ZONE_NORMAL);
	struct {
		const char *name;
		struct mm_zone *z;
		struct mm_bitmap_alloc *ba;
	} rows[] = { { "buddy", z, NULL }, { "buddy 1-type", z1, NULL },
		     { "bitmap next-fit", NULL, fnf }, { "bitmap first-fit", NULL, fff } };
	for (int which = 0; which < 2; which++) {
		for (size_t r = 0; r < MM_ARRAY_SIZE(rows); r++) {
			printf("%-9s %-16s ", which ? "extfrag" : "unusable", rows[r].name);
			for (unsigned int o = 0; o < 11; o++) {
				int idx;
				if (rows[r].z)
					idx = which ? mm_zone_extfrag_index(rows[r].z, o)
						    : mm_zone_unusable_index(rows[r].z, o);
				else
					idx = which ? mm_bitmap_alloc_extfrag_index(rows[r].ba, o)
						    : mm_bitmap_alloc_unusable_index(rows[r].ba, o);
				printf("%6.3f ", idx / 1000.0);
			}
			printf("\n");
		}
	}
	uint64_t hb[MM_MAX_ORDER_LIMIT];
	printf("free blocks per order:\n  buddy            ");
	for (unsigned int o = 0; o < 11; o++)
		printf("%6llu ", (unsigned long long)mm_zone_nr_free(z, o));
	printf("\n  buddy 1-type     ");
	for (unsigned int o = 0; o < 11; o++)
		printf("%6llu ", (unsigned long long)mm_zone_nr_free(z1, o));
	mm_bitmap_alloc_free_histogram(fnf, hb);
	printf("\n  bitmap next-fit  ");
	for (unsigned int o = 0; o < 11; o++)
		printf("%6llu ", (unsigned long long)hb[o]);
	mm_bitmap_alloc_free_histogram(fff, hb);
	printf("\n  bitmap first-fit ");
	for (unsigned int o = 0; o < 11; o++)
		printf("%6llu ", (unsigned long long)hb[o]);
	printf("\n");

	free(m);
	mm_buddy_destroy(bp);
	mm_buddy_destroy(bn);
	mm_buddy_destroy(fb);
	mm_buddy_destroy(fb1);
	mm_bitmap_alloc_destroy(bm);
	mm_bitmap_alloc_destroy(bf);
	mm_bitmap_alloc_destroy(fnf);
	mm_bitmap_alloc_destroy(fff);
	return 0;
}
