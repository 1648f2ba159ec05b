/* The kernel allocation API of seed 003: alloc_pages with zones, kmalloc,
 * vmalloc (beyond 4 MiB, physically scattered), dma_alloc_coherent from
 * ZONE_DMA, the boot reservation and ioremap — through the kernel page
 * tables every process shares. */
#include <stdlib.h>
#include <string.h>

#include "mmkit/buddy.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "mmkit/slab.h"
#include "testutil.h"

static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };

static struct mm_machine *boot(enum mm_paging_mode mode, uint64_t reserve)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 48ULL << 20;
	cfg.paging = mode;
	cfg.reserve_bytes = reserve;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static uint64_t free_pages(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages;
}

static void test_vmalloc(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], 0);
		struct mm_task *t;
		/* a process that exists before the vmalloc area gets its tables */
		assert_int_equal(mm_task_create(m, "before", &t), 0);
		mm_context_switch(m, t);
		uint64_t free0 = free_pages(m);
		struct mm_meminfo m0;
		mm_machine_meminfo(m, &m0);
		uint64_t size = 6ULL << 20;   /* more than the buddy's 4 MiB blocks */
		uint64_t va = mm_vmalloc(m, size);
		assert_true(va != 0);
		for (uint64_t off = 0; off < size; off += 4096) {
			uint64_t v = va + off;
			assert_int_equal(mm_kernel_access(m, va + off + 8, &v, 8, MM_ACCESS_WRITE), 0);
		}
		bool scattered = false;
		int64_t prev = -1;
		for (uint64_t off = 0; off < size; off += 4096) {
			uint64_t v = 0;
			assert_int_equal(mm_kernel_access(m, va + off + 8, &v, 8, MM_ACCESS_READ), 0);
			assert_true(v == va + off);
			int64_t pa = mm_virt_to_phys(m, NULL, va + off);
			assert_true(pa > 0);
			if (prev >= 0 && pa != prev + 4096)
				scattered = true;
			prev = pa;
		}
		(void)scattered;   /* physically scattered is allowed, not required */
		/* the user cannot touch it */
		uint64_t v;
		assert_int_equal(mm_read(m, t, va, &v, 8), -MM_EFAULT);
		/* a process created afterwards shares the mapping */
		struct mm_task *t2;
		assert_int_equal(mm_task_create(m, "after", &t2), 0);
		mm_context_switch(m, t2);
		assert_int_equal(mm_kernel_access(m, va + 8, &v, 8, MM_ACCESS_READ), 0);
		assert_true(v == va);
		assert_int_equal(mm_machine_check(m), 0);
		char mi[4096];
		mm_show_meminfo(m, mi, sizeof(mi));
		assert_non_null(strstr(mi, "VmallocUsed:        6144 kB\n"));
		/* the guard page after the area is not mapped */
		assert_int_equal(mm_kernel_access(m, va + size, &v, 8, MM_ACCESS_READ), -MM_EFAULT);
		mm_vfree(m, va);
		assert_int_equal(mm_kernel_access(m, va + 8, &v, 8, MM_ACCESS_READ), -MM_EFAULT);
		assert_int_equal(mm_machine_check(m), 0);
		mm_exit(m, t2);
		mm_context_switch(m, t);
		/* the kernel tables made for the area stay, as Linux keeps them;
		 * the slab's page map may have grown a leaf for the area's
		 * descriptor (leaves are kept); every other slab page is back */
		uint64_t f1 = free_pages(m);
		struct mm_meminfo m1;
		mm_machine_meminfo(m, &m1);
		uint64_t pm = m1.slab_pagemap_pages - m0.slab_pagemap_pages;
		if (f1 + m1.kernel_pages + pm != free0)
			fail_msg("mode %d: free %llu + kernel %llu + page-map growth %llu != %llu", modes[i],
				 (unsigned long long)f1, (unsigned long long)m1.kernel_pages,
				 (unsigned long long)pm, (unsigned long long)free0);
		assert_int_equal(m1.slab_pages - m0.slab_pages, pm);
		assert_true(pm <= 1);
		mm_machine_destroy(m);
	}
}

