/* Textbook results: Belady's reference string, the anomaly helper, the
 * registry and spec parsing. */
#include <string.h>

#include "policy_testlib.h"

static const uint64_t belady[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
#define NB MM_ARRAY_SIZE(belady)

static void test_belady_string(void **state)
{
	(void)state;
	/* cold misses counted */
	assert_int_equal(tp_misses("fifo", 3, belady, NB), 9);
	assert_int_equal(tp_misses("fifo", 4, belady, NB), 10); /* Belady's anomaly */
	assert_int_equal(tp_misses("lru", 3, belady, NB), 10);
	assert_int_equal(tp_misses("lru", 4, belady, NB), 8);
	assert_int_equal(tp_misses("opt", 3, belady, NB), 7);
	assert_int_equal(tp_misses("opt", 4, belady, NB), 6);
	assert_int_equal(tp_misses("belady", 3, belady, NB), 7); /* alias */
	assert_int_equal(tp_misses("opt:tie=lifo", 4, belady, NB), 6);
}

static void test_belady_all_in_one_pass(void **state)
{
	(void)state;
	struct mm_cache_request r[NB];
	for (size_t i = 0; i < NB; i++)
		r[i] = (struct mm_cache_request){ .id = belady[i], .kind = MM_ACCESS_READ };
	const char *specs[] = { "fifo", "lru", "opt" };
	const size_t sizes[] = { 3, 4 };
	struct mm_cache_result res[6];
	assert_int_equal(mm_cache_replay(r, NB, specs, 3, sizes, 2, NULL, res), 0);
	const uint64_t want[6] = { 9, 10, 10, 8, 7, 6 };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(res[i].misses, want[i]);
		assert_int_equal(res[i].requests, NB);
		assert_int_equal(res[i].size, sizes[i % 2]);
		assert_string_equal(res[i].policy, specs[i / 2]);
		/* every miss past the first `size` evicts */
		assert_int_equal(res[i].evictions, res[i].misses - res[i].size);
		assert_int_equal(res[i].dirty_evictions, 0);
	}
	assert_true(res[0].miss_ratio > 0.74 && res[0].miss_ratio < 0.76);
}

static void test_anomaly_helper(void **state)
{
	(void)state;
	struct mm_cache_request r[NB];
	for (size_t i = 0; i < NB; i++)
		r[i] = (struct mm_cache_request){ .id = belady[i] };
	uint64_t m[6];
	assert_int_equal(mm_cache_curve(r, NB, "fifo", 1, 6, NULL, m), 0);
	/* FIFO faults for 1..6 frames: 12 12 9 10 5 5 */
	const uint64_t want[6] = { 12, 12, 9, 10, 5, 5 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(m[i], want[i]);
	size_t where[4];
	assert_int_equal(mm_curve_anomalies(m, 1, 6, where, 4), 1);
	assert_int_equal(where[0], 4);
	/* LRU is a stack algorithm: no anomaly */
	assert_int_equal(mm_cache_curve(r, NB, "lru", 1, 6, NULL, m), 0);
	assert_int_equal(mm_curve_anomalies(m, 1, 6, where, 4), 0);
	/* the stack algorithm gives the same LRU curve */
	struct mm_lru_stack *s;
	assert_int_equal(mm_lru_stack_create(&s), 0);
	for (size_t i = 0; i < NB; i++)
		assert_true(mm_lru_stack_access(s, belady[i]) >= 0);
	uint64_t c[6];
	mm_lru_stack_curve(s, 6, c);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(c[i], m[i]);
		assert_int_equal(mm_lru_stack_misses(s, (size_t)i + 1), m[i]);
	}
	assert_int_equal(mm_lru_stack_misses(s, 3), 10);
	assert_int_equal(mm_lru_stack_misses(s, 4), 8);
	assert_int_equal(mm_lru_stack_distinct(s), 5);
	assert_int_equal(mm_lru_stack_check(s), 0);
	mm_lru_stack_destroy(s);
	/* invalid ranges */
	assert_int_equal(mm_cache_curve(r, NB, "fifo", 0, 3, NULL, m), -MM_EINVAL);
	assert_int_equal(mm_cache_curve(r, NB, "fifo", 4, 3, NULL, m), -MM_EINVAL);
}

