/* walk.c — the MMU's page walk (the "page miss handler").
 *
 * From CR3 the walk reads one entry per level (PML5, PML4, PDPT, PD, PT in
 * 64-bit modes; PD, PT in 32-bit non-PAE mode), each a real 8- or 4-byte
 * entry in a simulated frame. A clear P bit ends it with a not-present
 * fault. A PS bit in a PDE (or a PDPTE in 64-bit modes) ends it on a large
 * page (2 MiB, 1 GiB; 4 MiB with 32-bit PSE).
 *
 * Access rights combine over the levels as the SDM (vol. 3, 4.6) states:
 * user access needs U/S = 1 at every level, a write needs R/W = 1 at every
 * level, and an instruction fetch faults if XD (bit 63) is set at any level
 * (64-bit modes only: 32-bit non-PAE has no XD bit). Supervisor writes obey
 * CR0.WP = 1, which Linux always sets: the kernel faults on read-only pages
 * too (that is how copy-on-write works for copy_to_user). SMEP/SMAP are not
 * modelled.
 *
 * Accessed and dirty bits: if the translation succeeds, the walk sets A in
 * every entry it used and, for a write, D in the leaf — with a locked
 * read-modify-write as hardware does. A faulting walk changes nothing.
 *
 * Cost: one memory reference per level (counted in walk_refs); paging-
 * structure caches (PML4/PDPT/PDE caches) are not modelled, so every miss
 * pays the full walk.
 *
 * Reference: Intel SDM vol. 3, 4.5 (4-level and 5-level paging), 4.3 (32-bit
 * paging), 4.7 (page-fault exceptions), 4.8 (accessed and dirty flags).
 */
#include "sim_internal.h"

/* The walk for one entry width; `wide` is a constant at each call site so
 * the compiler builds a 64-bit and a 32-bit version without per-level
 * width tests. */
static inline __attribute__((always_inline)) unsigned int
walk(struct mm_machine *m, bool wide, uint64_t root_pfn, uint64_t va, enum mm_access_kind kind,
     bool user, struct sim_walk *w)
{
	void *used[5];
	unsigned int n = 0, refs = 0;
	uint64_t table = root_pfn;
	uint64_t rw = PTE_RW, us = PTE_US, nx = 0;
	const unsigned int ibits = wide ? 9 : 10;
	const uint64_t imask = (1u << ibits) - 1;
	/* SIM_WALK_FAULT marks a fault: a supervisor read of a not-present
	 * page has error code 0 */
	unsigned int err = SIM_WALK_FAULT | (kind == MM_ACCESS_WRITE ? MM_PF_WRITE : 0) |
			   (user ? MM_PF_USER : 0) | (kind == MM_ACCESS_EXEC && m->pg.nx ? MM_PF_INSTR : 0);
	for (int lvl = (int)m->pg.levels - 1; lvl >= 0; lvl--) {
		unsigned int shift = wide ? 12 + 9 * (unsigned int)lvl : 12 + 10 * (unsigned int)lvl;
		unsigned int idx = (unsigned int)((va >> shift) & imask);
		uint8_t *tp = m->ram + (table << MM_PAGE_SHIFT);
		void *ep = wide ? (void *)((uint64_t *)tp + idx) : (void *)((uint32_t *)tp + idx);
		uint64_t e = wide ? *(uint64_t *)ep : *(uint32_t *)ep;
		refs++;
		if (!(e & PTE_P)) {
			w->refs = refs;
			return err;                     /* not present: P = 0 */
		}
		if (!(e & PTE_A))
			used[n++] = ep;                 /* A to set once the walk succeeds */
		rw &= e;
		us &= e;
		nx |= e & PTE_NX;
		bool leaf = lvl == 0 || ((e & PTE_PS) && (unsigned int)lvl <= m->pg.max_large_level);
		if (!leaf) {
			table = (e & m->pg.pfn_mask) >> MM_PAGE_SHIFT;
			continue;
		}
		w->refs = refs;
		if (user && !us)
			return err | MM_PF_PROT;
		if (kind == MM_ACCESS_WRITE && !rw)
			return err | MM_PF_PROT;        /* CR0.WP = 1 */
		if (kind == MM_ACCESS_EXEC && nx && m->pg.nx)
			return err | MM_PF_PROT;
		for (unsigned int i = 0; i < n; i++) {
			if (wide)
				*(uint64_t *)used[i] |= PTE_A;
			else
				*(uint32_t *)used[i] |= (uint32_t)PTE_A;
		}
		if (kind == MM_ACCESS_WRITE && !(e & PTE_D)) {
			e |= PTE_D;
			if (wide)
				*(uint64_t *)ep |= PTE_D;
			else
				*(uint32_t *)ep |= (uint32_t)PTE_D;
		}
		/* bits of a large leaf below its size are PAT/reserved, not address */
		w->pa_base = e & m->pg.pfn_mask & ~(((uint64_t)1 << shift) - 1);
		w->shift = shift;
		w->flags = (rw ? TLB_W : 0) | (us ? TLB_U : 0) | (nx && m->pg.nx ? TLB_NX : 0) |
			   ((e & PTE_D) ? TLB_D : 0) | ((e & PTE_G) ? TLB_G : 0);
		return 0;
	}
	w->refs = refs;
	return err;   /* not reached */
}

unsigned int sim_hw_walk(struct mm_machine *m, uint64_t root_pfn, uint64_t va,
			 enum mm_access_kind kind, bool user, struct sim_walk *w)
{
	if (m->pg.entry_size == 8)
		return walk(m, true, root_pfn, va, kind, user, w);
	return walk(m, false, root_pfn, va, kind, user, w);
}