static void test_pages_dma_kmalloc(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, 0);
	uint64_t free0 = free_pages(m);
	uint64_t handle = 0;
	uint64_t va = mm_dma_alloc_coherent(m, 40000, &handle);
	assert_true(va != 0);
	assert_true(handle + 65536 <= (16ULL << 20));   /* ZONE_DMA */
	assert_true(handle % 65536 == 0);               /* an order-4 block */
	uint8_t pattern[40000];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13);
	assert_int_equal(mm_kernel_access(m, va, pattern, sizeof(pattern), MM_ACCESS_WRITE), 0);
	/* physically contiguous: the device sees it at handle */
	assert_memory_equal(mm_phys_to_host(m, handle), pattern, sizeof(pattern));
	uint64_t p32 = mm_kernel_alloc_pages(m, MM_GFP_DMA32, 2);
	assert_true(p32 != 0);
	int64_t pa = mm_virt_to_phys(m, NULL, p32);
	assert_true(pa >= (int64_t)(16ULL << 20));       /* the highest allowed zone first */
	uint64_t k = mm_kernel_kmalloc(m, 100, 0);
	assert_true(k != 0);
	uint64_t v = 0xfeed;
	assert_int_equal(mm_kernel_access(m, k + 16, &v, 8, MM_ACCESS_WRITE), 0);
	int64_t kpa = mm_virt_to_phys(m, NULL, k + 16);
	assert_memory_equal(mm_phys_to_host(m, (uint64_t)kpa), &v, 8);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.kernel_pages, 16 + 4);
	assert_int_equal(mm_machine_check(m), 0);
	mm_kernel_kfree(m, k);
	mm_kernel_free_pages(m, p32, 2);
	mm_dma_free_coherent(m, 40000, va);
	assert_int_equal(free_pages(m), free0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_reserve_ioremap(void **state)
{
	(void)state;
	struct mm_machine *a = boot(MM_PAGING_4LEVEL, 0), *m = boot(MM_PAGING_4LEVEL, 4ULL << 20);
	struct mm_meminfo ma, mb;
	mm_machine_meminfo(a, &ma);
	mm_machine_meminfo(m, &mb);
	assert_int_equal(ma.total_pages - mb.total_pages, 1024);   /* mem= kept 4 MiB out */
	uint64_t top = 48ULL << 20, res = top - (4ULL << 20);
	assert_int_equal(mm_ioremap(m, 0x100000, 4096), 0);         /* not reserved: refused */
	uint64_t io = mm_ioremap(m, res + 0x1234, 8192);
	assert_true(io != 0);
	assert_int_equal(io & 0xfff, 0x234);
	uint64_t v = 0xabcdef;
	assert_int_equal(mm_kernel_access(m, io, &v, 8, MM_ACCESS_WRITE), 0);
	assert_memory_equal(mm_phys_to_host(m, res + 0x1234), &v, 8);
	char walk[2048];
	mm_show_pagewalk(m, NULL, io, walk, sizeof(walk));
	assert_non_null(strstr(walk, "PTE"));
	assert_int_equal(mm_machine_check(m), 0);
	mm_iounmap(m, io);
	assert_int_equal(mm_kernel_access(m, io, &v, 8, MM_ACCESS_READ), -MM_EFAULT);
	/* a fixed mapping: slot 3 below FIXADDR_TOP */
	uint64_t fx = mm_set_fixmap(m, 3, 0x5678);
	assert_int_equal(fx, 0xffffffffff7ff000ULL - 3 * 4096 + 0x678);
	v = 0x77;
	assert_int_equal(mm_kernel_access(m, fx, &v, 8, MM_ACCESS_WRITE), 0);
	assert_memory_equal(mm_phys_to_host(m, 0x5678), &v, 8);
	assert_int_equal(mm_machine_check(m), 0);
	mm_clear_fixmap(m, 3);
	assert_int_equal(mm_kernel_access(m, fx, &v, 8, MM_ACCESS_READ), -MM_EFAULT);
	mm_machine_destroy(a);
	mm_machine_destroy(m);
}

/* 32-bit with 1 GiB: the direct map stops at 896 MiB (high memory above),
 * vmalloc starts 8 MiB after it, the fixmap is at the top. */
static void test_direct_map_32(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 1ULL << 30;
	cfg.paging = MM_PAGING_2LEVEL;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	uint64_t v = 0x11;
	uint64_t last_low = 0xc0000000ULL + (896ULL << 20) - 8;
	assert_int_equal(mm_kernel_access(m, last_low, &v, 8, MM_ACCESS_WRITE), 0);
	assert_memory_equal(mm_phys_to_host(m, (896ULL << 20) - 8), &v, 8);
	assert_int_equal(mm_kernel_access(m, last_low + 8, &v, 8, MM_ACCESS_READ), -MM_EFAULT);
	uint64_t va = mm_vmalloc(m, 8192);
	assert_int_equal(va, 0xc0000000ULL + (896ULL << 20) + (8ULL << 20));
	assert_int_equal(mm_kernel_access(m, va, &v, 8, MM_ACCESS_WRITE), 0);
	assert_int_equal(mm_set_fixmap(m, 0, 0x3000), 0xfffff000ULL);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static uint64_t meminfo_kb(const char *buf, const char *name)
{
	const char *p = strstr(buf, name);
	assert_non_null(p);
	return strtoull(p + strlen(name), NULL, 10);
}

/* 32-bit with 1.5 GiB: zones DMA [0, 16 MiB), Normal [16 MiB, 896 MiB),
 * HighMem above. Kernel allocations (pages, kmalloc, page tables, slab)
 * come from low memory and keep a direct-map address even when HighMem
 * has room; user pages come from HighMem first; the views show it. */
static void test_highmem_32(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 3ULL << 29;
	cfg.paging = MM_PAGING_2LEVEL;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_buddy *b = mm_machine_buddy(m);
	struct mm_zone *dma = mm_buddy_zone(b, MM_ZONE_DMA);
	struct mm_zone *nrm = mm_buddy_zone(b, MM_ZONE_NORMAL);
	struct mm_zone *high = mm_buddy_zone(b, MM_ZONE_HIGHMEM);
	assert_non_null(dma);
	assert_non_null(nrm);
	assert_non_null(high);
	assert_null(mm_buddy_zone(b, MM_ZONE_DMA32));
	assert_int_equal(mm_zone_start_pfn(nrm), (16ULL << 20) >> 12);
	assert_int_equal(mm_zone_spanned_pages(nrm), (880ULL << 20) >> 12);
	assert_int_equal(mm_zone_start_pfn(high), (896ULL << 20) >> 12);
	assert_int_equal(mm_zone_spanned_pages(high), (640ULL << 20) >> 12);
	assert_string_equal(mm_zone_name(high), "HighMem");

	/* kernel pages: always below 896 MiB, at a direct-map address */
	uint64_t high_free = mm_zone_free_pages(high);
	uint64_t kp[64];
	for (int i = 0; i < 64; i++) {
		kp[i] = mm_kernel_alloc_pages(m, 0, 4);
		assert_true(kp[i] != 0);
		assert_true(kp[i] >= 0xc0000000ULL && kp[i] + (16 << 12) <= 0xc0000000ULL + (896ULL << 20));
	}
	uint64_t km = mm_kernel_kmalloc(m, 200, 0);
	assert_true(km >= 0xc0000000ULL && km < 0xc0000000ULL + (896ULL << 20));

	/* user pages: from HighMem; the process's page tables and VMAs (and
	 * its task and mm) from low memory */
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "hm", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 64 << 12, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	for (int i = 0; i < 64; i++) {
		uint64_t v = 0x1234 + (uint64_t)i;
		assert_int_equal(mm_access(m, t, (uint64_t)a + ((uint64_t)i << 12), &v, 8,
					   MM_ACCESS_WRITE), 0);
		int64_t pa = mm_virt_to_phys(m, t, (uint64_t)a + ((uint64_t)i << 12));
		assert_true(pa >= (int64_t)(896ULL << 20));
		/* the sim reaches a highmem frame through its host pointer */
		assert_memory_equal(mm_phys_to_host(m, (uint64_t)pa), &v, 8);
	}
	assert_int_equal(mm_zone_free_pages(high), high_free - 64);

	/* buddyinfo: three zones, in order */
	char buf[8192];
	mm_show_buddyinfo(m, buf, sizeof(buf));
	const char *d = strstr(buf, "zone      DMA ");
	const char *n = strstr(buf, "zone   Normal ");
	const char *h = strstr(buf, "zone  HighMem ");
	assert_non_null(d);
	assert_non_null(n);
	assert_non_null(h);
	assert_true(d < n && n < h);
	assert_null(strstr(buf, "DMA32"));

	/* meminfo: High + Low = Mem, for totals and free */
	mm_show_meminfo(m, buf, sizeof(buf));
	uint64_t tot = meminfo_kb(buf, "MemTotal:"), fr = meminfo_kb(buf, "MemFree:");
	uint64_t ht = meminfo_kb(buf, "HighTotal:"), hf = meminfo_kb(buf, "HighFree:");
	uint64_t lt = meminfo_kb(buf, "LowTotal:"), lf = meminfo_kb(buf, "LowFree:");
	assert_int_equal(ht + lt, tot);
	assert_int_equal(hf + lf, fr);
	assert_int_equal(ht, mm_zone_managed_pages(high) * 4);
	assert_int_equal(hf, mm_zone_free_pages(high) * 4);
	assert_true(ht == 640ULL << 10);
	assert_true(hf < ht && lf < lt);

	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	for (int i = 0; i < 64; i++)
		mm_kernel_free_pages(m, kp[i], 4);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* x86-64 has no high memory: meminfo has no High/Low rows. */
static void test_no_highmem_64(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, 0);
	assert_null(mm_buddy_zone(mm_machine_buddy(m), MM_ZONE_HIGHMEM));
	char buf[8192];
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_null(strstr(buf, "HighTotal:"));
	assert_null(strstr(buf, "LowFree:"));
	mm_machine_destroy(m);
}

/* Kernel objects get the slab's debug checks (red zones, poison, free-time
 * checks) in MMKIT_DEBUG builds, and exact geometry without them. */
static void test_kernel_slab_debug(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, 0);
	struct mm_kmem *k = mm_machine_kmem(m);
	struct mm_kmem_cache *caches[] = { mm_kmalloc_cache(k, 64), mm_kmalloc_cache(k, 192),
					   mm_kmalloc_cache(k, 4096) };
	for (size_t i = 0; i < MM_ARRAY_SIZE(caches); i++) {
		assert_non_null(caches[i]);
		struct mm_kmem_cache_stats st;
		mm_kmem_cache_stats(caches[i], &st);
#ifdef MMKIT_DEBUG
		assert_int_equal(st.flags & MM_SLAB_DEBUG, MM_SLAB_DEBUG);
#else
		assert_int_equal(st.flags & MM_SLAB_DEBUG, 0);
#endif
	}
	/* a process (task, mm, VMAs, reverse-map items: all kernel
	 * objects) lives and dies under those checks */
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "dbg", &t), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmalloc),
		cmocka_unit_test(test_pages_dma_kmalloc),
		cmocka_unit_test(test_reserve_ioremap),
		cmocka_unit_test(test_direct_map_32),
		cmocka_unit_test(test_highmem_32),
		cmocka_unit_test(test_no_highmem_64),
		cmocka_unit_test(test_kernel_slab_debug),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
