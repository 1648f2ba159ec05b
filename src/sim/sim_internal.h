/* sim_internal.h — the simulated machine's private structures.
 *
 * Ownership: a machine owns its RAM (buddy allocator in real-memory mode),
 * its slab instance, its kernel page tables, its TLB and its tasks. A task
 * owns its mm; an mm owns its VMAs, its page-table pages and one reference
 * (and one mapcount) on every user frame a PTE of it maps. Nothing is
 * shared between machines. Single-threaded: no locks.
 */
#ifndef MMKIT_SIM_INTERNAL_H
#define MMKIT_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mmkit/buddy.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/list.h"
#include "mmkit/page.h"
#include "mmkit/rbtree.h"
#include "mmkit/sim.h"
#include "mmkit/slab.h"

/* ---- x86 paging-structure entry bits (Intel SDM vol. 3, 4.3-4.5) ---------- */
#define PTE_P     (1ULL << 0)   /* present */
#define PTE_RW    (1ULL << 1)   /* writable */
#define PTE_US    (1ULL << 2)   /* user accessible */
#define PTE_PWT   (1ULL << 3)
#define PTE_PCD   (1ULL << 4)
#define PTE_A     (1ULL << 5)   /* accessed (set by the walk) */
#define PTE_D     (1ULL << 6)   /* dirty (leaf; set by the walk on write) */
#define PTE_PS    (1ULL << 7)   /* page size (PDE/PDPTE): a large leaf */
#define PTE_G     (1ULL << 8)   /* global (leaf) */
#define PTE_SOFT1 (1ULL << 9)   /* software: Linux's _PAGE_SPECIAL (zero page) */
#define PTE_NX    (1ULL << 63)  /* no-execute (64-bit modes with EFER.NXE) */
/* Linux's PROT_NONE marker: a non-present entry with the G bit (_PAGE_PROTNONE)
 * still maps its frame for the kernel's purposes (pte_present()). */
#define PTE_PROTNONE PTE_G
#define PTE_SPECIAL  PTE_SOFT1

/* Linux's _PAGE_TABLE: what a user page-table entry pointing to a table holds. */
#define PTE_TABLE  (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
/* _KERNPG_TABLE: the same for kernel tables. */
#define PTE_KTABLE (PTE_P | PTE_RW | PTE_A | PTE_D)

/* ---- page descriptor owner bits used by the simulator ------------------------ */
#define SIM_PG_USER   (1u << 22) /* a user frame: anonymous or page cache */
#define SIM_PG_ZERO   (1u << 23) /* the shared zero page */
#define SIM_PG_KERNEL (1u << 24) /* kernel allocation API (kalloc) */
#define SIM_PG_BOOT   (1u << 25) /* allocated at boot: kernel tables, zero page */
#define SIM_PG_CACHE  (1u << 26) /* in a mapping's page cache (file or shmem) */
#define SIM_PG_HUGE   (1u << 27) /* head of a hugetlb pool page (in use or free) */

/* ---- page cache objects ---------------------------------------------------------- */

enum { SIM_MAP_FILE, SIM_MAP_SHMEM };

/* Linux's address_space (with the inode facts it needs).
 * Invariants: pages[i] is NULL or a user frame with SIM_PG_CACHE, mapping
 * == this, index == i, refcount == mapcount + 1; nrpages = non-NULL slots;
 * refs = open files + VMAs + shm segments using it. A file mapping with no
 * refs lives on while it has cached pages; a shmem one dies with its refs. */
struct sim_mapping {
	int kind;                    /* SIM_MAP_FILE / SIM_MAP_SHMEM */
	int refs;
	struct mm_page **pages;      /* by page offset (kmalloc'ed) */
	uint64_t cap, nrpages;
	uint64_t size;               /* bytes: the file size, or the shmem size */
	int host_fd;                 /* the host file (files) */
	bool host_writable;          /* host_fd is open read-write */
	uint64_t dev, ino;           /* identity of the host file */
	uint64_t *swapped;           /* shmem: swap slot of each page swapped out
				      * (0: none), swapped_cap entries (host memory,
				      * swap.c; Linux keeps swap entries in the xarray) */
	uint64_t swapped_cap, nr_swapped;
	char name[96];               /* path shown in maps */
	struct mm_list node;         /* machine->mappings */
};

