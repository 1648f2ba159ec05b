/* Page sources: the mmap source and the fault-injecting wrapper.
 *
 * mmap source: a block of order k must be aligned to its size, so we map
 * size + (size - PAGE) bytes, then unmap the slack before and after the
 * aligned block. Cost: 1 mmap + up to 2 munmap per block; meant for slab-
 * sized blocks, not a hot path (the slab caches blocks itself). */
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>

#include "mmkit/compiler.h"
#include "mmkit/pagesrc.h"

static void *mmap_alloc_pages(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	(void)ctx;
	(void)gfp; /* mmap memory is always zero-filled */
	if (order >= 8 * sizeof(size_t) - MM_PAGE_SHIFT - 1)
		return NULL;
	size_t size = MM_PAGE_SIZE << order;
	size_t span = size + (order ? size - MM_PAGE_SIZE : 0);
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = MM_ALIGN_UP((uintptr_t)p, size);
	size_t head = start - (uintptr_t)p;
	size_t tail = span - head - size;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)start + size, tail);
	return (void *)start;
}

static void mmap_free_pages(void *ctx, void *addr, unsigned int order)
{
	(void)ctx;
	munmap(addr, MM_PAGE_SIZE << order);
}

static const struct mm_page_source_ops mmap_ops = {
	.name = "mmap",
	.alloc_pages = mmap_alloc_pages,
	.free_pages = mmap_free_pages,
};

const struct mm_page_source mm_page_source_mmap = { &mmap_ops, NULL };

/* ---- fault injection ---------------------------------------------------- */

static void *fault_alloc_pages(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	struct mm_fault_source *fs = ctx;
	uint64_t n = atomic_fetch_add(&fs->allocs, 1) + 1;
	bool fail = false;
	if (fs->fail_nth && n == fs->fail_nth)
		fail = true;
	if (fs->fail_nth && fs->fail_every && n > fs->fail_nth &&
	    (n - fs->fail_nth) % fs->fail_every == 0)
		fail = true;
	if (order >= 63)
		fail = true; /* cannot be counted; no source has such blocks */
	if (fail) {
		atomic_fetch_add(&fs->failures, 1);
		return NULL;
	}
	/* Reserve the pages before asking the inner source, so that concurrent
	 * callers can never take pages_out past page_limit together (a check
	 * followed by a separate add would let two of them through). */
	uint64_t pages = 1ULL << order;
	uint64_t before = atomic_fetch_add(&fs->pages_out, pages);
	if (fs->page_limit && before + pages > fs->page_limit) {
		atomic_fetch_sub(&fs->pages_out, pages);
		atomic_fetch_add(&fs->failures, 1);
		return NULL;
	}
	void *p = mm_ps_alloc(&fs->inner, order, gfp);
	if (!p) {
		atomic_fetch_sub(&fs->pages_out, pages);
		atomic_fetch_add(&fs->failures, 1);
	}
	return p;
}

static void fault_free_pages(void *ctx, void *addr, unsigned int order)
{
	struct mm_fault_source *fs = ctx;
	atomic_fetch_add(&fs->frees, 1);
	atomic_fetch_sub(&fs->pages_out, 1ULL << order);
	mm_ps_free(&fs->inner, addr, order);
}

static const struct mm_page_source_ops fault_ops = {
	.name = "fault-inject",
	.alloc_pages = fault_alloc_pages,
	.free_pages = fault_free_pages,
};

const struct mm_page_source *mm_fault_source_init(struct mm_fault_source *fs,
						  const struct mm_page_source *inner)
{
	fs->base.ops = &fault_ops;
	fs->base.ctx = fs;
	fs->inner = *inner;
	fs->fail_nth = fs->fail_every = fs->page_limit = 0;
	atomic_store(&fs->allocs, 0);
	atomic_store(&fs->frees, 0);
	atomic_store(&fs->failures, 0);
	atomic_store(&fs->pages_out, 0);
	return &fs->base;
}
