/* linux.c — Linux's active/inactive page lists (the two-list LRU
 * approximation of mm/vmscan.c before multi-generational LRU).
 *
 * Definition, following shrink_inactive_list(), page_check_references() and
 * shrink_active_list() of Linux 5.x, one page at a time:
 *  - Two lists, active and inactive, each with its most recently added page at
 *    the head; reclaim takes pages from the tails. Each page also carries the
 *    software flag PG_referenced.
 *  - A newly faulted page goes to the head of the inactive list with
 *    PG_referenced clear; its PTE accessed bit is set by the faulting access
 *    ("all mapped pages start out with page table references from the
 *    instantiating fault, so we need to look twice").
 *  - Balance: while the inactive list is low — inactive * ratio < active, where
 *    ratio = int_sqrt(10 * GB of pages on the lists), or 1 below 1 GB
 *    (inactive_is_low()), assuming 4 KiB pages — the page at the active tail is
 *    examined: its accessed bits are read and cleared; a referenced page that
 *    was loaded by an instruction fetch (exec) rotates to the active head,
 *    any other page is deactivated to the inactive head (pgdeactivate).
 *    PG_referenced is left as it is.
 *  - Reclaim examines the inactive tail: it reads and clears the accessed bit
 *    (page_referenced) and test-and-clears PG_referenced:
 *      accessed:  set PG_referenced; if PG_referenced was already set, or the
 *                 page is exec, activate it (to the active head, pgactivate);
 *                 otherwise keep it (rotate to the inactive head): a second
 *                 reference will activate it;
 *      not accessed: reclaim it — the victim.
 *    So a page is promoted on its second observed reference, and a page
 *    deactivated with PG_referenced set comes straight back if used again.
 * Simplifications, stated: one LRU (no anon/file split, no swappiness, no
 * cgroups), no batching (Linux isolates SWAP_CLUSTER_MAX = 32 pages and
 * scans the active list in proportion to its size >> priority; here balance
 * is restored one page before each inactive-tail look), no refault/workingset
 * shadow entries, no mark_page_accessed() path for read()/write() of the page
 * cache (mm_policy_access() is ignored: mapped references come only from the
 * accessed bits), no VM_LOCKED or unevictable list, "referenced_ptes > 1"
 * (a page young in two mappings) is not distinguished from one.
 * Options: ratio=N (default 0 = Linux's rule above).
 *
 * Cost: insert/remove O(1); evict O(1) amortized (each step consumes an
 * accessed bit or a PG_referenced flag, or deactivates a page once).
 * Reference: Linux mm/vmscan.c (shrink_active_list, shrink_inactive_list,
 * page_check_references, inactive_is_low); M. Gorman, Understanding the Linux
 * Virtual Memory Manager, 2004, ch. 10.
 */
#include "policy_internal.h"

#define PG_ACTIVE     0x01
#define PG_REFERENCED 0x02

struct lnx {
	struct ilink *l;   /* cap slots + heads: active at cap, inactive at cap + 1 */
	uint8_t *pg;       /* slot -> PG_ACTIVE | PG_REFERENCED */
	uint32_t nr_active, nr_inactive;
	uint32_t ratio;    /* 0: Linux's int_sqrt(10 * GB) rule */
};

MM_INLINE uint32_t act_head(const struct mm_policy *p)
{
	return p->cap;
}

MM_INLINE uint32_t inact_head(const struct mm_policy *p)
{
	return p->cap + 1;
}

static int lnx_init(struct mm_policy *p, struct pol_opts *o)
{
	uint64_t ratio;
	if (pol_opt_u64(o, "ratio", 0, 0, 1000, &ratio))
		return -MM_EINVAL;
	struct lnx *x = pol_calloc(1, sizeof(*x));
	if (!x)
		return -MM_ENOMEM;
	x->l = pol_calloc((size_t)p->cap + 2, sizeof(*x->l));
	x->pg = pol_calloc(p->cap, 1);
	if (!x->l || !x->pg) {
		free(x->l);
		free(x->pg);
		free(x);
		return -MM_ENOMEM;
	}
	x->ratio = (uint32_t)ratio;
	il_init(x->l, act_head(p));
	il_init(x->l, inact_head(p));
	p->priv = x;
	return 0;
}

static void lnx_fini(struct mm_policy *p)
{
	struct lnx *x = p->priv;
	free(x->l);
	free(x->pg);
	free(x);
}

static uint32_t isqrt(uint64_t v)
{
	uint64_t r = 0;
	while ((r + 1) * (r + 1) <= v)
		r++;
	return (uint32_t)r;
}

