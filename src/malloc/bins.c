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
	size_t sz = chunksize(p);
	if (mm_unlikely(l->fd->bk != l || l->bk->fd != l))
		mm_fatal("corrupted double-linked list", chunk2mem(p));
	if (mm_unlikely(chunk_at(p, sz)->prev_size != sz))
		mm_fatal("corrupted size vs. prev_size", chunk2mem(p));
	if (!in_smallbin_range(sz) && p->fd_nextsize != NULL) {
		/* p heads its size group in a large bin */
		struct mchunk *n = link2chunk(l->fd);
		int same = l->fd != &av->bins[largebin_index(sz)] && chunksize(n) == sz;
		if (same) {
			/* the next chunk of the same size takes over */
			if (p->fd_nextsize == p) {
				n->fd_nextsize = n->bk_nextsize = n;
			} else {
				n->fd_nextsize = p->fd_nextsize;
				n->bk_nextsize = p->bk_nextsize;
				p->fd_nextsize->bk_nextsize = n;
				p->bk_nextsize->fd_nextsize = n;
			}
		} else if (p->fd_nextsize != p) {
			p->fd_nextsize->bk_nextsize = p->bk_nextsize;
			p->bk_nextsize->fd_nextsize = p->fd_nextsize;
		}
	}
	list_del(l);
	if (av->last_remainder == p)
		av->last_remainder = NULL;
}

static inline void list_insert_before(struct mlink *pos, struct mlink *l)
{
	l->fd = pos;
	l->bk = pos->bk;
	pos->bk->fd = l;
	pos->bk = l;
}

/* Put free chunk p into its small or large bin. A large bin is sorted by
 * size, smallest at fd; the walk to the insertion point goes over distinct
 * sizes only (the fd_nextsize list), as in glibc. */
void mm_bin_insert(struct mm_arena *av, struct mchunk *p)
{
	size_t sz = chunksize(p);
	unsigned i = bin_index(sz);
	struct mlink *b = bin_at(av, i);
	mark_bin(av, i);
	if (in_smallbin_range(sz)) {
		list_push_front(b, &p->link);
		return;
	}
	if (bin_empty(b)) {
		list_push_front(b, &p->link);
		p->fd_nextsize = p->bk_nextsize = p;
		return;
	}
	struct mchunk *first = link2chunk(b->fd);
	struct mchunk *last = first->bk_nextsize;   /* head of the largest group */
	struct mchunk *g;
	if (sz > chunksize(last)) {
		g = first;                  /* becomes the new largest: wraps */
		list_insert_before(b, &p->link);
	} else if (sz < chunksize(first)) {
		g = first;
		list_insert_before(&first->link, &p->link);
		p->fd_nextsize = g;
		p->bk_nextsize = g->bk_nextsize;
		g->bk_nextsize->fd_nextsize = p;
		g->bk_nextsize = p;
		return;
	} else {
		/* walk from the nearer end */
		if (sz - chunksize(first) < chunksize(last) - sz) {
			g = first;
			while (chunksize(g) < sz)
				g = g->fd_nextsize;
		} else {
			g = last;
			while (chunksize(g->bk_nextsize) >= sz && g != first)
				g = g->bk_nextsize;
			if (chunksize(g) < sz)
				g = g->fd_nextsize;
		}
		if (chunksize(g) == sz) {
			/* join the group, behind its head */
			list_insert_before(g->link.fd, &p->link);
			p->fd_nextsize = p->bk_nextsize = NULL;
			return;
		}
		list_insert_before(&g->link, &p->link);
	}
	/* p heads a new size group, just below g in size order */
	p->fd_nextsize = g;
	p->bk_nextsize = g->bk_nextsize;
	g->bk_nextsize->fd_nextsize = p;
	g->bk_nextsize = p;
}

struct mchunk *mm_large_best_fit(struct mlink *b, size_t nb)
{
	if (bin_empty(b))
		return NULL;
	struct mchunk *first = link2chunk(b->fd);
	struct mchunk *g = first;
	if (chunksize(first->bk_nextsize) < nb)
		return NULL;
	while (chunksize(g) < nb)
		g = g->fd_nextsize;
	/* prefer a non-head of the group: no size-list surgery */
	struct mlink *n = g->link.fd;
	if (n != b && chunksize(link2chunk(n)) == chunksize(g))
		return link2chunk(n);
	return g;
}

/* Merge every fast chunk with its free neighbours and move it to the
 * unsorted bin (or into top). Caller holds av->lock. */
void mm_consolidate(struct mm_arena *av)
{
	size_t aflag = av->is_main ? 0 : NON_MAIN_ARENA;
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
			coalesce_free(av, p, size, next, nsize, aflag,
				      "corrupted size vs. prev_size in fastbins");
			p = nextp;
		}
	}
}
