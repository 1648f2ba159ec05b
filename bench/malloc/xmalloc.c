/* xmalloc: producer/consumer frees across threads, after the idea of xmalloc-test.
 *
 * Producers allocate small objects (random sizes in [8, max]) and hand them,
 * in batches, to a bounded shared queue; consumers take batches and free every
 * object in them. Every free is therefore a free of memory allocated by
 * another thread, and the allocator must route it home (or adopt it) without
 * the memory footprint growing without bound.
 *
 * usage: mb-xmalloc [producers=1] [consumers=1] [objects_per_producer=20000000] [max=128]
 */
#include <pthread.h>

#include "mb.h"

#define BATCH 256   /* objects per queue entry */
#define QCAP 64     /* batches the queue holds before producers wait */

struct batch {
	void *obj[BATCH];
	int n;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty, nonfull;
	struct batch *ring[QCAP];
	int head, count;
	int producers_left;
};

static struct queue q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.nonempty = PTHREAD_COND_INITIALIZER,
	.nonfull = PTHREAD_COND_INITIALIZER,
};
static long objects_per_producer;
static size_t max_size;

static void queue_put(struct batch *b)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == QCAP)
		pthread_cond_wait(&q.nonfull, &q.lock);
	q.ring[(q.head + q.count) % QCAP] = b;
	q.count++;
	pthread_cond_signal(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
}

/* Returns NULL when every producer has finished and the queue is empty. */
static struct batch *queue_get(void)
{
	struct batch *b = NULL;
	pthread_mutex_lock(&q.lock);
	while (q.count == 0 && q.producers_left > 0)
		pthread_cond_wait(&q.nonempty, &q.lock);
	if (q.count > 0) {
		b = q.ring[q.head];
		q.head = (q.head + 1) % QCAP;
		q.count--;
		pthread_cond_signal(&q.nonfull);
	}
	pthread_mutex_unlock(&q.lock);
	return b;
}

static void *producer(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	struct batch *b = NULL;
	for (long i = 0; i < objects_per_producer; i++) {
		if (b == NULL) {
			b = mb_xmalloc(sizeof(*b));
			b->n = 0;
		}
		size_t n = mb_range(&s, 8, max_size);
		void *p = mb_xmalloc(n);
		mb_touch(p, n, (unsigned char)i, 0);
		b->obj[b->n++] = p;
		if (b->n == BATCH) {
			queue_put(b);
			b = NULL;
		}
	}
	if (b != NULL)
		queue_put(b);
	pthread_mutex_lock(&q.lock);
	q.producers_left--;
	pthread_cond_broadcast(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	uint64_t *sum = arg;
	struct batch *b;
	while ((b = queue_get()) != NULL) {
		for (int i = 0; i < b->n; i++) {
			*sum += *(unsigned char *)b->obj[i];
			free(b->obj[i]);
		}
		free(b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int np = (int)mb_arg(argc, argv, 1, 1);
	int nc = (int)mb_arg(argc, argv, 2, 1);
	objects_per_producer = mb_arg(argc, argv, 3, 20000000);
	max_size = (size_t)mb_arg(argc, argv, 4, 128);
	if (max_size < 8)
		max_size = 8;
	q.producers_left = np;

	pthread_t *tid = calloc((size_t)(np + nc), sizeof(*tid));
	uint64_t *sums = calloc((size_t)nc, sizeof(*sums));
	if (tid == NULL || sums == NULL)
		return 3;
	double t0 = mb_now();
	for (int i = 0; i < nc; i++)
		if (pthread_create(&tid[i], NULL, consumer, &sums[i]) != 0)
			return 4;
	for (int i = 0; i < np; i++)
		if (pthread_create(&tid[nc + i], NULL, producer, (void *)(uintptr_t)(i + 7)) != 0)
			return 4;
	uint64_t sum = 0;
	for (int i = 0; i < np + nc; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < nc; i++)
		sum += sums[i];
	double t1 = mb_now();
	free(tid);
	free(sums);
	mb_done("xmalloc", t1 - t0, sum);
	return 0;
}
