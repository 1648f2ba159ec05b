/* bench_slab: mm_kmem_cache_alloc + mm_kmem_cache_free pairs.
 *
 * For 64, 256 and 1024-byte objects:
 *   hot       one object allocated and freed again and again (the magazine
 *             fast path: the same object comes back each time);
 *   batch256  256 objects allocated, then all freed, repeated (magazines,
 *             depot and some slab-layer traffic);
 *   batch1000 the same with 1000 live objects (for 1 KiB objects this is
 *             past the depot and the empty-slab bound: pages go back to the
 *             mmap page source and come again, so it measures mmap too);
 *   direct256 batch256 in a cache without magazines (slab layer only, one
 *             lock per object), to show what the magazine layer buys.
 * Each figure is the minimum over many short trials (the machine is shared:
 * the minimum is the run least disturbed). Prints ns per alloc+free pair.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mmkit/buddy.h"
#include "mmkit/slab.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uintptr_t sink;

static double bench_hot(struct mm_kmem_cache *c, int trials, long pairs)
{
	double best = 1e30;
	for (int r = 0; r < trials; r++) {
		double t0 = now_ns();
		for (long i = 0; i < pairs; i++) {
			void *p = mm_kmem_cache_alloc(c, 0);
			sink += (uintptr_t)p;
			mm_kmem_cache_free(c, p);
		}
		double t = (now_ns() - t0) / (double)pairs;
		if (t < best)
			best = t;
	}
	return best;
}

static void *objs[4096];

static double bench_batch(struct mm_kmem_cache *c, int n, int trials, long pairs)
{
	long rounds = pairs / n;
	if (rounds < 1)
		rounds = 1;
	double best = 1e30;
	for (int r = 0; r < trials; r++) {
		double t0 = now_ns();
		for (long j = 0; j < rounds; j++) {
			for (int i = 0; i < n; i++)
				objs[i] = mm_kmem_cache_alloc(c, 0);
			for (int i = 0; i < n; i++)
				mm_kmem_cache_free(c, objs[i]);
		}
		double t = (now_ns() - t0) / (double)(rounds * n);
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 60;
	long pairs = 200000;
	struct mm_kmem *k = mm_kmem_create(&mm_page_source_mmap, 0);
	if (!k) {
		fprintf(stderr, "bench_slab: cannot create the instance\n");
		return 1;
	}
	printf("kmem_cache alloc+free pair, ns (min of %d trials of %ld pairs)\n", trials, pairs);
	printf("%-6s %9s %9s %10s %10s %14s\n", "size", "hot", "batch256", "batch1000",
	       "direct256", "direct/batch");
	size_t sizes[] = { 64, 256, 1024 };
	for (int i = 0; i < 3; i++) {
		struct mm_kmem_cache *c = mm_kmem_cache_create(k, "bench", sizes[i], 0, 0, NULL);
		struct mm_kmem_cache *d = mm_kmem_cache_create(k, "bench_direct", sizes[i], 0,
								MM_SLAB_NO_MAGAZINES, NULL);
		double hot = bench_hot(c, trials, pairs);
		double b256 = bench_batch(c, 256, trials, pairs);
		double b1000 = bench_batch(c, 1000, trials / 4 + 1, pairs);
		double direct = bench_batch(d, 256, trials / 4 + 1, pairs / 4);
		printf("%-6zu %9.2f %9.2f %10.2f %10.2f %13.1fx\n", sizes[i], hot, b256, b1000,
		       direct, direct / b256);
		mm_kmem_cache_destroy(c);
		mm_kmem_cache_destroy(d);
	}
	mm_kmem_destroy(k);

	/* The same batches over the buddy allocator's page source (as in the
	 * simulator): what a slab build and free cost without mmap. */
	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, 65536); /* 256 MiB */
	cfg.ignore_watermarks = true;
	struct mm_buddy *b = NULL;
	if (mm_buddy_create_mmap(&cfg, &b) != 0) {
		fprintf(stderr, "bench_slab: no buddy allocator\n");
		return 1;
	}
	struct mm_page_source bps = mm_buddy_page_source(b);
	k = mm_kmem_create(&bps, 0);
	printf("\nover the buddy page source\n%-6s %9s %10s\n", "size", "batch256", "batch1000");
	for (int i = 0; i < 3; i++) {
		struct mm_kmem_cache *c = mm_kmem_cache_create(k, "bench", sizes[i], 0, 0, NULL);
		double b256 = bench_batch(c, 256, trials, pairs);
		double b1000 = bench_batch(c, 1000, trials / 4 + 1, pairs);
		printf("%-6zu %9.2f %10.2f\n", sizes[i], b256, b1000);
		mm_kmem_cache_destroy(c);
	}
	mm_kmem_destroy(k);
	mm_buddy_destroy(b);
	return 0;
}
