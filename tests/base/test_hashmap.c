/* Hash map: random operations against a model with the checker after each,
 * growth, backward-shift deletion inside colliding runs, iteration with
 * removal, and allocation failure leaving the map unchanged. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/bitmap.h"
#include "mmkit/error.h"
#include "mmkit/hashmap.h"
#include "mmkit/rng.h"

/* ---- a counting allocator that fails on request ------------------------- */

struct test_alloc {
	int allocs, frees;
	int fail_next; /* fail the next n allocations */
	size_t live_bytes;
};

static void *ta_alloc(void *ctx, size_t size)
{
	struct test_alloc *t = ctx;
	if (t->fail_next > 0) {
		t->fail_next--;
		return NULL;
	}
	t->allocs++;
	t->live_bytes += size;
	return malloc(size);
}

static void ta_free(void *ctx, void *p, size_t size)
{
	struct test_alloc *t = ctx;
	t->frees++;
	t->live_bytes -= size;
	free(p);
}

/* ---- model -------------------------------------------------------------- */

#define POOL 3000

struct model {
	uint64_t key[POOL];
	uint64_t val[POOL];
	bool present[POOL];
	size_t n;
};

/* Keys: random, small, and multiples of 4096 (page addresses), plus the
 * extremes, all distinct. */
static void model_init(struct model *md, struct mm_rng *r)
{
	memset(md, 0, sizeof(*md));
	for (size_t i = 0; i < POOL; i++) {
		uint64_t k;
	again:
		switch (i % 3) {
		case 0: k = mm_rng_next(r); break;
		case 1: k = mm_rng_below(r, 5000); break;
		default: k = mm_rng_below(r, 1 << 20) << 12; break;
		}
		if (i == 0)
			k = 0;
		if (i == 1)
			k = UINT64_MAX;
		for (size_t j = 0; j < i; j++)
			if (md->key[j] == k)
				goto again;
		md->key[i] = k;
	}
}

static void compare_all(const struct mm_hashmap *m, const struct model *md)
{
	if (mm_hashmap_size(m) != md->n)
		mm_test_fail_seed("size %zu, model %zu", mm_hashmap_size(m), md->n);
	for (size_t i = 0; i < POOL; i++) {
		uint64_t v = 0;
		bool got = mm_hashmap_get(m, md->key[i], &v);
		if (got != md->present[i] || (got && v != md->val[i]))
			mm_test_fail_seed("key %llx: present %d/%d value %llx/%llx",
					  (unsigned long long)md->key[i], got, md->present[i],
					  (unsigned long long)v, (unsigned long long)md->val[i]);
	}
}

static void test_random_vs_model(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	struct model *md = malloc(sizeof(*md));
	assert_non_null(md);
	model_init(md, &r);
	struct test_alloc ta = { 0 };
	struct mm_hashmap_allocator a = { ta_alloc, ta_free, &ta };
	struct mm_hashmap m;
	assert_int_equal(mm_hashmap_init(&m, 0, &a), 0);
	assert_int_equal(ta.allocs, 0);
	assert_int_equal(mm_hashmap_check(&m), 0);
	uint64_t ops = mm_test_iters(60000);
	size_t max_size = 0;
	for (uint64_t op = 0; op < ops; op++) {
		/* phases: grow towards the whole pool, then shrink */
		unsigned put_pct = (op / 5000) % 2 ? 30 : 75;
		size_t i = (size_t)mm_rng_below(&r, POOL);
		unsigned what = (unsigned)mm_rng_below(&r, 100);
		if (what < put_pct) {
			uint64_t v = mm_rng_next(&r);
			int rc = mm_hashmap_put(&m, md->key[i], v);
			if (rc != (md->present[i] ? 1 : 0))
				mm_test_fail_seed("put returned %d", rc);
			md->n += !md->present[i];
			md->present[i] = true;
			md->val[i] = v;
		} else if (what < 97) {
			uint64_t old = 0;
			bool got = mm_hashmap_remove(&m, md->key[i], &old);
			if (got != md->present[i] || (got && old != md->val[i]))
				mm_test_fail_seed("remove: present %d/%d", got, md->present[i]);
			md->n -= md->present[i];
			md->present[i] = false;
		} else if (what < 99) {
			uint64_t *p = mm_hashmap_lookup(&m, md->key[i]);
			if ((p != NULL) != md->present[i])
				mm_test_fail_seed("lookup presence wrong");
			if (p)
				*p = md->val[i] = mm_rng_next(&r);
		} else if (put_pct == 30 && mm_rng_below(&r, 20) == 0) {
			/* clear only while shrinking: the first growth phase
			 * must reach the size asserted below */
			size_t cap = m.cap;
			mm_hashmap_clear(&m);
			assert_int_equal(m.cap, cap);
			memset(md->present, 0, sizeof(md->present));
			md->n = 0;
		}
		if (mm_hashmap_check(&m))
			mm_test_fail_seed("check failed after op %llu", (unsigned long long)op);
		if (op % 500 == 0)
			compare_all(&m, md);
		max_size = md->n > max_size ? md->n : max_size;
	}
	compare_all(&m, md);
	assert_true(max_size > 1000); /* the table really grew */
	assert_true(m.cap >= 1024);
	/* growth frees each old table */
	assert_int_equal(ta.allocs, ta.frees + 1);
	mm_hashmap_destroy(&m);
	assert_int_equal(ta.allocs, ta.frees);
	assert_int_equal(ta.live_bytes, 0);
	free(md);
}

