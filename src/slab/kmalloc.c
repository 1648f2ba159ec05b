/* kmalloc, kfree, ksize, krealloc over size classes.
 *
 * Algorithm (Linux SLUB's kmalloc, mm/slab_common.c): 13 general caches
 * "kmalloc-8" .. "kmalloc-8k" with SLUB's classes 8 16 32 64 96 128 192 256
 * 512 1k 2k 4k 8k. A request of n bytes (1 <= n <= 8192) goes to the
 * smallest class >= n (the 96 and 192 classes halve the worst case between
 * 64/128/256): every class is a multiple of 8, so a 1024-entry byte table
 * in the instance indexed by (n - 1) / 8 gives it with one load and no
 * branch (Linux: a 24-entry table up to 192, fls above). Larger
 * requests get a block of 2^order pages straight from the page source
 * (Linux's kmalloc_large); its head page is tagged in the page map so kfree
 * and ksize recognise it. The old SLAB list 32..131072 of the notes would
 * keep 64 KiB and 128 KiB objects in slabs of 32 or more pages; whole page
 * blocks waste at most the last page's tail instead.
 * Cost: kmalloc is a table lookup plus a pop from the thread's tcache of the
 * class (the thread state embeds one per class, so no per-cache-id
 * indirection); kfree reads one entry of the page-map leaf the thread memo
 * remembers (a full walk, 4 loads, when p is in another 2 MiB range), whose
 * cache id is the class, and pushes on that tcache; 21 and 24
 * instructions. Large blocks cost one page-source call and a page-map
 * update.
 * Fragmentation: a class wastes < 1/2 of the object for sizes above 256,
 * < 1/3 between 64 and 256 (96/192 classes); large blocks waste < 1 page.
 * Power-of-two classes are naturally aligned (alignment = size, capped at a
 * page) except in caches with red zones, which keep 8-byte alignment.
 */
#include <string.h>

#include "slab_internal.h"

static const unsigned kmalloc_sizes[KMALLOC_NR_CLASSES] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

static const char *const kmalloc_names[KMALLOC_NR_CLASSES] = {
	"kmalloc-8",   "kmalloc-16",  "kmalloc-32", "kmalloc-64", "kmalloc-96",
	"kmalloc-128", "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k",
	"kmalloc-2k",  "kmalloc-4k",  "kmalloc-8k",
};

/* Index of the class for 1 <= size <= MM_KMALLOC_MAX_CACHE_SIZE: every
 * class size is a multiple of 8, so (size - 1) / 8 decides it. */
MM_INLINE unsigned kmalloc_index(const struct mm_kmem *k, size_t size)
{
	return k->kmalloc_class[(size - 1) / MM_KMALLOC_MIN_SIZE];
}

MM_INLINE struct mm_kmem_cache *kmalloc_slab_inline(struct mm_kmem *k, size_t size)
{
	return k->kmalloc[kmalloc_index(k, size)];
}

struct mm_kmem_cache *slab_kmalloc_slab(struct mm_kmem *k, size_t size)
{
	return kmalloc_slab_inline(k, size);
}

struct mm_kmem_cache *mm_kmalloc_cache(struct mm_kmem *k, size_t size)
{
	if (size == 0 || size > MM_KMALLOC_MAX_CACHE_SIZE)
		return NULL;
	return slab_kmalloc_slab(k, size);
}

