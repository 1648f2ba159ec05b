/* check.c — mmalloc_check(): the whole-heap invariant walker.
 *
 * For every arena (under its lock) it walks every segment chunk by chunk
 * from its first chunk to the top chunk or the closing fencepost, checking
 * alignment, sizes, boundary tags and that no two free chunks touch; then
 * it walks every bin and fast bin, checking links, bin membership (exact
 * size for small bins, range and order for large bins), the binmap, and
 * that the number of free chunks found in the bins equals the number found
 * in the walk; every slab span (slab.h's invariants: its chunk in use in the
 * arena, block headers, free list, counts, partial lists); and the calling
 * thread's cache (sizes, counts, byte total).
 * Cost: linear in the number of chunks; meant for tests.
 */
#include "mmkit/error.h"
#include "malloc_internal.h"
#include "slab.h"
#include "tcache.h"

struct ck {
	int errors;
	size_t free_walk;      /* free chunks met while walking segments */
	size_t fast_walk;      /* chunks in fast bins */
};

static void complain(struct ck *c, const struct mm_arena *av, const char *what, const void *where)
{
	char buf[256];
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, "mmalloc_check: arena ");
	mm_fmt_u(buf, sizeof(buf), &pos, (uint64_t)av->index);
	mm_fmt_str(buf, sizeof(buf), &pos, ": ");
	mm_fmt_str(buf, sizeof(buf), &pos, what);
	mm_fmt_str(buf, sizeof(buf), &pos, " at ");
	mm_fmt_hex(buf, sizeof(buf), &pos, (uintptr_t)where);
	mm_fmt_str(buf, sizeof(buf), &pos, "\n");
	mm_os_write_err(buf, pos);
	c->errors++;
}

static void walk_segment(struct ck *c, struct mm_arena *av, struct mm_heap *h)
{
	size_t aflag = av->is_main ? 0 : NON_MAIN_ARENA;
	char *end = (char *)h + h->size;
	struct mchunk *p = h->first;
	int prev_free = 0;
	size_t prev_size = 0;
	if (!prev_inuse(p))
		complain(c, av, "first chunk without P bit", p);
	for (;;) {
		if ((char *)p + CHUNK_HDR_SZ > end) {
			complain(c, av, "walk ran off the segment", p);
			return;
		}
		size_t sz = chunksize(p);
		if (!aligned_ok(chunk2mem(p)))
			complain(c, av, "misaligned chunk", p);
		if ((p->size & NON_MAIN_ARENA) != aflag)
			complain(c, av, "wrong arena flag", p);
		if (p->size & IS_MMAPPED)
			complain(c, av, "mmap flag inside a segment", p);
		if (!!prev_inuse(p) == prev_free)
			complain(c, av, "P bit disagrees with previous chunk", p);
		if (prev_free && p->prev_size != prev_size)
			complain(c, av, "prev_size disagrees with previous free chunk", p);
		if (p == av->top) {
			if ((char *)p + sz != end)
				complain(c, av, "top does not end its segment", p);
			if (sz < MINSIZE)
				complain(c, av, "top smaller than MINSIZE", p);
			if (prev_free)
				complain(c, av, "free chunk before top", p);
			return;
		}
		if (sz == FENCEPOST_SZ) {
			/* f1 (16 bytes, or a 32-byte in-use chunk just walked)
			 * then f2, the segment's last 16 bytes, whose prev_size
			 * records f1's size */
			int last = (char *)p + FENCEPOST_SZ == end;
			struct mchunk *f2 = last ? p : chunk_at(p, FENCEPOST_SZ);
			size_t f1size = last ? prev_size : FENCEPOST_SZ;
			if (chunksize(f2) != FENCEPOST_SZ || !prev_inuse(f2) ||
			    (char *)f2 + FENCEPOST_SZ != end || f2->prev_size != f1size ||
			    (last && (prev_free || f1size != 2 * FENCEPOST_SZ)))
				complain(c, av, "bad fencepost", p);
			return;
		}
		if (sz < MINSIZE || (sz & MALLOC_ALIGN_MASK) || (char *)p + sz > end) {
			complain(c, av, "bad chunk size", p);
			return;
		}
		int is_free = !prev_inuse(chunk_at(p, sz));
		if (is_free) {
			if (prev_free)
				complain(c, av, "two adjacent free chunks", p);
			c->free_walk++;
		}
		prev_free = is_free;
		prev_size = sz;      /* also read by the fencepost check */
		p = chunk_at(p, sz);
	}
}

