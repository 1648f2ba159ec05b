/* Shared helpers for the malloc workloads in bench/malloc/.
 *
 * The workloads call plain malloc/free (never libmmkit), so the allocator under
 * test is chosen from outside with LD_PRELOAD. Every workload ends with
 * mb_done(), which prints on stderr the shared object that really provides
 * `malloc` in this process ("mb-alloc: <path>"): bench/malloc/run.sh reads that
 * line to verify the preloaded library is active. Results and checksums go to
 * stdout.
 *
 * Everything here is static inline: one header, no extra library.
 */
#ifndef MMKIT_BENCH_MALLOC_MB_H
#define MMKIT_BENCH_MALLOC_MB_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Random numbers: splitmix64, one state per thread ---- */

static inline uint64_t mb_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline size_t mb_range(uint64_t *s, size_t lo, size_t hi)
{
	return lo + (size_t)(mb_rand(s) % (uint64_t)(hi - lo + 1));
}

/* ---- Time ---- */

static inline double mb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Arguments: positional integers with defaults ---- */

static inline long mb_arg(int argc, char **argv, int i, long def)
{
	if (i < argc && argv[i][0] != '\0') {
		char *end;
		long v = strtol(argv[i], &end, 10);
		if (*end == '\0' && v > 0)
			return v;
		fprintf(stderr, "%s: argument %d must be a positive integer, got '%s'\n",
			argv[0], i, argv[i]);
		exit(2);
	}
	return def;
}

/* ---- Keeping the compiler honest ---- */

/* Writes a few bytes of a fresh block (first, last, and one per 4 KiB page when
 * `pages` is set) so that neither the compiler nor a lazy allocator can skip the
 * allocation. */
static inline void mb_touch(void *p, size_t n, unsigned char v, int pages)
{
	unsigned char *b = p;
	if (n == 0)
		return;
	b[0] = v;
	b[n - 1] = v;
	if (pages)
		for (size_t i = 4096; i < n; i += 4096)
			b[i] = v;
}

static inline void *mb_xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL && n != 0) {
		fprintf(stderr, "malloc(%zu) failed\n", n);
		exit(3);
	}
	return p;
}

/* ---- Which allocator is this? ---- */

static inline const char *mb_allocator(void)
{
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	if (sym != NULL && dladdr(sym, &info) != 0 && info.dli_fname != NULL)
		return info.dli_fname;
	return "unknown";
}

/* Ends a workload: reports the allocator on stderr, and the workload's own
 * timing and checksum on stdout. */
static inline void mb_done(const char *name, double secs, uint64_t checksum)
{
	printf("%s: %.3f s checksum %016llx\n", name, secs, (unsigned long long)checksum);
	fflush(stdout);
	fprintf(stderr, "mb-alloc: %s\n", mb_allocator());
}

#endif
