/* Randomized run against a model: a set of live objects with their sizes
 * and contents. Every object gets a pattern written over its whole size and
 * checked when it is freed or resized; no two live objects may overlap;
 * after every operation the cache it touched is walked by
 * mm_kmem_cache_check, and the whole instance by mm_kmem_check (after every
 * operation for the first 30000, then every 32nd). Mixes kmem caches (with and without magazines, with a ctor),
 * kmalloc of every class, large kmalloc, krealloc, kmalloc(0), shrink and
 * shrink_all. A failure prints the seed (MMKIT_SEED=... replays it). At the
 * end every page is back in the page source. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/rng.h"
#include "mmkit/slab.h"

#define MAXLIVE 256
#define NCACHES 4
#define CTOR_MAGIC 0x5EEDC0DEull

struct live {
	unsigned char *p;
	size_t size;
	uint32_t seed;
	int kind; /* -1 kmalloc, else cache index */
};

static void ctor(void *p)
{
	*(uint64_t *)p = CTOR_MAGIC;
}

static const struct {
	const char *name;
	size_t size;
	unsigned long flags;
	void (*ctor)(void *);
} cache_defs[NCACHES] = {
	{ "rnd_ctor24", 24, 0, ctor },
	{ "rnd_200", 200, 0, NULL },
	{ "rnd_700_direct", 700, MM_SLAB_NO_MAGAZINES, NULL },
	{ "rnd_3000_hw", 3000, MM_SLAB_HWCACHE_ALIGN, NULL },
};

static inline unsigned char pat(uint32_t seed, size_t i)
{
	return (unsigned char)((seed >> (i & 7)) + i * 131u);
}

/* The ctor cache keeps its first word in constructed state. */
static size_t pat_start(const struct live *l)
{
	return l->kind == 0 ? 8 : 0;
}

static void fill(struct live *l, size_t from)
{
	for (size_t i = MM_MAX(from, pat_start(l)); i < l->size; i++)
		l->p[i] = pat(l->seed, i);
}

static int verify(const struct live *l, size_t upto)
{
	if (l->kind == 0 && *(uint64_t *)(void *)l->p != CTOR_MAGIC)
		return -1;
	for (size_t i = pat_start(l); i < upto; i++)
		if (l->p[i] != pat(l->seed, i))
			return -1;
	return 0;
}

static size_t random_kmalloc_size(struct mm_rng *r)
{
	uint64_t x = mm_rng_below(r, 100);
	if (x < 50)
		return 1 + mm_rng_below(r, 256);
	if (x < 92)
		return 1 + mm_rng_below(r, MM_KMALLOC_MAX_CACHE_SIZE);
	return MM_KMALLOC_MAX_CACHE_SIZE + 1 + mm_rng_below(r, 40000);
}

static int overlaps(const struct live *live, size_t n, const unsigned char *p, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (p < live[i].p + live[i].size && live[i].p < p + size)
			return 1;
	return 0;
}

