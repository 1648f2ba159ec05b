/* mmap.c — the address-space system calls: mmap, munmap, mprotect, brk,
 * madvise, msync (Linux's mm/mmap.c, mm/mprotect.c, mm/madvise.c).
 *
 * mmap checks its arguments in Linux's order (ksys_mmap_pgoff, do_mmap):
 * len 0 -> EINVAL; an offset not page aligned -> EINVAL; len rounded up to
 * pages overflowing -> ENOMEM; a mapping type other than SHARED, PRIVATE or
 * SHARED_VALIDATE -> EINVAL; then get_unmapped_area(): MAP_FIXED takes the
 * address as is (EINVAL unaligned, ENOMEM beyond TASK_SIZE); a hint is used
 * when the range is free (guard gaps included), else the search runs
 * top-down from mmap_base (then from TASK_SIZE as Linux's bottom-up
 * fallback does); MAP_FIXED_NOREPLACE over an existing mapping -> EEXIST.
 * mmap_region() then unmaps what MAP_FIXED replaces, creates the VMA (or
 * extends a neighbour it merges with) and, with MAP_POPULATE, faults every
 * page in (writes for private writable mappings, breaking COW, as
 * populate_vma_page_range()). mmap does not touch page tables otherwise:
 * memory is demand paged.
 *
 * munmap splits the VMAs at the range ends, zaps the PTEs (dropping each
 * page's mapping; a page freed when its last reference goes), unlinks the
 * VMAs and frees the page tables that covered only the hole.
 *
 * mprotect splits, changes the flags (limited by VM_MAY*: EACCES), rewrites
 * the PTEs with the new protection (a private page becomes writable only if
 * it is an anonymous page with a single mapping; others stay read-only for
 * COW), flushes the TLB for the range and merges.
 *
 * brk follows sys_brk(): a request below the heap start or colliding with
 * the next VMA (guard gap included) leaves the break unchanged; shrinking
 * unmaps; growing extends the heap VMA (merged with the previous one).
 *
 * Accounting: total_vm, data_vm, exec_vm and stack_vm as vm_stat_account().
 * Overcommit: private writable mappings (and the heap and stack) are
 * VM_ACCOUNT and counted in Committed_AS; the default heuristic mode
 * (overcommit_memory = 0) refuses one request larger than RAM + swap, in
 * mmap and brk (mprotect, stack growth and fork only charge).
 * Not modelled: mlock, the map_count limit.
 */
#include "sim_internal.h"

/* __vm_enough_memory() in the heuristic mode: one request may not exceed
 * all of RAM plus swap. */
bool sim_vm_enough_memory(struct mm_machine *m, uint64_t pages)
{
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	return pages <= m->nr_pages - mm_buddy_reserved_pages(m->buddy) + si.total_pages;
}

uint64_t sim_calc_vm_flags(int prot, int flags)
{
	uint64_t v = 0;
	if (prot & MM_PROT_READ)
		v |= VM_READ;
	if (prot & MM_PROT_WRITE)
		v |= VM_WRITE;
	if (prot & MM_PROT_EXEC)
		v |= VM_EXEC;
	v |= VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if ((flags & MM_MAP_TYPE) != MM_MAP_PRIVATE)
		v |= VM_SHARED | VM_MAYSHARE;
	if (flags & MM_MAP_GROWSDOWN)
		v |= VM_GROWSDOWN;
	if (flags & MM_MAP_HUGETLB)
		v |= VM_HUGETLB;
	if (flags & MM_MAP_NORESERVE)
		v |= VM_NORESERVE;
	return v;
}

/* vm_stat_account(): which counters a VMA's pages go to (and the commit
 * charge of VM_ACCOUNT mappings). */
