/* kmalloc: the class of every boundary size, ksize, krealloc (same class,
 * growth, shrink, failure), kmalloc(0), zeroing, alignment, and large
 * requests served by whole pages. */
#include <stdatomic.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/slab.h"

struct fixture {
	struct mm_fault_source fs;
	struct mm_kmem *k;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.k = mm_kmem_create(mm_fault_source_init(&f.fs, &mm_page_source_mmap), MM_KMEM_NODEBUG);
	*state = &f;
	return f.k ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mm_kmem_destroy(f->k);
	return atomic_load(&f->fs.pages_out) == 0 ? 0 : -1;
}

static const size_t classes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 };

static size_t expected_class(size_t n)
{
	for (size_t i = 0; i < MM_ARRAY_SIZE(classes); i++)
		if (n <= classes[i])
			return classes[i];
	return 0;
}

static void test_class_of_every_size(void **state)
{
	struct fixture *f = *state;
	for (size_t n = 1; n <= MM_KMALLOC_MAX_CACHE_SIZE; n++) {
		struct mm_kmem_cache *c = mm_kmalloc_cache(f->k, n);
		assert_non_null(c);
		if (mm_kmem_cache_size(c) != expected_class(n))
			fail_msg("size %zu went to %s", n, mm_kmem_cache_name(c));
	}
	assert_null(mm_kmalloc_cache(f->k, 0));
	assert_null(mm_kmalloc_cache(f->k, MM_KMALLOC_MAX_CACHE_SIZE + 1));
	assert_string_equal(mm_kmem_cache_name(mm_kmalloc_cache(f->k, 1000)), "kmalloc-1k");
	assert_string_equal(mm_kmem_cache_name(mm_kmalloc_cache(f->k, 97)), "kmalloc-128");
	assert_string_equal(mm_kmem_cache_name(mm_kmalloc_cache(f->k, 8192)), "kmalloc-8k");
}

static void test_boundaries_ksize(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(classes); i++) {
		size_t sizes[3] = { classes[i] - 1, classes[i], classes[i] + 1 };
		for (int j = 0; j < 3; j++) {
			size_t n = sizes[j];
			if (n == 0)
				continue;
			char *p = mm_kmalloc(f->k, n, 0);
			assert_non_null(p);
			size_t want = n <= MM_KMALLOC_MAX_CACHE_SIZE ? expected_class(n) : 16384;
			assert_int_equal(mm_ksize(f->k, p), want);
			memset(p, 0x77, want); /* the whole usable size is ours */
			if (MM_IS_POW2(want))
				assert_int_equal((uintptr_t)p % MM_MIN(want, (size_t)MM_PAGE_SIZE), 0);
			else
				assert_int_equal((uintptr_t)p % 8, 0);
			mm_kfree(f->k, p);
		}
	}
	assert_int_equal(mm_kmem_check(f->k), 0);
}

static void test_zero_size(void **state)
{
	struct fixture *f = *state;
	void *z = mm_kmalloc(f->k, 0, 0);
	assert_ptr_equal(z, MM_ZERO_SIZE_PTR);
	assert_non_null(z);
	assert_int_equal(mm_ksize(f->k, z), 0);
	mm_kfree(f->k, z);
	mm_kfree(f->k, NULL);
	assert_int_equal(mm_ksize(f->k, NULL), 0);
	char *p = mm_krealloc(f->k, z, 10, 0);
	assert_non_null(p);
	assert_int_equal(mm_ksize(f->k, p), 16);
	assert_ptr_equal(mm_krealloc(f->k, p, 0, 0), MM_ZERO_SIZE_PTR); /* frees p */
	p = mm_krealloc(f->k, NULL, 100, 0);
	assert_int_equal(mm_ksize(f->k, p), 128);
	mm_kfree(f->k, p);
}

static void test_kzalloc(void **state)
{
	struct fixture *f = *state;
	for (int round = 0; round < 3; round++) {
		unsigned char *p[100];
		for (int i = 0; i < 100; i++) {
			p[i] = mm_kzalloc(f->k, 200, 0);
			for (int j = 0; j < 200; j++)
				assert_int_equal(p[i][j], 0);
			memset(p[i], 0xee, 200); /* dirty it for the next round */
		}
		for (int i = 0; i < 100; i++)
			mm_kfree(f->k, p[i]);
	}
	unsigned char *big = mm_kzalloc(f->k, 50000, 0);
	for (int j = 0; j < 50000; j++)
		assert_int_equal(big[j], 0);
	mm_kfree(f->k, big);
}

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(seed + i * 31);
}

static int same(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(seed + i * 31))
			return 0;
	return 1;
}

