/* random.c — random replacement (seeded).
 *
 * Definition: the victim is drawn uniformly among the resident items, from
 * the instance's own xoshiro256** stream seeded by mm_policy_config.seed, so
 * a run is reproducible from its seed. Reads no bits; hits change nothing.
 * (libCacheSim's Random draws from its own generator, so only the
 * distribution, not the exact miss count, can agree with it.)
 *
 * Cost: O(1) per operation: residents kept in a dense array, removal by
 * swapping the last element into the hole.
 * Reference: L. A. Belady, "A study of replacement algorithms for a
 * virtual-storage computer", IBM Systems Journal 5(2), 1966 (RAND).
 */
#include "policy_internal.h"

struct rnd {
	uint32_t *member; /* nr residents, in no particular order */
	uint32_t *idx;    /* slot -> index in member */
};

static int rnd_init(struct mm_policy *p, struct pol_opts *o)
{
	(void)o;
	struct rnd *r = pol_calloc(1, sizeof(*r));
	if (!r)
		return -MM_ENOMEM;
	r->member = pol_calloc(p->cap, sizeof(*r->member));
	r->idx = pol_calloc(p->cap, sizeof(*r->idx));
	if (!r->member || !r->idx) {
		free(r->member);
		free(r->idx);
		free(r);
		return -MM_ENOMEM;
	}
	p->priv = r;
	return 0;
}

static void rnd_fini(struct mm_policy *p)
{
	struct rnd *r = p->priv;
	free(r->member);
	free(r->idx);
	free(r);
}

/* p->nr already counts s when insert runs */
static void rnd_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct rnd *r = p->priv;
	r->idx[s] = p->nr - 1;
	r->member[p->nr - 1] = s;
}

/* p->nr still counts s */
static void rnd_remove(struct mm_policy *p, uint32_t s)
{
	struct rnd *r = p->priv;
	uint32_t i = r->idx[s], last = r->member[p->nr - 1];
	r->member[i] = last;
	r->idx[last] = i;
}

static uint32_t rnd_evict(struct mm_policy *p)
{
	struct rnd *r = p->priv;
	uint32_t s = r->member[mm_rng_below(&p->rng, p->nr)];
	p->st.scanned++;
	rnd_remove(p, s);
	return s;
}

static int rnd_check(const struct mm_policy *p)
{
	const struct rnd *r = p->priv;
	for (uint32_t i = 0; i < p->nr; i++) {
		uint32_t s = r->member[i];
		if (s >= p->cap || !(p->flags[s] & PF_USED) || r->idx[s] != i)
			return -MM_ECORRUPT;
	}
	return 0;
}

const struct pol_ops pol_random_ops = {
	.info = { "random", "rand", "evict a uniformly random resident (seeded)", "", false },
	.init = rnd_init,
	.fini = rnd_fini,
	.insert = rnd_insert,
	.evict = rnd_evict,
	.remove = rnd_remove,
	.check = rnd_check,
};
