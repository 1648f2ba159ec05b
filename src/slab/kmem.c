/* A slab-allocator instance: creation and teardown, the cache chain, cache
 * create/destroy/shrink, the memory-pressure shrinker and statistics.
 *
 * Bootstrap (as Linux's kmem_cache_init): the instance lives in a block of
 * pages from its page source and embeds the "kmem_cache" cache, from which
 * every other cache descriptor is allocated; then the kmalloc caches
 * (smallest first, so off-slab descriptors of the big ones have a home) and
 * "kmem_magazine" are made. Nothing comes from the host heap: every byte
 * the slab allocator spends is in pages of its page source and shows in
 * /proc/slabinfo or in mm_kmem_stats (page map, the instance block).
 * Reaping: a cache keeps at most empty_max empty slabs and frees further
 * ones at once; mm_kmem_cache_shrink and mm_kmem_shrink_all free the rest.
 * Cost: create is O(classes); destroy is O(slabs + page-map nodes).
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mmkit/bitmap.h"
#include "slab_internal.h"

unsigned long slab_forced_flags(const struct mm_kmem *k)
{
	if (k->flags & MM_KMEM_DEBUG)
		return MM_SLAB_DEBUG;
#ifdef MMKIT_DEBUG
	if (!(k->flags & MM_KMEM_NODEBUG))
		return MM_SLAB_DEBUG;
#endif
	return 0;
}

/* ---- the chain ---------------------------------------------------------- */

static int chain_add(struct mm_kmem *k, struct mm_kmem_cache *c)
{
	pthread_mutex_lock(&k->chain_lock);
	size_t id = mm_bitmap_find_next_zero_bit(k->ids, SLAB_MAX_CACHES, 0);
	if (id >= SLAB_MAX_CACHES) {
		pthread_mutex_unlock(&k->chain_lock);
		return -MM_ENOSPC;
	}
	mm_bit_set(k->ids, id);
	c->id = (unsigned)id;
	mm_list_add(&c->chain, &k->caches);
	k->nr_caches++;
	pthread_mutex_unlock(&k->chain_lock);
	return 0;
}

static void chain_del(struct mm_kmem *k, struct mm_kmem_cache *c)
{
	pthread_mutex_lock(&k->chain_lock);
	mm_list_del(&c->chain);
	mm_bit_clear(k->ids, c->id);
	k->nr_caches--;
	pthread_mutex_unlock(&k->chain_lock);
}

struct mm_kmem_cache *slab_cache_new(struct mm_kmem *k, const char *name, size_t size,
				     size_t align, unsigned long flags, void (*ctor)(void *),
				     bool internal)
{
	flags |= slab_forced_flags(k);
	struct mm_kmem_cache *c = slab_alloc_direct(&k->boot_cache, MM_GFP_KERNEL);
	if (!c)
		return NULL;
	if (slab_cache_setup(k, c, name ? name : "?", size, align, flags, ctor) < 0) {
		slab_free_direct(&k->boot_cache, c);
		return NULL;
	}
	c->internal = internal;
	if (chain_add(k, c) < 0) {
		pthread_mutex_destroy(&c->lock);
		pthread_mutex_destroy(&c->depot_lock);
		slab_free_direct(&k->boot_cache, c);
		return NULL;
	}
	return c;
}

/* ---- instances ---------------------------------------------------------- */

/* 64 random bits, never 0: the thread memo trusts an entry whose nonce
 * equals the instance's, so two instances (one perhaps destroyed, at the
 * same address or not) must not draw the same value. getrandom makes that
 * a 2^-64 event whatever the clock's resolution; if it fails, the clock,
 * the address and a per-call stack address are mixed instead. */
static uint64_t kmem_nonce(const struct mm_kmem *k)
{
	uint64_t n = 0;
	if (getrandom(&n, sizeof(n), GRND_NONBLOCK) != (ssize_t)sizeof(n)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		n = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) *
			    0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)k ^
		    ((uint64_t)(uintptr_t)&ts << 17);
	}
	return n ? n : 1;
}

