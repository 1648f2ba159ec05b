/* The slab layer of one cache: geometry, building and freeing slabs, and
 * moving objects between slabs and magazines.
 *
 * Algorithm (Bonwick 1994, "The Slab Allocator"; Linux mm/slab.c):
 *  - A slab is one naturally aligned block of 2^order pages holding `num`
 *    objects of `size` bytes; slabs sit on three lists: full (no free
 *    object), partial, empty (every object free). Allocation takes from the
 *    first partial slab, else an empty one, else builds a new slab; a free
 *    moves the slab full->partial->empty. Empty slabs are the reaping
 *    candidates: a cache keeps at most empty_max of them and gives the pages
 *    of any further empty slab back at once; empty_max = 256 KiB worth of
 *    slabs, clamped to [2, 64] (a page source such as mmap costs
 *    microseconds per block, so a cache that breathes by a few hundred
 *    objects should not return and refetch pages every time; the
 *    memory-pressure shrinker mm_kmem_shrink_all frees them all).
 *  - Slab order (SLUB's calculate_order): the smallest order <= 3 whose slab
 *    holds at least min_objects (8, or fewer if even order 3 cannot) and
 *    wastes at most 1/16 of the slab; failing that 1/8, then 1/4, then
 *    min_objects - 1 ... 1; objects too big for order 3 take the smallest
 *    order holding one (up to MM_SLAB_MAX_ORDER). The rule bounds the
 *    leftover (bytes neither object nor descriptor), as SLAB and SLUB do;
 *    an on-slab descriptor costs 48 bytes plus 2 per object on top.
 *  - The descriptor (header + 16-bit free-index stack) is at the start of
 *    the slab for objects below PAGE_SIZE/8, else in a kmalloc object
 *    (Linux SLAB's OFF_SLAB rule), so big objects pack exactly.
 *  - Colouring: the leftover bytes let each new slab start its objects
 *    colour_off (cache line, or the alignment if larger) further in, so equal
 *    objects of different slabs fall on different cache lines: offsets
 *    0, 1, ..., colours-1 times colour_off, colours = leftover/colour_off + 1,
 *    cycling.
 *  - Constructors run on every object when its slab is built, never on
 *    alloc: freed objects go back in constructed state (free objects are not
 *    written: the free list is an index stack in the descriptor).
 * Cost: alloc/free of a batch of n objects under one lock acquisition is
 * O(n); building a slab is O(num) plus one page-source call; the slab of an
 * object comes from the page map in O(1).
 * Fragmentation: the leftover per slab is bounded by the order rule
 * (<= 1/16 for every kmalloc class); on-slab descriptors add 48 bytes plus
 * 2 per object (21% of a kmalloc-8 slab, 6% for kmalloc-32, 3% for
 * kmalloc-64: tiny objects pay for the free-index stack that keeps free
 * objects untouched); external fragmentation is the partial slabs' free
 * objects, which allocation drains first.
 */
#include <stdio.h>
#include <string.h>

#include "slab_internal.h"

/* ---- geometry ------------------------------------------------------------ */

static size_t slab_hdr_size(void)
{
	return sizeof(struct mm_slab);
}

/* Objects per slab of `order` and the offset of the first object (before
 * colouring). Returns 0 if not even one object fits. */
int slab_estimate(size_t size, size_t align, bool off_slab, unsigned order, unsigned *num,
		  size_t *s_off)
{
	size_t bytes = MM_PAGE_SIZE << order;
	size_t n;
	if (off_slab) {
		n = bytes / size;
		*s_off = 0;
	} else {
		n = (bytes - slab_hdr_size()) / (size + sizeof(uint16_t));
		while (n && MM_ALIGN_UP(slab_hdr_size() + n * sizeof(uint16_t), align) + n * size >
				    bytes)
			n--;
		*s_off = MM_ALIGN_UP(slab_hdr_size() + n * sizeof(uint16_t), align);
	}
	if (n > SLAB_MAX_OBJS)
		n = SLAB_MAX_OBJS;
	*num = (unsigned)n;
	return n > 0;
}

static size_t slab_waste(size_t size, unsigned order, unsigned num)
{
	return (MM_PAGE_SIZE << order) - (size_t)num * size;
}

