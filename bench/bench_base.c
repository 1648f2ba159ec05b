/* bench_base: the base structures at sizes the simulator uses.
 *
 *   hashmap   put / hit get / miss get / remove over n random 64-bit keys
 *             (page-aligned addresses), n = 1e3 and 1e6;
 *   rbtree    caller-driven insert / find / erase of n nodes in random order;
 *   bitmap    mm_bitmap_find_next_zero_area for a 64-bit area aligned to 64
 *             (an order-6 block in a bitmap page allocator) in a 1 Mi-bit map
 *             that is 90% used in runs of 1..64 bits, vs a bit-at-a-time scan
 *             of the same map;
 *   zipf      mm_rng_zipf vs the precomputed struct mm_zipf.
 * Minimum of 3 trials (shared machine). ns per operation.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mmkit/bitmap.h"
#include "mmkit/hashmap.h"
#include "mmkit/rbtree.h"
#include "mmkit/rng.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint64_t sink;

#define MIN3(expr)                                                                 \
	({                                                                         \
		double best_ = 1e30;                                               \
		for (int t_ = 0; t_ < 3; t_++) {                                   \
			double v_ = (expr);                                        \
			best_ = v_ < best_ ? v_ : best_;                           \
		}                                                                  \
		best_;                                                             \
	})

/* ---- hashmap ------------------------------------------------------------ */

static double hm_round(const uint64_t *keys, size_t n, double *get_ns, double *miss_ns,
		       double *rm_ns)
{
	struct mm_hashmap m;
	mm_hashmap_init(&m, 0, NULL);
	double t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		mm_hashmap_put(&m, keys[i], i);
	double put = (now_ns() - t0) / (double)n;
	t0 = now_ns();
	uint64_t v, s = 0;
	for (size_t i = 0; i < n; i++)
		s += mm_hashmap_get(&m, keys[(i * 7919) % n], &v) ? v : 0;
	*get_ns = (now_ns() - t0) / (double)n;
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		s += mm_hashmap_get(&m, keys[i] + 1, &v); /* never present: odd keys */
	*miss_ns = (now_ns() - t0) / (double)n;
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		mm_hashmap_remove(&m, keys[i], NULL);
	*rm_ns = (now_ns() - t0) / (double)n;
	sink += s;
	mm_hashmap_destroy(&m);
	return put;
}

static void bench_hashmap(size_t n)
{
	struct mm_rng r;
	mm_rng_seed(&r, 1);
	uint64_t *keys = malloc(n * sizeof(*keys));
	for (size_t i = 0; i < n; i++)
		keys[i] = mm_rng_next(&r) << 12;
	double best[4] = { 1e30, 1e30, 1e30, 1e30 };
	for (int t = 0; t < 3; t++) {
		double g, mi, rm, p = hm_round(keys, n, &g, &mi, &rm);
		double v[4] = { p, g, mi, rm };
		for (int k = 0; k < 4; k++)
			best[k] = v[k] < best[k] ? v[k] : best[k];
	}
	printf("hashmap n=%-8zu put %6.1f  get %6.1f  miss %6.1f  remove %6.1f ns\n", n, best[0],
	       best[1], best[2], best[3]);
	free(keys);
}

/* ---- rbtree ------------------------------------------------------------- */

struct node {
	struct mm_rb_node rb;
	uint64_t key;
};

static int node_key_cmp(const void *k, const struct mm_rb_node *n)
{
	uint64_t a = *(const uint64_t *)k, b = mm_rb_entry_const(n, struct node, rb)->key;
	return (a > b) - (a < b);
}