/* A System V shared memory segment (Linux's shmid_kernel). */
struct sim_shm {
	int id;
	int32_t key;
	uint64_t size;               /* as asked */
	struct sim_mapping *map;     /* its shmem object (one ref) */
	int nattch;                  /* VMAs attached (Linux counts VMAs) */
	bool removed;                /* IPC_RMID done: destroyed at nattch 0 */
	int cpid, lpid;
	struct mm_list node;         /* machine->shms */
};

#define SIM_MAX_FILES 32

struct sim_file {
	struct sim_mapping *map;     /* NULL: the descriptor is free */
	int flags;                   /* MM_O_RDONLY / MM_O_RDWR */
};

/* ---- VMA flags (Linux's values) ------------------------------------------------ */
#define VM_READ      0x00000001ULL
#define VM_WRITE     0x00000002ULL
#define VM_EXEC      0x00000004ULL
#define VM_SHARED    0x00000008ULL
#define VM_MAYREAD   0x00000010ULL
#define VM_MAYWRITE  0x00000020ULL
#define VM_MAYEXEC   0x00000040ULL
#define VM_MAYSHARE  0x00000080ULL
#define VM_GROWSDOWN 0x00000100ULL
#define VM_LOCKED    0x00002000ULL
#define VM_SEQ_READ  0x00008000ULL
#define VM_RAND_READ 0x00010000ULL
#define VM_DONTCOPY  0x00020000ULL
#define VM_ACCOUNT   0x00100000ULL
#define VM_NORESERVE 0x00200000ULL
#define VM_HUGETLB   0x00400000ULL
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)

/* Which named region a VMA is (for maps). */
enum sim_vma_kind { VMA_PLAIN, VMA_STACK, VMA_TEXT, VMA_DATA, VMA_BSS,
		    VMA_VVAR, VMA_VVAR_VCLOCK, VMA_VDSO /* exec's special mappings (exec.c) */ };

/* A virtual memory area [vm_start, vm_end) of one mm (Linux's vm_area_struct).
 * Invariants: page aligned, vm_start < vm_end, no overlap with another VMA of
 * the mm; in the mm's rbtree and list, both ordered by address; `gap` is
 * vm_start_gap(this) - vm_end_gap(prev) (0 if negative, prev end 0 for the
 * first) and rb_subtree_gap the max of `gap` over the subtree. */
struct sim_vma {
	uint64_t vm_start, vm_end;
	uint64_t vm_flags;           /* VM_* */
	uint64_t vm_pgoff;           /* offset in pages (anonymous: vm_start >> 12) */
	struct sim_mm *mm;
	struct mm_rb_node rb;        /* mm->mm_rb, by address */
	struct mm_list node;         /* mm->vmas, by address */
	uint64_t gap;                /* free space just below this VMA */
	uint64_t rb_subtree_gap;     /* largest `gap` in the subtree */
	bool anon_vma;               /* holds anonymous pages (Linux: anon_vma != NULL):
				      * fork copies its PTEs */
	struct sim_mapping *mapping; /* file or shmem object (a ref), NULL: anonymous */
	struct sim_shm *shm;         /* the System V segment attached, or NULL */
	uint8_t kind;                /* enum sim_vma_kind */
};

enum { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, NR_MM_COUNTERS };

/* An address space (Linux's mm_struct).
 * Invariants: map_count = VMAs in the tree = in the list; pgtables = page-table
 * pages below the root (the root is counted too); rss[] = present user
 * PTEs by kind; highest_vm_end = end of the last VMA (0 if none). */
struct sim_mm {
	uint64_t pgd_pfn;            /* root of the page tables (CR3) */
	struct mm_rb_root mm_rb;
	struct mm_list vmas;
	int map_count;
	uint64_t highest_vm_end;
	uint64_t task_size;          /* top of the user half (exclusive) */
	uint64_t mmap_base;          /* top-down mmap starts below this */
	uint64_t stack_guard;        /* stack_guard_gap of the machine */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t total_vm, stack_vm, exec_vm, data_vm; /* pages */
	uint64_t committed;          /* pages of VM_ACCOUNT VMAs (Committed_AS) */
	int64_t rss[NR_MM_COUNTERS];
	uint64_t huge_pages;         /* hugetlb pages mapped (HugetlbPages, not RSS) */
	uint64_t hiwater_rss, hiwater_vm;
	uint64_t pgtables;           /* page-table pages, root included */
	uint64_t ctx_id;             /* unique id (PCID slot ownership) */
	struct mm_task *owner;
};