static unsigned order_for(size_t bytes)
{
	unsigned order = 0;
	while ((MM_PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static void free_large_block(struct mm_kmem *k, void *p, unsigned order)
{
	mm_ps_free(&k->ps, p, order);
	atomic_fetch_sub(&k->large_pages, 1ul << order);
	atomic_fetch_sub(&k->large_allocs, 1);
}

/* Free everything the instance holds and the instance itself. */
static void kmem_teardown(struct mm_kmem *k)
{
	/* First: from here on no thread exit runs the destructor on
	 * per-thread state about to be freed with the slabs. */
	pthread_key_delete(k->key);
	if (k->pm_root)
		slab_pagemap_for_each_large(k, free_large_block);
	/* Newest first: an off-slab descriptor lives in an older kmalloc
	 * cache, and every descriptor in the boot cache, which is last. */
	struct mm_kmem_cache *c, *tmp;
	mm_list_for_each_entry_safe(c, tmp, &k->caches, chain) {
		slab_release_all(c);
		pthread_mutex_destroy(&c->lock);
		pthread_mutex_destroy(&c->depot_lock);
	}
	slab_pagemap_destroy(k);
	pthread_mutex_destroy(&k->chain_lock);
	pthread_mutex_destroy(&k->thr_lock);
	pthread_mutex_destroy(&k->pm_lock);
	struct mm_page_source ps = k->ps;
	mm_ps_free(&ps, k, k->self_order);
}

struct mm_kmem *mm_kmem_create(const struct mm_page_source *ps, unsigned flags)
{
	unsigned order = order_for(sizeof(struct mm_kmem));
	struct mm_kmem *k = mm_ps_alloc(ps, order, MM_GFP_KERNEL);
	if (!k)
		return NULL;
	memset(k, 0, sizeof(*k));
	k->ps = *ps;
	k->flags = flags;
	k->self_order = order;
	k->nonce = kmem_nonce(k);
	if (pthread_key_create(&k->key, slab_kthread_destructor) != 0) {
		mm_ps_free(ps, k, order);
		return NULL;
	}
	pthread_mutex_init(&k->chain_lock, NULL);
	pthread_mutex_init(&k->thr_lock, NULL);
	pthread_mutex_init(&k->pm_lock, NULL);
	mm_list_init(&k->caches);
	mm_list_init(&k->threads);
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++)
		slab_tcache_clear(k, &k->kmc_none[i]);
	if (slab_pagemap_init(k) < 0)
		goto fail;
	if (slab_cache_setup(k, &k->boot_cache, "kmem_cache", sizeof(struct mm_kmem_cache),
			     SLAB_CACHE_LINE, MM_SLAB_NO_MAGAZINES | slab_forced_flags(k),
			     NULL) < 0)
		goto fail;
	k->boot_cache.internal = true;
	if (chain_add(k, &k->boot_cache) < 0)
		goto fail;
	if (slab_kmalloc_create_caches(k) < 0)
		goto fail;
	k->mag_cache = slab_cache_new(k, "kmem_magazine", sizeof(struct mm_magazine), 8,
				      MM_SLAB_NO_MAGAZINES, NULL, true);
	if (!k->mag_cache)
		goto fail;
	return k;
fail:
	kmem_teardown(k);
	return NULL;
}

void mm_kmem_destroy(struct mm_kmem *k)
{
	if (k)
		kmem_teardown(k);
}

/* ---- caches ------------------------------------------------------------- */

struct mm_kmem_cache *mm_kmem_cache_create(struct mm_kmem *k, const char *name, size_t size,
					   size_t align, unsigned long flags,
					   void (*ctor)(void *))
{
	flags &= MM_SLAB_DEBUG | MM_SLAB_HWCACHE_ALIGN | MM_SLAB_NO_MAGAZINES |
		 MM_SLAB_RECLAIM_ACCOUNT;
	return slab_cache_new(k, name, size, align, flags, ctor, false);
}

void mm_kmem_cache_destroy(struct mm_kmem_cache *c)
{
	if (!c)
		return;
	if (c->internal) {
		fprintf(stderr, "mm_kmem_cache_destroy: %s belongs to the instance\n", c->name);
		return;
	}
	struct mm_kmem *k = c->kmem;
	slab_tcache_reclaim_all(c);
	slab_depot_drain(c);
	pthread_mutex_lock(&c->lock);
	unsigned long active = c->active;
	pthread_mutex_unlock(&c->lock);
	if (active) {
		fprintf(stderr, "mm_kmem_cache_destroy: cache %s still has %lu objects in use\n",
			c->name, active);
		return;
	}
	chain_del(k, c);
	slab_reap_empty(c, 0);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->depot_lock);
	slab_free_direct(&k->boot_cache, c);
}

static MM_NOINLINE void *cache_alloc_slow(struct mm_kmem_cache *c, mm_gfp_t gfp)
{
	return cache_alloc(c, gfp);
}

/* Fast path without saved registers; the rest is a tail call. */
void *mm_kmem_cache_alloc(struct mm_kmem_cache *c, mm_gfp_t gfp)
{
	struct slab_tls_ent *te = slab_tls_ent_of(c->kmem);
	if (mm_likely(te->nonce == c->nonce && c->id < te->ntc &&
		      !((c->flags & SLAB_DEBUG_FLAGS) | (gfp & MM_GFP_ZERO)))) {
		struct mm_tcache *tc = te->tc[c->id];
		if (mm_likely(tc != NULL)) {
			void *obj = tc_pop(tc);
			if (mm_likely(obj != NULL))
				return obj;
		}
	}
	return cache_alloc_slow(c, gfp);
}

static MM_NOINLINE void cache_free_slow(struct mm_kmem_cache *c, void *obj)
{
	cache_free(c, obj);
}

void mm_kmem_cache_free(struct mm_kmem_cache *c, void *obj)
{
	if (mm_unlikely(obj == NULL))
		return;
	struct slab_tls_ent *te = slab_tls_ent_of(c->kmem);
	if (mm_likely(te->nonce == c->nonce && c->id < te->ntc &&
		      !(c->flags & SLAB_DEBUG_FLAGS))) {
		struct mm_tcache *tc = te->tc[c->id];
		if (mm_likely(tc != NULL) && mm_likely(tc_push(tc, obj)))
			return;
	}
	cache_free_slow(c, obj);
}

int mm_kmem_cache_shrink(struct mm_kmem_cache *c)
{
	long pages = slab_tcache_flush_current(c);
	pages += slab_depot_drain(c);
	return (int)(pages + slab_reap_empty(c, 0));
}

long mm_kmem_shrink_all(struct mm_kmem *k)
{
	long pages = slab_tcache_flush_thread(k);
	struct mm_kmem_cache *c;
	pthread_mutex_lock(&k->chain_lock);
	mm_list_for_each_entry(c, &k->caches, chain)
		pages += slab_depot_drain(c);
	/* Freeing a slab with an off-slab descriptor frees a kmalloc object,
	 * which may empty a kmalloc slab that was already visited: a second
	 * pass reaps those (descriptor caches keep theirs on-slab, so two
	 * passes reach the fixed point). */
	for (int pass = 0; pass < 2; pass++)
		mm_list_for_each_entry(c, &k->caches, chain)
			pages += slab_reap_empty(c, 0);
	pthread_mutex_unlock(&k->chain_lock);
	return pages;
}

const char *mm_kmem_cache_name(const struct mm_kmem_cache *c)
{
	return c->name;
}

size_t mm_kmem_cache_size(const struct mm_kmem_cache *c)
{
	return c->object_size;
}

/* ---- statistics ---------------------------------------------------------- */

void mm_kmem_cache_stats(struct mm_kmem_cache *c, struct mm_kmem_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->object_size = c->object_size;
	st->size = c->size;
	st->align = c->align;
	st->order = c->order;
	st->objs_per_slab = c->num;
	st->colours = c->colours;
	st->colour_off = c->colour_off;
	st->waste = c->waste;
	st->off_slab = c->off_slab;
	st->flags = c->flags & ~SLAB_OBJECT_POISON;
	st->mag_size = c->mag_size;
	st->batch = c->batch;
	st->depot_max = c->depot_max;
	st->empty_max = c->empty_max;
	pthread_mutex_lock(&c->lock);
	st->full_slabs = c->nr_full;
	st->partial_slabs = c->nr_partial;
	st->empty_slabs = c->nr_empty;
	st->active_objs = c->active;
	st->num_objs = (c->nr_full + c->nr_partial + c->nr_empty) * c->num;
	st->grows = c->grows;
	st->reaps = c->reaps;
	st->ctor_calls = c->ctor_calls;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&c->depot_lock);
	st->depot_full = c->nr_depot_full;
	st->depot_objs = c->depot_objs;
	pthread_mutex_unlock(&c->depot_lock);
}

long mm_kmem_obj_colour(struct mm_kmem *k, const void *obj)
{
	struct mm_slab *s = obj_to_slab(k, obj);
	return s ? (long)s->colour : -MM_EINVAL;
}

void mm_kmem_stats(struct mm_kmem *k, struct mm_kmem_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&k->chain_lock);
	st->caches = k->nr_caches;
	pthread_mutex_unlock(&k->chain_lock);
	pthread_mutex_lock(&k->thr_lock);
	st->threads = k->nr_threads;
	pthread_mutex_unlock(&k->thr_lock);
	st->slab_pages = atomic_load(&k->slab_pages);
	st->large_pages = atomic_load(&k->large_pages);
	st->large_allocs = atomic_load(&k->large_allocs);
	st->pagemap_pages = atomic_load(&k->pm_pages);
	st->self_pages = 1ul << k->self_order;
}
