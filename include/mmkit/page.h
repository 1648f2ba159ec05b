/* mmkit/page.h — the page descriptor (Linux's struct page, trimmed).
 *
 * Every PFN a buddy allocator manages has one `struct mm_page` in the
 * allocator's descriptor array (Linux's mem_map). The allocator owns the
 * descriptor while the page is free; once a block is allocated its owner
 * (the simulator, the slab, a test) may use the owner fields of the block's
 * pages as Linux code does: flags, refcount, mapcount, mapping/index, the
 * lru list head and the private word.
 *
 * Fields marked "allocator" are read-only for owners. On allocation the
 * allocator resets the owner fields of the block's head page (refcount 1,
 * flags/mapcount/mapping/index/private 0, lru self-linked). Tail pages are
 * not touched (that would cost 2^order descriptor writes per allocation):
 * an owner that uses tail descriptors initialises them itself, and, as in
 * Linux, should leave them clean when it frees the block.
 *
 * Size: 56 bytes on 64-bit hosts (Linux's is 64).
 */
#ifndef MMKIT_PAGE_H
#define MMKIT_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmkit/list.h"

/* ---- allocator state (page->state; read-only for owners) ----
 * Exactly one of these, or 0 for a page inside a block (tail of an allocated
 * block or interior of a free one). Accessed with relaxed atomics: a thread
 * holding a zone lock may look at a neighbour's state while the thread
 * owning that page's per-thread cache changes it. */
#define MM_PAGE_BUDDY    0x1 /* head of a free block on a buddy free list */
#define MM_PAGE_RESERVED 0x2 /* reserved hole: never handed out */
#define MM_PAGE_PCP      0x4 /* free order-0 page on a per-thread cache list */
#define MM_PAGE_HEAD     0x8 /* head page of an allocated block */

/* ---- page flags (page->flags): Linux's names, for the owner ----
 * The allocator clears them on allocation and never reads them. */
#define MM_PG_LOCKED      (1u << 0)
#define MM_PG_REFERENCED  (1u << 1)
#define MM_PG_UPTODATE    (1u << 2)
#define MM_PG_DIRTY       (1u << 3)
#define MM_PG_LRU         (1u << 4)
#define MM_PG_ACTIVE      (1u << 5)
#define MM_PG_SLAB        (1u << 6)
#define MM_PG_WRITEBACK   (1u << 7)
#define MM_PG_SWAPBACKED  (1u << 8)
#define MM_PG_SWAPCACHE   (1u << 9)
#define MM_PG_UNEVICTABLE (1u << 10)
#define MM_PG_MLOCKED     (1u << 11)
#define MM_PG_ANON        (1u << 12)
#define MM_PG_PAGETABLE   (1u << 13)
#define MM_PG_OWNER_FIRST_FREE_BIT 14 /* bits 14..31: the owner's own */
/* page->flags holds no allocator bits (they live in page->state), so
 * `flags &= MM_PG_ALLOCATOR_MASK` clears every owner flag. */
#define MM_PG_ALLOCATOR_MASK 0u

struct mm_page {
	uint32_t flags;       /* owner: MM_PG_* (0 after allocation) */
	uint8_t state;        /* allocator: MM_PAGE_* (see above) */
	uint8_t order;        /* allocator: order of the free block (BUDDY) or of
			       * the allocated block (HEAD) */
	uint8_t zone;         /* allocator: zone index (enum mm_zone_type), fixed */
	uint8_t migratetype;  /* allocator: migrate type asked for (HEAD) */
	int32_t refcount;     /* owner: 1 after allocation (Linux's _refcount) */
	int32_t mapcount;     /* owner: page-table mappings (Linux's _mapcount + 1) */
	struct mm_list lru;   /* allocator's free-list link while free; the owner's
			       * list head once allocated (LRU, slab lists ...) */
	void *mapping;        /* owner: address_space / anon_vma / slab cache */
	uint64_t index;       /* owner: offset in the mapping (in pages) */
	uintptr_t private;    /* owner: buffer heads, swap entry, slab data ... */
};

static inline unsigned int mm_page_state(const struct mm_page *p)
{
	return __atomic_load_n(&p->state, __ATOMIC_RELAXED);
}

/* True for the head page of an allocated block. */
static inline bool mm_page_is_head(const struct mm_page *p)
{
	return mm_page_state(p) == MM_PAGE_HEAD;
}

static inline bool mm_page_test_flag(const struct mm_page *p, uint32_t f)
{
	return (p->flags & f) != 0;
}

static inline void mm_page_set_flag(struct mm_page *p, uint32_t f)
{
	p->flags |= f;
}

static inline void mm_page_clear_flag(struct mm_page *p, uint32_t f)
{
	p->flags &= ~f;
}

/* Reference count helpers. They use atomic builtins so an owner may share
 * pages across threads; the allocator itself never reads the count except to
 * set it to 1 on allocation. mm_page_put_testzero returns true when the last
 * reference went away (the caller then frees the block). */
static inline void mm_page_get(struct mm_page *p)
{
	__atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
}

static inline bool mm_page_put_testzero(struct mm_page *p)
{
	return __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) == 0;
}

static inline int mm_page_count(const struct mm_page *p)
{
	return __atomic_load_n(&p->refcount, __ATOMIC_RELAXED);
}

#endif /* MMKIT_PAGE_H */