static void check_bins(struct ck *c, struct mm_arena *av)
{
	size_t in_bins = 0;
	for (unsigned i = 1; i < NBINS; i++) {
		struct mlink *b = bin_at(av, i);
		size_t prev = 0;
		size_t n = 0;
		struct mchunk *first_head = NULL, *last_head = NULL;
		for (struct mlink *l = b->fd; l != b; l = l->fd) {
			struct mchunk *p = link2chunk(l);
			size_t sz = chunksize(p);
			if (l->fd->bk != l || l->bk->fd != l) {
				complain(c, av, "broken bin links", p);
				return;
			}
			if (prev_inuse(chunk_at(p, sz)))
				complain(c, av, "chunk in a bin is marked in use", p);
			if (chunk_at(p, sz)->prev_size != sz)
				complain(c, av, "free chunk's boundary tag is wrong", p);
			if (p == av->top)
				complain(c, av, "top chunk in a bin", p);
			if (i >= 2 && bin_index(sz) != i)
				complain(c, av, "chunk in the wrong bin", p);
			if (i >= NSMALLBINS && sz < prev)
				complain(c, av, "large bin out of order", p);
			if (i >= NSMALLBINS) {
				int head = (n == 0 || sz != prev);
				if (head != (p->fd_nextsize != NULL)) {
					complain(c, av, "size-group head mark is wrong", p);
				} else if (head) {
					if (p->fd_nextsize->bk_nextsize != p ||
					    p->bk_nextsize->fd_nextsize != p)
						complain(c, av, "broken size list", p);
					if (n && last_head->fd_nextsize != p)
						complain(c, av, "size list skips a size", p);
					if (!n)
						first_head = p;
					last_head = p;
				}
			}
			prev = sz;
			if (++n > (size_t)1 << 32) {
				complain(c, av, "bin loops", b);
				return;
			}
		}
		if (last_head && last_head->fd_nextsize != first_head)
			complain(c, av, "size list does not close", last_head);
		if (n && i >= 2 && !(av->binmap[i >> 6] & ((uint64_t)1 << (i & 63))))
			complain(c, av, "non-empty bin not in binmap", b);
		in_bins += n;
	}
	if (in_bins != c->free_walk)
		complain(c, av, "free chunks in bins differ from free chunks in the heap", av);
	for (unsigned i = 0; i < NFASTBINS; i++) {
		for (struct mchunk *p = av->fastbins[i]; p; p = (struct mchunk *)(void *)p->link.fd) {
			if (chunksize(p) != (size_t)(i + 2) * MALLOC_ALIGN)
				complain(c, av, "fast chunk of the wrong size", p);
			if (!inuse(p))
				complain(c, av, "fast chunk not marked in use", p);
			if (++c->fast_walk > (size_t)1 << 32)
				return;
		}
	}
}

/* Is p inside one of av's segments? */
static int in_arena(struct mm_arena *av, const void *p)
{
	for (struct mm_heap *h = av->heap; h; h = h->prev)
		if ((const char *)p >= (const char *)h->first && (const char *)p < (const char *)h + h->size)
			return 1;
	return 0;
}

/* A slab block's size word as the span wrote it. */
static int block_header_ok(struct mm_arena *av, const struct mm_span *s, const struct mchunk *b)
{
	size_t off = ((uintptr_t)b - (uintptr_t)s) >> 4;
	size_t want = s->csize | SLAB_BLOCK | PREV_INUSE | (av->is_main ? 0 : NON_MAIN_ARENA) |
		      (off << SLAB_OFF_SHIFT);
	return b->size == want;
}

