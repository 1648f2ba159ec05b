/* mmkit/buddy.h — the buddy page allocator (Linux's mm/page_alloc.c).
 *
 * One `struct mm_buddy` manages a range of page frame numbers
 * [start_pfn, start_pfn + nr_pages) with a descriptor (struct mm_page) per
 * PFN. Blocks are 2^order pages, naturally aligned in PFN space, for orders
 * 0 .. max_order-1 (default 11 orders: 4 KiB .. 4 MiB). Free blocks sit on
 * free lists per zone, per order and per migrate type; an allocation splits
 * a larger block (Linux's expand()), a free merges with its buddy
 * `pfn ^ (1 << order)` while the buddy is free at the same order. Order-0
 * pages go through a per-thread cache (Linux's per-CPU pagesets). See
 * docs/buddy.md for the algorithm, the costs and an example.
 *
 * Two modes:
 *  - simulated: no memory base; the allocator touches no page memory and
 *    mm_page_address() returns NULL (the simulator keeps its own RAM);
 *  - real: `mem_base` is the address of start_pfn's page; addresses and
 *    MM_GFP_ZERO work, and mm_buddy_page_source() hands out memory.
 *
 * Zones (optional): ZONE_DMA [0, 16 MiB), ZONE_DMA32 [16 MiB, 4 GiB) and
 * ZONE_NORMAL above, by the physical address pfn << 12. Allocations try the
 * highest zone allowed by the gfp mask first, then lower ones (Normal ->
 * DMA32 -> DMA), each protected by Linux's lowmem_reserve. Without zones
 * every page is in ZONE_NORMAL and MM_GFP_DMA/DMA32 are ignored (as Linux
 * does when CONFIG_ZONE_DMA is off).
 * With zone_layout = MM_ZONES_X86_32 the zones are Linux/x86-32's: DMA
 * [0, 16 MiB), Normal [16 MiB, 896 MiB) and HighMem above (DMA32 empty;
 * MM_GFP_DMA32 then means Normal). Only MM_GFP_HIGHMEM allocations may use
 * HighMem (zonelist HighMem -> Normal -> DMA); the others never do.
 * min_free_kbytes counts lowmem only and is split among the lowmem zones;
 * HighMem's min is managed / 1024 clamped to [32, 128] pages, as Linux's
 * __setup_per_zone_wmarks() does.
 *
 * Watermarks: each zone has min/low/high derived as Linux derives them
 * (min_free_kbytes = sqrt(16 * lowmem_kbytes) clamped to [128, 262144],
 * split among zones by size; low = min + step, high = low + step with
 * step = max(min / 4, managed * watermark_scale_factor / 10000)). By default
 * an allocation fails (NULL) when it would take its zone below min
 * (+ lowmem_reserve), as Linux's get_page_from_freelist() does once reclaim
 * has nothing left; MM_GFP_HIGH may use half of min and MM_GFP_ATOMIC a
 * further quarter of that (Linux's ALLOC_MIN_RESERVE / ALLOC_NON_BLOCK).
 * Set `ignore_watermarks` to let every allocation use every free page.
 * (Linux's first pass checks the low mark and wakes kswapd; mmkit has no
 * kswapd inside the allocator: a simulator compares mm_zone_free_pages()
 * with mm_zone_wmark(z, MM_WMARK_LOW) itself.)
 *
 * Thread safety: every function may be called from any thread. One mutex
 * per zone; the order-0 per-thread cache path takes no lock and uses no
 * atomic read-modify-write. Destroying an allocator while another thread is
 * still calling it is undefined (as for any object); threads that merely
 * used it earlier may keep running.
 */
#ifndef MMKIT_BUDDY_H
#define MMKIT_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/gfp.h"
#include "mmkit/page.h"
#include "mmkit/pagesrc.h"

#define MM_MAX_ORDER_DEFAULT 11  /* orders 0..10, as Linux's NR_PAGE_ORDERS */
#define MM_MAX_ORDER_LIMIT   20  /* largest configurable number of orders */
#define MM_PAGEBLOCK_ORDER   9   /* pageblock_order (capped at max_order - 1) */
#define MM_PCP_LIMIT         (1u << 24) /* largest pcp_batch / pcp_high */

