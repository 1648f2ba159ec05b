/* mmkit/sim.h — mmsim, the simulated machine: one x86 CPU with an MMU and
 * TLBs, RAM that holds real bytes, and the Linux memory-management kernel
 * that runs on it (page tables in frames, VMAs, page faults, fork with
 * copy-on-write, exit, reverse mapping).
 *
 * One `struct mm_machine` holds everything: its RAM (one host mmap managed
 * by a buddy allocator in real-memory mode, physical address = PFN << 12),
 * a slab instance over that buddy (tasks, mm_structs, VMAs and reverse-map
 * items are slab objects in simulated RAM), the kernel page tables, the TLB
 * and every process. There is no process-wide state: tests and sweeps run
 * many machines in one process. A machine is single-threaded: one host
 * thread at a time may call into it.
 *
 * Errors: functions return 0 (or a value) on success and a negative mm_err
 * (Linux's errno numbers: -MM_EINVAL, -MM_ENOMEM, -MM_EEXIST ...) on failure,
 * with nothing changed unless the contract says otherwise. See
 * docs/machine.md for the model and what is faithful to Linux and x86.
 */
#ifndef MMKIT_SIM_H
#define MMKIT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/gfp.h"
#include "mmkit/policy.h"   /* enum mm_access_kind */

struct mm_machine;
struct mm_task;
struct mm_buddy;
struct mm_kmem;
struct mm_page;

/* ---- configuration ------------------------------------------------------- */

/* Paging modes (the number of page-table levels). */
enum mm_paging_mode {
	MM_PAGING_2LEVEL = 2, /* 32-bit non-PAE: 10/10/12, 4-byte entries, 4 MiB PSE pages, no NX */
	MM_PAGING_4LEVEL = 4, /* x86-64: 9/9/9/9/12, 8-byte entries, 2 MiB and 1 GiB pages */
	MM_PAGING_5LEVEL = 5, /* x86-64 LA57: 9/9/9/9/9/12 */
};

/* One TLB array: `entries` total, `ways` per set (entries / ways sets, a
 * power of two). entries 0 = the array is absent. */
struct mm_tlb_geometry {
	unsigned int entries;
	unsigned int ways;
};

/* Latencies of the cost model, in nanoseconds (seed 004's table). */
struct mm_latency {
	double tlb_ns;   /* a TLB lookup (default 1) */
	double mem_ns;   /* one memory reference (default 100) */
	double disk_ns;  /* one page read or written (default 5e6) */
	double fault_ns; /* kernel entry/exit of a page fault (default 1000) */
};

struct mm_machine_config {
	uint64_t ram_bytes;          /* simulated RAM, a multiple of 4 MiB (default 64 MiB);
				      * at most 4 GiB in 2-level mode */
	enum mm_paging_mode paging;  /* default MM_PAGING_4LEVEL */
	bool pcid;                   /* tag TLB entries with PCIDs (CR4.PCIDE) instead of
				      * flushing on every CR3 load (default true) */
	bool zones;                  /* DMA / DMA32 / Normal zones (default true) */
	bool gbpages;                /* direct map with 1 GiB pages where possible */
	struct mm_tlb_geometry dtlb_4k;    /* default 64 entries, 4-way (Skylake) */
	struct mm_tlb_geometry dtlb_large; /* 2M/4M: 32, 4-way */
	struct mm_tlb_geometry dtlb_1g;    /* 4, 4-way */
	struct mm_tlb_geometry itlb_4k;    /* 128, 8-way */
	struct mm_tlb_geometry itlb_large; /* 8, 8-way */
	struct mm_tlb_geometry stlb;       /* second level, 4K and 2M/4M: 1536, 12-way;
					    * entries 0 = no second level */
	struct mm_latency lat;
	uint64_t stack_rlimit;       /* RLIMIT_STACK (default 8 MiB) */
	uint64_t stack_guard_gap;    /* stack_guard_gap (default 256 pages = 1 MiB) */
	uint64_t mmap_min_addr;      /* vm.mmap_min_addr (default 65536) */
	uint64_t reserve_bytes;      /* mem=-style boot reservation at the top of RAM,
				      * kept out of the buddy (ioremap target); default 0 */
	unsigned int nr_hugepages;   /* vm.nr_hugepages: huge pages (2 MiB; 4 MiB in
				      * 2-level mode) taken from the buddy at boot for
				      * MAP_HUGETLB; default 0 */
	/* Swap and reclaim (docs/reclaim.md). */
	uint64_t swap_bytes;         /* size of the swap file, a multiple of 4 KiB
				      * including the header page; 0 = no swap
				      * (default), else at least 2 pages */
	const char *swap_path;       /* the swap file (created or truncated); NULL =
				      * a fresh temporary file in $TMPDIR or /tmp.
				      * Copied at create. */
	bool swap_keep;              /* keep the file at destroy (default: removed) */
	bool no_reclaim;             /* no LRU lists, kswapd or direct reclaim:
				      * allocations simply fail when memory runs out */
	bool swap_shmem;             /* shared anonymous memory and System V segments
				      * are swapped too (Linux's shmem); default
				      * false: their pages are unevictable */
	const char *reclaim_policy;  /* replacement policy spec of the LRU lists
				      * (mmkit/policy.h names); NULL = "linux"
				      * (active/inactive, as the kernel). Copied. */
	bool reclaim_local;          /* local replacement: a process at its frame
				      * limit replaces its own frames only */
	uint64_t frame_limit;        /* local replacement: default frames per
				      * process (0 = no limit); mm_task_set_frame_limit */
	unsigned int hz;             /* simulated clock ticks per second (default 100) */
	unsigned int dirty_writeback_centisecs; /* flusher period (default 500; 0 = no flusher) */
	unsigned int dirty_expire_centisecs;    /* age a dirty page must reach before the
						 * flusher writes it (default 3000) */
	unsigned int policy_tick_centisecs;     /* period of the policies' clock
						 * interrupt (NRU, aging; default 100) */
};

