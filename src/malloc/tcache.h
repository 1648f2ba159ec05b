/* tcache.h — per-thread caches of free chunks: the lock-free fast path.
 *
 * Each thread owns TC_NBINS singly linked stacks of chunks of one size each
 * (32, 48, ..., 4112 bytes: requests up to 4104 bytes), in initial-exec TLS
 * so that reaching them costs one segment-relative load and nothing is
 * allocated to set them up. A cached chunk stays marked in use in its arena;
 * its first word links the stack and its second holds mm_tc_key, which lets
 * free() notice a chunk that is already cached (double free).
 *
 * Chunks of the thread's own arena are cached for reuse, and those of
 * other arenas from mm_tc_foreign_min (64) bytes up; a smaller chunk of
 * another arena goes on the remote list, which is given back to the
 * owners every TC_REMOTE_MAX frees without taking their locks (pushed on
 * each arena's xfree stack, drained by its next lock holder), so that a
 * block allocated by one thread and freed by another is not handed out
 * again in the same cache line as its old neighbours (false sharing,
 * cache-scratch) and memory does not drift between arenas.
 *
 * Invariants: count[i] = length of head[i] <= limit[i]; every chunk on
 * head[i] has size (i + 2) * 16 (a class size when it was allocated
 * through the cache; any size for chunks from realloc or memalign);
 * every chunk on mhead[c] is a medium chunk of the thread's arena, of a
 * size in [tc_med_size(c), tc_med_size(c + 1)), mcount[c] of them, at
 * most tc_med_limit(c), their sizes summing to mbytes;
 * nremote = length of remote < TC_REMOTE_MAX; mm_tc_cap[i] <= limit[i]
 * (while caching) and grown = sum of (limit[i] - mm_tc_cap[i]) * size
 * <= TC_GROW_BUDGET. The limits bound what a thread keeps: about 0.5 MiB
 * in chunks of the class sizes malloc hands out, 2.3 MiB at most with
 * odd sizes from realloc or memalign, plus what bins have grown. limit[] is all zero until the thread has
 * registered its exit handler (so a thread that only frees cannot strand
 * chunks in its cache) and again once the thread has exited.
 * Only the owning thread touches its cache.
 */
#ifndef MMALLOC_TCACHE_H
#define MMALLOC_TCACHE_H

#include "malloc_internal.h"

#define TC_NBINS     256
#define TC_MAX_CHUNK ((size_t)(TC_NBINS + 1) * MALLOC_ALIGN)   /* 4112 */
#define TC_MAX_REQ   (TC_MAX_CHUNK - SIZE_SZ)                   /* 4104 */

enum { TC_NEW = 0, TC_ACTIVE = 1, TC_DEAD = 2 };

struct tc_entry {
	struct tc_entry *next;
	uintptr_t key;                /* mm_tc_key while cached */
};

/* Medium chunks (above TC_MAX_CHUNK, up to TC_MED_MAX) are cached too,
 * in TC_NMED classes eight to a doubling (4608, 5120, ..., 8192, 9216,
 * ..., 262144: steps of 12.5%). While the cache is on, a medium request
 * is rounded up to its class, so the chunk freed later fits the same
 * class again; a chunk of any other size (realloc, memalign, a split)
 * goes to the largest class not above its size, so any chunk of class c
 * serves any request of class c. */
#define TC_NMED      48
#define TC_MED_MIN   ((size_t)4608)
#define TC_MED_MAX   ((size_t)256 * 1024)
#define TC_MED_BUDGET_DEFAULT ((size_t)1024 * 1024)

struct tcache {
	struct tc_entry *head[TC_NBINS];
	uint16_t count[TC_NBINS];
	uint16_t limit[TC_NBINS];     /* starts at mm_tc_cap[i], grows (tc_grow) */
	size_t grown;                 /* bytes of capacity grown above the caps */
	struct tc_entry *mhead[TC_NMED];  /* medium chunks of the thread's arena */
	uint8_t mcount[TC_NMED];
	size_t mbytes;                /* sum of their sizes, <= mm_tc_med_budget */
	int state;                    /* TC_NEW, TC_ACTIVE, TC_DEAD */
	unsigned nremote;             /* length of remote */
	struct tc_entry *remote;      /* freed blocks of other arenas, on their
					 way back (never reused here) */
};

