/* kalloc.c — the kernel's own allocation API, as seed 003 lists it:
 *
 *   mm_kernel_alloc_pages   alloc_pages()/__get_free_pages(): 2^order
 *                           physically contiguous frames from the zones the
 *                           gfp mask allows, returned at their direct-map
 *                           address (lowmem only on 32-bit);
 *   mm_kernel_kmalloc       kmalloc(): a slab object, at its direct-map
 *                           address (slab pages are frames of this RAM);
 *   mm_vmalloc              vmalloc(): frames taken one by one (scattered)
 *                           and mapped contiguously in the vmalloc area of
 *                           the kernel page tables, with a guard page after
 *                           each area; any size (beyond the buddy's 4 MiB);
 *   mm_dma_alloc_coherent   dma_alloc_coherent(): a contiguous block from
 *                           ZONE_DMA (the first 16 MiB), its bus address
 *                           being the physical address (no IOMMU);
 *   mm_ioremap              ioremap() of RAM kept out of the allocator at
 *                           boot (the mem=-style reservation): mapped
 *                           uncached (PCD|PWT) in the vmalloc area.
 *
 * Kernel page tables below the root are created on demand. A new root
 * entry is copied into every process's root at once (Linux's
 * sync_global_pgds() / the pgd_list walk of 32-bit vmalloc faults), so the
 * kernel half stays identical everywhere (mm_machine_check verifies it).
 * Those tables and the vmalloc/DMA frames are counted as kernel pages;
 * vmalloc frames are VmallocUsed in meminfo.
 *
 * Cost: vmalloc O(pages * levels) plus a first-fit search over the areas
 * (O(areas)); vfree flushes the area's TLB entries (global ones included).
 * Reference: mm/vmalloc.c, kernel/dma/direct.c, arch/x86/mm/ioremap.c,
 * arch/x86/mm/init_64.c (sync_global_pgds).
 */
#include "sim_internal.h"

/* One vmalloc/ioremap area, kept in machine->vmap_areas by address. */
struct sim_vmap_area {
	uint64_t start, size;        /* size excludes the guard page */
	uint64_t nr_pages;
	bool ioremap;                /* frames are the reservation's, not owned */
	struct mm_list node;
	uint64_t pfns[];             /* the frames, in order */
};

static uint64_t kva_of(const struct mm_machine *m, uint64_t pa)
{
	return m->lay.page_offset + pa;
}

static bool in_direct_map(const struct mm_machine *m, uint64_t va)
{
	return va >= m->lay.page_offset && va - m->lay.page_offset < m->lay.direct_map_bytes;
}

/* ---- pages ------------------------------------------------------------------------- */

uint64_t mm_kernel_alloc_pages(struct mm_machine *m, mm_gfp_t gfp, unsigned int order)
{
	struct mm_page *p = sim_alloc_page(m, gfp, order);
	if (!p)
		return 0;
	uint64_t pa = page_pfn(m, p) << MM_PAGE_SHIFT;
	if (pa + (MM_PAGE_SIZE << order) > m->lay.direct_map_bytes) {
		/* highmem on 32-bit: no direct-map address to give */
		mm_free_pages(m->buddy, p, order);
		return 0;
	}
	for (uint64_t i = 0; i < (1ULL << order); i++)
		mm_page_set_flag(pfn_page(m, page_pfn(m, p) + i), SIM_PG_KERNEL);
	m->kernel_pages += 1ULL << order;
	return kva_of(m, pa);
}

void mm_kernel_free_pages(struct mm_machine *m, uint64_t va, unsigned int order)
{
	if (!va)
		return;
	MM_BUG_ON(!in_direct_map(m, va) || (va & ~MM_PAGE_MASK));
	uint64_t pfn = (va - m->lay.page_offset) >> MM_PAGE_SHIFT;
	for (uint64_t i = 0; i < (1ULL << order); i++) {
		struct mm_page *p = pfn_page(m, pfn + i);
		MM_BUG_ON(!mm_page_test_flag(p, SIM_PG_KERNEL));
		mm_page_clear_flag(p, SIM_PG_KERNEL);
	}
	m->kernel_pages -= 1ULL << order;
	mm_free_pages(m->buddy, pfn_page(m, pfn), order);
}

uint64_t mm_kernel_kmalloc(struct mm_machine *m, size_t size, mm_gfp_t gfp)
{
	void *p = mm_kmalloc(m->kmem, size, gfp);
	if (MM_ZERO_OR_NULL_PTR(p))
		return 0;
	return kva_of(m, (uint64_t)((uint8_t *)p - m->ram));
}

void mm_kernel_kfree(struct mm_machine *m, uint64_t va)
{
	if (!va)
		return;
	MM_BUG_ON(!in_direct_map(m, va));
	mm_kfree(m->kmem, m->ram + (va - m->lay.page_offset));
}

