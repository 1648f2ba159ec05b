/* The private structures under the policies: the id map and the indexed heap
 * against simple models, and the *_check() walkers catching corruption. */
#include <string.h>

#include "policy_testlib.h"

static void test_idmap_model(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	enum { U = 600 };
	static uint64_t keys[U];
	static uint32_t model[U]; /* POL_NONE = absent */
	for (int i = 0; i < U; i++) {
		/* keys that collide in the low bits, plus the extremes */
		keys[i] = i < 2 ? (i ? UINT64_MAX : 0) : ((uint64_t)i << 40) | ((uint64_t)i << 3);
		model[i] = POL_NONE;
	}
	struct idmap m;
	assert_int_equal(pol_idmap_init(&m, 4), 0); /* starts small: grows */
	uint64_t live = 0;
	for (uint64_t op = 0; op < mm_test_iters(200000); op++) {
		int i = (int)mm_rng_below(&rng, U);
		uint32_t got = pol_idmap_get(&m, keys[i]);
		assert_int_equal(got, model[i]);
		if (model[i] == POL_NONE) {
			uint32_t v = (uint32_t)mm_rng_below(&rng, 1u << 30);
			assert_int_equal(pol_idmap_put(&m, keys[i], v), 0);
			model[i] = v;
			live++;
		} else if (mm_rng_below(&rng, 3)) {
			assert_int_equal(pol_idmap_del(&m, keys[i]), model[i]);
			model[i] = POL_NONE;
			live--;
		} else {
			uint32_t *ref = pol_idmap_ref(&m, keys[i]);
			assert_non_null(ref);
			*ref = model[i] = model[i] + 1;
		}
		assert_int_equal(m.n, live);
		if (op % 4096 == 0)
			assert_int_equal(pol_idmap_check(&m), 0);
	}
	assert_int_equal(pol_idmap_check(&m), 0);
	assert_int_equal(pol_idmap_del(&m, 12345), POL_NONE);
	/* corruption: a live entry moved past a hole is unreachable */
	for (uint64_t i = 0; i <= m.mask; i++) {
		if (m.t[i].val != POL_NONE) {
			m.n++; /* count no longer matches */
			break;
		}
	}
	assert_int_equal(pol_idmap_check(&m), -MM_ECORRUPT);
	pol_idmap_fini(&m);
}

/* A map that tracks each value's bucket (as the policies' maps do): the
 * positions stay right through inserts, backward shifts and growth; deletes
 * by position and by key agree with a model. Values are dense: value i
 * belongs to key i. */
static void test_idmap_tracked(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	enum { U = 700 };
	static uint64_t keys[U];
	static uint32_t pos[U];
	static bool in[U];
	for (int i = 0; i < U; i++) {
		keys[i] = ((uint64_t)i << 40) | ((uint64_t)i << 3); /* low-bit collisions */
		in[i] = false;
	}
	struct idmap m;
	assert_int_equal(pol_idmap_init(&m, 4), 0); /* starts small: grows while tracked */
	pol_idmap_track(&m, pos);
	uint64_t live = 0;
	for (uint64_t op = 0; op < mm_test_iters(200000); op++) {
		uint32_t i = (uint32_t)mm_rng_below(&rng, U);
		assert_int_equal(pol_idmap_get(&m, keys[i]), in[i] ? i : POL_NONE);
		if (!in[i]) {
			assert_int_equal(pol_idmap_put(&m, keys[i], i), 0);
			in[i] = true;
			live++;
		} else {
			assert_int_equal(m.t[pos[i]].key, keys[i]);
			if (mm_rng_below(&rng, 2))
				assert_int_equal(pol_idmap_del_at(&m, pos[i]), i);
			else
				assert_int_equal(pol_idmap_del(&m, keys[i]), i);
			in[i] = false;
			live--;
		}
		assert_int_equal(m.n, live);
		if (op % 1024 == 0)
			assert_int_equal(pol_idmap_check(&m), 0);
	}
	assert_int_equal(pol_idmap_check(&m), 0);
	for (uint32_t i = 0; i < U; i++) { /* a stale position is caught */
		if (in[i]) {
			pos[i] ^= 1;
			assert_int_equal(pol_idmap_check(&m), -MM_ECORRUPT);
			pos[i] ^= 1;
			break;
		}
	}
	pol_idmap_fini(&m);
}

