/* Randomized operation sequences against the core: malloc, calloc,
 * realloc, memalign, free in random order and sizes, every block filled
 * with a pattern that is verified before it is freed or resized, and the
 * heap checker walking every arena after each step. Runs once in the main
 * arena and once in a thread (a non-main, mmap-ed heap arena). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

#define SLOTS 128

struct slot {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

struct run {
	uint64_t seed;
	uint64_t ops;
	uint64_t check_every;
	int failed;
	char msg[200];
};

static uint64_t next(uint64_t *s)
{
	/* splitmix64: self-contained so the test does not depend on rng.h's API */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t pick_size(uint64_t *s)
{
	uint64_t r = next(s) % 1000;
	if (r < 600)
		return next(s) % 128;
	if (r < 900)
		return next(s) % 2048;
	if (r < 990)
		return next(s) % 65536;
	return next(s) % (600 * 1024);
}

/* The pattern covers the whole of small blocks; big ones get their first
 * and last 512 bytes and every 509th byte (enough to catch overlaps).
 * visit() calls f on the pattern positions below `limit` of a block that
 * was filled when it had n bytes. */
#define EDGE 512
static int visit(unsigned char *p, size_t n, size_t limit, unsigned char tag, int fill)
{
	size_t i = 0;
	while (i < limit && i < n) {
		unsigned char want = (unsigned char)(tag + i * 7);
		if (fill)
			p[i] = want;
		else if (p[i] != want)
			return 0;
		if (n <= 4 * EDGE || i < EDGE || i >= n - EDGE)
			i++;
		else if (i + 509 < n - EDGE)
			i += 509;
		else
			i = n - EDGE;
	}
	return 1;
}

static int verify(const struct slot *sl)
{
	return visit(sl->p, sl->n, sl->n, sl->tag, 0);
}

static void fill(struct slot *sl)
{
	visit(sl->p, sl->n, sl->n, sl->tag, 1);
}

static void *run_ops(void *arg)
{
	struct run *r = arg;
	struct slot s[SLOTS];
	uint64_t st = r->seed;
	memset(s, 0, sizeof(s));
	for (uint64_t op = 0; op < r->ops && !r->failed; op++) {
		struct slot *sl = &s[next(&st) % SLOTS];
		unsigned kind = (unsigned)(next(&st) % 10);
		if (sl->p && !verify(sl)) {
			snprintf(r->msg, sizeof(r->msg), "op %llu: block %p (%zu bytes) corrupted",
				 (unsigned long long)op, (void *)sl->p, sl->n);
			r->failed = 1;
			break;
		}
		if (sl->p && kind < 4) {
			mmalloc_free(sl->p);
			sl->p = NULL;
		} else if (sl->p && kind < 7) {
			size_t n = pick_size(&st);
			unsigned char *q = mmalloc_realloc(sl->p, n);
			if (n == 0) {
				sl->p = NULL;     /* realloc(p, 0) freed it */
			} else {
				size_t keep = n < sl->n ? n : sl->n;
				if (!q || !visit(q, sl->n, keep, sl->tag, 0)) {
					snprintf(r->msg, sizeof(r->msg), "op %llu: realloc lost data",
						 (unsigned long long)op);
					r->failed = 1;
					break;
				}
				sl->p = q;
				sl->n = n;
				fill(sl);
			}
		} else {
			if (sl->p)
				mmalloc_free(sl->p);
			size_t n = pick_size(&st);
			if (kind == 7) {
				sl->p = mmalloc_calloc(1, n);
				for (size_t i = 0; i < n; i++)
					if (sl->p[i]) {
						snprintf(r->msg, sizeof(r->msg),
							 "op %llu: calloc not zero", (unsigned long long)op);
						r->failed = 1;
						break;
					}
			} else if (kind == 8) {
				size_t a = (size_t)1 << (next(&st) % 13);
				sl->p = mmalloc_memalign(a, n);
				if (sl->p && ((uintptr_t)sl->p & (a - 1))) {
					snprintf(r->msg, sizeof(r->msg), "op %llu: misaligned memalign",
						 (unsigned long long)op);
					r->failed = 1;
				}
			} else {
				sl->p = mmalloc_malloc(n);
			}
			sl->n = n;
			sl->tag = (unsigned char)next(&st);
			if (!sl->p || mmalloc_usable_size(sl->p) < n) {
				snprintf(r->msg, sizeof(r->msg), "op %llu: allocation failed",
					 (unsigned long long)op);
				r->failed = 1;
				break;
			}
			fill(sl);
		}
		if (op % r->check_every == 0 && mmalloc_check() != 0) {
			snprintf(r->msg, sizeof(r->msg), "op %llu: heap check failed",
				 (unsigned long long)op);
			r->failed = 1;
		}
	}
	for (int i = 0; i < SLOTS; i++)
		if (s[i].p)
			mmalloc_free(s[i].p);
	mmalloc_thread_flush();
	if (!r->failed && mmalloc_check() != 0) {
		snprintf(r->msg, sizeof(r->msg), "final heap check failed");
		r->failed = 1;
	}
	return NULL;
}

static void run_checked(uint64_t ops, uint64_t every, int in_thread)
{
	struct run r = { .seed = mm_test_seed() ^ (every * 31 + (uint64_t)in_thread),
			 .ops = mm_test_iters(ops), .check_every = every };
	if (in_thread) {
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, run_ops, &r), 0);
		pthread_join(t, NULL);
	} else {
		run_ops(&r);
	}
	if (r.failed)
		mm_test_fail_seed("%s", r.msg);
}

/* heap checker after every single step */
static void test_main_arena_every_step(void **state)
{
	(void)state;
	run_checked(100000, 1, 0);
}

static void test_thread_arena_every_step(void **state)
{
	(void)state;
	run_checked(100000, 1, 1);
}

/* long runs, checker every 997 steps */
static void test_long_runs(void **state)
{
	(void)state;
	run_checked(1000000, 997, 0);
	run_checked(1000000, 997, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_arena_every_step),
		cmocka_unit_test(test_thread_arena_every_step),
		cmocka_unit_test(test_long_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
