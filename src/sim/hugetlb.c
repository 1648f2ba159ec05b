/* hugetlb.c — the huge page pool and MAP_HUGETLB mappings (mm/hugetlb.c).
 *
 * vm.nr_hugepages blocks of 2 MiB (4 MiB with 32-bit PSE) are taken from the
 * buddy allocator at boot and kept in a pool (HugePages_Total/Free). A
 * MAP_HUGETLB mapping (private, anonymous) is mapped by page-directory
 * entries with the PS bit: one entry per huge page, no page table below it,
 * one TLB entry (in the 2M/4M arrays) per huge page.
 *
 * Faults (hugetlb_fault): the page tables are built down to the PDE; a
 * missing page is taken from the pool and zeroed (2 MiB of memset); a read
 * maps it read-only, a write writable and dirty; a write to a read-only huge
 * page reuses it when this mapping is its only user (after fork's
 * write-protect) or copies it into another pool page (hugetlb_wp). When the
 * pool is empty the fault is SIGBUS, as Linux's is when a reservation
 * cannot be honoured; mmap itself refuses (ENOMEM) a length the free pool
 * cannot hold. Reservations (HugePages_Rsvd), hugetlbfs files and shared
 * huge mappings are not modelled.
 *
 * Huge pages are not counted in RSS (Linux shows them as HugetlbPages).
 * Cost: a fault O(levels) plus zeroing or copying 2 MiB.
 */
#include <stdlib.h>

#include "sim_internal.h"

int sim_hugetlb_init(struct mm_machine *m)
{
	m->huge_order = m->pg.shift[1] - MM_PAGE_SHIFT;
	m->huge_shift = m->pg.shift[1];
	if (!m->cfg.nr_hugepages)
		return 0;
	m->huge_free_pfn = calloc(m->cfg.nr_hugepages, sizeof(uint64_t));
	if (!m->huge_free_pfn)
		return -MM_ENOMEM;
	for (unsigned int i = 0; i < m->cfg.nr_hugepages; i++) {
		struct mm_page *p = sim_alloc_page(m, MM_GFP_HIGHUSER_MOVABLE, m->huge_order);
		if (!p)
			return -MM_ENOMEM;
		mm_page_set_flag(p, SIM_PG_HUGE);
		m->huge_free_pfn[m->huge_free++] = page_pfn(m, p);
		m->huge_total++;
	}
	return 0;
}

void sim_hugetlb_destroy(struct mm_machine *m)
{
	free(m->huge_free_pfn);
	m->huge_free_pfn = NULL;
}

static struct mm_page *huge_page_alloc(struct mm_machine *m)
{
	if (!m->huge_free)
		return NULL;
	struct mm_page *p = pfn_page(m, m->huge_free_pfn[--m->huge_free]);
	p->refcount = 1;
	p->mapcount = 0;
	return p;
}

void sim_huge_page_free(struct mm_machine *m, struct mm_page *page)
{
	page->flags = SIM_PG_HUGE;
	page->refcount = 1;
	page->mapcount = 0;
	m->huge_free_pfn[m->huge_free++] = page_pfn(m, page);
}

static int map_huge(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *vma, uint64_t va, void *ep,
		    struct mm_page *p, bool write, bool rmap_done)
{
	uint64_t pfn = page_pfn(m, p);
	if (!rmap_done && sim_rmap_add(m, pfn, mm, va))
		return -MM_ENOMEM;
	mm_page_set_flag(p, SIM_PG_USER | MM_PG_ANON);
	p->mapcount = 1;
	mm->huge_pages++;
	vma->anon_vma = true;
	uint64_t e = (pfn << MM_PAGE_SHIFT) | sim_vm_page_prot(m, vma->vm_flags) | PTE_PS;
	if (write)
		e |= PTE_RW | PTE_D;
	ent_set(m, ep, e);
	return 0;
}

int sim_hugetlb_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va,
		      bool write)
{
	struct sim_mm *mm = t->mm;
	uint64_t hsz = 1ULL << m->huge_shift;
	va &= ~(hsz - 1);
	void *ep = sim_entry_alloc(m, mm, va, 1);
	if (!ep)
		return -MM_ENOMEM;
	uint64_t e = ent_get(m, ep);
	if (!e) {
		struct mm_page *p = huge_page_alloc(m);
		if (!p)
			return -MM_EIO;   /* the pool is empty: SIGBUS */
		memset(pfn_host(m, page_pfn(m, p)), 0, hsz);
		int err = map_huge(m, mm, vma, va, ep, p, write, false);
		if (err)
			sim_huge_page_free(m, p);
		return err;
	}
	if (!write || (e & PTE_RW)) {
		ent_set(m, ep, e | PTE_A | (write ? PTE_D : 0));
		return 0;
	}
	uint64_t pfn = ent_pfn(m, e);
	struct mm_page *old = pfn_page(m, pfn);
	if (old->mapcount == 1 && old->refcount == 1) {
		ent_set(m, ep, e | PTE_RW | PTE_D | PTE_A);
		t->cnt.cow_reuses++;
		return 0;
	}
	struct mm_page *p = huge_page_alloc(m);
	if (!p)
		return -MM_EIO;
	memcpy(pfn_host(m, page_pfn(m, p)), pfn_host(m, pfn), hsz);
	if (sim_rmap_add(m, page_pfn(m, p), mm, va)) {   /* before the old mapping goes */
		sim_huge_page_free(m, p);
		return -MM_ENOMEM;
	}
	ent_set(m, ep, 0);
	sim_flush_tlb_range(m, mm, va, va + hsz);
	sim_page_remove_rmap(m, pfn, mm, va);
	map_huge(m, mm, vma, va, ep, p, true, true);
	t->cnt.cow_copies++;
	return 0;
}
