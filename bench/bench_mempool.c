/* bench_mempool: what the mempool and blockpool layers cost and buy.
 *
 *   hot       one element allocated and freed again and again;
 *   batch256  256 elements allocated, then all freed, repeated;
 *   pages     4 KiB blocks, batch of 32: straight from the mmap page source
 *             (one mmap + munmap each) vs a blockpool caching 64 of them vs
 *             a page mempool (which only reserves, so it still maps);
 *   2 threads hot pairs on one shared blockpool (one mutex) vs malloc.
 * Rows compare glibc malloc/free, mm_blockpool (malloc underneath),
 * mm_mempool over malloc (alloc_fn succeeds: the wrapper's overhead), and
 * mm_mempool living on its reserve (alloc_fn always fails: the reserve path).
 * Each figure is the minimum over several trials (shared machine). Prints ns
 * per alloc+free pair and the ratio to malloc.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mmkit/blockpool.h"
#include "mmkit/mempool.h"

#define SIZE 64

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uintptr_t sink;

/* ---- the contenders behind one interface -------------------------------- */

enum kind { K_MALLOC, K_BLOCKPOOL, K_MEMPOOL, K_MEMPOOL_RESERVE };
static const char *kind_name[] = { "malloc", "blockpool", "mempool", "mempool reserve" };

static struct mm_blockpool *bp;
static struct mm_mempool *mp, *mp_res;
static int fail_alloc;

static void *m_alloc(mm_gfp_t gfp, void *data)
{
	(void)gfp;
	(void)data;
	return fail_alloc ? NULL : malloc(SIZE);
}

static void m_free(void *e, void *data)
{
	(void)data;
	free(e);
}

static inline void *get(enum kind k)
{
	switch (k) {
	case K_MALLOC: return malloc(SIZE);
	case K_BLOCKPOOL: return mm_blockpool_alloc(bp);
	case K_MEMPOOL: return mm_mempool_alloc(mp, MM_GFP_KERNEL);
	default: return mm_mempool_alloc(mp_res, MM_GFP_ATOMIC);
	}
}

static inline void put(enum kind k, void *p)
{
	switch (k) {
	case K_MALLOC: free(p); break;
	case K_BLOCKPOOL: mm_blockpool_free(bp, p); break;
	case K_MEMPOOL: mm_mempool_free(p, mp); break;
	default: mm_mempool_free(p, mp_res); break;
	}
}

static double run_hot(enum kind k, long pairs)
{
	double best = 1e30;
	for (int r = 0; r < 7; r++) {
		double t0 = now_ns();
		for (long i = 0; i < pairs; i++) {
			void *p = get(k);
			sink += (uintptr_t)p;
			put(k, p);
		}
		double t = (now_ns() - t0) / (double)pairs;
		best = t < best ? t : best;
	}
	return best;
}

static void *objs[256];

static double run_batch(enum kind k, long pairs)
{
	double best = 1e30;
	long rounds = pairs / 256;
	for (int r = 0; r < 7; r++) {
		double t0 = now_ns();
		for (long j = 0; j < rounds; j++) {
			for (int i = 0; i < 256; i++)
				objs[i] = get(k);
			for (int i = 0; i < 256; i++)
				put(k, objs[i]);
		}
		double t = (now_ns() - t0) / (double)(rounds * 256);
		best = t < best ? t : best;
	}
	return best;
}

/* ---- pages --------------------------------------------------------------- */

