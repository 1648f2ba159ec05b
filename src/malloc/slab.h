/* slab.h — the span: a run of equal-sized blocks carved from one arena
 * chunk (seed 003's slab, in user space).
 *
 *  arena chunk -> | hdr | struct mm_span | blk 0 | blk 1 | ... | blk n-1 | tail |
 *
 * Every block has the layout of a chunk of size csize (8-byte size word
 * before the memory, the last 8 bytes of its memory overlapping the next
 * block's prev_size), so the code that reads a size word (free, realloc,
 * the thread caches) treats blocks and chunks alike. A block's size word is
 * csize | SLAB_BLOCK | PREV_INUSE | the arena flag | its distance from the
 * span in 16-byte units << SLAB_OFF_SHIFT; it is written once, when the
 * block is first carved, and never changes while the span exists.
 *
 * Invariants (all checked by mmalloc_check, under the arena lock):
 *   used + nfree == carved <= nblocks <= SPAN_MAX_BLOCKS;
 *   blocks [carved, nblocks) have never been handed out (no header yet);
 *   freemap has bit k set iff block k < carved is free in the span
 *   (nfree bits in all); a free block's second word holds mm_slab_key;
 *   the span is on av->slab_partial[class] iff used < nblocks;
 *   av->slab_nspans[class] = spans of that class on av->slab_all;
 *   av->slab_nempty[class] = spans of that class with used == 0 (at most
 *   SLAB_KEEP_EMPTY, and SLAB_KEEP_BYTES of them in all: the others go
 *   back to the arena at once); av->slab_empty_bytes = their chunk bytes;
 *   every span of the arena is on av->slab_all.
 * Blocks held by thread caches count as used.
 */
#ifndef MMALLOC_SLAB_H
#define MMALLOC_SLAB_H

#include "malloc_internal.h"

struct slab_free {
	uintptr_t unused_;            /* the caller's data (not a link) */
	uintptr_t key;                /* mm_slab_key while free in the span */
};

/* The free blocks are a bitmap, not a list threaded through them: an
 * allocation takes the lowest free blocks (address order, no pointer to
 * chase through blocks freed in random order: each was a cache miss),
 * and a second free of a block finds its bit already set. The fields a
 * free or an allocation reads come first, in one cache line with the
 * magic word. */
struct mm_span {
	uintptr_t magic;                     /* SPAN_MAGIC ^ address */
	uint32_t csize;                      /* block (chunk) size */
	uint16_t nblocks;                    /* blocks that fit */
	uint16_t used;                       /* handed out (caches included) */
	uint16_t carved;                     /* blocks with a header so far */
	uint16_t nfree;                      /* bits set in freemap */
	uint32_t recip;                      /* 2^32 / csize + 1 (span_index) */
	uint64_t freemap[2];                 /* bit k: block k is free */
	struct mm_span *next, *prev;         /* partial list of its class (circular) */
	struct mm_span *all_next, *all_prev; /* av->slab_all (NULL-terminated) */
};

#define SPAN_FIRST   MM_ALIGN_UP(sizeof(struct mm_span), MALLOC_ALIGN) /* block 0 */
#define SPAN_MAGIC   ((uintptr_t)0x5ab5ab5ab5ab5ab5ULL)
#define SLAB_KEEP_EMPTY 1     /* empty spans kept per class and arena */
#define SPAN_SMALL_MAX   ((size_t)1040)  /* sizes with "small" spans: */
#define SPAN_SMALL_BYTES ((size_t)8192)  /*   about this many bytes, */
#define SPAN_GROW_AFTER  16              /*   4x as many once the class has */
#define SPAN_GROWN_BYTES ((size_t)32768) /*   this many spans, */
#define SPAN_MIN_BLOCKS  8               /*   but this many blocks at least */
#define SPAN_MAX_BLOCKS  128             /*   and at most (freemap's bits); */
#define SPAN_BIG_BLOCKS  4               /* spans of larger sizes */
#define SLAB_KEEP_BYTES ((size_t)64 * 1024)   /* ... and in all per arena */

static inline unsigned slab_class(size_t csize) { return (unsigned)(csize >> 4) - 2; }

static inline struct mchunk *span_block(const struct mm_span *s, unsigned k)
{
	return chunk_at(s, SPAN_FIRST + (size_t)k * s->csize);
}

/* The index of slab block p in span s. */
static inline unsigned span_index(const struct mm_span *s, const struct mchunk *p)
{
	/* d * recip / 2^32 = d / csize + d * e / 2^32 with 0 < e <= 1 and
	 * d < 2^20: the floor is exact for a block boundary, without a
	 * division (20-40 cycles, on every free) */
	uint64_t d = (uintptr_t)p - (uintptr_t)s - SPAN_FIRST;
	return (unsigned)((d * s->recip) >> 32);
}

static inline int span_block_free(const struct mm_span *s, unsigned k)
{
	return (s->freemap[k >> 6] >> (k & 63)) & 1;
}

/* The span of slab block p. */
static inline struct mm_span *block_span(const struct mchunk *p)
{
	return (struct mm_span *)((uintptr_t)p - ((size_word(p) >> SLAB_OFF_SHIFT) << 4));
}

#endif