static void check_span(struct ck *c, struct mm_arena *av, struct mm_span *s)
{
	struct mchunk *sc = mem2chunk(s);
	if (s->magic != (SPAN_MAGIC ^ (uintptr_t)s)) {
		complain(c, av, "span with a bad magic word", s);
		return;
	}
	if (!in_arena(av, sc) || chunk_is_mmapped(sc) || chunk_is_slab(sc) || !inuse(sc)) {
		complain(c, av, "span is not an in-use chunk of its arena", s);
		return;
	}
	if (s->csize < MINSIZE || s->csize > SLAB_MAX_CHUNK || (s->csize & MALLOC_ALIGN_MASK) ||
	    s->nblocks == 0 ||
	    SPAN_FIRST + (size_t)s->nblocks * s->csize + 2 * SIZE_SZ > chunksize(sc)) {
		complain(c, av, "span size or block count is wrong", s);
		return;
	}
	if (s->carved > s->nblocks || (size_t)s->used + s->nfree != s->carved)
		complain(c, av, "span counts disagree (used + free != carved)", s);
	for (unsigned k = 0; k < s->carved; k++)
		if (!block_header_ok(av, s, span_block(s, k))) {
			complain(c, av, "slab block header is wrong", span_block(s, k));
			break;
		}
	if (s->nblocks > SPAN_MAX_BLOCKS) {
		complain(c, av, "span has more blocks than its free map", s);
		return;
	}
	size_t n = 0;
	for (unsigned k = 0; k < SPAN_MAX_BLOCKS; k++) {
		if (!span_block_free(s, k))
			continue;
		if (k >= s->carved) {
			complain(c, av, "free map marks a block never carved", s);
			return;
		}
		n++;
		if (((struct slab_free *)chunk2mem(span_block(s, k)))->key != mm_slab_key)
			complain(c, av, "free slab block without its key", chunk2mem(span_block(s, k)));
	}
	if (n != s->nfree)
		complain(c, av, "span free count is wrong", s);
	if ((s->next != NULL) != (s->used < s->nblocks))
		complain(c, av, "span on the partial list iff it has room: broken", s);
}

static void check_slab(struct ck *c, struct mm_arena *av)
{
	size_t n = 0, empty_bytes = 0;
	uint32_t per_class[SLAB_NCLASSES] = {0};
	struct mm_span *prev = NULL;
	for (struct mm_span *s = av->slab_all; s; s = s->all_next) {
		if (s->all_prev != prev) {
			complain(c, av, "broken span list", s);
			return;
		}
		check_span(c, av, s);
		if (s->csize >= MINSIZE && s->csize <= SLAB_MAX_CHUNK)
			per_class[slab_class(s->csize)]++;
		if (s->used == 0)
			empty_bytes += chunksize(mem2chunk(s));
		prev = s;
		if (++n > av->slab_spans)
			break;
	}
	if (n != av->slab_spans)
		complain(c, av, "span count is wrong", av);
	for (unsigned k = 0; k < SLAB_NCLASSES; k++)
		if (per_class[k] != av->slab_nspans[k]) {
			complain(c, av, "span count of a class is wrong", av);
			break;
		}
	if (empty_bytes != av->slab_empty_bytes || empty_bytes > SLAB_KEEP_BYTES)
		complain(c, av, "bytes of empty spans are wrong", av);
	for (unsigned k = 0; k < SLAB_NCLASSES; k++) {
		struct mm_span *h = av->slab_partial[k], *s = h;
		size_t empty = 0, len = 0;
		if (!h)
			goto count;
		do {
			if (s->magic != (SPAN_MAGIC ^ (uintptr_t)s) || slab_class(s->csize) != k ||
			    s->next->prev != s || s->prev->next != s) {
				complain(c, av, "broken partial span list", s);
				break;
			}
			if (s->used == 0)
				empty++;
			s = s->next;
		} while (s != h && ++len <= av->slab_spans);
count:
		if (empty != av->slab_nempty[k] || empty > SLAB_KEEP_EMPTY)
			complain(c, av, "count of empty spans is wrong", av);
	}
}

