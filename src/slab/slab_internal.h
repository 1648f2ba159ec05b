/* slab_internal.h — private structures of the slab allocator.
 *
 * Layers, top to bottom (Bonwick 2001, "Magazines and Vmem"):
 *
 *   per-thread tcache   loaded + previous magazine, no lock (owner only)
 *   depot               full / empty magazines of one cache, depot_lock
 *   slab layer          full / partial / empty slabs of one cache, lock
 *   page source         naturally aligned 2^order page blocks
 *
 * Lock order (never taken the other way):
 *   k->chain_lock -> k->thr_lock -> c->depot_lock | c->lock -> k->pm_lock
 * c->depot_lock and c->lock are never held together. No slab lock is held
 * while the page source allocates (it may call mm_kmem_shrink_all), except
 * pm_lock while a page-map node is taken: the shrinker only frees, and
 * freeing clears page-map entries without pm_lock, so it never waits for it.
 */
#ifndef MMKIT_SLAB_INTERNAL_H
#define MMKIT_SLAB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/list.h"
#include "mmkit/slab.h"

#define SLAB_CACHE_LINE     64u
#define SLAB_COSTLY_ORDER   3u   /* normal slabs stay at or below this order */
#define SLAB_MIN_OBJECTS    8u   /* calculate_order wants at least this many */
#define SLAB_OFF_SLAB_MIN   (MM_PAGE_SIZE / 8) /* objects this big: descriptor off-slab */
#define SLAB_EMPTY_BYTES    (256u << 10) /* empty slabs a cache keeps: this many bytes, */
#define SLAB_EMPTY_MIN      2u   /* but at least 2 slabs */
#define SLAB_EMPTY_MAX      64u  /* and at most 64 */
#define SLAB_DEPOT_BYTES    (128u << 10) /* objects a depot keeps: about this many bytes */
#define SLAB_DEPOT_MIN      4u   /* but at least 4 full magazines */
#define SLAB_DEPOT_MAX      32u  /* and at most 32 */
#define SLAB_NAME_MAX       32u
#define SLAB_MAX_CACHES     1024u /* caches per instance (ids index thread arrays) */
#define SLAB_MAX_OBJS       65535u /* freelist indexes are 16-bit */
#define KMALLOC_NR_CLASSES  13   /* 8 16 32 64 96 128 192 256 512 1k 2k 4k 8k */
#define KMALLOC_ID0         1u   /* cache id of kmalloc-8 (the boot cache is 0);
				    class i has id KMALLOC_ID0 + i */
#define KMALLOC_CLASS_STEPS (MM_KMALLOC_MAX_CACHE_SIZE / MM_KMALLOC_MIN_SIZE)

/* Debug patterns (Linux's poison.h values). */
#define SLAB_POISON_FREE    0x6b
#define SLAB_POISON_END     0xa5
#define SLAB_RED_INACTIVE   0x09F911029D74E35BULL /* object is free */
#define SLAB_RED_ACTIVE     0xD84156C5635688C0ULL /* object is allocated */

/* Flags that send the fast path through the debug hooks. */
#define SLAB_DEBUG_FLAGS (MM_SLAB_CONSISTENCY_CHECKS | MM_SLAB_RED_ZONE | MM_SLAB_POISON)
/* Internal flag: the poison pattern is really applied (POISON without ctor). */
#define SLAB_OBJECT_POISON  0x80000000UL

/* ---- magazines ---------------------------------------------------------- */

#define SLAB_MAG_MAX 125 /* rounds a magazine can hold: 24 + 125*8 = 1 KiB */

/* A magazine: a stack of object pointers. Owned by exactly one of: a
 * tcache (loaded/prev), a depot list, or a function moving it. Objects in a
 * magazine are allocated as far as their slab knows, free for the user, and
 * in the free debug state (red zones inactive, poisoned). */
