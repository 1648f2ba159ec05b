/* alloc-test: build a working set, free it in random order, repeat; after the
 * idea of the alloc-test benchmark found in allocator benchmark suites.
 *
 * Each round a thread allocates `objects` blocks of mixed sizes (mostly 8 B to
 * 1 KiB, one in sixteen up to 16 KiB), writes them, shuffles the pointer array
 * and frees everything in that random order. Random-order frees scatter the
 * free lists, so what is measured is how well the allocator coalesces or
 * recycles and how quickly the next round finds memory again.
 *
 * usage: mb-alloc-test [threads=2] [rounds=60] [objects=50000]
 */
#include <pthread.h>

#include "mb.h"

static int rounds;
static size_t objects;

struct worker {
	pthread_t tid;
	uint64_t seed, sum;
};

static void *alloc_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, sum = 0;
	unsigned char **p = calloc(objects, sizeof(*p));
	if (p == NULL)
		exit(3);
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < objects; i++) {
			size_t n = (mb_rand(&s) & 15) == 0 ? mb_range(&s, 1025, 16384)
							   : mb_range(&s, 8, 1024);
			p[i] = mb_xmalloc(n);
			mb_touch(p[i], n, (unsigned char)i, 0);
		}
		for (size_t i = objects - 1; i > 0; i--) {   /* Fisher-Yates */
			size_t j = (size_t)(mb_rand(&s) % (i + 1));
			unsigned char *t = p[i];
			p[i] = p[j];
			p[j] = t;
		}
		for (size_t i = 0; i < objects; i++) {
			sum += p[i][0];
			free(p[i]);
		}
	}
	free(p);
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = (int)mb_arg(argc, argv, 1, 2);
	rounds = (int)mb_arg(argc, argv, 2, 60);
	objects = (size_t)mb_arg(argc, argv, 3, 50000);
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (w == NULL)
		return 3;
	double t0 = mb_now();
	for (int i = 0; i < threads; i++) {
		w[i].seed = 11 + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, alloc_worker, &w[i]) != 0)
			return 4;
	}
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	double t1 = mb_now();
	free(w);
	mb_done("alloc-test", t1 - t0, sum);
	return 0;
}