/* A segment register: the visible selector and the cached descriptor. */
struct sim_segreg {
	uint16_t sel;
	struct mm_segdesc d;
};

/* A process. */
struct mm_task {
	int pid, ppid;
	char comm[16];
	struct sim_mm *mm;
	uint64_t task_size;          /* mm->task_size, for the access fast path */
	struct mm_counters cnt;
	struct mm_siginfo sig;
	struct sim_file files[SIM_MAX_FILES];
	struct sim_segreg seg[MM_NR_SEGREGS];
	uint64_t fs_base, gs_base;   /* 64-bit FS/GS bases (arch_prctl) */
	int16_t oom_score_adj;       /* -1000..1000 (signal->oom_score_adj); fork copies it */
	struct mm_list node;         /* machine->tasks; machine->zombies once killed */
};

/* ---- TLB ------------------------------------------------------------------------ */

/* One cached translation. tag = (vpn << 14) | (size code << 12) | pcid;
 * mask = ~0 (or ~0xfff for a global entry: any PCID matches); an invalid
 * entry has tag = mask = ~0, which no key equals. pa_flags = physical base
 * of the page | TLB_* flags (< 4096). stamp = last use (LRU in the set). */
struct sim_tlb_entry {
	uint64_t tag, mask, pa_flags, stamp;
};

#define TLB_W  0x01u   /* writable at every level */
#define TLB_U  0x02u   /* user at every level */
#define TLB_NX 0x04u   /* no-execute at some level */
#define TLB_D  0x08u   /* the leaf's dirty bit was set when cached */
#define TLB_G  0x10u   /* global */
#define TLB_FLAGS 0xfffu

#define TLB_INVALID (~0ULL)

enum { TLB_SZ_4K, TLB_SZ_LARGE, TLB_SZ_1G };

struct sim_tlb_array {
	struct sim_tlb_entry *e;     /* sets * ways entries */
	uint64_t set_mask;           /* sets - 1 */
	unsigned int ways;
	unsigned int nvalid;         /* upper bound of valid entries (exact after
				      * a whole-array flush): 0 skips lookups */
	unsigned int shift;          /* page shift of the entries (12, 21/22, 30);
				      * the STLB holds 4K and large entries */
};

struct sim_tlb {
	struct sim_tlb_array d4k, dlarge, d1g, i4k, ilarge, stlb;
	uint64_t clock;              /* LRU stamps */
};

/* Linux keeps TLB_NR_DYN_ASIDS = 6 PCIDs per CPU, recycled LRU. */
#define SIM_NR_ASIDS 6

struct sim_cpu {
	struct mm_task *current;     /* running task, NULL for none (kernel only) */
	uint64_t cr3_pfn;            /* root of the loaded page tables */
	uint64_t pcid;               /* PCID of the loaded mm (0 without PCID) */
	struct { uint64_t ctx_id, last_use; } asid[SIM_NR_ASIDS];
	uint64_t asid_clock;
};

/* ---- paging mode ---------------------------------------------------------------- */

struct sim_paging {
	unsigned int levels;         /* 2, 4, 5 */
	unsigned int entry_size;     /* 4 or 8 bytes */
	unsigned int index_bits;     /* 10 or 9 */
	unsigned int shift[5];       /* shift[l]: address bit of level l's index;
				      * level 0 is the PTE level */
	uint64_t pfn_mask;           /* PFN bits of an entry (12..31 or 12..51) */
	bool nx;                     /* NX bit exists (EFER.NXE) */
	unsigned int large_level;    /* lowest level with large pages (1) */
	unsigned int max_large_level;/* 1 (4M, 2M) or 2 (1G) */
	unsigned int user_pgd_entries; /* root entries of the user half */
	uint64_t va_mask;            /* bits of a linear address */
};

/* Address-space layout of the mode (Documentation/arch/x86/x86_64/mm.rst,
 * arch/x86/include/asm/pgtable_32_areas.h). */
struct sim_layout {
	uint64_t task_size;          /* user half: [0, task_size) */
	uint64_t map_window;         /* DEFAULT_MAP_WINDOW: stack and mmap_base */
	uint64_t page_offset;        /* direct map start */
	uint64_t direct_map_bytes;   /* RAM mapped by the direct map */
	uint64_t vmalloc_start, vmalloc_end;
	uint64_t fixaddr_top;
	uint64_t elf_base;           /* where the synthetic text goes */
};

