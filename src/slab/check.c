/* The whole-structure checkers (STYLE.md 14): mm_kmem_cache_check and
 * mm_kmem_check. They read every slab, magazine and depot list of a cache
 * and report the first broken invariant on stderr. Cost: O(slabs * num +
 * M log M) for M objects in magazines; scratch memory for the magazine
 * objects comes from the host heap (the checker is a diagnostic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/bitmap.h"
#include "slab_internal.h"

#define CORRUPT(c, ...)                                                        \
	do {                                                                   \
		fprintf(stderr, "mm_kmem_cache_check: %s: ", (c)->name);      \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		err = -MM_ECORRUPT;                                            \
		goto out;                                                      \
	} while (0)

struct objvec {
	void **v;
	size_t n, cap;
};

static int objvec_push(struct objvec *ov, void *p)
{
	if (ov->n == ov->cap) {
		size_t cap = ov->cap ? ov->cap * 2 : 256;
		void **v = realloc(ov->v, cap * sizeof(*v));
		if (!v)
			return -MM_ENOMEM;
		ov->v = v;
		ov->cap = cap;
	}
	ov->v[ov->n++] = p;
	return 0;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static bool objvec_has(const struct objvec *ov, const void *p)
{
	size_t lo = 0, hi = ov->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t)ov->v[mid] < (uintptr_t)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ov->n && ov->v[lo] == p;
}

/* An object handed out by the slabs: belongs to c, is an object start, and
 * (debug) is in the free state while parked in a magazine. */
static int check_mag_obj(struct mm_kmem_cache *c, void *obj)
{
	struct mm_slab *s = obj_to_slab(c->kmem, obj);
	if (!s || s->cache != c)
		return -1;
	size_t off = (size_t)((char *)obj - s->s_mem);
	if ((char *)obj < s->s_mem + c->obj_offset || (off - c->obj_offset) % c->size ||
	    (off - c->obj_offset) / c->size >= c->num)
		return -1;
	if ((c->flags & MM_SLAB_RED_ZONE) &&
	    (((uint64_t *)obj)[-1] != SLAB_RED_INACTIVE ||
	     *(uint64_t *)(void *)((char *)obj + c->object_size) != SLAB_RED_INACTIVE))
		return -1;
	return 0;
}

static int check_magazine(struct mm_kmem_cache *c, const struct mm_magazine *m,
			  struct objvec *ov)
{
	if (m->cap != c->mag_size || m->rounds > m->cap || m->guard != NULL)
		return -1;
	for (uint32_t i = 0; i < m->rounds; i++) {
		if (check_mag_obj(c, m->obj[i]) < 0)
			return -1;
		if (objvec_push(ov, m->obj[i]) < 0)
			return -1;
	}
	return 0;
}

