/* Hardware-realistic policies over an external host (a fake MMU with
 * accessed/dirty bits per id, as mmsim's PTEs through the reverse map) must
 * choose exactly the victims they choose over the built-in software MMU. */
#include <string.h>

#include "policy_testlib.h"

#define U 256

struct fake_mmu {
	bool young[U], dirty[U];
	uint64_t tcr, writebacks;
	struct mm_policy *p; /* to report completed writes */
};

static bool f_test_clear(void *ctx, uint64_t id)
{
	struct fake_mmu *m = ctx;
	bool r = m->young[id];
	m->young[id] = false;
	m->tcr++;
	return r;
}

static bool f_test(void *ctx, uint64_t id)
{
	return ((struct fake_mmu *)ctx)->young[id];
}

static bool f_dirty(void *ctx, uint64_t id)
{
	return ((struct fake_mmu *)ctx)->dirty[id];
}

static bool f_writeback(void *ctx, uint64_t id)
{
	struct fake_mmu *m = ctx;
	m->dirty[id] = false; /* completes at once, like the built-in MMU, */
	m->writebacks++;
	if (m->p)             /* and says so from inside the call */
		assert_int_equal(mm_policy_mark_clean(m->p, id), 0);
	return true;
}

static const struct mm_policy_host_ops fake_ops = {
	.test_and_clear_referenced = f_test_clear,
	.test_referenced = f_test,
	.test_dirty = f_dirty,
	.start_writeback = f_writeback,
};

static void compare(const char *spec, uint64_t seed)
{
	struct mm_rng rng;
	mm_rng_seed(&rng, seed);
	struct fake_mmu *mmu = test_calloc(1, sizeof(*mmu));
	struct mm_policy_host host = { .ops = &fake_ops, .ctx = mmu };
	size_t cap = 1 + mm_rng_below(&rng, 40);
	uint64_t ids = cap + 1 + mm_rng_below(&rng, 2 * cap);
	struct mm_policy_config hc = { .capacity = cap, .seed = 5, .host = &host };
	struct mm_policy *h = NULL, *s = tp_new(spec, cap, 5);
	assert_int_equal(mm_policy_create(spec, &hc, &h), 0);
	mmu->p = h;
	uint64_t t = 0;
	for (uint64_t op = 0; op < mm_test_iters(4000); op++) {
		uint64_t r = mm_rng_below(&rng, 100);
		if (r < 6) {
			t++;
			mm_policy_tick(h, t);
			mm_policy_tick(s, t);
		} else if (r < 9 && mm_policy_size(s) > 0) {
			uint64_t id;
			do
				id = mm_rng_below(&rng, ids);
			while (!mm_policy_contains(s, id));
			mmu->dirty[id] = false; /* the flusher wrote it back */
			assert_int_equal(mm_policy_mark_clean(h, id), 0);
			assert_int_equal(mm_policy_mark_clean(s, id), 0);
		} else {
			t++;
			uint64_t id = mm_rng_zipf(&rng, ids, 0.8);
			uint8_t kind = (uint8_t)mm_rng_below(&rng, 3);
			struct mm_access_info in = { .time = t, .next_use = MM_POLICY_NEVER, .kind = kind };
			/* the hardware sets the bits on every access, faulting or not */
			mmu->young[id] = true;
			if (kind == MM_ACCESS_WRITE)
				mmu->dirty[id] = true;
			if (mm_policy_contains(s, id)) {
				assert_int_equal(mm_policy_access(h, id, &in), 0);
				assert_int_equal(mm_policy_access(s, id, &in), 0);
				continue;
			}
			if (mm_policy_size(s) == cap) {
				struct mm_victim a, b;
				assert_int_equal(mm_policy_evict(h, &a), 0);
				assert_int_equal(mm_policy_evict(s, &b), 0);
				if (a.id != b.id || a.dirty != b.dirty)
					mm_test_fail_seed("%s: host victim %llu, soft victim %llu\n", spec,
							  (unsigned long long)a.id, (unsigned long long)b.id);
				mmu->young[a.id] = mmu->dirty[a.id] = false; /* frame freed */
			}
			assert_int_equal(mm_policy_insert(h, id, &in), 0);
			assert_int_equal(mm_policy_insert(s, id, &in), 0);
		}
		assert_int_equal(mm_policy_check(h), 0);
	}
	struct mm_policy_stats hs, ss;
	mm_policy_get_stats(h, &hs);
	mm_policy_get_stats(s, &ss);
	assert_int_equal(hs.cleaned, ss.cleaned);
	assert_int_equal(hs.cleaned, mmu->writebacks);
	if (strcmp(spec, "fifo") && strcmp(spec, "random"))
		assert_true(mmu->tcr > 0); /* the bits really came from the host */
	bool rb, db;
	assert_int_equal(mm_policy_soft_bits(h, 0, &rb, &db), -MM_EINVAL);
	mm_policy_destroy(h);
	mm_policy_destroy(s);
	test_free(mmu);
}

static void test_host_equals_soft(void **state)
{
	(void)state;
	const char *specs[] = { "fifo", "second-chance", "clock", "clock:ref=1", "nru",
				"nru:pick=first", "random", "aging", "wsclock:tau=5", "wsclock",
				"linux" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++)
		for (uint64_t k = 0; k < 8; k++)
			compare(specs[i], mm_test_seed() + k);
}

