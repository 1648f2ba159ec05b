/* oom.c — the OOM killer (Linux's mm/oom_kill.c) and /proc/PID/oom_score.
 *
 * When a page fault cannot get memory even after reclaim (an allocation
 * failed, and direct reclaim, the alloc_failed hook, frees nothing more or
 * is absent), the fault handler calls the OOM killer, which picks the
 * process whose death frees the most memory, kills it, and lets the fault
 * retry; if no process can be killed the fault fails with -MM_ENOMEM.
 *
 * Badness (oom_badness(), Linux 6.x):
 *
 *   points = rss + swapents + pgtables_bytes / PAGE_SIZE
 *            + oom_score_adj * (totalpages / 1000)
 *
 * rss counts anonymous, file and shmem pages mapped; totalpages is
 * totalram_pages() (MemTotal) + total_swap_pages (SwapTotal). A process
 * with oom_score_adj -1000 (OOM_SCORE_ADJ_MIN) is never chosen (badness
 * LONG_MIN); +1000 adds about all of memory, so such a process is chosen
 * first. select_bad_process() walks the processes in creation order and
 * keeps the last with the highest points (`points < chosen` skips), as
 * for_each_process() does. /proc/PID/oom_score shows the badness scaled to
 * [0, 2000]: (1000 + points * 1000 / totalpages) * 2 / 3, and 0 for an
 * unkillable process (proc_oom_score(), fs/proc/base.c).
 *
 * Linux never picks init (pid 1) or kernel threads. mmsim has neither: a
 * process made by mm_task_create is not an init (nothing is reparented to
 * it) and pids just count from 1, so every process is a candidate; protect
 * one with oom_score_adj -1000, as init effectively is.
 *
 * The kill writes what Linux writes to the kernel log (dump_header without
 * the stack trace and show_mem, dump_tasks with the rss_anon/rss_file/
 * rss_shmem columns of Linux 6.8+, dump_oom_summary, __oom_kill_process,
 * the oom_reaper line), counts oom_kill in /proc/vmstat, and frees the
 * victim's memory at once, as exit (and the oom_reaper) would: its pages,
 * page tables, swap slots, VMAs, open files and its mm.
 *
 * The victim becomes a zombie: its struct mm_task stays valid (callers may
 * hold pointers to it) with no mm; mm_task_killed() is true, its siginfo
 * is SIGKILL (SI_KERNEL), every call that needs its address space returns
 * -MM_ESRCH, and mm_exit() reaps it (frees the task). It is off the task
 * list at once: ps, mm_find_task, the views of the machine and the OOM
 * killer no longer see it. When the victim is the faulting process itself,
 * its access returns -MM_ESRCH.
 *
 * Cost: O(processes) to choose; the kill costs what exit costs.
 * Reference: mm/oom_kill.c (oom_badness, select_bad_process, dump_tasks,
 * __oom_kill_process, oom_reap_task_mm), fs/proc/base.c (proc_oom_score),
 * include/linux/gfp_types.h and include/trace/events/mmflags.h (the gfp
 * names printed by %pGg).
 */
#include <stdint.h>
#include <stdio.h>

#include "sim_internal.h"

#define BADNESS_MIN INT64_MIN   /* Linux's LONG_MIN: never kill */

/* ---- gfp masks as Linux prints them ------------------------------------------ */

/* Linux's ___GFP_* bit values (6.x, before the 6.10 renumbering). */
enum {
	LGFP_DMA = 0x01, LGFP_HIGHMEM = 0x02, LGFP_DMA32 = 0x04, LGFP_MOVABLE = 0x08,
	LGFP_RECLAIMABLE = 0x10, LGFP_HIGH = 0x20, LGFP_IO = 0x40, LGFP_FS = 0x80,
	LGFP_ZERO = 0x100, LGFP_DIRECT_RECLAIM = 0x400, LGFP_KSWAPD_RECLAIM = 0x800,
	LGFP_NOWARN = 0x2000, LGFP_COMP = 0x40000, LGFP_HARDWALL = 0x100000,
	LGFP_RECLAIM = LGFP_DIRECT_RECLAIM | LGFP_KSWAPD_RECLAIM,
	LGFP_KERNEL = LGFP_RECLAIM | LGFP_IO | LGFP_FS,
	LGFP_USER = LGFP_KERNEL | LGFP_HARDWALL,
	LGFP_HIGHUSER = LGFP_USER | LGFP_HIGHMEM,
	LGFP_HIGHUSER_MOVABLE = LGFP_HIGHUSER | LGFP_MOVABLE,
	LGFP_ATOMIC = LGFP_HIGH | LGFP_KSWAPD_RECLAIM,
	LGFP_NOWAIT = LGFP_KSWAPD_RECLAIM,
};

/* The Linux gfp mask an mmkit one stands for: a sleeping allocation may
 * reclaim and do I/O (GFP_KERNEL), user pages are hardwalled, and user
 * pages come as folios (__GFP_COMP). */