static void test_heap_model(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed() ^ 1);
	enum { CAP = 200 };
	struct iheap hp;
	assert_int_equal(pol_heap_init(&hp, CAP), 0);
	static bool in[CAP];
	static uint64_t k1[CAP], k2[CAP];
	memset(in, 0, sizeof(in));
	for (uint64_t op = 0; op < mm_test_iters(100000); op++) {
		uint32_t s = (uint32_t)mm_rng_below(&rng, CAP);
		uint64_t a = mm_rng_below(&rng, 20), b = mm_rng_below(&rng, 1000);
		switch (mm_rng_below(&rng, 4)) {
		case 0:
			if (!in[s]) {
				pol_heap_push(&hp, s, a, b);
				in[s] = true, k1[s] = a, k2[s] = b;
			}
			break;
		case 1:
			if (in[s]) {
				pol_heap_update(&hp, s, a, b);
				k1[s] = a, k2[s] = b;
			}
			break;
		case 2:
			if (in[s]) {
				pol_heap_remove(&hp, s);
				in[s] = false;
			}
			break;
		default: {
			/* the top is a minimum of the model */
			uint32_t t = pol_heap_pop(&hp);
			uint32_t best = POL_NONE;
			for (uint32_t x = 0; x < CAP; x++)
				if (in[x] && (best == POL_NONE || k1[x] < k1[best] ||
					      (k1[x] == k1[best] && k2[x] < k2[best])))
					best = x;
			if (best == POL_NONE) {
				assert_int_equal(t, POL_NONE);
			} else {
				assert_true(t != POL_NONE && in[t]);
				assert_true(k1[t] == k1[best] && k2[t] == k2[best]);
				in[t] = false;
			}
		}
		}
		if (op % 512 == 0)
			assert_int_equal(pol_heap_check(&hp), 0);
	}
	/* bulk key change + heapify */
	for (uint32_t i = 0; i < hp.n; i++)
		hp.k1[hp.h[i]] = mm_rng_below(&rng, 5);
	pol_heap_heapify(&hp);
	assert_int_equal(pol_heap_check(&hp), 0);
	if (hp.n >= 2) {
		uint32_t t = hp.h[0];
		hp.k1[t] = UINT64_MAX; /* breaks the heap order */
		assert_int_equal(pol_heap_check(&hp), -MM_ECORRUPT);
	}
	pol_heap_fini(&hp);
}

/* Fill a policy, then break one thing at a time and expect the walker to
 * notice; each breakage is undone before the next. */
static void test_check_catches_corruption(void **state)
{
	(void)state;
	const char *specs[] = { "fifo", "second-chance", "clock", "nru", "nru:pick=first", "lru",
				"lfu", "opt", "random", "aging", "wsclock", "linux" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++) {
		struct mm_policy *p = tp_new(specs[i], 8, 3);
		for (uint64_t id = 0; id < 6; id++)
			tp_ins_full(p, 100 + id, id, id % 2 ? MM_ACCESS_WRITE : MM_ACCESS_READ, 50 + id);
		assert_int_equal(mm_policy_check(p), 0);
		/* a slot claims to be used but is not in the map or the policy */
		uint32_t fs = p->free_head;
		p->flags[fs] |= PF_USED;
		p->ids[fs] = 999;
		assert_int_equal(mm_policy_check(p), -MM_ECORRUPT);
		p->flags[fs] = 0;
		assert_int_equal(mm_policy_check(p), 0);
		/* the map points an id at the wrong slot */
		uint32_t *ref = pol_idmap_ref(&p->map, 101);
		uint32_t save = *ref;
		*ref = pol_idmap_get(&p->map, 102);
		assert_int_equal(mm_policy_check(p), -MM_ECORRUPT);
		*ref = save;
		/* the resident count is off */
		p->nr++;
		p->nfree--;
		assert_int_equal(mm_policy_check(p), -MM_ECORRUPT);
		p->nr--;
		p->nfree++;
		assert_int_equal(mm_policy_check(p), 0);
		mm_policy_destroy(p);
	}
	/* private structures: break a list link in fifo, a heap key in lfu */
	struct mm_policy *p = tp_new("fifo", 4, 0);
	tp_ins(p, 1, 0);
	tp_ins(p, 2, 1);
	tp_ins(p, 3, 2);
	struct ilink *l = *(struct ilink **)p->priv;
	uint32_t s = pol_idmap_get(&p->map, 2);
	uint32_t save = l[s].prev;
	l[s].prev = s;
	assert_int_equal(mm_policy_check(p), -MM_ECORRUPT);
	l[s].prev = save;
	assert_int_equal(mm_policy_check(p), 0);
	mm_policy_destroy(p);
	p = tp_new("lfu:tie=fifo", 4, 0); /* the heap variant */
	tp_ins(p, 1, 0);
	tp_ins(p, 2, 1);
	tp_acc(p, 2, 2);
	struct iheap *hp = p->priv; /* first member of struct lfu */
	hp->k1[hp->h[0]] = 77;      /* the top is no longer minimal */
	assert_int_equal(mm_policy_check(p), -MM_ECORRUPT);
	mm_policy_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idmap_model),
		cmocka_unit_test(test_idmap_tracked),
		cmocka_unit_test(test_heap_model),
		cmocka_unit_test(test_check_catches_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