enum mm_zone_type {
	MM_ZONE_DMA,     /* [0, 16 MiB) */
	MM_ZONE_DMA32,   /* [16 MiB, 4 GiB) */
	MM_ZONE_NORMAL,  /* [4 GiB, ...), or everything when zones are off;
			  * 32-bit layout: [16 MiB, 896 MiB) */
	MM_ZONE_HIGHMEM, /* 32-bit layout only: [896 MiB, ...) */
	MM_NR_ZONES
};

#define MM_ZONE_DMA_END_PFN   ((16ULL << 20) >> MM_PAGE_SHIFT)
#define MM_ZONE_DMA32_END_PFN ((4ULL << 30) >> MM_PAGE_SHIFT)
#define MM_ZONE_HIGHMEM_START_PFN ((896ULL << 20) >> MM_PAGE_SHIFT) /* 32-bit */

/* Which zones the PFN range is split into (with zones on). */
enum mm_zone_layout {
	MM_ZONES_X86_64, /* DMA [0,16M), DMA32 [16M,4G), Normal above (default) */
	MM_ZONES_X86_32, /* DMA [0,16M), Normal [16M,896M), HighMem above */
};

/* Migrate types, in Linux's order (the pagetypeinfo rows). The first three
 * have free lists used by allocations; HighAtomic and Isolate exist so the
 * views match Linux but nothing puts pages there (no high-atomic reserve, no
 * isolation in mmkit). */
enum mm_migratetype {
	MM_MIGRATE_UNMOVABLE,
	MM_MIGRATE_MOVABLE,
	MM_MIGRATE_RECLAIMABLE,
	MM_MIGRATE_HIGHATOMIC,
	MM_MIGRATE_ISOLATE,
	MM_MIGRATE_TYPES
};
#define MM_MIGRATE_PCPTYPES 3

enum mm_wmark {
	MM_WMARK_MIN,
	MM_WMARK_LOW,
	MM_WMARK_HIGH,
	MM_NR_WMARK
};

/* A range of PFNs [start, start + nr). */
struct mm_pfn_range {
	uint64_t start;
	uint64_t nr;
};

struct mm_buddy_config {
	uint64_t start_pfn;          /* first PFN managed */
	uint64_t nr_pages;           /* number of PFNs (> 0) */
	void *mem_base;              /* address of start_pfn's page, or NULL
				      * (simulated mode); page aligned, and
				      * aligned like start_pfn modulo the largest
				      * block so blocks are naturally aligned */
	unsigned int max_order;      /* number of orders; 0 = 11 */
	bool zones;                  /* split into DMA/DMA32/Normal */
	enum mm_zone_layout zone_layout; /* with zones: default MM_ZONES_X86_64 */
	bool no_pcp;                 /* disable the per-thread order-0 cache */
	bool ignore_watermarks;      /* allocations may take every free page */
	unsigned int pcp_batch;      /* pages moved per refill/drain; 0 = Linux's
				      * zone_batchsize() of the zone; at most
				      * MM_PCP_LIMIT */
	unsigned int pcp_high;       /* drain `batch` pages when a free brings the
				      * cache to this many; 0 = 6 * batch; at
				      * most MM_PCP_LIMIT */
	unsigned long min_free_kbytes;   /* 0 = Linux's formula */
	unsigned int watermark_scale_factor; /* in 1/10000 of the zone; 0 = 10 */
	unsigned int lowmem_reserve_ratio[MM_NR_ZONES]; /* 0s = {256, 256, 32, 0} */
	const struct mm_pfn_range *reserved; /* memblock-style reserved ranges */
	size_t nr_reserved;
	int node_id;                 /* node number shown in the views */
};

struct mm_buddy;
struct mm_zone;

/* Fill `cfg` with the defaults for the range [start_pfn, start_pfn + nr_pages). */
void mm_buddy_config_init(struct mm_buddy_config *cfg, uint64_t start_pfn, uint64_t nr_pages);

