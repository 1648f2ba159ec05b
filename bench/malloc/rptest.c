/* rptest: random-pattern allocation after the idea of rpmalloc's benchmark.
 *
 * Each thread keeps a working set of `slots` objects and runs random steps
 * over it: replace an object (free + malloc), grow or shrink one with
 * realloc, or hand one to a shared exchange table from which other threads
 * take and free. Sizes follow a skewed, roughly log-uniform distribution: an
 * exponent is drawn with weights halving per power of two, from 16 B up to
 * 32 KiB, so most requests are small, as in real programs, but every size
 * class is exercised.
 *
 * usage: mb-rptest [threads=2] [steps_per_thread=15000000] [slots=8000]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "mb.h"

#define EXCHANGE 4096

static _Atomic(unsigned char *) exchange[EXCHANGE];
static long steps;
static size_t nslots;

/* 16 B .. 64 KiB; the chance of each power of two halves as sizes double. */
static size_t skewed_size(uint64_t *s)
{
	uint64_t r = mb_rand(s);
	int e = 4;
	while (e < 15 && (r & 1)) { /* each further power of two is half as likely */
		e++;
		r >>= 1;
	}
	/* flatten a little: one more coin for the very common 16..64 range */
	if (e == 4 && ((r >> 20) & 1))
		e = 5;
	size_t lo = (size_t)1 << e;
	return mb_range(s, lo, 2 * lo - 1);
}

struct worker {
	pthread_t tid;
	uint64_t seed, sum;
};

static void *rptest_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, sum = 0;
	unsigned char **slot = calloc(nslots, sizeof(*slot));
	size_t *len = calloc(nslots, sizeof(*len));
	if (slot == NULL || len == NULL)
		exit(3);

	for (long i = 0; i < steps; i++) {
		size_t k = mb_range(&s, 0, nslots - 1);
		unsigned op = (unsigned)mb_range(&s, 0, 99);
		if (slot[k] != NULL && op < 20) {
			/* realloc to a new size in the same distribution */
			size_t n = skewed_size(&s);
			unsigned char *p = realloc(slot[k], n);
			if (p == NULL)
				exit(3);
			/* the first byte, and the old last byte if it was kept, survive */
			if (p[0] != (unsigned char)k ||
			    (n >= len[k] && p[len[k] - 1] != (unsigned char)k)) {
				fprintf(stderr, "rptest: realloc lost data at step %ld\n", i);
				exit(5);
			}
			slot[k] = p;
			len[k] = n;
			mb_touch(p, n, (unsigned char)k, 0);
			continue;
		}
		if (slot[k] != NULL && op < 25) {
			unsigned char *theirs =
				atomic_exchange(&exchange[mb_range(&s, 0, EXCHANGE - 1)], slot[k]);
			if (theirs != NULL) {
				sum += theirs[0];
				free(theirs);
			}
			slot[k] = NULL;
		}
		if (slot[k] != NULL) {
			sum += slot[k][0];
			free(slot[k]);
		}
		size_t n = skewed_size(&s);
		slot[k] = mb_xmalloc(n);
		len[k] = n;
		mb_touch(slot[k], n, (unsigned char)k, 0);
	}
	for (size_t k = 0; k < nslots; k++)
		free(slot[k]);
	free(slot);
	free(len);
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = (int)mb_arg(argc, argv, 1, 2);
	steps = mb_arg(argc, argv, 2, 15000000);
	nslots = (size_t)mb_arg(argc, argv, 3, 8000);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (w == NULL)
		return 3;
	double t0 = mb_now();
	for (int i = 0; i < threads; i++) {
		w[i].seed = 7 + (uint64_t)i * 31;
		if (pthread_create(&w[i].tid, NULL, rptest_worker, &w[i]) != 0)
			return 4;
	}
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	double t1 = mb_now();
	for (int t = 0; t < EXCHANGE; t++)
		free(atomic_load(&exchange[t]));
	free(w);
	mb_done("rptest", t1 - t0, sum);
	return 0;
}
