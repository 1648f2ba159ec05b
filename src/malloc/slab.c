/* slab.c — small blocks served from spans of one size (seed 003's slab
 * allocator, behind the thread caches).
 *
 * Algorithm: every chunk size up to mm_slab_max (default 4112, all the
 * thread-cache sizes) is a class. A span is one ordinary arena chunk cut
 * into blocks of one class (slab.h): about 8 KiB (8 to 128 blocks) for
 * sizes up to 1040, 32 KiB once the arena has SPAN_GROW_AFTER spans of
 * the class, 4 blocks above. Each arena keeps, per
 * class, a circular list of the spans that still have a free or never-used
 * block; a batch request (a thread-cache refill) takes the lowest free
 * blocks of the head span from its free map (a bitmap in the span header:
 * no link to load from each block, blocks in address order), then carves
 * never-used blocks from its end (so a fresh span's pages are touched
 * only as they are needed), and moves to the next span, or makes a new
 * one, when that span is full. Freeing a block sets its bit in its span's
 * free map (a bit already set is a double free): no neighbour is read or merged,
 * unlike a chunk, whose free walks boundary tags and unlinks free
 * neighbours (cache misses all over a large heap). A span that becomes
 * empty goes back to the arena as one chunk, except one per class (and
 * 64 KiB in all per arena), kept for the next burst (a batch that is
 * freed and allocated again in a loop must not create and merge a span
 * every time).
 * Cost: O(1) per block under the arena lock, which the thread caches take
 * once per batch; O(1) to create or release a span (one arena
 * malloc/free), its blocks carved lazily.
 * Fragmentation: internal as for chunks (the same 16-byte size steps and
 * 8-byte header); external: a span with one live block pins the span, as
 * a slab page does in the kernel; partially used spans are filled before
 * new ones are made.
 * Reference: J. Bonwick, "The Slab Allocator" (USENIX 1994); Linux
 * mm/slub.c; the size-class pages of mimalloc and tcmalloc.
 */
#include "slab.h"
#include "tcache.h"

size_t mm_slab_max = SLAB_MAX_CHUNK;
uintptr_t mm_slab_key;

void mm_slab_init_global(void)
{
	const char *v = mm_getenv("MMALLOC_SLAB_MAX");
	if (v && *v >= '0' && *v <= '9') {
		size_t n = 0;
		for (; *v >= '0' && *v <= '9' && n < SLAB_MAX_CHUNK; v++)
			n = n * 10 + (size_t)(*v - '0');
		mm_slab_max = n >= SLAB_MAX_CHUNK ? SLAB_MAX_CHUNK : n & ~MALLOC_ALIGN_MASK;
		if (mm_slab_max < MINSIZE)
			mm_slab_max = 0;
	}
	/* the two keys differ in bit 1 only (mm_tc_key has it set), so
	 * free()'s fast path tests for either with one compare */
	mm_slab_key = mm_tc_key & ~(uintptr_t)2;
}

/* ---- Span lists ---- */

static void partial_add_tail(struct mm_arena *av, unsigned c, struct mm_span *s)
{
	struct mm_span *h = av->slab_partial[c];
	if (!h) {
		s->next = s->prev = s;
		av->slab_partial[c] = s;
		return;
	}
	s->next = h;
	s->prev = h->prev;
	h->prev->next = s;
	h->prev = s;
}

static void partial_del(struct mm_arena *av, unsigned c, struct mm_span *s)
{
	if (s->next == s) {
		av->slab_partial[c] = NULL;
	} else {
		s->prev->next = s->next;
		s->next->prev = s->prev;
		if (av->slab_partial[c] == s)
			av->slab_partial[c] = s->next;
	}
	s->next = s->prev = NULL;
}

/* Span bytes for blocks of csize (an arena chunk: no need to round to
 * pages). Small sizes: about 8 KiB, 8 to 128 blocks; above the small-bin
 * range 4 blocks only: each size then has few blocks, and a partly used
 * span strands little (measured: 32-block spans of 1-4 KiB blocks raised
 * peak RSS by half on mstress and rptest). */
