/* Debug checks, each in a forked child that must die of SIGABRT with a
 * message naming the cache and the address: double free, a pointer of
 * another cache, a pointer inside an object, a write after free (poison),
 * red-zone overruns on both sides, kfree of a foreign pointer, and the
 * release-build double-free check of the magazine fast path. Also: debug
 * caches behave normally when used correctly, and the poison pattern. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "mmkit/slab.h"

static void expect_in(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("expected \"%s\" in: %s", what, text);
}

/* The child names the address it is about to misuse on its stderr. */
static void note_addr(const void *p)
{
	fprintf(stderr, "addr=%p\n", p);
	fflush(stderr);
}

/* The abort message (after the addr= line) must name that address. */
static void expect_addr(const char *out)
{
	const char *a = strstr(out, "addr=");
	assert_non_null(a);
	char want[64];
	size_t n = strcspn(a + 5, "\n");
	assert_true(n < sizeof(want));
	memcpy(want, a + 5, n);
	want[n] = '\0';
	if (!strstr(a + 5 + n, want))
		fail_msg("address %s not named in: %s", want, a + 5 + n);
}

/* ---- the children ---------------------------------------------------------- */

static struct mm_kmem *new_kmem(void)
{
	struct mm_kmem *k = mm_kmem_create(&mm_page_source_mmap, MM_KMEM_NODEBUG);
	assert_non_null(k);
	return k;
}

static void child_double_free(void *arg)
{
	unsigned long flags = *(unsigned long *)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "dbl_cache", 48, 0, flags, NULL);
	void *a = mm_kmem_cache_alloc(c, 0);
	void *b = mm_kmem_cache_alloc(c, 0);
	mm_kmem_cache_free(c, a);
	mm_kmem_cache_free(c, b); /* a is no longer on top of the magazine */
	note_addr(a);
	mm_kmem_cache_free(c, a);
}

static void child_other_cache(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *a = mm_kmem_cache_create(k, "cache_a", 64, 0, MM_SLAB_DEBUG, NULL);
	struct mm_kmem_cache *b = mm_kmem_cache_create(k, "cache_b", 64, 0, MM_SLAB_DEBUG, NULL);
	void *p = mm_kmem_cache_alloc(a, 0);
	note_addr(p);
	mm_kmem_cache_free(b, p);
}

/* Without debug flags: a pointer of another cache reaches the slab layer
 * (no magazines here; with them, when the magazine is flushed). */
static void child_other_cache_release(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *a = mm_kmem_cache_create(k, "plain_a", 64, 0,
						       MM_SLAB_NO_MAGAZINES, NULL);
	struct mm_kmem_cache *b = mm_kmem_cache_create(k, "plain_b", 64, 0,
						       MM_SLAB_NO_MAGAZINES, NULL);
	void *p = mm_kmem_cache_alloc(a, 0);
	note_addr(p);
	mm_kmem_cache_free(b, p);
}

static void child_not_start(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "start_cache", 64, 0,
						       MM_SLAB_CONSISTENCY_CHECKS, NULL);
	char *p = mm_kmem_cache_alloc(c, 0);
	note_addr(p + 8);
	mm_kmem_cache_free(c, p + 8);
}

static void child_use_after_free(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "uaf_cache", 128, 0, MM_SLAB_POISON, NULL);
	char *p = mm_kmem_cache_alloc(c, 0);
	mm_kmem_cache_free(c, p);
	p[17] = 1; /* write after free */
	note_addr(p);
	mm_kmem_cache_alloc(c, 0); /* the same object comes back: checked */
}

static void child_redzone_after(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "rz_cache", 40, 0, MM_SLAB_RED_ZONE, NULL);
	char *p = mm_kmem_cache_alloc(c, 0);
	p[40] = 'x'; /* one past the end */
	note_addr(p);
	mm_kmem_cache_free(c, p);
}

static void child_redzone_before(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "rz_cache", 40, 0, MM_SLAB_RED_ZONE, NULL);
	char *p = mm_kmem_cache_alloc(c, 0);
	p[-1] = 'x';
	note_addr(p);
	mm_kmem_cache_free(c, p);
}

/* kfree's fast path: the object on top of the kmalloc magazine again. */
static void child_kfree_double_fast(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	void *p = mm_kmalloc(k, 64, 0);
	mm_kfree(k, p);
	note_addr(p);
	mm_kfree(k, p);
}

/* A wild pointer in the 2 MiB range the thread memo uses as "no leaf yet". */
static void child_kfree_wild(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	void *p = mm_kmalloc(k, 64, 0); /* this thread now has state, no leaf */
	(void)p;
	const void *wild = (const void *)((uintptr_t)1 << 63);
	note_addr(wild);
	mm_kfree(k, wild);
}

static void child_kfree_foreign(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	static char not_ours[64];
	note_addr(not_ours);
	mm_kfree(k, not_ours);
}