/* Create an allocator. All non-reserved pages start free, merged into the
 * largest aligned blocks the range allows; every pageblock starts movable.
 * Returns 0 and sets *out, or -MM_EINVAL (bad range, order, alignment or
 * reserved range outside the range) / -MM_ENOMEM; *out is untouched then. */
int mm_buddy_create(const struct mm_buddy_config *cfg, struct mm_buddy **out);

/* As mm_buddy_create, with real memory: maps an anonymous region of
 * nr_pages pages aligned to the largest block (cfg->mem_base is ignored);
 * mm_buddy_destroy unmaps it. The region is placed at an address aligned to
 * the power of two covering it (start_pfn's offset in the largest block
 * included), so its offset from every power-of-two boundary of the host's
 * address space is the same on every run (falling back to the largest
 * block's alignment only when the host cannot spare the address space):
 * structures keyed by host address over it (the slab's page map) take the
 * same shape whatever address ASLR would have given. */
int mm_buddy_create_mmap(const struct mm_buddy_config *cfg, struct mm_buddy **out);

/* Free the allocator, its descriptors and per-thread caches (and the
 * mapping of mm_buddy_create_mmap). Outstanding pages simply vanish.
 * NULL is a no-op. */
void mm_buddy_destroy(struct mm_buddy *b);

/* Reserve [pfn, pfn + nr) after creation (memblock_reserve done late, like
 * Linux's take_page_off_buddy): the pages leave the free lists (per-thread
 * caches are drained first) and count as reserved; managed pages and the
 * watermarks are recomputed from the configured min_free_kbytes and scale
 * factor (an mm_zone_set_watermarks override is replaced). Already reserved
 * pages are fine. Returns 0, -MM_EINVAL (outside the range, nr == 0) or
 * -MM_EBUSY (some page is allocated); on failure nothing changed except
 * that the per-thread caches were drained. */
int mm_buddy_reserve(struct mm_buddy *b, uint64_t pfn, uint64_t nr);

/* ---- allocation ---------------------------------------------------------- */

/* Allocate 2^order contiguous pages, naturally aligned. gfp chooses the
 * highest zone (MM_GFP_DMA / DMA32), the migrate type (MM_GFP_MOVABLE /
 * RECLAIMABLE), the reserve access (MM_GFP_HIGH / ATOMIC) and zeroing
 * (MM_GFP_ZERO, real memory only). Returns the head page with refcount 1,
 * or NULL (order too large, no block, below the watermark) with nothing
 * changed. With per-thread caches on, order-0 pages parked in caches (this
 * thread's lists of other migrate types, other threads' caches) neither
 * serve the request nor merge, so it can fail while the caches hold enough
 * pages: Linux drains the per-CPU lists in its reclaim slow path; here a
 * caller that wants that retry calls mm_buddy_drain_all() and tries again. */
struct mm_page *mm_alloc_pages(struct mm_buddy *b, mm_gfp_t gfp, unsigned int order);

/* Free a block that mm_alloc_pages returned, with the same order. Aborts
 * (MM_BUG_ON, release builds too) on a double free, a foreign page or a
 * wrong order. NULL is a no-op. */
void mm_free_pages(struct mm_buddy *b, struct mm_page *page, unsigned int order);

/* Drop a reference; frees the block (of the order it was allocated with)
 * when the count reaches zero (Linux's put_page). Aborts like mm_free_pages
 * when the page is not the head of an allocated block (a put after the last
 * reference already freed it). */
void mm_put_page(struct mm_buddy *b, struct mm_page *page);

/* __get_free_pages / free_pages: the address versions (real mode only).
 * Return NULL when the allocator has no memory base. */
void *mm_get_free_pages(struct mm_buddy *b, mm_gfp_t gfp, unsigned int order);
void mm_free_pages_addr(struct mm_buddy *b, void *addr, unsigned int order);

/* ---- descriptors and addresses --------------------------------------------- */

