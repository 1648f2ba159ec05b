/* larson: a server simulation after the idea of Larson & Krishnan's benchmark.
 *
 * A shared table of `slots` objects of random sizes stands for the state of a
 * server. Each of `threads` workers repeatedly picks a random slot, takes the
 * object out of it (atomic exchange), frees it, allocates a fresh object of a
 * random size in [min, max], writes it, and puts it back. Since any worker may
 * pick any slot, most objects are freed by a thread other than the one that
 * allocated them: the allocator's remote-free path and its memory "bleeding"
 * between threads are what is measured.
 *
 * usage: mb-larson [threads=2] [slots=4000] [ops_per_thread=30000000] [min=16] [max=1000]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "mb.h"

struct larson {
	_Atomic(unsigned char *) *slot;
	size_t nslots, min, max;
	long ops;
};

struct worker {
	pthread_t tid;
	struct larson *l;
	uint64_t seed;
	uint64_t sum;
};

static void *larson_worker(void *arg)
{
	struct worker *w = arg;
	struct larson *l = w->l;
	uint64_t s = w->seed, sum = 0;

	for (long i = 0; i < l->ops; i++) {
		size_t k = mb_range(&s, 0, l->nslots - 1);
		size_t n = mb_range(&s, l->min, l->max);
		unsigned char *p = mb_xmalloc(n);
		mb_touch(p, n, (unsigned char)i, 0);
		unsigned char *old = atomic_exchange_explicit(&l->slot[k], p, memory_order_acq_rel);
		if (old != NULL) {
			sum += old[0];
			free(old);
		}
	}
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = (int)mb_arg(argc, argv, 1, 2);
	struct larson l = {
		.nslots = (size_t)mb_arg(argc, argv, 2, 4000),
		.ops = mb_arg(argc, argv, 3, 30000000),
		.min = (size_t)mb_arg(argc, argv, 4, 16),
		.max = (size_t)mb_arg(argc, argv, 5, 1000),
	};
	if (l.max < l.min)
		l.max = l.min;
	l.slot = calloc(l.nslots, sizeof(*l.slot));
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (l.slot == NULL || w == NULL)
		return 3;

	/* Fill the table first, as a server would be warm. */
	uint64_t s = 42;
	for (size_t k = 0; k < l.nslots; k++) {
		size_t n = mb_range(&s, l.min, l.max);
		unsigned char *p = mb_xmalloc(n);
		mb_touch(p, n, 1, 0);
		atomic_store(&l.slot[k], p);
	}

	double t0 = mb_now();
	for (int i = 0; i < threads; i++) {
		w[i].l = &l;
		w[i].seed = 1000 + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, larson_worker, &w[i]) != 0)
			return 4;
	}
	uint64_t sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	double t1 = mb_now();

	for (size_t k = 0; k < l.nslots; k++)
		free(atomic_load(&l.slot[k]));
	free(l.slot);
	free(w);
	mb_done("larson", t1 - t0, sum);
	return 0;
}