static uint32_t linux_gfp(mm_gfp_t gfp)
{
	uint32_t g = 0;
	if (gfp & MM_GFP_ATOMIC)
		g |= LGFP_ATOMIC;
	else if (gfp & MM_GFP_NOWAIT)
		g |= LGFP_NOWAIT;
	else
		g |= LGFP_KERNEL;
	if (gfp & MM_GFP_DMA)
		g |= LGFP_DMA;
	if (gfp & MM_GFP_DMA32)
		g |= LGFP_DMA32;
	if (gfp & MM_GFP_HIGHMEM)
		g |= LGFP_HIGHMEM;
	if (gfp & MM_GFP_MOVABLE)
		g |= LGFP_MOVABLE | LGFP_HARDWALL | LGFP_COMP;
	if (gfp & MM_GFP_RECLAIMABLE)
		g |= LGFP_RECLAIMABLE;
	if (gfp & MM_GFP_HIGH)
		g |= LGFP_HIGH;
	if (gfp & MM_GFP_ZERO)
		g |= LGFP_ZERO;
	if (gfp & MM_GFP_NOWARN)
		g |= LGFP_NOWARN;
	return g;
}

/* %pGg: composite names first, then single flags, in Linux's table order;
 * each name takes its bits out of the mask. */
static void format_gfp(uint32_t g, char *buf, size_t size)
{
	static const struct { uint32_t mask; const char *name; } names[] = {
		{ LGFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE" },
		{ LGFP_HIGHUSER, "GFP_HIGHUSER" },
		{ LGFP_USER, "GFP_USER" },
		{ LGFP_KERNEL, "GFP_KERNEL" },
		{ LGFP_ATOMIC, "GFP_ATOMIC" },
		{ LGFP_NOWAIT, "GFP_NOWAIT" },
		{ LGFP_DMA, "GFP_DMA" },
		{ LGFP_HIGHMEM, "__GFP_HIGHMEM" },
		{ LGFP_DMA32, "GFP_DMA32" },
		{ LGFP_HIGH, "__GFP_HIGH" },
		{ LGFP_IO, "__GFP_IO" },
		{ LGFP_FS, "__GFP_FS" },
		{ LGFP_NOWARN, "__GFP_NOWARN" },
		{ LGFP_COMP, "__GFP_COMP" },
		{ LGFP_ZERO, "__GFP_ZERO" },
		{ LGFP_HARDWALL, "__GFP_HARDWALL" },
		{ LGFP_RECLAIMABLE, "__GFP_RECLAIMABLE" },
		{ LGFP_MOVABLE, "__GFP_MOVABLE" },
		{ LGFP_RECLAIM, "__GFP_RECLAIM" },
		{ LGFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM" },
		{ LGFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM" },
	};
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < MM_ARRAY_SIZE(names) && g; i++) {
		if ((g & names[i].mask) != names[i].mask)
			continue;
		int w = snprintf(buf + n, size - n, "%s%s", n ? "|" : "", names[i].name);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
		g &= ~names[i].mask;
	}
}

/* ---- badness ------------------------------------------------------------------ */

/* total_swap_pages: SwapTotal. */
static uint64_t total_swap_pages(struct mm_machine *m)
{
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	return si.total_pages;
}

/* totalram_pages() + total_swap_pages. */
static uint64_t oom_totalpages(struct mm_machine *m)
{
	uint64_t ram = m->nr_pages - mm_buddy_reserved_pages(m->buddy) - m->boot_pages;
	return ram + total_swap_pages(m);
}

static uint64_t mm_rss(const struct sim_mm *mm)
{
	return (uint64_t)(mm->rss[MM_ANONPAGES] + mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES]);
}

/* oom_badness(): BADNESS_MIN for a process that must not be killed. */
static int64_t oom_badness(const struct mm_task *t, uint64_t totalpages)
{
	if (!t->mm || t->oom_score_adj == MM_OOM_SCORE_ADJ_MIN)
		return BADNESS_MIN;
	const struct sim_mm *mm = t->mm;
	/* mm->pgtables counts the root too: the figure VmPTE shows */
	int64_t points = (int64_t)(mm_rss(mm) + (uint64_t)mm->rss[MM_SWAPENTS] + mm->pgtables);
	return points + (int64_t)t->oom_score_adj * (int64_t)(totalpages / 1000);
}

unsigned long mm_task_oom_score(struct mm_machine *m, struct mm_task *t)
{
	uint64_t total = MM_MAX(oom_totalpages(m), 1);
	int64_t badness = oom_badness(t, total);
	if (badness == BADNESS_MIN)
		return 0;
	int64_t points = (1000 + badness * 1000 / (int64_t)total) * 2 / 3;
	return points > 0 ? (unsigned long)points : 0;
}

int mm_task_set_oom_score_adj(struct mm_task *t, int adj)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (adj < MM_OOM_SCORE_ADJ_MIN || adj > MM_OOM_SCORE_ADJ_MAX)
		return -MM_EINVAL;
	t->oom_score_adj = (int16_t)adj;
	return 0;
}

int mm_task_oom_score_adj(const struct mm_task *t)
{
	return t->oom_score_adj;
}

bool mm_task_killed(const struct mm_task *t)
{
	return task_dead(t);
}