static void child_kfree_double_debug(void *arg)
{
	(void)arg;
	struct mm_kmem *k = mm_kmem_create(&mm_page_source_mmap, MM_KMEM_DEBUG);
	void *a = mm_kmalloc(k, 100, 0), *b = mm_kmalloc(k, 100, 0);
	note_addr(a);
	mm_kfree(k, a);
	mm_kfree(k, b);
	mm_kfree(k, a);
}

/* ---- the tests ------------------------------------------------------------ */

static void test_double_free_red_zone(void **state)
{
	(void)state;
	unsigned long flags = MM_SLAB_RED_ZONE;
	const char *out = mm_test_expect_abort(child_double_free, &flags, NULL);
	expect_in(out, "dbl_cache");
	expect_in(out, "double free");
	expect_addr(out);
}

static void child_fast_double(void *arg)
{
	(void)arg;
	struct mm_kmem *k = new_kmem();
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "fast_dbl", 48, 0, 0, NULL);
	void *a = mm_kmem_cache_alloc(c, 0);
	note_addr(a);
	mm_kmem_cache_free(c, a);
	mm_kmem_cache_free(c, a);
}

static void test_double_free_fast_path(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_fast_double, NULL, NULL);
	expect_in(out, "fast_dbl");
	expect_in(out, "double free");
	expect_addr(out);
}

static void test_other_cache(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_other_cache, NULL, NULL);
	expect_in(out, "cache cache_b");
	expect_in(out, "of cache cache_a");
	expect_addr(out);
}

static void test_other_cache_release(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_other_cache_release, NULL, NULL);
	expect_in(out, "cache plain_b");
	expect_in(out, "of cache plain_a");
	expect_addr(out);
}

static void test_not_object_start(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_not_start, NULL, NULL);
	expect_in(out, "start_cache");
	expect_in(out, "not an object start");
	expect_addr(out);
}

static void test_use_after_free(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_use_after_free, NULL, NULL);
	expect_in(out, "uaf_cache");
	expect_in(out, "written after free");
	expect_in(out, "byte 17");
	expect_addr(out);
}

static void test_red_zones(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_redzone_after, NULL, NULL);
	expect_in(out, "rz_cache");
	expect_in(out, "red zone after the object");
	expect_addr(out);
	out = mm_test_expect_abort(child_redzone_before, NULL, NULL);
	expect_in(out, "red zone before the object");
	expect_addr(out);
}

static void test_kfree_foreign(void **state)
{
	(void)state;
	const char *out = mm_test_expect_abort(child_kfree_foreign, NULL, NULL);
	expect_in(out, "did not allocate");
	expect_addr(out);
	out = mm_test_expect_abort(child_kfree_double_debug, NULL, NULL);
	expect_in(out, "kmalloc-128");
	expect_in(out, "double free");
	expect_addr(out);
	out = mm_test_expect_abort(child_kfree_double_fast, NULL, NULL);
	expect_in(out, "kmalloc-64");
	expect_in(out, "double free");
	expect_addr(out);
	out = mm_test_expect_abort(child_kfree_wild, NULL, NULL);
	expect_in(out, "did not allocate");
	expect_addr(out);
}

static void test_debug_cache_normal_use(void **state)
{
	(void)state;
	struct mm_kmem *k = mm_kmem_create(&mm_page_source_mmap, MM_KMEM_DEBUG);
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "dbg_ok", 100, 0, 0, NULL);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	assert_true((st.flags & MM_SLAB_DEBUG) == MM_SLAB_DEBUG); /* forced on */
	assert_int_equal(st.object_size, 104);
	assert_int_equal(st.size, 120); /* 8 + 104 + 8 */
	unsigned char *o[300];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++) {
			o[i] = mm_kmem_cache_alloc(c, 0);
			memset(o[i], i, 100);
		}
		assert_int_equal(mm_kmem_cache_check(c), 0);
		for (int i = 0; i < 300; i++)
			mm_kmem_cache_free(c, o[i]);
	}
	/* a freed object holds the poison pattern (it is our memory) */
	unsigned char *p = mm_kmem_cache_alloc(c, 0);
	mm_kmem_cache_free(c, p);
	assert_int_equal(p[0], 0x6b);
	assert_int_equal(p[102], 0x6b);
	assert_int_equal(p[103], 0xa5);
	void *q = mm_kmalloc(k, 5000, 0);
	assert_int_equal(mm_ksize(k, q), 8192);
	mm_kfree(k, q);
	assert_int_equal(mm_kmem_check(k), 0);
	mm_kmem_cache_destroy(c);
	mm_kmem_destroy(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_free_red_zone),
		cmocka_unit_test(test_double_free_fast_path),
		cmocka_unit_test(test_other_cache),
		cmocka_unit_test(test_other_cache_release),
		cmocka_unit_test(test_not_object_start),
		cmocka_unit_test(test_use_after_free),
		cmocka_unit_test(test_red_zones),
		cmocka_unit_test(test_kfree_foreign),
		cmocka_unit_test(test_debug_cache_normal_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
