/* mstress: a stress mix after the idea of mimalloc-bench's mstress.
 *
 * `rounds` times, `threads` fresh threads start; thread i works on slot table i,
 * which it inherits from thread i of the previous round (so it frees memory
 * allocated by threads that have already exited). Each step picks a random
 * slot, frees what is there, and allocates a new object of a mixed size:
 * mostly small, some medium, a few large enough to cross the mmap threshold.
 * One step in eight instead swaps the object through a shared transfer table,
 * so the object is later freed by another thread. Every 5000 steps a thread
 * runs a burst: allocate 1000 small objects, touch them, free them all.
 *
 * usage: mb-mstress [threads=4] [rounds=20] [steps_per_thread_round=250000] [slots=500]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "mb.h"

#define TRANSFER 1024
#define BURST 1000

static _Atomic(unsigned char *) transfer[TRANSFER];
static long steps;
static size_t nslots;

struct worker {
	pthread_t tid;
	unsigned char **slot;   /* this worker's table, kept across rounds */
	uint64_t seed, sum;
};

static size_t mixed_size(uint64_t *s)
{
	unsigned r = (unsigned)mb_range(s, 0, 999);
	if (r < 800)
		return mb_range(s, 8, 128);
	if (r < 950)
		return mb_range(s, 129, 2048);
	if (r < 995)
		return mb_range(s, 2049, 32768);
	return mb_range(s, 32769, 256 * 1024);
}

static void *mstress_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, sum = w->sum;
	void *burst[BURST];

	for (long i = 0; i < steps; i++) {
		size_t k = mb_range(&s, 0, nslots - 1);
		unsigned char *old = w->slot[k];
		if (old != NULL && (i & 7) == 0) {
			/* pass the object on; take whatever another thread left */
			size_t t = mb_range(&s, 0, TRANSFER - 1);
			old = atomic_exchange(&transfer[t], old);
		}
		if (old != NULL) {
			sum += old[0];
			free(old);
		}
		size_t n = mixed_size(&s);
		w->slot[k] = mb_xmalloc(n);
		mb_touch(w->slot[k], n, (unsigned char)i, 0);

		if (i % 5000 == 4999) {
			for (int b = 0; b < BURST; b++) {
				size_t bn = mb_range(&s, 16, 512);
				burst[b] = mb_xmalloc(bn);
				mb_touch(burst[b], bn, (unsigned char)b, 0);
			}
			for (int b = 0; b < BURST; b++)
				free(burst[b]);
		}
	}
	w->seed = s;
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = (int)mb_arg(argc, argv, 1, 4);
	int rounds = (int)mb_arg(argc, argv, 2, 20);
	steps = mb_arg(argc, argv, 3, 250000);
	nslots = (size_t)mb_arg(argc, argv, 4, 500);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (w == NULL)
		return 3;
	for (int i = 0; i < threads; i++) {
		w[i].slot = calloc(nslots, sizeof(*w[i].slot));
		w[i].seed = 99 + (uint64_t)i;
		if (w[i].slot == NULL)
			return 3;
	}
	double t0 = mb_now();
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < threads; i++)
			if (pthread_create(&w[i].tid, NULL, mstress_worker, &w[i]) != 0)
				return 4;
		for (int i = 0; i < threads; i++)
			pthread_join(w[i].tid, NULL);
	}
	double t1 = mb_now();
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		for (size_t k = 0; k < nslots; k++)
			free(w[i].slot[k]);
		free(w[i].slot);
		sum += w[i].sum;
	}
	for (int t = 0; t < TRANSFER; t++)
		free(atomic_load(&transfer[t]));
	free(w);
	mb_done("mstress", t1 - t0, sum);
	return 0;
}