/* ---- the report ------------------------------------------------------------------- */

static uint64_t kb(uint64_t pages)
{
	return pages << (MM_PAGE_SHIFT - 10);
}

static void dump_header(struct mm_machine *m, struct mm_task *cur, unsigned int order, mm_gfp_t gfp)
{
	char names[256];
	uint32_t g = linux_gfp(gfp);
	format_gfp(g, names, sizeof(names));
	/* with no process running, the idle task (pid 0) is current */
	mm_klog(m, "%s invoked oom-killer: gfp_mask=%#x(%s), order=%u, oom_score_adj=%d",
		cur ? cur->comm : "swapper/0", g, names, order, cur ? cur->oom_score_adj : 0);
	mm_klog(m, "Tasks state (memory values in pages):");
	mm_klog(m, "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
		   "pgtables_bytes swapents oom_score_adj name");
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node) {
		const struct sim_mm *mm = t->mm;
		mm_klog(m, "[%7d] %5d %5d %8llu %8llu %8llu %8llu %9llu %8llu %8llu         %5d %s",
			t->pid, 0, t->pid, (unsigned long long)mm->total_vm,
			(unsigned long long)mm_rss(mm), (unsigned long long)mm->rss[MM_ANONPAGES],
			(unsigned long long)mm->rss[MM_FILEPAGES],
			(unsigned long long)mm->rss[MM_SHMEMPAGES],
			(unsigned long long)(mm->pgtables << MM_PAGE_SHIFT),
			(unsigned long long)mm->rss[MM_SWAPENTS], t->oom_score_adj, t->comm);
	}
}

/* ---- the kill -------------------------------------------------------------------- */

static struct mm_task *select_bad_process(struct mm_machine *m)
{
	uint64_t total = MM_MAX(oom_totalpages(m), 1);
	struct mm_task *t, *chosen = NULL;
	int64_t chosen_points = BADNESS_MIN;
	mm_list_for_each_entry(t, &m->tasks, node) {
		int64_t points = oom_badness(t, total);
		if (points == BADNESS_MIN || points < chosen_points)
			continue;
		chosen = t;
		chosen_points = points;
	}
	return chosen;
}

/* __oom_kill_process() and the oom_reaper, done at once. */
static void oom_kill_process(struct mm_machine *m, struct mm_task *victim)
{
	const struct sim_mm *mm = victim->mm;
	mm_klog(m, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
		   "global_oom,task_memcg=/,task=%s,pid=%d,uid=0",
		victim->comm, victim->pid);
	m->oom_kill++;
	mm_klog(m, "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
		   "file-rss:%llukB, shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d",
		victim->pid, victim->comm, (unsigned long long)kb(mm->total_vm),
		(unsigned long long)kb((uint64_t)mm->rss[MM_ANONPAGES]),
		(unsigned long long)kb((uint64_t)mm->rss[MM_FILEPAGES]),
		(unsigned long long)kb((uint64_t)mm->rss[MM_SHMEMPAGES]),
		(unsigned long long)kb(mm->pgtables), victim->oom_score_adj);
	sim_exit_task(m, victim);
	victim->sig = (struct mm_siginfo){ MM_SIGKILL, MM_SI_KERNEL, 0, 0 };
	mm_list_add_tail(&victim->node, &m->zombies);
	mm_klog(m, "oom_reaper: reaped process %d (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
		victim->pid, victim->comm);
}

int sim_out_of_memory(struct mm_machine *m, struct mm_task *cur, unsigned int order, mm_gfp_t gfp)
{
	struct mm_task *victim = select_bad_process(m);
	dump_header(m, cur, order, gfp);
	if (!victim) {
		/* Linux panics here ("System is deadlocked on memory"); the
		 * allocation fails instead */
		mm_klog(m, "Out of memory and no killable processes...");
		return 0;
	}
	int pid = victim->pid;
	oom_kill_process(m, victim);
	return pid;
}

int mm_out_of_memory(struct mm_machine *m, unsigned int order, mm_gfp_t gfp)
{
	return sim_out_of_memory(m, m->cpu.current, order, gfp);
}

bool sim_oom_retry(struct mm_machine *m, struct mm_task *t, unsigned int *reclaims)
{
	/* allocations outside the alloc_failed retry (page tables, slab
	 * pages) get their direct reclaim here, as __alloc_pages_slowpath()
	 * reclaims before it calls the OOM killer. A user page (movable)
	 * already had it, with the fault's pages held: reclaiming again here,
	 * with nothing held, could evict the page the fault is about (a clean
	 * swap-cache page being copied on write) and the fault would never
	 * make progress. */
	bool user = (m->oom_gfp & MM_GFP_MOVABLE) != 0;
	if (!user && *reclaims < SIM_RECLAIM_RETRIES && m->hooks.alloc_failed &&
	    m->hooks.alloc_failed(m->hooks.ctx, m->oom_order, m->oom_gfp)) {
		(*reclaims)++;
		return true;
	}
	return sim_out_of_memory(m, t, m->oom_order, m->oom_gfp) != 0;
}