/* Fill cfg with the defaults above. */
void mm_machine_config_init(struct mm_machine_config *cfg);

/* Boot a machine: map its RAM, build the buddy allocator and the slab
 * instance over it, the zero page, the kernel page tables (direct map) and
 * the TLB. Returns 0 and sets *out, or -MM_EINVAL (bad size, mode or TLB
 * geometry) / -MM_ENOMEM; nothing is left allocated on failure. */
int mm_machine_create(const struct mm_machine_config *cfg, struct mm_machine **out);

/* Tear everything down (live processes included). NULL is a no-op. */
void mm_machine_destroy(struct mm_machine *m);

/* The machine's allocators and parameters (views, issue-4 reclaim). */
struct mm_buddy *mm_machine_buddy(struct mm_machine *m);
struct mm_kmem *mm_machine_kmem(struct mm_machine *m);
const struct mm_machine_config *mm_machine_config(const struct mm_machine *m);
/* Host address of physical address pa (NULL outside RAM). */
void *mm_phys_to_host(struct mm_machine *m, uint64_t pa);

/* ---- mmap / mprotect constants (Linux x86 values) ------------------------- */

#define MM_PROT_NONE  0x0
#define MM_PROT_READ  0x1
#define MM_PROT_WRITE 0x2
#define MM_PROT_EXEC  0x4

#define MM_MAP_SHARED          0x01
#define MM_MAP_PRIVATE         0x02
#define MM_MAP_SHARED_VALIDATE 0x03
#define MM_MAP_TYPE            0x0f
#define MM_MAP_FIXED           0x10
#define MM_MAP_ANONYMOUS       0x20
#define MM_MAP_GROWSDOWN       0x0100
#define MM_MAP_DENYWRITE       0x0800
#define MM_MAP_EXECUTABLE      0x1000
#define MM_MAP_LOCKED          0x2000
#define MM_MAP_NORESERVE       0x4000
#define MM_MAP_POPULATE        0x8000
#define MM_MAP_NONBLOCK        0x10000
#define MM_MAP_STACK           0x20000
#define MM_MAP_HUGETLB         0x40000
#define MM_MAP_FIXED_NOREPLACE 0x100000

#define MM_MADV_NORMAL   0
#define MM_MADV_RANDOM   1
#define MM_MADV_SEQUENTIAL 2
#define MM_MADV_WILLNEED 3
#define MM_MADV_DONTNEED 4

#define MM_MS_ASYNC      1
#define MM_MS_INVALIDATE 2
#define MM_MS_SYNC       4

/* Signals a fault can raise, and their si_code values (Linux's). */
#define MM_SIGBUS   7
#define MM_SIGKILL  9   /* the OOM killer's */
#define MM_SIGSEGV  11
#define MM_SEGV_MAPERR 1  /* address not mapped to an object */
#define MM_SEGV_ACCERR 2  /* invalid permissions for a mapped object */
#define MM_BUS_ADRERR  2
#define MM_SI_KERNEL   0x80 /* sent by the kernel itself: a #GP (non-canonical
			     * address), with no address (si_addr 0) */

/* x86 page-fault error code bits (Intel SDM vol. 3, 4.7). */
#define MM_PF_PROT  0x01  /* 0: not present, 1: protection violation */
#define MM_PF_WRITE 0x02
#define MM_PF_USER  0x04
#define MM_PF_RSVD  0x08
#define MM_PF_INSTR 0x10

/* What the last failed access of a task raised (its "signal"). */
struct mm_siginfo {
	int signo;           /* MM_SIGSEGV, MM_SIGBUS, MM_SIGKILL (OOM-killed), or 0 */
	int code;            /* MM_SEGV_MAPERR / MM_SEGV_ACCERR / MM_BUS_ADRERR /
			      * MM_SI_KERNEL */
	uint64_t addr;       /* faulting linear address */
	unsigned int error_code; /* MM_PF_* of the hardware fault */
};

/* ---- processes ------------------------------------------------------------- */

/* A new process with an empty address space (no VMAs) and its own page-table
 * root. name is copied (15 characters kept, like TASK_COMM_LEN). Returns 0
 * and *out, or -MM_ENOMEM (nothing allocated). */
int mm_task_create(struct mm_machine *m, const char *name, struct mm_task **out);

/* The synthetic executable layout (no file): text (r-x) at the ELF default
 * base, data (rw-) and bss (rw-, anonymous) after it, heap start (brk) just
 * above bss, mmap_base below the stack gap, and the stack VMA (132 KiB,
 * growing down) at the top of the user half. Sizes are rounded up to pages.
 * The process must have no VMAs yet. Returns 0, -MM_EINVAL (it has VMAs, or
 * the sizes do not fit) or -MM_ENOMEM (nothing changed). */
int mm_exec_synthetic(struct mm_machine *m, struct mm_task *t, uint64_t text_bytes,
		      uint64_t data_bytes, uint64_t bss_bytes);

/* execve() of a host ELF file (ELF64 x86-64 in 64-bit modes, ELF32 i386 in
 * 2-level mode): a new address space with the PT_LOAD segments as private
 * file mappings (bss anonymous), the heap after them, the stack, the
 * PT_INTERP interpreter, the vDSO ([vvar], [vvar_vclock], [vdso]; 64-bit
 * modes) and every shared library ld.so would load (breadth-first over
 * DT_NEEDED, each once, searched as ld.so searches) mapped as ld.so maps
 * them (no relocation, no code runs). Open files are kept. Returns 0;
 * -MM_ENOENT (no file, or a missing library: see mm_exec_error) /
 * -MM_ENOEXEC (not a loadable ELF for this machine) with nothing changed;
 * or -MM_ENOMEM after the old
 * address space is gone (as Linux, the process is then unusable). */
