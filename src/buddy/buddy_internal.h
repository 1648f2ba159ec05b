/* buddy_internal.h — the buddy allocator's private structures.
 *
 * Locking (outermost first):
 *   1. pcp registry lock (process-wide mutex, pcp.c): the lists of per-thread
 *      cache sets of every buddy and every thread; held by cache creation,
 *      thread exit, drain_all, check and destroy (slow paths only);
 *   2. a per-thread cache set is "locked out" by a drainer (set->locked);
 *      its owner uses it only between pcp_enter()/pcp_exit();
 *   3. zone->lock: the free lists, counters and pageblock types of the zone.
 *      Zones are locked in index order when several are held (check,
 *      reserve); the views lock one zone at a time.
 * mm_buddy_reserve and mm_buddy_setup_watermarks also hold the registry lock
 * (they change or read managed counts of every zone).
 * A thread inside its cache may take a zone lock (refill / bulk free), never
 * the registry lock; a drainer holds the registry lock and waits for owners
 * to leave their cache before it takes zone locks.
 */
#ifndef MMKIT_BUDDY_INTERNAL_H
#define MMKIT_BUDDY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmkit/buddy.h"
#include "mmkit/compiler.h"
#include "mmkit/list.h"
#include "mmkit/page.h"

/* One order of a zone: a free list per migrate type.
 * Invariant: a block on free_list[mt] has state MM_PAGE_BUDDY, ->order ==
 * this order, and every pageblock it touches has migrate type mt. */
struct mm_free_area {
	struct mm_list free_list[MM_MIGRATE_TYPES];
	uint64_t nr_free;                      /* blocks on all lists */
	uint64_t nr_free_mt[MM_MIGRATE_TYPES]; /* blocks per list */
};

/* Allocation classes for the reserve below min (Linux's alloc_flags). */
enum { WCLASS_NORMAL, WCLASS_HIGH, WCLASS_ATOMIC, NR_WCLASS };

/* A zone: a contiguous PFN range [start_pfn, end_pfn) inside the buddy range.
 * Everything below `lock` is protected by it, except the atomics, which are
 * written under the lock (or at setup) and read without it. */
struct mm_zone {
	pthread_mutex_t lock;
	struct mm_buddy *b;            /* owner */
	enum mm_zone_type idx;         /* DMA / DMA32 / NORMAL */
	const char *name;              /* "DMA", "DMA32", "Normal" */
	uint64_t start_pfn, end_pfn;   /* span, clipped to the buddy range */
	uint64_t present;              /* end - start */
	uint64_t reserved;             /* reserved pages (holes); changed by
					* mm_buddy_reserve under the lock */
	uint64_t managed;              /* present - reserved */
	_Atomic uint64_t free_pages;   /* pages on the free lists (NR_FREE_PAGES) */
	_Atomic uint64_t wmark[MM_NR_WMARK];      /* min / low / high */
	uint64_t lowmem_reserve[MM_NR_ZONES];     /* per classzone; set with the
						   * watermarks, under the lock */
	/* min adjusted for the class, + lowmem_reserve[classzone]: the order-0
	 * threshold (free must be above it), recomputed with the watermarks */
	_Atomic uint64_t wmark_fast[MM_NR_ZONES][NR_WCLASS];
	uint64_t ev_alloc, ev_free;    /* pages allocated / freed through the zone
					* itself and by exited threads' caches */
	unsigned int pcp_batch;        /* per-thread cache refill/drain size */
	unsigned int pcp_high;         /* drain when a cache holds this many */
	struct mm_free_area area[MM_MAX_ORDER_LIMIT];
};

/* The order-0 cache of one zone in one thread (Linux's per_cpu_pages).
 * Owned by its thread; touched by others only while locked out. */
struct mm_pcp {
	int count;                                 /* pages on the lists */
	int high;                                  /* drain `batch` when count >= high */
	int batch;                                 /* pages per refill / drain */
	uint64_t ev_alloc, ev_free;                /* pages handed out / taken back */
	struct mm_list lists[MM_MIGRATE_PCPTYPES]; /* hot pages first */
};

struct pcp_thread;

/* A thread's caches for one buddy allocator, one per zone. */
struct pcp_set {
	_Atomic int active;        /* owner is between pcp_enter and pcp_exit */
	_Atomic int locked;        /* a drainer owns the lists: owner bypasses */
	uint64_t id;               /* the buddy's id */
	struct mm_buddy *b;
	struct pcp_thread *owner;
	struct mm_list b_node;     /* on b->pcp_sets (registry lock) */
	struct mm_list t_node;     /* on owner->sets (registry lock) */
	struct mm_pcp pcp[MM_NR_ZONES];
};

/* Direct-mapped per-thread lookup: slot[id % PCP_SLOTS] caches the set of
 * the buddy with that id. Ids are never reused, so a stale slot can never
 * match a newer allocator. */
