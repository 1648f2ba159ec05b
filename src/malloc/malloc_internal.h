/* malloc_internal.h — libmmalloc's private declarations: arenas, heaps,
 * parameters and the functions the core files share.
 *
 * Process-wide state (allowed only in src/malloc, DESIGN.md): the main
 * arena, the list of arenas, the parameters, and per-thread caches in
 * initial-exec TLS.
 *
 * Locking rules:
 *   - arena->lock protects everything in the arena except `next` (set once
 *     before the arena is published), `next_free`/`attached` (list_lock)
 *     and `xfree` (a lock-free stack: any thread pushes, the lock holder
 *     takes it all).
 *   - mm_list_lock protects the arena list, the free-arena list and
 *     narenas. Order: list_lock before any arena lock; arena locks are
 *     never nested except in the fork handlers, which take them all in list
 *     order.
 *   - mp's tunables are written by mallopt/env at any time and read without
 *     a lock (relaxed atomics): a racing reader sees the old or new value.
 */
#ifndef MMALLOC_INTERNAL_H
#define MMALLOC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/single_threaded.h>

#include "mmkit/compiler.h"
#include "mmkit/mmalloc.h"
#include "chunk.h"
#include "os.h"

/* ---- Sizes and defaults (glibc's values on 64-bit) ---- */
#define NBINS               128
#define NSMALLBINS          64
#define MIN_LARGE_SIZE      ((size_t)NSMALLBINS * MALLOC_ALIGN)      /* 1024 */
#define NFASTBINS           10
#define DEFAULT_MXFAST      ((size_t)64 * SIZE_SZ / 4)                /* 128 */
#define MAX_FAST_SIZE       ((size_t)80 * SIZE_SZ / 4)                /* 160 */
#define DEFAULT_MMAP_THRESHOLD     ((size_t)128 * 1024)
#define DEFAULT_MMAP_THRESHOLD_MAX ((size_t)32 * 1024 * 1024)
#define DEFAULT_TRIM_THRESHOLD     ((size_t)128 * 1024)
#define DEFAULT_TOP_PAD            ((size_t)128 * 1024)
#define DEFAULT_MMAP_MAX           65536
#define HEAP_MAX_SIZE       ((size_t)64 * 1024 * 1024)
#define HEAP_MIN_SIZE       ((size_t)32 * 1024)
#define FASTBIN_CONSOLIDATION_THRESHOLD ((size_t)65536)
#define MAX_UNSORTED_ITERS  10000
#define TRIM_KEEP_MAX       ((size_t)128 * 1024 * 1024)  /* adaptive keep bound */
#define TRIM_KEEP_DECAY_MS  1000   /* a raised keep lapses after this long */

#define BINMAP_WORDS 2

/* Slab spans (slab.c): one size class per 16-byte chunk size up to
 * SLAB_MAX_CHUNK (the thread caches' range). */
#define SLAB_NCLASSES  256
#define SLAB_MAX_CHUNK ((size_t)(SLAB_NCLASSES + 1) * 16)      /* 4112 */
struct mm_span;

/* A block on an arena's xfree list: freed by a thread of another arena,
 * waiting to be given back (the first two words as a thread-cache entry).
 * skip is the block XFREE_SKIP places further down the pushed chain, or
 * NULL: the lines were last written by another core, so the drain would
 * otherwise take one cache miss after another walking next; with skip it
 * prefetches ahead and the misses overlap. Every cached chunk has at
 * least 24 usable bytes, so the third word is always there. */
#define XFREE_SKIP 8
struct mm_xfree {
	struct mm_xfree *next;
	uintptr_t key;
	struct mm_xfree *skip;
};

/* A contiguous piece of an arena's memory: a brk run or an mmap-ed
 * fallback segment of the main arena, or a HEAP_MAX_SIZE-aligned heap of
 * another arena. The header sits at the start of the memory it describes;
 * chunks follow it and the last chunk is the top or a fencepost. */
