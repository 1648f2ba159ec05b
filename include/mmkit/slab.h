/* mmkit/slab.h — the slab object allocator and kmalloc (Bonwick's slab
 * allocator with magazines; Linux's kmem_cache_* and kmalloc API).
 *
 * One `struct mm_kmem` is one slab-allocator instance: its page source, its
 * chain of caches (what /proc/slabinfo lists), its kmalloc caches, its page
 * map (page address -> slab) and its per-thread state. Instances share
 * nothing: several coexist (the simulator runs one per simulated machine
 * over its buddy allocator; real programs run one over
 * mm_page_source_mmap). The only static storage is a small thread-local memo
 * of lookup shortcuts (which instance's per-thread state this thread used
 * last), validated by a per-instance nonce; it holds no data.
 *
 * Objects are carved from slabs (naturally aligned blocks of 2^order pages)
 * kept on three lists per cache (full / partial / empty). Each thread has a
 * loaded and a previous magazine per cache on the fast path; full and empty
 * magazines are exchanged with the cache's depot under a lock. See
 * docs/slab.md for the algorithm, its costs and the rules chosen.
 *
 * Thread safety: every function may be called from any thread, except
 * mm_kmem_destroy, mm_kmem_cache_destroy and the *_check walkers, which the
 * caller must not run concurrently with other use of the same cache (for
 * destroy: of the same instance). An object may be freed by another thread
 * than the one that allocated it.
 *
 * Page-source contract (reclaim): the page source may call
 * mm_kmem_shrink_all() from inside alloc_pages (the simulator's direct
 * reclaim) provided it holds none of its own locks then; the slab allocator
 * never holds one of its locks while it asks the page source for pages.
 */
#ifndef MMKIT_SLAB_H
#define MMKIT_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/gfp.h"
#include "mmkit/pagesrc.h"

struct mm_kmem;
struct mm_kmem_cache;

/* ---- instance flags (mm_kmem_create) ------------------------------------ */
#define MM_KMEM_DEBUG   0x1u  /* debug checks (MM_SLAB_DEBUG) on every cache */
#define MM_KMEM_NODEBUG 0x2u  /* no debug checks unless a cache asks, even in
				 MMKIT_DEBUG builds (tests of exact geometry) */

/* ---- cache flags (mm_kmem_cache_create), Linux's SLAB_* names ----------- */
#define MM_SLAB_CONSISTENCY_CHECKS 0x00000100UL /* free: object belongs to this
						   cache and is an object start */
#define MM_SLAB_RED_ZONE        0x00000400UL /* guard words around each object;
						 double free detection */
#define MM_SLAB_POISON          0x00000800UL /* free objects filled with 0x6b,
						 checked on reuse (not with ctor) */
#define MM_SLAB_HWCACHE_ALIGN   0x00002000UL /* align objects to the cache line */
#define MM_SLAB_NO_MAGAZINES    0x00010000UL /* no per-thread caching: every
						 alloc/free goes to the slabs */
#define MM_SLAB_RECLAIM_ACCOUNT 0x00020000UL /* pages asked with MM_GFP_RECLAIMABLE */
#define MM_SLAB_DEBUG (MM_SLAB_CONSISTENCY_CHECKS | MM_SLAB_RED_ZONE | MM_SLAB_POISON)

/* kmalloc(0) returns this unique non-NULL pointer (Linux's ZERO_SIZE_PTR);
 * it must not be dereferenced; kfree/ksize/krealloc accept it. */
#define MM_ZERO_SIZE_PTR ((void *)16)
#define MM_ZERO_OR_NULL_PTR(p) ((uintptr_t)(p) <= (uintptr_t)MM_ZERO_SIZE_PTR)

/* Largest request served by a kmalloc cache (SLUB's KMALLOC_MAX_CACHE_SIZE,
 * two pages); larger requests get whole pages from the page source. */
#define MM_KMALLOC_MAX_CACHE_SIZE (2 * MM_PAGE_SIZE)
/* Smallest kmalloc object and alignment (8 bytes). */
#define MM_KMALLOC_MIN_SIZE 8

/* Largest object a cache may hold (a slab of order MM_SLAB_MAX_ORDER holds
 * at least one). */
#define MM_SLAB_MAX_ORDER 5
#define MM_SLAB_MAX_OBJ_SIZE ((MM_PAGE_SIZE << MM_SLAB_MAX_ORDER) / 2)

/* ---- instances ---------------------------------------------------------- */

/* A new slab-allocator instance over `ps` (which must outlive it) with its
 * kmalloc caches, its "kmem_cache" and "kmem_magazine" caches. flags: 0 or
 * MM_KMEM_*. Returns NULL (nothing allocated, ps unchanged) when ps fails or
 * the process has no pthread key left. */