struct mm_magazine {
	uint32_t rounds;          /* objects held: obj[0..rounds) */
	uint32_t cap;             /* capacity for its cache; 0 = the sentinel */
	struct mm_magazine *next; /* depot list link */
	void *guard;              /* always NULL: obj[-1], so the fast alloc
				     pops NULL from an empty magazine and the
				     fast free's look at the top finds no object */
	void *obj[SLAB_MAG_MAX];
};

/* One thread's magazines for one cache. Only the owner thread touches
 * loaded/prev, except cache destroy (by contract nobody else uses the cache
 * then), under k->thr_lock. Never NULL: an absent magazine is k->nomag, the
 * sentinel of capacity 0, so the fast path needs no NULL test. */
struct mm_tcache {
	void **top;                   /* &loaded->obj[rounds]: the fast paths pop
					 top[-1] (NULL: empty) and push at top;
					 loaded->rounds is stale while loaded
					 (synced by tc_unload / tc_load) */
	void **end;                   /* &loaded->obj[cap]: full */
	struct mm_magazine *loaded;   /* objects are taken from / put here */
	struct mm_magazine *prev;     /* the previous loaded magazine */
	struct mm_kmem_cache *cache;
	struct mm_kthread *thread;
	struct mm_list reg;           /* on cache->tcaches, under k->thr_lock */
};
/* One cache line: kmalloc's fast paths index arrays of them with a shift. */
_Static_assert(sizeof(struct mm_tcache) == 64, "tcache is one cache line");

/* A slow path in progress (on its stack): slow paths nest when a
 * constructor allocates from its own instance inside a slab build. */
struct slab_busy {
	struct mm_tcache *tc;
	struct slab_busy *outer;
};

/* Per-thread state of one instance (the pthread key's value). tc and ntc
 * are written only by the owner thread under k->thr_lock (array growth) or
 * by cache destroy (slot cleared, under k->thr_lock); the owner reads them
 * without a lock on its fast and slow paths (it does not use a cache being
 * destroyed), but under k->thr_lock when it walks them all (shrinker). */
struct mm_kthread {
	/* The tcaches of the kmalloc caches, indexed by class (tc[] points
	 * here once each is set up), so kmalloc/kfree reach them from the
	 * class without the tc[] indirection. First, so each sits on its own
	 * cache line (the struct is a kmalloc-1k object). Unused (never
	 * loaded: empty and full at once, so the fast paths always miss)
	 * when the kmalloc caches have debug checks: those tcaches are
	 * allocated apart. */
	struct mm_tcache kmc[KMALLOC_NR_CLASSES];
	struct mm_kmem *kmem;
	struct mm_tcache **tc;        /* indexed by cache id, NULL = none yet */
	unsigned ntc;                 /* entries in tc */
	struct slab_busy *busy;       /* the tcaches slow paths of this thread are
					 working on, innermost first (owner
					 only): the shrinker leaves them */
	struct mm_list link;          /* on k->threads, under k->thr_lock */
};

/* ---- slabs -------------------------------------------------------------- */

/* A slab: one block of 2^order pages cut into `num` objects. The descriptor
 * sits at the start of the block (on-slab) or in a kmalloc object (off-slab,
 * objects >= SLAB_OFF_SLAB_MIN, Linux SLAB's rule). Free objects are kept as
 * a stack of indexes so free objects are never written (constructed state
 * survives): freelist[inuse..num) are the free indexes.
 * Invariant: on cache->full iff inuse == num, on cache->empty iff inuse == 0,
 * else on cache->partial. All fields under cache->lock. */
struct mm_slab {
	struct mm_list list;          /* on one of the cache's three lists */
	struct mm_kmem_cache *cache;
	char *s_mem;                  /* first object (after colour) */
	char *base;                   /* the page block */
	uint16_t inuse;               /* objects not free in this slab */
	uint16_t cache_id;            /* cache->id, | SLAB_ID_SLOW for caches whose
					 frees need the slow path (kfree fast path) */
	uint32_t colour;              /* colour offset of s_mem, bytes */
	uint16_t freelist[];          /* [inuse..num): free object indexes */
};
#define SLAB_ID_SLOW 0x8000u

/* ---- caches ------------------------------------------------------------- */

