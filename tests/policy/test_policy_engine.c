/* The replay engine on random traces: Mattson's stack algorithm against
 * direct LRU at every size, OPT never beaten, one-pass multi-run replay equal
 * to separate runs, chunked feeding, counters, write-backs, the OPT pre-pass
 * against a quadratic definition. */
#include <string.h>

#include "policy_testlib.h"

static struct mm_cache_request *gen_trace(struct mm_rng *rng, size_t n, uint64_t U, int shape,
					  int writes_pct)
{
	struct mm_cache_request *r = test_calloc(n, sizeof(*r));
	uint64_t loop = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t id;
		switch (shape) {
		case 0: id = mm_rng_below(rng, U); break;
		case 1: id = mm_rng_zipf(rng, U, 1.0); break;
		default: /* loops with noise: where LRU does badly */
			id = mm_rng_below(rng, 10) ? (loop++ % U) : mm_rng_below(rng, 4 * U);
		}
		r[i].id = id * 0x10001 + 7; /* sparse ids */
		r[i].kind = (int)mm_rng_below(rng, 100) < writes_pct ? MM_ACCESS_WRITE : MM_ACCESS_READ;
	}
	return r;
}

static void test_stack_vs_lru(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	for (int round = 0; round < 6; round++) {
		size_t n = (size_t)mm_test_iters(20000);
		uint64_t U = 16 + mm_rng_below(&rng, 300);
		struct mm_cache_request *r = gen_trace(&rng, n, U, round % 3, 0);
		struct mm_lru_stack *s;
		assert_int_equal(mm_lru_stack_create(&s), 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(mm_lru_stack_access(s, r[i].id) >= 0);
			if (i % 997 == 0)
				assert_int_equal(mm_lru_stack_check(s), 0);
		}
		assert_int_equal(mm_lru_stack_check(s), 0);
		assert_int_equal(mm_lru_stack_requests(s), n);
		size_t maxk = (size_t)U + 2;
		uint64_t *direct = test_calloc(maxk, sizeof(*direct));
		uint64_t *curve = test_calloc(maxk, sizeof(*curve));
		assert_int_equal(mm_cache_curve(r, n, "lru", 1, maxk, NULL, direct), 0);
		mm_lru_stack_curve(s, maxk, curve);
		for (size_t k = 1; k <= maxk; k++) {
			if (direct[k - 1] != curve[k - 1] || mm_lru_stack_misses(s, k) != curve[k - 1])
				mm_test_fail_seed("size %zu: LRU %llu misses, stack algorithm %llu\n", k,
						  (unsigned long long)direct[k - 1],
						  (unsigned long long)curve[k - 1]);
			if (k > 1)
				assert_true(curve[k - 1] <= curve[k - 2]); /* no anomaly */
		}
		if (mm_lru_stack_distinct(s) <= maxk) /* everything fits: cold misses only */
			assert_int_equal(curve[maxk - 1], mm_lru_stack_distinct(s));
		assert_int_equal(mm_lru_stack_misses(s, mm_lru_stack_distinct(s)),
				 mm_lru_stack_distinct(s));
		test_free(direct);
		test_free(curve);
		mm_lru_stack_destroy(s);
		test_free(r);
	}
}

/* a long trace over many ids forces several compactions of the time window */
static void test_stack_compaction(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 0x5a5a);
	struct mm_lru_stack *s;
	assert_int_equal(mm_lru_stack_create(&s), 0);
	struct mm_policy *p[3];
	const size_t sizes[3] = { 10, 200, 3000 };
	uint64_t miss[3] = { 0, 0, 0 };
	for (int i = 0; i < 3; i++)
		p[i] = tp_new("lru", sizes[i], 0);
	size_t n = (size_t)mm_test_iters(300000);
	for (size_t i = 0; i < n; i++) {
		uint64_t id = mm_rng_zipf(&rng, 5000, 0.8);
		int64_t d = mm_lru_stack_access(s, id);
		for (int k = 0; k < 3; k++) {
			struct mm_access_info in = { .time = i };
			bool hit = mm_policy_access(p[k], id, &in) == 0;
			/* LRU with k frames hits iff 1 <= distance <= k */
			assert_int_equal(hit, d >= 1 && (size_t)d <= sizes[k]);
			if (!hit) {
				miss[k]++;
				struct mm_victim v;
				if (mm_policy_size(p[k]) == sizes[k])
					assert_int_equal(mm_policy_evict(p[k], &v), 0);
				assert_int_equal(mm_policy_insert(p[k], id, &in), 0);
			}
		}
	}
	assert_int_equal(mm_lru_stack_check(s), 0);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(mm_lru_stack_misses(s, sizes[k]), miss[k]);
		mm_policy_destroy(p[k]);
	}
	mm_lru_stack_destroy(s);
}