static void test_krealloc(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem *k = f->k;
	char *p = mm_kmalloc(k, 40, 0);
	fill(p, 40, 1);
	/* same class: same pointer */
	char *q = mm_krealloc(k, p, 64, 0);
	assert_ptr_equal(q, p);
	/* shrink: the object still fits, Linux keeps it */
	q = mm_krealloc(k, p, 10, 0);
	assert_ptr_equal(q, p);
	assert_true(same(q, 10, 1));
	/* growth: a new object with the old contents */
	q = mm_krealloc(k, p, 65, 0);
	assert_ptr_not_equal(q, p);
	assert_int_equal(mm_ksize(k, q), 96);
	assert_true(same(q, 40, 1));
	fill(q, 96, 2);
	/* small -> large -> larger -> back in place */
	char *r = mm_krealloc(k, q, 20000, 0);
	assert_int_equal(mm_ksize(k, r), 32768);
	assert_int_equal((uintptr_t)r % MM_PAGE_SIZE, 0);
	assert_true(same(r, 96, 2));
	fill(r, 20000, 3);
	char *s = mm_krealloc(k, r, 100000, MM_GFP_ZERO);
	assert_int_equal(mm_ksize(k, s), 131072);
	assert_true(same(s, 20000, 3));
	for (size_t i = 32768; i < 131072; i++)
		assert_int_equal(s[i], 0);
	assert_ptr_equal(mm_krealloc(k, s, 70000, 0), s);
	struct mm_kmem_stats st;
	mm_kmem_stats(k, &st);
	assert_int_equal(st.large_allocs, 1);
	assert_int_equal(st.large_pages, 32);
	mm_kfree(k, s);
	mm_kmem_stats(k, &st);
	assert_int_equal(st.large_allocs, 0);
	assert_int_equal(st.large_pages, 0);
	assert_int_equal(mm_kmem_check(k), 0);
}

static void test_krealloc_failure_keeps_old(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem *k = f->k;
	char *p = mm_kmalloc(k, 3000, 0);
	fill(p, 3000, 9);
	f->fs.fail_nth = atomic_load(&f->fs.allocs) + 1; /* next page allocation fails */
	assert_null(mm_krealloc(k, p, 50000, 0));
	f->fs.fail_nth = 0;
	assert_int_equal(mm_ksize(k, p), 4096);
	assert_true(same(p, 3000, 9));
	char *q = mm_krealloc(k, p, 50000, 0);
	assert_non_null(q);
	assert_true(same(q, 3000, 9));
	mm_kfree(k, q);
}

static void test_large_pages(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem *k = f->k;
	uint64_t out0 = atomic_load(&f->fs.pages_out);
	struct mm_kmem_stats st;
	mm_kmem_stats(k, &st);
	unsigned long pm0 = st.pagemap_pages;
	size_t sizes[] = { 8193, 12288, 16384, 16385, 65536, 1 << 20, 3 << 20 };
	unsigned orders[] = { 2, 2, 2, 3, 4, 8, 10 };
	void *p[7];
	unsigned long pages = 0;
	for (int i = 0; i < 7; i++) {
		p[i] = mm_kmalloc(k, sizes[i], 0);
		assert_non_null(p[i]);
		/* whole blocks from the page source, naturally aligned */
		size_t block = MM_PAGE_SIZE << orders[i];
		assert_int_equal((uintptr_t)p[i] % block, 0);
		assert_int_equal(mm_ksize(k, p[i]), block);
		memset(p[i], i, sizes[i]);
		pages += 1ul << orders[i];
		/* the block, and page-map nodes for a new address range */
		mm_kmem_stats(k, &st);
		assert_int_equal(atomic_load(&f->fs.pages_out),
				 out0 + pages + st.pagemap_pages - pm0);
	}
	mm_kmem_stats(k, &st);
	assert_int_equal(st.large_pages, pages);
	assert_int_equal(st.large_allocs, 7);
	/* every page taken from the source is accounted for */
	assert_int_equal(atomic_load(&f->fs.pages_out),
			 st.slab_pages + st.large_pages + st.pagemap_pages + st.self_pages);
	for (int i = 0; i < 7; i++)
		mm_kfree(k, p[i]);
	mm_kmem_stats(k, &st);
	assert_int_equal(atomic_load(&f->fs.pages_out), out0 + st.pagemap_pages - pm0);
	/* a large block still allocated when the instance goes is freed too */
	assert_non_null(mm_kmalloc(k, 40000, 0));
}

static void test_kfree_of_cache_objects(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "viakfree", 72, 0, 0, NULL);
	void *o = mm_kmem_cache_alloc(c, 0);
	assert_int_equal(mm_ksize(f->k, o), 72);
	mm_kfree(f->k, o); /* Linux allows kfree of kmem_cache objects */
	assert_int_equal(mm_kmem_cache_shrink(c), 1);
	mm_kmem_cache_destroy(c);
	assert_int_equal(mm_kmem_check(f->k), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_of_every_size),
		cmocka_unit_test(test_boundaries_ksize),
		cmocka_unit_test(test_zero_size),
		cmocka_unit_test(test_kzalloc),
		cmocka_unit_test(test_krealloc),
		cmocka_unit_test(test_krealloc_failure_keeps_old),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_kfree_of_cache_objects),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
