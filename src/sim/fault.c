/* fault.c — the page-fault handler (Linux's do_user_addr_fault and
 * handle_mm_fault), as seed 000 lays it out with Linux's details.
 *
 * 1. An address in the kernel half from user mode is
 *    SIGSEGV/SEGV_MAPERR (do_kern_addr_fault -> bad_area_nosemaphore);
 *    a non-canonical one never gets here (#GP in access.c: SI_KERNEL).
 * 2. find_vma(): no VMA at or above the address is SEGV_MAPERR; a VMA above
 *    it is SEGV_MAPERR unless it is VM_GROWSDOWN and the stack may grow to
 *    the address (RLIMIT_STACK, stack_guard_gap from the previous VMA,
 *    mmap_min_addr): expand_stack().
 * 3. access_error(): a write needs VM_WRITE; a read or fetch of a present
 *    page that faulted is a protection error; a not-present read needs
 *    some access right. Failures are SEGV_ACCERR. (An instruction fetch from
 *    a readable, non-executable VMA passes here, maps the page with NX, and
 *    faults again on retry with a protection error: Linux's behaviour.)
 * 4. handle_mm_fault() allocates the missing page-table pages on the way,
 *    then handles the PTE:
 *      none, anonymous read   -> the shared zero page, read-only (special);
 *      none, anonymous write  -> a fresh zeroed frame, writable and dirty;
 *      present, write, !RW    -> do_wp_page(): the zero page or a page
 *                                mapped more than once is copied (COW), an
 *                                anonymous page with one owner is reused;
 *      swap entry             -> the reclaim hooks' swapin (else SIGBUS);
 *      present and allowed    -> a spurious fault (stale TLB): mark young.
 *    Every fault that reaches handle_mm_fault and succeeds counts as a minor
 *    fault, or a major one if it did I/O (mm_account_fault()); faults that
 *    end in a signal are not counted, as in Linux.
 * The caller (the MMU) then retries the access.
 *
 * Cost: O(levels) plus the page allocation; a COW copy moves 4 KiB.
 * Reference: arch/x86/mm/fault.c, mm/memory.c (do_anonymous_page,
 * do_wp_page, wp_page_copy), mm/mmap.c (expand_downwards).
 */
#include "sim_internal.h"

struct mm_page *sim_alloc_user_page(struct mm_machine *m, bool zero)
{
	mm_gfp_t gfp = MM_GFP_HIGHUSER_MOVABLE | (zero ? MM_GFP_ZERO : 0);
	for (;;) {
		struct mm_page *p = sim_alloc_page(m, gfp, 0);
		if (p)
			return p;
		if (!m->hooks.alloc_failed || !m->hooks.alloc_failed(m->hooks.ctx, 0, gfp))
			return NULL;
	}
}

/* A newly allocated anonymous frame mapped at va in mm by the PTE at ep. */
static int map_new_anon(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *vma, uint64_t va,
			void *ep, struct mm_page *page, bool rmap_done)
{
	uint64_t pfn = page_pfn(m, page);
	if (!rmap_done && sim_rmap_add(m, pfn, mm, va))
		return -MM_ENOMEM;
	mm_page_set_flag(page, SIM_PG_USER | MM_PG_ANON | MM_PG_SWAPBACKED);
	page->mapcount = 1;
	page->index = va >> MM_PAGE_SHIFT;
	m->anon_pages++;
	mm->rss[MM_ANONPAGES]++;
	vma->anon_vma = true;
	uint64_t e = (pfn << MM_PAGE_SHIFT) | sim_vm_page_prot(m, vma->vm_flags);
	if (vma->vm_flags & VM_WRITE)
		e |= PTE_RW | PTE_D;
	ent_set(m, ep, e);
	if (m->hooks.page_added)
		m->hooks.page_added(m->hooks.ctx, page);
	return 0;
}

