/* kmem_cache rules: slab geometry (order, objects per slab, waste), colour
 * cycling, constructors run once per slab build, the three lists, shrink and
 * the empty-slab bound, exact /proc/slabinfo text, destroy returning every
 * page (also magazines of a live thread). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/slab.h"

struct fixture {
	struct mm_fault_source fs;
	const struct mm_page_source *ps;
	struct mm_kmem *k;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.ps = mm_fault_source_init(&f.fs, &mm_page_source_mmap);
	f.k = mm_kmem_create(f.ps, MM_KMEM_NODEBUG);
	if (!f.k)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mm_kmem_destroy(f->k);
	/* every page back to the source */
	return atomic_load(&f->fs.pages_out) == 0 ? 0 : -1;
}

/* ---- geometry ------------------------------------------------------------ */

struct geom {
	size_t size;
	unsigned order, num;
	int off_slab;
	unsigned colours;
};

/* Derived by hand from the documented rule (48-byte header + 2 bytes per
 * object on-slab below 512 bytes; smallest order <= 3 with >= 8 objects and
 * leftover <= 1/16, then 1/8, 1/4; else the smallest order holding one). */
static const struct geom geoms[] = {
	{ 64, 0, 61, 0, 1 },    /* 176 + 61*64 = 4080, leftover 16 */
	{ 100, 0, 38, 0, 1 },   /* 104-byte stride: 128 + 38*104 = 4080 */
	{ 200, 0, 20, 0, 1 },   /* 88 + 4000 = 4088 */
	{ 300, 0, 13, 0, 2 },   /* leftover 116: colours 0 and 64 */
	{ 416, 1, 19, 0, 4 },   /* order 0 leaves 280 > 4096/16: order 1, leftover 200 */
	{ 700, 1, 11, 1, 8 },   /* 704 stride, off-slab; order 1 leftover 448 */
	{ 1024, 1, 8, 1, 1 },
	{ 3000, 3, 10, 1, 44 }, /* 1/16 fails at every order: 1/8 at order 3 */
	{ 20000, 3, 1, 1, 200 }, /* one object: fallback to the smallest order */
	{ 40000, 4, 1, 1, 400 },
};

static void test_geometry(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(geoms); i++) {
		const struct geom *g = &geoms[i];
		struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "geom", g->size, 0, 0, NULL);
		assert_non_null(c);
		struct mm_kmem_cache_stats st;
		mm_kmem_cache_stats(c, &st);
		if (st.order != g->order || st.objs_per_slab != g->num ||
		    st.off_slab != g->off_slab || st.colours != g->colours)
			fail_msg("size %zu: order %u num %u off %d colours %u", g->size, st.order,
				 st.objs_per_slab, st.off_slab, st.colours);
		size_t bytes = MM_PAGE_SIZE << st.order;
		assert_int_equal(st.waste, bytes - (size_t)st.objs_per_slab * st.size);
		mm_kmem_cache_destroy(c);
	}
	/* invalid arguments change nothing */
	assert_null(mm_kmem_cache_create(f->k, "zero", 0, 0, 0, NULL));
	assert_null(mm_kmem_cache_create(f->k, "huge", MM_SLAB_MAX_OBJ_SIZE + 1, 0, 0, NULL));
	assert_null(mm_kmem_cache_create(f->k, "align", 64, 24, 0, NULL));
	assert_int_equal(mm_kmem_check(f->k), 0);
}

static void test_alignment(void **state)
{
	struct fixture *f = *state;
	size_t aligns[] = { 8, 16, 64, 256, 1024 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(aligns); i++) {
		struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "al", 40, aligns[i], 0, NULL);
		assert_non_null(c);
		void *o[100];
		for (int j = 0; j < 100; j++) {
			o[j] = mm_kmem_cache_alloc(c, 0);
			assert_non_null(o[j]);
			assert_int_equal((uintptr_t)o[j] % aligns[i], 0);
			memset(o[j], 0x5a, 40);
		}
		assert_int_equal(mm_kmem_cache_check(c), 0);
		for (int j = 0; j < 100; j++)
			mm_kmem_cache_free(c, o[j]);
		mm_kmem_cache_destroy(c);
	}
}

/* ---- colouring ----------------------------------------------------------- */

