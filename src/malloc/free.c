/* free.c — releasing chunks inside an arena (_int_free), unmapping mmap-ed
 * chunks, and trimming the main heap.
 *
 * Algorithm (glibc's _int_free): a block of a slab span goes back to its
 * span (slab.c). A chunk of fast-bin size is pushed on its
 * fast bin and stays marked in use (no coalescing: cheap, and the same size
 * is likely wanted again soon). Any other chunk is merged at once with free
 * neighbours through the boundary tags; merged with top if it touches it,
 * otherwise put in the unsorted bin. Freeing 64 KiB or more consolidates the
 * fast bins and trims: the main arena gives back the top above
 * M_TRIM_THRESHOLD with a negative sbrk, other arenas shrink their heap.
 * mmap-ed chunks are unmapped at once; freeing one larger than the current
 * mmap threshold raises the threshold to its size (up to 32 MiB) and the
 * trim threshold to twice that, unless the user fixed them (glibc's dynamic
 * threshold: programs that keep reallocating big buffers stop paying a
 * mmap/munmap pair each time).
 * Cost: O(1) apart from consolidation and trimming.
 * Reference: glibc malloc/malloc.c (_int_free, systrim, munmap_chunk).
 */
#include "malloc_internal.h"

void mm_check_free_ptr(const struct mchunk *p, const void *mem)
{
	size_t size = chunksize(p);
	if (mm_unlikely(!aligned_ok(mem) || (uintptr_t)p > (uintptr_t)0 - size))
		mm_fatal("free(): invalid pointer", mem);
	if (mm_unlikely(size < MINSIZE || (size & MALLOC_ALIGN_MASK)))
		mm_fatal("free(): invalid size", mem);
}

void mm_munmap_chunk(struct mchunk *p)
{
	size_t ps = mm_mp.pagesize;
	char *base = (char *)p - p->prev_size;
	size_t total = p->prev_size + chunksize(p);
	if (mm_unlikely((((uintptr_t)base | total) & (ps - 1)) != 0))
		mm_fatal("munmap_chunk(): invalid pointer", chunk2mem(p));
	__atomic_sub_fetch(&mm_mp.n_mmaps, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&mm_mp.mmapped_mem, total, __ATOMIC_RELAXED);
	if (!mm_mcache_put(base, total))
		mm_os_unmap(base, total);
}

/* Main arena: give back the top chunk above `pad` with a negative sbrk.
 * Caller holds the lock. Returns 1 if memory was released. */
int mm_systrim_locked(struct mm_arena *av, size_t pad)
{
	size_t ps = mm_mp.pagesize;
	struct mm_heap *seg = av->heap;
	if (!av->top || !seg || seg->kind != SEG_BRK)
		return 0;
	size_t top_size = chunksize(av->top);
	char *end = (char *)av->top + top_size;
	if (end != (char *)seg + seg->size)
		return 0;
	if (top_size <= MINSIZE + 1 + pad)
		return 0;
	size_t extra = MM_ALIGN_DOWN(top_size - MINSIZE - 1 - pad, ps);
	if (extra == 0)
		return 0;
	/* only if nobody else moved the break since */
	if ((char *)mm_os_brk_now() != end)
		return 0;
	mm_os_sbrk(-(intptr_t)extra);
	char *now = mm_os_brk_now();
	if (!now || now >= end)
		return 0;
	size_t released = (size_t)(end - now);
	mm_os_note_trimmed(released);
	seg->size -= released;
	av->system_mem -= released;
	av->top->size = (top_size - released) | PREV_INUSE;
	return 1;
}

/* What an automatic trim keeps in the top: M_TOP_PAD, or, once the dynamic
 * threshold has grown (the program frees big blocks), the trim threshold
 * itself. glibc lets the top grow to the threshold and then cuts it to
 * M_TOP_PAD, so a program cycling big blocks faults every page in again;
 * keeping the threshold costs no more memory at the top's high point (in
 * both, a top at the threshold is what triggers the trim) and saves most
 * of the page faults; after a trim the top holds at most the threshold
 * (<= 64 MiB) instead of M_TOP_PAD. MMALLOC_TRIM_KEEP=0 restores glibc's
 * behaviour.
 *
 * On top of that, trimming has hysteresis (default settings only): when
 * the arena has to grow again after automatic trims gave memory back, the
 * program is cycling through a batch (allocate a few MiB, free them all,
 * again): automatic trims then keep a top as large as the batch given
 * back (the largest top trimmed, or the bytes trimmed, since the previous
 * growth, and at least twice the keep already held: a batch that keeps
 * growing would otherwise raise the keep by a little at each trim and
 * regrow; at most TRIM_KEEP_MAX), so the next batch finds its pages still mapped instead
 * of moving the break and faulting every page in again. Peak RSS does not
 * grow (the kept memory was in use a moment before). The keep lapses
 * TRIM_KEEP_DECAY_MS after it was raised: the next trim check after that
 * gives memory back as before, and a program still cycling raises it
 * again at its next growth (one trim/regrow cycle per period). */