static double run_pages(int which, long pairs)
{
	const struct mm_page_source *ps = &mm_page_source_mmap;
	struct mm_blockpool *pbp = mm_blockpool_create_pagesrc(MM_PAGE_SIZE, 64, ps);
	struct mm_mempool *pmp = mm_mempool_create_page_pool(32, 0, ps);
	void *blk[32];
	double best = 1e30;
	long rounds = pairs / 32;
	for (int r = 0; r < 5; r++) {
		double t0 = now_ns();
		for (long j = 0; j < rounds; j++) {
			for (int i = 0; i < 32; i++) {
				blk[i] = which == 0 ? mm_ps_alloc(ps, 0, 0)
					 : which == 1 ? mm_blockpool_alloc(pbp)
						      : mm_mempool_alloc(pmp, MM_GFP_KERNEL);
				*(volatile char *)blk[i] = 1; /* touch: a real page fault */
			}
			for (int i = 0; i < 32; i++) {
				if (which == 0)
					mm_ps_free(ps, blk[i], 0);
				else if (which == 1)
					mm_blockpool_free(pbp, blk[i]);
				else
					mm_mempool_free(blk[i], pmp);
			}
		}
		double t = (now_ns() - t0) / (double)(rounds * 32);
		best = t < best ? t : best;
	}
	mm_blockpool_destroy(pbp);
	mm_mempool_destroy(pmp);
	return best;
}

/* ---- two threads --------------------------------------------------------- */

struct targ {
	enum kind k;
	long pairs;
	double ns;
};

static void *thread_hot(void *arg)
{
	struct targ *ta = arg;
	double t0 = now_ns();
	for (long i = 0; i < ta->pairs; i++) {
		void *p = get(ta->k);
		sink += (uintptr_t)p;
		put(ta->k, p);
	}
	ta->ns = (now_ns() - t0) / (double)ta->pairs;
	return NULL;
}

static double run_threads(enum kind k, long pairs)
{
	double best = 1e30;
	for (int r = 0; r < 5; r++) {
		pthread_t t[2];
		struct targ ta[2] = { { k, pairs, 0 }, { k, pairs, 0 } };
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, thread_hot, &ta[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		double worst = ta[0].ns > ta[1].ns ? ta[0].ns : ta[1].ns;
		best = worst < best ? worst : best;
	}
	return best;
}

int main(void)
{
	long pairs = 2000000;
	bp = mm_blockpool_create(SIZE, 256);
	mp = mm_mempool_create(16, m_alloc, m_free, NULL);
	mp_res = mm_mempool_create(256, m_alloc, m_free, NULL);
	if (!bp || !mp || !mp_res) {
		fprintf(stderr, "bench_mempool: setup failed\n");
		return 1;
	}
	printf("%-18s %12s %8s %12s %8s\n", "64-byte elements", "hot ns/pair", "ratio",
	       "batch256", "ratio");
	double base_hot = 0, base_batch = 0;
	for (int k = K_MALLOC; k <= K_MEMPOOL_RESERVE; k++) {
		fail_alloc = k == K_MEMPOOL_RESERVE;
		double h = run_hot((enum kind)k, pairs);
		double b = run_batch((enum kind)k, pairs);
		if (k == K_MALLOC) {
			base_hot = h;
			base_batch = b;
		}
		printf("%-18s %12.1f %8.2f %12.1f %8.2f\n", kind_name[k], h, h / base_hot, b,
		       b / base_batch);
	}
	fail_alloc = 0;

	printf("\n%-18s %12s %8s\n", "4 KiB pages, x32", "ns/pair", "ratio");
	const char *pname[] = { "mmap page source", "blockpool (64)", "page mempool" };
	double base_pages = 0;
	for (int w = 0; w < 3; w++) {
		double t = run_pages(w, 8000);
		if (w == 0)
			base_pages = t;
		printf("%-18s %12.1f %8.4f\n", pname[w], t, t / base_pages);
	}

	printf("\n%-18s %12s %8s\n", "2 threads, hot", "ns/pair", "ratio");
	double tm = run_threads(K_MALLOC, pairs / 2);
	double tb = run_threads(K_BLOCKPOOL, pairs / 2);
	printf("%-18s %12.1f %8.2f\n%-18s %12.1f %8.2f\n", "malloc", tm, 1.0, "blockpool", tb,
	       tb / tm);
	mm_blockpool_destroy(bp);
	mm_mempool_destroy(mp);
	mm_mempool_destroy(mp_res);
	return 0;
}