static void test_stack_distances(void **state)
{
	(void)state;
	struct mm_lru_stack *s;
	assert_int_equal(mm_lru_stack_create(&s), 0);
	/* a b c a a c b d b: distances - - - 3 1 2 3 - 2 */
	const uint64_t ids[] = { 10, 11, 12, 10, 10, 12, 11, 13, 11 };
	const int64_t want[] = { 0, 0, 0, 3, 1, 2, 3, 0, 2 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(ids); i++)
		assert_int_equal(mm_lru_stack_access(s, ids[i]), want[i]);
	assert_int_equal(mm_lru_stack_hist(s, 1), 1);
	assert_int_equal(mm_lru_stack_hist(s, 2), 2);
	assert_int_equal(mm_lru_stack_hist(s, 3), 2);
	assert_int_equal(mm_lru_stack_hist(s, 4), 0);
	assert_int_equal(mm_lru_stack_requests(s), 9);
	assert_int_equal(mm_lru_stack_misses(s, 1), 4 + 4);
	assert_int_equal(mm_lru_stack_misses(s, 3), 4);
	assert_int_equal(mm_lru_stack_check(s), 0);
	mm_lru_stack_destroy(s);
}

static void test_next_use(void **state)
{
	(void)state;
	const uint64_t ids[] = { 7, 8, 7, 9, 8, 7 };
	struct mm_cache_request r[6];
	for (int i = 0; i < 6; i++)
		r[i] = (struct mm_cache_request){ .id = ids[i] };
	uint64_t nu[6];
	assert_int_equal(mm_cache_next_use(r, 6, nu), 0);
	const uint64_t N = MM_POLICY_NEVER;
	const uint64_t want[6] = { 2, 4, 5, N, N, N };
	for (int i = 0; i < 6; i++)
		assert_true(nu[i] == want[i]);
}

static void test_registry_and_specs(void **state)
{
	(void)state;
	assert_int_equal(mm_policy_count(), 11);
	const char *names[] = { "fifo", "second-chance", "clock", "nru", "lru", "lfu",
				"opt", "random", "aging", "wsclock", "linux" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(names); i++) {
		const struct mm_policy_info *in = mm_policy_find(names[i]);
		assert_non_null(in);
		assert_string_equal(in->name, names[i]);
		struct mm_policy *p = tp_new(names[i], 4, 1);
		assert_string_equal(mm_policy_name(p), names[i]);
		assert_int_equal(mm_policy_idealised(p),
				 !strcmp(names[i], "lru") || !strcmp(names[i], "lfu") ||
					 !strcmp(names[i], "opt"));
		assert_int_equal(mm_policy_capacity(p), 4);
		mm_policy_destroy(p);
	}
	assert_string_equal(mm_policy_find("belady")->name, "opt");
	assert_string_equal(mm_policy_find("FIFO-Reinsertion")->name, "second-chance");
	assert_string_equal(mm_policy_find("active-inactive")->name, "linux");
	assert_null(mm_policy_find("arc"));
	assert_null(mm_policy_info(11));

	struct mm_policy_config cfg = { .capacity = 4 };
	struct mm_policy *p = NULL;
	assert_int_equal(mm_policy_create("nosuch", &cfg, &p), -MM_EINVAL);
	assert_int_equal(mm_policy_create("lfu:tie=random", &cfg, &p), -MM_EINVAL);
	assert_int_equal(mm_policy_create("fifo:bogus=1", &cfg, &p), -MM_EINVAL);
	assert_int_equal(mm_policy_create("wsclock:tau=x", &cfg, &p), -MM_EINVAL);
	assert_int_equal(mm_policy_create("clock:ref=2", &cfg, &p), -MM_EINVAL);
	assert_null(p);
	cfg.capacity = 0;
	assert_int_equal(mm_policy_create("fifo", &cfg, &p), -MM_EINVAL);
	cfg.capacity = 4;
	assert_int_equal(mm_policy_create("lfu:tie=fifo:perfect=1", &cfg, &p), 0);
	assert_string_equal(mm_policy_spec(p), "lfu:tie=fifo:perfect=1");
	mm_policy_destroy(p);
	assert_int_equal(mm_policy_create("WSCLOCK:tau=100", &cfg, &p), 0);
	assert_string_equal(mm_policy_spec(p), "wsclock:tau=100");
	mm_policy_destroy(p);
}