static size_t auto_trim_pad(struct mm_arena *av)
{
	size_t pad = MP_GET(top_pad);
	if (MP_GET(no_dyn_threshold) || !mm_trim_keep)
		return pad;
	size_t t = MP_GET(trim_threshold);
	if (t > DEFAULT_TRIM_THRESHOLD && t > pad)
		pad = t;
	if (av->trim_keep) {
		if (mm_os_now_ms() - av->keep_stamp > TRIM_KEEP_DECAY_MS)
			av->trim_keep = 0;
		else if (av->trim_keep > pad)
			pad = av->trim_keep;
	}
	return pad;
}

void mm_note_grow(struct mm_arena *av)
{
	/* the batch that was given back: one big trim of a large top, or a
	 * run of small trims as a batch was freed from the top down */
	size_t t = av->trimmed_top > av->trimmed_sum ? av->trimmed_top : av->trimmed_sum;
	if (t == 0)
		return;
	av->trimmed_top = 0;
	av->trimmed_sum = 0;
	if (MP_GET(no_dyn_threshold) || !mm_trim_keep)
		return;
	if (av->trim_keep && t < 2 * av->trim_keep)
		t = 2 * av->trim_keep;
	if (t > TRIM_KEEP_MAX)
		t = TRIM_KEEP_MAX;
	if (t > av->trim_keep)
		av->trim_keep = t;
	av->keep_stamp = mm_os_now_ms();
}

/* Automatic trim after a large free (caller holds the lock). */
static void auto_trim(struct mm_arena *av)
{
	size_t pad = auto_trim_pad(av);
	size_t before = av->system_mem;
	size_t top_before = chunksize(av->top);
	if (av->is_main) {
		if (chunksize(av->top) >= MP_GET(trim_threshold) &&
		    chunksize(av->top) > pad + MINSIZE)
			mm_systrim_locked(av, pad);
	} else {
		mm_heap_trim_locked(av, pad);
	}
	if (av->system_mem < before) {
		av->trimmed_sum += before - av->system_mem;
		if (top_before > av->trimmed_top)
			av->trimmed_top = top_before;
	}
}

void mm_arena_drain_xfree(struct mm_arena *av)
{
	mm_xfree_give_back(av, __atomic_exchange_n(&av->xfree, NULL, __ATOMIC_ACQUIRE));
}

void mm_xfree_give_back(struct mm_arena *av, struct mm_xfree *e)
{
	while (e) {
		struct mm_xfree *next = e->next;
		struct mm_xfree *ahead = e->skip;
		struct mchunk *p = mem2chunk(e);
		if (ahead) {
			/* its size word and its first words (written below) */
			__builtin_prefetch((char *)ahead - SIZE_SZ, 1);
			__builtin_prefetch(ahead, 1);
		}
		e->key = 0;
		if (chunk_is_slab(p))
			mm_slab_free_locked(av, p);
		else
			mm_int_free_locked(av, p);
		e = next;
	}
}

void mm_int_free_locked(struct mm_arena *av, struct mchunk *p)
{
	size_t aflag = av->is_main ? 0 : NON_MAIN_ARENA;
	size_t size = chunksize(p);

	if (chunk_is_slab(p)) {
		mm_slab_free_locked(av, p);
		return;
	}
	if (size <= MP_GET(max_fast) && size <= MAX_FAST_SIZE) {
		struct mchunk *next = chunk_at(p, size);
		if (mm_unlikely(chunksize(next) < FENCEPOST_SZ || chunksize(next) >= av->system_mem))
			mm_fatal("free(): invalid next size (fast)", chunk2mem(p));
		unsigned fi = fastbin_index(size);
		struct mchunk *old = av->fastbins[fi];
		if (mm_unlikely(old == p))
			mm_fatal("double free or corruption (fasttop)", chunk2mem(p));
		p->link.fd = (struct mlink *)(void *)old;
		av->fastbins[fi] = p;
		av->have_fastchunks = true;
		return;
	}

	struct mchunk *next = chunk_at(p, size);
	if (mm_unlikely(p == av->top))
		mm_fatal("double free or corruption (top)", chunk2mem(p));
	if (mm_unlikely(!prev_inuse(next)))
		mm_fatal("double free or corruption (!prev)", chunk2mem(p));
	size_t nsize = chunksize(next);
	if (mm_unlikely(nsize < FENCEPOST_SZ || nsize >= av->system_mem))
		mm_fatal("free(): invalid next size (normal)", chunk2mem(p));

	size = coalesce_free(av, p, size, next, nsize, aflag,
			     "corrupted size vs. prev_size while consolidating");

	if (size >= FASTBIN_CONSOLIDATION_THRESHOLD) {
		if (av->have_fastchunks)
			mm_consolidate(av);
		auto_trim(av);
	}
}
