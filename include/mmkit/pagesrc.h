/* mmkit/pagesrc.h — where object allocators get their pages.
 *
 * A page source hands out naturally aligned blocks of 2^order pages: the
 * address of a block of order k is a multiple of MM_PAGE_SIZE << k (the buddy
 * allocator gives this for free; the mmap source arranges it). Slab and
 * mempool take their pages only through this table (DESIGN.md "Page source"),
 * so one implementation serves the simulator (pages from the simulated buddy
 * allocator) and real processes (pages from mmap).
 *
 * Contract for implementations:
 *  - alloc_pages returns NULL on failure and changes nothing;
 *  - free_pages takes exactly a block that alloc_pages returned, with its order;
 *  - both are thread-safe.
 */
#ifndef MMKIT_PAGESRC_H
#define MMKIT_PAGESRC_H

#include <stddef.h>
#include <stdint.h>

#include "mmkit/gfp.h"

struct mm_page_source_ops {
	const char *name;
	void *(*alloc_pages)(void *ctx, unsigned int order, mm_gfp_t gfp);
	void (*free_pages)(void *ctx, void *addr, unsigned int order);
};

struct mm_page_source {
	const struct mm_page_source_ops *ops;
	void *ctx;
};

static inline void *mm_ps_alloc(const struct mm_page_source *ps, unsigned int order, mm_gfp_t gfp)
{
	return ps->ops->alloc_pages(ps->ctx, order, gfp);
}

static inline void mm_ps_free(const struct mm_page_source *ps, void *addr, unsigned int order)
{
	ps->ops->free_pages(ps->ctx, addr, order);
}

/* The process's own memory: blocks from mmap, aligned by over-mapping and
 * trimming. Stateless, thread-safe; ctx is unused. */
extern const struct mm_page_source mm_page_source_mmap;

/* --- fault injection (STYLE.md 16) ---------------------------------------
 * Wraps another page source and fails on purpose. The wrapper counts calls
 * and pages; tests use it to drive every out-of-memory path. */
struct mm_fault_source {
	struct mm_page_source base;      /* this wrapper, to pass to users */
	struct mm_page_source inner;     /* the real source */
	uint64_t fail_nth;               /* fail the Nth alloc (1-based); 0 = never */
	uint64_t fail_every;             /* after fail_nth, fail every k-th too; 0 = no */
	uint64_t page_limit;             /* fail when pages outstanding would exceed; 0 = none */
	/* counters */
	_Atomic uint64_t allocs, frees, failures, pages_out;
};

/* Set up a fault-injecting wrapper around `inner`; returns &fs->base. */
const struct mm_page_source *mm_fault_source_init(struct mm_fault_source *fs,
						  const struct mm_page_source *inner);

#endif /* MMKIT_PAGESRC_H */
