/* bins.c — the free lists of an arena: unlinking, sorted insertion into the
 * small and large bins, and fast-bin consolidation.
 *
 * Algorithm: 128 bins as in glibc. bins[1] is the unsorted bin, where freed
 * and split-off chunks wait one malloc before being sorted; bins[2..63] hold
 * one exact size each (16-byte steps, 32..1008); bins[64..126] hold size
 * ranges spaced 64 B, 512 B, 4 KiB, 32 KiB, 256 KiB apart, kept sorted by
 * size (smallest at fd) so the first fit found walking from fd is the best
 * fit. Fast bins are LIFO stacks of small chunks that stay marked in use;
 * consolidation merges them with their free neighbours and moves the result
 * to the unsorted bin.
 * Cost: O(1) small-bin insert/remove; sorted insert is linear in the number
 * of chunks of smaller size in the same large bin (glibc uses a skip list of
 * distinct sizes; these bins are short in practice); consolidation is linear
 * in the number of fast chunks.
 * Fragmentation: best fit with immediate coalescing (boundary tags) keeps
 * external fragmentation low (Knuth, TAOCP 2.5; Wilson et al., "Dynamic
 * Storage Allocation: A Survey and Critical Review", 1995).
 */
#include "malloc_internal.h"

void mm_unlink_chunk(struct mm_arena *av, struct mchunk *p)
{
	struct mlink *l = &p->link;
	if (mm_unlikely(l->fd->bk != l || l->bk->fd != l))
		mm_fatal("corrupted double-linked list", chunk2mem(p));
	if (mm_unlikely(chunksize(chunk_at(p, chunksize(p))) == 0 ||
			chunk_at(p, chunksize(p))->prev_size != chunksize(p)))
		mm_fatal("corrupted size vs. prev_size", chunk2mem(p));
	list_del(l);
	if (av->last_remainder == p)
		av->last_remainder = NULL;
}

/* Put free chunk p into its small or large bin. */
void mm_bin_insert(struct mm_arena *av, struct mchunk *p)
{
	size_t sz = chunksize(p);
	unsigned i = bin_index(sz);
	struct mlink *b = bin_at(av, i);
	mark_bin(av, i);
	if (in_smallbin_range(sz) || bin_empty(b)) {
		list_push_front(b, &p->link);
		return;
	}
	/* large bin, ascending from fd: usually the new chunk is the largest */
	struct mlink *pos;
	if (sz >= chunksize(link2chunk(b->bk))) {
		pos = b;               /* insert at the tail */
	} else {
		pos = b->fd;
		while (chunksize(link2chunk(pos)) < sz)
			pos = pos->fd;
	}
	/* insert before pos */
	p->link.fd = pos;
	p->link.bk = pos->bk;
	pos->bk->fd = &p->link;
	pos->bk = &p->link;
}

/* Merge every fast chunk with its free neighbours and move it to the
 * unsorted bin (or into top). Caller holds av->lock. */
void mm_consolidate(struct mm_arena *av)
{
	size_t aflag = av->is_main ? 0 : NON_MAIN_ARENA;
	struct mlink *unsorted = bin_at(av, UNSORTED);
	av->have_fastchunks = false;
	for (unsigned i = 0; i < NFASTBINS; i++) {
		struct mchunk *p = av->fastbins[i];
		av->fastbins[i] = NULL;
		while (p) {
			struct mchunk *nextp = (struct mchunk *)(void *)p->link.fd;
			if (mm_unlikely(fastbin_index(chunksize(p)) != i))
				mm_fatal("malloc_consolidate(): invalid chunk size", chunk2mem(p));
			size_t size = chunksize(p);
			struct mchunk *next = chunk_at(p, size);
			size_t nsize = chunksize(next);
			if (!prev_inuse(p)) {
				size_t psize = p->prev_size;
				struct mchunk *prev = prev_chunk(p);
				if (mm_unlikely(chunksize(prev) != psize))
					mm_fatal("corrupted size vs. prev_size in fastbins", chunk2mem(p));
				mm_unlink_chunk(av, prev);
				p = prev;
				size += psize;
			}
			if (next != av->top) {
				if (!inuse(next)) {
					mm_unlink_chunk(av, next);
					size += nsize;
				} else {
					next->size &= ~PREV_INUSE;
				}
				list_push_front(unsorted, &p->link);
				set_free_tag(p, size, PREV_INUSE | aflag);
			} else {
				size += nsize;
				p->size = size | PREV_INUSE | aflag;
				av->top = p;
			}
			p = nextp;
		}
	}
}
