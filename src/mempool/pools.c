/* Ready-made mempools (Linux's mempool_create_slab_pool,
 * mempool_create_kmalloc_pool and mempool_create_page_pool).
 *
 * Each wraps one allocator in alloc_fn/free_fn. The kmalloc and page pools
 * need two values as pool_data (instance + size, source + order) where Linux
 * gets by with one global allocator; those values live inside the pool
 * itself (struct mm_mempool.helper), so the helpers allocate nothing extra.
 * Costs and fragmentation are those of the wrapped allocator (slab objects,
 * kmalloc size classes, naturally aligned page blocks) plus mempool's O(1)
 * per operation; the reserve pins min_nr elements of it.
 * Reference: Linux mm/mempool.c (mempool_alloc_slab, mempool_kmalloc,
 * mempool_alloc_pages) and include/linux/mempool.h.
 */
#include "mmkit/slab.h"
#include "mempool_internal.h"

/* ---- slab ---------------------------------------------------------------
 * Not poisoned in debug builds: the cache may have a constructor whose
 * object state must survive a stay in the reserve (Linux instead forbids
 * constructors in slab-backed mempools). */

void *mm_mempool_alloc_slab(mm_gfp_t gfp, void *pool_data)
{
	return mm_kmem_cache_alloc(pool_data, gfp);
}

void mm_mempool_free_slab(void *element, void *pool_data)
{
	mm_kmem_cache_free(pool_data, element);
}

struct mm_mempool *mm_mempool_create_slab_pool(int min_nr, struct mm_kmem_cache *cache)
{
	if (!cache)
		return NULL;
	return mm_mempool_create(min_nr, mm_mempool_alloc_slab, mm_mempool_free_slab, cache);
}

/* ---- kmalloc ------------------------------------------------------------ */

static void *mempool_kmalloc(mm_gfp_t gfp, void *pool_data)
{
	struct mm_mempool *pool = pool_data;
	return mm_kmalloc(pool->helper.kmalloc.kmem, pool->helper.kmalloc.size, gfp);
}

static void mempool_kfree(void *element, void *pool_data)
{
	struct mm_mempool *pool = pool_data;
	mm_kfree(pool->helper.kmalloc.kmem, element);
}

struct mm_mempool *mm_mempool_create_kmalloc_pool(int min_nr, struct mm_kmem *kmem, size_t size)
{
	if (!kmem || size == 0)
		return NULL;
	struct mm_mempool *pool = mempool_new(min_nr, mempool_kmalloc, mempool_kfree, NULL);
	if (!pool)
		return NULL;
	pool->helper.kmalloc.kmem = kmem;
	pool->helper.kmalloc.size = size;
	pool->elem_size = size;
	pool->pool_data = pool;
	return mempool_fill(pool);
}

/* ---- pages -------------------------------------------------------------- */

static void *mempool_alloc_pages(mm_gfp_t gfp, void *pool_data)
{
	struct mm_mempool *pool = pool_data;
	return mm_ps_alloc(&pool->helper.pages.ps, pool->helper.pages.order, gfp);
}

static void mempool_free_pages(void *element, void *pool_data)
{
	struct mm_mempool *pool = pool_data;
	mm_ps_free(&pool->helper.pages.ps, element, pool->helper.pages.order);
}

struct mm_mempool *mm_mempool_create_page_pool(int min_nr, unsigned int order,
					       const struct mm_page_source *ps)
{
	if (!ps || !ps->ops)
		return NULL;
	struct mm_mempool *pool = mempool_new(min_nr, mempool_alloc_pages, mempool_free_pages, NULL);
	if (!pool)
		return NULL;
	pool->helper.pages.ps = *ps;
	pool->helper.pages.order = order;
	pool->elem_size = MM_PAGE_SIZE << order;
	pool->pool_data = pool;
	return mempool_fill(pool);
}