/* ---- kernel page tables ------------------------------------------------------------- */

static void sync_root_entry(struct mm_machine *m, unsigned int idx, uint64_t e)
{
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		ent_set(m, ent_ptr(m, t->mm->pgd_pfn, idx), e);
}

/* The kernel PTE of va, allocating kernel tables (counted as kernel pages). */
static void *kernel_pte_alloc(struct mm_machine *m, uint64_t va)
{
	uint64_t table = m->kernel_pgd_pfn;
	for (unsigned int lvl = m->pg.levels - 1; lvl > 0; lvl--) {
		unsigned int idx = ent_index(m, va, lvl);
		void *ep = ent_ptr(m, table, idx);
		uint64_t e = ent_get(m, ep);
		if (!(e & PTE_P)) {
			struct mm_page *p = sim_alloc_page(m, MM_GFP_ZERO, 0);
			if (!p)
				return NULL;
			mm_page_set_flag(p, SIM_PG_KERNEL | MM_PG_PAGETABLE);
			m->kernel_pages++;
			e = (page_pfn(m, p) << MM_PAGE_SHIFT) | PTE_KTABLE;
			ent_set(m, ep, e);
			if (lvl == m->pg.levels - 1)
				sync_root_entry(m, idx, e);
		}
		MM_BUG_ON(e & PTE_PS);
		table = ent_pfn(m, e);
	}
	return ent_ptr(m, table, ent_index(m, va, 0));
}

/* ---- the vmalloc area ------------------------------------------------------------------ */

static struct sim_vmap_area *alloc_vmap_area(struct mm_machine *m, uint64_t size)
{
	uint64_t npages = size >> MM_PAGE_SHIFT;
	struct sim_vmap_area *a = mm_kmalloc(m->kmem, sizeof(*a) + npages * sizeof(uint64_t), 0);
	if (!a)
		return NULL;
	/* first fit, each area followed by a guard page */
	uint64_t start = m->lay.vmalloc_start;
	struct mm_list *pos = &m->vmap_areas;
	struct sim_vmap_area *it;
	mm_list_for_each_entry(it, &m->vmap_areas, node) {
		if (it->start >= start + size + MM_PAGE_SIZE)
			break;
		start = it->start + it->size + MM_PAGE_SIZE;
		pos = &it->node;
	}
	if (start + size + MM_PAGE_SIZE > m->lay.vmalloc_end || start + size < start) {
		mm_kfree(m->kmem, a);
		return NULL;
	}
	a->start = start;
	a->size = size;
	a->nr_pages = 0;
	a->ioremap = false;
	mm_list_add(&a->node, pos);
	return a;
}

static void unmap_area(struct mm_machine *m, struct sim_vmap_area *a)
{
	for (uint64_t i = 0; i < a->nr_pages; i++) {
		void *ep = sim_pte_lookup(m, m->kernel_pgd_pfn, a->start + i * MM_PAGE_SIZE, NULL);
		MM_BUG_ON(!ep);
		ent_set(m, ep, 0);
	}
	sim_flush_tlb_kernel_range(m, a->start, a->start + a->size);
}

static void free_area(struct mm_machine *m, struct sim_vmap_area *a)
{
	unmap_area(m, a);
	if (!a->ioremap) {
		for (uint64_t i = 0; i < a->nr_pages; i++) {
			struct mm_page *p = pfn_page(m, a->pfns[i]);
			mm_page_clear_flag(p, SIM_PG_KERNEL);
			mm_free_pages(m->buddy, p, 0);
		}
		m->kernel_pages -= a->nr_pages;
		m->vmalloc_pages -= a->nr_pages;
	}
	mm_list_del(&a->node);
	mm_kfree(m->kmem, a);
}

