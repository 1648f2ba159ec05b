/* The page map: from any address to the slab (or large kmalloc block) that
 * holds it, for kfree, ksize and the free-time checks.
 *
 * Algorithm: a 4-level radix tree over the virtual page number (48-bit
 * addresses, 9 bits per level, one page per node: the shape of x86-64 page
 * tables). Every page of a slab maps to its descriptor, so an interior
 * pointer finds its slab in O(1): 4 dependent loads, no lock, no hashing.
 * Large kmalloc blocks map only their head page, tagged with their order.
 * Cost: lookup O(1); setting a slab's range O(pages) under pm_lock (slab
 * build, a slow path); nodes are taken from the page source and kept until
 * the instance dies (at most one leaf per 2 MiB of address space used).
 * Reference: Linux's virt_to_slab() through struct page; TCMalloc's
 * pagemap (a radix tree from page number to span).
 */
#include <string.h>

#include "slab_internal.h"

static struct pm_node *pm_node_alloc(struct mm_kmem *k)
{
	struct pm_node *n = mm_ps_alloc(&k->ps, 0, MM_GFP_ZERO);
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	atomic_fetch_add(&k->pm_pages, 1);
	return n;
}

static void pm_node_free(struct mm_kmem *k, struct pm_node *n)
{
	mm_ps_free(&k->ps, n, 0);
	atomic_fetch_sub(&k->pm_pages, 1);
}

int slab_pagemap_init(struct mm_kmem *k)
{
	k->pm_root = pm_node_alloc(k);
	return k->pm_root ? 0 : -MM_ENOMEM;
}

static inline unsigned pm_index(uintptr_t vpn, int lvl)
{
	return (unsigned)(vpn >> (lvl * PM_BITS)) & (PM_ENTRIES - 1);
}

/* The leaf for vpn, creating the missing nodes (recorded in made[] so a
 * failing caller can take them out again). Caller holds pm_lock. */
static struct pm_node *pm_leaf_locked(struct mm_kmem *k, uintptr_t vpn,
				      struct pm_node **made, _Atomic uintptr_t **slots,
				      unsigned *nmade)
{
	struct pm_node *n = k->pm_root;
	for (int lvl = PM_LEVELS - 1; lvl > 0; lvl--) {
		_Atomic uintptr_t *slot = &n->e[pm_index(vpn, lvl)];
		uintptr_t e = atomic_load_explicit(slot, memory_order_relaxed);
		if (!e) {
			struct pm_node *child = pm_node_alloc(k);
			if (!child)
				return NULL;
			made[*nmade] = child;
			slots[(*nmade)++] = slot;
			atomic_store_explicit(slot, (uintptr_t)child, memory_order_release);
			e = (uintptr_t)child;
		}
		n = (struct pm_node *)e;
	}
	return n;
}

int slab_pagemap_set_range(struct mm_kmem *k, const void *addr, size_t pages, uintptr_t val)
{
	uintptr_t vpn = (uintptr_t)addr >> MM_PAGE_SHIFT;
	if (((vpn + pages - 1) >> PM_VPN_BITS) != 0)
		return -MM_EINVAL;
	/* A slab block is naturally aligned and at most 2^MM_SLAB_MAX_ORDER
	 * pages; a large block may be bigger and cross leaves: at most
	 * (PM_LEVELS - 1) new nodes per leaf visited. */
	struct pm_node *made[PM_LEVELS * 8];
	_Atomic uintptr_t *slots[PM_LEVELS * 8];
	unsigned nmade = 0;
	int err = 0;
	pthread_mutex_lock(&k->pm_lock);
	size_t i = 0;
	while (i < pages) {
		if (nmade + PM_LEVELS > MM_ARRAY_SIZE(made)) {
			err = -MM_E2BIG; /* only large blocks set one entry, so unreachable */
			break;
		}
		struct pm_node *leaf = pm_leaf_locked(k, vpn + i, made, slots, &nmade);
		if (!leaf) {
			err = -MM_ENOMEM;
			break;
		}
		do {
			atomic_store_explicit(&leaf->e[pm_index(vpn + i, 0)], val,
					      memory_order_release);
			i++;
		} while (i < pages && pm_index(vpn + i, 0) != 0);
	}
	if (err) {
		/* Undo: clear what we set, then remove the nodes we added
		 * (newest first, so a child goes before its parent's slot). */
		for (size_t j = 0; j < i; j++) {
			struct pm_node *n = k->pm_root;
			for (int lvl = PM_LEVELS - 1; lvl > 0; lvl--)
				n = (struct pm_node *)atomic_load(&n->e[pm_index(vpn + j, lvl)]);
			atomic_store(&n->e[pm_index(vpn + j, 0)], 0);
		}
		while (nmade--) {
			atomic_store(slots[nmade], 0);
			pm_node_free(k, made[nmade]);
		}
	}
	pthread_mutex_unlock(&k->pm_lock);
	return err;
}

