/* lfu.c — exact Least Frequently Used (idealised).
 *
 * Definition: every resident item has a use count; the victim is the item
 * with the smallest count. Counting starts at 1 for the access that loads the
 * item and adds 1 per hit, so every hit must be reported (idealised).
 *
 * Variants, stated precisely:
 *   tie=lru (default): among items with the smallest count, evict the one
 *       whose most recent access is oldest. This is libCacheSim's LFU: its
 *       frequency buckets keep items in the order they entered the bucket, and
 *       an item enters bucket f at its f-th access, i.e. at its latest access,
 *       so "first in the bucket" is "least recently used among equals".
 *   tie=fifo: among equals, evict the one loaded earliest (its insert time).
 *   perfect=0 (default): "in-cache LFU": counts are forgotten on eviction or
 *       removal; a reloaded item starts again at 1 (libCacheSim's LFU).
 *   perfect=1: "perfect LFU": counts survive eviction; a reloaded item starts
 *       at its old count + 1. Costs one map entry per distinct id ever seen.
 *
 * Cost: O(log n) per insert, hit, evict and remove: an indexed binary heap
 * keyed by (count, tie-break time). (libCacheSim uses frequency buckets for
 * O(1) hits; the heap gives both tie-breaks and perfect LFU one structure and
 * the same victims.)
 * Reference: the seeds' LFU; Aho, Denning & Ullman, "Principles of optimal
 * page replacement", JACM 18(1), 1971 (LFU as the optimal policy under the
 * independent reference model); libCacheSim LFU.c.
 */
#include "policy_internal.h"

struct lfu {
	struct iheap hp;  /* k1 = count, k2 = tie-break time */
	uint64_t seq;     /* logical clock: one tick per insert or hit */
	bool tie_fifo;
	bool perfect;
	struct idmap hist; /* perfect: id -> count at departure */
};

static const char *const tie_choices[] = { "lru", "fifo", NULL };
static const char *const bool_choices[] = { "0", "1", NULL };

static int lfu_init(struct mm_policy *p, struct pol_opts *o)
{
	int tie, perfect;
	if (pol_opt_enum(o, "tie", tie_choices, 0, &tie) ||
	    pol_opt_enum(o, "perfect", bool_choices, 0, &perfect))
		return -MM_EINVAL;
	struct lfu *f = pol_calloc(1, sizeof(*f));
	if (!f)
		return -MM_ENOMEM;
	f->tie_fifo = tie == 1;
	f->perfect = perfect;
	if (iheap_init(&f->hp, p->cap)) {
		free(f);
		return -MM_ENOMEM;
	}
	if (f->perfect && idmap_init(&f->hist, 1024)) {
		iheap_fini(&f->hp);
		free(f);
		return -MM_ENOMEM;
	}
	p->priv = f;
	return 0;
}

static void lfu_fini(struct mm_policy *p)
{
	struct lfu *f = p->priv;
	iheap_fini(&f->hp);
	if (f->perfect)
		idmap_fini(&f->hist);
	free(f);
}

static void lfu_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lfu *f = p->priv;
	uint64_t count = 1;
	if (f->perfect) {
		const uint32_t *old = idmap_ref(&f->hist, p->ids[s]);
		if (old)
			count += *old;
	}
	iheap_push(&f->hp, s, count, ++f->seq);
}

static void lfu_access(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lfu *f = p->priv;
	++f->seq;
	iheap_update(&f->hp, s, f->hp.k1[s] + 1, f->tie_fifo ? f->hp.k2[s] : f->seq);
}

/* perfect LFU: remember the count of a departing item */
static void lfu_forget(struct mm_policy *p, uint32_t s)
{
	struct lfu *f = p->priv;
	if (!f->perfect)
		return;
	uint64_t c = f->hp.k1[s];
	uint32_t v = c >= POL_NONE - 1 ? POL_NONE - 1 : (uint32_t)c;
	uint32_t *old = idmap_ref(&f->hist, p->ids[s]);
	if (old)
		*old = v;
	else
		(void)idmap_put(&f->hist, p->ids[s], v); /* on ENOMEM the count is lost */
}

static uint32_t lfu_evict(struct mm_policy *p)
{
	struct lfu *f = p->priv;
	uint32_t s = iheap_pop(&f->hp);
	p->st.scanned++;
	lfu_forget(p, s);
	return s;
}

static void lfu_remove(struct mm_policy *p, uint32_t s)
{
	struct lfu *f = p->priv;
	iheap_remove(&f->hp, s);
	lfu_forget(p, s);
}

static int lfu_check(const struct mm_policy *p)
{
	const struct lfu *f = p->priv;
	if (iheap_check(&f->hp) || f->hp.n != p->nr)
		return -MM_ECORRUPT;
	for (uint32_t s = 0; s < p->cap; s++) {
		bool used = p->flags[s] & PF_USED;
		if (used != iheap_contains(&f->hp, s))
			return -MM_ECORRUPT;
		if (used && (f->hp.k1[s] == 0 || f->hp.k2[s] > f->seq))
			return -MM_ECORRUPT;
	}
	return f->perfect ? idmap_check(&f->hist) : 0;
}

const struct pol_ops pol_lfu_ops = {
	.info = { "lfu", "", "exact least frequently used (sees every access)",
		  "tie=lru(lru|fifo) perfect=0(0|1)", true },
	.init = lfu_init,
	.fini = lfu_fini,
	.insert = lfu_insert,
	.access = lfu_access,
	.evict = lfu_evict,
	.remove = lfu_remove,
	.check = lfu_check,
};
