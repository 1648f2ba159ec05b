/* Helpers shared by the policy tests (header-only, static). */
#ifndef POLICY_TESTLIB_H
#define POLICY_TESTLIB_H

#include "testutil.h"

#include "mmkit/compiler.h"

#include "mmkit/cachesim.h"
#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "policy_internal.h"

static inline struct mm_policy *tp_new(const char *spec, size_t cap, uint64_t seed)
{
	struct mm_policy_config cfg = { .capacity = cap, .seed = seed, .host = NULL };
	struct mm_policy *p = NULL;
	int err = mm_policy_create(spec, &cfg, &p);
	if (err)
		print_error("mm_policy_create(%s): %s\n", spec, mm_strerror(err));
	assert_int_equal(err, 0);
	return p;
}

/* insert at time t with kind k and next use nu, then check */
static inline void tp_ins_full(struct mm_policy *p, uint64_t id, uint64_t t, uint8_t k, uint64_t nu)
{
	struct mm_access_info in = { .time = t, .next_use = nu, .kind = k };
	assert_int_equal(mm_policy_insert(p, id, &in), 0);
	assert_int_equal(mm_policy_check(p), 0);
}

static inline void tp_ins(struct mm_policy *p, uint64_t id, uint64_t t)
{
	tp_ins_full(p, id, t, MM_ACCESS_READ, MM_POLICY_NEVER);
}

static inline void tp_acc_full(struct mm_policy *p, uint64_t id, uint64_t t, uint8_t k, uint64_t nu)
{
	struct mm_access_info in = { .time = t, .next_use = nu, .kind = k };
	assert_int_equal(mm_policy_access(p, id, &in), 0);
	assert_int_equal(mm_policy_check(p), 0);
}

static inline void tp_acc(struct mm_policy *p, uint64_t id, uint64_t t)
{
	tp_acc_full(p, id, t, MM_ACCESS_READ, MM_POLICY_NEVER);
}

static inline uint64_t tp_evict(struct mm_policy *p)
{
	struct mm_victim v;
	assert_int_equal(mm_policy_evict(p, &v), 0);
	assert_int_equal(mm_policy_check(p), 0);
	assert_false(mm_policy_contains(p, v.id));
	return v.id;
}

/* Replay ids through one policy at one size; returns misses. */
static inline uint64_t tp_misses(const char *spec, size_t size, const uint64_t *ids, size_t n)
{
	struct mm_cache_request *r = test_calloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i].id = ids[i];
	struct mm_cache_result res;
	const char *specs[1] = { spec };
	assert_int_equal(mm_cache_replay(r, n, specs, 1, &size, 1, NULL, &res), 0);
	test_free(r);
	assert_int_equal(res.hits + res.misses, n);
	return res.misses;
}

#endif