struct mm_kmem_cache {
	/* read-mostly, set at create; the fast path reads the first line */
	struct mm_kmem *kmem;
	uint64_t nonce;               /* copy of kmem->nonce (thread memo check) */
	unsigned id;                  /* index in the threads' tc arrays */
	unsigned long flags;          /* effective MM_SLAB_* | SLAB_OBJECT_POISON */
	size_t object_size;           /* usable bytes */
	size_t size;                  /* stride in the slab */
	size_t obj_offset;            /* object start inside its buffer (red zone) */
	size_t align;
	pthread_key_t key;            /* copy of kmem->key */
	void (*ctor)(void *);
	unsigned order;               /* slab = 2^order pages */
	unsigned num;                 /* objects per slab */
	size_t mgmt;                  /* descriptor bytes (header + freelist) */
	size_t s_off;                 /* first object offset before colour */
	size_t waste;                 /* bytes per slab not holding objects */
	unsigned colours;             /* colour offsets: 0 .. colours-1 steps */
	unsigned colour_off;          /* step */
	bool off_slab;
	bool internal;                /* the instance's own (not destroyable) */
	unsigned mag_size;            /* rounds per magazine, 0 = no magazines */
	unsigned batch;               /* objects per refill / flush */
	unsigned depot_max;
	unsigned empty_max;

	/* slab layer, under lock */
	pthread_mutex_t lock;
	struct mm_list full, partial, empty;
	unsigned long nr_full, nr_partial, nr_empty;
	unsigned long active;         /* sum of inuse */
	unsigned colour_next;         /* colour index of the next slab built */
	unsigned long grows, reaps, ctor_calls;

	/* depot, under depot_lock */
	pthread_mutex_t depot_lock;
	struct mm_magazine *depot_full;  /* singly linked via next */
	struct mm_magazine *depot_empty;
	unsigned long nr_depot_full, nr_depot_empty;
	unsigned long depot_objs;     /* rounds in the full magazines */

	/* registry of tcaches, under kmem->thr_lock */
	struct mm_list tcaches;

	struct mm_list chain;         /* on kmem->caches, under chain_lock */
	char name[SLAB_NAME_MAX];
};

/* ---- the page map: page address -> slab -------------------------------- *
 * A 4-level radix tree over the 36-bit virtual page number of a 48-bit
 * address, 9 bits per level, each node one page of 512 entries (the shape
 * of x86-64 page tables). Lookup: 4 dependent loads, no lock. Nodes are
 * added under pm_lock and freed only when the instance is destroyed. A leaf
 * entry is 0, a slab pointer (every page of a slab), or a large-kmalloc tag
 * (head page only): LARGE_TAG | order << 1. */
#define PM_LEVELS  4
#define PM_BITS    9
#define PM_ENTRIES (1u << PM_BITS)
#define PM_VPN_BITS (PM_LEVELS * PM_BITS)
#define PM_LARGE_TAG 1ul
/* A slab entry is the descriptor address (user space: below 2^47) with the
 * slab's cache_id in the top 16 bits, so kfree learns the cache id from the
 * page map alone. */
#define PM_ID_SHIFT 48
#define PM_PTR_MASK ((1ul << PM_ID_SHIFT) - 1)
#define PM_SLAB_ENTRY(s) ((uintptr_t)(s) | ((uintptr_t)(s)->cache_id << PM_ID_SHIFT))
static inline struct mm_slab *pm_entry_slab(uintptr_t e)
{
	return (struct mm_slab *)(e & PM_PTR_MASK);
}

struct pm_node {
	_Atomic uintptr_t e[PM_ENTRIES];
};

/* The leaf node covering p, or NULL. */
static inline struct pm_node *pagemap_leaf(struct pm_node *root, const void *p)
{
	uintptr_t vpn = (uintptr_t)p >> MM_PAGE_SHIFT;
	if (mm_unlikely(vpn >> PM_VPN_BITS))
		return NULL;
	struct pm_node *n = root;
	for (int lvl = PM_LEVELS - 1; lvl > 0 && n; lvl--)
		n = (struct pm_node *)atomic_load_explicit(
			&n->e[(vpn >> (lvl * PM_BITS)) & (PM_ENTRIES - 1)], memory_order_acquire);
	return n;
}

