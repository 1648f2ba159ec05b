/* trace_replay.c — a trace through the simulated machine: one process
 * executes every access record (TLB, page walk, page faults, reclaim), and
 * its VMAs are built from what the trace tells.
 *
 * Accesses: a lackey load is a read, a store a write, a modify (load then
 * store of the same bytes, as the instruction does) a read followed by a
 * write, an instruction fetch an exec; ids and addresses are reads unless
 * marked as writes. Stores write a fixed non-zero pattern: a trace has
 * addresses, not values, but a written page must differ from a zero page.
 *
 * VMAs (enum vma_mode):
 *  - mapping system calls (lackey --trace-syscalls=yes lines) are applied as
 *    they come: mmap at the address the traced program got (MAP_FIXED; a
 *    file mapping becomes anonymous, since a trace names no file), munmap,
 *    mprotect, brk (the first brk's result is the start of the heap:
 *    mm_set_brk_base), mremap (as munmap + mmap: the pages moved are faulted
 *    in again). A call that failed in the trace changes nothing.
 *  - automatic VMAs: the program's image, its stack, the vDSO and whatever
 *    was mapped before tracing started appear in no system call, so a page
 *    touched outside every VMA is mapped then (one anonymous page, merged
 *    with its neighbours: r-x when first touched by an instruction fetch,
 *    rw- otherwise; an automatic page later written or executed against its
 *    protection is widened to rwx). An mprotect whose range has holes (pages
 *    the program never touched) fills them first: the call succeeded in the
 *    traced process, so the range was mapped there.
 *  - id traces (txt, csv) and --vma region: one anonymous region (64 GiB;
 *    1 GiB in 2-level mode) mapped MAP_NORESERVE; the k-th distinct id is its
 *    k-th page, an address is an offset into it. The first request of an id
 *    writes its page (the object is stored there; a read of a page never
 *    written would only map the shared zero page and hold no frame), later
 *    ones read or write as the trace says.
 *
 * The clock: the machine does nothing in the background by itself; every
 * CLOCK_EVERY accesses the replay computes the time the process has spent
 * by the cost model (page accesses x the effective access time: TLB, walks,
 * faults, disk) and gives the machine the clock ticks (1/hz s) that passed,
 * so kswapd, the flusher and the policies' clock run as simulated time goes.
 *
 * An access the machine refuses (SIGSEGV, SIGBUS) is counted and passed
 * over, as if the program had a handler; running out of simulated memory
 * stops the replay (st.oom). The hot path is one mm_access per record, whose
 * TLB hit is inlined in src/sim/access.c.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmsim.h"
#include "trace_replay.h"
#include "u64set.h"

#define PAGE_SHIFT    12
#define PAGE_SIZE     (1ull << PAGE_SHIFT)
#define ACCESS_MAX    (64u << 10)     /* largest access replayed */
#define REGION_64     (1ull << 36)    /* the id region: 64 GiB, 16 Mi pages */
#define REGION_32     (1ull << 30)
#define FILL_MAX      65536           /* pages filled in before an mprotect */
#define WRITE_PATTERN 0xa5
#define CLOCK_EVERY   1024            /* accesses between looks at the clock */

/* The top of the user address space, Linux's TASK_SIZE for the paging mode
 * (arch/x86: PAGE_OFFSET = 3 GiB with 2 levels, 2^47 - 4 KiB with 4,
 * 2^56 - 4 KiB with 5). No VMA can be made at or above it (mmap says
 * ENOMEM), so an access there is a SIGSEGV, not the machine running out of
 * memory. */
static uint64_t user_top(const struct mm_machine *m)
{
	switch (mm_machine_config(m)->paging) {
	case MM_PAGING_2LEVEL: return 0xc0000000ull;
	case MM_PAGING_5LEVEL: return (1ull << 56) - PAGE_SIZE;
	default: return (1ull << 47) - PAGE_SIZE;
	}
}

/* Forget the automatic pages in [start, end): the trace mapped or unmapped
 * the range itself. */
static void forget_auto(struct replay *r, uint64_t start, uint64_t end)
{
	if (r->auto_pages && end > start)
		u64set_del_range(r->auto_pages, start >> PAGE_SHIFT, (end - 1) >> PAGE_SHIFT);
}

/* ---- Setup --------------------------------------------------------------------- */