#define PCP_SLOTS 16
struct pcp_slot {
	uint64_t id;
	struct pcp_set *set;
};
extern __thread struct pcp_slot mm_pcp_slots[PCP_SLOTS]
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

struct mm_buddy {
	uint64_t id;                   /* unique per process, never reused */
	uint64_t start_pfn, end_pfn;   /* managed range */
	char *mem_base;                /* address of start_pfn, or NULL */
	void *map_addr;                /* mm_buddy_create_mmap's mapping */
	size_t map_len;
	unsigned int max_order;        /* number of orders */
	unsigned int pageblock_order;
	bool zones_on, pcp_on, enforce_wmark;
	enum mm_zone_layout layout;   /* with zones_on */
	int node_id;
	struct mm_page *memmap;        /* descriptors, [pfn - start_pfn] */
	uint64_t pb_first;             /* start_pfn >> pageblock_order */
	_Atomic uint8_t *pb_mt;        /* migrate type per pageblock [pb - pb_first];
					* written under the zone lock */
	unsigned int lowmem_ratio[MM_NR_ZONES];
	unsigned long cfg_min_free_kbytes;     /* as configured (0 = formula) */
	unsigned int cfg_wsf;                  /* watermark_scale_factor as configured */
	enum mm_zone_type gfp_zone[8]; /* preferred (highest populated allowed)
					* zone for gfp & (DMA | DMA32) */
	struct mm_list pcp_sets;       /* this allocator's thread caches (registry) */
	_Atomic uint64_t ev_alloc_fail; /* requests that returned NULL */
	struct mm_zone zones[MM_NR_ZONES];
};

/* ---- small helpers ---------------------------------------------------------- */

static inline struct mm_page *pfn_page(const struct mm_buddy *b, uint64_t pfn)
{
	return &b->memmap[pfn - b->start_pfn];
}

static inline uint64_t page_pfn(const struct mm_buddy *b, const struct mm_page *p)
{
	return b->start_pfn + (uint64_t)(p - b->memmap);
}

static inline bool pfn_valid(const struct mm_buddy *b, uint64_t pfn)
{
	return pfn >= b->start_pfn && pfn < b->end_pfn;
}

static inline uint64_t buddy_of(uint64_t pfn, unsigned int order)
{
	return pfn ^ (1ULL << order);
}

static inline int pageblock_mt(const struct mm_buddy *b, uint64_t pfn)
{
	return atomic_load_explicit(&b->pb_mt[(pfn >> b->pageblock_order) - b->pb_first],
				    memory_order_relaxed);
}

static inline void set_pageblock_mt(struct mm_buddy *b, uint64_t pfn, int mt)
{
	atomic_store_explicit(&b->pb_mt[(pfn >> b->pageblock_order) - b->pb_first],
			      (uint8_t)mt, memory_order_relaxed);
}

static inline int gfp_migratetype(mm_gfp_t gfp)
{
	if (gfp & MM_GFP_MOVABLE)
		return MM_MIGRATE_MOVABLE;
	if (gfp & MM_GFP_RECLAIMABLE)
		return MM_MIGRATE_RECLAIMABLE;
	return MM_MIGRATE_UNMOVABLE;
}

static inline int gfp_wclass(mm_gfp_t gfp)
{
	if (gfp & MM_GFP_ATOMIC)
		return WCLASS_ATOMIC;
	if (gfp & MM_GFP_HIGH)
		return WCLASS_HIGH;
	return WCLASS_NORMAL;
}

/* The free-page threshold of Linux's __zone_watermark_ok(): `mark` reduced
 * for the class (ALLOC_MIN_RESERVE: half; ALLOC_NON_BLOCK: a further
 * quarter), plus lowmem_reserve. Saturates, so a mark near UINT64_MAX
 * refuses everything instead of wrapping around to a small number. */
static inline uint64_t wmark_threshold(uint64_t mark, int wclass, uint64_t reserve)
{
	if (wclass != WCLASS_NORMAL) {
		mark -= mark / 2;
		if (wclass == WCLASS_ATOMIC)
			mark -= mark / 4;
	}
	return mark + reserve < mark ? UINT64_MAX : mark + reserve;
}

/* Counter updates done under the zone lock: plain load + store, no RMW. */
static inline void zone_free_add(struct mm_zone *z, int64_t n)
{
	uint64_t v = atomic_load_explicit(&z->free_pages, memory_order_relaxed);
	atomic_store_explicit(&z->free_pages, v + (uint64_t)n, memory_order_relaxed);
}

static inline uint64_t zone_free(const struct mm_zone *z)
{
	return atomic_load_explicit(&z->free_pages, memory_order_relaxed);
}

static inline void zone_lock(struct mm_zone *z)
{
	pthread_mutex_lock(&z->lock);
}

static inline void zone_unlock(struct mm_zone *z)
{
	pthread_mutex_unlock(&z->lock);
}

/* ---- core (alloc.c / free.c), zone lock held ----------------------------------- */