static void test_colour_cycle(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c =
		mm_kmem_cache_create(f->k, "colour", 700, 0, MM_SLAB_NO_MAGAZINES, NULL);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	assert_int_equal(st.colours, 8);
	assert_int_equal(st.colour_off, 64);
	const unsigned nslabs = 20;
	void *objs[20 * 11];
	unsigned n = 0;
	for (unsigned s = 0; s < nslabs; s++) {
		void *first = NULL;
		for (unsigned j = 0; j < st.objs_per_slab; j++) {
			void *o = mm_kmem_cache_alloc(c, 0);
			assert_non_null(o);
			if (!first)
				first = o;
			objs[n++] = o;
		}
		long colour = mm_kmem_obj_colour(f->k, first);
		assert_int_equal(colour, (long)((s % st.colours) * st.colour_off));
		/* the first object of an off-slab slab sits at the colour offset */
		size_t slab_bytes = MM_PAGE_SIZE << st.order;
		assert_int_equal((uintptr_t)first & (slab_bytes - 1), (uintptr_t)colour);
	}
	assert_int_equal(mm_kmem_cache_check(c), 0);
	for (unsigned i = 0; i < n; i++)
		mm_kmem_cache_free(c, objs[i]);
	mm_kmem_cache_destroy(c);
}

/* ---- constructors ------------------------------------------------------- */

struct ctor_obj {
	uint64_t magic;
	uint64_t serial;
	char pad[48];
};

static _Atomic unsigned long ctor_count;

static void ctor_fn(void *p)
{
	struct ctor_obj *o = p;
	o->magic = 0xC0FFEEull;
	o->serial = atomic_fetch_add(&ctor_count, 1);
}

static void test_ctor_once_per_slab(void **state)
{
	struct fixture *f = *state;
	for (int mags = 0; mags < 2; mags++) {
		atomic_store(&ctor_count, 0);
		struct mm_kmem_cache *c = mm_kmem_cache_create(
			f->k, "ctor", sizeof(struct ctor_obj), 0, mags ? 0 : MM_SLAB_NO_MAGAZINES,
			ctor_fn);
		struct mm_kmem_cache_stats st;
		mm_kmem_cache_stats(c, &st);
		unsigned total = 3 * st.objs_per_slab;
		struct ctor_obj *o[3 * 64];
		for (int round = 0; round < 4; round++) {
			for (unsigned i = 0; i < total; i++) {
				o[i] = mm_kmem_cache_alloc(c, 0);
				assert_non_null(o[i]);
				/* constructed state, also when reused */
				assert_int_equal(o[i]->magic, 0xC0FFEEull);
			}
			mm_kmem_cache_stats(c, &st);
			/* one call per object per slab ever built, none on reuse */
			assert_int_equal(atomic_load(&ctor_count), st.grows * st.objs_per_slab);
			assert_int_equal(st.ctor_calls, st.grows * st.objs_per_slab);
			for (unsigned i = 0; i < total; i++)
				mm_kmem_cache_free(c, o[i]);
			assert_int_equal(mm_kmem_cache_check(c), 0);
		}
		mm_kmem_cache_stats(c, &st);
		/* 3 slabs at first; later rounds build at most the slab that the
		 * empty bound (2) gave back, so far fewer than 4 * 3 */
		assert_true(st.grows >= 3 && st.grows <= 6);
		assert_int_equal(atomic_load(&ctor_count), st.grows * st.objs_per_slab);
		mm_kmem_cache_destroy(c);
	}
}

/* ---- lists, shrink, empty bound ------------------------------------------- */

static void expect_lists(struct mm_kmem_cache *c, unsigned long full, unsigned long partial,
			 unsigned long empty, unsigned long active)
{
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	if (st.full_slabs != full || st.partial_slabs != partial || st.empty_slabs != empty ||
	    st.active_objs != active)
		fail_msg("lists %lu/%lu/%lu active %lu, expected %lu/%lu/%lu active %lu",
			 st.full_slabs, st.partial_slabs, st.empty_slabs, st.active_objs, full,
			 partial, empty, active);
	assert_int_equal(mm_kmem_cache_check(c), 0);
}

