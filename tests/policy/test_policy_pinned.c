/* Pinned behaviour: every policy's miss, eviction and write-back counts and a
 * hash of its victim sequence on one fixed generated trace, at several sizes.
 *
 * The figures were recorded from the implementation before the replay engine
 * and the policies were optimised; any change in what a policy decides shows
 * here as a changed number. Two drivers: the replay engine (mm_cache_replay,
 * the `mmsim cache` path) and the public per-item API (insert / access /
 * evict, with removals and mark_clean mixed in), whose victim ids are hashed
 * in order. The trace comes from its own generator (splitmix64, integers
 * only), so it does not depend on mm_rng or libm.
 *
 * MMKIT_PIN_PRINT=1 prints the table instead of checking it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_testlib.h"

#define PIN_N 60000
#define PIN_U 4000

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* skewed ids (a random bound, then a random id below it), a loop and a
 * uniform scan over a wider range; 20 % writes, 1 % instruction fetches */
static struct mm_cache_request *pin_trace(void)
{
	struct mm_cache_request *r = test_calloc(PIN_N, sizeof(*r));
	uint64_t x = 12345, loop = 0;
	for (size_t i = 0; i < PIN_N; i++) {
		uint64_t c = splitmix(&x) % 100, id;
		if (c < 70) {
			uint64_t bound = splitmix(&x) % PIN_U + 1; /* draws in a fixed order */
			id = splitmix(&x) % bound;
		}
		else if (c < 85)
			id = loop++ % (PIN_U / 2);
		else
			id = splitmix(&x) % (4 * PIN_U);
		uint64_t k = splitmix(&x) % 100;
		r[i].id = id * 0x9e3779b97f4a7c15ULL + 11;
		r[i].kind = k < 20 ? MM_ACCESS_WRITE : k < 21 ? MM_ACCESS_EXEC : MM_ACCESS_READ;
	}
	return r;
}

static const char *const pin_specs[] = {
	"fifo", "lru", "clock", "clock:ref=1", "second-chance", "second-chance:ref=1",
	"nru", "nru:pick=first", "lfu", "lfu:tie=fifo", "lfu:perfect=1", "opt", "opt:tie=lifo",
	"random", "aging", "wsclock", "wsclock:tau=50", "linux", "linux:ratio=3",
};
#define NSPECS (sizeof(pin_specs) / sizeof(pin_specs[0]))
static const size_t pin_sizes[] = { 1, 7, 64, 500, 2000 };
#define NSIZES (sizeof(pin_sizes) / sizeof(pin_sizes[0]))

struct pin {
	uint64_t misses, dirty, writebacks; /* engine */
	uint64_t api_misses, victims;       /* public API: misses, victim-id hash */
};