static void bench_rbtree(size_t n)
{
	struct mm_rng r;
	mm_rng_seed(&r, 2);
	struct node *nodes = malloc(n * sizeof(*nodes));
	for (size_t i = 0; i < n; i++)
		nodes[i].key = mm_rng_next(&r);
	double bi = 1e30, bf = 1e30, be = 1e30;
	for (int t = 0; t < 3; t++) {
		struct mm_rb_root root = MM_RB_ROOT;
		double t0 = now_ns();
		for (size_t i = 0; i < n; i++) {
			struct mm_rb_node **link = &root.node, *parent = NULL;
			while (*link) {
				parent = *link;
				link = nodes[i].key < mm_rb_entry(parent, struct node, rb)->key
					       ? &parent->left : &parent->right;
			}
			mm_rb_link_node(&nodes[i].rb, parent, link);
			mm_rb_insert_color(&nodes[i].rb, &root);
		}
		double ins = (now_ns() - t0) / (double)n;
		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			sink += (uintptr_t)mm_rb_find(&nodes[(i * 7919) % n].key, &root, node_key_cmp);
		double fnd = (now_ns() - t0) / (double)n;
		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			mm_rb_erase(&nodes[(i * 104729) % n].rb, &root);
		double er = (now_ns() - t0) / (double)n;
		bi = ins < bi ? ins : bi;
		bf = fnd < bf ? fnd : bf;
		be = er < be ? er : be;
	}
	printf("rbtree  n=%-8zu insert %6.1f  find %6.1f  erase %6.1f ns\n", n, bi, bf, be);
	free(nodes);
}

/* ---- bitmap ------------------------------------------------------------- */

#define NBITS (1u << 20)

static void bench_bitmap(void)
{
	static uint64_t map[MM_BITMAP_WORDS(NBITS)];
	struct mm_rng r;
	mm_rng_seed(&r, 3);
	/* 90% used in runs of 1..64 bits; free holes in between */
	for (size_t i = 0; i < NBITS;) {
		size_t run = 1 + (size_t)mm_rng_below(&r, 64);
		if (i + run > NBITS)
			run = NBITS - i;
		if (mm_rng_below(&r, 10))
			mm_bitmap_set_range(map, i, run);
		i += run;
	}
	int searches = 300;
	double area = MIN3(({
		double t0 = now_ns();
		size_t pos = 0;
		for (int k = 0; k < searches; k++) {
			pos = mm_bitmap_find_next_zero_area(map, NBITS, pos, 64, 64);
			sink += pos;
			pos = pos >= NBITS ? 0 : pos + 64;
		}
		(now_ns() - t0) / searches;
	}));
	printf("bitmap  find_next_zero_area(len 64, align 64), 1 Mi bits 90%% used: %.1f ns\n",
	       area);
	/* a full map with one clear bit at the end: word-wise vs bit-wise scan */
	mm_bitmap_fill(map, NBITS);
	mm_bit_clear(map, NBITS - 1);
	double word = MIN3(({
		double t0 = now_ns();
		sink += mm_bitmap_find_next_zero_bit(map, NBITS, 0);
		now_ns() - t0;
	}));
	double bit = MIN3(({
		double t0 = now_ns();
		size_t i = 0;
		while (i < NBITS && mm_bit_test(map, i))
			i++;
		sink += i;
		now_ns() - t0;
	}));
	printf("bitmap  find_next_zero_bit across 1 Mi set bits: %.0f ns word-wise, %.0f ns "
	       "bit by bit (%.0fx)\n", word, bit, bit / word);
}

static void bench_zipf(void)
{
	struct mm_rng r;
	mm_rng_seed(&r, 4);
	long n = 1000000;
	double plain = MIN3(({
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			sink += mm_rng_zipf(&r, 100000, 0.9);
		(now_ns() - t0) / (double)n;
	}));
	struct mm_zipf z;
	mm_zipf_init(&z, 100000, 0.9);
	double pre = MIN3(({
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			sink += mm_zipf_draw(&z, &r);
		(now_ns() - t0) / (double)n;
	}));
	printf("zipf    n=1e5 s=0.9: mm_rng_zipf %.1f ns, mm_zipf_draw %.1f ns (%.1fx)\n", plain, pre,
	       plain / pre);
}

int main(void)
{
	bench_hashmap(1000);
	bench_hashmap(1000000);
	bench_rbtree(1000);
	bench_rbtree(200000);
	bench_bitmap();
	bench_zipf();
	return 0;
}