/* SLUB's calculate_order with the fractions 16, 8, 4 (see the file comment). */
static unsigned calculate_order(size_t size, size_t align, bool off_slab)
{
	unsigned num;
	size_t s_off;
	unsigned max_num = 0;
	if (slab_estimate(size, align, off_slab, SLAB_COSTLY_ORDER, &num, &s_off))
		max_num = num;
	unsigned min_objects = MM_MIN(SLAB_MIN_OBJECTS, max_num);
	for (; min_objects >= 1; min_objects--) {
		for (unsigned fract = 16; fract >= 4; fract /= 2) {
			for (unsigned order = 0; order <= SLAB_COSTLY_ORDER; order++) {
				if (!slab_estimate(size, align, off_slab, order, &num, &s_off))
					continue;
				size_t left = (MM_PAGE_SIZE << order) - s_off - (size_t)num * size;
				if (num >= min_objects && left * fract <= (MM_PAGE_SIZE << order))
					return order;
			}
		}
	}
	for (unsigned order = 0; order <= MM_SLAB_MAX_ORDER; order++)
		if (slab_estimate(size, align, off_slab, order, &num, &s_off))
			return order;
	return MM_SLAB_MAX_ORDER + 1;
}

int slab_cache_setup(struct mm_kmem *k, struct mm_kmem_cache *c, const char *name,
		     size_t size, size_t align, unsigned long flags, void (*ctor)(void *))
{
	if (size == 0 || size > MM_SLAB_MAX_OBJ_SIZE)
		return -MM_EINVAL;
	if (align == 0)
		align = 8;
	if (!MM_IS_POW2(align) || align > MM_PAGE_SIZE)
		return -MM_EINVAL;
	align = MM_MAX(align, (size_t)8);
	if ((flags & MM_SLAB_HWCACHE_ALIGN) && size > SLAB_CACHE_LINE / 2)
		align = MM_MAX(align, (size_t)SLAB_CACHE_LINE);
	if ((flags & MM_SLAB_POISON) && !ctor)
		flags |= SLAB_OBJECT_POISON;

	memset(c, 0, sizeof(*c));
	c->kmem = k;
	c->key = k->key;
	c->nonce = k->nonce;
	c->flags = flags;
	c->ctor = ctor;
	c->align = align;
	c->object_size = MM_ALIGN_UP(size, (size_t)8);
	if (flags & MM_SLAB_RED_ZONE) {
		/* [red zone 1][object][red zone 2]: each zone one 64-bit word,
		 * the first padded so the object keeps its alignment. */
		c->obj_offset = MM_ALIGN_UP((size_t)8, align);
		c->size = MM_ALIGN_UP(c->obj_offset + c->object_size + 8, align);
	} else {
		c->obj_offset = 0;
		c->size = MM_ALIGN_UP(c->object_size, align);
	}
	if (c->size > MM_SLAB_MAX_OBJ_SIZE)
		return -MM_EINVAL;
	c->off_slab = c->size >= SLAB_OFF_SLAB_MIN;
	c->order = calculate_order(c->size, align, c->off_slab);
	if (c->order > MM_SLAB_MAX_ORDER)
		return -MM_EINVAL;
	slab_estimate(c->size, align, c->off_slab, c->order, &c->num, &c->s_off);
	if (c->off_slab) {
		/* The descriptor needs a kmalloc class that exists already (the
		 * boot cache and the first kmalloc caches are made before the
		 * bigger ones): otherwise keep it on the slab. */
		size_t mgmt = slab_hdr_size() + c->num * sizeof(uint16_t);
		struct mm_kmem_cache *home = NULL;
		if (mgmt <= MM_KMALLOC_MAX_CACHE_SIZE && k->kmalloc[0])
			home = slab_kmalloc_slab(k, mgmt);
		if (!home || home->size >= c->size) {
			c->off_slab = false;
			c->order = calculate_order(c->size, align, false);
			if (c->order > MM_SLAB_MAX_ORDER)
				return -MM_EINVAL;
			slab_estimate(c->size, align, false, c->order, &c->num, &c->s_off);
		}
	}
	c->mgmt = slab_hdr_size() + c->num * sizeof(uint16_t);
	c->waste = slab_waste(c->size, c->order, c->num);
	size_t leftover = (MM_PAGE_SIZE << c->order) - c->s_off - (size_t)c->num * c->size;
	c->colour_off = (unsigned)MM_MAX(align, (size_t)SLAB_CACHE_LINE);
	c->colours = (unsigned)(leftover / c->colour_off) + 1;
	c->empty_max = (unsigned)MM_MAX((size_t)SLAB_EMPTY_MIN,
					MM_MIN((size_t)SLAB_EMPTY_MAX,
					       SLAB_EMPTY_BYTES / (MM_PAGE_SIZE << c->order)));
	snprintf(c->name, sizeof(c->name), "%s", name);

	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->depot_lock, NULL);
	mm_list_init(&c->full);
	mm_list_init(&c->partial);
	mm_list_init(&c->empty);
	mm_list_init(&c->tcaches);
	mm_list_init(&c->chain);
	slab_magazine_setup(c);
	return 0;
}

