/* glibc-thread: random malloc/free per thread, after the idea of glibc's
 * benchtests/bench-malloc-thread.
 *
 * Each thread owns a working set of `slots` blocks; every step picks a random
 * slot, frees its block and allocates a new one of a random size. Sizes come
 * from a table that favours small blocks (as the glibc benchmark does with its
 * inverse-square distribution), from 4 bytes to 32 KiB. Threads never share
 * memory, so this measures per-thread fast paths and arena (or cache)
 * contention only. The run is repeated for 1 thread and for `threads`.
 *
 * usage: mb-glibc-thread [threads=2] [steps_per_thread=30000000] [slots=1024]
 */
#include <math.h>
#include <pthread.h>

#include "mb.h"

#define MIN_SIZE 4
#define MAX_SIZE 32768
#define TABLE 8192

static size_t size_table[TABLE];
static long steps;
static size_t nslots;

/* Inverse-square density on [MIN_SIZE, MAX_SIZE], sampled by inverting its
 * cumulative distribution at TABLE evenly spaced points. */
static void build_size_table(void)
{
	double a = 1.0 / MIN_SIZE, b = 1.0 / MAX_SIZE;
	for (int i = 0; i < TABLE; i++) {
		double u = (i + 0.5) / TABLE;
		double x = 1.0 / (a - u * (a - b));
		size_table[i] = (size_t)x;
	}
}

struct worker {
	pthread_t tid;
	uint64_t seed, sum;
};

static void *thread_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, sum = 0;
	void **slot = calloc(nslots, sizeof(*slot));
	if (slot == NULL)
		exit(3);
	for (long i = 0; i < steps; i++) {
		uint64_t r = mb_rand(&s);
		size_t k = (size_t)(r % nslots);
		size_t n = size_table[(r >> 32) % TABLE];
		if (slot[k] != NULL) {
			sum += *(unsigned char *)slot[k];
			free(slot[k]);
		}
		slot[k] = mb_xmalloc(n);
		*(volatile char *)slot[k] = (char)i;
	}
	for (size_t k = 0; k < nslots; k++)
		free(slot[k]);
	free(slot);
	w->sum = sum;
	return NULL;
}

static uint64_t run(int threads, double *secs)
{
	struct worker w[64];
	if (threads > 64)
		threads = 64;
	double t0 = mb_now();
	for (int i = 0; i < threads; i++) {
		w[i].seed = 5 + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, thread_worker, &w[i]) != 0)
			exit(4);
	}
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	*secs = mb_now() - t0;
	return sum;
}

int main(int argc, char **argv)
{
	int threads = (int)mb_arg(argc, argv, 1, 2);
	steps = mb_arg(argc, argv, 2, 30000000);
	nslots = (size_t)mb_arg(argc, argv, 3, 1024);
	build_size_table();

	double t1, tn;
	uint64_t sum = run(1, &t1);
	sum += run(threads, &tn);
	printf("glibc-thread: 1 thread %.1f ns/op, %d threads %.1f ns/op per thread\n",
	       t1 * 1e9 / (double)steps, threads, tn * 1e9 / (double)steps);
	mb_done("glibc-thread", t1 + tn, sum);
	return 0;
}
