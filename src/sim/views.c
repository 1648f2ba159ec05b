/* views.c — the machine seen through Linux's /proc files and tools, in their
 * exact layouts (fs/proc/meminfo.c, task_mmu.c, array.c, mm/vmstat.c,
 * procps free and ps), computed from the same counters so the numbers agree
 * with each other: AnonPages is the sum of RssAnon over processes minus
 * sharing (frames, not mappings), PageTables the sum of VmPTE, and so on.
 *
 * Each function writes with snprintf semantics into the caller's buffer
 * and returns the length of the whole text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "sim_internal.h"

struct out {
	char *buf;
	size_t size, len;
};

MM_PRINTF(2, 3)
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static size_t done(struct out *o)
{
	/* terminated even when nothing was written (a process without VMAs) */
	if (o->size)
		o->buf[o->len < o->size ? o->len : o->size - 1] = 0;
	return o->len;
}

static uint64_t kb(uint64_t pages)
{
	return pages << (MM_PAGE_SHIFT - 10);
}

/* ---- /proc/meminfo ------------------------------------------------------------------ */

size_t mm_show_meminfo(struct mm_machine *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	uint64_t avail = mi.available_pages;
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	/* the LRU lists (reclaim.c); with reclaim off every page counts active */
	struct mm_reclaim_stats rs;
	mm_machine_reclaim_stats(m, &rs);
	uint64_t aa = mi.anon_pages + mi.shmem_pages, ia = 0;
	uint64_t af = mi.cached_pages - mi.shmem_pages, inf = 0, unev = 0;
	if (m->rc) {
		aa = rs.nr_active_anon;
		ia = rs.nr_inactive_anon;
		af = rs.nr_active_file;
		inf = rs.nr_inactive_file;
		unev = rs.nr_unevictable;
	}
	struct { const char *name; uint64_t pages; } rows[] = {
		{ "MemTotal", mi.total_pages },   { "MemFree", mi.free_pages },
		{ "MemAvailable", avail },        { "Buffers", 0 },
		{ "Cached", mi.cached_pages },    { "SwapCached", si.cached_pages },
		{ "Active", aa + af },            { "Inactive", ia + inf },
		{ "Active(anon)", aa },           { "Inactive(anon)", ia },
		{ "Active(file)", af },           { "Inactive(file)", inf },
		{ "Unevictable", unev },          { "Mlocked", 0 },
		/* CONFIG_HIGHMEM (32-bit only): High* and Low* rows */
		{ "HighTotal", mi.high_total_pages }, { "HighFree", mi.high_free_pages },
		{ "LowTotal", mi.total_pages - mi.high_total_pages },
		{ "LowFree", mi.free_pages - mi.high_free_pages },
		{ "SwapTotal", si.total_pages },  { "SwapFree", si.free_pages },
		{ "Zswap", 0 },                   { "Zswapped", 0 },
		{ "Dirty", mi.dirty_pages },      { "Writeback", 0 },
		{ "AnonPages", mi.anon_pages },   { "Mapped", mi.mapped_pages },
		{ "Shmem", mi.shmem_pages },      { "KReclaimable", 0 },
		{ "Slab", mi.slab_pages },        { "SReclaimable", 0 },
		{ "SUnreclaim", mi.slab_pages },  { "KernelStack", 0 },
		{ "PageTables", mi.pagetable_pages }, { "SecPageTables", 0 },
		{ "NFS_Unstable", 0 },            { "Bounce", 0 },
		{ "WritebackTmp", 0 },
		{ "CommitLimit", mi.commit_limit }, { "Committed_AS", mi.committed_as },
	};
	bool highmem = m->cfg.paging == MM_PAGING_2LEVEL;
	for (size_t i = 0; i < MM_ARRAY_SIZE(rows); i++) {
		if (!highmem && (!strncmp(rows[i].name, "High", 4) || !strncmp(rows[i].name, "Low", 3)))
			continue;
		char label[24];
		snprintf(label, sizeof(label), "%s:", rows[i].name);
		put(&o, "%-16s%8llu kB\n", label, (unsigned long long)kb(rows[i].pages));
	}
	/* Linux's VMALLOC_END is the last byte: (VMALLOC_END - VMALLOC_START) >> 10 */
	uint64_t vm_total = (m->lay.vmalloc_end - 1 - m->lay.vmalloc_start) >> 10;
	put(&o, "%-16s%8llu kB\n", "VmallocTotal:", (unsigned long long)vm_total);
	put(&o, "%-16s%8llu kB\n", "VmallocUsed:", (unsigned long long)kb(m->vmalloc_pages));
	/* rows of features mmsim does not have (per-CPU areas, transparent
	 * huge pages), zero as on a kernel where they are idle */
	static const char *const zero_rows[] = { "VmallocChunk:", "Percpu:", "AnonHugePages:",
						 "ShmemHugePages:", "ShmemPmdMapped:",
						 "FileHugePages:", "FilePmdMapped:", "Balloon:" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(zero_rows); i++)
		put(&o, "%-16s%8llu kB\n", zero_rows[i], 0ULL);
	put(&o, "HugePages_Total:   %5llu\nHugePages_Free:    %5llu\nHugePages_Rsvd:        0\n"
		"HugePages_Surp:        0\n", (unsigned long long)m->huge_total,
	    (unsigned long long)m->huge_free);
	put(&o, "%-16s%8llu kB\n", "Hugepagesize:",
	    (unsigned long long)(level_size(m, 1) >> 10));
	put(&o, "%-16s%8llu kB\n", "Hugetlb:",
	    (unsigned long long)((m->huge_total << m->huge_shift) >> 10));
	/* arch_report_meminfo(): leaf sizes of the direct map; 32-bit non-PAE
	 * says 4M, and the 1G row shows only with gbpages */
	put(&o, "%-16s%8llu kB\n", "DirectMap4k:",
	    (unsigned long long)((m->direct_map_leaves[0] * level_size(m, 0)) >> 10));
	put(&o, "%-16s%8llu kB\n", m->pg.levels == 2 ? "DirectMap4M:" : "DirectMap2M:",
	    (unsigned long long)((m->direct_map_leaves[1] * level_size(m, 1)) >> 10));
	if (m->pg.levels > 2 && m->cfg.gbpages)
		put(&o, "%-16s%8llu kB\n", "DirectMap1G:",
		    (unsigned long long)((m->direct_map_leaves[2] * level_size(m, 2)) >> 10));
	return done(&o);
}

