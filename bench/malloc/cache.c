/* cache: false sharing caused by the allocator, after the ideas of the Hoard
 * benchmarks cache-thrash (active false sharing) and cache-scratch (passive).
 *
 * thrash:  each thread, on its own, repeatedly allocates a small object, writes
 *          every byte of it `writes` times, and frees it. An allocator that
 *          hands two threads objects in the same cache line makes the cores
 *          fight over that line.
 * scratch: the main thread first allocates one small object per thread (so
 *          they sit next to each other) and gives one to each thread, which
 *          frees it and then runs the thrash loop. An allocator that gives the
 *          freed block back to the freeing thread reproduces the sharing
 *          although each thread only ever uses its own objects.
 *
 * usage: mb-cache thrash|scratch [threads=2] [iterations=6000] [writes=40000] [size=8]
 */
#include <pthread.h>

#include "mb.h"

struct worker {
	pthread_t tid;
	char *initial;        /* scratch: the object to free first */
	long iterations, writes;
	size_t size;
	uint64_t sum;
};

static void *cache_worker(void *arg)
{
	struct worker *w = arg;
	if (w->initial != NULL)
		free(w->initial);
	uint64_t sum = 0;
	for (long i = 0; i < w->iterations; i++) {
		char *block = mb_xmalloc(w->size);
		volatile char *p = block;   /* every write really goes to memory */
		for (long r = 0; r < w->writes; r++)
			for (size_t b = 0; b < w->size; b++)
				p[b] = (char)(p[b] + (char)r);
		sum += (unsigned char)p[0];
		free(block);
	}
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "thrash") != 0 && strcmp(argv[1], "scratch") != 0)) {
		fprintf(stderr, "usage: %s thrash|scratch [threads] [iterations] [writes] [size]\n",
			argv[0]);
		return 2;
	}
	int scratch = strcmp(argv[1], "scratch") == 0;
	int threads = (int)mb_arg(argc, argv, 2, 2);
	long iterations = mb_arg(argc, argv, 3, 6000);
	long writes = mb_arg(argc, argv, 4, 40000);
	size_t size = (size_t)mb_arg(argc, argv, 5, 8);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (w == NULL)
		return 3;
	for (int i = 0; i < threads; i++) {
		w[i].iterations = iterations;
		w[i].writes = writes;
		w[i].size = size;
		if (scratch) {
			w[i].initial = mb_xmalloc(size);
			memset(w[i].initial, 0, size);
		}
	}
	double t0 = mb_now();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&w[i].tid, NULL, cache_worker, &w[i]) != 0)
			return 4;
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	double t1 = mb_now();
	free(w);
	mb_done(scratch ? "cache-scratch" : "cache-thrash", t1 - t0, sum);
	return 0;
}