static void test_list_transitions(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c =
		mm_kmem_cache_create(f->k, "lists", 64, 0, MM_SLAB_NO_MAGAZINES, NULL);
	const unsigned num = 61;
	void *o[3 * 61];
	expect_lists(c, 0, 0, 0, 0);
	o[0] = mm_kmem_cache_alloc(c, 0);
	expect_lists(c, 0, 1, 0, 1);
	for (unsigned i = 1; i < num; i++)
		o[i] = mm_kmem_cache_alloc(c, 0);
	expect_lists(c, 1, 0, 0, num);
	o[num] = mm_kmem_cache_alloc(c, 0);
	expect_lists(c, 1, 1, 0, num + 1);
	mm_kmem_cache_free(c, o[5]); /* full -> partial */
	expect_lists(c, 0, 2, 0, num);
	mm_kmem_cache_free(c, o[num]); /* partial -> empty */
	expect_lists(c, 0, 1, 1, num - 1);
	o[5] = mm_kmem_cache_alloc(c, 0); /* partial first: the hole is filled */
	expect_lists(c, 1, 0, 1, num);
	for (unsigned i = 0; i < num; i++)
		mm_kmem_cache_free(c, o[i]);
	expect_lists(c, 0, 0, 2, 0);
	mm_kmem_cache_destroy(c);
}

static void test_shrink_exactly_empty(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c =
		mm_kmem_cache_create(f->k, "shrink", 300, 0, MM_SLAB_NO_MAGAZINES, NULL);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	const unsigned num = 13;
	assert_int_equal(st.objs_per_slab, num);
	assert_int_equal(st.empty_max, 64); /* 256 KiB of order-0 slabs, at most 64 */
	const unsigned emax = st.empty_max, nslab = emax + 4;
	void **o = calloc(nslab * num, sizeof(*o));
	for (unsigned i = 0; i < nslab * num; i++)
		o[i] = mm_kmem_cache_alloc(c, 0);
	expect_lists(c, nslab, 0, 0, nslab * num);
	uint64_t out0 = atomic_load(&f->fs.pages_out);
	/* slabs 0 .. emax-1 empty, slab emax half, slab emax+1 one object gone */
	unsigned h = emax * num, g = (emax + 1) * num;
	for (unsigned i = 0; i < h; i++)
		mm_kmem_cache_free(c, o[i]);
	for (unsigned i = h; i < h + 6; i++)
		mm_kmem_cache_free(c, o[i]);
	mm_kmem_cache_free(c, o[g]);
	expect_lists(c, 2, 2, emax, 2 * num + 7 + 12);
	assert_int_equal(atomic_load(&f->fs.pages_out), out0); /* empties kept */
	/* one more empty slab exceeds the bound: its pages go back at once */
	for (unsigned i = g + num; i < g + 2 * num; i++)
		mm_kmem_cache_free(c, o[i]);
	expect_lists(c, 1, 2, emax, num + 7 + 12);
	assert_int_equal(atomic_load(&f->fs.pages_out), out0 - 1);
	/* shrink frees exactly the empty slabs */
	assert_int_equal(mm_kmem_cache_shrink(c), (int)emax);
	expect_lists(c, 1, 2, 0, num + 7 + 12);
	assert_int_equal(atomic_load(&f->fs.pages_out), out0 - 1 - emax);
	assert_int_equal(mm_kmem_cache_shrink(c), 0);
	for (unsigned i = h + 6; i < nslab * num; i++)
		if (i != g && (i < g + num || i >= g + 2 * num))
			mm_kmem_cache_free(c, o[i]);
	expect_lists(c, 0, 0, 3, 0);
	free(o);
	mm_kmem_cache_destroy(c);
}

static void test_shrink_flushes_magazines(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "mags", 128, 0, 0, NULL);
	void *o[500];
	for (int i = 0; i < 500; i++)
		o[i] = mm_kmem_cache_alloc(c, 0);
	for (int i = 0; i < 500; i++)
		mm_kmem_cache_free(c, o[i]);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	assert_true(st.active_objs > 0);  /* parked in magazines and the depot */
	assert_true(st.depot_full > 0 && st.depot_full <= st.depot_max);
	assert_int_equal(mm_kmem_cache_check(c), 0);
	int pages = mm_kmem_cache_shrink(c);
	mm_kmem_cache_stats(c, &st);
	assert_int_equal(st.active_objs, 0);
	assert_int_equal(st.depot_full, 0);
	assert_int_equal(st.full_slabs + st.partial_slabs + st.empty_slabs, 0);
	assert_true(pages > 0);
	assert_int_equal(mm_kmem_check(f->k), 0);
	/* shrink_all drains depots (not this thread's magazines) */
	for (int i = 0; i < 500; i++)
		o[i] = mm_kmem_cache_alloc(c, 0);
	for (int i = 0; i < 500; i++)
		mm_kmem_cache_free(c, o[i]);
	assert_true(mm_kmem_shrink_all(f->k) > 0);
	mm_kmem_cache_stats(c, &st);
	assert_int_equal(st.depot_full, 0);
	assert_int_equal(st.active_objs, 0); /* this thread's magazines too */
	assert_int_equal(st.full_slabs + st.partial_slabs + st.empty_slabs, 0);
	mm_kmem_cache_destroy(c);
}