/* ---- free ------------------------------------------------------------------------------ */

size_t mm_show_free(struct mm_machine *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	uint64_t total = kb(mi.total_pages), fr = kb(mi.free_pages);
	/* procps-ng 4: buff/cache = Buffers + Cached + SReclaimable (0 and 0
	 * here), available = MemAvailable, used = total - available
	 * (linux-formats/free.txt; 3.3 used total - free - buff/cache) */
	uint64_t cache = kb(mi.cached_pages);
	uint64_t avail = kb(mi.available_pages);
	uint64_t used = total - avail;
	put(&o, "               total        used        free      shared  buff/cache   available\n");
	put(&o, "Mem:    %12llu%12llu%12llu%12llu%12llu%12llu\n", (unsigned long long)total,
	    (unsigned long long)used, (unsigned long long)fr, (unsigned long long)kb(mi.shmem_pages),
	    (unsigned long long)cache, (unsigned long long)avail);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	put(&o, "Swap:   %12llu%12llu%12llu\n", (unsigned long long)kb(si.total_pages),
	    (unsigned long long)kb(si.total_pages - si.free_pages),
	    (unsigned long long)kb(si.free_pages));
	return done(&o);
}

/* ---- /proc/vmstat ------------------------------------------------------------------------- */

size_t mm_show_vmstat(struct mm_machine *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	struct mm_counters c;
	mm_machine_counters(m, &c);
	struct mm_tlb_stats t = m->tlbst;
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	struct mm_reclaim_stats rs;
	mm_machine_reclaim_stats(m, &rs);
	/* the rows mmsim has, in the order of mm/vmstat.c's vmstat_text */
	put(&o, "nr_free_pages %llu\n", (unsigned long long)mi.free_pages);
	put(&o, "nr_inactive_anon %llu\nnr_active_anon %llu\nnr_inactive_file %llu\n"
		"nr_active_file %llu\nnr_unevictable %llu\n", (unsigned long long)rs.nr_inactive_anon,
	    (unsigned long long)rs.nr_active_anon, (unsigned long long)rs.nr_inactive_file,
	    (unsigned long long)rs.nr_active_file, (unsigned long long)rs.nr_unevictable);
	put(&o, "nr_slab_unreclaimable %llu\n", (unsigned long long)mi.slab_pages);
	put(&o, "nr_anon_pages %llu\n", (unsigned long long)mi.anon_pages);
	put(&o, "nr_mapped %llu\n", (unsigned long long)mi.mapped_pages);
	put(&o, "nr_file_pages %llu\n", (unsigned long long)mi.cached_pages);
	/* writes are synchronous: nothing is ever under writeback */
	put(&o, "nr_dirty %llu\nnr_writeback 0\n", (unsigned long long)mi.dirty_pages);
	put(&o, "nr_shmem %llu\n", (unsigned long long)mi.shmem_pages);
	put(&o, "nr_page_table_pages %llu\n", (unsigned long long)mi.pagetable_pages);
	put(&o, "nr_swapcached %llu\n", (unsigned long long)si.cached_pages);
	put(&o, "pgpgin %llu\npgpgout %llu\npswpin %llu\npswpout %llu\n", (unsigned long long)m->pgpgin,
	    (unsigned long long)m->pgpgout, (unsigned long long)si.pswpin,
	    (unsigned long long)si.pswpout);
	/* direct reclaim is entered by user-page allocations, whose highest
	 * zone (GFP_HIGHUSER_MOVABLE) is ZONE_MOVABLE */
	put(&o, "allocstall_dma 0\nallocstall_dma32 0\nallocstall_normal 0\nallocstall_movable %llu\n",
	    (unsigned long long)rs.allocstall);
	put(&o, "pgactivate %llu\npgdeactivate %llu\n", (unsigned long long)rs.pgactivate,
	    (unsigned long long)rs.pgdeactivate);
	put(&o, "pgfault %llu\n", (unsigned long long)m->pgfault);
	put(&o, "pgmajfault %llu\n", (unsigned long long)m->pgmajfault);
	put(&o, "pgrefill %llu\n", (unsigned long long)rs.pgrefill);
	put(&o, "pgsteal_kswapd %llu\npgsteal_direct %llu\npgscan_kswapd %llu\npgscan_direct %llu\n",
	    (unsigned long long)rs.pgsteal_kswapd, (unsigned long long)rs.pgsteal_direct,
	    (unsigned long long)rs.pgscan_kswapd, (unsigned long long)rs.pgscan_direct);
	put(&o, "pgscan_anon %llu\npgscan_file %llu\npgsteal_anon %llu\npgsteal_file %llu\n",
	    (unsigned long long)rs.pgscan_anon, (unsigned long long)rs.pgscan_file,
	    (unsigned long long)rs.pgsteal_anon, (unsigned long long)rs.pgsteal_file);
	put(&o, "pageoutrun %llu\npgrotated %llu\n", (unsigned long long)rs.pageoutrun,
	    (unsigned long long)rs.pgrotated);
	put(&o, "oom_kill %llu\n", (unsigned long long)m->oom_kill);
	put(&o, "nr_tlb_remote_flush %llu\n", (unsigned long long)t.shootdowns);
	put(&o, "nr_tlb_remote_flush_received %llu\n", (unsigned long long)t.shootdowns);
	put(&o, "nr_tlb_local_flush_all %llu\n", (unsigned long long)(t.full_flushes + t.pcid_flushes));
	put(&o, "nr_tlb_local_flush_one %llu\n", (unsigned long long)t.invlpg);
	/* mmsim's own, beyond Linux's list */
	put(&o, "mmsim_tlb_dtlb_hits %llu\n", (unsigned long long)c.dtlb_hits);
	put(&o, "mmsim_tlb_itlb_hits %llu\n", (unsigned long long)c.itlb_hits);
	put(&o, "mmsim_tlb_stlb_hits %llu\n", (unsigned long long)c.stlb_hits);
	put(&o, "mmsim_tlb_misses %llu\n", (unsigned long long)c.tlb_misses);
	put(&o, "mmsim_walk_refs %llu\n", (unsigned long long)c.walk_refs);
	put(&o, "mmsim_cr3_loads %llu\n", (unsigned long long)t.cr3_loads);
	put(&o, "mmsim_cow_copies %llu\n", (unsigned long long)c.cow_copies);
	put(&o, "mmsim_kswapd_wakeups %llu\n", (unsigned long long)rs.kswapd_wakeups);
	put(&o, "mmsim_swap_write_errors %llu\n", (unsigned long long)si.write_errors);
	put(&o, "mmsim_pgputback %llu\n", (unsigned long long)rs.putback);
	return done(&o);
}