int mm_exec(struct mm_machine *m, struct mm_task *t, const char *path);
/* The same with argument and environment strings (NULL-terminated arrays,
 * at most 256 each: else -MM_E2BIG after the old address space is gone),
 * laid out on the new stack as Linux does; mm_exec passes argv = { path }. */
int mm_execve(struct mm_machine *m, struct mm_task *t, const char *path, const char *const argv[],
	      const char *const envp[]);
/* After mm_exec/mm_execve failed with -MM_ENOENT for a missing shared
 * library: ld.so's message naming it ("...: error while loading shared
 * libraries: NAME: cannot open shared object file: ..."); "" otherwise.
 * Per thread; valid until the next exec on the thread. */
const char *mm_exec_error(void);
/* The initial stack pointer exec set (the address of argc), or the
 * synthetic layout's stack top. */
uint64_t mm_task_start_stack(const struct mm_task *t);

/* fork(): a child with a copy of the parent's VMAs and page tables (not of
 * its data): private writable pages become read-only copy-on-write in both.
 * Returns 0 and *child, or -MM_ENOMEM with nothing changed (the parent's
 * PTEs may have been write-protected, which is invisible: the next write
 * faults and reuses the page). Short of memory, it retries after direct
 * reclaim and then after each OOM kill; -MM_ESRCH if the OOM killer chose
 * the parent itself. */
int mm_fork(struct mm_machine *m, struct mm_task *parent, struct mm_task **child);

/* exit(): unmap everything, free the page tables, the mm and the task.
 * For a process the OOM killer killed (a zombie, its memory already
 * freed) this reaps it: the task is freed. Every task ends in mm_exit. */
void mm_exit(struct mm_machine *m, struct mm_task *t);

/* Make t the running process (load its CR3; with PCID the TLB keeps other
 * processes' entries under their PCIDs). mm_access does this on its own. */
void mm_context_switch(struct mm_machine *m, struct mm_task *t);

int mm_task_pid(const struct mm_task *t);
const char *mm_task_comm(const struct mm_task *t);
/* A process's memory, in pages (the numbers behind /proc/PID/status). */
struct mm_task_mem {
	uint64_t rss_anon, rss_file, rss_shmem; /* present pages by kind (VmRSS = sum) */
	uint64_t swap_ents;      /* PTEs holding swap entries (VmSwap) */
	uint64_t total_vm;       /* VmSize */
	uint64_t pgtables;       /* VmPTE: page-table pages, root included */
	unsigned int map_count;  /* VMAs */
};
void mm_task_mem(const struct mm_task *t, struct mm_task_mem *out);
/* prctl(PR_SET_MM, PR_SET_MM_START_BRK) for a process whose heap is still
 * empty: the heap starts (and the break is) at start, page aligned, inside
 * the user half. For replaying a recorded trace, whose first brk(0) tells
 * where the heap was. 0, -MM_EINVAL (bad address) or -MM_EBUSY (the heap is
 * not empty); nothing changed on failure. */
int mm_set_brk_base(struct mm_machine *m, struct mm_task *t, uint64_t start);
/* The signal the last failed access raised (signo 0 if none yet). */
const struct mm_siginfo *mm_task_siginfo(const struct mm_task *t);
/* The task with that pid, or NULL. */
struct mm_task *mm_find_task(struct mm_machine *m, int pid);

/* ---- the OOM killer (docs/reclaim.md) -------------------------------------- */

/* When a page fault finds no memory even after reclaim, the OOM killer
 * kills the process with the highest badness (oom_badness(): resident
 * pages + swap entries + page-table pages, plus oom_score_adj * totalpages
 * / 1000, totalpages = MemTotal + SwapTotal), frees all its memory, logs
 * Linux's report to the kernel log (mm_show_dmesg) and the fault is
 * retried. The victim becomes a zombie: its struct mm_task stays valid,
 * mm_task_killed() is true, mm_task_siginfo() says SIGKILL, calls that
 * need its address space (mm_access, mmap..., fork, exec, the per-process
 * views show nothing) return -MM_ESRCH, and mm_exit() reaps it. It leaves
 * the process list at once (mm_find_task, ps). */
#define MM_OOM_SCORE_ADJ_MIN (-1000)   /* never killed */
#define MM_OOM_SCORE_ADJ_MAX 1000

/* /proc/PID/oom_score_adj (fork copies it). 0, -MM_EINVAL (outside
 * -1000..1000) or -MM_ESRCH (killed); nothing changed on failure. */
int mm_task_set_oom_score_adj(struct mm_task *t, int adj);
int mm_task_oom_score_adj(const struct mm_task *t);
/* /proc/PID/oom_score: the badness scaled to 0..2000,
 * (1000 + badness * 1000 / totalpages) * 2 / 3; 0 for a process that cannot
 * be killed (oom_score_adj -1000, or already killed). */
unsigned long mm_task_oom_score(struct mm_machine *m, struct mm_task *t);
/* True once the OOM killer has killed t (reap it with mm_exit). */
bool mm_task_killed(const struct mm_task *t);
/* out_of_memory() as the allocator calls it for a failed allocation of
 * 2^order pages with gfp (the running process, if any, is "current" in
 * the report): kill the process with the highest badness. Returns the
 * victim's pid, or 0 when no process can be killed (logged, nothing
 * changed). */