/* Keys whose home slot (at capacity 16) is `slot`. */
static size_t keys_with_home(uint64_t *out, size_t n, size_t slot, uint64_t from)
{
	size_t k = 0;
	for (uint64_t x = from; k < n; x++)
		if ((mm_hash64(x) & 15) == slot)
			out[k++] = x;
	return k;
}

static void test_backward_shift(void **state)
{
	(void)state;
	struct mm_hashmap m;
	assert_int_equal(mm_hashmap_init(&m, 10, NULL), 0);
	assert_int_equal(m.cap, 16);
	/* a run that wraps: 4 keys homed at 14, 3 homed at 15, 2 homed at 1 */
	uint64_t a[4], b[3], c[2];
	keys_with_home(a, 4, 14, 0);
	keys_with_home(b, 3, 15, 0);
	keys_with_home(c, 2, 1, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mm_hashmap_put(&m, a[i], 100 + i), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mm_hashmap_put(&m, b[i], 200 + i), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mm_hashmap_put(&m, c[i], 300 + i), 0);
	/* slots 14,15,0,1,2,3,4 hold a and b; c lands at 5,6 */
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_true(m.slots[5].key == c[0] || m.slots[6].key == c[0]);
	/* removing the first of the run must pull everyone back */
	assert_true(mm_hashmap_remove(&m, a[0], NULL));
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_int_equal(m.slots[14].key, a[1]);
	assert_int_equal(m.slots[15].key, a[2]);
	assert_int_equal(m.slots[0].key, a[3]);
	assert_int_equal(m.slots[1].key, b[0]);
	assert_int_equal(m.slots[5].key, c[1]);
	assert_false(m.used[0] & (1u << 6));
	/* from the middle of the run */
	assert_true(mm_hashmap_remove(&m, b[0], NULL));
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_int_equal(m.slots[3].key, c[0]);
	assert_false(m.used[0] & (1u << 5));
	/* an entry sitting in its home slot right after the run stays put */
	uint64_t d;
	keys_with_home(&d, 1, 5, 1000000);
	assert_int_equal(mm_hashmap_put(&m, d, 400), 0);
	assert_int_equal(m.slots[5].key, d);
	assert_true(mm_hashmap_remove(&m, a[1], NULL));
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_int_equal(m.slots[5].key, d);
	assert_false(m.used[0] & (1u << 4));
	/* everything else still found with its value */
	uint64_t v;
	for (int i = 2; i < 4; i++)
		assert_true(mm_hashmap_get(&m, a[i], &v) && v == (uint64_t)(100 + i));
	for (int i = 1; i < 3; i++)
		assert_true(mm_hashmap_get(&m, b[i], &v) && v == (uint64_t)(200 + i));
	for (int i = 0; i < 2; i++)
		assert_true(mm_hashmap_get(&m, c[i], &v) && v == (uint64_t)(300 + i));
	assert_true(mm_hashmap_get(&m, d, &v) && v == 400);
	assert_false(mm_hashmap_get(&m, a[0], NULL));
	assert_false(mm_hashmap_remove(&m, a[0], NULL));
	assert_int_equal(mm_hashmap_size(&m), 7);
	mm_hashmap_destroy(&m);
}