static int do_anonymous_page(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *vma,
			     uint64_t va, void *ep, bool write, struct mm_task *t)
{
	if (!write) {
		ent_set(m, ep, (m->zero_pfn << MM_PAGE_SHIFT) | PTE_SPECIAL |
				       (sim_vm_page_prot(m, vma->vm_flags) & ~PTE_RW));
		t->cnt.zero_maps++;
		return 0;
	}
	struct mm_page *page = sim_alloc_user_page(m, true);
	if (!page)
		return -MM_ENOMEM;
	int err = map_new_anon(m, mm, vma, va, ep, page, false);
	if (err) {
		page->refcount = 1;
		mm_free_pages(m->buddy, page, 0);
	}
	return err;
}

int sim_cow_page(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va, void *ep,
		 uint64_t src_pfn, bool replace)
{
	struct sim_mm *mm = t->mm;
	bool zero = src_pfn == m->zero_pfn;
	/* hold the source while allocating: reclaim skips a page in use */
	struct mm_page *src = zero ? NULL : pfn_page(m, src_pfn);
	if (src)
		mm_page_get(src);
	struct mm_page *page = sim_alloc_user_page(m, zero);
	if (src)
		sim_put_user_page(m, src);
	if (!page)
		return -MM_ENOMEM;
	if (!zero)
		memcpy(pfn_host(m, page_pfn(m, page)), pfn_host(m, src_pfn), MM_PAGE_SIZE);
	/* everything that can fail first: the old mapping stays until then */
	if (sim_rmap_add(m, page_pfn(m, page), mm, va)) {
		page->refcount = 1;
		mm_free_pages(m->buddy, page, 0);
		return -MM_ENOMEM;
	}
	if (replace) {
		/* ptep_clear_flush(): the old translation leaves every TLB */
		ent_set(m, ep, 0);
		sim_flush_tlb_range(m, mm, va, va + MM_PAGE_SIZE);
		if (!zero)
			sim_page_remove_rmap(m, src_pfn, mm, va);
	}
	map_new_anon(m, mm, vma, va, ep, page, true);
	t->cnt.cow_copies++;
	return 0;
}

static int do_wp_page(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *vma, uint64_t va,
		      void *ep, uint64_t e, struct mm_task *t)
{
	uint64_t pfn = ent_pfn(m, e);
	struct mm_page *old = pfn == m->zero_pfn ? NULL : pfn_page(m, pfn);
	(void)mm;
	if (old && (vma->vm_flags & VM_SHARED)) {
		/* wp_page_shared(): write-notify on a shared mapping */
		ent_set(m, ep, e | PTE_RW | PTE_D | PTE_A);
		mm_page_set_flag(old, MM_PG_DIRTY);
		return 0;
	}
	/* a swap-cache page only this PTE still uses gives its slot up
	 * (Linux's folio_free_swap() in do_wp_page) and can be reused */
	if (old && mm_page_test_flag(old, MM_PG_SWAPCACHE) && old->mapcount == 1)
		sim_swap_try_free(m, old);
	if (old && mm_page_test_flag(old, MM_PG_ANON) && old->mapcount == 1 && old->refcount == 1) {
		/* wp_page_reuse(): the only user keeps the page */
		ent_set(m, ep, e | PTE_RW | PTE_D | PTE_A);
		t->cnt.cow_reuses++;
		return 0;
	}
	/* wp_page_copy(): a zero page becomes a zeroed frame, else copy */
	return sim_cow_page(m, t, vma, va, ep, pfn, true);
}

void sim_mm_account_fault(struct mm_machine *m, struct mm_task *t, bool major)
{
	if (major) {
		t->cnt.maj_flt++;
		m->pgmajfault++;
	} else {
		t->cnt.min_flt++;
	}
}