int mm_out_of_memory(struct mm_machine *m, unsigned int order, mm_gfp_t gfp);

/* ---- system calls ----------------------------------------------------------- */

/* mmap(): anonymous (private, or shared: a shmem object; MAP_HUGETLB:
 * private anonymous memory in huge pages from the pool) or of a file opened
 * with mm_open (fd). Returns the start address (>= 0) or a negative error as
 * Linux returns it: -MM_EINVAL (len 0, bad flags, unaligned offset or fixed
 * address), -MM_ENOMEM (no room, a length that overflows, MAP_HUGETLB with
 * no huge pages), -MM_EEXIST (MAP_FIXED_NOREPLACE over a mapping),
 * -MM_EBADF (bad fd), -MM_EACCES (shared writable mapping of a read-only fd).
 * Nothing changes on failure (MAP_FIXED replaces old mappings only once the
 * new one is sure to fit). */
int64_t mm_do_mmap(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len,
		   int prot, int flags, int fd, uint64_t offset);

/* munmap(). Returns 0, or -MM_EINVAL (unaligned addr, len 0, range outside
 * the user half). Unmapping nothing is not an error (as Linux). */
int mm_do_munmap(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len);

/* mprotect(). Returns 0, -MM_EINVAL (unaligned, bad prot), -MM_ENOMEM (part
 * of the range is not mapped: VMAs before the hole are changed, as Linux),
 * -MM_EACCES (PROT_WRITE on a shared mapping opened read-only). */
int mm_do_mprotect(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len, int prot);

/* brk(): returns the new break, or the old one when the request fails (below
 * the heap start, over the next mapping or its guard, out of memory): the
 * Linux system call semantics. */
uint64_t mm_do_brk(struct mm_machine *m, struct mm_task *t, uint64_t brk);

/* sbrk() as libc builds it on brk: returns the old break, or -MM_ENOMEM
 * (nothing changed) when the break cannot move. */
int64_t mm_sbrk(struct mm_machine *m, struct mm_task *t, int64_t increment);

/* madvise(). MADV_DONTNEED drops the pages (the next touch reads zeroes for
 * private anonymous memory); NORMAL/RANDOM/SEQUENTIAL/WILLNEED are accepted
 * and do nothing. Returns 0, -MM_EINVAL (unaligned, unknown advice) or
 * -MM_ENOMEM (a hole in the range; the mapped parts are still advised). */
int mm_do_madvise(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len, int advice);

/* msync(). Returns 0, -MM_EINVAL (unaligned, bad flags, ASYNC with SYNC),
 * -MM_ENOMEM (a hole in the range). */
int mm_do_msync(struct mm_machine *m, struct mm_task *t, uint64_t addr, uint64_t len, int flags);

/* ---- files and System V shared memory ---------------------------------------- */

#define MM_O_RDONLY  0
#define MM_O_RDWR    2
#define MM_O_ACCMODE 3

/* open() of a host file into t's descriptor table. Every process mapping
 * the same host file (device and inode) shares one page cache. Returns the
 * descriptor (>= 0), or -MM_EMFILE (table full), -MM_EINVAL (flags),
 * -MM_EACCES (not a regular file) or the host's -errno (-MM_ENOENT...). */
int mm_open(struct mm_machine *m, struct mm_task *t, const char *path, int flags);
/* close(): 0 or -MM_EBADF. Mappings of the file stay valid. */
int mm_close(struct mm_machine *m, struct mm_task *t, int fd);
/* fsync(): write back every dirty cached page of the file (whoever
 * dirtied it). 0, -MM_EBADF, -MM_ESRCH (a killed process), -MM_EIO (a
 * host write failed: those pages stay dirty). */
int mm_fsync(struct mm_machine *m, struct mm_task *t, int fd);

#define MM_IPC_PRIVATE 0
#define MM_IPC_CREAT   01000
#define MM_IPC_EXCL    02000
#define MM_IPC_RMID    0
#define MM_IPC_STAT    2
#define MM_SHM_RDONLY  010000
#define MM_SHM_RND     020000

/* What IPC_STAT reports (the fields of struct shmid_ds mmsim keeps). */
struct mm_shmid_ds {
	int32_t key;
	uint64_t shm_segsz;
	uint64_t shm_nattch;
	int shm_cpid, shm_lpid;
	bool removed;          /* SHM_DEST: marked for removal */
};

/* shmget(): the id of the segment with that key (created with IPC_CREAT;
 * IPC_PRIVATE always creates). Returns the id (>= 0), -MM_ENOENT (no such
 * key without IPC_CREAT), -MM_EEXIST (IPC_CREAT|IPC_EXCL on an existing
 * key), -MM_EINVAL (size 0, or larger than the existing segment),
 * -MM_ENOMEM. */
int mm_shmget(struct mm_machine *m, struct mm_task *t, int32_t key, uint64_t size, int shmflg);
/* shmat(): attach at addr (0: the kernel chooses; SHM_RND rounds down),
 * read-only with SHM_RDONLY. Returns the address or -MM_EINVAL (bad id,
 * unaligned address) / -MM_ENOMEM. */
int64_t mm_shmat(struct mm_machine *m, struct mm_task *t, int shmid, uint64_t addr, int shmflg);
/* shmdt(): detach the segment attached at addr. 0 or -MM_EINVAL. */
int mm_shmdt(struct mm_machine *m, struct mm_task *t, uint64_t addr);
/* shmctl() with IPC_STAT (fills *buf) or IPC_RMID (the segment goes when
 * its last attachment does). 0 or -MM_EINVAL. */
int mm_shmctl(struct mm_machine *m, struct mm_task *t, int shmid, int cmd, struct mm_shmid_ds *buf);

