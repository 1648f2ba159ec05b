/* chunk.h — the boundary-tag chunk, the unit every arena hands out.
 *
 *     chunk -> +-----------------------------------------------+
 *              | prev_size: size of the previous chunk if free  |
 *              +-----------------------------------------------+
 *              | size of this chunk             |  A | M | P    |
 *       mem -> +-----------------------------------------------+
 *              | user data (in use)  /  fd, bk links (free)     |
 *              | ...                                            |
 * next chunk-> | prev_size = this size when this chunk is free  |
 *              | size of next chunk              |  A | M | P=0 |
 *
 * Sizes are multiples of 16 (MALLOC_ALIGN), at least MINSIZE (32). The low
 * three bits of `size` are flags: P = the previous chunk is in use (so
 * prev_size holds its user data, not a size), M = the chunk came from mmap,
 * A = the chunk belongs to a non-main arena (find it through its heap).
 * An in-use chunk overlaps the next chunk's prev_size with its data, so the
 * overhead of an in-use chunk is 8 bytes (SIZE_SZ).
 *
 * Invariants (checked by mmalloc_check): two free chunks are never adjacent
 * (fast-bin and thread-cache chunks count as in use); a free chunk's size is
 * repeated in the next chunk's prev_size and that chunk has P clear; the top
 * chunk always has P set.
 */
#ifndef MMALLOC_CHUNK_H
#define MMALLOC_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#define SIZE_SZ          ((size_t)sizeof(size_t))
#define MALLOC_ALIGN     ((size_t)16)
#define MALLOC_ALIGN_MASK (MALLOC_ALIGN - 1)
#define CHUNK_HDR_SZ     (2 * SIZE_SZ)
#define MINSIZE          ((size_t)32)

#define PREV_INUSE     ((size_t)1)
#define IS_MMAPPED     ((size_t)2)
#define NON_MAIN_ARENA ((size_t)4)
/* A block carved from a slab span (slab.c), not a chunk of the arena's
 * boundary-tag heap: its size word also holds, in bits 48..63, its
 * distance from the span header in 16-byte units. Sizes are multiples of
 * 16, so bit 3 is free, and no chunk reaches 2^48 bytes. */
#define SLAB_BLOCK     ((size_t)8)
#define SIZE_BITS      (PREV_INUSE | IS_MMAPPED | NON_MAIN_ARENA | SLAB_BLOCK)
#define SLAB_OFF_SHIFT 48
#define CHUNK_SIZE_MASK ((((size_t)1 << SLAB_OFF_SHIFT) - 1) & ~SIZE_BITS)

/* A segment ends with a fencepost: two fake in-use chunk headers of size
 * FENCEPOST_SZ that no free chunk may merge with. */
#define FENCEPOST_SZ   ((size_t)16)
#define FENCEPOST_AREA (2 * FENCEPOST_SZ)

/* Doubly linked list node of a free chunk (bins are heads of these). */
struct mlink {
	struct mlink *fd;
	struct mlink *bk;
};

struct mchunk {
	size_t prev_size;
	size_t size;
	struct mlink link;            /* free chunks only */
	/* free chunks in large bins only: the first chunk of each distinct
	 * size is on a circular list of sizes (ascending via fd_nextsize);
	 * the others have NULL here. */
	struct mchunk *fd_nextsize;
	struct mchunk *bk_nextsize;
};

/* The size word of an in-use chunk is read without a lock by the thread
 * that owns the chunk, while the arena's lock holder may flip its P bit
 * (freeing or allocating the chunk before it). Those two accesses touch
 * different bits, but they are one word: reads here and P-bit updates use
 * relaxed atomics (plain loads and stores on x86), so the race is defined
 * behaviour and ThreadSanitizer agrees. */
static inline size_t size_word(const struct mchunk *p)
{
	return __atomic_load_n(&p->size, __ATOMIC_RELAXED);
}
static inline size_t chunksize(const struct mchunk *p)
{
	return size_word(p) & CHUNK_SIZE_MASK;
}
static inline int prev_inuse(const struct mchunk *p) { return (int)(size_word(p) & PREV_INUSE); }
static inline int chunk_is_mmapped(const struct mchunk *p) { return (size_word(p) & IS_MMAPPED) != 0; }
static inline int chunk_non_main(const struct mchunk *p) { return (size_word(p) & NON_MAIN_ARENA) != 0; }
static inline int chunk_is_slab(const struct mchunk *p) { return (size_word(p) & SLAB_BLOCK) != 0; }

static inline void *chunk2mem(const struct mchunk *p)
{
	return (void *)((uintptr_t)p + CHUNK_HDR_SZ);
}
static inline struct mchunk *mem2chunk(const void *m)
{
	return (struct mchunk *)((uintptr_t)m - CHUNK_HDR_SZ);
}
static inline struct mchunk *chunk_at(const void *p, size_t off)
{
	return (struct mchunk *)((uintptr_t)p + off);
}
static inline struct mchunk *next_chunk(const struct mchunk *p)
{
	return chunk_at(p, chunksize(p));
}
static inline struct mchunk *prev_chunk(const struct mchunk *p)
{
	return (struct mchunk *)((uintptr_t)p - p->prev_size);
}
static inline struct mchunk *link2chunk(const struct mlink *l)
{
	return (struct mchunk *)((uintptr_t)l - offsetof(struct mchunk, link));
}
/* Is the chunk p in use? (its successor's P bit) */
static inline int inuse(const struct mchunk *p)
{
	return prev_inuse(next_chunk(p));
}
static inline void set_inuse_at(struct mchunk *p, size_t off)
{
	struct mchunk *n = chunk_at(p, off);
	__atomic_store_n(&n->size, size_word(n) | PREV_INUSE, __ATOMIC_RELAXED);
}
static inline void clear_inuse_at(struct mchunk *p, size_t off)
{
	struct mchunk *n = chunk_at(p, off);
	__atomic_store_n(&n->size, size_word(n) & ~PREV_INUSE, __ATOMIC_RELAXED);
}
/* Write the boundary tag of a free chunk: size in its header (keeping the
 * flags given) and in the next chunk's prev_size. */
static inline void set_free_tag(struct mchunk *p, size_t sz, size_t flags)
{
	p->size = sz | flags;
	chunk_at(p, sz)->prev_size = sz;
}

/* Bytes requested -> chunk size, or 0 if the request is too large. */
static inline size_t request2size(size_t n)
{
	if (n > (size_t)PTRDIFF_MAX - 4 * MINSIZE - 2 * 4096)
		return 0;
	size_t sz = (n + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;
	return sz < MINSIZE ? MINSIZE : sz;
}

static inline int aligned_ok(const void *p)
{
	return ((uintptr_t)p & MALLOC_ALIGN_MASK) == 0;
}

#endif