static void test_generic_errors(void **state)
{
	(void)state;
	struct mm_policy *p = tp_new("fifo", 2, 0);
	struct mm_victim v = { 0 };
	assert_int_equal(mm_policy_evict(p, &v), -MM_ENOENT);
	tp_ins(p, 1, 0);
	struct mm_access_info in = { 0 };
	assert_int_equal(mm_policy_insert(p, 1, &in), -MM_EEXIST);
	tp_ins(p, 2, 1);
	assert_int_equal(mm_policy_insert(p, 3, &in), -MM_ENOSPC);
	assert_int_equal(mm_policy_access(p, 3, &in), -MM_ENOENT);
	assert_int_equal(mm_policy_remove(p, 3), -MM_ENOENT);
	assert_int_equal(mm_policy_mark_clean(p, 3), -MM_ENOENT);
	assert_int_equal(mm_policy_size(p), 2);
	/* the software MMU: a write sets dirty, mark_clean clears it */
	bool r, d;
	tp_acc_full(p, 2, 2, MM_ACCESS_WRITE, MM_POLICY_NEVER);
	assert_int_equal(mm_policy_soft_bits(p, 2, &r, &d), 0);
	assert_true(r && d);
	assert_int_equal(mm_policy_mark_clean(p, 2), 0);
	assert_int_equal(mm_policy_soft_bits(p, 2, &r, &d), 0);
	assert_true(r && !d);
	assert_int_equal(mm_policy_soft_bits(p, 9, &r, &d), -MM_ENOENT);
	/* ids at the ends of the range are ordinary keys */
	assert_int_equal(mm_policy_remove(p, 1), 0);
	tp_ins(p, UINT64_MAX, 3);
	assert_int_equal(mm_policy_remove(p, 2), 0);
	tp_ins(p, 0, 4);
	assert_true(mm_policy_contains(p, 0) && mm_policy_contains(p, UINT64_MAX));
	assert_int_equal(tp_evict(p), UINT64_MAX);
	struct mm_policy_stats st;
	mm_policy_get_stats(p, &st);
	assert_int_equal(st.inserts, 4);
	assert_int_equal(st.removes, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.accesses, 1);
	mm_policy_destroy(p);
	mm_policy_destroy(NULL);
}

/* random spec strings: never a crash, only 0 or -MM_EINVAL */
static void test_spec_garbage(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	static const char *const parts[] = { "lfu", "clock", "nru", "wsclock", "linux", ":", "=",
					     "tie", "fifo", "lru", "ref", "1", "0", "tau", "ratio",
					     "pick", "first", "x", "99999999999999999999", "" };
	struct mm_policy_config cfg = { .capacity = 3 };
	int ok = 0;
	for (int i = 0; i < 3000; i++) {
		char spec[160] = "";
		int n = 1 + (int)mm_rng_below(&rng, 7);
		for (int k = 0; k < n; k++)
			strncat(spec, parts[mm_rng_below(&rng, MM_ARRAY_SIZE(parts))],
				sizeof(spec) - strlen(spec) - 1);
		struct mm_policy *p = NULL;
		int err = mm_policy_create(spec, &cfg, &p);
		assert_true(err == 0 || err == -MM_EINVAL);
		if (err == 0) {
			ok++;
			struct mm_access_info in = { 0 };
			assert_int_equal(mm_policy_insert(p, 1, &in), 0);
			assert_int_equal(mm_policy_check(p), 0);
			mm_policy_destroy(p);
		} else {
			assert_null(p);
		}
	}
	assert_true(ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_belady_string),
		cmocka_unit_test(test_belady_all_in_one_pass),
		cmocka_unit_test(test_anomaly_helper),
		cmocka_unit_test(test_stack_distances),
		cmocka_unit_test(test_next_use),
		cmocka_unit_test(test_registry_and_specs),
		cmocka_unit_test(test_generic_errors),
		cmocka_unit_test(test_spec_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
