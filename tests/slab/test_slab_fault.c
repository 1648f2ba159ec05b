/* Fault injection: the page source fails the 1st, 2nd or 3rd page
 * allocation of a call. Every path (cache alloc with and without magazines,
 * off-slab descriptor, kmalloc small and large, krealloc, cache create,
 * instance create) must return NULL and leave everything as it was: same
 * /proc/slabinfo text, same instance counters, same pages outstanding, and
 * mm_kmem_check passes. Empty slabs are normalised away on both sides with
 * mm_kmem_shrink_all (a failed call may leave a helper cache's freshly
 * emptied slab behind, which is free memory, not a change of state). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/rng.h"
#include "mmkit/slab.h"

struct ctx {
	struct mm_fault_source fs;
	struct mm_kmem *k;
	struct mm_kmem_cache *mag, *direct;
	struct mm_rng rng;
	unsigned char *re;   /* the object krealloc grows */
	size_t re_size;
	int ncreated;
	struct mm_kmem_cache *created[900];
};

struct snap {
	char text[8192];
	uint64_t pages_out;
	struct mm_kmem_stats st;
};

static void take(struct ctx *x, struct snap *s)
{
	mm_kmem_shrink_all(x->k);
	mm_kmem_slabinfo(x->k, s->text, sizeof(s->text));
	s->pages_out = atomic_load(&x->fs.pages_out);
	mm_kmem_stats(x->k, &s->st);
}

typedef void *(*op_fn)(struct ctx *x);

static void *op_cache_mag(struct ctx *x)
{
	return mm_kmem_cache_alloc(x->mag, 0);
}

static void *op_cache_direct(struct ctx *x)
{
	return mm_kmem_cache_alloc(x->direct, 0);
}

static void *op_kmalloc_small(struct ctx *x)
{
	return mm_kmalloc(x->k, 1 + mm_rng_below(&x->rng, MM_KMALLOC_MAX_CACHE_SIZE), 0);
}

static void *op_kmalloc_large(struct ctx *x)
{
	return mm_kmalloc(x->k, MM_KMALLOC_MAX_CACHE_SIZE + 1 + mm_rng_below(&x->rng, 100000), 0);
}

static void *op_krealloc(struct ctx *x)
{
	size_t n = x->re_size + 1 + mm_rng_below(&x->rng, 3000);
	unsigned char *q = mm_krealloc(x->k, x->re, n, 0);
	if (!q) {
		for (size_t i = 0; i < x->re_size; i++)
			if (x->re[i] != (unsigned char)(i * 7))
				fail_msg("krealloc failure changed the old object at %zu", i);
		return NULL;
	}
	for (size_t i = x->re_size; i < n; i++)
		q[i] = (unsigned char)(i * 7);
	x->re = q;
	x->re_size = n;
	if (x->re_size > 200000) { /* start again small */
		mm_kfree(x->k, x->re);
		x->re_size = 100;
		x->re = mm_kmalloc(x->k, 100, 0);
		assert_non_null(x->re);
		for (size_t i = 0; i < 100; i++)
			x->re[i] = (unsigned char)(i * 7);
	}
	return q; /* not kept: it is x->re */
}

static void *op_cache_create(struct ctx *x)
{
	if (x->ncreated == (int)MM_ARRAY_SIZE(x->created))
		return (void *)1;
	struct mm_kmem_cache *c = mm_kmem_cache_create(x->k, "fault_made", 64, 0, 0, NULL);
	if (c)
		x->created[x->ncreated++] = c;
	return c;
}

/* Print the first slabinfo line that differs. */
static void print_difference(const char *a, const char *b)
{
	size_t i = 0, line = 0;
	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			line = i + 1;
		i++;
	}
	print_error("before: %.*s\nafter:  %.*s\n", (int)strcspn(a + line, "\n"), a + line,
		    (int)strcspn(b + line, "\n"), b + line);
}

/* Run op until it has failed `want` times; returns the failures seen. */
/* The counters of a cache that must not move at all when its allocation
 * fails (no normalisation). */