static inline uintptr_t pagemap_get(struct pm_node *root, const void *p)
{
	uintptr_t vpn = (uintptr_t)p >> MM_PAGE_SHIFT;
	if (mm_unlikely(vpn >> PM_VPN_BITS))
		return 0;
	struct pm_node *n = root;
	for (int lvl = PM_LEVELS - 1; lvl > 0; lvl--) {
		uintptr_t e = atomic_load_explicit(
			&n->e[(vpn >> (lvl * PM_BITS)) & (PM_ENTRIES - 1)], memory_order_acquire);
		if (!e)
			return 0;
		n = (struct pm_node *)e;
	}
	return atomic_load_explicit(&n->e[vpn & (PM_ENTRIES - 1)], memory_order_acquire);
}

/* ---- the instance ------------------------------------------------------- */


struct mm_kmem {
	struct mm_page_source ps;     /* where every page comes from */
	unsigned flags;               /* MM_KMEM_* */
	unsigned self_order;          /* order of the block holding this struct */
	pthread_key_t key;            /* per-thread struct mm_kthread */
	uint64_t nonce;               /* random, never 0: validates thread memos */
	struct mm_magazine nomag;     /* sentinel: capacity 0, never written */

	pthread_mutex_t chain_lock;   /* caches, ids */
	struct mm_list caches;        /* newest first (slabinfo order) */
	unsigned long nr_caches;
	uint64_t ids[SLAB_MAX_CACHES / 64];

	pthread_mutex_t thr_lock;     /* threads, every tcache registry */
	struct mm_list threads;
	unsigned long nr_threads;

	pthread_mutex_t pm_lock;      /* adding page-map nodes */
	struct pm_node *pm_root;
	atomic_ulong pm_pages;

	atomic_ulong slab_pages;      /* pages held by slabs */
	atomic_ulong large_pages;     /* pages held by large kmalloc blocks */
	atomic_ulong large_allocs;

	struct mm_kmem_cache *kmalloc[KMALLOC_NR_CLASSES];
	/* class of a request of n bytes (1..MM_KMALLOC_MAX_CACHE_SIZE):
	 * kmalloc_class[(n - 1) / 8], one load and no branch */
	uint8_t kmalloc_class[KMALLOC_CLASS_STEPS];
	bool kmalloc_debug;           /* kmalloc caches have debug checks */
	/* What a thread memo entry's kmc points at before the thread has its
	 * own state: tcaches with no magazine (empty and full at once), so
	 * kmalloc/kfree's fast paths miss. Never written after create. */
	struct mm_tcache kmc_none[KMALLOC_NR_CLASSES];
	struct mm_kmem_cache *mag_cache;  /* "kmem_magazine" */
	struct mm_kmem_cache boot_cache;  /* "kmem_cache": cache descriptors */
};

/* ---- shared helpers ----------------------------------------------------- */

/* pagemap.c */
int slab_pagemap_init(struct mm_kmem *k);
int slab_pagemap_set_range(struct mm_kmem *k, const void *addr, size_t pages, uintptr_t val);
void slab_pagemap_clear_range(struct mm_kmem *k, const void *addr, size_t pages);
void slab_pagemap_destroy(struct mm_kmem *k);
void slab_pagemap_census(struct mm_kmem *k, unsigned long *slab_pages, unsigned long *large,
			 unsigned long *large_pages, unsigned long *nodes);
void slab_pagemap_for_each_large(struct mm_kmem *k, void (*fn)(struct mm_kmem *, void *, unsigned));

static inline struct mm_slab *obj_to_slab(struct mm_kmem *k, const void *p)
{
	uintptr_t e = pagemap_get(k->pm_root, p);
	return (e & PM_LARGE_TAG) ? NULL : pm_entry_slab(e);
}