void slab_pagemap_clear_range(struct mm_kmem *k, const void *addr, size_t pages)
{
	uintptr_t vpn = (uintptr_t)addr >> MM_PAGE_SHIFT;
	for (size_t i = 0; i < pages; i++) {
		struct pm_node *n = k->pm_root;
		for (int lvl = PM_LEVELS - 1; lvl > 0 && n; lvl--)
			n = (struct pm_node *)atomic_load_explicit(
				&n->e[pm_index(vpn + i, lvl)], memory_order_acquire);
		MM_BUG_ON(n == NULL);
		atomic_store_explicit(&n->e[pm_index(vpn + i, 0)], 0, memory_order_release);
	}
}

/* Visit every large kmalloc block: fn(k, address, order). */
static void pm_walk_large(struct mm_kmem *k, struct pm_node *n, int lvl, uintptr_t vpn,
			  void (*fn)(struct mm_kmem *, void *, unsigned))
{
	for (unsigned i = 0; i < PM_ENTRIES; i++) {
		uintptr_t e = atomic_load(&n->e[i]);
		if (!e)
			continue;
		uintptr_t v = (vpn << PM_BITS) | i;
		if (lvl > 0)
			pm_walk_large(k, (struct pm_node *)e, lvl - 1, v, fn);
		else if (e & PM_LARGE_TAG)
			fn(k, (void *)(v << MM_PAGE_SHIFT), (unsigned)(e >> 1));
	}
}

void slab_pagemap_for_each_large(struct mm_kmem *k, void (*fn)(struct mm_kmem *, void *, unsigned))
{
	pm_walk_large(k, k->pm_root, PM_LEVELS - 1, 0, fn);
}

static void pm_count(struct pm_node *n, int lvl, unsigned long *slab_pages,
		     unsigned long *large, unsigned long *large_pages, unsigned long *nodes)
{
	(*nodes)++;
	for (unsigned i = 0; i < PM_ENTRIES; i++) {
		uintptr_t e = atomic_load(&n->e[i]);
		if (!e)
			continue;
		if (lvl > 0) {
			pm_count((struct pm_node *)e, lvl - 1, slab_pages, large, large_pages, nodes);
		} else if (e & PM_LARGE_TAG) {
			(*large)++;
			*large_pages += 1ul << (e >> 1);
		} else {
			(*slab_pages)++;
		}
	}
}

/* Census of the page map for mm_kmem_check: pages mapped to slabs, large
 * blocks, their pages, and nodes. */
void slab_pagemap_census(struct mm_kmem *k, unsigned long *slab_pages, unsigned long *large,
			 unsigned long *large_pages, unsigned long *nodes)
{
	*slab_pages = *large = *large_pages = *nodes = 0;
	pthread_mutex_lock(&k->pm_lock);
	pm_count(k->pm_root, PM_LEVELS - 1, slab_pages, large, large_pages, nodes);
	pthread_mutex_unlock(&k->pm_lock);
}

static void pm_free_tree(struct mm_kmem *k, struct pm_node *n, int lvl)
{
	if (lvl > 0) {
		for (unsigned i = 0; i < PM_ENTRIES; i++) {
			uintptr_t e = atomic_load(&n->e[i]);
			if (e)
				pm_free_tree(k, (struct pm_node *)e, lvl - 1);
		}
	}
	pm_node_free(k, n);
}

void slab_pagemap_destroy(struct mm_kmem *k)
{
	if (k->pm_root)
		pm_free_tree(k, k->pm_root, PM_LEVELS - 1);
	k->pm_root = NULL;
}