static void test_enomem_leaves_map_unchanged(void **state)
{
	(void)state;
	struct test_alloc ta = { 0 };
	struct mm_hashmap_allocator a = { ta_alloc, ta_free, &ta };
	struct mm_hashmap m;
	ta.fail_next = 1;
	assert_int_equal(mm_hashmap_init(&m, 100, &a), -MM_ENOMEM);
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_int_equal(mm_hashmap_size(&m), 0);
	/* the first put allocates; make that fail too */
	ta.fail_next = 1;
	assert_int_equal(mm_hashmap_put(&m, 1, 1), -MM_ENOMEM);
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_false(mm_hashmap_get(&m, 1, NULL));
	/* fill a 16-slot table to its 14-entry limit */
	for (uint64_t k = 0; k < 14; k++)
		assert_int_equal(mm_hashmap_put(&m, k, k * 10), 0);
	assert_int_equal(m.cap, 16);
	ta.fail_next = 1;
	assert_int_equal(mm_hashmap_put(&m, 99, 0), -MM_ENOMEM);
	assert_int_equal(m.cap, 16);
	assert_int_equal(mm_hashmap_size(&m), 14);
	assert_int_equal(mm_hashmap_check(&m), 0);
	assert_false(mm_hashmap_get(&m, 99, NULL));
	for (uint64_t k = 0; k < 14; k++) {
		uint64_t v;
		assert_true(mm_hashmap_get(&m, k, &v));
		assert_int_equal(v, k * 10);
	}
	/* replacing needs no room */
	ta.fail_next = 1;
	assert_int_equal(mm_hashmap_put(&m, 3, 33), 1);
	ta.fail_next = 0;
	assert_int_equal(mm_hashmap_put(&m, 99, 0), 0);
	assert_int_equal(m.cap, 32);
	assert_int_equal(mm_hashmap_check(&m), 0);
	mm_hashmap_destroy(&m);
	assert_int_equal(ta.allocs, ta.frees);
}

static void test_iterate_and_remove(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed() ^ 0x1234);
	enum { N = 1500 };
	static uint8_t seen[N];
	static bool keep[N];
	uint64_t rounds = mm_test_iters(200);
	for (uint64_t round = 0; round < rounds; round++) {
		struct mm_hashmap m;
		assert_int_equal(mm_hashmap_init(&m, 0, NULL), 0);
		size_t n = 1 + (size_t)mm_rng_below(&r, N);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(mm_hashmap_put(&m, k * 7919, k), 0);
		memset(seen, 0, sizeof(seen));
		unsigned pct = (unsigned)mm_rng_below(&r, 101);
		size_t kept = 0;
		struct mm_hashmap_iter it;
		uint64_t key, val;
		mm_hashmap_iter_init(&it, &m);
		while (mm_hashmap_iter_next(&it, &key, &val)) {
			if (val >= n || key != val * 7919)
				mm_test_fail_seed("iterator returned %llu -> %llu",
						  (unsigned long long)key, (unsigned long long)val);
			seen[val]++;
			keep[val] = mm_rng_below(&r, 100) >= pct;
			if (keep[val])
				kept++;
			else
				mm_hashmap_iter_remove(&it);
		}
		for (size_t k = 0; k < n; k++)
			if (seen[k] != 1)
				mm_test_fail_seed("key %zu visited %u times (n %zu)", k, seen[k], n);
		if (mm_hashmap_check(&m) || mm_hashmap_size(&m) != kept)
			mm_test_fail_seed("after iter-remove: size %zu kept %zu", mm_hashmap_size(&m),
					  kept);
		for (size_t k = 0; k < n; k++)
			if (mm_hashmap_get(&m, k * 7919, NULL) != keep[k])
				mm_test_fail_seed("key %zu presence wrong after iteration", k);
		mm_hashmap_destroy(&m);
	}
	/* an empty, never-allocated map iterates nothing */
	struct mm_hashmap e;
	mm_hashmap_init(&e, 0, NULL);
	struct mm_hashmap_iter it;
	mm_hashmap_iter_init(&it, &e);
	assert_false(mm_hashmap_iter_next(&it, NULL, NULL));
}

static void test_check_detects_corruption(void **state)
{
	(void)state;
	struct mm_hashmap m;
	assert_int_equal(mm_hashmap_init(&m, 0, NULL), 0);
	for (uint64_t k = 0; k < 10; k++)
		mm_hashmap_put(&m, k, k);
	assert_int_equal(mm_hashmap_check(&m), 0);
	m.count++;
	assert_int_equal(mm_hashmap_check(&m), -MM_ECORRUPT);
	m.count--;
	/* a key moved off its probe run: give an occupied slot a key whose
	 * home slot is empty, so lookups starting there stop short of it */
	size_t i = 0, h = 0;
	while (!mm_bit_test(m.used, i))
		i++;
	while (mm_bit_test(m.used, h))
		h++;
	uint64_t saved = m.slots[i].key;
	uint64_t k = 1000;
	while ((mm_hash64(k) & 15) != h)
		k++;
	m.slots[i].key = k;
	assert_int_equal(mm_hashmap_check(&m), -MM_ECORRUPT);
	m.slots[i].key = saved;
	assert_int_equal(mm_hashmap_check(&m), 0);
	mm_hashmap_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backward_shift),
		cmocka_unit_test(test_enomem_leaves_map_unchanged),
		cmocka_unit_test(test_iterate_and_remove),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_random_vs_model),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
