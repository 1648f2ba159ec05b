/* rmap.c — reverse mapping: from a frame to the page-table entries that map it.
 *
 * mmsim keeps, for every user frame, a chain of (mm, virtual address) items,
 * one per PTE that maps the frame: the "pte_chain" reverse map of Linux
 * 2.5/2.6.0 (Linux later replaced it by object-based rmap through anon_vma
 * and address_space to save memory; the answers are the same). Items are
 * slab objects in simulated RAM ("pte_chain" in slabinfo), so the cost shows
 * in Slab just as anon_vma_chain does on a real system.
 *
 * Invariants (checked by mm_machine_check): a user frame's chain has exactly
 * mapcount items; each item names a PTE of that mm at that address which
 * maps the frame; refcount = mapcount + 1 if the frame is in a page cache.
 * The shared zero page has no chain and no mapcount (pte_special, as Linux).
 *
 * Reclaim (issue 4) uses mm_rmap_walk(), mm_page_referenced() (test and clear
 * the accessed bits, as page_referenced()/ptep_clear_flush_young()) and
 * mm_try_to_unmap() (which may leave a swap entry in each PTE).
 *
 * Cost: add O(1); remove O(mapcount) (the chain is searched); walk
 * O(mapcount * levels).
 * Reference: Linux 2.6.0 mm/rmap.c (page_add_rmap, page_remove_rmap,
 * try_to_unmap); current mm/rmap.c for the semantics.
 */
#include "sim_internal.h"

int sim_rmap_add(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va)
{
	struct sim_rmap *r = mm_kmem_cache_alloc(m->rmap_cache, 0);
	if (!r)
		return -MM_ENOMEM;
	r->mm = mm;
	r->va = va;
	r->next = m->rmap[pfn];
	m->rmap[pfn] = r;
	return 0;
}

void sim_rmap_remove(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va)
{
	for (struct sim_rmap **pp = &m->rmap[pfn]; *pp; pp = &(*pp)->next) {
		struct sim_rmap *r = *pp;
		if (r->mm == mm && r->va == va) {
			*pp = r->next;
			mm_kmem_cache_free(m->rmap_cache, r);
			return;
		}
	}
	MM_PANIC("rmap: pfn %#llx has no mapping at %#llx", (unsigned long long)pfn,
		 (unsigned long long)va);
}

void sim_put_user_page(struct mm_machine *m, struct mm_page *page)
{
	if (!mm_page_put_testzero(page)) {
		/* only the swap cache is left holding it */
		if (mm_unlikely(mm_page_test_flag(page, MM_PG_SWAPCACHE)) && page->refcount == 1)
			sim_swap_page_unmapped(m, page);
		return;
	}
	MM_BUG_ON(page->mapcount != 0);
	if (mm_page_test_flag(page, SIM_PG_HUGE)) {
		sim_huge_page_free(m, page);
		return;
	}
	if (m->hooks.page_removed)
		m->hooks.page_removed(m->hooks.ctx, page);
	if (mm_page_test_flag(page, MM_PG_ANON))
		m->anon_pages--;
	page->flags = 0;
	page->mapping = NULL;
	page->index = 0;
	page->refcount = 1;   /* mm_free_pages takes the block as allocated */
	mm_free_pages(m->buddy, page, 0);
}

int sim_rss_kind(const struct mm_page *page)
{
	if (mm_page_test_flag(page, MM_PG_ANON))
		return MM_ANONPAGES;
	return mm_page_test_flag(page, MM_PG_SWAPBACKED) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

void sim_page_remove_rmap(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va)
{
	struct mm_page *page = pfn_page(m, pfn);
	sim_rmap_remove(m, pfn, mm, va);
	MM_BUG_ON(page->mapcount <= 0);
	page->mapcount--;
	if (mm_page_test_flag(page, SIM_PG_HUGE))
		mm->huge_pages--;
	else
		mm->rss[sim_rss_kind(page)]--;
	sim_put_user_page(m, page);
}

/* ---- zap ------------------------------------------------------------------------ */

static void zap_one(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int lvl,
		 void *ep, void *arg)
{
	(void)arg;
	(void)lvl;
	uint64_t e = ent_get(m, ep);
	ent_set(m, ep, 0);
	if (!pte_present_sw(e)) {
		/* a swap entry: the slot loses this reference (swap_free) */
		mm->rss[MM_SWAPENTS]--;
		if (m->hooks.swap_free)
			m->hooks.swap_free(m->hooks.ctx, e);
		return;
	}
	uint64_t pfn = ent_pfn(m, e);
	if (pfn == m->zero_pfn)
		return;
	struct mm_page *page = pfn_page(m, pfn);
	if ((e & PTE_D) && !mm_page_test_flag(page, MM_PG_ANON))
		mm_page_set_flag(page, MM_PG_DIRTY);
	sim_page_remove_rmap(m, pfn, mm, va);
}

void sim_zap_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end)
{
	sim_for_each_pte_any(m, mm, start, end, zap_one, NULL);
	sim_flush_tlb_range(m, mm, start, end);
}