/* ---- segmentation ------------------------------------------------------------------ */

/* Segment registers, in the x86 encoding order. */
enum mm_segreg { MM_SEG_ES, MM_SEG_CS, MM_SEG_SS, MM_SEG_DS, MM_SEG_FS, MM_SEG_GS, MM_NR_SEGREGS };

/* Descriptor type bits for code/data segments (system = false). */
#define MM_SEGT_ACCESSED 0x1
#define MM_SEGT_WRITE    0x2   /* data: writable; code: readable */
#define MM_SEGT_EXPDOWN  0x4   /* data: expand-down; code: conforming */
#define MM_SEGT_CODE     0x8

/* A segment descriptor, decoded. limit is the last valid offset in bytes
 * (mm_gdt_set stores limits above 0xfffff with 4 KiB granularity; they must
 * then end in 0xfff). */
struct mm_segdesc {
	uint32_t base, limit;
	uint8_t type, dpl;
	bool system, present, long_mode, db, granularity;
};

/* Write / read GDT entry index (1..31; entry 0 is the null descriptor).
 * 0 or -MM_EINVAL (nothing changed). */
int mm_gdt_set(struct mm_machine *m, unsigned int index, const struct mm_segdesc *d);
int mm_gdt_get(struct mm_machine *m, unsigned int index, struct mm_segdesc *d);
/* MOV to a segment register (not CS) with the hardware's checks. Returns 0,
 * or -MM_EFAULT (#GP: SIGSEGV) / -MM_EIO (#NP: SIGBUS) with the register
 * unchanged and mm_task_siginfo() set; -MM_EINVAL for CS. */
int mm_seg_load(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint16_t sel);
int mm_seg_get(const struct mm_task *t, enum mm_segreg reg, uint16_t *sel, struct mm_segdesc *d);
/* arch_prctl(ARCH_SET_FS/ARCH_SET_GS) in 64-bit modes: 0, -MM_EINVAL,
 * -MM_EPERM (a base outside the user half). */
int mm_arch_prctl_set_base(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint64_t base);
/* An access through a segment: logical (reg:offset) -> linear with the
 * limit and type checks of the mode, then mm_access. A segment fault
 * returns -MM_EFAULT (#GP: SIGSEGV) or -MM_EIO (#SS: SIGBUS). */
int mm_access_seg(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint64_t offset,
		  void *buf, size_t len, enum mm_access_kind kind);

/* ---- memory accesses through the MMU ---------------------------------------- */

/* len bytes at virtual address va of process t, as the CPU does them in user
 * mode: segmentation (flat), TLB, page walk, page faults handled by the
 * kernel and the access retried. READ copies into buf, WRITE copies from
 * buf, EXEC fetches into buf through the instruction TLB. Accesses that cross
 * pages are split. Returns 0, or on a fault the kernel cannot resolve:
 * -MM_EFAULT (SIGSEGV) / -MM_EIO (SIGBUS) / -MM_ENOMEM (out of memory and
 * no process the OOM killer may kill) / -MM_ESRCH (the OOM killer killed t,
 * by this access or before: SIGKILL) with mm_task_siginfo() describing it;
 * bytes before the faulting page were moved. */
int mm_access(struct mm_machine *m, struct mm_task *t, uint64_t va, void *buf, size_t len,
	      enum mm_access_kind kind);

static inline int mm_read(struct mm_machine *m, struct mm_task *t, uint64_t va, void *buf, size_t len)
{
	return mm_access(m, t, va, buf, len, MM_ACCESS_READ);
}

static inline int mm_write(struct mm_machine *m, struct mm_task *t, uint64_t va, const void *buf,
			   size_t len)
{
	return mm_access(m, t, va, (void *)(uintptr_t)buf, len, MM_ACCESS_WRITE);
}

/* A supervisor-mode (kernel) access through the current page tables: the
 * direct map and other kernel mappings. Same return values. */
int mm_kernel_access(struct mm_machine *m, uint64_t va, void *buf, size_t len,
		     enum mm_access_kind kind);

/* Translate without faulting: the physical address of va in t's page tables
 * (a software walk, no A/D update, no TLB), or -MM_EFAULT if not mapped. */
int64_t mm_virt_to_phys(struct mm_machine *m, struct mm_task *t, uint64_t va);

/* ---- the kernel's allocation API (seed 003) --------------------------------- */
/* Addresses are kernel virtual addresses of this machine (use them with
 * mm_kernel_access); 0 means failure, with nothing changed. */

/* alloc_pages + page_address: 2^order contiguous frames (zone modifiers
 * MM_GFP_DMA / MM_GFP_DMA32 limit where), at their direct-map address.
 * On 32-bit they come from low memory (ZONE_NORMAL/DMA, below 896 MiB)
 * unless MM_GFP_HIGHMEM is passed. 0 when no block fits (or, with
 * MM_GFP_HIGHMEM, the block lies in high memory: no direct-map address). */
uint64_t mm_kernel_alloc_pages(struct mm_machine *m, mm_gfp_t gfp, unsigned int order);
void mm_kernel_free_pages(struct mm_machine *m, uint64_t va, unsigned int order);
/* kmalloc/kfree at direct-map addresses (the machine's slab instance). */
uint64_t mm_kernel_kmalloc(struct mm_machine *m, size_t size, mm_gfp_t gfp);
void mm_kernel_kfree(struct mm_machine *m, uint64_t va);
/* vmalloc: virtually contiguous, physically scattered, any size; vfree. */
uint64_t mm_vmalloc(struct mm_machine *m, uint64_t size);
void mm_vfree(struct mm_machine *m, uint64_t va);
/* dma_alloc_coherent: physically contiguous, from ZONE_DMA; *dma_handle
 * gets the bus (= physical) address. */