static const char *const all_specs[] = {
	"fifo", "second-chance", "clock", "clock:ref=1", "nru", "nru:pick=first", "lru", "lfu",
	"lfu:tie=fifo", "lfu:perfect=1", "random", "aging", "wsclock", "wsclock:tau=3", "linux",
};

static void test_opt_is_optimal(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 0xbeef);
	const size_t nspecs = MM_ARRAY_SIZE(all_specs);
	for (int round = 0; round < 6; round++) {
		size_t n = (size_t)mm_test_iters(8000);
		uint64_t U = 8 + mm_rng_below(&rng, 120);
		struct mm_cache_request *r = gen_trace(&rng, n, U, round % 3, 30);
		const size_t sizes[4] = { 1, 2 + mm_rng_below(&rng, U / 4), U / 3 + 1, U / 2 + 1 };
		struct mm_cache_result *res = test_calloc(nspecs * 4, sizeof(*res));
		struct mm_cache_result opt[4];
		const char *o[1] = { "opt" };
		assert_int_equal(mm_cache_replay(r, n, all_specs, nspecs, sizes, 4, NULL, res), 0);
		assert_int_equal(mm_cache_replay(r, n, o, 1, sizes, 4, NULL, opt), 0);
		for (size_t i = 0; i < nspecs * 4; i++) {
			const struct mm_cache_result *x = &res[i], *best = &opt[i % 4];
			if (best->misses > x->misses)
				mm_test_fail_seed("OPT %llu misses > %s %llu at size %zu\n",
						  (unsigned long long)best->misses, x->policy,
						  (unsigned long long)x->misses, x->size);
			assert_int_equal(x->hits + x->misses, n);
			assert_int_equal(x->requests, n);
			/* every eviction makes room for a miss once full */
			assert_true(x->evictions <= x->misses && x->misses - x->evictions <= x->size);
			assert_true(x->dirty_evictions <= x->evictions);
			assert_true(x->writebacks >= x->dirty_evictions);
		}
		/* size 1: every policy is the same (miss unless the same id repeats) */
		for (size_t i = 0; i < nspecs; i++)
			assert_int_equal(res[i * 4].misses, opt[0].misses);
		test_free(res);
		test_free(r);
	}
}

static void test_one_pass_equals_separate_and_chunks(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 0x77);
	size_t n = (size_t)mm_test_iters(20000);
	struct mm_cache_request *r = gen_trace(&rng, n, 200, 1, 20);
	uint64_t *nu = test_calloc(n, sizeof(*nu));
	assert_int_equal(mm_cache_next_use(r, n, nu), 0);
	struct mm_cachesim_config cfg = { .seed = 9, .tick_interval = 0 };
	struct mm_cachesim *all;
	assert_int_equal(mm_cachesim_create(&cfg, &all), 0);
	const size_t sizes[] = { 5, 50 };
	const char *specs[] = { "fifo", "lru", "opt", "nru", "aging", "wsclock", "linux", "random" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++)
		for (size_t j = 0; j < 2; j++)
			assert_int_equal(mm_cachesim_add(all, specs[i], sizes[j]), 0);
	assert_true(mm_cachesim_needs_future(all));
	assert_int_equal(mm_cachesim_feed(all, r, NULL, 10), -MM_EINVAL);
	/* feed in uneven chunks */
	for (size_t off = 0; off < n;) {
		size_t c = 1 + (size_t)mm_rng_below(&rng, 3000);
		if (c > n - off)
			c = n - off;
		assert_int_equal(mm_cachesim_feed(all, r + off, nu + off, c), 0);
		assert_int_equal(mm_cachesim_check(all), 0);
		off += c;
	}
	assert_int_equal(mm_cachesim_add(all, "fifo", 3), -MM_EINVAL); /* too late */
	assert_int_equal(mm_cachesim_nruns(all), 2 * MM_ARRAY_SIZE(specs));
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++) {
		for (size_t j = 0; j < 2; j++) {
			size_t k = i * 2 + j;
			struct mm_cache_result a, b;
			assert_int_equal(mm_cachesim_result(all, k, &a), 0);
			/* the same run alone, in one chunk; run index 0 -> seed + 0 */
			struct mm_cachesim *one;
			struct mm_cachesim_config c1 = { .seed = cfg.seed + k };
			assert_int_equal(mm_cachesim_create(&c1, &one), 0);
			assert_int_equal(mm_cachesim_add(one, specs[i], sizes[j]), 0);
			assert_int_equal(mm_cachesim_feed(one, r, nu, n), 0);
			assert_int_equal(mm_cachesim_result(one, 0, &b), 0);
			assert_string_equal(a.policy, specs[i]);
			assert_int_equal(a.misses, b.misses);
			assert_int_equal(a.dirty_evictions, b.dirty_evictions);
			assert_int_equal(a.writebacks, b.writebacks);
			assert_non_null(mm_cachesim_policy(one, 0));
			assert_int_equal(mm_policy_check(mm_cachesim_policy(one, 0)), 0);
			mm_cachesim_destroy(one);
		}
	}
	struct mm_cache_result x;
	assert_int_equal(mm_cachesim_result(all, 999, &x), -MM_EINVAL);
	assert_int_equal(mm_cachesim_add(all, "nosuch", 3), -MM_EINVAL);
	mm_cachesim_destroy(all);
	test_free(nu);
	test_free(r);
}

