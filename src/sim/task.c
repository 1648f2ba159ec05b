/* task.c — processes: creation, the synthetic executable layout, fork with
 * copy-on-write, and exit.
 *
 * fork (Linux's dup_mm -> dup_mmap -> copy_page_range) copies every VMA and,
 * for VMAs that hold anonymous pages (vma->anon_vma), the page tables below
 * them: each present PTE is duplicated into freshly allocated child tables,
 * the frame gains a reference, a mapcount and a reverse-map item, and in a
 * COW mapping (private and may-write) a writable PTE is write-protected in
 * both parent and child (copy_present_pte). The child's PTEs are made old
 * (A clear), shared ones clean. VMAs without anonymous pages are not copied:
 * the child refaults them (the zero page, later the page cache). The
 * parent's TLB is flushed once at the end. No data is copied: COW copies a
 * page when one side writes it (fault.c).
 *
 * exit (exit_mmap) zaps every VMA, frees every user page-table page and the
 * root, the VMAs, the mm and the task. Afterwards the machine's free memory
 * is what it was before the process existed (tested).
 *
 * Cost: fork O(VMAs + present PTEs); exit O(VMAs + PTEs + tables).
 * Reference: kernel/fork.c (dup_mmap), mm/memory.c (copy_page_range,
 * copy_present_pte), mm/mmap.c (exit_mmap), fs/binfmt_elf.c (layout),
 * arch/x86/mm/mmap.c (mmap_base).
 */
#include <stdio.h>

#include "sim_internal.h"

/* ---- mm -------------------------------------------------------------------------- */

/* mmap_base(): below the stack's rlimit and guard gap, at least 128 MiB and
 * at most 5/6 of the space (no randomisation). */
static uint64_t mmap_base(const struct mm_machine *m)
{
	uint64_t size = m->lay.map_window;
	uint64_t gap = m->cfg.stack_rlimit + m->cfg.stack_guard_gap;
	uint64_t gmin = 128ULL << 20, gmax = size / 6 * 5;
	gap = MM_MAX(gmin, MM_MIN(gap, gmax));
	return MM_ALIGN_DOWN(size - gap, MM_PAGE_SIZE);
}

struct sim_mm *sim_mm_alloc(struct mm_machine *m)
{
	struct sim_mm *mm = mm_kmem_cache_alloc(m->mm_cache, MM_GFP_ZERO);
	if (!mm)
		return NULL;
	mm->mm_rb = MM_RB_ROOT;
	mm_list_init(&mm->vmas);
	mm->task_size = m->lay.task_size;
	mm->mmap_base = mmap_base(m);
	mm->stack_guard = m->cfg.stack_guard_gap;
	mm->ctx_id = m->next_ctx_id++;
	if (sim_pgd_alloc(m, mm)) {
		mm_kmem_cache_free(m->mm_cache, mm);
		return NULL;
	}
	return mm;
}

void sim_exit_mmap(struct mm_machine *m, struct sim_mm *mm)
{
	struct sim_vma *v;
	while ((v = vma_first(mm))) {
		sim_zap_range(m, mm, v->vm_start, v->vm_end);
		sim_vma_writeback(m, v, v->vm_start, v->vm_end);
		sim_vm_stat_account(mm, v->vm_flags, -(int64_t)vma_pages(v));
		sim_vma_unlink(mm, v);
		sim_vma_free(m, v);
	}
	uint64_t top = (uint64_t)m->pg.user_pgd_entries << m->pg.shift[m->pg.levels - 1];
	sim_free_pgtables(m, mm, 0, top, 0, top);
}

void sim_mm_free(struct mm_machine *m, struct sim_mm *mm)
{
	sim_exit_mmap(m, mm);
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		MM_BUG_ON(mm->rss[i] != 0);
	if (m->cpu.cr3_pfn == mm->pgd_pfn) {
		m->cpu.current = NULL;
		sim_switch_mm(m, NULL);
	}
	sim_release_asid(m, mm);
	sim_pgd_free(m, mm);
	MM_BUG_ON(mm->pgtables != 0);
	mm_kmem_cache_free(m->mm_cache, mm);
}

/* ---- tasks ---------------------------------------------------------------------------- */