struct mm_heap {
	struct mm_arena *ar;      /* owner */
	struct mm_heap *prev;     /* older segment of the same arena */
	size_t size;              /* bytes of the segment in use (from header) */
	size_t mprotect_size;     /* heaps: bytes made read-write so far;
				     mmap segments: bytes mapped */
	struct mchunk *first;     /* first chunk of the segment */
	int kind;                 /* SEG_BRK, SEG_MMAP, SEG_HEAP */
	int pad_;
};
enum { SEG_BRK = 1, SEG_MMAP = 2, SEG_HEAP = 3 };
/* A whole cache line: free() on any thread reads `ar`, so nothing the
 * owner writes often (its arena's lock, the first chunk) may share it. */
#define MM_CACHELINE 64
#define HEAP_HDR_SZ MM_ALIGN_UP(sizeof(struct mm_heap), MM_CACHELINE)

struct mm_arena {
	pthread_mutex_t lock;
	struct mchunk *fastbins[NFASTBINS];  /* LIFO singly linked via link.fd */
	bool have_fastchunks;                /* some fast bin may be non-empty */
	bool is_main;
	struct mchunk *top;                  /* wilderness chunk, never in a bin */
	struct mchunk *last_remainder;       /* from the last small split */
	struct mlink bins[NBINS];            /* 1 unsorted, 2..63 small, 64.. large */
	uint64_t binmap[BINMAP_WORDS];       /* bit i: bins[i] may be non-empty */
	struct mm_heap *heap;                /* newest segment (holds top) */
	size_t system_mem;                   /* bytes obtained from the OS now */
	size_t max_system_mem;
	struct mm_arena *next;               /* all arenas; immutable once set */
	struct mm_arena *next_free;          /* list_lock: arenas no thread uses */
	size_t attached;                     /* threads using it: written under list_lock
					        (atomically: free() reads it without) */
	int index;                           /* 0 for main, in creation order */
	/* adaptive trimming (free.c, default settings only): */
	size_t trim_keep;                    /* top bytes automatic trims keep */
	size_t trimmed_top;                  /* largest top auto-trimmed since the last growth */
	size_t trimmed_sum;                  /* bytes auto-trimmed since the last growth */
	uint64_t keep_stamp;                 /* mm_os_now_ms() when trim_keep was raised */
	/* slab spans (slab.c): */
	struct mm_span *slab_partial[SLAB_NCLASSES]; /* spans of a class with a free
						       block, circular, allocation from the head */
	uint8_t slab_nempty[SLAB_NCLASSES];  /* empty spans kept on a partial list */
	uint32_t slab_nspans[SLAB_NCLASSES]; /* spans of each class (sizes the next one) */
	size_t slab_empty_bytes;             /* their chunk bytes, all classes */
	struct mm_span *slab_all;            /* every span of the arena (check, stats) */
	size_t slab_spans;                   /* spans on slab_all */
	/* atomic, no lock: blocks of this arena freed by threads of other
	 * arenas (pushed a batch at a time with a CAS), given back to their
	 * spans or bins by whoever next holds the lock (mm_arena_drain); in
	 * a cache line of its own, away from the fields the owner writes */
	struct mm_xfree *xfree __attribute__((aligned(MM_CACHELINE)));
	char xfree_pad_[MM_CACHELINE - sizeof(struct mm_xfree *)];
};

/* av->top changes under the lock; the owner's thread cache also reads it
 * without (a hint: a chunk next to top is not cached, so top can absorb
 * it and trimming works), hence relaxed atomic stores. */
static inline void mm_set_top(struct mm_arena *av, struct mchunk *p)
{
	__atomic_store_n(&av->top, p, __ATOMIC_RELAXED);
}

struct mm_params {
	size_t mmap_threshold;
	size_t trim_threshold;
	size_t top_pad;
	size_t max_fast;             /* largest fast-bin chunk size (0: none) */
	int n_mmaps_max;
	int arena_max;               /* 0: from arena_test and the cpu count */
	int arena_test;
	int no_dyn_threshold;        /* user fixed the thresholds */
	int perturb;                 /* M_PERTURB byte (0: off) */
	size_t pagesize;
	/* statistics (atomics) */
	size_t n_mmaps, max_n_mmaps;
	size_t mmapped_mem, max_mmapped_mem;
};