/* Reverse map: one item per PTE mapping a user frame (the 2.5-era pte_chain:
 * every frame knows the PTEs that map it). Head per PFN in machine->rmap. */
struct sim_rmap {
	struct sim_rmap *next;
	struct sim_mm *mm;
	uint64_t va;
};

/* The kernel log ring (klog.c): buf holds len bytes of whole lines from
 * offset head, wrapping at SIM_KLOG_BYTES; buf is allocated on first use. */
#define SIM_KLOG_BYTES (64u << 10)
struct sim_klog {
	char *buf;
	size_t head, len;
};

struct mm_machine {
	struct mm_machine_config cfg;
	struct sim_paging pg;
	struct sim_layout lay;
	struct mm_buddy *buddy;
	uint8_t *ram;                /* host address of physical address 0 */
	uint64_t nr_pages;           /* RAM frames */
	struct mm_page_source ps;    /* the buddy as a page source, for kmem */
	struct mm_kmem *kmem;
	struct mm_kmem_cache *task_cache, *mm_cache, *vma_cache, *rmap_cache;
	struct sim_rmap **rmap;      /* per PFN: reverse-map chain (host array,
				      * an extension of struct page) */
	uint64_t kernel_pgd_pfn;     /* init_mm's root: the kernel half */
	uint64_t direct_map_leaves[3]; /* direct-map leaf entries by level (4K,
					* 2M/4M, 1G): meminfo's DirectMap rows */
	uint64_t zero_pfn;
	uint64_t gdt_pa;             /* the GDT's page */
	uint16_t user_cs, user_ds;   /* Linux's flat user selectors */
	struct sim_tlb tlb;
	struct sim_cpu cpu;
	struct mm_reclaim_hooks hooks;
	struct mm_list tasks;
	struct mm_list zombies;      /* tasks the OOM killer killed, not yet reaped
				      * by mm_exit (no mm; oom.c) */
	struct mm_list mappings;     /* every sim_mapping */
	struct mm_list shms;         /* System V segments */
	struct mm_list vmap_areas;   /* vmalloc / ioremap areas, by address */
	int next_shm_id;
	int nr_tasks, next_pid;
	uint64_t next_ctx_id;
	/* accounting (pages) */
	uint64_t boot_pages;         /* kernel tables, zero page: not in MemTotal */
	uint64_t managed_at_boot;    /* buddy free pages right after boot */
	uint64_t pagetable_pages;    /* process page tables (PageTables) */
	uint64_t anon_pages;         /* AnonPages */
	uint64_t kernel_pages;       /* kalloc API */
	uint64_t kmem_self_pages;    /* the slab instance's own descriptor */
	uint64_t cache_pages;        /* page-cache pages, shmem included (Cached) */
	uint64_t shmem_pages;        /* Shmem */
	uint64_t pgpgin, pgpgout;    /* KiB read from / written to files */
	uint64_t vmalloc_pages;      /* VmallocUsed */
	/* the hugetlb pool: huge_total blocks of 2^huge_order frames, the free
	 * ones listed in huge_free_pfn[0 .. huge_free) */
	unsigned int huge_order, huge_shift;
	uint64_t huge_total, huge_free;
	uint64_t *huge_free_pfn;
	/* counters */
	struct mm_counters dead;     /* of exited tasks */
	struct mm_counters kcnt;     /* kernel-mode accesses */
	struct mm_tlb_stats tlbst;
	uint64_t pgfault, pgmajfault, nr_forks, nr_exits;
	uint64_t pgalloc_fail;
	mm_gfp_t oom_gfp;            /* the last failed allocation (sim_alloc_page; */
	unsigned int oom_order;      /* GFP_KERNEL/0 at each fault's start): what the
				      * OOM killer reports and reclaims for */
	uint64_t oom_kill;           /* processes the OOM killer killed */
	struct sim_klog klog;        /* dmesg */
	/* issue 4: swap and reclaim (swap.c, reclaim.c) */
	struct sim_swap *swap;       /* the swap device, NULL without swap */
	struct sim_reclaim *rc;      /* LRU lists, kswapd, flusher; NULL if off */
	int fault_pid;               /* the process whose fault runs (or ran last):
				      * new frames are charged to it (local replacement) */
	bool watch_all;              /* an idealised policy runs: every user access
				      * is reported (the TLB-hit fast path is off) */
};

/* ---- helpers ---------------------------------------------------------------------- */

