/* test_u64set.c — the hash set of mmsim trace (tools/mmsim/u64set.c):
 * random operations against a plain array, with deletions that shift probe
 * runs (keys chosen to collide), the kept-aside key ~0, and range removal
 * by lookups and by sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "u64set.h"

#define UNIVERSE 3000

/* the reference: present[k], val[k] for key key_of(k) */
static uint64_t key_of(size_t k)
{
	/* small keys, page-like keys and the two ends of the range */
	if (k == 0)
		return UINT64_MAX;
	if (k == 1)
		return 0;
	return k % 3 ? (uint64_t)k : ((uint64_t)k << 12) + 0x7f0000000ULL;
}

static void check_all(const struct u64set *h, const bool *present, const uint64_t *val)
{
	size_t n = 0;
	for (size_t k = 0; k < UNIVERSE; k++) {
		uint64_t v = 12345;
		bool got = u64set_get(h, key_of(k), &v);
		assert_int_equal(got, present[k]);
		if (got)
			assert_int_equal(v, val[k]);
		n += present[k];
	}
	assert_int_equal(h->count, n);
}

static void test_random_ops(void **state)
{
	(void)state;
	struct u64set h;
	static bool present[UNIVERSE];
	static uint64_t val[UNIVERSE];
	memset(present, 0, sizeof(present));
	assert_int_equal(u64set_init(&h, true), 0);
	srand(7);
	for (int step = 0; step < 60000; step++) {
		size_t k = (size_t)rand() % UNIVERSE;
		int op = rand() % 10;
		if (op < 6) {
			uint64_t v = (uint64_t)rand();
			assert_int_equal(u64set_put(&h, key_of(k), v), 0);
			present[k] = true;
			val[k] = v;
		} else {
			u64set_del(&h, key_of(k));
			present[k] = false;
		}
		if (step % 5000 == 0)
			check_all(&h, present, val);
	}
	check_all(&h, present, val);
	u64set_free(&h);
}

/* remove [lo, hi] both ways (few keys in a wide range: sweep; many keys in a
 * narrow one: lookups) and compare with the reference */
static void test_del_range(void **state)
{
	(void)state;
	for (int wide = 0; wide < 2; wide++) {
		struct u64set h;
		static bool present[UNIVERSE];
		static uint64_t val[UNIVERSE];
		assert_int_equal(u64set_init(&h, false), 0);
		for (size_t k = 0; k < UNIVERSE; k++) {
			present[k] = k % 2 == 0;
			val[k] = 0;
			if (present[k])
				assert_int_equal(u64set_put(&h, key_of(k), 0), 0);
		}
		uint64_t lo = wide ? 0 : 100, hi = wide ? UINT64_MAX - 1 : 400;
		u64set_del_range(&h, lo, hi);
		for (size_t k = 0; k < UNIVERSE; k++)
			if (key_of(k) >= lo && key_of(k) <= hi)
				present[k] = false;
		check_all(&h, present, val);
		/* the kept-aside key goes with a range that holds it */
		u64set_del_range(&h, UINT64_MAX - 5, UINT64_MAX);
		present[0] = false;
		check_all(&h, present, val);
		u64set_free(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_del_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