int sim_handle_mm_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va,
			bool write, bool *major)
{
	struct sim_mm *mm = t->mm;
	va &= MM_PAGE_MASK;
	*major = false;
	m->fault_pid = t->pid;
	if (vma->vm_flags & VM_HUGETLB)
		return sim_hugetlb_fault(m, t, vma, va, write);
	void *ep = sim_pte_alloc(m, mm, va);
	if (!ep)
		return -MM_ENOMEM;
	uint64_t e = ent_get(m, ep);
	if (!e) {
		if (vma->mapping)
			return sim_do_fault(m, t, vma, va, ep, write, major);
		return do_anonymous_page(m, mm, vma, va, ep, write, t);
	}
	if (!pte_present_sw(e)) {
		if (!m->hooks.swapin)
			return -MM_EIO;
		return m->hooks.swapin(m->hooks.ctx, t, va, e, major);
	}
	if (write && !(e & PTE_RW))
		return do_wp_page(m, mm, vma, va, ep, e, t);
	/* spurious: the PTE allows it (a stale TLB entry faulted) */
	e |= PTE_A | (write ? PTE_D : 0);
	ent_set(m, ep, e);
	return 0;
}

/* ---- the stack --------------------------------------------------------------------- */

bool sim_expand_stack(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v, uint64_t addr)
{
	addr &= MM_PAGE_MASK;
	if (!(v->vm_flags & VM_GROWSDOWN) || addr >= v->vm_start)
		return false;
	if (addr < m->cfg.mmap_min_addr)
		return false;
	if (v->vm_end - addr > m->cfg.stack_rlimit)
		return false;
	struct sim_vma *prev = vma_prev(mm, v);
	if (prev && !(prev->vm_flags & VM_GROWSDOWN) && (prev->vm_flags & VM_ACCESS_FLAGS) &&
	    (addr < prev->vm_end || addr - prev->vm_end < m->cfg.stack_guard_gap))
		return false;
	if (prev && addr < prev->vm_end)
		return false;
	uint64_t grow = (v->vm_start - addr) >> MM_PAGE_SHIFT;
	v->vm_start = addr;
	v->vm_pgoff -= grow;
	sim_vma_bounds_changed(mm, v);
	sim_vm_stat_account(mm, v->vm_flags, (int64_t)grow);
	return true;
}

/* ---- the exception --------------------------------------------------------------- */

static int bad_area(struct mm_task *t, uint64_t va, unsigned int err, int code)
{
	t->sig = (struct mm_siginfo){ MM_SIGSEGV, code, va, err };
	t->cnt.segv++;
	return -MM_EFAULT;
}

static bool access_error(unsigned int err, const struct sim_vma *vma)
{
	if (err & MM_PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	if (err & MM_PF_PROT)
		return true;
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

int sim_do_page_fault(struct mm_machine *m, struct mm_task *t, uint64_t va, unsigned int err)
{
	struct sim_mm *mm = t->mm;
	if (va >= mm->task_size)
		return bad_area(t, va, err, MM_SEGV_MAPERR);
	struct sim_vma *vma = sim_find_vma(mm, va);
	if (!vma)
		return bad_area(t, va, err, MM_SEGV_MAPERR);
	if (vma->vm_start > va && !sim_expand_stack(m, mm, vma, va))
		return bad_area(t, va, err, MM_SEGV_MAPERR);
	if (access_error(err, vma))
		return bad_area(t, va, err, MM_SEGV_ACCERR);
	bool major = false;
	m->pgfault++;
	/* what a failure reports if no sim_alloc_page fails (a slab page) */
	m->oom_gfp = MM_GFP_KERNEL;
	m->oom_order = 0;
	int r = sim_handle_mm_fault(m, t, vma, va, (err & MM_PF_WRITE) != 0, &major);
	/* no memory: reclaim, then the OOM killer frees a process, and the
	 * fault is retried; the victim may be t itself (oom.c) */
	unsigned int reclaims = 0;
	while (r == -MM_ENOMEM && !(vma->vm_flags & VM_HUGETLB) && sim_oom_retry(m, t, &reclaims)) {
		if (task_dead(t))
			return -MM_ESRCH;
		r = sim_handle_mm_fault(m, t, vma, va, (err & MM_PF_WRITE) != 0, &major);
	}
	if (r == -MM_EIO) {
		t->sig = (struct mm_siginfo){ MM_SIGBUS, MM_BUS_ADRERR, va, err };
		return r;
	}
	if (r) {
		t->sig = (struct mm_siginfo){ 0, 0, va, err };
		return r;
	}
	sim_mm_account_fault(m, t, major);
	return 0;
}