/* Recorded before the optimisation (MMKIT_PIN_PRINT=1). */
static const struct pin pinned[NSPECS][NSIZES] = {
	{ /* fifo */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0xfd49e74c68eee4f8ULL },
		{ 58606, 12062, 12062, 58606, 0xb8d26411c848abdaULL },
		{ 50235, 11570, 11570, 50242, 0x2cdb38d872bc8545ULL },
		{ 30138, 9595, 9595, 30282, 0x85caff12ae588264ULL },
	},
	{ /* lru */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0x2c5ac6227c292b10ULL },
		{ 58604, 12060, 12060, 58604, 0x573d7b0de6c4dbcfULL },
		{ 49790, 11471, 11471, 49802, 0xf0d7933c31e0125bULL },
		{ 26867, 8099, 8099, 27058, 0x26962ee0ba5fd967ULL },
	},
	{ /* clock */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0x41d44648d8beb304ULL },
		{ 58597, 12056, 12056, 58597, 0xf738babb9ee9fc13ULL },
		{ 49525, 11413, 11413, 49544, 0x7b5d4e31fde6d8ddULL },
		{ 25529, 7466, 7466, 25758, 0x8dfdce3fd0e8bfe4ULL },
	},
	{ /* clock:ref=1 */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0xb39fc27a6f726020ULL },
		{ 58600, 12060, 12060, 58601, 0x585def71bc173f98ULL },
		{ 50016, 11523, 11523, 50019, 0x470347e0f3e3a90bULL },
		{ 28177, 8682, 8682, 28309, 0x43b36365ab4f3104ULL },
	},
	{ /* second-chance */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0x41d44648d8beb304ULL },
		{ 58597, 12056, 12056, 58597, 0xf738babb9ee9fc13ULL },
		{ 49525, 11413, 11413, 49544, 0x7b5d4e31fde6d8ddULL },
		{ 25529, 7466, 7466, 25758, 0x8dfdce3fd0e8bfe4ULL },
	},
	{ /* second-chance:ref=1 */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59870, 12134, 12134, 59870, 0xb39fc27a6f726020ULL },
		{ 58600, 12060, 12060, 58601, 0x585def71bc173f98ULL },
		{ 50016, 11523, 11523, 50019, 0x470347e0f3e3a90bULL },
		{ 28177, 8682, 8682, 28309, 0x43b36365ab4f3104ULL },
	},
	{ /* nru */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59859, 12131, 12131, 59851, 0xd22d204d55f7f787ULL },
		{ 58629, 12032, 12032, 58621, 0xdb6ac432962618a5ULL },
		{ 49783, 11077, 11077, 49738, 0xf81275bff40bab5cULL },
		{ 26563, 5998, 5998, 26930, 0x431401d82f52917cULL },
	},
	{ /* nru:pick=first */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59864, 12131, 12131, 59864, 0x47ce20d653ca79b8ULL },
		{ 58635, 12030, 12030, 58635, 0xae03a2d95aeb6f37ULL },
		{ 49907, 11114, 11114, 49927, 0x92e616c25e82737aULL },
		{ 28186, 6595, 6595, 28509, 0xaf6110a3a37e37f9ULL },
	},
	{ /* lfu */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59716, 12088, 12088, 59732, 0x3d9242a7c00b578eULL },
		{ 57764, 11692, 11692, 57813, 0xad87d77757f09baeULL },
		{ 44730, 9005, 9005, 45784, 0x67c03f98dbb6a655ULL },
		{ 19651, 3571, 3571, 21160, 0x5d2d1d7568fee7f3ULL },
	},
	{ /* lfu:tie=fifo */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59716, 12088, 12088, 59732, 0x3d9242a7c00b578eULL },
		{ 57764, 11692, 11692, 57813, 0xad87d77757f09baeULL },
		{ 44730, 9005, 9005, 45784, 0x67c03f98dbb6a655ULL },
		{ 19651, 3571, 3571, 21160, 0x5d2d1d7568fee7f3ULL },
	},
	{ /* lfu:perfect=1 */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59550, 12076, 12076, 59554, 0xfc98c03befb796f0ULL },
		{ 56602, 11554, 11554, 56608, 0xe8a986b88739cf1dULL },
		{ 42574, 8822, 8822, 42657, 0x12aa57db8d00c4ecULL },
		{ 17986, 3444, 3444, 18372, 0x692ca0316a5d1659ULL },
	},
	{ /* opt */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 56849, 12005, 12005, 56849, 0x2996b9cad7af2b0bULL },
		{ 48591, 11511, 11511, 48614, 0x4d73a724f1b94572ULL },
		{ 30553, 9407, 9407, 30714, 0xbc51d577fb1df278ULL },
		{ 13417, 4167, 4167, 13977, 0x3cc295457d19911bULL },
	},
	{ /* opt:tie=lifo */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 56849, 12005, 12005, 56849, 0x4a12e44fe8e1ff5bULL },
		{ 48591, 11502, 11502, 48614, 0x8c0faa187b1b15b8ULL },
		{ 30553, 9213, 9213, 30714, 0x0ed895dabdc4abadULL },
		{ 13417, 3452, 3452, 13977, 0x62438259a1fca751ULL },
	},
	{ /* random */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59860, 12132, 12132, 59870, 0xb7ece18c9d0e2bf7ULL },
		{ 58609, 12060, 12060, 58645, 0x256995f2d9f417cfULL },
		{ 50250, 11507, 11507, 50252, 0xe123dbf40755df64ULL },
		{ 30170, 9051, 9051, 30399, 0x0e3647be4ba22944ULL },
	},
	{ /* aging */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59860, 12128, 12128, 59860, 0xde7769900d08e354ULL },
		{ 58630, 12043, 12043, 58620, 0x74a0cd04ccf3af48ULL },
		{ 46921, 10029, 10029, 47506, 0x536b0d1a116c8ebdULL },
		{ 22871, 4331, 4331, 25207, 0xe9c6db6b5d54fa37ULL },
	},
	{ /* wsclock */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59858, 12108, 12108, 59858, 0xd981df8e1970a7f4ULL },
		{ 58638, 11804, 11804, 58639, 0x609721f022801f9eULL },
		{ 49593, 0, 10906, 49624, 0x12c4e56424ed99d4ULL },
		{ 27489, 0, 9101, 27678, 0xa6892a91b761ae2dULL },
	},
	{ /* wsclock:tau=50 */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59855, 11614, 12108, 59855, 0xfda7838f4519541bULL },
		{ 58617, 0, 12055, 58606, 0x941c2a9efb21078bULL },
		{ 49919, 0, 11584, 49936, 0x2507c3450819af73ULL },
		{ 27479, 0, 9110, 27686, 0x0b6a3190dcf27812ULL },
	},
	{ /* linux */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59852, 12135, 12135, 59855, 0xfa3954dda1243547ULL },
		{ 58523, 12036, 12036, 58504, 0x9acd091028f2fcafULL },
		{ 48365, 10921, 10921, 48513, 0x5215ecd89ce2e426ULL },
		{ 25590, 7263, 7263, 25840, 0xc9cc05bf31048a06ULL },
	},
	{ /* linux:ratio=3 */
		{ 59984, 12139, 12139, 59984, 0x65561fdce8c26944ULL },
		{ 59855, 12136, 12136, 59854, 0x8b456f7ead393aadULL },
		{ 58358, 11995, 11995, 58411, 0x68bdac8332d645b7ULL },
		{ 48142, 10545, 10545, 48324, 0x05bd8de9545e46d0ULL },
		{ 23635, 5952, 5952, 23997, 0x0e18bd0fbb291ccbULL },
	},
};

