/* The slab front end of libmmalloc (src/malloc/slab.c): small blocks are
 * carved side by side from spans, go back to their span when freed (also
 * from another thread), empty spans return to the arena, a double free of
 * a block already back in its span aborts, realloc moves or keeps blocks,
 * and the heap checker sees a damaged span. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

/* Chunk size of a request of n bytes (the allocator's rounding): 16-byte
 * steps up to 512, then eight size classes a doubling (but never past
 * the largest slab size, 4112). */
static size_t csize_of(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;
	if (c < 32)
		return 32;
	if (c <= 512)
		return c;
	unsigned e = 63u - (unsigned)__builtin_clzll(c - 1);
	size_t step = (size_t)1 << (e - 3);
	size_t r = (c + step - 1) & ~(step - 1);
	return r <= 4112 ? r : c;
}

static void test_blocks_side_by_side(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 24, 100, 500, 1000, 2000, 4000, 4104 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], cs = csize_of(n);
		enum { N = 64 };
		unsigned char *p[N];
		size_t adjacent = 0;
		for (int i = 0; i < N; i++) {
			p[i] = mmalloc_malloc(n);
			assert_non_null(p[i]);
			assert_int_equal((uintptr_t)p[i] % 16, 0);
			assert_int_equal(mmalloc_usable_size(p[i]), cs - 8);
			memset(p[i], i, n);
			if (i && p[i] == p[i - 1] + cs)
				adjacent++;
		}
		/* one refill carves its blocks next to each other */
		assert_true(adjacent >= N / 2);
		assert_int_equal(mmalloc_check(), 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(p[i][0], (unsigned char)i);
			assert_int_equal(p[i][n - 1], (unsigned char)i);
			mmalloc_free(p[i]);
		}
		mmalloc_thread_flush();
		assert_int_equal(mmalloc_check(), 0);
	}
}

/* Frees give the spans back: after a burst of 40k small blocks is freed,
 * in-use bytes return to where they were and malloc_trim releases the
 * empty spans that were kept. */
static void test_spans_return(void **state)
{
	(void)state;
	enum { N = 40000 };
	static void *p[N];
	mmalloc_thread_flush();
	struct mallinfo2 before = mmalloc_mallinfo2();
	for (int i = 0; i < N; i++) {
		p[i] = mmalloc_malloc((size_t)(16 + i % 300));
		assert_non_null(p[i]);
	}
	struct mallinfo2 full = mmalloc_mallinfo2();
	assert_true(full.uordblks > before.uordblks + (size_t)N * 16);
	/* free every other block, then the rest: spans empty out in a
	 * scattered order */
	for (int i = 0; i < N; i += 2)
		mmalloc_free(p[i]);
	assert_int_equal(mmalloc_check(), 0);
	for (int i = 1; i < N; i += 2)
		mmalloc_free(p[i]);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
	struct mallinfo2 after = mmalloc_mallinfo2();
	assert_true(after.uordblks <= before.uordblks + 64 * 1024);
	/* at most one empty span per size class is kept: far less than the
	 * burst's memory is left outside the arena's free chunks */
	mmalloc_trim(0);
	assert_int_equal(mmalloc_check(), 0);
	struct mallinfo2 trimmed = mmalloc_mallinfo2();
	assert_true(trimmed.arena < full.arena);
}

static void *free_from_thread(void *arg)
{
	void **p = arg;
	for (int i = 0; i < 1000; i++)
		mmalloc_free(p[i]);
	mmalloc_thread_flush();
	return NULL;
}

static void *alloc_in_thread(void *arg)
{
	void **p = arg;
	for (int i = 0; i < 1000; i++) {
		p[i] = mmalloc_malloc((size_t)(8 + i % 1000));
		memset(p[i], 0x5a, (size_t)(8 + i % 1000));
	}
	mmalloc_thread_flush();
	return NULL;
}

/* Blocks of a thread's arena freed by another thread go back to their
 * own span (the checker walks both arenas). */
static void test_cross_thread(void **state)
{
	(void)state;
	static void *p[1000];
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, alloc_in_thread, p), 0);
	pthread_join(t, NULL);
	assert_int_equal(mmalloc_check(), 0);
	assert_int_equal(pthread_create(&t, NULL, free_from_thread, p), 0);
	pthread_join(t, NULL);
	assert_int_equal(mmalloc_check(), 0);
}

static void test_realloc_blocks(void **state)
{
	(void)state;
	unsigned char *p = mmalloc_malloc(1000);
	memset(p, 7, 1000);
	/* shrinking a little keeps the block */
	assert_ptr_equal(mmalloc_realloc(p, 700), p);
	/* shrinking a lot moves to a smaller block, content kept */
	unsigned char *q = mmalloc_realloc(p, 40);
	assert_non_null(q);
	assert_true(mmalloc_usable_size(q) < 100);
	for (int i = 0; i < 40; i++)
		assert_int_equal(q[i], 7);
	/* growing moves, content kept, out to a heap chunk and back */
	unsigned char *r = mmalloc_realloc(q, 3000);
	for (int i = 0; i < 40; i++)
		assert_int_equal(r[i], 7);
	memset(r, 9, 3000);
	unsigned char *s = mmalloc_realloc(r, 9000);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(s[i], 9);
	unsigned char *t = mmalloc_realloc(s, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(t[i], 9);
	mmalloc_free(t);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
}

static void do_span_double_free(void *arg)
{
	(void)arg;
	void *p = mmalloc_malloc(72);
	mmalloc_free(p);
	mmalloc_thread_flush();   /* p is now free in its span */
	mmalloc_free(p);
	mmalloc_thread_flush();
}

static void *alloc_one(void *arg)
{
	*(void **)arg = mmalloc_malloc(72);
	return NULL;
}

/* A block of another thread's arena, freed here (remote list), pushed
 * back on its arena's xfree stack, then freed again. */
static void do_remote_double_free(void *arg)
{
	(void)arg;
	void *p = NULL;
	pthread_t t;
	mmalloc_free(mmalloc_malloc(8));   /* this thread has an arena */
	if (pthread_create(&t, NULL, alloc_one, &p) != 0)
		return;
	pthread_join(t, NULL);
	mmalloc_free(p);
	mmalloc_thread_flush();
	mmalloc_free(p);
	mmalloc_thread_flush();
}

static void test_double_free_in_span(void **state)
{
	(void)state;
	static const char *const needles[] = { "double free", NULL };
	mm_test_expect_abort(do_span_double_free, NULL, needles);
	mm_test_expect_abort(do_remote_double_free, NULL, needles);
}

/* The checker notices a free block whose key word was overwritten (a
 * write after free inside a span), and is content again once repaired. */
static void test_checker_sees_span_damage(void **state)
{
	(void)state;
	uintptr_t *p = mmalloc_malloc(200);
	void *keep = mmalloc_malloc(200);   /* the span stays alive */
	mmalloc_free(p);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
	uintptr_t saved = p[1];
	p[1] = saved ^ 1;
	assert_int_not_equal(mmalloc_check(), 0);
	p[1] = saved;
	assert_int_equal(mmalloc_check(), 0);
	mmalloc_free(keep);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_side_by_side),
		cmocka_unit_test(test_spans_return),
		cmocka_unit_test(test_cross_thread),
		cmocka_unit_test(test_realloc_blocks),
		cmocka_unit_test(test_double_free_in_span),
		cmocka_unit_test(test_checker_sees_span_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