uint64_t mm_page_to_pfn(const struct mm_buddy *b, const struct mm_page *page);
/* The descriptor of pfn, or NULL if pfn is outside the managed range. */
struct mm_page *mm_pfn_to_page(const struct mm_buddy *b, uint64_t pfn);
/* The page's address, or NULL in simulated mode. */
void *mm_page_address(const struct mm_buddy *b, const struct mm_page *page);
/* The descriptor of the page containing addr, or NULL (simulated mode or
 * outside the region). */
struct mm_page *mm_virt_to_page(const struct mm_buddy *b, const void *addr);

/* ---- per-thread cache ------------------------------------------------------- */

/* Return every page held in any thread's per-thread cache to the free lists
 * (Linux's drain_all_pages). Waits for a thread that is inside its cache to
 * leave it (a few instructions). */
void mm_buddy_drain_all(struct mm_buddy *b);

/* Return the calling thread's cached pages of this allocator (Linux's
 * drain_local_pages). Thread exit does this automatically. */
void mm_buddy_drain_local(struct mm_buddy *b);

/* ---- whole-allocator queries ------------------------------------------------- */

uint64_t mm_buddy_start_pfn(const struct mm_buddy *b);
uint64_t mm_buddy_nr_pages(const struct mm_buddy *b);
unsigned int mm_buddy_max_order(const struct mm_buddy *b);
unsigned int mm_buddy_pageblock_order(const struct mm_buddy *b);
/* Pages on the free lists of all zones (excludes per-thread caches, as
 * Linux's NR_FREE_PAGES does). */
uint64_t mm_buddy_free_pages(const struct mm_buddy *b);
/* Pages reserved (holes) in all zones. */
uint64_t mm_buddy_reserved_pages(const struct mm_buddy *b);
/* Migrate type of the pageblock containing pfn, or -MM_EINVAL outside. */
int mm_buddy_pageblock_migratetype(const struct mm_buddy *b, uint64_t pfn);

/* A page source over this allocator (address-returning, naturally aligned
 * blocks; real mode only: in simulated mode alloc_pages returns NULL). The
 * allocator must outlive the users of the source. */
struct mm_page_source mm_buddy_page_source(struct mm_buddy *b);

/* Verify every invariant: free blocks aligned, inside one zone, not
 * overlapping, fully merged, on the list of their pageblock's type; counts
 * per order / type / zone agree; reserved pages never free; every page is
 * exactly one of reserved, free (buddy or per-thread cache) or allocated.
 * Locks every zone and briefly locks out every per-thread cache.
 * Returns 0 or -MM_ECORRUPT (with a message on stderr). */
int mm_buddy_check(struct mm_buddy *b);

/* Event counters, as /proc/vmstat's pgalloc_dma / pgalloc_dma32 /
 * pgalloc_normal and pgfree (in pages, whatever the order), plus the number
 * of requests that returned NULL. Counts from the per-thread caches are
 * included (briefly locking them out), those of exited threads too. */
struct mm_buddy_events {
	uint64_t pgalloc[MM_NR_ZONES]; /* pages allocated, per zone */
	uint64_t pgfree;               /* pages freed */
	uint64_t alloc_fail;           /* allocation requests that failed */
};
void mm_buddy_events(struct mm_buddy *b, struct mm_buddy_events *ev);

/* ---- zones and watermarks ------------------------------------------------- */

/* The zone of that type, or NULL if it holds no pages. */
struct mm_zone *mm_buddy_zone(struct mm_buddy *b, enum mm_zone_type type);
/* The zone of a page. */
struct mm_zone *mm_page_zone(struct mm_buddy *b, const struct mm_page *page);