/* The public API, as the simulator drives it: access, or evict + insert on a
 * miss; a tick every `size` requests; every 61st request removes an earlier
 * id if resident, every 89th marks one clean. Returns misses; *hash gets an
 * FNV-1a hash of the victims' ids and dirty bits in order. */
static uint64_t api_run(const char *spec, size_t size, const struct mm_cache_request *r,
			const uint64_t *next_use, uint64_t *hash)
{
	struct mm_policy *p = tp_new(spec, size, 0);
	uint64_t misses = 0, h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < PIN_N; i++) {
		struct mm_access_info in = { .time = i, .next_use = next_use[i], .kind = r[i].kind };
		if (i > 0 && i % size == 0)
			mm_policy_tick(p, i);
		if (i % 61 == 60)
			(void)mm_policy_remove(p, r[i / 2].id);
		if (i % 89 == 88)
			(void)mm_policy_mark_clean(p, r[i / 3].id);
		if (mm_policy_access(p, r[i].id, &in) == 0)
			continue;
		misses++;
		if (mm_policy_size(p) == size) {
			struct mm_victim v;
			assert_int_equal(mm_policy_evict(p, &v), 0);
			h = (h ^ v.id) * 0x100000001b3ULL;
			h = (h ^ v.dirty) * 0x100000001b3ULL;
		}
		assert_int_equal(mm_policy_insert(p, r[i].id, &in), 0);
	}
	assert_int_equal(mm_policy_check(p), 0);
	mm_policy_destroy(p);
	*hash = h;
	return misses;
}