static inline unsigned obj_to_index(const struct mm_kmem_cache *c, const struct mm_slab *s,
				    const void *obj)
{
	return (unsigned)(((const char *)obj - c->obj_offset - s->s_mem) / c->size);
}

static inline void *index_to_obj(const struct mm_kmem_cache *c, const struct mm_slab *s,
				 unsigned idx)
{
	return s->s_mem + (size_t)idx * c->size + c->obj_offset;
}

/* cache.c: slab layer */
int slab_cache_setup(struct mm_kmem *k, struct mm_kmem_cache *c, const char *name,
		     size_t size, size_t align, unsigned long flags, void (*ctor)(void *));
unsigned slab_alloc_bulk(struct mm_kmem_cache *c, void **objs, unsigned n, mm_gfp_t gfp);
long slab_free_bulk(struct mm_kmem_cache *c, void *const *objs, unsigned n);
long slab_reap_empty(struct mm_kmem_cache *c, unsigned keep);
void slab_release_all(struct mm_kmem_cache *c);
int slab_estimate(size_t size, size_t align, bool off_slab, unsigned order,
		  unsigned *num, size_t *s_off);

/* Allocate/free bypassing magazines (internal metadata). */
void *slab_alloc_direct(struct mm_kmem_cache *c, mm_gfp_t gfp);
void slab_free_direct(struct mm_kmem_cache *c, void *obj);
void *slab_kmalloc_internal(struct mm_kmem *k, size_t size);
void slab_kfree_internal(struct mm_kmem *k, void *p);

/* magazine.c */
void *slab_alloc_slow(struct mm_kmem_cache *c, mm_gfp_t gfp);
void slab_free_slow(struct mm_kmem_cache *c, void *obj);
void slab_tcache_clear(struct mm_kmem *k, struct mm_tcache *tc);
void slab_tcache_reclaim_all(struct mm_kmem_cache *c);
long slab_tcache_flush_current(struct mm_kmem_cache *c);
long slab_tcache_flush_thread(struct mm_kmem *k);
long slab_depot_drain(struct mm_kmem_cache *c);
void slab_kthread_destructor(void *arg);
void slab_magazine_setup(struct mm_kmem_cache *c);

/* debug.c */
void slab_debug_init_obj(struct mm_kmem_cache *c, void *obj);
void slab_debug_alloc(struct mm_kmem_cache *c, void *obj);
void slab_debug_free(struct mm_kmem_cache *c, void *obj);
MM_NORETURN MM_PRINTF(3, 4) void slab_die(const struct mm_kmem_cache *c, const void *obj,
					   const char *fmt, ...);

/* kmalloc.c */
int slab_kmalloc_create_caches(struct mm_kmem *k);
struct mm_kmem_cache *slab_kmalloc_slab(struct mm_kmem *k, size_t size);

/* kmem.c */
unsigned long slab_forced_flags(const struct mm_kmem *k);
struct mm_kmem_cache *slab_cache_new(struct mm_kmem *k, const char *name, size_t size,
				     size_t align, unsigned long flags, void (*ctor)(void *),
				     bool internal);

/* ---- the fast path ------------------------------------------------------ */

/* The thread memo: pthread_getspecific costs a call and ~4 ns, twice per
 * alloc/free pair; this per-thread table remembers the instances this
 * thread used last: entry 0 is the one the fast paths look at, entries
 * 1..SLAB_TLS_VICTIMS hold the ones used before it (a miss swaps a victim
 * in before asking pthread_getspecific). It holds no data of its own, only
 * shortcuts: an entry is used only when its nonce equals the instance's
 * (the fast paths compare just that; the slow paths the address too).
 * Nonces are 64 random bits drawn at create, so an instance destroyed and
 * another created (at the same address or not) meet a stale entry with
 * probability 2^-64; thread exit clears the thread's entry. initial-exec
 * TLS: %fs-relative loads, also in the shared library. */