static bool inactive_is_low(const struct mm_policy *p, const struct lnx *x)
{
	uint32_t ratio = x->ratio;
	if (!ratio) {
		uint64_t gb = ((uint64_t)x->nr_active + x->nr_inactive) >> (30 - 12);
		ratio = gb ? isqrt(10 * gb) : 1;
	}
	(void)p;
	return (uint64_t)x->nr_inactive * ratio < x->nr_active;
}

static void lnx_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lnx *x = p->priv;
	x->pg[s] = 0;
	il_add_head(x->l, s, inact_head(p));
	x->nr_inactive++;
}

static void lnx_remove(struct mm_policy *p, uint32_t s)
{
	struct lnx *x = p->priv;
	il_del(x->l, s);
	if (x->pg[s] & PG_ACTIVE)
		x->nr_active--;
	else
		x->nr_inactive--;
	x->pg[s] = 0;
}

/* One step of shrink_active_list on the active tail. */
static void age_active(struct mm_policy *p, struct lnx *x)
{
	uint32_t s = x->l[act_head(p)].prev;
	p->st.refilled++;
	if (pol_test_clear_young(p, s) && (p->flags[s] & PF_EXEC)) {
		il_move_head(x->l, s, act_head(p)); /* referenced exec: one more trip */
		return;
	}
	x->pg[s] &= (uint8_t)~PG_ACTIVE;
	il_move_head(x->l, s, inact_head(p));
	x->nr_active--;
	x->nr_inactive++;
	p->st.deactivated++;
}

static uint32_t lnx_evict(struct mm_policy *p)
{
	struct lnx *x = p->priv;
	for (;;) {
		while (inactive_is_low(p, x))
			age_active(p, x);
		uint32_t s = x->l[inact_head(p)].prev;
		p->st.scanned++;
		bool referenced_ptes = pol_test_clear_young(p, s);
		bool referenced_page = x->pg[s] & PG_REFERENCED;
		x->pg[s] &= (uint8_t)~PG_REFERENCED;
		if (!referenced_ptes) {
			lnx_remove(p, s); /* PAGEREF_RECLAIM */
			return s;
		}
		x->pg[s] |= PG_REFERENCED;
		if (referenced_page || (p->flags[s] & PF_EXEC)) {
			/* PAGEREF_ACTIVATE */
			x->pg[s] |= PG_ACTIVE;
			il_move_head(x->l, s, act_head(p));
			x->nr_inactive--;
			x->nr_active++;
			p->st.activated++;
		} else {
			il_move_head(x->l, s, inact_head(p)); /* PAGEREF_KEEP */
		}
	}
}

static void lnx_page_info(const struct mm_policy *p, uint32_t s, struct mm_policy_page *out)
{
	const struct lnx *x = p->priv;
	out->active = x->pg[s] & PG_ACTIVE;
	out->referenced = x->pg[s] & PG_REFERENCED;
}

static size_t lnx_nr_active(const struct mm_policy *p)
{
	const struct lnx *x = p->priv;
	return x->nr_active;
}

static int lnx_check(const struct mm_policy *p)
{
	const struct lnx *x = p->priv;
	long na = pol_il_check(x->l, act_head(p), p->cap, NULL, p->cap);
	long ni = pol_il_check(x->l, inact_head(p), p->cap, NULL, p->cap);
	if (na != (long)x->nr_active || ni != (long)x->nr_inactive || na + ni != (long)p->nr)
		return -MM_ECORRUPT;
	for (uint32_t s = x->l[act_head(p)].next; s != act_head(p); s = x->l[s].next)
		if (!(x->pg[s] & PG_ACTIVE) || !(p->flags[s] & PF_USED))
			return -MM_ECORRUPT;
	for (uint32_t s = x->l[inact_head(p)].next; s != inact_head(p); s = x->l[s].next)
		if ((x->pg[s] & PG_ACTIVE) || !(p->flags[s] & PF_USED))
			return -MM_ECORRUPT;
	return 0;
}

const struct pol_ops pol_linux_ops = {
	.info = { "linux", "active-inactive lru2", "Linux active/inactive lists (mm/vmscan.c, pre-MGLRU)",
		  "ratio=0(0=Linux rule|N)", false },
	.init = lnx_init,
	.fini = lnx_fini,
	.insert = lnx_insert,
	.evict = lnx_evict,
	.remove = lnx_remove,
	.page_info = lnx_page_info,
	.nr_active = lnx_nr_active,
	.check = lnx_check,
};