/* A process the OOM killer killed: a zombie with no mm until mm_exit reaps
 * it. Calls that need its address space return -MM_ESRCH. */
static inline bool task_dead(const struct mm_task *t)
{
	return mm_unlikely(t->mm == NULL);
}

static inline void *pfn_host(const struct mm_machine *m, uint64_t pfn)
{
	return m->ram + (pfn << MM_PAGE_SHIFT);
}

static inline struct mm_page *pfn_page(const struct mm_machine *m, uint64_t pfn)
{
	return mm_pfn_to_page(m->buddy, pfn);
}

static inline uint64_t page_pfn(const struct mm_machine *m, const struct mm_page *p)
{
	return mm_page_to_pfn(m->buddy, p);
}

/* Entry access: tables hold 4- or 8-byte entries. */
static inline uint64_t ent_get(const struct mm_machine *m, const void *p)
{
	return m->pg.entry_size == 8 ? *(const uint64_t *)p : *(const uint32_t *)p;
}

static inline void ent_set(const struct mm_machine *m, void *p, uint64_t v)
{
	if (m->pg.entry_size == 8)
		*(uint64_t *)p = v;
	else
		*(uint32_t *)p = (uint32_t)v;
}

static inline void *ent_ptr(const struct mm_machine *m, uint64_t table_pfn, unsigned int idx)
{
	return (uint8_t *)pfn_host(m, table_pfn) + (size_t)idx * m->pg.entry_size;
}

static inline unsigned int ent_index(const struct mm_machine *m, uint64_t va, unsigned int lvl)
{
	return (unsigned int)((va >> m->pg.shift[lvl]) & ((1u << m->pg.index_bits) - 1));
}

static inline uint64_t ent_pfn(const struct mm_machine *m, uint64_t e)
{
	return (e & m->pg.pfn_mask) >> MM_PAGE_SHIFT;
}

static inline bool pte_present_sw(uint64_t e)
{
	return (e & (PTE_P | PTE_PROTNONE)) != 0;
}

static inline unsigned int entries_per_table(const struct mm_machine *m)
{
	return 1u << m->pg.index_bits;
}

/* Bytes covered by one entry of level lvl. */
static inline uint64_t level_size(const struct mm_machine *m, unsigned int lvl)
{
	return 1ULL << m->pg.shift[lvl];
}

static inline struct sim_vma *vma_next(struct sim_mm *mm, struct sim_vma *v)
{
	return v->node.next == &mm->vmas ? NULL : mm_list_entry(v->node.next, struct sim_vma, node);
}

static inline struct sim_vma *vma_prev(struct sim_mm *mm, struct sim_vma *v)
{
	return v->node.prev == &mm->vmas ? NULL : mm_list_entry(v->node.prev, struct sim_vma, node);
}

static inline struct sim_vma *vma_first(struct sim_mm *mm)
{
	return mm_list_empty(&mm->vmas) ? NULL : mm_list_entry(mm->vmas.next, struct sim_vma, node);
}

static inline uint64_t vma_pages(const struct sim_vma *v)
{
	return (v->vm_end - v->vm_start) >> MM_PAGE_SHIFT;
}

static inline bool vma_is_anonymous(const struct sim_vma *v)
{
	return v->mapping == NULL;
}

/* The kmalloc size classes of mmkit/slab.h (warmed at boot, shrunk by
 * drop_caches). */
static const size_t sim_kmalloc_sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048,
					    4096, 8192 };

/* ---- machine.c ---- */
struct mm_page *sim_alloc_page(struct mm_machine *m, mm_gfp_t gfp, unsigned int order);

/* ---- filemap.c ---- */
struct sim_mapping *sim_mapping_new(struct mm_machine *m, int kind, uint64_t size);
void sim_mapping_get(struct sim_mapping *map);
void sim_mapping_put(struct mm_machine *m, struct sim_mapping *map);
void sim_mapping_destroy(struct mm_machine *m, struct sim_mapping *map);
uint64_t sim_drop_page_cache(struct mm_machine *m);
/* Take a page out of its mapping's page cache (reclaim); the cache's
 * reference goes (freed if nothing else holds it). */
void sim_page_cache_delete(struct mm_machine *m, struct mm_page *page);
int sim_do_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va, void *ep,
		 bool write, bool *major);
int sim_writeback(struct mm_machine *m, struct sim_mapping *map, uint64_t first, uint64_t last);
/* Write back what a shared file VMA covers of [start, end). */
void sim_vma_writeback(struct mm_machine *m, struct sim_vma *v, uint64_t start, uint64_t end);

