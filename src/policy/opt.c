/* opt.c — Belady's optimal replacement (OPT, MIN), idealised.
 *
 * Definition: the victim is the resident item whose next use lies furthest
 * in the future; an item never used again is further than any other. With
 * demand paging (every miss loads the item; the new item is not a candidate
 * for the eviction that makes room for it) this gives the fewest possible
 * misses for every reference string and size (Belady 1966; Mattson et al.
 * 1970 prove it is a stack algorithm).
 *
 * OPT needs the future: every insert and hit must carry the time of the
 * item's next access in mm_access_info.next_use (MM_POLICY_NEVER if none).
 * In trace replay a pre-pass computes it (mm_cache_next_use(), 8 bytes per
 * request). Inside mmsim only a recorded trace can supply it.
 *
 * Variant (option tie=fifo|lifo): which item goes among several that are
 * never used again — the earliest loaded (fifo, default) or the latest
 * (lifo). The miss count does not depend on it: dead items never hit, so any
 * choice among them leaves the same live items resident. (libCacheSim's
 * Belady pops whichever its heap holds on top; counts agree for that reason.)
 *
 * Cost: O(log n) per insert, hit, evict and remove: an indexed heap keyed by
 * (-next use, tie-break).
 * Reference: L. A. Belady, "A study of replacement algorithms for a
 * virtual-storage computer", IBM Systems Journal 5(2), 1966.
 */
#include "policy_internal.h"

struct opt {
	struct iheap hp; /* k1 = ~next_use (furthest first), k2 = tie-break */
	uint64_t seq;    /* load order */
	bool lifo;
};

static const char *const tie_choices[] = { "fifo", "lifo", NULL };

static int opt_init(struct mm_policy *p, struct pol_opts *o)
{
	int tie;
	if (pol_opt_enum(o, "tie", tie_choices, 0, &tie))
		return -MM_EINVAL;
	struct opt *t = pol_calloc(1, sizeof(*t));
	if (!t || pol_heap_init(&t->hp, p->cap)) {
		free(t);
		return -MM_ENOMEM;
	}
	t->lifo = tie == 1;
	p->priv = t;
	return 0;
}

static void opt_fini(struct mm_policy *p)
{
	struct opt *t = p->priv;
	pol_heap_fini(&t->hp);
	free(t);
}

static void opt_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	struct opt *t = p->priv;
	t->seq++;
	pol_heap_push(&t->hp, s, ~info->next_use, t->lifo ? ~t->seq : t->seq);
}

static void opt_access(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	struct opt *t = p->priv;
	pol_heap_update(&t->hp, s, ~info->next_use, t->hp.k2[s]);
}

static uint32_t opt_evict(struct mm_policy *p)
{
	struct opt *t = p->priv;
	p->st.scanned++;
	return pol_heap_pop(&t->hp);
}

static void opt_remove(struct mm_policy *p, uint32_t s)
{
	struct opt *t = p->priv;
	pol_heap_remove(&t->hp, s);
}

static int opt_check(const struct mm_policy *p)
{
	const struct opt *t = p->priv;
	if (pol_heap_check(&t->hp) || t->hp.n != p->nr)
		return -MM_ECORRUPT;
	for (uint32_t s = 0; s < p->cap; s++)
		if (!!(p->flags[s] & PF_USED) != pol_heap_contains(&t->hp, s))
			return -MM_ECORRUPT;
	return 0;
}

const struct pol_ops pol_opt_ops = {
	.info = { "opt", "belady min", "Belady's optimal: evict the item used furthest in the future",
		  "tie=fifo(fifo|lifo)", true },
	.init = opt_init,
	.fini = opt_fini,
	.insert = opt_insert,
	.access = opt_access,
	.evict = opt_evict,
	.remove = opt_remove,
	.check = opt_check,
};