struct mm_page *__mm_rmqueue(struct mm_zone *z, unsigned int order, int mt);
void __mm_free_one_page(struct mm_zone *z, uint64_t pfn, unsigned int order, int mt);
bool __mm_watermark_ok(const struct mm_zone *z, unsigned int order, uint64_t mark,
		       enum mm_zone_type classzone, int wclass, uint64_t free);
/* page->state, order and migratetype of pages that another thread may look
 * at (the zone-lock holder inspects neighbours while a cache owner changes
 * its pages): relaxed atomics, plain moves on x86. */
static inline unsigned int pg_state(const struct mm_page *p)
{
	return __atomic_load_n(&p->state, __ATOMIC_RELAXED);
}

static inline void set_pg_state(struct mm_page *p, unsigned int st)
{
	__atomic_store_n(&p->state, (uint8_t)st, __ATOMIC_RELAXED);
}

static inline unsigned int pg_order(const struct mm_page *p)
{
	return __atomic_load_n(&p->order, __ATOMIC_RELAXED);
}

static inline void set_pg_order(struct mm_page *p, unsigned int order)
{
	__atomic_store_n(&p->order, (uint8_t)order, __ATOMIC_RELAXED);
}

/* Mark a block allocated: state, order, type, owner flags cleared. Inside
 * the critical section (zone lock or per-thread cache). */
static inline void mark_allocated(struct mm_page *page, unsigned int order, int mt)
{
	page->flags = 0;
	set_pg_order(page, order);
	__atomic_store_n(&page->migratetype, (uint8_t)mt, __ATOMIC_RELAXED);
	set_pg_state(page, MM_PAGE_HEAD);
}

uint64_t __mm_free_block_of(const struct mm_zone *z, uint64_t pfn, unsigned int *order);
bool __mm_take_page_off_buddy(struct mm_zone *z, uint64_t pfn);

/* ---- zones (zone.c) ------------------------------------------------------------ */

void __mm_zones_init(struct mm_buddy *b);
void __mm_zone_update_fast_wmarks(struct mm_zone *z);

/* ---- per-thread caches (pcp.c) --------------------------------------------------- */

/* The calling thread's cache set for b, created on first use; NULL if it
 * cannot be created (out of memory), callers then use the zone directly. */
struct pcp_set *__mm_pcp_set_slow(struct mm_buddy *b);

static inline struct pcp_set *pcp_set_get(struct mm_buddy *b)
{
	struct pcp_slot *s = &mm_pcp_slots[b->id % PCP_SLOTS];
	if (mm_likely(s->id == b->id))
		return s->set;
	return __mm_pcp_set_slow(b);
}

/* set once before any cache exists */
extern int mm_pcp_membarrier_ok __attribute__((visibility("hidden")));

/* Enter the cache: false if a drainer owns it (use the zone directly).
 * Asymmetric Dekker with the drainer: the owner pays a compiler barrier,
 * the drainer pays a membarrier(2) that orders every running thread. */
static inline bool pcp_enter(struct pcp_set *s)
{
#ifdef MMKIT_TSAN
	atomic_store_explicit(&s->active, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&s->locked, memory_order_seq_cst)) {
		atomic_store_explicit(&s->active, 0, memory_order_release);
		return false;
	}
#else
	atomic_store_explicit(&s->active, 1, memory_order_relaxed);
	if (mm_likely(mm_pcp_membarrier_ok))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (mm_unlikely(atomic_load_explicit(&s->locked, memory_order_acquire))) {
		atomic_store_explicit(&s->active, 0, memory_order_release);
		return false;
	}
#endif
	return true;
}

static inline void pcp_exit(struct pcp_set *s)
{
	atomic_store_explicit(&s->active, 0, memory_order_release);
}

/* Move up to `count` pages from the cache back to the zone (zone lock taken
 * inside), oldest first, emptying list first_mt before the next ones.
 * Returns the number moved. */
int __mm_pcp_free_bulk(struct mm_buddy *b, struct mm_zone *z, struct mm_pcp *pcp, int count,
		       int first_mt);
/* Refill with up to batch pages of type mt (zone lock taken inside). */
int __mm_pcp_refill(struct mm_zone *z, struct mm_pcp *pcp, int mt);

void __mm_pcp_destroy_all(struct mm_buddy *b);
void __mm_pcp_global_init(void);
uint64_t __mm_buddy_next_id(void);

/* Freeze: take the registry lock and lock out every other thread's cache of
 * b (waiting for owners inside to leave), so the caller may read or drain
 * every cache of b and then take zone locks. Thaw undoes both. */
void __mm_pcp_freeze(struct mm_buddy *b);
void __mm_pcp_thaw(struct mm_buddy *b);
/* Drain every cache of b; between freeze and thaw. */
void __mm_pcp_drain_frozen(struct mm_buddy *b);
void __mm_registry_lock(void);
void __mm_registry_unlock(void);

#endif /* MMKIT_BUDDY_INTERNAL_H */