const char *mm_zone_name(const struct mm_zone *z);           /* "DMA", "DMA32", "Normal", "HighMem" */
enum mm_zone_type mm_zone_idx(const struct mm_zone *z);
uint64_t mm_zone_start_pfn(const struct mm_zone *z);
uint64_t mm_zone_spanned_pages(const struct mm_zone *z);
uint64_t mm_zone_present_pages(const struct mm_zone *z);
uint64_t mm_zone_managed_pages(const struct mm_zone *z);       /* present - reserved */
/* Free pages on the zone's free lists (a snapshot; NR_FREE_PAGES). */
uint64_t mm_zone_free_pages(const struct mm_zone *z);
/* Number of free blocks of that order (all migrate types). */
uint64_t mm_zone_nr_free(const struct mm_zone *z, unsigned int order);
uint64_t mm_zone_wmark(const struct mm_zone *z, enum mm_wmark mark);
/* lowmem_reserve[classzone]: pages this zone keeps back from allocations
 * whose highest allowed zone is `classzone` (0 for classzone <= own zone). */
uint64_t mm_zone_lowmem_reserve(const struct mm_zone *z, enum mm_zone_type classzone);

/* The zone's per-thread cache sizes (the "pagesets" of /proc/zoneinfo). */
unsigned int mm_zone_pcp_batch(const struct mm_zone *z);
unsigned int mm_zone_pcp_high(const struct mm_zone *z);

/* Linux's zone_watermark_ok(): true if, after taking 2^order pages, the zone
 * keeps at least `mark` (reduced for MM_GFP_HIGH / ATOMIC in gfp) plus
 * lowmem_reserve[highest_zone] free (Linux: free - (2^order - 1) > mark +
 * reserve), and a free block of at least that order exists. Read under the
 * zone lock; the answer may be stale as soon as it returns. */
bool mm_zone_watermark_ok(const struct mm_zone *z, unsigned int order, uint64_t mark,
			  enum mm_zone_type highest_zone, mm_gfp_t gfp);

/* Override a zone's watermarks (min <= low <= high, else -MM_EINVAL, nothing
 * changed). */
int mm_zone_set_watermarks(struct mm_zone *z, uint64_t min, uint64_t low, uint64_t high);

/* Recompute every zone's watermarks from min_free_kbytes (0 = Linux's
 * formula) and watermark_scale_factor (0 = 10), as Linux's
 * setup_per_zone_wmarks() does when the sysctls change. */
void mm_buddy_setup_watermarks(struct mm_buddy *b, unsigned long min_free_kbytes,
			       unsigned int watermark_scale_factor);

/* min_free_kbytes that Linux derives for lowmem_kbytes of memory:
 * int_sqrt(16 * lowmem_kbytes) clamped to [128, 262144]. */
unsigned long mm_calc_min_free_kbytes(uint64_t lowmem_kbytes);

/* ---- views ----------------------------------------------------------------- */
/* Each view exists in two forms: into a caller buffer (snprintf semantics:
 * returns the length of the whole text, writes at most size-1 characters and
 * a NUL when size > 0) and onto a FILE (returns 0 or -MM_EIO). Only populated
 * zones are shown, as Linux does. */

/* /proc/buddyinfo. */
size_t mm_buddy_show_buddyinfo(struct mm_buddy *b, char *buf, size_t size);
int mm_buddy_print_buddyinfo(struct mm_buddy *b, FILE *f);
/* /proc/pagetypeinfo (free counts per type, then pageblock counts). */
size_t mm_buddy_show_pagetypeinfo(struct mm_buddy *b, char *buf, size_t size);
int mm_buddy_print_pagetypeinfo(struct mm_buddy *b, FILE *f);
/* /sys/kernel/debug/extfrag/unusable_index. */
size_t mm_buddy_show_unusable_index(struct mm_buddy *b, char *buf, size_t size);
int mm_buddy_print_unusable_index(struct mm_buddy *b, FILE *f);
/* /sys/kernel/debug/extfrag/extfrag_index. */
size_t mm_buddy_show_extfrag_index(struct mm_buddy *b, char *buf, size_t size);
int mm_buddy_print_extfrag_index(struct mm_buddy *b, FILE *f);

/* Fragmentation figures of one zone for a request of 2^order pages, in
 * thousandths (see mmkit/fragindex.h for the formulas). */
int mm_zone_unusable_index(const struct mm_zone *z, unsigned int order);
int mm_zone_extfrag_index(const struct mm_zone *z, unsigned int order);

#endif /* MMKIT_BUDDY_H */
