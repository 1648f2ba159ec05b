/* bench_kmalloc: mm_kmalloc + mm_kfree pairs against the process's malloc +
 * free pair (glibc, or jemalloc / mimalloc when LD_PRELOADed:
 * bench/bench_kmalloc.sh runs all of them and prints one table).
 *
 * For 64, 256 and 1024 bytes, with 1 and 2 threads (each thread its own
 * loop; ns per pair as seen by one thread), two patterns:
 *   hot      allocate and free one block, again and again;
 *   batch    allocate 100 blocks, then free them (oldest first).
 * Figures are the minimum over many short trials (the machine is shared);
 * the malloc and kmalloc trials of one figure alternate, so both see the
 * same moments of load and their ratio is steadier than that of separate
 * runs. The malloc measured is named by the library that defines `malloc`
 * in this process (dladdr), so a failed preload cannot go unnoticed.
 *
 * Output: one "result <allocator> <size> <threads> <pattern> <ns>" line per
 * figure, after a "malloc-library <path>" line; --malloc-only skips kmalloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmkit/slab.h"

#define BATCH 100

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Called through volatile pointers so the compiler cannot elide the pair. */
static void *(*volatile malloc_fn)(size_t) = malloc;
static void (*volatile free_fn)(void *) = free;
static volatile uintptr_t sink;

enum which { USE_MALLOC, USE_KMALLOC };

struct job {
	struct mm_kmem *k; /* NULL: malloc only */
	size_t size;
	int batch;       /* 0 = hot */
	long pairs;
	int trials;
	pthread_barrier_t *bar;
	double best[2];  /* ns per pair, by enum which */
};

static double run_malloc(size_t size, int batch, long pairs)
{
	void *(*m)(size_t) = malloc_fn;
	void (*f)(void *) = free_fn;
	void *v[BATCH];
	double t0 = now_ns();
	if (!batch) {
		for (long i = 0; i < pairs; i++) {
			void *p = m(size);
			sink += (uintptr_t)p;
			f(p);
		}
	} else {
		for (long i = 0; i < pairs; i += BATCH) {
			for (int j = 0; j < BATCH; j++)
				v[j] = m(size);
			for (int j = 0; j < BATCH; j++)
				f(v[j]);
		}
	}
	return (now_ns() - t0) / (double)pairs;
}

static double run_kmalloc(struct mm_kmem *k, size_t size, int batch, long pairs)
{
	void *v[BATCH];
	double t0 = now_ns();
	if (!batch) {
		for (long i = 0; i < pairs; i++) {
			void *p = mm_kmalloc(k, size, 0);
			sink += (uintptr_t)p;
			mm_kfree(k, p);
		}
	} else {
		for (long i = 0; i < pairs; i += BATCH) {
			for (int j = 0; j < BATCH; j++)
				v[j] = mm_kmalloc(k, size, 0);
			for (int j = 0; j < BATCH; j++)
				mm_kfree(k, v[j]);
		}
	}
	return (now_ns() - t0) / (double)pairs;
}

/* Alternate malloc and kmalloc trials (all threads start each together). */
static void *job_thread(void *arg)
{
	struct job *j = arg;
	j->best[USE_MALLOC] = j->best[USE_KMALLOC] = 1e30;
	for (int r = 0; r < j->trials; r++) {
		for (int w = USE_MALLOC; w <= (j->k ? USE_KMALLOC : USE_MALLOC); w++) {
			pthread_barrier_wait(j->bar);
			double t = w == USE_KMALLOC ? run_kmalloc(j->k, j->size, j->batch, j->pairs)
						    : run_malloc(j->size, j->batch, j->pairs);
			if (t < j->best[w])
				j->best[w] = t;
		}
	}
	return NULL;
}

/* ns per pair for malloc and (k not NULL) kmalloc: as the slower thread saw it. */
static void measure(struct mm_kmem *k, size_t size, int nthreads, int batch, int trials,
		    double out[2])
{
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	struct job jobs[2];
	pthread_t tids[2];
	for (int i = 0; i < nthreads; i++) {
		jobs[i] = (struct job){ .k = k, .size = size, .batch = batch, .pairs = 100000,
					.trials = trials, .bar = &bar };
		pthread_create(&tids[i], NULL, job_thread, &jobs[i]);
	}
	out[USE_MALLOC] = out[USE_KMALLOC] = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		for (int w = USE_MALLOC; w <= USE_KMALLOC; w++)
			if (jobs[i].best[w] > out[w])
				out[w] = jobs[i].best[w];
	}
	pthread_barrier_destroy(&bar);
}

int main(int argc, char **argv)
{
	int malloc_only = 0, trials = 40;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--malloc-only"))
			malloc_only = 1;
		else
			trials = atoi(argv[i]);
	}
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	const char *lib = (m && dladdr(m, &info) && info.dli_fname) ? info.dli_fname : "?";
	printf("malloc-library %s\n", lib);
	struct mm_kmem *k = malloc_only ? NULL : mm_kmem_create(&mm_page_source_mmap, 0);
	if (!malloc_only && !k) {
		fprintf(stderr, "bench_kmalloc: cannot create the instance\n");
		return 1;
	}
	size_t sizes[] = { 64, 256, 1024 };
	const char *pat[] = { "hot", "batch" };
	for (int s = 0; s < 3; s++)
		for (int th = 1; th <= 2; th++)
			for (int b = 0; b < 2; b++) {
				double t[2];
				measure(k, sizes[s], th, b ? BATCH : 0, trials, t);
				printf("result malloc %zu %d %s %.2f\n", sizes[s], th, pat[b],
				       t[USE_MALLOC]);
				if (!malloc_only)
					printf("result kmalloc %zu %d %s %.2f\n", sizes[s], th,
					       pat[b], t[USE_KMALLOC]);
			}
	mm_kmem_destroy(k);
	return 0;
}