static void test_pinned_counts(void **state)
{
	(void)state;
	bool print = getenv("MMKIT_PIN_PRINT") != NULL;
	struct mm_cache_request *r = pin_trace();
	uint64_t *nu = test_calloc(PIN_N, sizeof(*nu));
	assert_int_equal(mm_cache_next_use(r, PIN_N, nu), 0);
	int bad = 0;
	for (size_t i = 0; i < NSPECS; i++) {
		struct mm_cache_result res[NSIZES];
		assert_int_equal(mm_cache_replay(r, PIN_N, &pin_specs[i], 1, pin_sizes, NSIZES, NULL,
						 res), 0);
		if (print)
			printf("\t{ /* %s */\n", pin_specs[i]);
		for (size_t j = 0; j < NSIZES; j++) {
			struct pin got = { res[j].misses, res[j].dirty_evictions, res[j].writebacks, 0, 0 };
			got.api_misses = api_run(pin_specs[i], pin_sizes[j], r, nu, &got.victims);
			if (print) {
				printf("\t\t{ %llu, %llu, %llu, %llu, 0x%016llxULL },\n",
				       (unsigned long long)got.misses, (unsigned long long)got.dirty,
				       (unsigned long long)got.writebacks,
				       (unsigned long long)got.api_misses,
				       (unsigned long long)got.victims);
				continue;
			}
			if (memcmp(&got, &pinned[i][j], sizeof(got)) != 0) {
				print_error("%s size %zu: got %llu/%llu/%llu misses/dirty/writebacks, "
					    "api %llu victims %016llx; pinned %llu/%llu/%llu, api %llu "
					    "victims %016llx\n",
					    pin_specs[i], pin_sizes[j], (unsigned long long)got.misses,
					    (unsigned long long)got.dirty,
					    (unsigned long long)got.writebacks,
					    (unsigned long long)got.api_misses,
					    (unsigned long long)got.victims,
					    (unsigned long long)pinned[i][j].misses,
					    (unsigned long long)pinned[i][j].dirty,
					    (unsigned long long)pinned[i][j].writebacks,
					    (unsigned long long)pinned[i][j].api_misses,
					    (unsigned long long)pinned[i][j].victims);
				bad++;
			}
		}
		if (print)
			printf("\t},\n");
	}
	test_free(nu);
	test_free(r);
	assert_int_equal(bad, 0);
}

/* mm_cache_curve gives, at every size, what a separate replay gives. */
static void test_pinned_curve(void **state)
{
	(void)state;
	struct mm_cache_request *r = pin_trace();
	const char *specs[] = { "fifo", "clock", "lfu" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++) {
		uint64_t curve[40];
		assert_int_equal(mm_cache_curve(r, PIN_N / 4, specs[i], 480, 519, NULL, curve), 0);
		for (size_t k = 480; k <= 519; k += 13) {
			struct mm_cache_result res;
			assert_int_equal(mm_cache_replay(r, PIN_N / 4, &specs[i], 1, &k, 1, NULL, &res),
					 0);
			assert_int_equal(curve[k - 480], res.misses);
		}
	}
	test_free(r);
}

/* Curves replayed in groups (several passes, a few sizes each) equal the
 * one-pass curve, seeded policies and OPT included. */
static void test_curve_groups(void **state)
{
	(void)state;
	struct mm_cache_request *r = pin_trace();
	const char *specs[] = { "fifo", "random", "opt", "nru", "lfu:perfect=1" };
	struct mm_cachesim_config cfg = { .seed = 42, .tick_interval = 0 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(specs); i++) {
		uint64_t one[60], grouped[60];
		assert_int_equal(pol_cache_curve_grouped(r, PIN_N / 6, specs[i], 41, 100, &cfg, one,
							 SIZE_MAX), 0);
		assert_int_equal(pol_cache_curve_grouped(r, PIN_N / 6, specs[i], 41, 100, &cfg,
							 grouped, 150), 0);
		assert_memory_equal(one, grouped, sizeof(one));
	}
	test_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_counts),
		cmocka_unit_test(test_pinned_curve),
		cmocka_unit_test(test_curve_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