/* ---- slabinfo ------------------------------------------------------------ */

static const char expected_slabinfo[] =
	"slabinfo - version: 2.1\n"
	"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "
	"tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
	"<sharedavail>\n"
	"xfs_ili                0      0    208   19    1 : tunables    0    0    0 : slabdata      0      0      0\n"
	"btrfs_ordered_extent      0      0    416   19    2 : tunables    0    0    0 : slabdata      0      0      0\n"
	"bio-312               12     12    320   12    1 : tunables    0    0    0 : slabdata      1      1      0\n"
	"test_a                25     44    704   11    2 : tunables    0    0    0 : slabdata      3      4      0\n"
	"kmem_magazine          0      0   1024    8    2 : tunables    0    0    0 : slabdata      0      0      0\n"
	"kmalloc-8k             0      0   8192    4    8 : tunables    8    4    4 : slabdata      0      0      0\n"
	"kmalloc-4k             0      0   4096    8    8 : tunables   24   12    4 : slabdata      0      0      0\n"
	"kmalloc-2k             0      0   2048    8    4 : tunables   24   12    4 : slabdata      0      0      0\n"
	"kmalloc-1k             0      0   1024    8    2 : tunables   54   27    4 : slabdata      0      0      0\n"
	"kmalloc-512            0      0    512    8    1 : tunables   54   27    4 : slabdata      0      0      0\n"
	"kmalloc-256            0      0    256   15    1 : tunables  120   60    4 : slabdata      0      0      0\n"
	"kmalloc-192            0      0    192   20    1 : tunables  120   60    5 : slabdata      0      0      0\n"
	"kmalloc-128            0      0    128   31    1 : tunables  120   60    8 : slabdata      0      0      0\n"
	"kmalloc-96             4     41     96   41    1 : tunables  120   60   11 : slabdata      1      1      0\n"
	"kmalloc-64             0      0     64   61    1 : tunables  120   60   17 : slabdata      0      0      0\n"
	"kmalloc-32             0      0     32  119    1 : tunables  120   60   32 : slabdata      0      0      0\n"
	"kmalloc-16             0      0     16  224    1 : tunables  120   60   32 : slabdata      0      0      0\n"
	"kmalloc-8              0      0      8  404    1 : tunables  120   60   32 : slabdata      0      0      0\n"
	"kmem_cache            18     18    448   18    2 : tunables    0    0    0 : slabdata      1      1      0\n";