void sim_vm_stat_account(struct sim_mm *mm, uint64_t flags, int64_t npages)
{
	mm->total_vm += (uint64_t)npages;
	if (flags & VM_ACCOUNT)
		mm->committed += (uint64_t)npages;
	if ((flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) == VM_EXEC)
		mm->exec_vm += (uint64_t)npages;
	else if (flags & VM_GROWSDOWN)
		mm->stack_vm += (uint64_t)npages;
	else if ((flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE)
		mm->data_vm += (uint64_t)npages;
	if (mm->total_vm > mm->hiwater_vm)
		mm->hiwater_vm = mm->total_vm;
}

/* ---- unmapping --------------------------------------------------------------------- */

int sim_munmap_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end)
{
	struct sim_vma *v = sim_find_vma(mm, start);
	if (!v || v->vm_start >= end)
		return 0;
	if (v->vm_start < start) {
		if (!sim_split_vma(m, mm, v, start))
			return -MM_ENOMEM;
		v = vma_next(mm, v);
	}
	struct sim_vma *last = sim_find_vma(mm, end - 1);
	if (last && last->vm_start < end && last->vm_end > end && !sim_split_vma(m, mm, last, end))
		return -MM_ENOMEM;
	struct sim_vma *prev = vma_prev(mm, v);
	uint64_t floor = prev ? prev->vm_end : 0;
	uint64_t zstart = v->vm_start, zend = zstart;
	while (v && v->vm_start < end) {
		struct sim_vma *next = vma_next(mm, v);
		sim_zap_range(m, mm, v->vm_start, v->vm_end);
		sim_vma_writeback(m, v, v->vm_start, v->vm_end);
		sim_vm_stat_account(mm, v->vm_flags, -(int64_t)vma_pages(v));
		zend = v->vm_end;
		sim_vma_unlink(mm, v);
		sim_vma_free(m, v);
		v = next;
	}
	uint64_t ceiling = v ? v->vm_start : (uint64_t)m->pg.user_pgd_entries << m->pg.shift[m->pg.levels - 1];
	sim_free_pgtables(m, mm, zstart, zend, floor, ceiling);
	return 0;
}

/* A hugetlb VMA can only be cut at a huge-page boundary (Linux's
 * hugetlb_vm_op_split returns EINVAL). */
static bool huge_cut_ok(struct mm_machine *m, struct sim_mm *mm, uint64_t addr)
{
	struct sim_vma *v = sim_find_vma(mm, addr);
	return !v || v->vm_start >= addr || !(v->vm_flags & VM_HUGETLB) ||
	       !(addr & ((1ULL << m->huge_shift) - 1));
}

int mm_do_munmap(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if ((addr & ~MM_PAGE_MASK) || addr > mm->task_size || len > mm->task_size - addr)
		return -MM_EINVAL;
	len = MM_ALIGN_UP(len, MM_PAGE_SIZE);
	if (!len)
		return -MM_EINVAL;
	if (!huge_cut_ok(m, mm, addr) || !huge_cut_ok(m, mm, addr + len))
		return -MM_EINVAL;
	return sim_munmap_range(m, mm, addr, addr + len);
}

/* ---- mmap ------------------------------------------------------------------------------ */

static bool range_free(struct mm_machine *m, struct sim_mm *mm, uint64_t addr, uint64_t len)
{
	struct sim_vma *v = sim_find_vma(mm, addr);
	if (v && addr + len > sim_vm_start_gap(m, v))
		return false;
	struct sim_vma *prev = v ? vma_prev(mm, v) : (mm_list_empty(&mm->vmas) ? NULL :
			       mm_list_entry(mm->vmas.prev, struct sim_vma, node));
	return !prev || addr >= prev->vm_end;
}