uint64_t mm_dma_alloc_coherent(struct mm_machine *m, uint64_t size, uint64_t *dma_handle);
void mm_dma_free_coherent(struct mm_machine *m, uint64_t size, uint64_t va);
/* ioremap of physical memory inside the boot reservation (reserve_bytes at
 * the top of RAM, kept from the allocator like mem=); uncached mapping in
 * the vmalloc area. 0 for anything else. */
uint64_t mm_ioremap(struct mm_machine *m, uint64_t phys, uint64_t size);
void mm_iounmap(struct mm_machine *m, uint64_t va);
/* set_fixmap: map physical page phys at fixed slot idx (0..255) below
 * FIXADDR_TOP; returns the virtual address (with phys's page offset) or 0. */
uint64_t mm_set_fixmap(struct mm_machine *m, unsigned int idx, uint64_t phys);
void mm_clear_fixmap(struct mm_machine *m, unsigned int idx);

/* ---- counters and the cost model ------------------------------------------- */

struct mm_counters {
	uint64_t accesses;       /* user accesses (one per page touched) */
	uint64_t dtlb_hits, itlb_hits; /* first-level hits */
	uint64_t stlb_hits;      /* second-level hits (after a first-level miss) */
	uint64_t tlb_misses;     /* misses in every level: page walks */
	uint64_t walk_refs;      /* memory references made by page walks */
	uint64_t dirty_walks;    /* walks to set a dirty bit on a TLB hit */
	uint64_t min_flt, maj_flt; /* resolved page faults (Linux's min_flt/maj_flt) */
	uint64_t cow_copies;     /* copy-on-write copies */
	uint64_t cow_reuses;     /* write faults that reused the page */
	uint64_t zero_maps;      /* reads that mapped the zero page */
	uint64_t segv;           /* SIGSEGV raised */
	uint64_t tlb_flushes;    /* TLB invalidations of this address space
				  * (pages by INVLPG, plus whole-PCID flushes) */
};

/* TLB-wide events (global only). */
struct mm_tlb_stats {
	uint64_t cr3_loads;      /* context switches that loaded CR3 */
	uint64_t full_flushes;   /* non-global flushes (CR3 load without PCID, or range too big) */
	uint64_t pcid_flushes;   /* a PCID slot reused: its old entries flushed */
	uint64_t invlpg;         /* single-page invalidations */
	uint64_t global_flushes; /* flushes including global entries */
	uint64_t shootdowns;     /* invalidations for an address space not running
				  * (IPIs on a real SMP machine) */
};

/* The counters of one process (since it was created; a fork child starts at 0). */
void mm_task_counters(const struct mm_task *t, struct mm_counters *out);
/* The machine-wide counters (live and exited processes). */
void mm_machine_counters(const struct mm_machine *m, struct mm_counters *out);
void mm_machine_tlb_stats(const struct mm_machine *m, struct mm_tlb_stats *out);

/* Effective access time, in ns per access, from the counters and the
 * latencies: every access costs a TLB lookup and a memory reference; a miss
 * adds its walk references; a fault adds fault_ns, a major fault disk_ns. */
double mm_effective_access_time(const struct mm_machine *m, const struct mm_counters *c);

/* ---- memory accounting ---------------------------------------------------------- */

struct mm_meminfo {
	uint64_t total_pages;     /* MemTotal: managed RAM minus boot allocations */
	uint64_t free_pages;      /* MemFree */
	uint64_t anon_pages;      /* AnonPages: anonymous pages mapped by processes */
	uint64_t pagetable_pages; /* PageTables: process page-table pages */
	uint64_t slab_pages;      /* Slab */
	uint64_t kernel_pages;    /* other kernel allocations (kalloc API) */
	uint64_t shmem_pages;     /* Shmem */
	uint64_t cached_pages;    /* Cached (page cache, Shmem included) */
	uint64_t mapped_pages;    /* Mapped: page-cache pages mapped by processes */
	uint64_t boot_pages;      /* kernel page tables and data reserved at boot */
	uint64_t dirty_pages;     /* Dirty: file pages marked dirty, not yet written */
	uint64_t available_pages; /* MemAvailable, as si_mem_available() computes it */
	uint64_t commit_limit;    /* CommitLimit: (RAM - huge pool) * 50% + swap */
	uint64_t committed_as;    /* Committed_AS: pages of VM_ACCOUNT mappings */
	uint64_t slab_pagemap_pages; /* in Slab: the slab's page-map nodes (one leaf
				      * per 2 MiB of RAM its slabs have used; kept
				      * for the machine's life, like mem_map) */
	uint64_t high_total_pages; /* HighTotal: managed pages of ZONE_HIGHMEM
				    * (32-bit only; LowTotal = MemTotal - this) */
	uint64_t high_free_pages;  /* HighFree (LowFree = MemFree - this) */
};
void mm_machine_meminfo(struct mm_machine *m, struct mm_meminfo *out);

/* echo 3 > /proc/sys/vm/drop_caches: return every empty slab (and the
 * calling thread's slab magazines) to the buddy allocator. Returns the
 * number of pages freed. */
uint64_t mm_machine_drop_caches(struct mm_machine *m);

/* ---- checking ----------------------------------------------------------------- */

/* Walk everything: each process's VMA tree (red-black rules, order, gaps,
 * list, map_count), its page tables against its VMAs (present entries only
 * inside VMAs, permissions no wider than the VMA's, entries pointing to
 * frames owned as user pages or page tables), RSS and PageTables counters,
 * every user frame's refcount and mapcount against the PTEs that map it and
 * its reverse map, and the buddy and slab accounting. Returns 0 or
 * -MM_ECORRUPT with a message on stderr. O(memory). */