/* ---- segment.c ---- */
int sim_gdt_init(struct mm_machine *m);
void sim_seg_init_task(struct mm_machine *m, struct mm_task *t);

/* ---- hugetlb.c ---- */
int sim_hugetlb_init(struct mm_machine *m);
void sim_hugetlb_destroy(struct mm_machine *m);
/* Give a huge page whose last reference went back to the pool. */
void sim_huge_page_free(struct mm_machine *m, struct mm_page *page);
int sim_hugetlb_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va,
		      bool write);

/* ---- klog.c ---- */
/* printk(): append one line (a trailing newline is optional) to the kernel
 * log with a "[    s.us] " timestamp of the simulated clock. Never fails
 * visibly: a message that cannot be stored is dropped. */
void mm_klog(struct mm_machine *m, const char *fmt, ...) MM_PRINTF(2, 3);
/* The kernel log's clock in ns: the cost model's time of every access and
 * fault so far plus the simulated clock's ticks (dmesg timestamps). */
uint64_t sim_klog_clock_ns(const struct mm_machine *m);
void sim_klog_destroy(struct mm_machine *m);

/* ---- swap.c ---- */
int sim_swap_init(struct mm_machine *m);
void sim_swap_destroy(struct mm_machine *m);
/* A swap-cache page lost its last mapping (rmap.c): drop it and its slot
 * at once when no PTE refers to the slot any more. */
void sim_swap_page_unmapped(struct mm_machine *m, struct mm_page *page);
/* do_wp_page on a swap-cache page mapped once: free its slot when no other
 * PTE holds it (the page can then be reused for the write). */
void sim_swap_try_free(struct mm_machine *m, struct mm_page *page);
/* Write a dirty anonymous page to swap ahead of eviction (WSClock's
 * cleaning); it stays resident, clean, in the swap cache. */
bool sim_swap_preclean(struct mm_machine *m, struct mm_page *page);
/* Shmem: fill a new cache page from its swap slot if it was swapped out
 * (*major set, the slot freed). 0, or -MM_EIO (read error; slot kept). */
int sim_swap_shmem_in(struct mm_machine *m, struct sim_mapping *map, uint64_t idx,
		      struct mm_page *page, bool *major);
/* Shmem: the mapping dies: its swap slots are freed. */
void sim_swap_shmem_release(struct mm_machine *m, struct sim_mapping *map);
int sim_swap_check(struct mm_machine *m);

/* ---- reclaim.c ---- */
int sim_reclaim_init(struct mm_machine *m);
void sim_reclaim_destroy(struct mm_machine *m);
/* An access the MMU translated to host address h (idealised policies). */
void sim_reclaim_note_access(struct mm_machine *m, const uint8_t *h, enum mm_access_kind kind);
/* Every evictable user frame on exactly its list, list sizes, policies. */
int sim_reclaim_check(struct mm_machine *m);
/* shrink_slab(): give the machine's kmem caches' empty slabs back to the
 * buddy allocator (drop_caches and reclaim). */
void sim_shrink_slab_caches(struct mm_machine *m);

/* ---- oom.c ---- */
/* out_of_memory() on behalf of cur (NULL: no process is running) for a
 * failed allocation of 2^order pages: kill the process with the highest
 * badness (it becomes a zombie; its memory is freed). Returns the victim's
 * pid, 0 when no process can be killed. */
int sim_out_of_memory(struct mm_machine *m, struct mm_task *cur, unsigned int order, mm_gfp_t gfp);
/* t's page fault failed for lack of memory: direct reclaim (the
 * alloc_failed hook) while it makes progress, at most SIM_RECLAIM_RETRIES
 * times per fault (*reclaims counts them), then the OOM killer for the last
 * failed allocation. True when the fault should be retried (if t itself
 * was killed, task_dead(t)). */
#define SIM_RECLAIM_RETRIES 16   /* Linux's MAX_RECLAIM_RETRIES */
bool sim_oom_retry(struct mm_machine *m, struct mm_task *t, unsigned int *reclaims);

/* ---- kalloc.c ---- */
void sim_kalloc_destroy(struct mm_machine *m);

/* ---- shm.c ---- */
void sim_shm_vma_gone(struct mm_machine *m, struct sim_shm *seg);
void sim_shm_destroy_all(struct mm_machine *m);