static int64_t get_unmapped_area(struct mm_machine *m, struct sim_mm *mm, uint64_t addr,
				 uint64_t len, int flags, uint64_t align)
{
	uint64_t lo = MM_MAX((uint64_t)MM_PAGE_SIZE, m->cfg.mmap_min_addr);
	if (len > mm->task_size - lo)
		return -MM_ENOMEM;
	if (flags & MM_MAP_FIXED) {
		if (addr & (align - 1))
			return -MM_EINVAL;
		if (addr > mm->task_size - len)
			return -MM_ENOMEM;
		return (int64_t)addr;
	}
	if (addr) {
		addr = MM_ALIGN_UP(addr, align);
		if (addr >= lo && addr <= mm->task_size - len && range_free(m, mm, addr, len))
			return (int64_t)addr;
	}
	uint64_t slack = align - MM_PAGE_SIZE;
	int64_t r = sim_unmapped_area_topdown(m, mm, len + slack, lo, mm->mmap_base);
	if (r < 0)
		r = sim_unmapped_area_topdown(m, mm, len + slack, lo, mm->task_size);
	if (r < 0)
		return r;
	return (int64_t)MM_ALIGN_UP((uint64_t)r, align);
}

int64_t mm_do_mmap(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len,
		   int prot, int flags, int fd, uint64_t offset)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if (!len)
		return -MM_EINVAL;
	if (offset & ~MM_PAGE_MASK)
		return -MM_EINVAL;
	uint64_t plen = MM_ALIGN_UP(len, MM_PAGE_SIZE);
	if (!plen || plen < len)
		return -MM_ENOMEM;
	len = plen;
	if (offset + len < offset)
		return -MM_EOVERFLOW;
	int type = flags & MM_MAP_TYPE;
	if (type != MM_MAP_SHARED && type != MM_MAP_PRIVATE && type != MM_MAP_SHARED_VALIDATE)
		return -MM_EINVAL;
	if (prot & ~(MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC))
		return -MM_EINVAL;
	struct sim_mapping *file = NULL;
	uint64_t may_clear = 0;
	if (!(flags & MM_MAP_ANONYMOUS)) {
		if (fd < 0 || fd >= SIM_MAX_FILES || !t->files[fd].map)
			return -MM_EBADF;
		file = t->files[fd].map;
		if (type != MM_MAP_PRIVATE && t->files[fd].flags != MM_O_RDWR) {
			if (prot & MM_PROT_WRITE)
				return -MM_EACCES;
			may_clear = VM_MAYWRITE;   /* mprotect cannot add write later */
		}
	}
	uint64_t align = MM_PAGE_SIZE;
	if (flags & MM_MAP_HUGETLB) {
		/* private anonymous huge pages from the pool (see hugetlb.c) */
		if (file || type != MM_MAP_PRIVATE)
			return -MM_EINVAL;
		align = 1ULL << m->huge_shift;
		len = MM_ALIGN_UP(len, align);
		if (!len || len >> m->huge_shift > m->huge_free)
			return -MM_ENOMEM;
	}
	/* accountable_mapping(): private, writable, not NORESERVE or hugetlb */
	bool accountable = type == MM_MAP_PRIVATE && (prot & MM_PROT_WRITE) &&
			   !(flags & (MM_MAP_NORESERVE | MM_MAP_HUGETLB));
	if (accountable && !sim_vm_enough_memory(m, len >> MM_PAGE_SHIFT))
		return -MM_ENOMEM;
	if (flags & MM_MAP_FIXED_NOREPLACE)
		flags |= MM_MAP_FIXED;
	int64_t a = get_unmapped_area(m, mm, addr, len, flags, align);
	if (a < 0)
		return a;
	addr = (uint64_t)a;
	uint64_t end = addr + len;
	if ((flags & MM_MAP_FIXED_NOREPLACE) && sim_find_vma_intersection(mm, addr, end))
		return -MM_EEXIST;

	struct sim_vma *v = sim_vma_alloc(m);
	if (!v)
		return -MM_ENOMEM;
	if (file) {
		sim_mapping_get(file);
		v->mapping = file;
		v->vm_pgoff = offset >> MM_PAGE_SHIFT;
	} else if (type != MM_MAP_PRIVATE) {
		/* shared anonymous memory is a shmem object ("/dev/zero (deleted)") */
		v->mapping = sim_mapping_new(m, SIM_MAP_SHMEM, len);
		if (!v->mapping) {
			sim_vma_free(m, v);
			return -MM_ENOMEM;
		}
		v->vm_pgoff = 0;
	} else {
		v->vm_pgoff = addr >> MM_PAGE_SHIFT;
	}
	if ((flags & MM_MAP_FIXED) && sim_munmap_range(m, mm, addr, end)) {
		sim_vma_free(m, v);
		return -MM_ENOMEM;
	}
	v->vm_start = addr;
	v->vm_end = end;
	v->vm_flags = sim_calc_vm_flags(prot, flags) & ~may_clear;
	if (accountable)
		v->vm_flags |= VM_ACCOUNT;
	v->kind = (flags & MM_MAP_GROWSDOWN) ? VMA_STACK : VMA_PLAIN;

	sim_vma_link(mm, v);
	sim_vm_stat_account(mm, v->vm_flags, (int64_t)vma_pages(v));
	v = sim_vma_merge(m, mm, v);
	if (flags & MM_MAP_POPULATE)
		sim_populate(m, t, addr, end);
	return (int64_t)addr;
}