static void test_host_validation(void **state)
{
	(void)state;
	struct mm_policy_host_ops none = { 0 };
	struct mm_policy_host bad = { .ops = &none, .ctx = NULL };
	struct mm_policy_config cfg = { .capacity = 4, .host = &bad };
	struct mm_policy *p = NULL;
	assert_int_equal(mm_policy_create("clock", &cfg, &p), -MM_EINVAL);
	/* the minimal host: only test_and_clear_referenced */
	struct fake_mmu *mmu = test_calloc(1, sizeof(*mmu));
	struct mm_policy_host_ops min = { .test_and_clear_referenced = f_test_clear };
	struct mm_policy_host ok = { .ops = &min, .ctx = mmu };
	cfg.host = &ok;
	assert_int_equal(mm_policy_create("wsclock:tau=0", &cfg, &p), 0);
	struct mm_access_info in = { .kind = MM_ACCESS_WRITE };
	for (uint64_t id = 0; id < 4; id++) {
		in.time = id;
		assert_int_equal(mm_policy_insert(p, id, &in), 0);
	}
	mm_policy_tick(p, 10);
	struct mm_victim v;
	assert_int_equal(mm_policy_evict(p, &v), 0); /* no dirty bits readable: clean */
	assert_false(v.dirty);
	assert_int_equal(mm_policy_check(p), 0);
	mm_policy_destroy(p);
	test_free(mmu);
}

/* a host whose write-backs stay in flight until it says so */
static uint64_t async_started[8];

static bool f_writeback_async(void *ctx, uint64_t id)
{
	(void)ctx;
	async_started[id]++;
	return true;
}

static void test_wsclock_async_writeback(void **state)
{
	(void)state;
	struct fake_mmu *mmu = test_calloc(1, sizeof(*mmu));
	struct mm_policy_host_ops ops = fake_ops;
	ops.start_writeback = f_writeback_async;
	struct mm_policy_host host = { .ops = &ops, .ctx = mmu };
	struct mm_policy_config cfg = { .capacity = 3, .host = &host };
	struct mm_policy *p = NULL;
	memset(async_started, 0, sizeof(async_started));
	assert_int_equal(mm_policy_create("wsclock:tau=2", &cfg, &p), 0);
	struct mm_access_info in = { .kind = MM_ACCESS_WRITE };
	for (uint64_t id = 1; id <= 3; id++) {
		in.time = id;
		mmu->young[id] = mmu->dirty[id] = true;
		assert_int_equal(mm_policy_insert(p, id, &in), 0);
	}
	mm_policy_tick(p, 10);
	/* revolution 1: all R set -> last use 10; nothing old, nothing clean:
	 * the page under the hand (1), dirty */
	struct mm_victim v;
	assert_int_equal(mm_policy_evict(p, &v), 0);
	assert_int_equal(v.id, 1);
	assert_true(v.dirty);
	mm_policy_tick(p, 20);
	/* 2 and 3 are old and dirty: writes start (once each), still in flight
	 * after the second revolution: fall back to the page under the hand */
	assert_int_equal(mm_policy_evict(p, &v), 0);
	assert_int_equal(async_started[2], 1);
	assert_int_equal(async_started[3], 1);
	assert_true(v.dirty);
	uint64_t other = v.id == 2 ? 3 : 2;
	/* the host finishes the remaining write */
	mmu->dirty[other] = false;
	assert_int_equal(mm_policy_mark_clean(p, other), 0);
	assert_int_equal(mm_policy_evict(p, &v), 0);
	assert_int_equal(v.id, other);
	assert_false(v.dirty);
	assert_int_equal(async_started[other], 1);
	assert_int_equal(mm_policy_check(p), 0);
	mm_policy_destroy(p);
	test_free(mmu);
}

/* The page cleaned in the first revolution can be the last one the second
 * revolution reaches: it must still be found (not the fallback). */
static void test_wsclock_second_revolution(void **state)
{
	(void)state;
	struct fake_mmu *mmu = test_calloc(1, sizeof(*mmu));
	struct mm_policy_host host = { .ops = &fake_ops, .ctx = mmu };
	struct mm_policy_config cfg = { .capacity = 3, .host = &host };
	struct mm_policy *p = NULL;
	assert_int_equal(mm_policy_create("wsclock:tau=5", &cfg, &p), 0);
	mmu->p = p;
	struct mm_access_info in = { .kind = MM_ACCESS_READ };
	for (uint64_t id = 1; id <= 3; id++) {
		in.time = id - 1;
		mmu->young[id] = id != 3; /* 3: loaded without its accessed bit */
		mmu->dirty[id] = id == 3;
		assert_int_equal(mm_policy_insert(p, id, &in), 0);
	}
	mm_policy_tick(p, 20);
	/* hand at 1: young -> last use 20; 2: young; 3: old, dirty -> written;
	 * second revolution: 1 and 2 are in the working set, 3 is now clean and
	 * old: the victim, at the last step */
	struct mm_victim v;
	assert_int_equal(mm_policy_evict(p, &v), 0);
	assert_int_equal(v.id, 3);
	assert_false(v.dirty);
	assert_int_equal(mmu->writebacks, 1);
	mm_policy_destroy(p);
	test_free(mmu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_equals_soft),
		cmocka_unit_test(test_host_validation),
		cmocka_unit_test(test_wsclock_async_writeback),
		cmocka_unit_test(test_wsclock_second_revolution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