struct mm_kmem *mm_kmem_create(const struct mm_page_source *ps, unsigned flags);

/* Tear down the instance: every cache, every slab, every magazine (also those
 * of live threads), the page map; all pages go back to the page source, even
 * those of objects still allocated (they become invalid). No other thread
 * may use the instance during or after the call. NULL is a no-op. */
void mm_kmem_destroy(struct mm_kmem *k);

/* ---- caches ------------------------------------------------------------- */

/* Create a cache of objects of `size` bytes aligned to `align` (0 or a power
 * of two; at least 8 is used), flags MM_SLAB_*, optional constructor run on
 * each object when its slab is built (objects come back to the cache in
 * constructed state, so ctor runs once per object per slab, not per alloc).
 * `name` is copied (at most 31 characters are kept).
 * Returns NULL when size is 0 or above MM_SLAB_MAX_OBJ_SIZE, align is not a
 * power of two or is above a page, the instance already has 1024 caches, or
 * memory for the descriptor is not available; nothing is created then.
 * Slab pages are asked with the gfp of the allocation that builds the slab
 * (MM_GFP_RECLAIMABLE added for MM_SLAB_RECLAIM_ACCOUNT); objects of one
 * cache share slabs whatever gfp they were asked with, so a cache whose
 * objects must come from a zone should always be used with that zone. */
struct mm_kmem_cache *mm_kmem_cache_create(struct mm_kmem *k, const char *name, size_t size,
					   size_t align, unsigned long flags,
					   void (*ctor)(void *));

/* Destroy a cache: every magazine (also those of live threads) is flushed
 * and every slab freed. If objects are still allocated, a message naming the
 * cache is printed on stderr and the cache stays (its memory is released by
 * mm_kmem_destroy), as Linux does. NULL is a no-op. */
void mm_kmem_cache_destroy(struct mm_kmem_cache *c);

/* One object, in constructed state (or zeroed with MM_GFP_ZERO). Returns NULL
 * when no page is available; the cache is unchanged then. */
void *mm_kmem_cache_alloc(struct mm_kmem_cache *c, mm_gfp_t gfp);

/* Return an object to its cache. NULL is a no-op. With debug flags, a double
 * free, a pointer of another cache or a pointer that is not an object start
 * aborts with a message naming the cache and the address. */
void mm_kmem_cache_free(struct mm_kmem_cache *c, void *obj);

/* Flush the calling thread's magazines and the depot of `c` back to its
 * slabs, then free every empty slab. Returns the number of pages returned to
 * the page source (>= 0). Other live threads keep their magazines (at most
 * two each); they come back at thread exit or cache destroy. */
int mm_kmem_cache_shrink(struct mm_kmem_cache *c);

/* The shrinker for memory pressure: flush the calling thread's magazines
 * (all but the one an allocation of this thread may be refilling when the
 * page source calls this from inside it), drain every cache's depot and free
 * every empty slab of every cache. Other threads keep their magazines (at
 * most two per cache each). Returns the pages the
 * caches' slabs gave back (>= 0; pages of the instance's own helper caches
 * freed in passing, e.g. magazines, are not counted). */
long mm_kmem_shrink_all(struct mm_kmem *k);

/* The cache's name and the usable object size. */
const char *mm_kmem_cache_name(const struct mm_kmem_cache *c);
size_t mm_kmem_cache_size(const struct mm_kmem_cache *c);

/* ---- kmalloc ------------------------------------------------------------ */

/* `size` bytes from the smallest kmalloc class that holds them (8, 16, 32,
 * 64, 96, 128, 192, 256, 512, 1k, 2k, 4k, 8k; SLUB's classes), or whole pages
 * (order = smallest with 2^order pages >= size) above MM_KMALLOC_MAX_CACHE_SIZE.
 * size 0 returns MM_ZERO_SIZE_PTR. Returns NULL when memory is not available
 * (nothing changed). Objects of power-of-two size are naturally aligned;
 * every object is at least 8-byte aligned. */
void *mm_kmalloc(struct mm_kmem *k, size_t size, mm_gfp_t gfp);

/* mm_kmalloc with MM_GFP_ZERO. */
static inline void *mm_kzalloc(struct mm_kmem *k, size_t size, mm_gfp_t gfp)
{
	return mm_kmalloc(k, size, gfp | MM_GFP_ZERO);
}

/* Free what mm_kmalloc (or mm_krealloc) returned. NULL and MM_ZERO_SIZE_PTR
 * are no-ops. A pointer the instance does not know aborts with a message. */
void mm_kfree(struct mm_kmem *k, const void *p);