int slab_kmalloc_create_caches(struct mm_kmem *k)
{
	bool debug = slab_forced_flags(k) & MM_SLAB_RED_ZONE;
	for (unsigned j = 0, i = 0; j < KMALLOC_CLASS_STEPS; j++) {
		while (kmalloc_sizes[i] < (j + 1) * MM_KMALLOC_MIN_SIZE)
			i++;
		k->kmalloc_class[j] = (uint8_t)i;
	}
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++) {
		size_t size = kmalloc_sizes[i];
		size_t align = 8;
		if (MM_IS_POW2(size) && !debug)
			align = MM_MIN(size, (size_t)MM_PAGE_SIZE);
		k->kmalloc[i] = slab_cache_new(k, kmalloc_names[i], size, align, 0, NULL, true);
		if (!k->kmalloc[i])
			return -MM_ENOMEM;
		/* the boot cache has id 0 and nothing else exists yet, so the
		 * kmalloc caches get consecutive ids: kfree's fast path turns a
		 * page-map entry's id into a class by subtracting KMALLOC_ID0 */
		MM_BUG_ON(k->kmalloc[i]->id != KMALLOC_ID0 + i);
		k->kmalloc_debug = k->kmalloc[i]->flags & SLAB_DEBUG_FLAGS;
	}
	return 0;
}

/* Internal metadata (descriptors, per-thread arrays): no magazines, so the
 * magazine layer can use it without recursion. */
void *slab_kmalloc_internal(struct mm_kmem *k, size_t size)
{
	MM_BUG_ON(size == 0 || size > MM_KMALLOC_MAX_CACHE_SIZE);
	return slab_alloc_direct(slab_kmalloc_slab(k, size), MM_GFP_KERNEL);
}

void slab_kfree_internal(struct mm_kmem *k, void *p)
{
	struct mm_slab *s = obj_to_slab(k, p);
	MM_BUG_ON(s == NULL);
	slab_free_direct(s->cache, p);
}

/* ---- large blocks ------------------------------------------------------- */