extern MM_TLS struct tcache mm_tc;
extern uintptr_t mm_tc_key;
extern uint16_t mm_tc_cap[TC_NBINS];
extern size_t mm_tc_med_budget; /* MMALLOC_TCACHE_MED_BUDGET; 0: no medium cache */
extern size_t mm_tc_foreign_min; /* MMALLOC_TCACHE_FOREIGN_MIN */


/* Size classes of the cached range: chunk sizes go up in 16-byte steps
 * to mm_tc_round_min (512), then eight classes a doubling (576, 640, ...,
 * 1024, 1152, ..., 4096; 4112 stays itself), as jemalloc's and tcmalloc's
 * classes do. A request is rounded up to its class, so that requests of
 * near sizes share one cache bin and one span class: with sizes spread
 * evenly, a bin then sees enough traffic to stay warm (mstress -23% CPU)
 * and fewer half-empty spans are kept (lower peak RSS), at a cost of at
 * most 12.5% internal fragmentation above 512 bytes.
 * mm_tc_bin_of[u], u = chunk size / 16 of the unrounded request, is the
 * bin (class size / 16 - 2) of the request. */
extern size_t mm_tc_round_min;   /* MMALLOC_TCACHE_ROUND_MIN */
extern uint16_t mm_tc_bin_of[TC_NBINS + 2];

/* Chunk size nb (<= TC_MAX_CHUNK) rounded up to its class. */
static inline size_t tc_round(size_t nb)
{
	return ((size_t)mm_tc_bin_of[nb >> 4] + 2) * MALLOC_ALIGN;
}

/* Cache index of a request of n bytes (n <= TC_MAX_REQ). */
static inline unsigned tc_index(size_t n)
{
	return mm_tc_bin_of[(n + SIZE_SZ + MALLOC_ALIGN_MASK) >> 4];
}

/* Pop a cached chunk for request n, or NULL. */
static inline void *tc_get(size_t n)
{
	if (mm_likely(n <= TC_MAX_REQ)) {
		unsigned i = tc_index(n);
		struct tc_entry *e = mm_tc.head[i];
		if (mm_likely(e != NULL)) {
			mm_tc.head[i] = e->next;
			mm_tc.count[i]--;
			e->key = 0;
			return e;
		}
	}
	return NULL;
}

void mm_tc_double_free_check(struct tc_entry *e, unsigned i);

/* Push mem (a non-mmapped chunk of the thread's arena) on the cache if it
 * has room; 1 if done. */
static inline int tc_put(void *mem, size_t csize)
{
	size_t i = (csize >> 4) - 2;
	if (i < TC_NBINS && mm_likely(aligned_ok(mem))) {
		struct tc_entry *e = mem;
		if (mm_unlikely(e->key == mm_tc_key))
			mm_tc_double_free_check(e, (unsigned)i);
		if (mm_likely(mm_tc.count[i] < mm_tc.limit[i])) {
			e->next = mm_tc.head[i];
			e->key = mm_tc_key;
			mm_tc.head[i] = e;
			mm_tc.count[i]++;
			return 1;
		}
	}
	return 0;
}

/* x (> 8) rounded up to a class of eight a doubling: for x in
 * (2^e, 2^(e+1)], the next multiple of 2^(e-3). Both the small classes
 * above mm_tc_round_min and the medium classes are made of these. */
static inline size_t tc_class_up(size_t x)
{
	unsigned e = 63u - (unsigned)__builtin_clzll(x - 1);
	size_t step = (size_t)1 << (e - 3);
	return (x + step - 1) & ~(step - 1);
}

/* Medium class of a chunk size nb in (TC_MAX_CHUNK, TC_MED_MAX]: the
 * smallest class holding nb. */
static inline unsigned tc_med_index(size_t nb)
{
	size_t c = tc_class_up(nb);                           /* (2^e, 2^(e+1)] */
	unsigned e = 63u - (unsigned)__builtin_clzll(c - 1);  /* >= 12 */
	return (e - 12) * 8 + (unsigned)(c >> (e - 3)) - 9;
}