/* ---- building and freeing slabs ---------------------------------------- */

/* Build a slab outside every lock: pages, descriptor, page map, objects.
 * On failure everything taken is given back and NULL is returned. */
static struct mm_slab *cache_grow(struct mm_kmem_cache *c, unsigned colour_idx, mm_gfp_t gfp)
{
	struct mm_kmem *k = c->kmem;
	mm_gfp_t pgfp = gfp & ~MM_GFP_ZERO;
	if (c->flags & MM_SLAB_RECLAIM_ACCOUNT)
		pgfp |= MM_GFP_RECLAIMABLE;
	char *base = mm_ps_alloc(&k->ps, c->order, pgfp);
	if (!base)
		return NULL;
	struct mm_slab *s;
	if (c->off_slab) {
		s = slab_kmalloc_internal(k, c->mgmt);
		if (!s) {
			mm_ps_free(&k->ps, base, c->order);
			return NULL;
		}
	} else {
		s = (struct mm_slab *)(void *)base;
	}
	s->cache_id = (uint16_t)(c->id | ((c->flags & SLAB_DEBUG_FLAGS) ? SLAB_ID_SLOW : 0));
	if ((uintptr_t)s > PM_PTR_MASK ||
	    slab_pagemap_set_range(k, base, (size_t)1 << c->order, PM_SLAB_ENTRY(s)) < 0) {
		if (c->off_slab)
			slab_kfree_internal(k, s);
		mm_ps_free(&k->ps, base, c->order);
		return NULL;
	}
	mm_list_init(&s->list);
	s->cache = c;
	s->base = base;
	s->colour = (colour_idx % c->colours) * c->colour_off;
	s->s_mem = base + c->s_off + s->colour;
	s->inuse = 0;
	for (unsigned i = 0; i < c->num; i++)
		s->freelist[i] = (uint16_t)i;
	for (unsigned i = 0; i < c->num; i++) {
		void *obj = index_to_obj(c, s, i);
		if (c->flags & SLAB_DEBUG_FLAGS)
			slab_debug_init_obj(c, obj);
		if (c->ctor)
			c->ctor(obj);
	}
	atomic_fetch_add(&k->slab_pages, 1ul << c->order);
	return s;
}

/* Give a slab's pages back (no lock held; the slab is on no list). */
static void slab_destroy(struct mm_kmem_cache *c, struct mm_slab *s)
{
	struct mm_kmem *k = c->kmem;
	char *base = s->base;
	slab_pagemap_clear_range(k, base, (size_t)1 << c->order);
	if (c->off_slab)
		slab_kfree_internal(k, s);
	mm_ps_free(&k->ps, base, c->order);
	atomic_fetch_sub(&k->slab_pages, 1ul << c->order);
}

/* ---- list moves (caller holds c->lock) ---------------------------------- */

static inline void slab_unlist_locked(struct mm_kmem_cache *c, struct mm_slab *s)
{
	if (s->inuse == c->num)
		c->nr_full--;
	else if (s->inuse == 0)
		c->nr_empty--;
	else
		c->nr_partial--;
	mm_list_del(&s->list);
}

static inline void slab_list_locked(struct mm_kmem_cache *c, struct mm_slab *s)
{
	if (s->inuse == c->num) {
		mm_list_add(&s->list, &c->full);
		c->nr_full++;
	} else if (s->inuse == 0) {
		mm_list_add(&s->list, &c->empty);
		c->nr_empty++;
	} else {
		mm_list_add(&s->list, &c->partial);
		c->nr_partial++;
	}
}

/* ---- moving objects ----------------------------------------------------- */

/* Take up to n objects from the slabs (partial first, then empty, then a new
 * slab when none is left and nothing was taken yet). Returns how many were
 * taken: 0 only when a needed slab could not be built (nothing changed). */