int replay_init(struct replay *r, struct mm_machine *m, const char *comm, enum vma_mode mode,
		bool ids)
{
	const char *cmd = r->cmd;
	r->m = m;
	r->mode = ids ? VMA_REGION : mode;
	if (mm_task_create(m, comm, &r->t))
		goto nomem;
	/* the replayed program is the only process: running out of memory
	 * stops the replay (st.oom) instead of the OOM killer killing it */
	mm_task_set_oom_score_adj(r->t, MM_OOM_SCORE_ADJ_MIN);
	r->wbuf = malloc(ACCESS_MAX);
	r->rbuf = malloc(ACCESS_MAX);
	if (!r->wbuf || !r->rbuf)
		goto nomem;
	memset(r->wbuf, WRITE_PATTERN, ACCESS_MAX);
	if (r->mode == VMA_AUTO || r->mode == VMA_TOUCH) {
		r->auto_pages = calloc(1, sizeof(*r->auto_pages));
		if (!r->auto_pages || u64set_init(r->auto_pages, false)) {
			free(r->auto_pages);
			r->auto_pages = NULL;
			goto nomem;
		}
	}
	if (r->mode == VMA_REGION) {
		r->ids = calloc(1, sizeof(*r->ids));
		if (!r->ids || u64set_init(r->ids, true)) {
			free(r->ids);
			r->ids = NULL;
			goto nomem;
		}
		uint64_t bytes = mm_machine_config(m)->paging == MM_PAGING_2LEVEL ? REGION_32 : REGION_64;
		int64_t a = mm_do_mmap(m, r->t, 0, bytes, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_NORESERVE, -1, 0);
		if (a == -MM_ENOMEM) {
			mmsim_err(cmd, "the simulated machine has no memory for the process");
			return EXIT_USAGE;
		}
		if (a < 0) {
			mmsim_err(cmd, "cannot map the region of ids: %s", mm_strerror((int)a));
			return EXIT_USAGE;
		}
		r->region_base = (uint64_t)a;
		r->region_pages = bytes >> PAGE_SHIFT;
	}
	r->next_sample = r->every ? r->every : UINT64_MAX;
	r->next_clock = CLOCK_EVERY;
	r->next_event = r->next_sample < r->next_clock ? r->next_sample : r->next_clock;
	return 0;
nomem:
	mmsim_err(cmd, "out of memory");
	return EXIT_NOMEM;
}

void replay_free(struct replay *r)
{
	if (r->auto_pages)
		u64set_free(r->auto_pages);
	free(r->auto_pages);
	if (r->ids)
		u64set_free(r->ids);
	free(r->ids);
	free(r->tl);
	free(r->wbuf);
	free(r->rbuf);
}

/* ---- Timeline -------------------------------------------------------------------- */

void timeline_csv_header(FILE *f)
{
	fputs("accesses,free_kb,rss_kb,swap_kb,pagetables_kb,min_flt,maj_flt,tlb_misses,pswpin,"
	      "pswpout\n", f);
}

void timeline_csv_row(FILE *f, const struct tl_sample *s)
{
	fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
		(unsigned long long)s->accesses, (unsigned long long)s->free_pages * 4,
		(unsigned long long)s->rss_pages * 4, (unsigned long long)s->swap_pages * 4,
		(unsigned long long)s->pgtable_pages * 4, (unsigned long long)s->min_flt,
		(unsigned long long)s->maj_flt, (unsigned long long)s->tlb_misses,
		(unsigned long long)s->pswpin, (unsigned long long)s->pswpout);
}

