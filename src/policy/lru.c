/* lru.c — exact Least Recently Used (idealised).
 *
 * Definition: the victim is the resident item whose most recent access
 * (insert or hit) is oldest. Every hit must be reported through
 * mm_policy_access(), which real paging hardware cannot do (it only sets an
 * accessed bit), hence "idealised"; clock, aging and Linux's two lists are
 * the hardware-realistic approximations.
 *
 * Cost: O(1) per operation: a recency list over slots (most recent at the
 * tail), with the hash map from id to slot in the generic layer — the
 * hash-map-plus-doubly-linked-list scheme of the seeds (LeetCode 146).
 * Behaviour: a stack algorithm (Mattson et al. 1970): the resident set with k
 * frames is always a subset of that with k + 1, so no Belady anomaly; miss
 * counts for every size come from one pass (stackdist.c).
 * Reference: R. L. Mattson, J. Gecsei, D. R. Slutz, I. L. Traiger,
 * "Evaluation techniques for storage hierarchies", IBM Systems Journal 9(2),
 * 1970; libCacheSim's LRU is the same definition.
 */
#include "policy_internal.h"

struct lru {
	struct ilink *l; /* head at cap; head->next is least recently used */
};

static int lru_init(struct mm_policy *p, struct pol_opts *o)
{
	(void)o;
	struct lru *r = pol_calloc(1, sizeof(*r));
	if (!r || !(r->l = pol_calloc((size_t)p->cap + 1, sizeof(*r->l)))) {
		free(r);
		return -MM_ENOMEM;
	}
	il_init(r->l, p->cap);
	p->priv = r;
	return 0;
}

static void lru_fini(struct mm_policy *p)
{
	struct lru *r = p->priv;
	free(r->l);
	free(r);
}

static void lru_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lru *r = p->priv;
	il_add_tail(r->l, s, p->cap);
}

static void lru_access(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lru *r = p->priv;
	il_move_tail(r->l, s, p->cap);
}

static uint32_t lru_evict(struct mm_policy *p)
{
	struct lru *r = p->priv;
	uint32_t s = r->l[p->cap].next;
	il_del(r->l, s);
	p->st.scanned++;
	uint32_t nx = r->l[p->cap].next; /* the next victims unless hit first */
	if (mm_likely(nx != p->cap)) {
		uint32_t nnx = r->l[nx].next;
		__builtin_prefetch(&r->l[nnx], 1);
		pol_prefetch_victims(p, nx, nnx);
	}
	return s;
}

static void lru_remove(struct mm_policy *p, uint32_t s)
{
	struct lru *r = p->priv;
	il_del(r->l, s);
}

static int lru_check(const struct mm_policy *p)
{
	const struct lru *r = p->priv;
	long n = pol_il_check(r->l, p->cap, p->cap, NULL, p->cap);
	return n == (long)p->nr ? 0 : -MM_ECORRUPT;
}

const struct pol_ops pol_lru_ops = {
	.info = { "lru", "", "exact least recently used (sees every access)", "", true },
	.init = lru_init,
	.fini = lru_fini,
	.insert = lru_insert,
	.access = lru_access,
	.evict = lru_evict,
	.remove = lru_remove,
	.check = lru_check,
};
