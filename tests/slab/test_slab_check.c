/* The checkers find what they must: each test breaks one invariant by hand
 * (through the private structures), checks that mm_kmem_cache_check and
 * mm_kmem_check report -MM_ECORRUPT, repairs it and checks they pass again.
 * Also: in MMKIT_DEBUG builds every cache gets the debug flags. */
#include <string.h>

#include "testutil.h"

#include "slab_internal.h"

static struct mm_kmem *k;
static struct mm_kmem_cache *c;
static void *objs[300];

static int setup(void **state)
{
	(void)state;
	k = mm_kmem_create(&mm_page_source_mmap, MM_KMEM_NODEBUG);
	c = mm_kmem_cache_create(k, "victim", 64, 0, 0, NULL);
	if (!k || !c)
		return -1;
	for (int i = 0; i < 300; i++)
		objs[i] = mm_kmem_cache_alloc(c, 0);
	for (int i = 0; i < 300; i += 3)
		mm_kmem_cache_free(c, objs[i]);
	mm_kmem_cache_shrink(c); /* holes in the slabs */
	mm_kmem_cache_free(c, mm_kmem_cache_alloc(c, 0)); /* a loaded magazine */
	return mm_kmem_check(k);
}

static int teardown(void **state)
{
	(void)state;
	mm_kmem_destroy(k);
	return 0;
}

static void expect_corrupt(void)
{
	assert_int_equal(mm_kmem_cache_check(c), -MM_ECORRUPT);
	assert_int_equal(mm_kmem_check(k), -MM_ECORRUPT);
}

static void expect_ok(void)
{
	assert_int_equal(mm_kmem_cache_check(c), 0);
	assert_int_equal(mm_kmem_check(k), 0);
}

/* A partial slab with at least two free objects. */
static struct mm_slab *partial_slab(void)
{
	struct mm_slab *s;
	mm_list_for_each_entry(s, &c->partial, list)
		if ((unsigned)s->inuse + 2 <= c->num)
			return s;
	fail_msg("no partial slab with two free objects");
	return NULL;
}

static void test_freelist_duplicate(void **state)
{
	(void)state;
	struct mm_slab *s = partial_slab();
	assert_true((unsigned)s->inuse + 2 <= c->num);
	uint16_t save = s->freelist[s->inuse];
	s->freelist[s->inuse] = s->freelist[s->inuse + 1];
	expect_corrupt();
	s->freelist[s->inuse] = save;
	expect_ok();
}

static void test_freelist_out_of_bounds(void **state)
{
	(void)state;
	struct mm_slab *s = partial_slab();
	uint16_t save = s->freelist[c->num - 1];
	s->freelist[c->num - 1] = (uint16_t)c->num;
	expect_corrupt();
	s->freelist[c->num - 1] = save;
	expect_ok();
}

static void test_counters(void **state)
{
	(void)state;
	c->nr_partial++;
	expect_corrupt();
	c->nr_partial--;
	c->active++;
	expect_corrupt();
	c->active--;
	struct mm_slab *s = partial_slab();
	uint16_t inuse = s->inuse;
	s->inuse = (uint16_t)c->num; /* a full slab on the partial list */
	expect_corrupt();
	s->inuse = inuse;
	expect_ok();
}

static void test_object_free_and_in_magazine(void **state)
{
	(void)state;
	/* put a slab-free object into this thread's loaded magazine */
	struct mm_slab *s = partial_slab();
	void *free_obj = index_to_obj(c, s, s->freelist[s->inuse]);
	struct mm_tcache *tc = tcache_of(c);
	assert_non_null(tc);
	assert_true(tc->top < tc->end);
	*tc->top++ = free_obj;
	expect_corrupt();
	tc->top--;
	expect_ok();
	/* an object of another cache in the magazine */
	void *other = mm_kmalloc(k, 64, 0);
	*tc->top++ = other;
	expect_corrupt();
	tc->top--;
	mm_kfree(k, other);
	/* the same object twice */
	assert_true(tc->top > tc->loaded->obj);
	tc->top[0] = tc->top[-1];
	tc->top++;
	expect_corrupt();
	tc->top--;
	expect_ok();
	/* the magazine's guard word (obj[-1]) must stay NULL */
	tc->loaded->guard = free_obj;
	expect_corrupt();
	tc->loaded->guard = NULL;
	expect_ok();
}

static void test_list_and_pagemap(void **state)
{
	(void)state;
	struct mm_slab *s = partial_slab();
	struct mm_list *save = s->list.next;
	s->list.next = &s->list; /* a loop */
	expect_corrupt();
	s->list.next = save;
	expect_ok();
	uint32_t colour = s->colour;
	s->colour += 8; /* not a multiple of the colour step */
	expect_corrupt();
	s->colour = colour;
	expect_ok();
}

static void test_stale_pagemap_entry(void **state)
{
	(void)state;
	/* an entry pointing at a slab from a page that is not the slab's (as
	 * one left behind by a freed slab would) */
	struct mm_slab *s = partial_slab();
	struct pm_node *leaf = pagemap_leaf(k->pm_root, s->base);
	assert_non_null(leaf);
	_Atomic uintptr_t *slot = NULL;
	for (unsigned i = 0; i < PM_ENTRIES && !slot; i++)
		if (atomic_load(&leaf->e[i]) == 0)
			slot = &leaf->e[i];
	assert_non_null(slot);
	atomic_store(slot, PM_SLAB_ENTRY(s));
	assert_int_equal(mm_kmem_check(k), -MM_ECORRUPT);
	/* a large-block tag with no block */
	atomic_store(slot, PM_LARGE_TAG | (2ul << 1));
	assert_int_equal(mm_kmem_check(k), -MM_ECORRUPT);
	atomic_store(slot, 0);
	expect_ok();
}

static void test_debug_flags_by_build(void **state)
{
	(void)state;
	struct mm_kmem *d = mm_kmem_create(&mm_page_source_mmap, 0);
	struct mm_kmem_cache *x = mm_kmem_cache_create(d, "plain", 64, 0, 0, NULL);
	struct mm_kmem_cache_stats st, km;
	mm_kmem_cache_stats(x, &st);
	mm_kmem_cache_stats(mm_kmalloc_cache(d, 100), &km);
#ifdef MMKIT_DEBUG
	assert_int_equal(st.flags & MM_SLAB_DEBUG, MM_SLAB_DEBUG);
	assert_int_equal(km.flags & MM_SLAB_DEBUG, MM_SLAB_DEBUG);
#else
	assert_int_equal(st.flags & MM_SLAB_DEBUG, 0);
	assert_int_equal(km.flags & MM_SLAB_DEBUG, 0);
#endif
	/* selectable per cache in any build */
	struct mm_kmem_cache *y = mm_kmem_cache_create(d, "poisoned", 64, 0, MM_SLAB_POISON, NULL);
	mm_kmem_cache_stats(y, &st);
	assert_true(st.flags & MM_SLAB_POISON);
	mm_kmem_cache_destroy(y);
	mm_kmem_cache_destroy(x);
	mm_kmem_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freelist_duplicate),
		cmocka_unit_test(test_freelist_out_of_bounds),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_object_free_and_in_magazine),
		cmocka_unit_test(test_list_and_pagemap),
		cmocka_unit_test(test_stale_pagemap_entry),
		cmocka_unit_test(test_debug_flags_by_build),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