static inline size_t tc_med_size(unsigned c)
{
	unsigned e = 12 + c / 8;
	return ((size_t)1 << e) + (size_t)(c % 8 + 1) * ((size_t)1 << (e - 3));
}

/* Most chunks of class c a thread keeps: 64 KiB worth, 1 to 8. */
static inline unsigned tc_med_limit(unsigned c)
{
	size_t n = ((size_t)64 * 1024) / tc_med_size(c);
	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

/* Medium cache (tcache.c). For a medium request of chunk size nb: a
 * cached chunk, or NULL with *round set to the size to allocate instead
 * (nb's class size, or nb when the cache is off). */
void *mm_tc_med_get(size_t nb, size_t *round);
/* Cache the medium chunk mem (not mmapped) of csize bytes if it belongs
 * to the thread's arena and fits; 1 if done. */
int mm_tc_med_put(void *mem, size_t csize);
/* Give every cached medium chunk back to its arena (malloc_trim). */
void mm_tc_flush_med(void);
/* mem's key is mm_tc_key: abort if it is in the medium cache. */
void mm_tc_med_double_free_check(void *mem, size_t csize);

#define TC_REMOTE_MAX 64    /* remote blocks held before they are given back */

/* free()'s fast path: mem (not NULL) cached for reuse, or put on the
 * remote list; 0 for anything else (mmap-ed, full bin, a cached or
 * slab-free key: maybe a double free; caching off), which the caller
 * sends to mm_free_slow (api.c), where everything is checked again. It
 * makes no call, so free() needs no stack frame on this path. Shared by
 * mmalloc_free and the interposed free(), which would otherwise pay a
 * call and a debug-mode test on every free (debug mode keeps every
 * cache empty, so its blocks always come out here as 0). */
static inline int tc_free_fast(void *mem)
{
	struct mchunk *p = mem2chunk(mem);
	size_t size = size_word(p);
	size_t cs = size & CHUNK_SIZE_MASK;
	size_t i = (cs >> 4) - 2;
	if (mm_likely(!(size & IS_MMAPPED) && i < TC_NBINS && aligned_ok(mem))) {
		struct tc_entry *e = mem;
		/* (key | 2) == mm_tc_key: the key of a cached chunk or of a
		 * slab block that is free (they differ in bit 1 only) */
		if (mm_likely((e->key | 2) != mm_tc_key && mm_tc.count[i] < mm_tc.limit[i])) {
			/* cached for reuse: the thread's own arena's chunks, and
			 * other arenas' from mm_tc_foreign_min bytes up */
			if (mm_likely(cs >= mm_tc_foreign_min ||
				      ((size & NON_MAIN_ARENA) ? heap_for_ptr(p)->ar : &mm_main_arena) ==
					      mm_thread_arena)) {
				e->next = mm_tc.head[i];
				e->key = mm_tc_key;
				mm_tc.head[i] = e;
				mm_tc.count[i]++;
				return 1;
			}
			if (mm_tc.nremote < TC_REMOTE_MAX - 1) {
				/* another arena's block: on its way home */
				e->next = mm_tc.remote;
				e->key = mm_tc_key;
				mm_tc.remote = e;
				mm_tc.nremote++;
				return 1;
			}
		}
	}
	return 0;
}

/* api.c: everything free() does beyond tc_free_fast, and everything
 * malloc() does beyond a plain cache hit (m: the hit, or NULL). */
void mm_free_slow(struct mchunk *p, void *mem);
void *mm_malloc_tail(size_t n, void *m);

/* Slow paths (tcache.c). */
/* Allocate a chunk of size nb <= TC_MAX_CHUNK and fill its cache bin
 * with spares; NULL with errno = ENOMEM on failure. */
void *mm_tc_refill(size_t nb);
/* Everything free() does with a chunk of cache size that the inline
 * path did not: registering the thread, double-free checks, a chunk of
 * another arena (remote list, given back in batches), a full bin or byte
 * budget. 0 if the chunk must go to its arena instead. */
int mm_tc_free_slow(void *mem, size_t csize);
void mm_tc_flush_all(void);
/* No caching from now on for threads that register later, nor for the
 * calling thread (M_PERTURB needs every block to pass the slow paths). */
void mm_tc_close(void);

#endif