#define SLAB_TLS_VICTIMS 3
struct slab_tls_ent {
	const struct mm_kmem *kmem;
	uint64_t nonce;
	struct mm_tcache **tc;        /* the thread's tc array (t->tc) */
	unsigned ntc;
	uintptr_t leaf_base;          /* first address the leaf below covers */
	struct pm_node *leaf;         /* last leaf kfree used (leaves live as
					 long as the instance) */
	struct mm_tcache *kmc;        /* t->kmc, or kmem->kmc_none */
	struct mm_kthread *t;
};
/* Bytes of address space one page-map leaf covers (2 MiB). */
#define PM_LEAF_SPAN ((uintptr_t)PM_ENTRIES << MM_PAGE_SHIFT)
/* leaf_base of an entry with no leaf yet: 2^63 is no user-space address
 * (the leaf is then the root node, whose entries carry no cache id, so even
 * a wild pointer there only reaches the slow path). */
#define SLAB_NO_LEAF ((uintptr_t)1 << 63)
extern __thread struct slab_tls_ent slab_tls[1 + SLAB_TLS_VICTIMS]
	__attribute__((tls_model("initial-exec")));

/* The entry the fast paths use (whichever instance it holds). */
static inline struct slab_tls_ent *slab_tls_ent_of(const struct mm_kmem *k)
{
	(void)k;
	return &slab_tls[0];
}

struct mm_tcache *slab_tls_refresh(const struct mm_kmem_cache *c);

static inline struct mm_tcache *tcache_of(const struct mm_kmem_cache *c)
{
	struct slab_tls_ent *e = slab_tls_ent_of(c->kmem);
	if (mm_likely(e->nonce == c->nonce && c->id < e->ntc))
		return e->tc[c->id];
	return slab_tls_refresh(c);
}

/* Pop from the loaded magazine: the object, or NULL when it is empty (the
 * guard word below obj[0] is NULL). */
MM_INLINE void *tc_pop(struct mm_tcache *tc)
{
	void **top = tc->top;
	void *obj = top[-1];
	if (mm_likely(obj != NULL))
		tc->top = top - 1;
	return obj;
}

/* Push on the loaded magazine; false when it is full (or absent). The
 * cheap release-build check: freeing the object on top (the one just
 * freed) aborts. */
MM_INLINE bool tc_push(struct mm_tcache *tc, const void *obj)
{
	void **top = tc->top;
	if (mm_unlikely(top == tc->end))
		return false;
	if (mm_unlikely(top[-1] == obj))
		slab_die(tc->cache, obj, "double free");
	*top = (void *)(uintptr_t)obj;
	tc->top = top + 1;
	return true;
}

/* An object leaving the allocator: debug checks, zeroing. */
MM_INLINE void *slab_obj_ready(struct mm_kmem_cache *c, void *obj, mm_gfp_t gfp)
{
	if (mm_unlikely(c->flags & SLAB_DEBUG_FLAGS))
		slab_debug_alloc(c, obj);
	if (mm_unlikely(gfp & MM_GFP_ZERO))
		__builtin_memset(obj, 0, c->object_size);
	return obj;
}

/* Object from the loaded magazine; everything else in slab_alloc_slow. */
MM_INLINE void *cache_alloc(struct mm_kmem_cache *c, mm_gfp_t gfp)
{
	struct mm_tcache *tc = tcache_of(c);
	if (mm_likely(tc != NULL)) {
		void *obj = tc_pop(tc);
		if (mm_likely(obj != NULL))
			return slab_obj_ready(c, obj, gfp);
	}
	return slab_alloc_slow(c, gfp);
}

/* Object into the loaded magazine; everything else in slab_free_slow. */
MM_INLINE void cache_free(struct mm_kmem_cache *c, void *obj)
{
	if (mm_unlikely(c->flags & SLAB_DEBUG_FLAGS))
		slab_debug_free(c, obj);
	struct mm_tcache *tc = tcache_of(c);
	if (mm_likely(tc != NULL) && mm_likely(tc_push(tc, obj)))
		return;
	slab_free_slow(c, obj);
}

#endif /* MMKIT_SLAB_INTERNAL_H */