static unsigned get_order(size_t size)
{
	unsigned order = 0;
	while ((MM_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static MM_NOINLINE void *kmalloc_large(struct mm_kmem *k, size_t size, mm_gfp_t gfp)
{
	if (size > (MM_PAGE_SIZE << 30))
		return NULL;
	unsigned order = get_order(size);
	void *p = mm_ps_alloc(&k->ps, order, gfp);
	if (!p)
		return NULL;
	if (slab_pagemap_set_range(k, p, 1, PM_LARGE_TAG | ((uintptr_t)order << 1)) < 0) {
		mm_ps_free(&k->ps, p, order);
		return NULL;
	}
	if (gfp & MM_GFP_ZERO)
		memset(p, 0, MM_PAGE_SIZE << order);
	atomic_fetch_add(&k->large_pages, 1ul << order);
	atomic_fetch_add(&k->large_allocs, 1);
	return p;
}

static MM_NOINLINE void kfree_nonslab(struct mm_kmem *k, const void *p, uintptr_t e)
{
	if (!(e & PM_LARGE_TAG) || ((uintptr_t)p & (MM_PAGE_SIZE - 1)))
		slab_die(NULL, p, "kfree of a pointer this instance did not allocate");
	unsigned order = (unsigned)(e >> 1);
	slab_pagemap_clear_range(k, p, 1);
	atomic_fetch_sub(&k->large_pages, 1ul << order);
	atomic_fetch_sub(&k->large_allocs, 1);
	mm_ps_free(&k->ps, (void *)(uintptr_t)p, order);
}

/* ---- the API ------------------------------------------------------------ */

static MM_NOINLINE void *kmalloc_slow(struct mm_kmem *k, size_t size, mm_gfp_t gfp)
{
	if (mm_likely(size - 1 < MM_KMALLOC_MAX_CACHE_SIZE))
		return cache_alloc(kmalloc_slab_inline(k, size), gfp);
	if (size == 0)
		return MM_ZERO_SIZE_PTR;
	return kmalloc_large(k, size, gfp);
}

/* Fast path: the size's class (one table load) indexes the thread's
 * kmalloc tcaches, found through the thread memo; pop from the loaded
 * magazine. With debug checks, or before the thread has state, the memo
 * points at tcaches that are always empty. Anything else is a tail call to
 * kmalloc_slow, so this path saves no registers. */
void *mm_kmalloc(struct mm_kmem *k, size_t size, mm_gfp_t gfp)
{
	struct slab_tls_ent *te = slab_tls_ent_of(k);
	if (mm_likely(size - 1 < MM_KMALLOC_MAX_CACHE_SIZE && te->nonce == k->nonce &&
		      !(gfp & MM_GFP_ZERO))) {
		void *obj = tc_pop(&te->kmc[kmalloc_index(k, size)]);
		if (mm_likely(obj != NULL))
			return obj;
	}
	return kmalloc_slow(k, size, gfp);
}

/* Everything but the fast path: NULL, a page-map walk (remembering the
 * leaf in the thread memo), other caches, debug caches, magazine
 * exchanges, large blocks. */
static MM_NOINLINE void kfree_slow(struct mm_kmem *k, const void *p)
{
	if (MM_ZERO_OR_NULL_PTR(p))
		return;
	struct pm_node *leaf = pagemap_leaf(k->pm_root, p);
	uintptr_t vpn = (uintptr_t)p >> MM_PAGE_SHIFT;
	uintptr_t e = leaf ? atomic_load_explicit(&leaf->e[vpn & (PM_ENTRIES - 1)],
						  memory_order_acquire) : 0;
	struct slab_tls_ent *te = slab_tls_ent_of(k);
	if (leaf && te->nonce == k->nonce) {
		te->leaf_base = (uintptr_t)p & ~(PM_LEAF_SPAN - 1);
		te->leaf = leaf;
	}
	if (mm_likely(e && !(e & PM_LARGE_TAG))) {
		struct mm_slab *s = pm_entry_slab(e);
		cache_free(s->cache, (void *)(uintptr_t)p);
		return;
	}
	kfree_nonslab(k, p, e);
}

/* Fast path: the thread memo's page-map leaf covers p, the leaf entry's
 * cache id is a kmalloc class (not a debug cache: those carry
 * SLAB_ID_SLOW), and the thread's tcache of that class has room: push on
 * its loaded magazine. NULL and MM_ZERO_SIZE_PTR are below every leaf the
 * memo can hold, so they reach kfree_slow. */
void mm_kfree(struct mm_kmem *k, const void *p)
{
	struct slab_tls_ent *te = slab_tls_ent_of(k);
	uintptr_t off = (uintptr_t)p - te->leaf_base;
	if (mm_likely(off < PM_LEAF_SPAN && te->nonce == k->nonce)) {
		uintptr_t e = atomic_load_explicit(&te->leaf->e[off >> MM_PAGE_SHIFT],
						   memory_order_relaxed);
		unsigned cls = (unsigned)(e >> PM_ID_SHIFT) - KMALLOC_ID0;
		if (mm_likely(cls < KMALLOC_NR_CLASSES) && mm_likely(tc_push(&te->kmc[cls], p)))
			return;
	}
	kfree_slow(k, p);
}

size_t mm_ksize(struct mm_kmem *k, const void *p)
{
	if (MM_ZERO_OR_NULL_PTR(p))
		return 0;
	uintptr_t e = pagemap_get(k->pm_root, p);
	if (!e)
		return 0;
	if (e & PM_LARGE_TAG)
		return MM_PAGE_SIZE << (e >> 1);
	return pm_entry_slab(e)->cache->object_size;
}

void *mm_krealloc(struct mm_kmem *k, const void *p, size_t new_size, mm_gfp_t gfp)
{
	if (MM_ZERO_OR_NULL_PTR(p))
		return mm_kmalloc(k, new_size, gfp);
	if (new_size == 0) {
		mm_kfree(k, p);
		return MM_ZERO_SIZE_PTR;
	}
	size_t ks = mm_ksize(k, p);
	if (ks == 0)
		slab_die(NULL, p, "krealloc of a pointer this instance did not allocate");
	if (new_size <= ks)
		return (void *)(uintptr_t)p;
	void *n = mm_kmalloc(k, new_size, gfp & ~MM_GFP_ZERO);
	if (!n)
		return NULL;
	memcpy(n, p, ks);
	if (gfp & MM_GFP_ZERO)
		memset((char *)n + ks, 0, mm_ksize(k, n) - ks);
	mm_kfree(k, p);
	return n;
}