/* The calling thread's cache: counts, byte total, chunk sizes, in use. */
static void check_tcache(struct ck *c)
{
	size_t bytes = 0;
	for (unsigned i = 0; i < TC_NBINS; i++) {
		size_t n = 0;
		for (struct tc_entry *e = mm_tc.head[i]; e; e = e->next) {
			struct mchunk *p = mem2chunk(e);
			int used = chunk_is_slab(p) ? block_span(p)->magic == (SPAN_MAGIC ^ (uintptr_t)block_span(p))
						    : inuse(p);
			if (chunksize(p) != (size_t)(i + 2) * MALLOC_ALIGN || chunk_is_mmapped(p) ||
			    !used || e->key != mm_tc_key)
				complain(c, &mm_main_arena, "bad chunk in the thread cache", p);
			if (++n > mm_tc.count[i])
				break;
		}
		if (n != mm_tc.count[i] || n > mm_tc.limit[i])
			complain(c, &mm_main_arena, "thread cache count is wrong", mm_tc.head[i]);
	}
	for (unsigned k = 0; k < TC_NMED; k++) {
		size_t n = 0;
		for (struct tc_entry *e = mm_tc.mhead[k]; e; e = e->next) {
			struct mchunk *p = mem2chunk(e);
			size_t cs = chunksize(p);
			if (cs < tc_med_size(k) || (k + 1 < TC_NMED && cs >= tc_med_size(k + 1)) ||
			    chunk_is_mmapped(p) || chunk_is_slab(p) || !inuse(p) || e->key != mm_tc_key)
				complain(c, &mm_main_arena, "bad chunk in the thread's medium cache", p);
			bytes += cs;
			if (++n > mm_tc.mcount[k])
				break;
		}
		if (n != mm_tc.mcount[k] || n > tc_med_limit(k))
			complain(c, &mm_main_arena, "medium cache count is wrong", mm_tc.mhead[k]);
	}
	if (bytes != mm_tc.mbytes)
		complain(c, &mm_main_arena, "medium cache byte total is wrong", &mm_tc);
	size_t n = 0;
	for (struct tc_entry *e = mm_tc.remote; e && n <= TC_REMOTE_MAX; e = e->next, n++) {
		struct mchunk *p = mem2chunk(e);
		int used = chunk_is_slab(p) ? block_span(p)->magic == (SPAN_MAGIC ^ (uintptr_t)block_span(p))
					    : inuse(p);
		if (chunksize(p) > TC_MAX_CHUNK || chunk_is_mmapped(p) || !used || e->key != mm_tc_key)
			complain(c, &mm_main_arena, "bad chunk on the thread's remote list", p);
	}
	if (n != mm_tc.nremote || n >= TC_REMOTE_MAX)
		complain(c, &mm_main_arena, "thread's remote count is wrong", &mm_tc);
}

int mmalloc_check(void)
{
	mm_ensure_init();
	struct ck c = { 0, 0, 0 };
	check_tcache(&c);
	for (struct mm_arena *a = &mm_main_arena; a;
	     a = __atomic_load_n(&a->next, __ATOMIC_ACQUIRE)) {
		mm_lock(a);
		mm_arena_drain(a);   /* blocks other threads gave back count as free */
		c.free_walk = 0;
		size_t mem = 0;
		for (struct mm_heap *h = a->heap; h; h = h->prev) {
			if (h->ar != a)
				complain(&c, a, "segment owned by another arena", h);
			if (h != a->heap && a->top && (char *)a->top >= (char *)h &&
			    (char *)a->top < (char *)h + h->size)
				complain(&c, a, "top outside the newest segment", a->top);
			walk_segment(&c, a, h);
			mem += h->size;
		}
		if (mem != a->system_mem)
			complain(&c, a, "system_mem differs from the segments' sizes", a);
		check_bins(&c, a);
		check_slab(&c, a);
		mm_unlock(a);
	}
	return c.errors ? -MM_ECORRUPT : 0;
}