int sim_populate(struct mm_machine *m, struct mm_task *t, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += MM_PAGE_SIZE) {
		struct sim_vma *v = sim_find_vma(t->mm, va);
		if (!v || v->vm_start > va || !(v->vm_flags & VM_ACCESS_FLAGS))
			continue;
		bool write = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		void *ep = sim_pte_lookup(m, t->mm->pgd_pfn, va, NULL);
		uint64_t e = ep ? ent_get(m, ep) : 0;
		if (pte_present_sw(e) && (!write || (e & PTE_RW)))
			continue;
		bool major;
		m->pgfault++;
		int r = sim_handle_mm_fault(m, t, v, va, write, &major);
		if (r)
			return r;
		sim_mm_account_fault(m, t, major);
	}
	return 0;
}

/* ---- mprotect ------------------------------------------------------------------------ */

struct prot_arg {
	uint64_t prot;
	bool may_write;
	bool shared_file;
};

static void change_pte(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int lvl,
		 void *ep, void *arg)
{
	(void)mm;
	(void)va;
	const struct prot_arg *pa = arg;
	uint64_t e = ent_get(m, ep);
	uint64_t pfn = ent_pfn(m, e);
	uint64_t keep = e & (m->pg.pfn_mask | PTE_A | PTE_D | PTE_SPECIAL | (lvl ? PTE_PS : 0));
	uint64_t ne = keep | pa->prot;
	if (pa->shared_file && !(e & PTE_D))
		ne &= ~PTE_RW;     /* write-notify: clean file pages stay read-only */
	if (pa->may_write && pfn != m->zero_pfn) {
		struct mm_page *p = pfn_page(m, pfn);
		/* can_change_pte_writable(): an exclusive anonymous page */
		if (mm_page_test_flag(p, MM_PG_ANON) && p->mapcount == 1 && p->refcount == 1)
			ne |= PTE_RW;
	}
	ent_set(m, ep, ne);
}

static int mprotect_fixup(struct mm_machine *m, struct sim_mm *mm, struct sim_vma **pv,
			  uint64_t start, uint64_t end, uint64_t newflags)
{
	struct sim_vma *v = *pv;
	if (newflags == v->vm_flags)
		return 0;
	if (start > v->vm_start) {
		if (!sim_split_vma(m, mm, v, start))
			return -MM_ENOMEM;
		v = vma_next(mm, v);
	}
	if (end < v->vm_end && !sim_split_vma(m, mm, v, end))
		return -MM_ENOMEM;
	sim_vm_stat_account(mm, v->vm_flags, -(int64_t)vma_pages(v));
	v->vm_flags = newflags;
	sim_vm_stat_account(mm, v->vm_flags, (int64_t)vma_pages(v));
	struct prot_arg pa = { sim_vm_page_prot(m, newflags),
			       (newflags & VM_WRITE) && !(newflags & VM_SHARED),
			       v->mapping && v->mapping->kind == SIM_MAP_FILE };
	sim_for_each_pte(m, mm, v->vm_start, v->vm_end, change_pte, &pa);
	sim_flush_tlb_range(m, mm, v->vm_start, v->vm_end);
	*pv = sim_vma_merge(m, mm, v);
	return 0;
}