unsigned slab_alloc_bulk(struct mm_kmem_cache *c, void **objs, unsigned n, mm_gfp_t gfp)
{
	unsigned got = 0;
	pthread_mutex_lock(&c->lock);
	while (got < n) {
		struct mm_slab *s;
		if (!mm_list_empty(&c->partial)) {
			s = mm_list_first_entry(&c->partial, struct mm_slab, list);
		} else if (!mm_list_empty(&c->empty)) {
			s = mm_list_first_entry(&c->empty, struct mm_slab, list);
		} else {
			if (got)
				break;
			unsigned colour = c->colour_next;
			pthread_mutex_unlock(&c->lock);
			s = cache_grow(c, colour, gfp);
			pthread_mutex_lock(&c->lock);
			if (!s)
				break;
			c->colour_next = (s->colour / c->colour_off + 1) % c->colours;
			c->grows++;
			if (c->ctor)
				c->ctor_calls += c->num;
			slab_list_locked(c, s);
			continue;
		}
		slab_unlist_locked(c, s);
		unsigned before = s->inuse;
		while (got < n && s->inuse < c->num)
			objs[got++] = index_to_obj(c, s, s->freelist[s->inuse++]);
		c->active += s->inuse - before;
		slab_list_locked(c, s);
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

/* The release-build check of slab_free_bulk failed: say what and abort. */
static MM_NOINLINE MM_NORETURN void bad_free(struct mm_kmem_cache *c, const void *obj,
					     const struct mm_slab *s)
{
	if (!s)
		slab_die(c, obj, "free of a pointer that is in no slab");
	if (s->cache != c)
		slab_die(c, obj, "free of an object of cache %s", s->cache->name);
	slab_die(c, obj, "free into a slab with no object in use (double free)");
}

/* Put n objects back in their slabs. Slabs that become empty beyond
 * empty_max are freed after the lock is dropped. Returns pages freed. */
long slab_free_bulk(struct mm_kmem_cache *c, void *const *objs, unsigned n)
{
	long freed = 0;
	struct mm_kmem *k = c->kmem;
	struct mm_list doomed = MM_LIST_INIT(doomed);
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < n; i++) {
		struct mm_slab *s = obj_to_slab(k, objs[i]);
		if (mm_unlikely(s == NULL || s->cache != c || s->inuse == 0))
			bad_free(c, objs[i], s);
		slab_unlist_locked(c, s);
		s->freelist[--s->inuse] = (uint16_t)obj_to_index(c, s, objs[i]);
		c->active--;
		if (s->inuse == 0 && c->nr_empty >= c->empty_max) {
			mm_list_add(&s->list, &doomed);
			c->reaps++;
		} else {
			slab_list_locked(c, s);
		}
	}
	pthread_mutex_unlock(&c->lock);
	struct mm_slab *s, *tmp;
	mm_list_for_each_entry_safe(s, tmp, &doomed, list) {
		mm_list_del(&s->list);
		slab_destroy(c, s);
		freed += 1l << c->order;
	}
	return freed;
}

/* Free empty slabs until at most `keep` remain. Returns pages freed. */
long slab_reap_empty(struct mm_kmem_cache *c, unsigned keep)
{
	struct mm_list doomed = MM_LIST_INIT(doomed);
	long n = 0;
	pthread_mutex_lock(&c->lock);
	while (c->nr_empty > keep) {
		struct mm_slab *s = mm_list_last_entry(&c->empty, struct mm_slab, list);
		slab_unlist_locked(c, s);
		mm_list_add(&s->list, &doomed);
		c->reaps++;
		n++;
	}
	pthread_mutex_unlock(&c->lock);
	struct mm_slab *s, *tmp;
	mm_list_for_each_entry_safe(s, tmp, &doomed, list) {
		mm_list_del(&s->list);
		slab_destroy(c, s);
	}
	return n << c->order;
}

/* Free every slab whatever its state (instance teardown). */
void slab_release_all(struct mm_kmem_cache *c)
{
	struct mm_list *lists[3] = { &c->full, &c->partial, &c->empty };
	for (int i = 0; i < 3; i++) {
		while (!mm_list_empty(lists[i])) {
			struct mm_slab *s = mm_list_first_entry(lists[i], struct mm_slab, list);
			slab_unlist_locked(c, s);
			c->active -= s->inuse;
			slab_destroy(c, s);
		}
	}
}

/* ---- direct (magazine-less) allocation ---------------------------------- */

void *slab_alloc_direct(struct mm_kmem_cache *c, mm_gfp_t gfp)
{
	void *obj;
	if (slab_alloc_bulk(c, &obj, 1, gfp) != 1)
		return NULL;
	return slab_obj_ready(c, obj, gfp);
}

void slab_free_direct(struct mm_kmem_cache *c, void *obj)
{
	if (mm_unlikely(c->flags & SLAB_DEBUG_FLAGS))
		slab_debug_free(c, obj);
	slab_free_bulk(c, &obj, 1);
}