/* ---- /proc/swaps ------------------------------------------------------------------------- */

size_t mm_show_swaps(struct mm_machine *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	/* swap_show(): the header, then one line per area (priority -2: the
	 * first area enabled without a priority gets -2) */
	put(&o, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	if (si.total_pages) {
		int len = (int)strlen(si.path);
		uint64_t bytes = kb(si.total_pages), inuse = kb(si.total_pages - si.free_pages);
		put(&o, "%s%*s%s\t%llu\t%s%llu\t%s%d\n", si.path, len < 40 ? 40 - len : 1, " ", "file\t",
		    (unsigned long long)bytes, bytes < 10000000 ? "\t" : "", (unsigned long long)inuse,
		    inuse < 10000000 ? "\t" : "", -2);
	}
	return done(&o);
}

/* ---- /proc/PID/maps ----------------------------------------------------------------------- */

static const char *vma_name(const struct sim_mm *mm, const struct sim_vma *v, char *buf, size_t n)
{
	if (v->shm) {
		snprintf(buf, n, "%s (deleted)", v->mapping->name);
		return buf;
	}
	if (v->mapping && v->mapping->kind == SIM_MAP_SHMEM)
		return "/dev/zero (deleted)";
	if (v->mapping)
		return v->mapping->name;
	if (v->kind == VMA_VVAR)
		return "[vvar]";
	if (v->kind == VMA_VVAR_VCLOCK)
		return "[vvar_vclock]";
	if (v->kind == VMA_VDSO)
		return "[vdso]";
	if (v->kind == VMA_STACK && v->vm_start <= mm->start_stack && v->vm_end >= mm->start_stack)
		return "[stack]";
	if (mm->brk > mm->start_brk && v->vm_start < MM_ALIGN_UP(mm->brk, MM_PAGE_SIZE) &&
	    v->vm_end > mm->start_brk)
		return "[heap]";
	return NULL;
}

/* The vsyscall page: x86-64's gate VMA, outside every mm (get_gate_vma),
 * execute-only as vsyscall=xonly (Linux's default) maps it, listed last in
 * maps and smaps of every 64-bit process. Returns false in 32-bit mode. */
#define GATE_START 0xffffffffff600000ULL
static bool put_gate_line(const struct mm_machine *m, struct out *o)
{
	if (m->pg.levels == 2)
		return false;
	put(o, "%08llx-%08llx --xp 00000000 00:00 0%*s[vsyscall]\n", GATE_START,
	    GATE_START + MM_PAGE_SIZE, 73 - 56 + 1, "");
	return true;
}

/* One /proc/PID/maps line for v: range, permissions, offset, device, inode,
 * then the name padded to column 73 as Linux's show_vma_header_prefix and
 * seq_pad do. Shared by maps and smaps. */
static void put_maps_line(struct out *o, struct sim_mm *mm, struct sim_vma *v)
{
	size_t start = o->len;
	uint64_t f = v->vm_flags;
	const struct sim_mapping *map = v->mapping;
	bool file = map && map->kind == SIM_MAP_FILE;
	put(o, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ", (unsigned long long)v->vm_start,
	    (unsigned long long)v->vm_end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
	    f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p',
	    (unsigned long long)(map ? v->vm_pgoff << MM_PAGE_SHIFT : 0),
	    file ? (unsigned int)major((dev_t)map->dev) : 0u,
	    file ? (unsigned int)minor((dev_t)map->dev) : 0u, (unsigned long long)(file ? map->ino : 0));
	char nbuf[512];
	const char *name = vma_name(mm, v, nbuf, sizeof(nbuf));
	if (name) {
		size_t w = o->len - start;
		put(o, "%*s%s", (int)(w < 73 ? 73 - w : 1), "", name);
	}
	put(o, "\n");
}

size_t mm_show_maps(struct mm_machine *m, struct mm_task *t, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct sim_mm *mm = t->mm;
	if (task_dead(t))
		return done(&o);   /* a zombie has no mm: empty, as Linux */
	for (struct sim_vma *v = vma_first(mm); v; v = vma_next(mm, v))
		put_maps_line(&o, mm, v);
	put_gate_line(m, &o);
	return done(&o);
}

/* ---- /proc/PID/status ------------------------------------------------------------------------ */

size_t mm_show_status(struct mm_machine *m, struct mm_task *t, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct sim_mm *mm = t->mm;
	if (task_dead(t)) {
		/* an OOM victim not yet reaped: no mm, so no Vm rows */
		put(&o, "Name:\t%s\nState:\tZ (zombie)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n", t->comm,
		    t->pid, t->pid, t->ppid);
		return done(&o);
	}
	uint64_t anon = (uint64_t)mm->rss[MM_ANONPAGES], file = (uint64_t)mm->rss[MM_FILEPAGES];
	uint64_t shm = (uint64_t)mm->rss[MM_SHMEMPAGES], rss = anon + file + shm;
	if (rss > mm->hiwater_rss)
		mm->hiwater_rss = rss;
	/* proc_pid_status(): the rows mmsim has no model for (credentials,
	 * namespaces, signals, capabilities, CPU masks) carry the values of a
	 * root process with no signals on a one-CPU, one-node machine */
	put(&o, "Name:\t%s\nUmask:\t0022\nState:\tR (running)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
		"PPid:\t%d\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\n"
		"Groups:\t \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n",
	    t->comm, t->pid, t->pid, t->ppid, SIM_MAX_FILES, t->pid, t->pid, t->pid, t->pid);
#define VMROW(name, pages) put(&o, "%s:\t%8llu kB\n", name, (unsigned long long)kb(pages))
	VMROW("VmPeak", mm->hiwater_vm);
	VMROW("VmSize", mm->total_vm);
	VMROW("VmLck", 0);
	VMROW("VmPin", 0);
	VMROW("VmHWM", mm->hiwater_rss);
	VMROW("VmRSS", rss);
	VMROW("RssAnon", anon);
	VMROW("RssFile", file);
	VMROW("RssShmem", shm);
	VMROW("VmData", mm->data_vm);
	VMROW("VmStk", mm->stack_vm);
	/* task_mem(): text = end_code - start_code (page aligned), lib = exec_vm - text */
	uint64_t text = (MM_ALIGN_UP(mm->end_code, MM_PAGE_SIZE) - MM_ALIGN_DOWN(mm->start_code, MM_PAGE_SIZE)) >>
			MM_PAGE_SHIFT;
	VMROW("VmExe", text);
	VMROW("VmLib", mm->exec_vm > text ? mm->exec_vm - text : 0);
	VMROW("VmPTE", mm->pgtables);
	VMROW("VmSwap", (uint64_t)mm->rss[MM_SWAPENTS]);
#undef VMROW
	put(&o, "HugetlbPages:\t%8llu kB\n",
	    (unsigned long long)((mm->huge_pages << m->huge_shift) >> 10));
	put(&o, "CoreDumping:\t0\nTHP_enabled:\t0\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\n"
		"SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
		"SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n"
		"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
		"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
		"Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tnot vulnerable\n"
		"SpeculationIndirectBranch:\tnot vulnerable\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n"
		"Mems_allowed:\t");
	for (int i = 0; i < 31; i++)
		put(&o, "00000000,");
	put(&o, "00000001\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
		"nonvoluntary_ctxt_switches:\t0\n");
	return done(&o);
}

/* ---- ps ------------------------------------------------------------------------------------ */

size_t mm_show_ps(struct mm_machine *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	put(&o, "    PID    VSZ   RSS   SHR  MINFL  MAJFL COMMAND\n");
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node) {
		struct sim_mm *mm = t->mm;
		uint64_t rss = (uint64_t)(mm->rss[MM_ANONPAGES] + mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES]);
		uint64_t shr = (uint64_t)(mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES]);
		put(&o, "%7d %6llu %5llu %5llu %6llu %6llu %s\n", t->pid,
		    (unsigned long long)kb(mm->total_vm), (unsigned long long)kb(rss),
		    (unsigned long long)kb(shr), (unsigned long long)t->cnt.min_flt,
		    (unsigned long long)t->cnt.maj_flt, t->comm);
	}
	return done(&o);
}