int mm_do_mprotect(struct mm_machine *m, struct mm_task *t, uint64_t start, uint64_t len, int prot)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if (start & ~MM_PAGE_MASK)
		return -MM_EINVAL;
	if (!len)
		return 0;
	len = MM_ALIGN_UP(len, MM_PAGE_SIZE);
	uint64_t end = start + len;
	if (end <= start)
		return -MM_ENOMEM;
	if (prot & ~(MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC))
		return -MM_EINVAL;
	if (!huge_cut_ok(m, mm, start) || !huge_cut_ok(m, mm, end))
		return -MM_EINVAL;
	struct sim_vma *v = sim_find_vma(mm, start);
	if (!v || v->vm_start > start)
		return -MM_ENOMEM;
	uint64_t nstart = start;
	for (;;) {
		uint64_t newflags = (v->vm_flags & ~VM_ACCESS_FLAGS) | (sim_calc_vm_flags(prot, MM_MAP_PRIVATE) & VM_ACCESS_FLAGS);
		/* a private mapping made writable is charged from now on */
		if ((newflags & VM_WRITE) &&
		    !(v->vm_flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)))
			newflags |= VM_ACCOUNT;
		/* VM_MAY* bits are 4 above the rights they allow */
		if ((newflags & VM_ACCESS_FLAGS) & ~(v->vm_flags >> 4))
			return -MM_EACCES;
		uint64_t tmp = MM_MIN(v->vm_end, end);
		int err = mprotect_fixup(m, mm, &v, nstart, tmp, newflags);
		if (err)
			return err;
		nstart = tmp;
		if (nstart >= end)
			return 0;
		/* the next VMA must continue the range (after a merge, the VMA
		 * holding nstart may start before it) */
		v = sim_find_vma(mm, nstart);
		if (!v || v->vm_start > nstart)
			return -MM_ENOMEM;
	}
}

/* ---- brk ---------------------------------------------------------------------------------- */

uint64_t mm_do_brk(struct mm_machine *m, struct mm_task *t, uint64_t brk)
{
	if (task_dead(t))
		return 0;
	struct sim_mm *mm = t->mm;
	if (brk < mm->start_brk || brk > mm->task_size)
		return mm->brk;
	uint64_t newbrk = MM_ALIGN_UP(brk, MM_PAGE_SIZE);
	uint64_t oldbrk = MM_ALIGN_UP(mm->brk, MM_PAGE_SIZE);
	if (newbrk == oldbrk) {
		mm->brk = brk;
		return brk;
	}
	if (newbrk < oldbrk) {
		if (sim_munmap_range(m, mm, newbrk, oldbrk))
			return mm->brk;
		mm->brk = brk;
		return brk;
	}
	struct sim_vma *next = sim_find_vma(mm, oldbrk);
	if (next && newbrk + MM_PAGE_SIZE > sim_vm_start_gap(m, next))
		return mm->brk;
	if (!sim_vm_enough_memory(m, (newbrk - oldbrk) >> MM_PAGE_SHIFT))
		return mm->brk;
	/* do_brk_flags(): extend the heap VMA or make one */
	uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
	struct sim_vma *prev = sim_find_vma(mm, oldbrk - 1);
	if (prev && prev->vm_end == oldbrk && prev->vm_flags == flags && prev->kind == VMA_PLAIN &&
	    prev->vm_start >= mm->start_brk) {
		prev->vm_end = newbrk;
		sim_vma_bounds_changed(mm, prev);
	} else {
		struct sim_vma *v = sim_vma_alloc(m);
		if (!v)
			return mm->brk;
		v->vm_start = oldbrk;
		v->vm_end = newbrk;
		v->vm_flags = flags;
		v->vm_pgoff = oldbrk >> MM_PAGE_SHIFT;
		sim_vma_link(mm, v);
	}
	sim_vm_stat_account(mm, flags, (int64_t)((newbrk - oldbrk) >> MM_PAGE_SHIFT));
	mm->brk = brk;
	return brk;
}

