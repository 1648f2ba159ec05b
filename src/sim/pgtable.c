/* pgtable.c — the kernel's side of the page tables: allocating, walking
 * (in software, without touching A/D bits) and freeing them.
 *
 * Page-table pages are ordinary frames from the buddy allocator, zeroed
 * (GFP_PGTABLE_USER = GFP_KERNEL | __GFP_ZERO), marked PageTable and counted
 * per mm (Linux's pgtables_bytes, VmPTE) and machine-wide (PageTables). A
 * process root copies the kernel half of init_mm's root, as pgd_alloc() does,
 * so every process shares the kernel's tables below it.
 *
 * Tables are allocated on the way down by a fault (Linux's
 * __pte_alloc/__pmd_alloc/...), and freed by free_pgtables() when munmap or
 * exit leaves a table covering only unmapped space: a table is freed when
 * the whole range it covers lies between the neighbouring VMAs (floor and
 * ceiling), never while a VMA still overlaps it.
 *
 * Entries written for user pages use vm_page_prot as Linux's x86
 * protection_map gives it: every protection has _PAGE_ACCESSED preset;
 * private writable mappings are PAGE_COPY (read-only until a write fault);
 * PROT_NONE is _PAGE_PROTNONE (the G bit) with P clear.
 *
 * Cost: allocation O(levels) per fault; free_pgtables O(tables visited).
 * Reference: mm/memory.c (free_pgtables, __pte_alloc), arch/x86/mm/pgtable.c,
 * arch/x86/include/asm/pgtable_types.h.
 */
#include "sim_internal.h"

/* ---- allocation ---------------------------------------------------------------- */

static int pgtable_alloc(struct mm_machine *m, struct sim_mm *mm, uint64_t *pfn)
{
	struct mm_page *p = sim_alloc_page(m, MM_GFP_ZERO, 0);
	if (!p)
		return -MM_ENOMEM;
	mm_page_set_flag(p, MM_PG_PAGETABLE);
	*pfn = page_pfn(m, p);
	mm->pgtables++;
	m->pagetable_pages++;
	return 0;
}

static void pgtable_free(struct mm_machine *m, struct sim_mm *mm, uint64_t pfn)
{
	struct mm_page *p = pfn_page(m, pfn);
	MM_BUG_ON(!mm_page_test_flag(p, MM_PG_PAGETABLE));
	mm_page_clear_flag(p, MM_PG_PAGETABLE);
	mm_free_pages(m->buddy, p, 0);
	mm->pgtables--;
	m->pagetable_pages--;
}

int sim_pgd_alloc(struct mm_machine *m, struct sim_mm *mm)
{
	uint64_t pfn;
	int err = pgtable_alloc(m, mm, &pfn);
	if (err)
		return err;
	unsigned int n = entries_per_table(m), u = m->pg.user_pgd_entries;
	size_t es = m->pg.entry_size;
	memcpy((uint8_t *)pfn_host(m, pfn) + u * es, (uint8_t *)pfn_host(m, m->kernel_pgd_pfn) + u * es,
	       (n - u) * es);
	mm->pgd_pfn = pfn;
	return 0;
}

void sim_pgd_free(struct mm_machine *m, struct sim_mm *mm)
{
	if (mm->pgd_pfn)
		pgtable_free(m, mm, mm->pgd_pfn);
	mm->pgd_pfn = 0;
}

/* ---- lookups ------------------------------------------------------------------ */

void *sim_pte_lookup(struct mm_machine *m, uint64_t root_pfn, uint64_t va, unsigned int *lvl_out)
{
	uint64_t table = root_pfn;
	for (int lvl = (int)m->pg.levels - 1; lvl >= 0; lvl--) {
		void *ep = ent_ptr(m, table, ent_index(m, va, (unsigned int)lvl));
		uint64_t e = ent_get(m, ep);
		if (lvl == 0 || ((e & PTE_P) && (e & PTE_PS) && (unsigned int)lvl <= m->pg.max_large_level)) {
			if (lvl_out)
				*lvl_out = (unsigned int)lvl;
			return ep;
		}
		if (!(e & PTE_P))
			return NULL;
		table = ent_pfn(m, e);
	}
	return NULL;
}

void *sim_pte_alloc(struct mm_machine *m, struct sim_mm *mm, uint64_t va)
{
	return sim_entry_alloc(m, mm, va, 0);
}

void *sim_entry_alloc(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int leaf_lvl)
{
	uint64_t table = mm->pgd_pfn;
	for (unsigned int lvl = m->pg.levels - 1; lvl > leaf_lvl; lvl--) {
		void *ep = ent_ptr(m, table, ent_index(m, va, lvl));
		uint64_t e = ent_get(m, ep);
		if (!(e & PTE_P)) {
			uint64_t pfn;
			if (pgtable_alloc(m, mm, &pfn))
				return NULL;
			e = (pfn << MM_PAGE_SHIFT) | PTE_TABLE;
			ent_set(m, ep, e);
		} else if (e & PTE_PS) {
			return NULL;   /* a large leaf is in the way */
		}
		table = ent_pfn(m, e);
	}
	return ent_ptr(m, table, ent_index(m, va, leaf_lvl));
}