/* ---- pgtable.c ---- */
int sim_pgd_alloc(struct mm_machine *m, struct sim_mm *mm);
void sim_pgd_free(struct mm_machine *m, struct sim_mm *mm);
/* Pointer to the leaf entry of va (4K PTE, or a large leaf), or NULL if a
 * table on the way is missing. *lvl gets the level of the entry. */
void *sim_pte_lookup(struct mm_machine *m, uint64_t root_pfn, uint64_t va, unsigned int *lvl);
/* Pointer to the 4K PTE of va, allocating tables on the way (counted in mm).
 * NULL when a frame cannot be had. */
void *sim_pte_alloc(struct mm_machine *m, struct sim_mm *mm, uint64_t va);
/* The same down to the entry of level leaf_lvl (1: a huge-page PMD/PDE). */
void *sim_entry_alloc(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int leaf_lvl);
/* Free the page tables that cover only [floor, ceiling) and lie within
 * [start, end) (Linux's free_pgtables); their entries must be empty. */
void sim_free_pgtables(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		       uint64_t floor, uint64_t ceiling);
/* Protection bits of a PTE for VMA flags (vm_page_prot, W left to the caller). */
uint64_t sim_vm_page_prot(const struct mm_machine *m, uint64_t vm_flags);
/* Call fn on every present (or PROT_NONE) leaf in [start, end): 4K PTEs
 * (lvl 0) and huge-page entries (lvl 1, PS set). */
typedef void (*sim_pte_fn)(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int lvl,
			   void *pte, void *arg);
void sim_for_each_pte(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
		      sim_pte_fn fn, void *arg);
/* The same, also visiting non-present non-empty 4K PTEs (swap entries). */
void sim_for_each_pte_any(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end,
			  sim_pte_fn fn, void *arg);

/* ---- tlb.c ---- */
int sim_tlb_init(struct mm_machine *m);
void sim_tlb_destroy(struct mm_machine *m);
void sim_tlb_insert(struct mm_machine *m, bool instr, uint64_t va, unsigned int shift,
		    uint64_t pa_base, uint32_t flags);
/* Invalidate every size's entry of va for pcid (and global ones if global). */
void sim_tlb_invalidate_va(struct mm_machine *m, uint64_t va, uint64_t pcid, bool global);
void sim_tlb_flush_pcid(struct mm_machine *m, uint64_t pcid);
void sim_tlb_flush_all(struct mm_machine *m, bool global);
/* Linux's flush_tlb_mm_range / flush_tlb_mm for an address space. */
void sim_flush_tlb_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end);
void sim_flush_tlb_mm(struct mm_machine *m, struct sim_mm *mm);
void sim_flush_tlb_kernel_range(struct mm_machine *m, uint64_t start, uint64_t end);
/* Find va's entry in the TLBs (first level, then second: *second), any
 * permissions; updates its LRU stamp. */
struct sim_tlb_entry *sim_tlb_find(struct mm_machine *m, bool instr, uint64_t va, bool *second,
				   unsigned int *shift, bool skip_l1_4k);
void sim_tlb_fill_l1(struct mm_machine *m, bool instr, uint64_t va, unsigned int shift,
		     uint64_t pa_flags);
void sim_tlb_entry_invalidate(struct sim_tlb_entry *e);
/* Load mm's CR3 (NULL: the kernel's), choosing its PCID. */
void sim_switch_mm(struct mm_machine *m, struct sim_mm *mm);
void sim_release_asid(struct mm_machine *m, struct sim_mm *mm);
/* PCID slot of mm on the CPU (1..6), or 0 if it has none. */
uint64_t sim_mm_pcid(const struct mm_machine *m, const struct sim_mm *mm);

/* ---- walk.c ---- */
struct sim_walk {
	uint64_t pa_base;            /* physical base of the page */
	unsigned int shift;          /* page shift: 12, 21, 22, 30 */
	uint32_t flags;              /* TLB_* */
	unsigned int refs;           /* memory references made */
};
/* The hardware walk: returns 0 and fills *w (A set at every level, D on write),
 * or SIM_WALK_FAULT | the page-fault error code (MM_PF_*). */
#define SIM_WALK_FAULT 0x80000000u
unsigned int sim_hw_walk(struct mm_machine *m, uint64_t root_pfn, uint64_t va,
			 enum mm_access_kind kind, bool user, struct sim_walk *w);