int replay_sample(struct replay *r)
{
	struct mm_meminfo mi;
	struct mm_task_mem tm;
	struct mm_counters c;
	struct mm_swap_info si;
	mm_machine_meminfo(r->m, &mi);
	mm_task_mem(r->t, &tm);
	mm_task_counters(r->t, &c);
	mm_machine_swap_info(r->m, &si);
	struct tl_sample s = {
		.accesses = r->st.accesses, .free_pages = mi.free_pages,
		.rss_pages = tm.rss_anon + tm.rss_file + tm.rss_shmem, .swap_pages = tm.swap_ents,
		.pgtable_pages = tm.pgtables, .min_flt = c.min_flt, .maj_flt = c.maj_flt,
		.tlb_misses = c.tlb_misses, .pswpin = si.pswpin, .pswpout = si.pswpout,
	};
	/* the last sample is taken at the end: not twice at the same point */
	if (r->ntl && r->tl[r->ntl - 1].accesses == s.accesses)
		return 0;
	if (r->ntl == r->tlcap) {
		size_t nc = r->tlcap ? r->tlcap * 2 : 256;
		struct tl_sample *n = realloc(r->tl, nc * sizeof(*n));
		if (!n)
			return EXIT_NOMEM;
		r->tl = n;
		r->tlcap = nc;
	}
	r->tl[r->ntl++] = s;
	if (r->tl_csv)
		timeline_csv_row(r->tl_csv, &s);
	return 0;
}

/* ---- System calls ------------------------------------------------------------------ */

static void rejected(struct replay *r, const struct mm_trace_rec *rec, int err)
{
	if (!r->st.sys_rejected++)
		snprintf(r->st.first_reject, sizeof(r->st.first_reject), "line %llu: %s: %s",
			 (unsigned long long)rec->line, rec->sys.name, mm_strerror(err));
}

/* Map [addr, addr+len) as the trace's mmap did, after what was there. */
static int64_t map_fixed(struct replay *r, uint64_t addr, uint64_t len, int prot, int flags)
{
	int64_t a = mm_do_mmap(r->m, r->t, addr, len, prot, flags, -1, 0);
	if (a == -MM_ENOMEM && !(flags & MM_MAP_NORESERVE)) {
		/* over the commit limit of the small simulated machine: the
		 * traced program had more memory; keep the mapping, unaccounted */
		a = mm_do_mmap(r->m, r->t, addr, len, prot, flags | MM_MAP_NORESERVE, -1, 0);
		if (a >= 0)
			r->st.sys_noreserve++;
	}
	return a;
}

/* mmap at the address the traced program got. */
static int sys_mmap(struct replay *r, const struct mm_trace_rec *rec)
{
	const struct mm_trace_syscall *s = &rec->sys;
	uint64_t len = s->args[1];
	int prot = (int)(s->args[2] & (MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC));
	int fl = (int)s->args[3];
	int flags = (fl & MM_MAP_TYPE) == MM_MAP_SHARED_VALIDATE ? MM_MAP_SHARED : (fl & MM_MAP_TYPE);
	flags |= fl & (MM_MAP_GROWSDOWN | MM_MAP_NORESERVE | MM_MAP_STACK | MM_MAP_POPULATE);
	/* huge pages from the pool when the machine has one (--hugepages),
	 * else ordinary pages */
	if ((fl & MM_MAP_HUGETLB) && mm_machine_config(r->m)->nr_hugepages)
		flags |= MM_MAP_HUGETLB;
	else if (fl & MM_MAP_HUGETLB)
		r->st.sys_huge_small++;
	flags |= MM_MAP_FIXED | MM_MAP_ANONYMOUS;
	if (!(fl & MM_MAP_ANONYMOUS))
		r->st.sys_file_anon++;
	forget_auto(r, rec->addr, rec->addr + len);
	int64_t a = map_fixed(r, rec->addr, len, prot, flags);
	return a < 0 ? (int)a : 0;
}