extern struct mm_params mm_mp;
extern struct mm_arena mm_main_arena;
extern pthread_mutex_t mm_list_lock;
extern int mm_ready;                 /* 2 once initialised */
extern int mm_narenas;
extern int mm_trim_keep;             /* MMALLOC_TRIM_KEEP (default 1) */

#define MM_TLS __attribute__((tls_model("initial-exec"))) __thread

/* ---- Relaxed access to tunables ---- */
#define MP_GET(f)    __atomic_load_n(&mm_mp.f, __ATOMIC_RELAXED)
#define MP_SET(f, v) __atomic_store_n(&mm_mp.f, (v), __ATOMIC_RELAXED)

/* ---- init.c / params ---- */
void mm_init_slow(void);
static inline void mm_ensure_init(void)
{
	if (mm_unlikely(__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) != 2))
		mm_init_slow();
}
/* Value of environment variable `name` without allocating, or NULL. */
const char *mm_getenv(const char *name);

/* ---- report.c: fatal errors and small formatting without stdio ---- */
MM_NORETURN void mm_fatal(const char *msg, const void *addr);
/* Append decimal / hex to buf at *pos (bounded by cap). */
void mm_fmt_str(char *buf, size_t cap, size_t *pos, const char *s);
void mm_fmt_u(char *buf, size_t cap, size_t *pos, uint64_t v);
void mm_fmt_hex(char *buf, size_t cap, size_t *pos, uint64_t v);
void mm_fmt_upad(char *buf, size_t cap, size_t *pos, uint64_t v, int width);

/* ---- arena.c ---- */
void mm_arena_init(struct mm_arena *av, int is_main);
struct mm_arena *mm_arena_get_slow(void);
extern MM_TLS struct mm_arena *mm_thread_arena;
static inline struct mm_arena *mm_arena_get(void)
{
	struct mm_arena *a = mm_thread_arena;
	return mm_likely(a != NULL) ? a : mm_arena_get_slow();
}
void mm_arena_thread_detach(void);
/* Another arena to retry with after `av` failed, or NULL. */
struct mm_arena *mm_arena_retry(struct mm_arena *av, size_t bytes);
static inline struct mm_heap *heap_for_ptr(const void *p)
{
	return (struct mm_heap *)((uintptr_t)p & ~(HEAP_MAX_SIZE - 1));
}
static inline struct mm_arena *arena_for_chunk(const struct mchunk *p)
{
	return chunk_non_main(p) ? heap_for_ptr(p)->ar : &mm_main_arena;
}
/* Grow / create heaps of non-main arenas (caller holds av->lock). */
int mm_heap_grow(struct mm_heap *h, size_t diff);
struct mm_heap *mm_heap_new(size_t size, size_t top_pad);
int mm_heap_trim_locked(struct mm_arena *av, size_t pad);
void mm_fork_prepare(void);
void mm_fork_parent(void);
void mm_fork_child(void);
/* ---- bins.c ---- */
void mm_unlink_chunk(struct mm_arena *av, struct mchunk *p);
/* Smallest chunk of large bin b of at least nb bytes, or NULL. */
struct mchunk *mm_large_best_fit(struct mlink *b, size_t nb);
void mm_bin_insert(struct mm_arena *av, struct mchunk *p); /* sorted bins */
void mm_consolidate(struct mm_arena *av);

/* ---- malloc.c ---- */
void *mm_int_malloc(struct mm_arena *av, size_t nb);
/* The same, but never an mmap-ed chunk: NULL unless the arena has or can
 * grow the memory. */
void *mm_int_malloc_heap(struct mm_arena *av, size_t nb);
size_t mm_int_malloc_batch(struct mm_arena *av, size_t nb, void **out, size_t max, void **odd);
void *mm_int_memalign(struct mm_arena *av, size_t align, size_t nb);
void *mm_sysmalloc_mmap(size_t nb, size_t align);

/* ---- slab.c: small blocks in spans of one size ---- */
/* Largest chunk size served from spans (0: none); MMALLOC_SLAB_MAX. */
extern size_t mm_slab_max;
void mm_slab_init_global(void);
/* Up to max blocks of chunk size nb (<= mm_slab_max) into out[]; returns
 * how many (0 if no span could be had: nothing changed). Caller holds
 * av->lock. */