static int check_slab_list(struct mm_kmem_cache *c, struct mm_list *head, int kind,
			   unsigned long expect, const struct objvec *ov, unsigned long *inuse_sum,
			   uint64_t *seen)
{
	int err = 0;
	struct mm_kmem *k = c->kmem;
	size_t slab_bytes = MM_PAGE_SIZE << c->order;
	if (mm_list_check(head, expect + 1) < 0)
		CORRUPT(c, "slab list %d is broken", kind);
	if (mm_list_count(head) != expect)
		CORRUPT(c, "list %d holds %zu slabs, counter says %lu", kind, mm_list_count(head),
			expect);
	struct mm_slab *s;
	mm_list_for_each_entry(s, head, list) {
		if (s->cache != c)
			CORRUPT(c, "slab %p points at another cache", (void *)s);
		if ((uintptr_t)s->base & (slab_bytes - 1))
			CORRUPT(c, "slab %p block not aligned to its order", (void *)s);
		if (!c->off_slab && (char *)s != s->base)
			CORRUPT(c, "on-slab descriptor %p not at its block", (void *)s);
		if (s->colour % c->colour_off || s->colour / c->colour_off >= c->colours ||
		    s->s_mem != s->base + c->s_off + s->colour)
			CORRUPT(c, "slab %p has a bad colour %u", (void *)s, s->colour);
		if ((uintptr_t)(s->s_mem + c->obj_offset) % c->align)
			CORRUPT(c, "slab %p objects not aligned to %zu", (void *)s, c->align);
		if (s->cache_id != (uint16_t)(c->id | ((c->flags & SLAB_DEBUG_FLAGS) ? SLAB_ID_SLOW : 0)))
			CORRUPT(c, "slab %p has cache id %u", (void *)s, s->cache_id);
		if (s->inuse > c->num)
			CORRUPT(c, "slab %p inuse %u > %u", (void *)s, s->inuse, c->num);
		int want = s->inuse == c->num ? 0 : s->inuse == 0 ? 2 : 1;
		if (want != kind)
			CORRUPT(c, "slab %p with %u of %u in use on list %d", (void *)s, s->inuse,
				c->num, kind);
		for (size_t p = 0; p < ((size_t)1 << c->order); p++)
			if (pagemap_get(k->pm_root, s->base + p * MM_PAGE_SIZE) != PM_SLAB_ENTRY(s))
				CORRUPT(c, "page map misses page %zu of slab %p", p, (void *)s);
		mm_bitmap_zero(seen, c->num);
		for (unsigned i = s->inuse; i < c->num; i++) {
			unsigned idx = s->freelist[i];
			if (idx >= c->num)
				CORRUPT(c, "slab %p free index %u out of bounds", (void *)s, idx);
			if (mm_bit_test_and_set(seen, idx))
				CORRUPT(c, "slab %p free index %u listed twice", (void *)s, idx);
			void *obj = index_to_obj(c, s, idx);
			if (objvec_has(ov, obj))
				CORRUPT(c, "object %p is free in its slab and in a magazine", obj);
			if ((c->flags & MM_SLAB_RED_ZONE) &&
			    ((uint64_t *)obj)[-1] != SLAB_RED_INACTIVE)
				CORRUPT(c, "free object %p has an active red zone", obj);
		}
		*inuse_sum += s->inuse;
	}
out:
	return err;
}

int mm_kmem_cache_check(struct mm_kmem_cache *c)
{
	struct mm_kmem *k = c->kmem;
	struct objvec ov = { 0 };
	int err = 0;
	uint64_t *seen = NULL;

	/* 1. Magazines of every thread and of the depot. */
	pthread_mutex_lock(&k->thr_lock);
	struct mm_tcache *tc;
	unsigned long ntc = 0;
	mm_list_for_each_entry(tc, &c->tcaches, reg) {
		if (tc->cache != c || tc->thread->kmem != k || c->id >= tc->thread->ntc ||
		    tc->thread->tc[c->id] != tc) {
			pthread_mutex_unlock(&k->thr_lock);
			CORRUPT(c, "tcache %p is not registered with its thread", (void *)tc);
		}
		struct mm_magazine *ld = tc->loaded;
		if (tc->end != ld->obj + ld->cap || tc->top < ld->obj || tc->top > tc->end ||
		    ld->guard != NULL) {
			pthread_mutex_unlock(&k->thr_lock);
			CORRUPT(c, "tcache %p top %td end %td disagree with its magazine (cap %u)",
				(void *)tc, tc->top - ld->obj, tc->end - ld->obj, ld->cap);
		}
		if (ld != &k->nomag)
			ld->rounds = (uint32_t)(tc->top - ld->obj); /* the stale copy, synced */
		struct mm_magazine *mags[2] = { tc->loaded, tc->prev };
		for (int i = 0; i < 2; i++) {
			if (mags[i] == &k->nomag)
				continue;
			if (check_magazine(c, mags[i], &ov) < 0) {
				pthread_mutex_unlock(&k->thr_lock);
				CORRUPT(c, "thread magazine %p holds a bad object", (void *)mags[i]);
			}
		}
		ntc++;
	}
	pthread_mutex_unlock(&k->thr_lock);
	if (!c->mag_size && ntc)
		CORRUPT(c, "cache without magazines has %lu tcaches", ntc);

	pthread_mutex_lock(&c->depot_lock);
	unsigned long nfull = 0, nempty = 0, dobjs = 0;
	for (struct mm_magazine *m = c->depot_full; m && nfull <= c->nr_depot_full; m = m->next) {
		nfull++;
		dobjs += m->rounds;
		if (m->rounds == 0 || check_magazine(c, m, &ov) < 0) {
			pthread_mutex_unlock(&c->depot_lock);
			CORRUPT(c, "depot magazine %p is empty or holds a bad object", (void *)m);
		}
	}
	for (struct mm_magazine *m = c->depot_empty; m && nempty <= c->nr_depot_empty;
	     m = m->next) {
		nempty++;
		if (m->rounds != 0 || m->cap != c->mag_size) {
			pthread_mutex_unlock(&c->depot_lock);
			CORRUPT(c, "depot empty magazine %p is not empty", (void *)m);
		}
	}
	bool depot_ok = nfull == c->nr_depot_full && nempty == c->nr_depot_empty &&
			dobjs == c->depot_objs && nfull <= c->depot_max && nempty <= c->depot_max;
	pthread_mutex_unlock(&c->depot_lock);
	if (!depot_ok)
		CORRUPT(c, "depot counters disagree with its lists");

	if (ov.n)
		qsort(ov.v, ov.n, sizeof(*ov.v), ptr_cmp);
	for (size_t i = 1; i < ov.n; i++)
		if (ov.v[i] == ov.v[i - 1])
			CORRUPT(c, "object %p is in two magazines", ov.v[i]);

	/* 2. The slabs. */
	seen = malloc(MM_BITMAP_WORDS(SLAB_MAX_OBJS + 1) * sizeof(uint64_t));
	if (!seen)
		goto out; /* no scratch: skip (not a corruption) */
	pthread_mutex_lock(&c->lock);
	unsigned long inuse = 0;
	struct {
		struct mm_list *head;
		unsigned long n;
	} lists[3] = { { &c->full, c->nr_full }, { &c->partial, c->nr_partial },
		       { &c->empty, c->nr_empty } };
	for (int i = 0; i < 3 && !err; i++)
		err = check_slab_list(c, lists[i].head, i, lists[i].n, &ov, &inuse, seen);
	bool counts_ok = inuse == c->active && ov.n <= c->active;
	pthread_mutex_unlock(&c->lock);
	if (err)
		goto out;
	if (!counts_ok)
		CORRUPT(c, "in-use sum %lu, active counter %lu, %zu in magazines", inuse,
			c->active, ov.n);
out:
	free(seen);
	free(ov.v);
	return err;
}

