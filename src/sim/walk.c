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

unsigned int sim_hw_walk(struct mm_machine *m, uint64_t root_pfn, uint64_t va,
			 enum mm_access_kind kind, bool user, struct sim_walk *w)
{
	void *used[5];
	unsigned int n = 0;
	uint64_t table = root_pfn;
	uint64_t rw = PTE_RW, us = PTE_US, nx = 0;
	unsigned int err = (kind == MM_ACCESS_WRITE ? MM_PF_WRITE : 0) | (user ? MM_PF_USER : 0) |
			   (kind == MM_ACCESS_EXEC && m->pg.nx ? MM_PF_INSTR : 0);
	w->refs = 0;
	for (int lvl = (int)m->pg.levels - 1; lvl >= 0; lvl--) {
		void *ep = ent_ptr(m, table, ent_index(m, va, (unsigned int)lvl));
		uint64_t e = ent_get(m, ep);
		w->refs++;
		if (!(e & PTE_P))
			return err;                     /* not present: P = 0 */
		used[n++] = ep;
		rw &= e;
		us &= e;
		nx |= e & PTE_NX;
		bool leaf = lvl == 0;
		if (!leaf && (e & PTE_PS) && (unsigned int)lvl <= m->pg.max_large_level)
			leaf = true;
		if (leaf) {
			unsigned int shift = m->pg.shift[lvl];
			if (user && !us)
				return err | MM_PF_PROT;
			if (kind == MM_ACCESS_WRITE && !rw)
				return err | MM_PF_PROT;     /* CR0.WP = 1 */
			if (kind == MM_ACCESS_EXEC && nx && m->pg.nx)
				return err | MM_PF_PROT;
			for (unsigned int i = 0; i < n; i++) {
				uint64_t v = ent_get(m, used[i]);
				if (!(v & PTE_A))
					ent_set(m, used[i], v | PTE_A);
			}
			if (kind == MM_ACCESS_WRITE && !(e & PTE_D)) {
				e |= PTE_D;
				ent_set(m, ep, e | PTE_A);
			}
			uint64_t base = e & m->pg.pfn_mask & ~(((uint64_t)1 << shift) - 1);
			/* a large PDE's bit 12 is PAT, not address */
			w->pa_base = base;
			w->shift = shift;
			w->flags = (rw ? TLB_W : 0) | (us ? TLB_U : 0) | (nx && m->pg.nx ? TLB_NX : 0) |
				   ((e & PTE_D) ? TLB_D : 0) | ((e & PTE_G) ? TLB_G : 0);
			return 0;
		}
		table = ent_pfn(m, e);
	}
	return err;   /* not reached */
}
