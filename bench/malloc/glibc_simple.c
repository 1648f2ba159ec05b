/* glibc-simple: tight malloc/free loops of fixed sizes, after the idea of
 * glibc's benchtests/bench-malloc-simple.
 *
 * For each size in {16, 64, 256, 1024, 4096} and each batch length in
 * {25, 100, 400, 1600}: allocate a batch of blocks of that size, then free
 * them all, many times over. The whole grid runs twice: first while the
 * process is single-threaded (allocators may take lock-free shortcuts), then
 * again while a second, idle thread exists (the multi-threaded paths).
 * The time reported is the total over both passes.
 *
 * usage: mb-glibc-simple [total_allocs_per_cell=150000]
 */
#include <pthread.h>

#include "mb.h"

static const size_t sizes[] = {16, 64, 256, 1024, 4096};
static const int batches[] = {25, 100, 400, 1600};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define NBATCHES (sizeof(batches) / sizeof(batches[0]))

static void *ptrs[1600];

static uint64_t run_grid(long per_cell, double *secs)
{
	uint64_t sum = 0;
	double t0 = mb_now();
	for (size_t si = 0; si < NSIZES; si++) {
		for (size_t bi = 0; bi < NBATCHES; bi++) {
			int b = batches[bi];
			for (long done = 0; done < per_cell; done += b) {
				for (int i = 0; i < b; i++) {
					ptrs[i] = mb_xmalloc(sizes[si]);
					*(volatile char *)ptrs[i] = (char)i;
				}
				for (int i = 0; i < b; i++) {
					sum += *(volatile unsigned char *)ptrs[i];
					free(ptrs[i]);
				}
			}
		}
	}
	*secs = mb_now() - t0;
	return sum;
}

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;

static void *idle_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&idle_lock);   /* waits until main releases it */
	pthread_mutex_unlock(&idle_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	long per_cell = mb_arg(argc, argv, 1, 150000);
	double st, mt;
	uint64_t sum = run_grid(per_cell, &st);

	pthread_t tid;
	pthread_mutex_lock(&idle_lock);
	if (pthread_create(&tid, NULL, idle_thread, NULL) != 0)
		return 4;
	sum += run_grid(per_cell, &mt);
	pthread_mutex_unlock(&idle_lock);
	pthread_join(tid, NULL);

	printf("glibc-simple: single-thread %.3f s, multi-thread %.3f s\n", st, mt);
	mb_done("glibc-simple", st + mt, sum);
	return 0;
}