static struct mm_task *task_alloc(struct mm_machine *m, const char *name)
{
	struct mm_task *t = mm_kmem_cache_alloc(m->task_cache, MM_GFP_ZERO);
	if (!t)
		return NULL;
	t->pid = m->next_pid++;
	snprintf(t->comm, sizeof(t->comm), "%s", name ? name : "");
	mm_list_init(&t->node);
	return t;
}

int mm_task_create(struct mm_machine *m, const char *name, struct mm_task **out)
{
	struct mm_task *t = task_alloc(m, name);
	if (!t)
		return -MM_ENOMEM;
	t->mm = sim_mm_alloc(m);
	if (!t->mm) {
		m->next_pid--;
		mm_kmem_cache_free(m->task_cache, t);
		return -MM_ENOMEM;
	}
	t->mm->owner = t;
	t->task_size = t->mm->task_size;
	sim_seg_init_task(m, t);
	mm_list_add_tail(&t->node, &m->tasks);
	m->nr_tasks++;
	*out = t;
	return 0;
}

static void counters_add(struct mm_counters *a, const struct mm_counters *b)
{
	const uint64_t *s = (const uint64_t *)b;
	uint64_t *d = (uint64_t *)a;
	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

void sim_exit_task(struct mm_machine *m, struct mm_task *t)
{
	if (m->cpu.current == t)
		m->cpu.current = NULL;
	for (int fd = 0; fd < SIM_MAX_FILES; fd++)
		if (t->files[fd].map)
			mm_close(m, t, fd);
	sim_mm_free(m, t->mm);
	t->mm = NULL;
	t->task_size = 0;
	counters_add(&m->dead, &t->cnt);
	mm_list_del(&t->node);
	m->nr_tasks--;
	m->nr_exits++;
}

void mm_exit(struct mm_machine *m, struct mm_task *t)
{
	if (task_dead(t))
		mm_list_del(&t->node);   /* an OOM victim: reaped off machine->zombies */
	else
		sim_exit_task(m, t);
	mm_kmem_cache_free(m->task_cache, t);
}

/* ---- the synthetic executable ---------------------------------------------------------- */

static int add_vma(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		   uint64_t flags, uint8_t kind)
{
	struct sim_vma *v = sim_vma_alloc(m);
	if (!v)
		return -MM_ENOMEM;
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
	v->vm_pgoff = start >> MM_PAGE_SHIFT;
	v->kind = kind;
	sim_vma_link(mm, v);
	sim_vm_stat_account(mm, flags, (int64_t)vma_pages(v));
	return 0;
}

int mm_exec_synthetic(struct mm_machine *m, struct mm_task *t, uint64_t text_bytes,
		      uint64_t data_bytes, uint64_t bss_bytes)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_mm *mm = t->mm;
	if (mm->map_count)
		return -MM_EINVAL;
	uint64_t text = MM_ALIGN_UP(MM_MAX(text_bytes, 1), MM_PAGE_SIZE);
	uint64_t data = MM_ALIGN_UP(data_bytes, MM_PAGE_SIZE);
	uint64_t bss = MM_ALIGN_UP(bss_bytes, MM_PAGE_SIZE);
	uint64_t base = m->lay.elf_base;
	uint64_t stack_top = m->lay.map_window;    /* STACK_TOP, no randomisation */
	uint64_t stack_size = 132ULL << 10;        /* one page of arguments + 128 KiB */
	if (base + text + data + bss >= mmap_base(m) - (64ULL << 20))
		return -MM_EINVAL;
	const uint64_t may = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	int err = add_vma(m, mm, base, base + text, VM_READ | VM_EXEC | may, VMA_TEXT);
	uint64_t p = base + text;
	if (!err && data)
		err = add_vma(m, mm, p, p + data, VM_READ | VM_WRITE | may | VM_ACCOUNT, VMA_DATA);
	p += data;
	if (!err && bss)
		err = add_vma(m, mm, p, p + bss, VM_READ | VM_WRITE | may | VM_ACCOUNT, VMA_BSS);
	p += bss;
	if (!err)
		err = add_vma(m, mm, stack_top - stack_size, stack_top,
			      VM_READ | VM_WRITE | may | VM_GROWSDOWN | VM_ACCOUNT, VMA_STACK);
	if (err) {
		sim_exit_mmap(m, mm);
		return err;
	}
	mm->start_code = base;
	mm->end_code = base + text;
	mm->start_data = base + text;
	mm->end_data = base + text + data;
	mm->start_brk = mm->brk = p;
	mm->start_stack = stack_top - 16;
	return 0;
}