int64_t mm_virt_to_phys(struct mm_machine *m, struct mm_task *t, uint64_t va)
{
	if (t && task_dead(t))
		return -MM_ESRCH;
	unsigned int lvl;
	uint64_t root = t ? t->mm->pgd_pfn : m->kernel_pgd_pfn;
	void *ep = sim_pte_lookup(m, root, va & m->pg.va_mask, &lvl);
	if (!ep)
		return -MM_EFAULT;
	uint64_t e = ent_get(m, ep);
	if (!(e & PTE_P))
		return -MM_EFAULT;
	uint64_t sz = level_size(m, lvl);
	uint64_t base = e & m->pg.pfn_mask & ~(sz - 1);
	return (int64_t)(base | (va & (sz - 1)));
}

uint64_t sim_vm_page_prot(const struct mm_machine *m, uint64_t vm_flags)
{
	uint64_t acc = vm_flags & VM_ACCESS_FLAGS;
	if (!acc)
		return PTE_PROTNONE | PTE_A;
	uint64_t v = PTE_P | PTE_US | PTE_A;
	if (!(acc & VM_EXEC) && m->pg.nx)
		v |= PTE_NX;
	if ((acc & VM_WRITE) && (vm_flags & VM_SHARED))
		v |= PTE_RW;
	return v;
}

/* ---- iteration ----------------------------------------------------------------- */

static void walk_level(struct mm_machine *m, struct sim_mm *mm, uint64_t table, unsigned int lvl,
		       uint64_t base, uint64_t start, uint64_t end, sim_pte_fn fn, void *arg, bool any)
{
	uint64_t sz = level_size(m, lvl);
	unsigned int n = entries_per_table(m);
	unsigned int i = start > base ? (unsigned int)((start - base) / sz) : 0;
	for (; i < n; i++) {
		uint64_t s = base + i * sz;
		if (s >= end)
			break;
		void *ep = ent_ptr(m, table, i);
		uint64_t e = ent_get(m, ep);
		if (lvl == 0) {
			if (any ? e != 0 : pte_present_sw(e))
				fn(m, mm, s, 0, ep, arg);
			continue;
		}
		if ((e & PTE_PS) && pte_present_sw(e)) {
			fn(m, mm, s, lvl, ep, arg);   /* a huge page */
			continue;
		}
		if (!(e & PTE_P))
			continue;
		walk_level(m, mm, ent_pfn(m, e), lvl - 1, s, start, end, fn, arg, any);
	}
}

/* Walk [start, end) from the top level; `any` as in walk_level(). */
static void walk(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		 sim_pte_fn fn, void *arg, bool any)
{
	if (start >= end)
		return;
	walk_level(m, mm, mm->pgd_pfn, m->pg.levels - 1, 0, start, end, fn, arg, any);
}

void sim_for_each_pte(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		      sim_pte_fn fn, void *arg)
{
	walk(m, mm, start, end, fn, arg, false);
}

void sim_for_each_pte_any(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
			  sim_pte_fn fn, void *arg)
{
	walk(m, mm, start, end, fn, arg, true);
}

/* ---- freeing --------------------------------------------------------------------- */

static bool table_empty(struct mm_machine *m, uint64_t pfn)
{
	const uint8_t *p = pfn_host(m, pfn);
	for (size_t i = 0; i < MM_PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

static void free_level(struct mm_machine *m, struct sim_mm *mm, uint64_t table, unsigned int lvl,
		       uint64_t base, uint64_t start, uint64_t end, uint64_t floor, uint64_t ceiling)
{
	uint64_t sz = level_size(m, lvl);
	unsigned int n = lvl == m->pg.levels - 1 ? m->pg.user_pgd_entries : entries_per_table(m);
	unsigned int i = start > base ? (unsigned int)((start - base) / sz) : 0;
	for (; i < n; i++) {
		uint64_t s = base + i * sz;
		if (s >= end)
			break;
		void *ep = ent_ptr(m, table, i);
		uint64_t e = ent_get(m, ep);
		if (!(e & PTE_P) || (e & PTE_PS))
			continue;
		uint64_t child = ent_pfn(m, e);
		if (lvl > 1)
			free_level(m, mm, child, lvl - 1, s, start, end, floor, ceiling);
		if (s >= floor && s + sz - 1 <= ceiling - 1) {
			MM_BUG_ON(!table_empty(m, child));
			ent_set(m, ep, 0);
			pgtable_free(m, mm, child);
		}
	}
}

void sim_free_pgtables(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		       uint64_t floor, uint64_t ceiling)
{
	if (start >= end)
		return;
	free_level(m, mm, mm->pgd_pfn, m->pg.levels - 1, 0, start, end, floor, ceiling);
}