/* ---- reclaim interface ------------------------------------------------------------ */

unsigned int mm_rmap_walk(struct mm_machine *m, struct mm_page *page,
			  bool (*fn)(struct mm_machine *m, struct mm_task *t, uint64_t va, void *arg),
			  void *arg)
{
	uint64_t pfn = page_pfn(m, page);
	unsigned int n = 0;
	for (struct sim_rmap *r = m->rmap[pfn], *next; r; r = next) {
		next = r->next;
		n++;
		if (!fn(m, r->mm->owner, r->va, arg))
			break;
	}
	return n;
}

int mm_page_referenced(struct mm_machine *m, struct mm_page *page)
{
	uint64_t pfn = page_pfn(m, page);
	int young = 0;
	for (struct sim_rmap *r = m->rmap[pfn]; r; r = r->next) {
		void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
		MM_BUG_ON(!ep);
		uint64_t e = ent_get(m, ep);
		if (e & PTE_A) {
			ent_set(m, ep, e & ~PTE_A);
			sim_flush_tlb_range(m, r->mm, r->va, r->va + MM_PAGE_SIZE);
			young++;
		}
	}
	return young;
}

int mm_try_to_unmap(struct mm_machine *m, struct mm_page *page, uint64_t swp_pte)
{
	uint64_t pfn = page_pfn(m, page);
	int n = 0;
	MM_BUG_ON(page->refcount <= page->mapcount);   /* the caller holds a reference */
	while (m->rmap[pfn]) {
		struct sim_rmap *r = m->rmap[pfn];
		struct sim_mm *mm = r->mm;
		uint64_t va = r->va;
		void *ep = sim_pte_lookup(m, mm->pgd_pfn, va, NULL);
		MM_BUG_ON(!ep);
		uint64_t e = ent_get(m, ep);
		if (e & PTE_D)
			mm_page_set_flag(page, MM_PG_DIRTY);
		ent_set(m, ep, swp_pte);
		if (swp_pte)
			mm->rss[MM_SWAPENTS]++;
		sim_flush_tlb_range(m, mm, va, va + MM_PAGE_SIZE);
		sim_page_remove_rmap(m, pfn, mm, va);
		n++;
	}
	return n;
}

struct mm_page *mm_user_page_get(struct mm_machine *m, uint64_t pfn)
{
	if (pfn >= m->nr_pages)
		return NULL;
	struct mm_page *p = pfn_page(m, pfn);
	if (!mm_page_test_flag(p, SIM_PG_USER) || mm_page_test_flag(p, SIM_PG_HUGE))
		return NULL;
	mm_page_get(p);
	return p;
}

void mm_user_page_put(struct mm_machine *m, struct mm_page *page)
{
	sim_put_user_page(m, page);
}

/* ---- swap entries in non-present PTEs ------------------------------------------------ */
/* x86-64 (arch/x86/include/asm/pgtable_64.h): type in bits 59..63, the offset
 * inverted in bits 9..58 (L1TF mitigation), P and PROTNONE (bit 8) clear.
 * 32-bit non-PAE (pgtable-2level.h): type in bits 1..5, offset from bit 9. */

uint64_t mm_swp_entry_pte(const struct mm_machine *m, unsigned int type, uint64_t offset)
{
	if (m->pg.entry_size == 4)
		return ((uint64_t)(type & 31) << 1) | ((offset << 9) & 0xfffffe00ULL);
	return ((uint64_t)(type & 31) << 59) | ((~offset << 9) & ((1ULL << 59) - (1ULL << 9)));
}

bool mm_pte_swp_entry(const struct mm_machine *m, uint64_t pte, unsigned int *type, uint64_t *offset)
{
	if (!pte || (pte & (PTE_P | PTE_PROTNONE)))
		return false;
	if (m->pg.entry_size == 4) {
		*type = (unsigned int)((pte >> 1) & 31);
		*offset = (pte & 0xffffffffULL) >> 9;
	} else {
		*type = (unsigned int)(pte >> 59);
		*offset = (~pte & ((1ULL << 59) - (1ULL << 9))) >> 9;
	}
	return true;
}