int mm_machine_check(struct mm_machine *m);

/* ---- swap, reclaim and the simulated clock (docs/reclaim.md) ---------------- */

/* The simulated clock: advance it by `ticks` (1/hz s each). Each call runs,
 * once, what became due: kswapd if it was woken (free pages fell below the
 * low watermark) reclaims until the high watermark; the flusher writes back
 * file pages dirty for dirty_expire_centisecs (every
 * dirty_writeback_centisecs); the replacement policies get their clock
 * interrupt every policy_tick_centisecs. */
void mm_machine_tick(struct mm_machine *m, uint64_t ticks);
/* The current simulated time in ticks. */
uint64_t mm_machine_jiffies(const struct mm_machine *m);

/* try_to_free_pages(): reclaim up to nr pages now, in the order of
 * docs/reclaim.md (clean page cache, dirty file pages written back,
 * anonymous pages to swap), counted as direct reclaim. Returns the pages
 * freed (0 with reclaim off). */
uint64_t mm_machine_reclaim(struct mm_machine *m, uint64_t nr);

/* sync(): write back every dirty page of every shared file mapping.
 * Returns 0 or -MM_EIO (a host write failed; those pages stay dirty). */
int mm_machine_sync(struct mm_machine *m);

/* The swap device. */
struct mm_swap_info {
	uint64_t total_pages;        /* SwapTotal: usable slots (header excluded) */
	uint64_t free_pages;         /* SwapFree */
	uint64_t cached_pages;       /* SwapCached: swap-cache pages in RAM */
	uint64_t pswpin, pswpout;    /* pages read from / written to swap */
	uint64_t write_errors;       /* failed slot writes (the page was kept) */
	uint64_t full_events;        /* anonymous pages kept because no slot was free */
	const char *path;            /* the swap file ("" without swap) */
};
void mm_machine_swap_info(const struct mm_machine *m, struct mm_swap_info *out);

/* Fault injection: let `n` more swap writes succeed, then fail every one
 * (as an I/O error would) until called again; MM_SWAP_FAIL_NEVER turns it
 * off. A failed write keeps the page resident, mapped and dirty, and logs
 * "Write-error on swap-device" in the kernel log. */
#define MM_SWAP_FAIL_NEVER UINT64_MAX
void mm_machine_swap_fail_after(struct mm_machine *m, uint64_t n);

/* Reclaim counters, as /proc/vmstat names them. */
struct mm_reclaim_stats {
	uint64_t pgscan_kswapd, pgscan_direct;   /* inactive-list pages the policy examined
						  * to choose victims (kept ones included);
						  * kswapd's include the headroom reclaim of
						  * a fault (kswapd's concurrent work) */
	uint64_t pgscan_anon, pgscan_file;       /* examined, by list */
	uint64_t pgsteal_kswapd, pgsteal_direct; /* pages freed */
	uint64_t pgsteal_file, pgsteal_anon;     /* freed, by kind */
	uint64_t pgactivate, pgdeactivate;       /* active/inactive moves (linux policy) */
	uint64_t pgrefill;                       /* active-list pages aged to find
						  * inactive ones (linux policy) */
	uint64_t pgrotated;                      /* Linux's: pages moved to the inactive tail
						  * when their writeback ended; always 0 (writes
						  * are synchronous) */
	uint64_t putback;                        /* victims reclaim gave back to the policy
						  * (dirty in pass 1, pinned, write failed,
						  * swap full) */
	uint64_t pageoutrun;                     /* kswapd runs */
	uint64_t allocstall;                     /* direct reclaim entries */
	uint64_t kswapd_wakeups;                 /* times kswapd was woken */
	uint64_t file_writeback;                 /* file pages written by reclaim */
	uint64_t flusher_writeback;              /* file pages written by the flusher */
	uint64_t local_reclaims;                 /* local replacement evictions */
	uint64_t slab_shrinks;                   /* slab pages freed by reclaim */
	uint64_t nr_active_anon, nr_inactive_anon; /* LRU sizes now */
	uint64_t nr_active_file, nr_inactive_file;
	uint64_t nr_unevictable;                 /* shmem pages (not swapped) */
	bool kswapd_awake;
};
void mm_machine_reclaim_stats(const struct mm_machine *m, struct mm_reclaim_stats *out);

/* The replacement policy of the LRU lists (canonical spec; "" with reclaim off). */
const char *mm_machine_reclaim_policy(const struct mm_machine *m);

/* Local replacement: the frames process t may hold (0 = no limit). A
 * process at its limit that needs a frame first reclaims one of its own
 * (the frames it faulted in). 0 or -MM_EINVAL (reclaim off). */
int mm_task_set_frame_limit(struct mm_machine *m, struct mm_task *t, uint64_t frames);
/* Frames charged to t (faulted in by it and still resident). */
uint64_t mm_task_frames(const struct mm_machine *m, const struct mm_task *t);

/* OPT inside the machine: the time (in user accesses since boot, counting
 * from 0, one per page touched) of the next access to the page the next
 * mm_access touches; the caller knows it from a pre-pass over its trace.
 * Other policies ignore it; without it OPT sees MM_POLICY_NEVER. */
void mm_machine_set_next_use(struct mm_machine *m, uint64_t next_use);

/* ---- reclaim hooks (issue 4 builds on these) ------------------------------- */

/* Callbacks the reclaim layer installs (all optional). The machine's own
 * swap and reclaim (swap.c, reclaim.c) install theirs at create;
 * mm_machine_set_reclaim_hooks() puts an external layer in their place
 * (the built-in kswapd, flusher and checks then stand aside; boot with
 * no_reclaim and no swap to start from an empty set). */