static void cache_counters(struct mm_kmem_cache *c, unsigned long out[8])
{
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	unsigned long v[8] = { st.full_slabs, st.partial_slabs, st.empty_slabs, st.active_objs,
			       st.num_objs, st.depot_full, st.depot_objs, st.grows };
	memcpy(out, v, sizeof(v));
}

static int drive_cache(struct ctx *x, op_fn op, int keep, int want,
		       void (*release)(struct ctx *, void *), struct mm_kmem_cache *target)
{
	static struct snap before, after;
	unsigned long cbefore[8], cafter[8];
	void **kept = calloc(20000, sizeof(void *));
	int nkept = 0, failures = 0;
	for (int call = 0; call < 20000 && failures < want; call++) {
		take(x, &before);
		if (target)
			cache_counters(target, cbefore);
		int offset = 1 + (int)mm_rng_below(&x->rng, 3);
		x->fs.fail_nth = atomic_load(&x->fs.allocs) + (uint64_t)offset;
		void *r = op(x);
		x->fs.fail_nth = 0;
		if (r) {
			if (keep)
				kept[nkept++] = r;
			continue;
		}
		failures++;
		if (target) {
			cache_counters(target, cafter);
			if (memcmp(cbefore, cafter, sizeof(cbefore)) != 0)
				fail_msg("failed call changed the counters of %s",
					 mm_kmem_cache_name(target));
		}
		take(x, &after);
		if (strcmp(before.text, after.text) != 0) {
			print_difference(before.text, after.text);
			fail_msg("failed call %d (fail offset %d) changed slabinfo", call, offset);
		}
		if (before.pages_out != after.pages_out)
			fail_msg("failed call changed pages out: %llu -> %llu",
				 (unsigned long long)before.pages_out,
				 (unsigned long long)after.pages_out);
		if (memcmp(&before.st, &after.st, sizeof(before.st)) != 0)
			fail_msg("failed call changed the instance counters");
		assert_int_equal(mm_kmem_check(x->k), 0);
	}
	for (int i = 0; i < nkept; i++)
		release(x, kept[i]);
	free(kept);
	return failures;
}

static int drive(struct ctx *x, op_fn op, int keep, int want, void (*release)(struct ctx *, void *))
{
	return drive_cache(x, op, keep, want, release, NULL);
}

static void rel_mag(struct ctx *x, void *p)
{
	mm_kmem_cache_free(x->mag, p);
}

static void rel_direct(struct ctx *x, void *p)
{
	mm_kmem_cache_free(x->direct, p);
}

static void rel_kfree(struct ctx *x, void *p)
{
	mm_kfree(x->k, p);
}

static void test_every_path_fails_cleanly(void **state)
{
	(void)state;
	static struct ctx x;
	memset(&x, 0, sizeof(x));
	mm_rng_seed(&x.rng, mm_test_seed());
	x.k = mm_kmem_create(mm_fault_source_init(&x.fs, &mm_page_source_mmap), 0);
	assert_non_null(x.k);
	x.mag = mm_kmem_cache_create(x.k, "fault_mag", 200, 0, 0, NULL);
	x.direct = mm_kmem_cache_create(x.k, "fault_direct", 1000, 0, MM_SLAB_NO_MAGAZINES, NULL);
	assert_true(x.mag && x.direct);
	/* warm up: this thread's per-cache state exists before the counting */
	for (size_t n = 8; n <= MM_KMALLOC_MAX_CACHE_SIZE; n += 8)
		mm_kfree(x.k, mm_kmalloc(x.k, n, 0));
	mm_kmem_cache_free(x.mag, mm_kmem_cache_alloc(x.mag, 0));
	x.re_size = 100;
	x.re = mm_kmalloc(x.k, 100, 0);
	for (size_t i = 0; i < 100; i++)
		x.re[i] = (unsigned char)(i * 7);

	print_message("%s\n", "op_cache_mag");
	assert_int_equal(drive_cache(&x, op_cache_mag, 1, 30, rel_mag, x.mag), 30);
	print_message("%s\n", "op_cache_direct");
	assert_int_equal(drive_cache(&x, op_cache_direct, 1, 30, rel_direct, x.direct), 30);
	print_message("%s\n", "op_kmalloc_small");
	assert_int_equal(drive(&x, op_kmalloc_small, 1, 30, rel_kfree), 30);
	print_message("%s\n", "op_kmalloc_large");
	assert_int_equal(drive(&x, op_kmalloc_large, 1, 30, rel_kfree), 30);
	print_message("%s\n", "op_krealloc");
	assert_int_equal(drive(&x, op_krealloc, 0, 30, rel_kfree), 30);
	int cf = drive(&x, op_cache_create, 0, 5, rel_kfree);
	if (cf != 5)
		fail_msg("cache create failed %d times in %d creations", cf, x.ncreated);

	assert_int_equal(mm_kmem_check(x.k), 0);
	for (int i = 0; i < x.ncreated; i++)
		mm_kmem_cache_destroy(x.created[i]);
	mm_kfree(x.k, x.re);
	mm_kmem_cache_destroy(x.mag);
	mm_kmem_cache_destroy(x.direct);
	mm_kmem_destroy(x.k);
	assert_int_equal(atomic_load(&x.fs.pages_out), 0);
}

