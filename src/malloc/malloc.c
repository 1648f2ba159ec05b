/* malloc.c — allocation inside one arena (_int_malloc), growing an arena
 * (sysmalloc) and chunks served directly by mmap.
 *
 * Algorithm (glibc's _int_malloc, Doug Lea's allocator): for a chunk size
 * nb, try in order
 *   1. the fast bin of exactly nb (LIFO, no coalescing);
 *   2. the small bin of exactly nb;
 *   3. the unsorted bin, oldest first: an exact fit is taken at once, a
 *      small request may split the last remainder (locality for runs of
 *      small requests), everything else is sorted into its bin;
 *   4. best fit in nb's large bin (sorted), then the next non-empty bin
 *      found through the binmap, splitting off the remainder;
 *   5. the top chunk;
 *   6. consolidate fast bins and retry, or grow: brk for the main arena
 *      (mmap-ed segments if brk fails), heap growth or a new heap for the
 *      others; requests >= the mmap threshold get their own mapping.
 * Cost: O(1) for exact small fits and top splits; the unsorted pass is
 * bounded (MAX_UNSORTED_ITERS); binmap search is a few word scans.
 * Fragmentation: best fit with the remainder returned to the unsorted bin.
 * Reference: glibc malloc/malloc.c (_int_malloc, sysmalloc); D. Lea, "A
 * Memory Allocator" (1996).
 */
#include <errno.h>
#include <string.h>

#include "malloc_internal.h"

static inline size_t arena_flag(const struct mm_arena *av)
{
	return av->is_main ? 0 : NON_MAIN_ARENA;
}

/* Take victim (already off its list, `size` bytes) for a request of nb:
 * the tail beyond nb, if big enough, goes to the unsorted bin. */
static void *split_chunk(struct mm_arena *av, struct mchunk *victim, size_t size, size_t nb,
			 int small_req)
{
	size_t aflag = arena_flag(av);
	size_t rsize = size - nb;
	if (rsize < MINSIZE) {
		set_inuse_at(victim, size);
		victim->size |= aflag;
	} else {
		struct mchunk *rem = chunk_at(victim, nb);
		victim->size = nb | (victim->size & PREV_INUSE) | aflag;
		set_free_tag(rem, rsize, PREV_INUSE | aflag);
		unsorted_push(av, rem);
		if (small_req)
			av->last_remainder = rem;
	}
	return chunk2mem(victim);
}

static void *split_top(struct mm_arena *av, size_t nb)
{
	size_t aflag = arena_flag(av);
	struct mchunk *top = av->top;
	size_t size = chunksize(top);
	struct mchunk *rem = chunk_at(top, nb);
	mm_set_top(av, rem);
	rem->size = (size - nb) | PREV_INUSE | aflag;
	top->size = nb | PREV_INUSE | aflag;
	return chunk2mem(top);
}

/* ---- Direct mmap chunks ---- */

/* A chunk of at least nb bytes in its own mapping, its memory aligned to
 * `align` (0: MALLOC_ALIGN). prev_size holds the offset of the chunk from
 * the start of the mapping. NULL on failure. */