struct mm_reclaim_hooks {
	/* A user frame became resident (anonymous or page cache): LRU add. */
	void (*page_added)(void *ctx, struct mm_page *page);
	/* A user frame is about to be freed (no mapping, no cache reference). */
	void (*page_removed)(void *ctx, struct mm_page *page);
	/* An allocation of 2^order pages failed: reclaim and return true to
	 * retry (direct reclaim), false to fail (the fault then returns OOM). */
	bool (*alloc_failed)(void *ctx, unsigned int order, mm_gfp_t gfp);
	/* A fault found a swap entry in a PTE: bring the page in and map it,
	 * return 0 (the access is retried), -MM_ENOMEM or -MM_EIO. Without this
	 * hook such a fault is SIGBUS. *major is set when I/O was done. */
	int (*swapin)(void *ctx, struct mm_task *t, uint64_t va, uint64_t pte, bool *major);
	/* A PTE holding swap entry `pte` was cleared (munmap, exit): drop
	 * that reference to the slot (Linux's swap_free). */
	void (*swap_free)(void *ctx, uint64_t pte);
	/* fork copied a swap entry into the child: take a reference to the
	 * slot (swap_duplicate); non-zero fails the fork with -MM_ENOMEM. */
	int (*swap_dup)(void *ctx, uint64_t pte);
	void *ctx;
};
void mm_machine_set_reclaim_hooks(struct mm_machine *m, const struct mm_reclaim_hooks *h);

/* Visit every PTE mapping a user frame (the reverse map). fn returns false
 * to stop. Returns the number of PTEs visited. */
unsigned int mm_rmap_walk(struct mm_machine *m, struct mm_page *page,
			  bool (*fn)(struct mm_machine *m, struct mm_task *t, uint64_t va,
				     void *arg),
			  void *arg);

/* Linux's page_referenced(): test and clear the accessed bit of every PTE
 * mapping the frame (flushing the TLB entries), return how many were set. */
int mm_page_referenced(struct mm_machine *m, struct mm_page *page);

/* A reference on the user frame pfn (NULL if pfn is not a 4 KiB user
 * frame: anonymous or page cache), and its release, which frees the frame
 * when it was the last reference (isolate / put, as reclaim does). */
struct mm_page *mm_user_page_get(struct mm_machine *m, uint64_t pfn);
void mm_user_page_put(struct mm_machine *m, struct mm_page *page);

/* Linux's try_to_unmap() for a frame the caller holds a reference on
 * (mm_user_page_get): remove every PTE mapping it (moving each PTE's dirty
 * bit to the page), flush the TLBs, drop the mappings' references (the
 * caller's keeps the frame). `swp_pte` (a value from mm_swp_entry_pte)
 * replaces each PTE when non-zero (anonymous pages going to swap; counted in
 * VmSwap), else the PTE is cleared. Returns the number of PTEs unmapped. */
int mm_try_to_unmap(struct mm_machine *m, struct mm_page *page, uint64_t swp_pte);

/* The machine as the host of a replacement policy (mmkit/policy.h) whose
 * items are PFNs of user frames: referenced and dirty come from the PTE
 * bits through the reverse map (page_referenced), writeback cleans a file
 * page. Pass &host in mm_policy_config.host; the machine must outlive the
 * policy. */
struct mm_policy_host mm_machine_policy_host(struct mm_machine *m);

/* A non-present PTE value encoding a swap entry (type 0..31, offset) in the
 * layout Linux uses for the paging mode, and its decoding (returns false if
 * pte is not a swap entry). */
uint64_t mm_swp_entry_pte(const struct mm_machine *m, unsigned int type, uint64_t offset);
bool mm_pte_swp_entry(const struct mm_machine *m, uint64_t pte, unsigned int *type,
		      uint64_t *offset);

/* ---- views (Linux formats) ---------------------------------------------------- */
/* Each writes into buf with snprintf semantics and returns the full length. */
size_t mm_show_meminfo(struct mm_machine *m, char *buf, size_t size);
size_t mm_show_free(struct mm_machine *m, char *buf, size_t size);
size_t mm_show_vmstat(struct mm_machine *m, char *buf, size_t size);
/* /proc/swaps: the header and the swap file's line (Size and Used in kB). */
size_t mm_show_swaps(struct mm_machine *m, char *buf, size_t size);
size_t mm_show_maps(struct mm_machine *m, struct mm_task *t, char *buf, size_t size);
size_t mm_show_status(struct mm_machine *m, struct mm_task *t, char *buf, size_t size);
size_t mm_show_smaps(struct mm_machine *m, struct mm_task *t, char *buf, size_t size);
size_t mm_show_buddyinfo(struct mm_machine *m, char *buf, size_t size);
size_t mm_show_slabinfo(struct mm_machine *m, char *buf, size_t size);
/* The process's proportional set size in bytes (sum of its smaps Pss,
 * without the per-VMA rounding). */
uint64_t mm_task_pss_bytes(struct mm_machine *m, struct mm_task *t);
size_t mm_show_ps(struct mm_machine *m, char *buf, size_t size);
/* The kernel log (dmesg): every line still in the 64 KiB ring, oldest
 * first, each "[%5lu.%06lu] message" with the simulated uptime in seconds
 * and microseconds (the clock's ticks plus the cost model's elapsed time).
 * "" when nothing was logged. */
size_t mm_show_dmesg(struct mm_machine *m, char *buf, size_t size);
/* The page walk of va in t (each level's index, entry and flags). */
size_t mm_show_pagewalk(struct mm_machine *m, struct mm_task *t, uint64_t va, char *buf,
			size_t size);

#endif /* MMKIT_SIM_H */