static void test_random_model(void **state)
{
	(void)state;
	uint64_t seed = mm_test_seed();
	struct mm_rng rng;
	mm_rng_seed(&rng, seed);
	struct mm_fault_source fs;
	struct mm_kmem *k = mm_kmem_create(mm_fault_source_init(&fs, &mm_page_source_mmap), 0);
	assert_non_null(k);
	struct mm_kmem_cache *caches[NCACHES];
	for (int i = 0; i < NCACHES; i++) {
		caches[i] = mm_kmem_cache_create(k, cache_defs[i].name, cache_defs[i].size, 0,
						 cache_defs[i].flags, cache_defs[i].ctor);
		assert_non_null(caches[i]);
	}
	static struct live live[MAXLIVE];
	size_t nlive = 0;
	uint64_t ops = mm_test_iters(2000000), check_all = mm_test_iters(30000);
	for (uint64_t op = 0; op < ops; op++) {
		struct mm_kmem_cache *touched = NULL; /* the cache this op used */
		uint64_t what = mm_rng_below(&rng, 100);
		if (what < 48 && nlive < MAXLIVE) {
			struct live l = { .seed = (uint32_t)mm_rng_next(&rng) };
			l.kind = (int)mm_rng_below(&rng, NCACHES + 3) - 3;
			if (l.kind < 0)
				l.kind = -1;
			if (l.kind >= 0) {
				l.size = cache_defs[l.kind].size;
				touched = caches[l.kind];
				l.p = mm_kmem_cache_alloc(touched, 0);
			} else {
				if (mm_rng_below(&rng, 200) == 0) {
					void *z = mm_kmalloc(k, 0, 0);
					if (z != MM_ZERO_SIZE_PTR)
						mm_test_fail_seed("kmalloc(0) gave %p", z);
					mm_kfree(k, z);
				}
				l.size = random_kmalloc_size(&rng);
				touched = mm_kmalloc_cache(k, l.size);
				l.p = mm_kmalloc(k, l.size, 0);
				if (l.p && mm_ksize(k, l.p) < l.size)
					mm_test_fail_seed("ksize %zu < %zu", mm_ksize(k, l.p), l.size);
			}
			if (!l.p)
				mm_test_fail_seed("op %llu: allocation of %zu failed",
						  (unsigned long long)op, l.size);
			if (l.kind == 0 && *(uint64_t *)(void *)l.p != CTOR_MAGIC)
				mm_test_fail_seed("op %llu: object not in constructed state",
						  (unsigned long long)op);
			if (overlaps(live, nlive, l.p, l.size))
				mm_test_fail_seed("op %llu: new object %p overlaps a live one",
						  (unsigned long long)op, (void *)l.p);
			fill(&l, 0);
			live[nlive++] = l;
		} else if (what < 90 && nlive > 0) {
			size_t i = mm_rng_below(&rng, nlive);
			struct live *l = &live[i];
			if (verify(l, l->size) < 0)
				mm_test_fail_seed("op %llu: object %p (%zu bytes) changed while live",
						  (unsigned long long)op, (void *)l->p, l->size);
			touched = l->kind >= 0 ? caches[l->kind] : mm_kmalloc_cache(k, l->size);
			if (l->kind >= 0)
				mm_kmem_cache_free(caches[l->kind], l->p);
			else
				mm_kfree(k, l->p);
			live[i] = live[--nlive];
		} else if (what < 97 && nlive > 0) {
			size_t i = mm_rng_below(&rng, nlive);
			if (live[i].kind >= 0)
				continue;
			struct live l = live[i];
			live[i] = live[--nlive]; /* out of the set for the overlap check */
			size_t nsize = random_kmalloc_size(&rng);
			size_t old_ks = mm_ksize(k, l.p);
			touched = mm_kmalloc_cache(k, l.size);
			unsigned char *q = mm_krealloc(k, l.p, nsize, 0);
			if (!q)
				mm_test_fail_seed("krealloc to %zu failed", nsize);
			if (nsize <= old_ks && q != l.p)
				mm_test_fail_seed("krealloc within ksize moved the object");
			size_t keep = MM_MIN(nsize, l.size);
			l.p = q;
			if (verify(&l, keep) < 0)
				mm_test_fail_seed("krealloc %zu -> %zu lost data", l.size, nsize);
			if (overlaps(live, nlive, q, nsize))
				mm_test_fail_seed("krealloc result overlaps a live object");
			l.size = nsize;
			fill(&l, keep);
			live[nlive++] = l;
		} else if (what < 99) {
			touched = caches[mm_rng_below(&rng, NCACHES)];
			mm_kmem_cache_shrink(touched);
		} else {
			mm_kmem_shrink_all(k);
		}
		if (touched && mm_kmem_cache_check(touched) != 0)
			mm_test_fail_seed("op %llu: mm_kmem_cache_check(%s) failed",
					  (unsigned long long)op, mm_kmem_cache_name(touched));
		if ((op < check_all || (op & 31) == 0) && mm_kmem_check(k) != 0)
			mm_test_fail_seed("op %llu: mm_kmem_check failed", (unsigned long long)op);
		if ((op & 1023) == 0) {
			/* every page taken from the source is accounted for */
			struct mm_kmem_stats ks;
			mm_kmem_stats(k, &ks);
			if (atomic_load(&fs.pages_out) != ks.slab_pages + ks.large_pages +
								   ks.pagemap_pages + ks.self_pages)
				mm_test_fail_seed("op %llu: page accounting is off",
						  (unsigned long long)op);
		}
	}
	for (size_t i = 0; i < nlive; i++) {
		if (verify(&live[i], live[i].size) < 0)
			mm_test_fail_seed("final: object changed");
		if (live[i].kind >= 0)
			mm_kmem_cache_free(caches[live[i].kind], live[i].p);
		else
			mm_kfree(k, live[i].p);
	}
	assert_int_equal(mm_kmem_check(k), 0);
	for (int i = 0; i < NCACHES; i++)
		mm_kmem_cache_destroy(caches[i]);
	mm_kmem_shrink_all(k);
	struct mm_kmem_stats st;
	mm_kmem_stats(k, &st);
	assert_int_equal(st.large_allocs, 0);
	mm_kmem_destroy(k);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
