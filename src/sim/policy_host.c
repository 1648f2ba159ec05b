/* policy_host.c — the machine as the host of a hardware-realistic
 * replacement policy (mmkit/policy.h): items are PFNs of user frames, and
 * the policy learns about their use only from the accessed and dirty bits
 * the MMU set in the PTEs that map them, read through the reverse map:
 *
 *   test_and_clear_referenced  Linux's page_referenced(): test and clear A
 *                              in every mapping PTE (flushing those TLB
 *                              entries, so the next access sets A again),
 *                              or'ed with PG_referenced (cleared too);
 *   test_referenced            the same without clearing (pte_young);
 *   test_dirty                 D in any mapping PTE, or PG_dirty;
 *   start_writeback            a dirty page-cache page of a file is written
 *                              back at once (cleaning its PTEs); a dirty
 *                              anonymous page is written to swap and stays
 *                              resident in the swap cache, clean (false
 *                              without swap or a free slot).
 *
 * Cost: O(mapcount) per query (the reverse-map chain).
 */
#include "sim_internal.h"

static struct mm_page *user_page(struct mm_machine *m, uint64_t pfn)
{
	if (pfn >= m->nr_pages)
		return NULL;
	struct mm_page *p = pfn_page(m, pfn);
	return mm_page_test_flag(p, SIM_PG_USER) ? p : NULL;
}

static bool any_pte_bit(struct mm_machine *m, uint64_t pfn, uint64_t bit)
{
	for (struct sim_rmap *r = m->rmap[pfn]; r; r = r->next) {
		void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
		if (ep && (ent_get(m, ep) & bit))
			return true;
	}
	return false;
}

static bool host_test_and_clear(void *ctx, uint64_t id)
{
	struct mm_machine *m = ctx;
	struct mm_page *p = user_page(m, id);
	if (!p)
		return false;
	bool soft = mm_page_test_flag(p, MM_PG_REFERENCED);
	mm_page_clear_flag(p, MM_PG_REFERENCED);
	return mm_page_referenced(m, p) > 0 || soft;
}

static bool host_test(void *ctx, uint64_t id)
{
	struct mm_machine *m = ctx;
	struct mm_page *p = user_page(m, id);
	return p && (mm_page_test_flag(p, MM_PG_REFERENCED) || any_pte_bit(m, id, PTE_A));
}

static bool host_dirty(void *ctx, uint64_t id)
{
	struct mm_machine *m = ctx;
	struct mm_page *p = user_page(m, id);
	return p && (mm_page_test_flag(p, MM_PG_DIRTY) || any_pte_bit(m, id, PTE_D));
}

static bool host_writeback(void *ctx, uint64_t id)
{
	struct mm_machine *m = ctx;
	struct mm_page *p = user_page(m, id);
	if (p && mm_page_test_flag(p, MM_PG_ANON))
		return sim_swap_preclean(m, p);
	if (!p || !mm_page_test_flag(p, SIM_PG_CACHE))
		return false;
	struct sim_mapping *map = p->mapping;
	if (map->kind != SIM_MAP_FILE)
		return false;
	return sim_writeback(m, map, p->index, p->index) == 0;
}

static const struct mm_policy_host_ops host_ops = {
	.test_and_clear_referenced = host_test_and_clear,
	.test_referenced = host_test,
	.test_dirty = host_dirty,
	.start_writeback = host_writeback,
};

struct mm_policy_host mm_machine_policy_host(struct mm_machine *m)
{
	return (struct mm_policy_host){ &host_ops, m };
}