static int map_area_page(struct mm_machine *m, struct sim_vmap_area *a, uint64_t pfn, uint64_t extra)
{
	void *ep = kernel_pte_alloc(m, a->start + a->nr_pages * MM_PAGE_SIZE);
	if (!ep)
		return -MM_ENOMEM;
	ent_set(m, ep, (pfn << MM_PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G |
			       (m->pg.nx ? PTE_NX : 0) | extra);
	a->pfns[a->nr_pages++] = pfn;
	return 0;
}

uint64_t mm_vmalloc(struct mm_machine *m, uint64_t size)
{
	if (!size)
		return 0;
	size = MM_ALIGN_UP(size, MM_PAGE_SIZE);
	struct sim_vmap_area *a = alloc_vmap_area(m, size);
	if (!a)
		return 0;
	while (a->nr_pages < size >> MM_PAGE_SHIFT) {
		struct mm_page *p = sim_alloc_page(m, MM_GFP_ZERO, 0);
		if (!p)
			goto fail;
		mm_page_set_flag(p, SIM_PG_KERNEL);
		m->kernel_pages++;
		m->vmalloc_pages++;
		if (map_area_page(m, a, page_pfn(m, p), 0)) {
			mm_page_clear_flag(p, SIM_PG_KERNEL);
			mm_free_pages(m->buddy, p, 0);
			m->kernel_pages--;
			m->vmalloc_pages--;
			goto fail;
		}
	}
	return a->start;
fail:
	free_area(m, a);
	return 0;
}

static struct sim_vmap_area *find_area(struct mm_machine *m, uint64_t va)
{
	struct sim_vmap_area *it;
	mm_list_for_each_entry(it, &m->vmap_areas, node)
		if (it->start == va)
			return it;
	return NULL;
}

void mm_vfree(struct mm_machine *m, uint64_t va)
{
	if (!va)
		return;
	struct sim_vmap_area *a = find_area(m, va);
	MM_BUG_ON(!a || a->ioremap);
	free_area(m, a);
}

/* ---- DMA and ioremap ------------------------------------------------------------------- */

uint64_t mm_dma_alloc_coherent(struct mm_machine *m, uint64_t size, uint64_t *dma_handle)
{
	unsigned int order = 0;
	while ((MM_PAGE_SIZE << order) < size)
		order++;
	uint64_t va = mm_kernel_alloc_pages(m, MM_GFP_DMA | MM_GFP_ZERO, order);
	if (va && dma_handle)
		*dma_handle = va - m->lay.page_offset;
	return va;
}

void mm_dma_free_coherent(struct mm_machine *m, uint64_t size, uint64_t va)
{
	unsigned int order = 0;
	while ((MM_PAGE_SIZE << order) < size)
		order++;
	mm_kernel_free_pages(m, va, order);
}

uint64_t mm_ioremap(struct mm_machine *m, uint64_t phys, uint64_t size)
{
	uint64_t res_start = (m->nr_pages << MM_PAGE_SHIFT) - m->cfg.reserve_bytes;
	uint64_t off = phys & ~MM_PAGE_MASK;
	uint64_t first = phys & MM_PAGE_MASK, last = MM_ALIGN_UP(phys + size, MM_PAGE_SIZE);
	if (!size || !m->cfg.reserve_bytes || first < res_start || last > (m->nr_pages << MM_PAGE_SHIFT))
		return 0;   /* only the boot reservation may be remapped */
	struct sim_vmap_area *a = alloc_vmap_area(m, last - first);
	if (!a)
		return 0;
	a->ioremap = true;
	for (uint64_t pa = first; pa < last; pa += MM_PAGE_SIZE)
		if (map_area_page(m, a, pa >> MM_PAGE_SHIFT, PTE_PCD | PTE_PWT)) {
			free_area(m, a);
			return 0;
		}
	return a->start + off;
}

void mm_iounmap(struct mm_machine *m, uint64_t va)
{
	struct sim_vmap_area *a = find_area(m, va & MM_PAGE_MASK);
	MM_BUG_ON(!a || !a->ioremap);
	free_area(m, a);
}

/* ---- fixed mappings ------------------------------------------------------------------- */
/* Linux's set_fixmap(): compile-time-known virtual pages below FIXADDR_TOP
 * (index 0 at the top, growing down) mapped to any physical page. */

#define SIM_FIX_SLOTS 256

uint64_t mm_set_fixmap(struct mm_machine *m, unsigned int idx, uint64_t phys)
{
	if (idx >= SIM_FIX_SLOTS || phys >= (m->nr_pages << MM_PAGE_SHIFT))
		return 0;
	uint64_t va = m->lay.fixaddr_top - (uint64_t)idx * MM_PAGE_SIZE;
	void *ep = kernel_pte_alloc(m, va);
	if (!ep)
		return 0;
	ent_set(m, ep, (phys & MM_PAGE_MASK) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G |
			       (m->pg.nx ? PTE_NX : 0));
	sim_flush_tlb_kernel_range(m, va, va + MM_PAGE_SIZE);
	return va + (phys & ~MM_PAGE_MASK);
}

void mm_clear_fixmap(struct mm_machine *m, unsigned int idx)
{
	if (idx >= SIM_FIX_SLOTS)
		return;
	uint64_t va = m->lay.fixaddr_top - (uint64_t)idx * MM_PAGE_SIZE;
	void *ep = sim_pte_lookup(m, m->kernel_pgd_pfn, va, NULL);
	if (ep && !(ent_get(m, ep) & PTE_PS)) {
		ent_set(m, ep, 0);
		sim_flush_tlb_kernel_range(m, va, va + MM_PAGE_SIZE);
	}
}

void sim_kalloc_destroy(struct mm_machine *m)
{
	while (!mm_list_empty(&m->vmap_areas))
		free_area(m, mm_list_entry(m->vmap_areas.next, struct sim_vmap_area, node));
}