/* ---- a page walk, explained ------------------------------------------------------------------ */

static const char *level_name(const struct mm_machine *m, unsigned int lvl)
{
	static const char *const n64[] = { "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	static const char *const n32[] = { "PTE", "PDE" };
	return m->pg.levels == 2 ? n32[lvl] : n64[lvl];
}

static void put_flags(struct out *o, const struct mm_machine *m, uint64_t e, bool leaf)
{
	put(o, "%s %s %s %s%s%s%s%s%s", e & PTE_P ? "P" : "-", e & PTE_RW ? "RW" : "RO",
	    e & PTE_US ? "U" : "S", e & PTE_A ? "A" : "-", leaf ? (e & PTE_D ? " D" : " -") : "",
	    e & PTE_PS ? " PS" : "", leaf && (e & PTE_G) ? " G" : "",
	    m->pg.nx && (e & PTE_NX) ? " NX" : "", (e & PTE_PROTNONE) && !(e & PTE_P) ? " PROTNONE" : "");
}

size_t mm_show_pagewalk(struct mm_machine *m, struct mm_task *t, uint64_t va, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	if (t && task_dead(t))
		return done(&o);
	uint64_t table = t ? t->mm->pgd_pfn : m->kernel_pgd_pfn;
	int w = m->pg.entry_size * 2;
	put(&o, "virtual address %#llx, %u-level paging, CR3 = %#llx\n", (unsigned long long)va,
	    m->pg.levels, (unsigned long long)(table << MM_PAGE_SHIFT));
	for (int lvl = (int)m->pg.levels - 1; lvl >= 0; lvl--) {
		unsigned int idx = ent_index(m, va, (unsigned int)lvl);
		uint64_t addr = (table << MM_PAGE_SHIFT) + (uint64_t)idx * m->pg.entry_size;
		uint64_t e = ent_get(m, ent_ptr(m, table, idx));
		bool leaf = lvl == 0 || ((e & PTE_P) && (e & PTE_PS));
		put(&o, "  %-5s index %4u (bits %2u-%2u) at %#010llx: %0*llx  ", level_name(m, (unsigned int)lvl),
		    idx, m->pg.shift[lvl], m->pg.shift[lvl] + m->pg.index_bits - 1,
		    (unsigned long long)addr, w, (unsigned long long)e);
		put_flags(&o, m, e, leaf);
		put(&o, "\n");
		if (!(e & PTE_P)) {
			put(&o, "  not present: a page fault\n");
			return done(&o);
		}
		if (leaf) {
			uint64_t sz = level_size(m, (unsigned int)lvl);
			uint64_t pa = (e & m->pg.pfn_mask & ~(sz - 1)) | (va & (sz - 1));
			put(&o, "  page %llu KiB at %#llx + offset %#llx = physical %#llx\n",
			    (unsigned long long)(sz >> 10), (unsigned long long)(pa & ~(sz - 1)),
			    (unsigned long long)(va & (sz - 1)), (unsigned long long)pa);
			return done(&o);
		}
		table = ent_pfn(m, e);
	}
	return done(&o);
}

/* ---- /proc/PID/smaps ------------------------------------------------------------------ */

struct smaps_acc {
	uint64_t rss, pss_x;        /* bytes; pss in 1/mapcount shares, scaled by 2^12 */
	uint64_t pss_dirty_x;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, swap;
	uint64_t shared_hugetlb, private_hugetlb;
};

#define PSS_SHIFT 12

static void smaps_pte(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int lvl,
		 void *ep, void *arg)
{
	(void)mm;
	(void)va;
	struct smaps_acc *a = arg;
	uint64_t e = ent_get(m, ep);
	uint64_t pfn = ent_pfn(m, e);
	if (pfn == m->zero_pfn)
		return;                 /* vm_normal_page() is NULL: not counted */
	struct mm_page *p = pfn_page(m, pfn);
	if (lvl) {
		/* hugetlb pages are reported apart, not in Rss (as Linux) */
		if (p->mapcount >= 2)
			a->shared_hugetlb += level_size(m, lvl);
		else
			a->private_hugetlb += level_size(m, lvl);
		return;
	}
	bool dirty = (e & PTE_D) || mm_page_test_flag(p, MM_PG_DIRTY);
	uint64_t sz = MM_PAGE_SIZE;
	a->rss += sz;
	if (e & PTE_A)
		a->referenced += sz;
	if (mm_page_test_flag(p, MM_PG_ANON))
		a->anonymous += sz;
	int mc = p->mapcount > 0 ? p->mapcount : 1;
	uint64_t share = (sz << PSS_SHIFT) / (uint64_t)mc;
	a->pss_x += share;
	if (dirty)
		a->pss_dirty_x += share;
	if (mc >= 2) {
		if (dirty)
			a->shared_dirty += sz;
		else
			a->shared_clean += sz;
	} else {
		if (dirty)
			a->private_dirty += sz;
		else
			a->private_clean += sz;
	}
}

static void count_swap(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v, struct smaps_acc *a)
{
	/* swap entries are not "present": walk the PTE slots */
	for (uint64_t va = v->vm_start; va < v->vm_end; va += MM_PAGE_SIZE) {
		void *ep = sim_pte_lookup(m, mm->pgd_pfn, va, NULL);
		if (!ep)
			continue;
		unsigned int type;
		uint64_t off;
		if (mm_pte_swp_entry(m, ent_get(m, ep), &type, &off))
			a->swap += MM_PAGE_SIZE;
	}
}

static void put_vmflags(struct out *o, uint64_t f)
{
	static const struct { uint64_t bit; const char *s; } names[] = {
		{ VM_READ, "rd" },       { VM_WRITE, "wr" },      { VM_EXEC, "ex" },
		{ VM_SHARED, "sh" },     { VM_MAYREAD, "mr" },    { VM_MAYWRITE, "mw" },
		{ VM_MAYEXEC, "me" },    { VM_MAYSHARE, "ms" },   { VM_GROWSDOWN, "gd" },
		{ VM_LOCKED, "lo" },     { VM_SEQ_READ, "sr" },   { VM_RAND_READ, "rr" },
		{ VM_DONTCOPY, "dc" },   { VM_ACCOUNT, "ac" },    { VM_NORESERVE, "nr" },
		{ VM_HUGETLB, "ht" },
	};
	put(o, "VmFlags:");
	for (size_t i = 0; i < MM_ARRAY_SIZE(names); i++)
		if (f & names[i].bit)
			put(o, " %s", names[i].s);
	put(o, " \n");
}

/* The rows of one smaps entry after its maps line. */
static void put_smaps_rows(const struct mm_machine *m, struct out *o, uint64_t bytes_size, uint64_t flags,
			   const struct smaps_acc *a)
{
#define ROW(label, bytes) put(o, "%-16s%8llu kB\n", label, (unsigned long long)((bytes) >> 10))
	ROW("Size:", bytes_size);
	uint64_t psz = (flags & VM_HUGETLB) ? 1ULL << m->huge_shift : MM_PAGE_SIZE;
	ROW("KernelPageSize:", psz);
	ROW("MMUPageSize:", psz);
	ROW("Rss:", a->rss);
	ROW("Pss:", a->pss_x >> PSS_SHIFT);
	ROW("Pss_Dirty:", a->pss_dirty_x >> PSS_SHIFT);
	ROW("Shared_Clean:", a->shared_clean);
	ROW("Shared_Dirty:", a->shared_dirty);
	ROW("Private_Clean:", a->private_clean);
	ROW("Private_Dirty:", a->private_dirty);
	ROW("Referenced:", a->referenced);
	ROW("Anonymous:", a->anonymous);
	ROW("KSM:", 0);
	ROW("LazyFree:", 0);
	ROW("AnonHugePages:", 0);
	ROW("ShmemPmdMapped:", 0);
	ROW("FilePmdMapped:", 0);
	ROW("Shared_Hugetlb:", a->shared_hugetlb);
	ROW("Private_Hugetlb:", a->private_hugetlb);
	ROW("Swap:", a->swap);
	ROW("SwapPss:", a->swap);
	ROW("Locked:", 0);
#undef ROW
	put(o, "THPeligible:    %8d\n", 0);
}

size_t mm_show_smaps(struct mm_machine *m, struct mm_task *t, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	struct sim_mm *mm = t->mm;
	if (task_dead(t))
		return done(&o);
	for (struct sim_vma *v = vma_first(mm); v; v = vma_next(mm, v)) {
		struct smaps_acc a = { 0 };
		sim_for_each_pte(m, mm, v->vm_start, v->vm_end, smaps_pte, &a);
		count_swap(m, mm, v, &a);
		put_maps_line(&o, mm, v);
		uint64_t f = v->vm_flags;
		put_smaps_rows(m, &o, v->vm_end - v->vm_start, f, &a);
		put_vmflags(&o, f);
	}
	if (put_gate_line(m, &o)) {
		struct smaps_acc none = { 0 };
		put_smaps_rows(m, &o, MM_PAGE_SIZE, VM_EXEC, &none);
		put_vmflags(&o, VM_EXEC);
	}
	return done(&o);
}

uint64_t mm_task_pss_bytes(struct mm_machine *m, struct mm_task *t)
{
	struct smaps_acc a = { 0 };
	if (task_dead(t))
		return 0;
	sim_for_each_pte(m, t->mm, 0, t->mm->task_size, smaps_pte, &a);
	return a.pss_x >> PSS_SHIFT;
}

/* ---- the allocators' own views ----------------------------------------------------------- */

size_t mm_show_buddyinfo(struct mm_machine *m, char *buf, size_t size)
{
	return mm_buddy_show_buddyinfo(m->buddy, buf, size);
}

size_t mm_show_slabinfo(struct mm_machine *m, char *buf, size_t size)
{
	return mm_kmem_slabinfo(m->kmem, buf, size);
}