/* Usable size of a kmalloc object (its class size, or the page block size),
 * 0 for NULL and MM_ZERO_SIZE_PTR. Also works on kmem_cache objects. */
size_t mm_ksize(struct mm_kmem *k, const void *p);

/* Resize: returns p itself when new_size fits its current class (ksize);
 * otherwise a new object holding the old contents, and p is freed.
 * p NULL/MM_ZERO_SIZE_PTR acts as kmalloc; new_size 0 frees p and returns
 * MM_ZERO_SIZE_PTR. On failure returns NULL and p is left intact. */
void *mm_krealloc(struct mm_kmem *k, const void *p, size_t new_size, mm_gfp_t gfp);

/* The kmalloc cache serving `size` (1..MM_KMALLOC_MAX_CACHE_SIZE), else NULL. */
struct mm_kmem_cache *mm_kmalloc_cache(struct mm_kmem *k, size_t size);

/* ---- /proc/slabinfo ----------------------------------------------------- */

/* Write /proc/slabinfo (version 2.1, Linux's layout) for every cache of the
 * instance, newest first as Linux lists them, into buf (always NUL-terminated
 * when len > 0). Returns the length of the full text (snprintf-like: a
 * result >= len means it was cut). */
size_t mm_kmem_slabinfo(struct mm_kmem *k, char *buf, size_t len);

/* The same text to a stream. Returns 0 or -MM_EIO. */
int mm_kmem_slabinfo_print(struct mm_kmem *k, FILE *f);

/* ---- statistics and geometry ------------------------------------------- */

struct mm_kmem_cache_stats {
	size_t object_size;    /* usable bytes per object (as asked, aligned to 8) */
	size_t size;           /* stride: bytes per object in a slab (slabinfo objsize) */
	size_t align;          /* object alignment */
	unsigned order;        /* slab = 2^order pages */
	unsigned objs_per_slab;
	unsigned colours;      /* number of distinct colour offsets */
	unsigned colour_off;   /* colour step in bytes */
	size_t waste;          /* bytes per slab not holding objects */
	int off_slab;          /* slab descriptor kept outside the slab */
	unsigned long flags;   /* effective MM_SLAB_* flags */
	unsigned mag_size;     /* magazine capacity (rounds), 0 without magazines */
	unsigned batch;        /* objects moved per refill from the slabs */
	unsigned depot_max;    /* full magazines the depot may hold */
	unsigned empty_max;    /* empty slabs kept before pages go back */
	unsigned long full_slabs, partial_slabs, empty_slabs;
	unsigned long active_objs;  /* objects not free in slabs (incl. magazines) */
	unsigned long num_objs;     /* objects in all slabs */
	unsigned long depot_full;   /* full magazines in the depot */
	unsigned long depot_objs;   /* objects in depot magazines */
	unsigned long grows, reaps; /* slabs built / slabs freed, since create */
	unsigned long ctor_calls;   /* constructor invocations */
};

/* Fill *st with the cache's geometry and counters (taken under its locks). */
void mm_kmem_cache_stats(struct mm_kmem_cache *c, struct mm_kmem_cache_stats *st);

/* Colour offset (bytes) of the slab holding obj, or -MM_EINVAL if obj is not
 * an object of this instance's slabs. */
long mm_kmem_obj_colour(struct mm_kmem *k, const void *obj);

struct mm_kmem_stats {
	unsigned long caches;        /* caches on the chain */
	unsigned long slab_pages;    /* pages held by slabs of every cache */
	unsigned long large_pages;   /* pages held by large kmalloc blocks */
	unsigned long large_allocs;  /* large kmalloc blocks outstanding */
	unsigned long pagemap_pages; /* pages of the page map */
	unsigned long threads;       /* threads with per-thread state */
	unsigned long self_pages;    /* pages of the block holding the instance;
					slab + large + pagemap + self = every page
					taken from the page source */
};

void mm_kmem_stats(struct mm_kmem *k, struct mm_kmem_stats *st);

/* ---- checking ----------------------------------------------------------- */

/* Walk the cache: list membership agrees with each slab's in-use count and
 * the cache counters, free lists are in bounds and loop-free, the page map
 * points back at each slab, magazine and depot contents are objects of this
 * cache that are not also free in their slab, and no object appears twice.
 * Returns 0 or -MM_ECORRUPT (with a line on stderr saying what). Must not
 * run concurrently with other use of the cache. */
int mm_kmem_cache_check(struct mm_kmem_cache *c);

/* mm_kmem_cache_check on every cache, plus instance-wide counters.
 * Returns 0 or -MM_ECORRUPT. */
int mm_kmem_check(struct mm_kmem *k);

#endif /* MMKIT_SLAB_H */