static void test_slabinfo_text(void **state)
{
	(void)state;
	/* a fresh instance so the kmalloc lines are known */
	struct mm_fault_source fs;
	const struct mm_page_source *ps = mm_fault_source_init(&fs, &mm_page_source_mmap);
	struct mm_kmem *k = mm_kmem_create(ps, MM_KMEM_NODEBUG);
	assert_non_null(k);
	unsigned long nm = MM_SLAB_NO_MAGAZINES;
	struct mm_kmem_cache *a = mm_kmem_cache_create(k, "test_a", 700, 0, nm, NULL);
	struct mm_kmem_cache *b = mm_kmem_cache_create(k, "bio-312", 320, 0, nm, NULL);
	struct mm_kmem_cache *c = mm_kmem_cache_create(k, "btrfs_ordered_extent", 416, 0, nm, NULL);
	struct mm_kmem_cache *d = mm_kmem_cache_create(k, "xfs_ili", 208, 0, nm, NULL);
	assert_true(a && b && c && d);
	void *oa[44], *ob[12];
	for (int i = 0; i < 44; i++)
		oa[i] = mm_kmem_cache_alloc(a, 0);
	for (int i = 0; i < 12; i++)
		ob[i] = mm_kmem_cache_alloc(b, 0);
	for (int i = 0; i < 11; i++) /* the first slab becomes empty */
		mm_kmem_cache_free(a, oa[i]);
	for (int i = 11; i < 19; i++) /* the second partial */
		mm_kmem_cache_free(a, oa[i]);
	char buf[4096];
	size_t n = mm_kmem_slabinfo(k, buf, sizeof(buf));
	assert_int_equal(n, strlen(expected_slabinfo));
	assert_string_equal(buf, expected_slabinfo);
	/* cut output: snprintf semantics */
	char small[64];
	assert_int_equal(mm_kmem_slabinfo(k, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, expected_slabinfo, sizeof(small) - 1);
	/* the FILE* form writes the same bytes */
	char *mem = NULL;
	size_t memlen = 0;
	FILE *mf = open_memstream(&mem, &memlen);
	assert_int_equal(mm_kmem_slabinfo_print(k, mf), 0);
	fclose(mf);
	assert_string_equal(mem, expected_slabinfo);
	free(mem);
	for (int i = 19; i < 44; i++)
		mm_kmem_cache_free(a, oa[i]);
	for (int i = 0; i < 12; i++)
		mm_kmem_cache_free(b, ob[i]);
	mm_kmem_cache_destroy(d);
	mm_kmem_cache_destroy(c);
	mm_kmem_cache_destroy(b);
	mm_kmem_cache_destroy(a);
	mm_kmem_destroy(k);
	assert_int_equal(atomic_load(&fs.pages_out), 0);
}

/* ---- destroy --------------------------------------------------------------- */

struct holder {
	struct mm_kmem_cache *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stage;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	void *o[200];
	for (int i = 0; i < 200; i++)
		o[i] = mm_kmem_cache_alloc(h->c, 0);
	for (int i = 0; i < 200; i++)
		mm_kmem_cache_free(h->c, o[i]); /* now in this thread's magazines */
	pthread_mutex_lock(&h->mu);
	h->stage = 1;
	pthread_cond_broadcast(&h->cv);
	while (h->stage != 2)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	return NULL; /* exits after its cache is gone */
}

static void test_destroy_reclaims_live_magazines(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_stats ks;
	mm_kmem_stats(f->k, &ks);
	uint64_t out0 = atomic_load(&f->fs.pages_out), pm0 = ks.pagemap_pages;
	struct holder h = { .c = mm_kmem_cache_create(f->k, "held", 96, 0, 0, NULL),
			    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	pthread_t t;
	pthread_create(&t, NULL, holder_thread, &h);
	pthread_mutex_lock(&h.mu);
	while (h.stage != 1)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(h.c, &st);
	assert_true(st.active_objs > 0); /* the live thread holds objects */
	assert_int_equal(mm_kmem_check(f->k), 0);
	mm_kmem_cache_destroy(h.c);
	char buf[4096];
	mm_kmem_slabinfo(f->k, buf, sizeof(buf));
	assert_null(strstr(buf, "\nheld "));
	assert_int_equal(mm_kmem_check(f->k), 0);
	pthread_mutex_lock(&h.mu);
	h.stage = 2;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(t, NULL);
	assert_int_equal(mm_kmem_check(f->k), 0);
	mm_kmem_shrink_all(f->k);
	/* the cache's pages are back; only per-thread metadata of this thread
	 * (kmalloc-64) may remain, and page-map nodes (kept for the instance's
	 * life) when a slab landed in a 2 MiB range not mapped before */
	mm_kmem_stats(f->k, &ks);
	assert_true(atomic_load(&f->fs.pages_out) - ks.pagemap_pages <= out0 - pm0 + 1);
}

static void *churn_thread(void *arg)
{
	struct mm_kmem_cache *c = arg;
	void *o[300];
	for (int i = 0; i < 300; i++)
		o[i] = mm_kmem_cache_alloc(c, 0);
	for (int i = 0; i < 300; i++)
		mm_kmem_cache_free(c, o[i]);
	return NULL;
}

static void test_thread_exit_returns_magazines(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "exiting", 256, 0, 0, NULL);
	struct mm_kmem_stats ks0, ks1;
	mm_kmem_stats(f->k, &ks0);
	pthread_t t;
	pthread_create(&t, NULL, churn_thread, c);
	pthread_join(t, NULL);
	mm_kmem_stats(f->k, &ks1);
	assert_int_equal(ks1.threads, ks0.threads); /* its state is gone */
	struct mm_kmem_cache_stats st;
	mm_kmem_cache_stats(c, &st);
	/* what the thread held is in the depot now, nowhere else */
	assert_true(st.active_objs > 0);
	assert_int_equal(st.active_objs, st.depot_objs);
	assert_int_equal(mm_kmem_check(f->k), 0);
	mm_kmem_shrink_all(f->k);
	mm_kmem_cache_stats(c, &st);
	assert_int_equal(st.active_objs, 0);
	assert_int_equal(st.full_slabs + st.partial_slabs + st.empty_slabs, 0);
	mm_kmem_cache_destroy(c);
}

static void test_destroy_with_live_objects_keeps_cache(void **state)
{
	struct fixture *f = *state;
	struct mm_kmem_cache *c = mm_kmem_cache_create(f->k, "leaky", 32, 0, 0, NULL);
	void *p = mm_kmem_cache_alloc(c, 0);
	mm_kmem_cache_destroy(c); /* prints a warning, keeps the cache */
	char buf[4096];
	mm_kmem_slabinfo(f->k, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nleaky "));
	mm_kmem_cache_free(c, p);
	mm_kmem_cache_destroy(c);
	mm_kmem_slabinfo(f->k, buf, sizeof(buf));
	assert_null(strstr(buf, "\nleaky "));
	assert_int_equal(mm_kmem_check(f->k), 0);
}

static void test_instances_coexist(void **state)
{
	(void)state;
	struct mm_fault_source fs1, fs2;
	struct mm_kmem *k1 = mm_kmem_create(mm_fault_source_init(&fs1, &mm_page_source_mmap), 0);
	struct mm_kmem *k2 = mm_kmem_create(mm_fault_source_init(&fs2, &mm_page_source_mmap), 0);
	assert_true(k1 && k2);
	void *a = mm_kmalloc(k1, 50, 0), *b = mm_kmalloc(k2, 50, 0);
	assert_true(a && b && a != b);
	assert_int_equal(mm_ksize(k1, a), 64);
	assert_int_equal(mm_ksize(k2, a), 0); /* not k2's */
	mm_kfree(k1, a);
	mm_kfree(k2, b);
	mm_kmem_destroy(k1);
	assert_int_equal(atomic_load(&fs1.pages_out), 0);
	void *c = mm_kmalloc(k2, 5000, 0); /* k2 still works */
	assert_non_null(c);
	mm_kfree(k2, c);
	assert_int_equal(mm_kmem_check(k2), 0);
	mm_kmem_destroy(k2);
	assert_int_equal(atomic_load(&fs2.pages_out), 0);
}

/* One thread alternating between more instances than its memo holds, and
 * instances destroyed and created again (perhaps at the same address):
 * every object goes back to the instance it came from. */
static void test_memo_many_instances(void **state)
{
	(void)state;
	enum { NK = 6, NOBJ = 64 };
	struct mm_fault_source fs[NK];
	struct mm_kmem *k[NK];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < NK; i++) {
			k[i] = mm_kmem_create(mm_fault_source_init(&fs[i], &mm_page_source_mmap), 0);
			assert_non_null(k[i]);
		}
		static unsigned char *o[NK][NOBJ];
		for (int rep = 0; rep < 50; rep++) {
			for (int j = 0; j < NOBJ; j++)
				for (int i = 0; i < NK; i++) {
					o[i][j] = mm_kmalloc(k[i], 24 + (size_t)j * 8, 0);
					memset(o[i][j], i * 16 + j, 24);
				}
			for (int j = 0; j < NOBJ; j++)
				for (int i = 0; i < NK; i++) {
					for (int b = 0; b < 24; b++)
						assert_int_equal(o[i][j][b], (unsigned char)(i * 16 + j));
					assert_int_equal(mm_ksize(k[i], o[i][j]) >= 24, 1);
					mm_kfree(k[i], o[i][j]);
				}
		}
		for (int i = 0; i < NK; i++) {
			assert_int_equal(mm_kmem_check(k[i]), 0);
			mm_kmem_destroy(k[i]);
			assert_int_equal(atomic_load(&fs[i].pages_out), 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_colour_cycle),
		cmocka_unit_test(test_ctor_once_per_slab),
		cmocka_unit_test(test_list_transitions),
		cmocka_unit_test(test_shrink_exactly_empty),
		cmocka_unit_test(test_shrink_flushes_magazines),
		cmocka_unit_test(test_slabinfo_text),
		cmocka_unit_test(test_destroy_reclaims_live_magazines),
		cmocka_unit_test(test_thread_exit_returns_magazines),
		cmocka_unit_test(test_destroy_with_live_objects_keeps_cache),
		cmocka_unit_test(test_instances_coexist),
		cmocka_unit_test(test_memo_many_instances),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