static size_t span_bytes(size_t csize, uint32_t nspans)
{
	size_t n = (nspans < SPAN_GROW_AFTER ? SPAN_SMALL_BYTES : SPAN_GROWN_BYTES) / csize;
	if (csize > SPAN_SMALL_MAX)
		n = SPAN_BIG_BLOCKS;
	else if (n < SPAN_MIN_BLOCKS)
		n = SPAN_MIN_BLOCKS;
	else if (n > SPAN_MAX_BLOCKS)
		n = SPAN_MAX_BLOCKS;
	return SPAN_FIRST + n * csize + 2 * SIZE_SZ;
}

static struct mm_span *span_new(struct mm_arena *av, size_t csize, unsigned c)
{
	void *m = mm_int_malloc_heap(av, span_bytes(csize, av->slab_nspans[c]));
	if (!m)
		return NULL;
	struct mm_span *s = m;
	size_t real = chunksize(mem2chunk(m));
	/* the last block's memory ends 8 bytes into the chunk's successor */
	size_t n = (real - SPAN_FIRST - 2 * SIZE_SZ) / csize;
	if (n > SPAN_MAX_BLOCKS)
		n = SPAN_MAX_BLOCKS;
	s->csize = (uint32_t)csize;
	s->nblocks = (uint16_t)n;
	s->used = 0;
	s->carved = 0;
	s->nfree = 0;
	s->freemap[0] = s->freemap[1] = 0;
	s->recip = (uint32_t)(((uint64_t)1 << 32) / csize + 1);
	s->magic = SPAN_MAGIC ^ (uintptr_t)s;
	s->all_prev = NULL;
	s->all_next = av->slab_all;
	if (av->slab_all)
		av->slab_all->all_prev = s;
	av->slab_all = s;
	av->slab_spans++;
	av->slab_nspans[c]++;
	partial_add_tail(av, c, s);
	av->slab_nempty[c]++;
	av->slab_empty_bytes += real;
	return s;
}

static void span_release(struct mm_arena *av, unsigned c, struct mm_span *s)
{
	partial_del(av, c, s);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		av->slab_all = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	av->slab_spans--;
	av->slab_nspans[c]--;
	s->magic = 0;
	mm_int_free_locked(av, mem2chunk(s));
}

/* ---- Allocation and free ---- */

size_t mm_slab_alloc_batch(struct mm_arena *av, size_t nb, void **out, size_t max)
{
	unsigned c = slab_class(nb);
	size_t hdr = nb | SLAB_BLOCK | PREV_INUSE | (av->is_main ? 0 : NON_MAIN_ARENA);
	size_t n = 0;
	while (n < max) {
		struct mm_span *s = av->slab_partial[c];
		if (!s && !(s = span_new(av, nb, c)))
			break;
		if (s->used == 0) {
			av->slab_nempty[c]--;
			av->slab_empty_bytes -= chunksize(mem2chunk(s));
		}
		while (n < max && s->nfree) {
			unsigned w = s->freemap[0] ? 0 : 1;
			uint64_t m = s->freemap[w];
			unsigned k = w * 64 + (unsigned)__builtin_ctzll(m);
			s->freemap[w] = m & (m - 1);
			struct slab_free *e = chunk2mem(span_block(s, k));
			e->key = 0;
			out[n++] = e;
			s->nfree--;
			s->used++;
		}
		while (n < max && s->carved < s->nblocks) {
			struct mchunk *b = span_block(s, s->carved);
			size_t off = ((uintptr_t)b - (uintptr_t)s) >> 4;
			b->size = hdr | (off << SLAB_OFF_SHIFT);
			/* memory reused from an older span may still hold a key:
			 * clear it, or every free of this block takes the
			 * double-free check */
			((struct slab_free *)chunk2mem(b))->key = 0;
			out[n++] = chunk2mem(b);
			s->carved++;
			s->used++;
		}
		if (s->used == s->nblocks)
			partial_del(av, c, s);
	}
	return n;
}