/* mprotect; holes in the range (pages never touched) are mapped first. */
static int sys_mprotect(struct replay *r, uint64_t addr, uint64_t len, int prot)
{
	int err = mm_do_mprotect(r->m, r->t, addr, len, prot);
	if (err != -MM_ENOMEM || r->mode != VMA_AUTO)
		goto out;
	uint64_t pages = (len + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (pages > FILL_MAX)
		return err;
	for (uint64_t p = 0; p < pages; p++) {
		int64_t a = mm_do_mmap(r->m, r->t, addr + (p << PAGE_SHIFT), PAGE_SIZE, prot,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED_NOREPLACE, -1, 0);
		if (a < 0 && a != -MM_EEXIST)
			return (int)a;
	}
	err = mm_do_mprotect(r->m, r->t, addr, len, prot);
out:
	if (!err)
		forget_auto(r, addr, addr + len);
	return err;
}

static int sys_brk(struct replay *r, const struct mm_trace_syscall *s)
{
	if (!r->have_brk) {
		/* the first brk returns the break: the heap starts there (a trace
		 * that begins later, at an unaligned break, starts it at the next
		 * page; the pages below are mapped when touched) */
		int err = mm_set_brk_base(r->m, r->t, (s->ret + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
		if (err)
			return err;
		r->have_brk = true;
		return 0;
	}
	uint64_t got = mm_do_brk(r->m, r->t, s->ret);
	return got == s->ret ? 0 : -MM_ENOMEM;
}

/* mremap as munmap of the old range and mmap of the new one (read/write). */
static int sys_mremap(struct replay *r, const struct mm_trace_syscall *s)
{
	uint64_t old = s->args[0], oldlen = s->args[1], newlen = s->args[2], to = s->ret;
	int err;
	if (to == old && newlen <= oldlen) {
		/* shrunk in place: the whole pages past the new end go */
		uint64_t start = (old + newlen + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		uint64_t end = (old + oldlen + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		if (end <= start)
			return 0;
		forget_auto(r, start, end);
		return mm_do_munmap(r->m, r->t, start, end - start);
	}
	if (to == old) {
		uint64_t tail = (old + oldlen + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		uint64_t end = old + newlen;
		if (end <= tail)
			return 0;
		forget_auto(r, tail, end);
		int64_t a = map_fixed(r, tail, end - tail, MM_PROT_READ | MM_PROT_WRITE,
				      MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED);
		return a < 0 ? (int)a : 0;
	}
	forget_auto(r, old, old + oldlen);
	if ((err = mm_do_munmap(r->m, r->t, old, oldlen)))
		return err;
	forget_auto(r, to, to + newlen);
	int64_t a = map_fixed(r, to, newlen, MM_PROT_READ | MM_PROT_WRITE,
			      MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED);
	return a < 0 ? (int)a : 0;
}

static void apply_syscall(struct replay *r, const struct mm_trace_rec *rec)
{
	const struct mm_trace_syscall *s = &rec->sys;
	int err = 0;
	r->st.syscalls++;
	r->syscalls_seen = true;
	if (r->mode == VMA_TOUCH || r->mode == VMA_REGION)
		return;
	if (s->failed) {
		r->st.sys_failed_in_trace++;
		return;
	}
	switch (s->which) {
	case MM_SYS_MMAP:
		err = sys_mmap(r, rec);
		break;
	case MM_SYS_MUNMAP:
		forget_auto(r, s->args[0], s->args[0] + s->args[1]);
		err = mm_do_munmap(r->m, r->t, s->args[0], s->args[1]);
		break;
	case MM_SYS_MPROTECT:
		err = sys_mprotect(r, s->args[0], s->args[1],
				   (int)(s->args[2] & (MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC)));
		break;
	case MM_SYS_BRK:
		err = sys_brk(r, s);
		break;
	case MM_SYS_MREMAP:
		err = sys_mremap(r, s);
		break;
	default:
		return;
	}
	if (err)
		rejected(r, rec, err);
	else
		r->st.sys_applied++;
}

/* ---- Accesses ------------------------------------------------------------------------ */

static void signal_seen(struct replay *r, const struct mm_trace_rec *rec, int err)
{
	const struct mm_siginfo *si = mm_task_siginfo(r->t);
	bool bus = err == -MM_EIO;
	uint64_t n = bus ? r->st.sigbus++ : r->st.segv++;
	if (n || r->st.first_signal[0])
		return;
	const char *code = bus ? "BUS_ADRERR" : si->code == MM_SEGV_MAPERR ? "SEGV_MAPERR" :
			   si->code == MM_SEGV_ACCERR ? "SEGV_ACCERR" : "SI_KERNEL";
	snprintf(r->st.first_signal, sizeof(r->st.first_signal), "line %llu: %s at 0x%llx (%s)",
		 (unsigned long long)rec->line, bus ? "SIGBUS" : "SIGSEGV",
		 (unsigned long long)(si->code == MM_SI_KERNEL ? rec->addr : si->addr), code);
}

/* The access faulted with err: map the page automatically, widen an
 * automatic page, or count the signal; then retry. */
static MM_NOINLINE void access_slow(struct replay *r, const struct mm_trace_rec *rec, uint64_t va,
				    size_t size, enum mm_access_kind kind, int err)
{
	void *buf = kind == MM_ACCESS_WRITE ? r->wbuf : r->rbuf;
	for (int tries = 0; tries < 6; tries++) {
		if (err == -MM_ENOMEM) {
			r->st.oom = true;
			r->st.oom_line = rec->line;
			return;
		}
		const struct mm_siginfo *si = mm_task_siginfo(r->t);
		if (err != -MM_EFAULT || !r->auto_pages || si->signo != MM_SIGSEGV)
			break;
		uint64_t page = si->addr & ~(PAGE_SIZE - 1);
		if (si->code == MM_SEGV_MAPERR) {
			int prot = kind == MM_ACCESS_EXEC ? MM_PROT_READ | MM_PROT_EXEC
							  : MM_PROT_READ | MM_PROT_WRITE;
			int64_t a = mm_do_mmap(r->m, r->t, page, PAGE_SIZE, prot,
					       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED_NOREPLACE,
					       -1, 0);
			if (a == -MM_ENOMEM && page < user_top(r->m)) {
				err = (int)a;
				continue;
			}
			if (a < 0) /* no user address: the access is a SIGSEGV */
				break;
			if (u64set_put(r->auto_pages, page >> PAGE_SHIFT, 0)) {
				err = -MM_ENOMEM; /* the host's: reported as oom of the replay */
				continue;
			}
			r->st.auto_vmas++;
		} else if (si->code == MM_SEGV_ACCERR && u64set_get(r->auto_pages, page >> PAGE_SHIFT, NULL)) {
			if (mm_do_mprotect(r->m, r->t, page, PAGE_SIZE,
					   MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC))
				break;
			u64set_del(r->auto_pages, page >> PAGE_SHIFT);
			r->st.widened++;
		} else {
			break;
		}
		err = mm_access(r->m, r->t, va, buf, size, kind);
		if (!err)
			return;
	}
	signal_seen(r, rec, err);
}

static inline void access1(struct replay *r, const struct mm_trace_rec *rec, uint64_t va,
			   size_t size, enum mm_access_kind kind)
{
	int err = mm_access(r->m, r->t, va, kind == MM_ACCESS_WRITE ? r->wbuf : r->rbuf, size, kind);
	if (mm_unlikely(err))
		access_slow(r, rec, va, size, kind, err);
}

/* An id or an address of the region: its page (or address) there. */
static int region_va(struct replay *r, const struct mm_trace_rec *rec, uint64_t *va,
		     uint64_t *size, bool *first)
{
	if (rec->flags & MM_TREC_ID) {
		uint64_t page;
		if (!u64set_get(r->ids, rec->addr, &page)) {
			page = r->ids->count;
			if (page >= r->region_pages) {
				mmsim_err(r->cmd, "line %llu: more distinct ids than the %llu pages of "
					  "the region", (unsigned long long)rec->line,
					  (unsigned long long)r->region_pages);
				return EXIT_INPUT;
			}
			if (u64set_put(r->ids, rec->addr, page)) {
				mmsim_err(r->cmd, "out of memory");
				return EXIT_NOMEM;
			}
			r->st.distinct_ids++;
			*first = true;
		}
		*va = r->region_base + (page << PAGE_SHIFT);
		*size = 8;
		return 0;
	}
	uint64_t bytes = r->region_pages << PAGE_SHIFT;
	if (rec->addr >= bytes || *size > bytes - rec->addr) {
		r->st.segv++;
		if (!r->st.first_signal[0])
			snprintf(r->st.first_signal, sizeof(r->st.first_signal),
				 "line %llu: address 0x%llx outside the %llu MiB region",
				 (unsigned long long)rec->line, (unsigned long long)rec->addr,
				 (unsigned long long)(bytes >> 20));
		*size = 0;
		return 0;
	}
	*va = r->region_base + rec->addr;
	return 0;
}

static const uint8_t kind_of[] = {
	[MM_TRACE_READ] = MM_ACCESS_READ,
	[MM_TRACE_WRITE] = MM_ACCESS_WRITE,
	[MM_TRACE_MODIFY] = MM_ACCESS_READ,
	[MM_TRACE_IFETCH] = MM_ACCESS_EXEC,
};

/* A record that is not an access, or an access of the region. */
static MM_NOINLINE int record_slow(struct replay *r, const struct mm_trace_rec *rec)
{
	if (rec->kind == MM_TRACE_SYSCALL) {
		apply_syscall(r, rec);
		return 0;
	}
	if (rec->kind == MM_TRACE_DELETE) {
		r->st.deletes++;
		return 0;
	}
	uint64_t va = rec->addr, size = rec->size ? rec->size : 1;
	if (size > ACCESS_MAX) {
		r->st.too_big++;
		return 0;
	}
	bool first = false;
	if (r->mode == VMA_REGION) {
		int rc = region_va(r, rec, &va, &size, &first);
		if (rc || !size)
			return rc;
	}
	switch (rec->kind) {
	case MM_TRACE_READ: r->st.reads++; break;
	case MM_TRACE_WRITE: r->st.writes++; break;
	case MM_TRACE_MODIFY: r->st.modifies++; break;
	default: r->st.ifetches++; break;
	}
	/* an id's page is written when the id is first seen: the object is
	 * stored there (a read would only map the shared zero page) */
	access1(r, rec, va, (size_t)size,
		first ? MM_ACCESS_WRITE : (enum mm_access_kind)kind_of[rec->kind]);
	if (rec->kind == MM_TRACE_MODIFY && !r->st.oom)
		access1(r, rec, va, (size_t)size, MM_ACCESS_WRITE);
	return 0;
}

/* Give the machine the clock ticks the process's time has reached. */
void replay_clock(struct replay *r)
{
	struct mm_counters c;
	mm_task_counters(r->t, &c);
	double ns = mm_effective_access_time(r->m, &c) * (double)c.accesses;
	unsigned hz = mm_machine_config(r->m)->hz;
	uint64_t due = (uint64_t)(ns * (double)(hz ? hz : 100) / 1e9);
	if (due > r->ticks) {
		mm_machine_tick(r->m, due - r->ticks);
		r->ticks = due;
	}
}

/* A timeline sample or a look at the clock is due. */
static MM_NOINLINE int replay_event(struct replay *r)
{
	uint64_t a = r->st.accesses;
	if (a >= r->next_clock) {
		replay_clock(r);
		r->next_clock = a + CLOCK_EVERY;
	}
	if (a >= r->next_sample) {
		int rc = replay_sample(r);
		if (rc) {
			mmsim_err(r->cmd, "out of memory");
			return rc;
		}
		r->next_sample = a + r->every;
	}
	r->next_event = r->next_sample < r->next_clock ? r->next_sample : r->next_clock;
	return 0;
}

int replay_run(struct replay *r, struct mm_trace *tr, uint64_t limit, struct progress *prog)
{
	struct mm_trace_rec rec;
	int rc = 0;
	bool fast_ok = r->mode != VMA_REGION;
	if (!limit)
		limit = UINT64_MAX;
	while (r->st.accesses < limit && (rc = mm_trace_next(tr, &rec)) == 1) {
		r->st.records++;
		/* the common case inline: a lackey load, store or fetch */
		if (mm_likely(fast_ok && rec.kind != MM_TRACE_MODIFY && rec.kind <= MM_TRACE_IFETCH &&
			      rec.size - 1 < 8)) {
			r->st.accesses++;
			r->st.reads += rec.kind == MM_TRACE_READ;
			r->st.writes += rec.kind == MM_TRACE_WRITE;
			r->st.ifetches += rec.kind == MM_TRACE_IFETCH;
			access1(r, &rec, rec.addr, (size_t)rec.size, (enum mm_access_kind)kind_of[rec.kind]);
		} else {
			if (rec.kind <= MM_TRACE_IFETCH)
				r->st.accesses++;
			if ((rc = record_slow(r, &rec)))
				return rc;
		}
		if (mm_unlikely(r->st.oom))
			return 0;
		if (mm_unlikely(r->st.accesses >= r->next_event) && (rc = replay_event(r)))
			return rc;
		progress_update(prog, r->st.accesses);
	}
	if (r->st.accesses >= limit)
		return 0;
	if (rc < 0) {
		if (rc == -MM_ENOMEM) {
			mmsim_err(r->cmd, "out of memory");
			return EXIT_NOMEM;
		}
		const char *msg = mm_trace_error(tr);
		mmsim_err(r->cmd, "%s", msg ? msg : mm_strerror(rc));
		return EXIT_INPUT;
	}
	return 0;
}