void *mm_sysmalloc_mmap(size_t nb, size_t align)
{
	size_t ps = mm_mp.pagesize;
	size_t extra = align > MALLOC_ALIGN ? align : 0;
	if (nb + SIZE_SZ + extra < nb)
		return NULL;
	size_t len = MM_ALIGN_UP(nb + SIZE_SZ + extra, ps);
	if (len < nb)
		return NULL;
	char *base = extra ? NULL : mm_mcache_get(&len);
	if (!base)
		base = mm_os_map(len);
	if (!base)
		return NULL;
	size_t front = 0;
	if (extra) {
		uintptr_t mem = MM_ALIGN_UP((uintptr_t)base + CHUNK_HDR_SZ, align);
		front = mem - CHUNK_HDR_SZ - (uintptr_t)base;
	}
	struct mchunk *p = (struct mchunk *)(base + front);
	p->prev_size = front;
	p->size = (len - front) | IS_MMAPPED;

	size_t n = __atomic_add_fetch(&mm_mp.n_mmaps, 1, __ATOMIC_RELAXED);
	size_t m = __atomic_add_fetch(&mm_mp.mmapped_mem, len, __ATOMIC_RELAXED);
	size_t old = __atomic_load_n(&mm_mp.max_n_mmaps, __ATOMIC_RELAXED);
	while (n > old && !__atomic_compare_exchange_n(&mm_mp.max_n_mmaps, &old, n, 1,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	old = __atomic_load_n(&mm_mp.max_mmapped_mem, __ATOMIC_RELAXED);
	while (m > old && !__atomic_compare_exchange_n(&mm_mp.max_mmapped_mem, &old, m, 1,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return chunk2mem(p);
}

/* ---- Growing an arena ---- */

/* Close the old top of a segment that cannot grow: two fenceposts at its
 * end (f1, then f2 in the last 16 bytes), the rest freed into the bins.
 * A 48-byte top leaves 16 bytes, too few for a chunk: f1 then takes 32
 * bytes (as glibc's sysmalloc makes a too-small old top one in-use chunk).
 * f2's prev_size (f1's unused last word) records f1's size, so that
 * mm_heap_trim_locked and the checker find f1 from the segment's end.
 * av->top already points elsewhere. */
static void retire_top(struct mm_arena *av, struct mchunk *top)
{
	size_t aflag = arena_flag(av);
	size_t size = chunksize(top);
	size_t keep = 0, f1size = FENCEPOST_SZ;
	struct mchunk *f1 = top;
	if (mm_unlikely(size < FENCEPOST_AREA))
		mm_fatal("sysmalloc(): old top too small", chunk2mem(top));
	if (size - FENCEPOST_AREA >= MINSIZE) {
		keep = size - FENCEPOST_AREA;
		top->size = keep | (top->size & PREV_INUSE) | aflag;
		f1 = chunk_at(top, keep);
		f1->size = FENCEPOST_SZ | PREV_INUSE | aflag;
	} else {
		f1size = size - FENCEPOST_SZ;        /* 16, or 32 for a 48-byte top */
		f1->size = f1size | (top->size & PREV_INUSE) | aflag;
	}
	struct mchunk *f2 = chunk_at(f1, f1size);
	f2->prev_size = f1size;
	f2->size = FENCEPOST_SZ | PREV_INUSE | aflag;
	if (keep)
		mm_int_free_locked(av, top);
}

static void note_system_mem(struct mm_arena *av, size_t add)
{
	av->system_mem += add;
	if (av->system_mem > av->max_system_mem)
		av->max_system_mem = av->system_mem;
}

/* A new segment of the main arena at `mem` (len bytes). */
static void main_new_segment(struct mm_arena *av, char *mem, size_t len, int kind)
{
	struct mm_heap *seg = (struct mm_heap *)mem;
	seg->ar = av;
	seg->prev = av->heap;
	seg->size = len;
	seg->mprotect_size = len;
	seg->first = (struct mchunk *)(mem + HEAP_HDR_SZ);
	seg->kind = kind;
	struct mchunk *old_top = av->heap ? av->top : NULL;
	av->heap = seg;
	mm_set_top(av, seg->first);
	av->top->size = (len - HEAP_HDR_SZ) | PREV_INUSE;
	note_system_mem(av, len);
	if (old_top)
		retire_top(av, old_top);
}

static int grow_main(struct mm_arena *av, size_t nb)
{
	size_t ps = mm_mp.pagesize;
	struct mm_heap *seg = av->heap;
	size_t top_size = av->top ? chunksize(av->top) : 0;
	size_t want = nb + MP_GET(top_pad) + MINSIZE;
	int contiguous = seg && seg->kind == SEG_BRK &&
			 (char *)seg + seg->size == (char *)mm_os_brk_now();
	if (contiguous)
		want -= top_size < want ? top_size : 0;
	else
		want += HEAP_HDR_SZ + MALLOC_ALIGN;
	want = MM_ALIGN_UP(want, ps);
	if (want > (size_t)PTRDIFF_MAX / 2)
		return -1;

	char *brk = mm_os_sbrk((intptr_t)want);
	if (brk) {
		if (contiguous && brk == (char *)seg + seg->size) {
			seg->size += want;
			av->top->size += want;
			note_system_mem(av, want);
			return 0;
		}
		/* a fresh run of brk (first use, or someone else moved it) */
		char *start = (char *)MM_ALIGN_UP((uintptr_t)brk, MALLOC_ALIGN);
		size_t len = want - (size_t)(start - brk);
		len = MM_ALIGN_DOWN(len, MALLOC_ALIGN);
		if (len >= HEAP_HDR_SZ + nb + MINSIZE) {
			main_new_segment(av, start, len, SEG_BRK);
			return 0;
		}
		mm_os_sbrk(-(intptr_t)want);
	}
	/* brk failed: an mmap-ed segment (glibc's non-contiguous fallback) */
	size_t len = MM_ALIGN_UP(nb + MP_GET(top_pad) + HEAP_HDR_SZ + 2 * MINSIZE, ps);
	if (len < (size_t)1 << 20)
		len = (size_t)1 << 20;
	char *mem = mm_os_map(len);
	if (!mem)
		return -1;
	main_new_segment(av, mem, len, SEG_MMAP);
	return 0;
}

static int grow_heap_arena(struct mm_arena *av, size_t nb)
{
	struct mm_heap *h = av->heap;
	size_t top_size = chunksize(av->top);
	size_t old = h->size;
	/* with M_TOP_PAD to spare, as brk growth of the main arena does: a
	 * heap grown by just the request makes one mprotect call per span
	 * or chunk while it fills (12,066 calls in mb-alloc-test 2 12);
	 * pages made read-write are not resident until touched */
	size_t pad = MP_GET(top_pad);
	if ((nb + MINSIZE + pad > top_size &&
	     mm_heap_grow(h, nb + MINSIZE + pad - top_size) == 0) ||
	    mm_heap_grow(h, nb + MINSIZE - top_size) == 0) {
		av->top->size += h->size - old;
		note_system_mem(av, h->size - old);
		return 0;
	}
	struct mm_heap *nh = mm_heap_new(HEAP_HDR_SZ + nb + MINSIZE, MP_GET(top_pad));
	if (!nh)
		return -1;
	nh->ar = av;
	nh->prev = h;
	struct mchunk *old_top = av->top;
	av->heap = nh;
	mm_set_top(av, nh->first);
	av->top->size = (nh->size - HEAP_HDR_SZ) | PREV_INUSE | NON_MAIN_ARENA;
	note_system_mem(av, nh->size);
	retire_top(av, old_top);
	return 0;
}

/* Grow the arena for nb bytes, or map the chunk on its own if nb is at
 * least the mmap threshold (or growing failed) and may_mmap is set. */
static void *sysmalloc(struct mm_arena *av, size_t nb, int may_mmap)
{
	int tried_mmap = !may_mmap;
	if (may_mmap && nb >= MP_GET(mmap_threshold) &&
	    __atomic_load_n(&mm_mp.n_mmaps, __ATOMIC_RELAXED) < (size_t)MP_GET(n_mmaps_max)) {
		void *m = mm_sysmalloc_mmap(nb, 0);
		if (m)
			return m;
		tried_mmap = 1;
	}
	mm_mcache_arena_grows();
	int r = av->is_main ? grow_main(av, nb) : grow_heap_arena(av, nb);
	if (r == 0)
		mm_note_grow(av);
	if (r == 0 && chunksize(av->top) >= nb + MINSIZE)
		return split_top(av, nb);
	if (!tried_mmap) {
		void *m = mm_sysmalloc_mmap(nb, 0);
		if (m)
			return m;
	}
	errno = ENOMEM;
	return NULL;
}

/* ---- _int_malloc ---- */

static void *take_best_fit(struct mm_arena *av, size_t nb)
{
	int small_req = in_smallbin_range(nb);
	if (!small_req) {
		struct mchunk *victim = mm_large_best_fit(bin_at(av, largebin_index(nb)), nb);
		if (victim) {
			size_t size = chunksize(victim);
			mm_unlink_chunk(av, victim);
			return split_chunk(av, victim, size, nb, 0);
		}
	}
	/* the smallest chunk of the next non-empty bin above nb's */
	unsigned idx = bin_index(nb) + 1;
	while (idx < NBINS) {
		unsigned w = idx >> 6;
		uint64_t bits = av->binmap[w] & (~(uint64_t)0 << (idx & 63));
		if (!bits) {
			idx = (w + 1) << 6;
			continue;
		}
		idx = (w << 6) + (unsigned)__builtin_ctzll(bits);
		struct mlink *b = bin_at(av, idx);
		if (bin_empty(b)) {
			unmark_bin(av, idx);
			idx++;
			continue;
		}
		/* small bins: the oldest; large bins: the smallest (fd) */
		struct mchunk *victim = link2chunk(idx < NSMALLBINS ? b->bk : b->fd);
		size_t size = chunksize(victim);
		mm_unlink_chunk(av, victim);
		return split_chunk(av, victim, size, nb, small_req);
	}
	return NULL;
}

enum { NO_GROW = 0, GROW = 1, GROW_NO_MMAP = 2 };

static void *int_malloc(struct mm_arena *av, size_t nb, int may_grow)
{
	size_t aflag = arena_flag(av);
	if (nb <= MP_GET(max_fast)) {
		unsigned fi = fastbin_index(nb);
		struct mchunk *p = av->fastbins[fi];
		if (p) {
			if (mm_unlikely(chunksize(p) != nb))
				mm_fatal("malloc(): memory corruption (fast)", chunk2mem(p));
			av->fastbins[fi] = (struct mchunk *)(void *)p->link.fd;
			return chunk2mem(p);
		}
	}
	if (in_smallbin_range(nb)) {
		struct mlink *b = bin_at(av, smallbin_index(nb));
		if (!bin_empty(b)) {
			struct mchunk *victim = link2chunk(b->bk);
			mm_unlink_chunk(av, victim);
			set_inuse_at(victim, nb);
			victim->size |= aflag;
			return chunk2mem(victim);
		}
	} else if (av->have_fastchunks) {
		mm_consolidate(av);
	}

	struct mlink *unsorted = bin_at(av, UNSORTED);
	for (;;) {
		int iters = 0;
		while (unsorted->bk != unsorted) {
			struct mchunk *victim = link2chunk(unsorted->bk);
			size_t size = chunksize(victim);
			if (mm_unlikely(size < MINSIZE || size > av->system_mem))
				mm_fatal("malloc(): invalid size (unsorted)", chunk2mem(victim));
			if (mm_unlikely(chunk_at(victim, size)->prev_size != size))
				mm_fatal("malloc(): mismatching next->prev_size (unsorted)",
					 chunk2mem(victim));
			if (in_smallbin_range(nb) && victim->link.bk == unsorted &&
			    victim == av->last_remainder && size > nb + MINSIZE) {
				mm_unlink_chunk(av, victim);
				return split_chunk(av, victim, size, nb, 1);
			}
			mm_unlink_chunk(av, victim);
			if (size == nb) {
				set_inuse_at(victim, size);
				victim->size |= aflag;
				return chunk2mem(victim);
			}
			mm_bin_insert(av, victim);
			if (++iters >= MAX_UNSORTED_ITERS)
				break;
		}

		void *m = take_best_fit(av, nb);
		if (m)
			return m;
		if (av->top && chunksize(av->top) >= nb + MINSIZE)
			return split_top(av, nb);
		if (av->have_fastchunks) {
			mm_consolidate(av);
			continue;
		}
		if (may_grow == NO_GROW)
			return NULL;
		return sysmalloc(av, nb, may_grow == GROW);
	}
}

void *mm_int_malloc(struct mm_arena *av, size_t nb)
{
	return int_malloc(av, nb, GROW);
}

void *mm_int_malloc_heap(struct mm_arena *av, size_t nb)
{
	return int_malloc(av, nb, GROW_NO_MMAP);
}

/* Spare chunks of size nb for a thread cache, at most `max`, into out[];
 * returns how many. Exact fits first (fast bin, small bin: recycling what
 * was freed), then one block of the remaining count * nb cut from the best
 * fitting free chunk or the top, split into neighbouring chunks (one lock,
 * one search, and the spares sit together in memory). Never sorts the
 * unsorted bin, consolidates or asks the system for memory. A block with
 * slack below MINSIZE gives its last chunk the slack: *odd receives it
 * (size chunksize(*odd) != nb) instead of out[]. Caller holds av->lock. */
size_t mm_int_malloc_batch(struct mm_arena *av, size_t nb, void **out, size_t max, void **odd)
{
	size_t aflag = arena_flag(av);
	size_t n = 0;
	*odd = NULL;
	if (nb <= MP_GET(max_fast)) {
		unsigned fi = fastbin_index(nb);
		struct mchunk *p;
		while (n < max && (p = av->fastbins[fi]) != NULL) {
			if (mm_unlikely(chunksize(p) != nb))
				mm_fatal("malloc(): memory corruption (fast)", chunk2mem(p));
			av->fastbins[fi] = (struct mchunk *)(void *)p->link.fd;
			out[n++] = chunk2mem(p);
		}
	}
	if (in_smallbin_range(nb)) {
		struct mlink *b = bin_at(av, smallbin_index(nb));
		while (n < max && !bin_empty(b)) {
			struct mchunk *victim = link2chunk(b->bk);
			mm_unlink_chunk(av, victim);
			set_inuse_at(victim, nb);
			victim->size |= aflag;
			out[n++] = chunk2mem(victim);
		}
	}
	if (n == max)
		return n;
	size_t want = (max - n) * nb;
	void *m = take_best_fit(av, want);
	if (!m && av->top && chunksize(av->top) >= want + MINSIZE)
		m = split_top(av, want);
	if (!m)
		return n;
	struct mchunk *p = mem2chunk(m);
	size_t total = chunksize(p);
	size_t k = total / nb;
	if (k > max - n)
		k = max - n;
	for (size_t j = 0; j < k; j++) {
		struct mchunk *c = chunk_at(p, j * nb);
		size_t sz = (j == k - 1) ? total - j * nb : nb;
		c->size = sz | (j == 0 ? (p->size & PREV_INUSE) : PREV_INUSE) | aflag;
		if (sz == nb)
			out[n++] = chunk2mem(c);
		else
			*odd = chunk2mem(c);
	}
	return n;
}

/* ---- Aligned allocation inside an arena ---- */

void *mm_int_memalign(struct mm_arena *av, size_t align, size_t nb)
{
	size_t aflag = arena_flag(av);
	if (nb > SIZE_MAX - align - MINSIZE)
		return NULL;
	char *m = mm_int_malloc(av, nb + align + MINSIZE);
	if (!m)
		return NULL;
	struct mchunk *p = mem2chunk(m);
	if (((uintptr_t)m & (align - 1)) != 0) {
		char *am = (char *)MM_ALIGN_UP((uintptr_t)m, align);
		struct mchunk *np = mem2chunk(am);
		if ((size_t)((char *)np - (char *)p) < MINSIZE)
			np = chunk_at(np, align);
		size_t lead = (size_t)((char *)np - (char *)p);
		size_t newsize = chunksize(p) - lead;
		if (chunk_is_mmapped(p)) {
			np->prev_size = p->prev_size + lead;
			np->size = newsize | IS_MMAPPED;
			return chunk2mem(np);
		}
		np->size = newsize | PREV_INUSE | aflag;
		set_inuse_at(np, newsize);
		p->size = lead | (p->size & PREV_INUSE) | aflag;
		mm_int_free_locked(av, p);
		p = np;
	}
	if (!chunk_is_mmapped(p)) {
		size_t size = chunksize(p);
		if (size > nb + MINSIZE) {
			struct mchunk *rem = chunk_at(p, nb);
			rem->size = (size - nb) | PREV_INUSE | aflag;
			p->size = nb | (p->size & PREV_INUSE) | aflag;
			mm_int_free_locked(av, rem);
		}
	}
	return chunk2mem(p);
}