int64_t mm_sbrk(struct mm_machine *m, struct mm_task *t, int64_t increment)
{
	if (task_dead(t))
		return -MM_ESRCH;
	uint64_t old = t->mm->brk;
	if (!increment)
		return (int64_t)old;
	uint64_t want = old + (uint64_t)increment;
	if (mm_do_brk(m, t, want) != want)
		return -MM_ENOMEM;
	return (int64_t)old;
}

/* ---- madvise / msync --------------------------------------------------------------------- */

int mm_do_madvise(struct mm_machine *m, struct mm_task *t, uint64_t start, uint64_t len, int advice)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if (start & ~MM_PAGE_MASK)
		return -MM_EINVAL;
	if (advice != MM_MADV_NORMAL && advice != MM_MADV_RANDOM && advice != MM_MADV_SEQUENTIAL &&
	    advice != MM_MADV_WILLNEED && advice != MM_MADV_DONTNEED)
		return -MM_EINVAL;
	len = MM_ALIGN_UP(len, MM_PAGE_SIZE);
	uint64_t end = start + len;
	if (end < start)
		return -MM_EINVAL;
	if (end == start)
		return 0;
	int err = 0;
	uint64_t pos = start;
	while (pos < end) {
		struct sim_vma *v = sim_find_vma(mm, pos);
		if (!v || v->vm_start >= end) {
			err = -MM_ENOMEM;
			break;
		}
		if (v->vm_start > pos)
			err = -MM_ENOMEM;
		uint64_t s = MM_MAX(pos, v->vm_start), e = MM_MIN(end, v->vm_end);
		if (advice == MM_MADV_DONTNEED) {
			if (v->vm_flags & (VM_LOCKED | VM_HUGETLB))
				return -MM_EINVAL;
			sim_zap_range(m, mm, s, e);
		}
		pos = e;
	}
	return err;
}

int mm_do_msync(struct mm_machine *m, struct mm_task *t, uint64_t start, uint64_t len, int flags)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if (flags & ~(MM_MS_ASYNC | MM_MS_INVALIDATE | MM_MS_SYNC))
		return -MM_EINVAL;
	if (start & ~MM_PAGE_MASK)
		return -MM_EINVAL;
	if ((flags & MM_MS_ASYNC) && (flags & MM_MS_SYNC))
		return -MM_EINVAL;
	len = MM_ALIGN_UP(len, MM_PAGE_SIZE);
	uint64_t end = start + len;
	if (end < start)
		return -MM_ENOMEM;
	int err = 0;
	uint64_t pos = start;
	while (pos < end) {
		struct sim_vma *v = sim_find_vma(mm, pos);
		if (!v || v->vm_start >= end)
			return -MM_ENOMEM;
		if (v->vm_start > pos)
			err = -MM_ENOMEM;
		/* MS_ASYNC starts the same writeback (it completes at once here) */
		if (flags & (MM_MS_SYNC | MM_MS_ASYNC))
			sim_vma_writeback(m, v, MM_MAX(pos, v->vm_start), MM_MIN(end, v->vm_end));
		pos = v->vm_end;
	}
	return err;
}