/* ---- fork -------------------------------------------------------------------------------- */

struct copy_arg {
	struct sim_mm *dst;
	struct sim_vma *vma;
	int err;
};

static void copy_one(struct mm_machine *m, struct sim_mm *src, uint64_t va, unsigned int lvl,
		 void *sep, void *arg)
{
	struct copy_arg *ca = arg;
	if (ca->err)
		return;
	void *dep = sim_entry_alloc(m, ca->dst, va, lvl);
	if (!dep) {
		ca->err = -MM_ENOMEM;
		return;
	}
	uint64_t e = ent_get(m, sep);
	if (!pte_present_sw(e)) {
		/* a swap entry: copy_nonpresent_pte() -> swap_duplicate() */
		if (m->hooks.swap_dup && m->hooks.swap_dup(m->hooks.ctx, e)) {
			ca->err = -MM_ENOMEM;
			return;
		}
		ent_set(m, dep, e);
		ca->dst->rss[MM_SWAPENTS]++;
		return;
	}
	uint64_t pfn = ent_pfn(m, e);
	if (pfn != m->zero_pfn) {
		if (sim_rmap_add(m, pfn, ca->dst, va)) {
			ca->err = -MM_ENOMEM;
			return;
		}
		struct mm_page *p = pfn_page(m, pfn);
		mm_page_get(p);
		p->mapcount++;
		if (mm_page_test_flag(p, SIM_PG_HUGE))
			ca->dst->huge_pages++;
		else
			ca->dst->rss[sim_rss_kind(p)]++;
	}
	uint64_t f = ca->vma->vm_flags;
	bool cow = (f & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
	if (cow && (e & PTE_RW)) {
		e &= ~PTE_RW;
		ent_set(m, sep, e);
	}
	if (f & VM_SHARED)
		e &= ~PTE_D;
	e &= ~PTE_A;
	ent_set(m, dep, e);
	(void)src;
}

static int do_fork(struct mm_machine *m, struct mm_task *parent, struct mm_task **out)
{
	if (task_dead(parent))
		return -MM_ESRCH;
	struct mm_task *t = task_alloc(m, parent->comm);
	if (!t)
		return -MM_ENOMEM;
	struct sim_mm *mm = sim_mm_alloc(m), *pm = parent->mm;
	if (!mm) {
		mm_kmem_cache_free(m->task_cache, t);
		return -MM_ENOMEM;
	}
	mm->owner = t;
	t->mm = mm;
	t->task_size = mm->task_size;
	t->ppid = parent->pid;
	t->oom_score_adj = parent->oom_score_adj;
	memcpy(t->seg, parent->seg, sizeof(t->seg));
	t->fs_base = parent->fs_base;
	t->gs_base = parent->gs_base;
	mm->mmap_base = pm->mmap_base;
	mm->start_code = pm->start_code;
	mm->end_code = pm->end_code;
	mm->start_data = pm->start_data;
	mm->end_data = pm->end_data;
	mm->start_brk = pm->start_brk;
	mm->brk = pm->brk;
	mm->start_stack = pm->start_stack;
	for (int fd = 0; fd < SIM_MAX_FILES; fd++) {
		t->files[fd] = parent->files[fd];
		if (t->files[fd].map)
			sim_mapping_get(t->files[fd].map);
	}
	int err = 0;
	for (struct sim_vma *v = vma_first(pm); v && !err; v = vma_next(pm, v)) {
		if (v->vm_flags & VM_DONTCOPY)
			continue;
		struct sim_vma *n = sim_vm_area_dup(m, v);
		if (!n) {
			err = -MM_ENOMEM;
			break;
		}
		sim_vma_link(mm, n);
		sim_vm_stat_account(mm, n->vm_flags, (int64_t)vma_pages(n));
		if (v->anon_vma) {
			struct copy_arg ca = { mm, v, 0 };
			sim_for_each_pte_any(m, pm, v->vm_start, v->vm_end, copy_one, &ca);
			err = ca.err;
		}
	}
	/* the parent's write-protected PTEs must leave its TLB entries */
	sim_flush_tlb_mm(m, pm);
	if (err) {
		for (int fd = 0; fd < SIM_MAX_FILES; fd++)
			if (t->files[fd].map)
				mm_close(m, t, fd);
		sim_mm_free(m, mm);
		m->next_pid--;
		mm_kmem_cache_free(m->task_cache, t);
		return err;
	}
	mm->hiwater_rss = mm->rss[MM_ANONPAGES] + mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES];
	mm_list_add_tail(&t->node, &m->tasks);
	m->nr_tasks++;
	m->nr_forks++;
	*out = t;
	return 0;
}