/* ---- vma.c ---- */
struct sim_vma *sim_vma_alloc(struct mm_machine *m);
/* vm_area_dup(): an unlinked copy of v (range, flags, offset, anon_vma,
 * kind) holding its own reference on v's mapping and shm segment; NULL
 * when out of memory, nothing taken. */
struct sim_vma *sim_vm_area_dup(struct mm_machine *m, const struct sim_vma *v);
void sim_vma_free(struct mm_machine *m, struct sim_vma *v);
struct sim_vma *sim_find_vma(struct sim_mm *mm, uint64_t addr);
struct sim_vma *sim_find_vma_intersection(struct sim_mm *mm, uint64_t start, uint64_t end);
void sim_vma_link(struct sim_mm *mm, struct sim_vma *v);
void sim_vma_unlink(struct sim_mm *mm, struct sim_vma *v);
/* vm_start / vm_end of v changed: fix the gaps. */
void sim_vma_bounds_changed(struct sim_mm *mm, struct sim_vma *v);
/* Split v at addr: v keeps [vm_start, addr), a new VMA takes [addr, vm_end)
 * (returned). NULL (nothing changed) if no VMA can be allocated. */
struct sim_vma *sim_split_vma(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v,
			      uint64_t addr);
/* Merge v with its neighbours where compatible; returns the surviving VMA. */
struct sim_vma *sim_vma_merge(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v);
uint64_t sim_vm_start_gap(const struct mm_machine *m, const struct sim_vma *v);
/* Highest free range of len bytes in [lo, hi), or -MM_ENOMEM. */
int64_t sim_unmapped_area_topdown(struct mm_machine *m, struct sim_mm *mm, uint64_t len,
				  uint64_t lo, uint64_t hi);
int sim_vma_check(struct mm_machine *m, struct sim_mm *mm);

/* ---- mmap.c ---- */
uint64_t sim_calc_vm_flags(int prot, int flags);
bool sim_vm_enough_memory(struct mm_machine *m, uint64_t pages);
int sim_munmap_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end);
int sim_populate(struct mm_machine *m, struct mm_task *t, uint64_t start, uint64_t end);
void sim_vm_stat_account(struct sim_mm *mm, uint64_t flags, int64_t npages);

/* ---- fault.c ---- */
/* The page-fault exception for a user access: returns 0 (retry the access)
 * or a negative error with t->sig set. */
int sim_do_page_fault(struct mm_machine *m, struct mm_task *t, uint64_t va, unsigned int err);
/* mm_account_fault(): count a handled fault as major or minor in t's
 * counters (and pgmajfault). */
void sim_mm_account_fault(struct mm_machine *m, struct mm_task *t, bool major);
/* handle_mm_fault for a VMA (also populate). 0, -MM_ENOMEM, -MM_EIO. */
int sim_handle_mm_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma,
			uint64_t va, bool write, bool *major);
bool sim_expand_stack(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v, uint64_t addr);
/* A user frame, zeroed if asked, retrying through the reclaim hook. */
struct mm_page *sim_alloc_user_page(struct mm_machine *m, bool zero);
/* Map at va (PTE at ep) a private anonymous copy of frame src_pfn (the
 * zero page gives a zeroed frame). With replace, the PTE maps src_pfn now
 * and that mapping is dropped first (do_wp_page); else it is empty
 * (do_cow_fault). */
int sim_cow_page(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va, void *ep,
		 uint64_t src_pfn, bool replace);

/* ---- rmap.c ---- */
int sim_rmap_add(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va);
void sim_rmap_remove(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va);
/* Drop one mapping of a user frame: rmap, mapcount, reference; frees it at 0. */
void sim_page_remove_rmap(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va);
void sim_put_user_page(struct mm_machine *m, struct mm_page *page);
int sim_rss_kind(const struct mm_page *page);
/* Zap (clear) the user PTEs of [start, end) in mm, dropping their pages;
 * flushes the TLB. */
void sim_zap_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end);

/* ---- task.c ---- */
struct sim_mm *sim_mm_alloc(struct mm_machine *m);
void sim_mm_free(struct mm_machine *m, struct sim_mm *mm);
void sim_exit_mmap(struct mm_machine *m, struct sim_mm *mm);
/* exit() but the task itself: its files and mm go, it leaves the task list
 * (mm NULL, counters added to the dead ones); mm_exit or a zombie list must
 * take the task. */
void sim_exit_task(struct mm_machine *m, struct mm_task *t);

#endif /* MMKIT_SIM_INTERNAL_H */