static void test_dirty_accounting(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 0x1234);
	size_t n = 5000;
	for (int w = 0; w <= 100; w += 100) {
		struct mm_cache_request *r = gen_trace(&rng, n, 64, 0, w);
		const char *specs[] = { "fifo", "clock", "lru", "linux", "nru" };
		size_t size = 16;
		struct mm_cache_result res[5];
		assert_int_equal(mm_cache_replay(r, n, specs, 5, &size, 1, NULL, res), 0);
		for (int i = 0; i < 5; i++) {
			/* all reads: nothing to write back; all writes: every victim dirty */
			assert_int_equal(res[i].dirty_evictions, w ? res[i].evictions : 0);
			assert_int_equal(res[i].writebacks, res[i].dirty_evictions);
			assert_true(res[i].evictions > 0);
		}
		test_free(r);
	}
	/* wsclock with a small tau cleans dirty pages before evicting them */
	struct mm_cache_request *r = gen_trace(&rng, n, 64, 2, 100);
	const char *ws[1] = { "wsclock:tau=2" };
	size_t size = 16;
	struct mm_cache_result res;
	assert_int_equal(mm_cache_replay(r, n, ws, 1, &size, 1, NULL, &res), 0);
	assert_true(res.writebacks > res.dirty_evictions);
	test_free(r);
}

static void test_next_use_matches_definition(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 0x99);
	size_t n = 3000;
	struct mm_cache_request *r = gen_trace(&rng, n, 100, 1, 0);
	uint64_t *nu = test_calloc(n, sizeof(*nu));
	assert_int_equal(mm_cache_next_use(r, n, nu), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t want = MM_POLICY_NEVER;
		for (size_t j = i + 1; j < n; j++)
			if (r[j].id == r[i].id) {
				want = j;
				break;
			}
		assert_true(nu[i] == want);
	}
	test_free(nu);
	test_free(r);
}

static void test_ticks(void **state)
{
	(void)state;
	/* tick_interval=1: NRU sees every R cleared before each request; with
	 * one id per request nothing is ever in a class above 1 at eviction */
	struct mm_cache_request r[40];
	for (int i = 0; i < 40; i++)
		r[i] = (struct mm_cache_request){ .id = (uint64_t)(i % 7) };
	struct mm_cachesim_config cfg = { .tick_interval = 1 };
	struct mm_cachesim *cs;
	assert_int_equal(mm_cachesim_create(&cfg, &cs), 0);
	assert_int_equal(mm_cachesim_add(cs, "aging", 4), 0);
	assert_int_equal(mm_cachesim_feed(cs, r, NULL, 40), 0);
	struct mm_policy_stats st;
	mm_policy_get_stats(mm_cachesim_policy(cs, 0), &st);
	assert_int_equal(st.ticks, 39); /* before requests 1..39 */
	mm_cachesim_destroy(cs);
	/* automatic: every `size` requests */
	assert_int_equal(mm_cachesim_create(NULL, &cs), 0);
	assert_int_equal(mm_cachesim_add(cs, "nru", 4), 0);
	assert_int_equal(mm_cachesim_feed(cs, r, NULL, 40), 0);
	mm_policy_get_stats(mm_cachesim_policy(cs, 0), &st);
	assert_int_equal(st.ticks, 9); /* 4, 8, ..., 36 */
	mm_cachesim_destroy(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_vs_lru),
		cmocka_unit_test(test_stack_compaction),
		cmocka_unit_test(test_opt_is_optimal),
		cmocka_unit_test(test_one_pass_equals_separate_and_chunks),
		cmocka_unit_test(test_dirty_accounting),
		cmocka_unit_test(test_next_use_matches_definition),
		cmocka_unit_test(test_ticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