int mm_fork(struct mm_machine *m, struct mm_task *parent, struct mm_task **out)
{
	/* copy_process()'s allocations (task, mm, VMAs, page tables, reverse-map
	 * items) reclaim when memory is short: a fork that failed for memory
	 * (leaving nothing behind) is retried after direct reclaim (the
	 * alloc_failed hook) while that frees something, then, as
	 * __alloc_pages_slowpath() does for GFP_KERNEL, after the OOM killer
	 * has killed a process (the parent itself, perhaps: -MM_ESRCH) */
	unsigned int tries = 0;
	for (;;) {
		int err = do_fork(m, parent, out);
		if (err != -MM_ENOMEM)
			return err;
		if (tries < SIM_RECLAIM_RETRIES && m->hooks.alloc_failed &&
		    m->hooks.alloc_failed(m->hooks.ctx, 0, MM_GFP_KERNEL)) {
			tries++;
			continue;
		}
		if (!sim_out_of_memory(m, parent, 0, MM_GFP_KERNEL))
			return err;
		if (task_dead(parent))
			return -MM_ESRCH;
		tries = 0;
	}
}

/* ---- accessors ------------------------------------------------------------------------- */

int mm_task_pid(const struct mm_task *t)
{
	return t->pid;
}

uint64_t mm_task_start_stack(const struct mm_task *t)
{
	return task_dead(t) ? 0 : t->mm->start_stack;
}

const char *mm_task_comm(const struct mm_task *t)
{
	return t->comm;
}

const struct mm_siginfo *mm_task_siginfo(const struct mm_task *t)
{
	return &t->sig;
}

struct mm_task *mm_find_task(struct mm_machine *m, int pid)
{
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		if (t->pid == pid)
			return t;
	return NULL;
}

void mm_task_mem(const struct mm_task *t, struct mm_task_mem *out)
{
	const struct sim_mm *mm = t->mm;
	if (task_dead(t)) {
		memset(out, 0, sizeof(*out));   /* an OOM victim: no memory left */
		return;
	}
	out->rss_anon = (uint64_t)mm->rss[MM_ANONPAGES];
	out->rss_file = (uint64_t)mm->rss[MM_FILEPAGES];
	out->rss_shmem = (uint64_t)mm->rss[MM_SHMEMPAGES];
	out->swap_ents = (uint64_t)mm->rss[MM_SWAPENTS];
	out->total_vm = mm->total_vm;
	out->pgtables = mm->pgtables;
	out->map_count = (unsigned int)mm->map_count;
}

int mm_set_brk_base(struct mm_machine *m, struct mm_task *t, uint64_t start)
{
	struct sim_mm *mm = t->mm;
	if (start & ~MM_PAGE_MASK || start < m->cfg.mmap_min_addr || start >= mm->task_size)
		return -MM_EINVAL;
	if (mm->brk > mm->start_brk)
		return -MM_EBUSY;
	mm->start_brk = mm->brk = start;
	return 0;
}

void mm_task_counters(const struct mm_task *t, struct mm_counters *out)
{
	*out = t->cnt;
}

void mm_machine_counters(const struct mm_machine *m, struct mm_counters *out)
{
	*out = m->dead;
	counters_add(out, &m->kcnt);
	const struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		counters_add(out, &t->cnt);
}

void mm_machine_tlb_stats(const struct mm_machine *m, struct mm_tlb_stats *out)
{
	*out = m->tlbst;
}

void mm_machine_set_reclaim_hooks(struct mm_machine *m, const struct mm_reclaim_hooks *h)
{
	if (h)
		m->hooks = *h;
	else
		memset(&m->hooks, 0, sizeof(m->hooks));
}