static void test_instance_create_fails_cleanly(void **state)
{
	(void)state;
	struct mm_fault_source fs;
	const struct mm_page_source *ps = mm_fault_source_init(&fs, &mm_page_source_mmap);
	int failures = 0;
	for (uint64_t n = 1; n < 200; n++) {
		fs.fail_nth = atomic_load(&fs.allocs) + n;
		struct mm_kmem *k = mm_kmem_create(ps, 0);
		fs.fail_nth = 0;
		if (!k) {
			failures++;
			assert_int_equal(atomic_load(&fs.pages_out), 0);
			continue;
		}
		void *p = mm_kmalloc(k, 100, 0);
		assert_non_null(p);
		mm_kfree(k, p);
		assert_int_equal(mm_kmem_check(k), 0);
		mm_kmem_destroy(k);
		assert_int_equal(atomic_load(&fs.pages_out), 0);
		break;
	}
	/* the instance, its page map, its first slabs: several allocations */
	assert_true(failures >= 3);
}

/* A thread whose first use meets failures: per-thread state may be built
 * or not, objects may come directly from the slabs, nothing is lost. */
struct tctx {
	struct ctx *x;
	int got;
};

static void *fault_thread(void *arg)
{
	struct tctx *t = arg;
	void *v[64];
	int n = 0;
	for (int i = 0; i < 64; i++) {
		t->x->fs.fail_every = 2;
		void *p = mm_kmalloc(t->x->k, 50 + i * 10, 0);
		if (p)
			v[n++] = p;
	}
	t->x->fs.fail_every = 0;
	t->got = n;
	for (int i = 0; i < n; i++)
		mm_kfree(t->x->k, v[i]);
	return NULL;
}

static void test_thread_state_under_failures(void **state)
{
	(void)state;
	static struct ctx x;
	memset(&x, 0, sizeof(x));
	x.k = mm_kmem_create(mm_fault_source_init(&x.fs, &mm_page_source_mmap), 0);
	assert_non_null(x.k);
	x.fs.fail_nth = atomic_load(&x.fs.allocs) + 1;
	struct tctx t = { .x = &x };
	pthread_t th;
	pthread_create(&th, NULL, fault_thread, &t);
	pthread_join(th, NULL);
	x.fs.fail_nth = 0;
	assert_true(atomic_load(&x.fs.failures) > 0);
	assert_int_equal(mm_kmem_check(x.k), 0);
	struct mm_kmem_stats st;
	mm_kmem_stats(x.k, &st);
	assert_int_equal(st.threads, 0); /* its state went at exit */
	mm_kmem_destroy(x.k);
	assert_int_equal(atomic_load(&x.fs.pages_out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_path_fails_cleanly),
		cmocka_unit_test(test_instance_create_fails_cleanly),
		cmocka_unit_test(test_thread_state_under_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