int mm_kmem_check(struct mm_kmem *k)
{
	int err = 0;
	unsigned long pages = 0, n = 0;
	pthread_mutex_lock(&k->chain_lock);
	struct mm_kmem_cache *c;
	mm_list_for_each_entry(c, &k->caches, chain) {
		if (c->kmem != k || !mm_bit_test(k->ids, c->id)) {
			fprintf(stderr, "mm_kmem_check: cache %s is not registered\n", c->name);
			err = -MM_ECORRUPT;
			break;
		}
		err = mm_kmem_cache_check(c);
		if (err)
			break;
		pthread_mutex_lock(&c->lock);
		pages += (c->nr_full + c->nr_partial + c->nr_empty) << c->order;
		pthread_mutex_unlock(&c->lock);
		n++;
	}
	if (!err && n != k->nr_caches) {
		fprintf(stderr, "mm_kmem_check: %lu caches on the chain, counter %lu\n", n,
			k->nr_caches);
		err = -MM_ECORRUPT;
	}
	pthread_mutex_unlock(&k->chain_lock);
	if (!err && pages != atomic_load(&k->slab_pages)) {
		fprintf(stderr, "mm_kmem_check: slabs hold %lu pages, counter %lu\n", pages,
			atomic_load(&k->slab_pages));
		err = -MM_ECORRUPT;
	}
	/* The page map holds exactly the slabs' pages and the large blocks:
	 * no entry outlives its slab or block. */
	unsigned long pm_slab, pm_large, pm_large_pages, pm_nodes;
	slab_pagemap_census(k, &pm_slab, &pm_large, &pm_large_pages, &pm_nodes);
	if (!err && (pm_slab != pages || pm_large != atomic_load(&k->large_allocs) ||
		     pm_large_pages != atomic_load(&k->large_pages) ||
		     pm_nodes != atomic_load(&k->pm_pages))) {
		fprintf(stderr,
			"mm_kmem_check: page map has %lu slab pages (slabs: %lu), %lu large "
			"blocks of %lu pages (counters: %lu, %lu), %lu nodes (counter %lu)\n",
			pm_slab, pages, pm_large, pm_large_pages, atomic_load(&k->large_allocs),
			atomic_load(&k->large_pages), pm_nodes, atomic_load(&k->pm_pages));
		err = -MM_ECORRUPT;
	}
	return err;
}