size_t mm_slab_alloc_batch(struct mm_arena *av, size_t nb, void **out, size_t max);
/* Give back slab block p (in use, of arena av). Caller holds av->lock. */
void mm_slab_free_locked(struct mm_arena *av, struct mchunk *p);
/* Release every empty span of av to its heap; 1 if any. Lock held. */
int mm_slab_release_empty(struct mm_arena *av);
/* p's key word is mm_slab_key: it may be free in its span, or waiting on
 * its arena's xfree stack. Drain the stack, then abort if p is free (a
 * double free). Takes and drops the arena's lock. */
void mm_slab_double_free_check(struct mchunk *p);
extern uintptr_t mm_slab_key;

/* ---- free.c ---- */
void mm_int_free_locked(struct mm_arena *av, struct mchunk *p);
/* Give back the blocks other threads left on av->xfree. Lock held. */
void mm_arena_drain_xfree(struct mm_arena *av);
/* Give back the blocks of list e (taken off av->xfree). Lock held. */
void mm_xfree_give_back(struct mm_arena *av, struct mm_xfree *e);
static inline void mm_arena_drain(struct mm_arena *av)
{
	if (__atomic_load_n(&av->xfree, __ATOMIC_RELAXED))
		mm_arena_drain_xfree(av);
}
/* Push the chain first..last (linked through next) on av->xfree. */
static inline void mm_arena_push_xfree(struct mm_arena *av, struct mm_xfree *first,
				       struct mm_xfree *last)
{
	struct mm_xfree *old = __atomic_load_n(&av->xfree, __ATOMIC_RELAXED);
	do {
		last->next = old;
	} while (!__atomic_compare_exchange_n(&av->xfree, &old, first, 1, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}
void mm_munmap_chunk(struct mchunk *p);
int mm_systrim_locked(struct mm_arena *av, size_t pad);
/* The arena grew: if automatic trims gave memory back since the last
 * growth, the program is cycling (trim, fault in again); keep that much. */
void mm_note_grow(struct mm_arena *av);
/* Validate an in-use chunk coming from the user; aborts if bogus. */
void mm_check_free_ptr(const struct mchunk *p, const void *mem);

/* ---- mcache.c: freed mmap-ed chunks kept for reuse ---- */
/* Keep the mapping [base, base+len) instead of unmapping it; 0 if the
 * caller must unmap it. */
int mm_mcache_put(char *base, size_t len);
/* A cached mapping for a request of *lenp bytes (page multiple), its real
 * length in *lenp, contents not zero; NULL if none (nothing changed). */
void *mm_mcache_get(size_t *lenp);
/* Unmap everything cached; 1 if anything was. */
int mm_mcache_flush(void);
/* An arena is about to grow: empty the cache unless it served a request
 * since the previous growth. */
void mm_mcache_arena_grows(void);
void mm_mcache_fork_prepare(void);
void mm_mcache_fork_parent(void);
void mm_mcache_fork_child(void);
/* Set when the calling thread's last mmap-ed chunk came from the cache. */
extern MM_TLS int mm_mcache_dirty;

/* ---- tcache.c ---- */
void mm_tcache_init_global(void);
void mm_tcache_thread_exit(void *unused);
/* Make sure the thread-exit handler runs for the calling thread. */
void mm_thread_arm_exit(void);
extern pthread_key_t mm_thread_key;

/* ---- stats.c ---- */
void mm_stats_at_exit(void);
extern int mm_stats_requested;

/* ---- debug.c ---- */
/* -1 until initialised, then 1 if the interposed entry points must use the
 * checking layer (MMALLOC_CHECK=1), else 0. */
extern int mm_debug_mode;
void mm_debug_init(void);      /* decide mm_debug_mode (during init) */
void mm_debug_fork_prepare(void);
void mm_debug_fork_parent(void);
void mm_debug_fork_child(void);

/* ---- bin index math ---- */
static inline int in_smallbin_range(size_t sz) { return sz < MIN_LARGE_SIZE; }
static inline unsigned smallbin_index(size_t sz) { return (unsigned)(sz >> 4); }
static inline unsigned largebin_index(size_t sz)
{
	/* 32 bins 64 B apart, 16 of 512 B, 8 of 4 KiB, 4 of 32 KiB,
	 * 2 of 256 KiB, then one for the rest (glibc's spacing on 64-bit). */
	if ((sz >> 6) <= 48)
		return 48 + (unsigned)(sz >> 6);
	if ((sz >> 9) <= 20)
		return 91 + (unsigned)(sz >> 9);
	if ((sz >> 12) <= 10)
		return 110 + (unsigned)(sz >> 12);
	if ((sz >> 15) <= 4)
		return 119 + (unsigned)(sz >> 15);
	if ((sz >> 18) <= 2)
		return 124 + (unsigned)(sz >> 18);
	return 126;
}
static inline unsigned bin_index(size_t sz)
{
	return in_smallbin_range(sz) ? smallbin_index(sz) : largebin_index(sz);
}
static inline unsigned fastbin_index(size_t sz) { return (unsigned)(sz >> 4) - 2; }
static inline void mark_bin(struct mm_arena *av, unsigned i)
{
	av->binmap[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline void unmark_bin(struct mm_arena *av, unsigned i)
{
	av->binmap[i >> 6] &= ~((uint64_t)1 << (i & 63));
}
static inline struct mlink *bin_at(struct mm_arena *av, unsigned i) { return &av->bins[i]; }
static inline int bin_empty(const struct mlink *b) { return b->fd == b; }
static inline void list_push_front(struct mlink *head, struct mlink *l)
{
	l->fd = head->fd;
	l->bk = head;
	head->fd->bk = l;
	head->fd = l;
}
static inline void list_del(struct mlink *l)
{
	l->fd->bk = l->bk;
	l->bk->fd = l->fd;
}
#define UNSORTED 1

/* Arena locks are skipped while the process has a single thread (glibc's
 * SINGLE_THREAD_P, read from __libc_single_threaded, which libc clears in
 * pthread_create before the new thread exists and sets again only in a
 * fork child). No critical section creates a thread, so a lock and its
 * unlock always see the same value; the fork handlers, whose prepare and
 * child halves may see different values, take and release the locks with
 * pthread_mutex_lock/unlock directly. */
static inline void mm_lock(struct mm_arena *av)
{
	if (!__libc_single_threaded)
		pthread_mutex_lock(&av->lock);
}
static inline void mm_unlock(struct mm_arena *av)
{
	if (!__libc_single_threaded)
		pthread_mutex_unlock(&av->lock);
}

/* Put free chunk p (its tag already written) at the front of the
 * unsorted bin. */
static inline void unsorted_push(struct mm_arena *av, struct mchunk *p)
{
	if (!in_smallbin_range(chunksize(p)))
		p->fd_nextsize = NULL;   /* small chunks have no room for it */
	list_push_front(&av->bins[1], &p->link);
}

/* Merge free chunk p (size bytes; next, of nsize bytes, follows it) with
 * its free neighbours, then put the result at the front of the unsorted
 * bin, or make it top if next is top; returns the merged size. A prev_size
 * that does not match the previous chunk's size is fatal (prev_msg).
 * aflag is the arena's NON_MAIN_ARENA bit. Caller holds av->lock. */
static inline size_t coalesce_free(struct mm_arena *av, struct mchunk *p, size_t size,
				   struct mchunk *next, size_t nsize, size_t aflag,
				   const char *prev_msg)
{
	if (!prev_inuse(p)) {
		size_t psize = p->prev_size;
		struct mchunk *prev = prev_chunk(p);
		if (mm_unlikely(chunksize(prev) != psize))
			mm_fatal(prev_msg, chunk2mem(p));
		mm_unlink_chunk(av, prev);
		p = prev;
		size += psize;
	}
	if (next != av->top) {
		if (!inuse(next)) {
			mm_unlink_chunk(av, next);
			size += nsize;
		} else {
			clear_inuse_at(next, 0);
		}
		set_free_tag(p, size, PREV_INUSE | aflag);
		unsorted_push(av, p);
	} else {
		size += nsize;
		p->size = size | PREV_INUSE | aflag;
		mm_set_top(av, p);
	}
	return size;
}

#endif