/* Abort unless block e of span s is carved and not free in the span. */
static inline void slab_check_not_free(struct mm_span *s, struct slab_free *e)
{
	struct mchunk *p = mem2chunk(e);
	unsigned k = span_index(s, p);
	if (mm_unlikely(k >= s->carved || span_block(s, k) != p))
		mm_fatal("free(): invalid pointer (slab)", e);
	if (mm_unlikely(span_block_free(s, k)))
		mm_fatal("free(): double free detected (slab)", e);
}

void mm_slab_free_locked(struct mm_arena *av, struct mchunk *p)
{
	struct mm_span *s = block_span(p);
	struct slab_free *e = chunk2mem(p);
	if (mm_unlikely(s->magic != (SPAN_MAGIC ^ (uintptr_t)s) ||
			chunksize(p) != s->csize))
		mm_fatal("free(): invalid pointer (slab)", e);
	unsigned k = span_index(s, p);
	if (mm_unlikely(k >= s->carved || span_block(s, k) != p))
		mm_fatal("free(): invalid pointer (slab)", e);
	uint64_t bit = (uint64_t)1 << (k & 63);
	if (mm_unlikely((s->freemap[k >> 6] & bit) || s->used == 0))
		mm_fatal("free(): double free detected (slab)", e);
	unsigned c = slab_class(s->csize);
	s->freemap[k >> 6] |= bit;
	e->key = mm_slab_key;
	s->nfree++;
	if (s->used-- == s->nblocks) {
		/* at the head: the next refill fills it up again, so that the
		 * older partial spans behind it can drain and go back */
		partial_add_tail(av, c, s);
		av->slab_partial[c] = s;
	}
	if (s->used == 0) {
		size_t bytes = chunksize(mem2chunk(s));
		if (av->slab_nempty[c] >= SLAB_KEEP_EMPTY ||
		    av->slab_empty_bytes + bytes > SLAB_KEEP_BYTES) {
			span_release(av, c, s);
		} else {
			av->slab_nempty[c]++;
			av->slab_empty_bytes += bytes;
		}
	}
}

void mm_slab_double_free_check(struct mchunk *p)
{
	struct mm_arena *av = arena_for_chunk(p);
	mm_lock(av);
	/* p may be waiting on the xfree stack: then this is its second free
	 * (a chunk of the bins would otherwise be given back and look in
	 * use from a fast bin, or be merged away); else give them back */
	struct mm_xfree *list = __atomic_exchange_n(&av->xfree, NULL, __ATOMIC_ACQUIRE);
	for (struct mm_xfree *x = list; x; x = x->next)
		if (x == (struct mm_xfree *)chunk2mem(p))
			mm_fatal("free(): double free detected (remote)", chunk2mem(p));
	mm_xfree_give_back(av, list);
	if (chunk_is_slab(p)) {
		/* a live block keeps its span alive: a span gone is a block freed */
		struct mm_span *s = block_span(p);
		if (s->magic != (SPAN_MAGIC ^ (uintptr_t)s))
			mm_fatal("free(): double free detected (slab)", chunk2mem(p));
		slab_check_not_free(s, chunk2mem(p));
	} else if (!inuse(p)) {
		mm_fatal("free(): double free detected (remote)", chunk2mem(p));
	}
	mm_unlock(av);
}

int mm_slab_release_empty(struct mm_arena *av)
{
	int released = 0;
	for (unsigned c = 0; c < SLAB_NCLASSES; c++) {
		struct mm_span *h = av->slab_partial[c];
		while (h && av->slab_nempty[c]) {
			struct mm_span *s = h, *found = NULL;
			do {
				if (s->used == 0) {
					found = s;
					break;
				}
				s = s->next;
			} while (s != h);
			if (!found)
				break;
			av->slab_nempty[c]--;
			av->slab_empty_bytes -= chunksize(mem2chunk(found));
			span_release(av, c, found);
			released = 1;
			h = av->slab_partial[c];
		}
	}
	return released;
}
