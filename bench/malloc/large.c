/* large: big blocks around and above the mmap threshold.
 *
 * Two phases, repeated `rounds` times:
 *   - a working set of 16 blocks whose sizes are drawn log-uniformly from
 *     64 KiB .. 16 MiB; each step replaces one block (free + malloc) and
 *     touches one byte per page of the new block, as a program that fills
 *     its buffers would;
 *   - realloc growth: a buffer grows from 64 KiB to 16 MiB in steps of about
 *     1.5x (as vectors and string builders do), its contents checked after
 *     every move, then shrinks back in halves.
 * An allocator that mmaps and unmaps every large block pays a page fault per
 * page each time; one that keeps large blocks cached or grows in place with
 * mremap does far less work, at some cost in peak RSS.
 *
 * usage: mb-large [rounds=12] [steps_per_round=400]
 */
#include "mb.h"

#define WSET 16
#define MIN_LOG 16    /* 64 KiB */
#define MAX_LOG 24    /* 16 MiB */

static size_t log_uniform(uint64_t *s)
{
	/* uniform exponent in [MIN_LOG, MAX_LOG), then uniform within the octave */
	int e = (int)mb_range(s, MIN_LOG, MAX_LOG - 1);
	size_t lo = (size_t)1 << e;
	return mb_range(s, lo, 2 * lo);
}

int main(int argc, char **argv)
{
	int rounds = (int)mb_arg(argc, argv, 1, 12);
	long steps = mb_arg(argc, argv, 2, 400);
	uint64_t s = 77, sum = 0;
	unsigned char *w[WSET] = {0};

	double t0 = mb_now();
	for (int r = 0; r < rounds; r++) {
		for (long i = 0; i < steps; i++) {
			int k = (int)mb_range(&s, 0, WSET - 1);
			if (w[k] != NULL) {
				sum += w[k][0];
				free(w[k]);
			}
			size_t n = log_uniform(&s);
			w[k] = mb_xmalloc(n);
			mb_touch(w[k], n, (unsigned char)i, 1);
		}

		size_t n = (size_t)1 << MIN_LOG;
		unsigned char *p = mb_xmalloc(n);
		mb_touch(p, n, 0xA5, 1);
		while (n < ((size_t)1 << MAX_LOG)) {
			size_t m = n + n / 2;
			p = realloc(p, m);
			if (p == NULL)
				return 3;
			if (p[0] != 0xA5 || p[n - 1] != 0xA5 || p[n / 2 / 4096 * 4096] != 0xA5) {
				fprintf(stderr, "large: realloc lost data growing %zu -> %zu\n", n, m);
				return 5;
			}
			mb_touch(p, m, 0xA5, 1);
			n = m;
		}
		while (n > ((size_t)1 << MIN_LOG)) {
			n /= 2;
			p = realloc(p, n);
			if (p == NULL || p[0] != 0xA5) {
				fprintf(stderr, "large: realloc lost data shrinking to %zu\n", n);
				return 5;
			}
			p[n - 1] = 0xA5;
		}
		sum += p[0];
		free(p);
	}
	double t1 = mb_now();
	for (int k = 0; k < WSET; k++)
		free(w[k]);
	mb_done("large", t1 - t0, sum);
	return 0;
}
