/* Unit tests of the simulated machine: boot, page tables, TLB, faults,
 * mmap/munmap/mprotect/brk, fork/COW, exit — with exact counters. */
#include <stdlib.h>
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };

static struct mm_machine *boot(enum mm_paging_mode mode, bool pcid)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.paging = mode;
	cfg.pcid = pcid;
	struct mm_machine *m = NULL;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	assert_non_null(m);
	assert_int_equal(mm_machine_check(m), 0);
	return m;
}

static uint64_t free_pages(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages;
}

static void test_boot_modes(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], true);
		struct mm_meminfo mi;
		mm_machine_meminfo(m, &mi);
		assert_true(mi.total_pages > 7000 && mi.total_pages < 8192);
		assert_int_equal(mi.pagetable_pages, 0);
		assert_true(mi.boot_pages >= 2);
		mm_machine_destroy(m);
	}
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	struct mm_machine *m = NULL;
	cfg.ram_bytes = 5ULL << 20;
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	mm_machine_config_init(&cfg);
	cfg.dtlb_4k.ways = 3;
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	assert_null(m);
}

/* Kernel direct map: physical RAM through PAGE_OFFSET, supervisor only. */
static void test_direct_map(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], true);
		uint64_t off = modes[i] == MM_PAGING_2LEVEL ? 0xc0000000ULL :
			       modes[i] == MM_PAGING_4LEVEL ? 0xffff888000000000ULL : 0xff11000000000000ULL;
		uint8_t *ram = mm_phys_to_host(m, 0x123000);
		ram[5] = 0xab;
		uint8_t b = 0;
		assert_int_equal(mm_kernel_access(m, off + 0x123005, &b, 1, MM_ACCESS_READ), 0);
		assert_int_equal(b, 0xab);
		b = 0xcd;
		assert_int_equal(mm_kernel_access(m, off + 0x200000 - 1, &b, 1, MM_ACCESS_WRITE), 0);
		assert_int_equal(*(uint8_t *)mm_phys_to_host(m, 0x1fffff), 0xcd);
		/* a user process cannot read the kernel half */
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "peek", &t), 0);
		assert_int_equal(mm_read(m, t, off + 0x123005, &b, 1), -MM_EFAULT);
		assert_int_equal(mm_task_siginfo(t)->signo, MM_SIGSEGV);
		assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_MAPERR);
		/* the error code says: present, user */
		assert_int_equal(mm_task_siginfo(t)->error_code, MM_PF_PROT | MM_PF_USER);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* First touch by a write: one minor fault, tables allocated on the way,
 * then TLB hits. */
static void test_first_write(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], true);
		uint64_t free0 = free_pages(m);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "w", &t), 0);
		int64_t a = mm_do_mmap(m, t, 0, 3 * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		assert_true(a > 0);
		struct mm_meminfo mi;
		mm_machine_meminfo(m, &mi);
		assert_int_equal(mi.pagetable_pages, 1); /* only the root: mmap is lazy */
		uint64_t v = 0x1122334455667788ULL, r = 0;
		assert_int_equal(mm_write(m, t, (uint64_t)a + 8, &v, 8), 0);
		struct mm_counters c;
		mm_task_counters(t, &c);
		assert_int_equal(c.min_flt, 1);
		assert_int_equal(c.maj_flt, 0);
		assert_int_equal(c.tlb_misses, 2);     /* fault, then the retry's walk */
		assert_int_equal(c.walk_refs, 1 + modes[i]); /* the faulting walk stops at
							       * the first empty level */
		mm_machine_meminfo(m, &mi);
		assert_int_equal(mi.pagetable_pages, modes[i]); /* one table per level */
		assert_int_equal(mi.anon_pages, 1);
		assert_int_equal(mm_read(m, t, (uint64_t)a + 8, &r, 8), 0);
		assert_true(r == v);
		mm_task_counters(t, &c);
		assert_int_equal(c.dtlb_hits, 1);
		assert_int_equal(c.tlb_misses, 2);
		/* the bytes are in simulated RAM at the translated address */
		int64_t pa = mm_virt_to_phys(m, t, (uint64_t)a + 8);
		assert_true(pa > 0);
		assert_memory_equal(mm_phys_to_host(m, (uint64_t)pa), &v, 8);
		/* a write across a page boundary touches two pages */
		char buf[16] = "abcdefghijklmno";
		assert_int_equal(mm_write(m, t, (uint64_t)a + 4096 - 8, buf, 16), 0);
		mm_task_counters(t, &c);
		assert_int_equal(c.min_flt, 2);
		char out[16];
		assert_int_equal(mm_read(m, t, (uint64_t)a + 4096 - 8, out, 16), 0);
		assert_memory_equal(buf, out, 16);
		assert_int_equal(mm_machine_check(m), 0);
		mm_exit(m, t);
		assert_int_equal(mm_machine_check(m), 0);
		assert_int_equal(free_pages(m), free0);
		mm_machine_destroy(m);
	}
}

/* Read first: the zero page; then the write copies (a zeroed frame). */
static void test_zero_page(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "z", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 2 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	uint64_t r = 1;
	assert_int_equal(mm_read(m, t, (uint64_t)a, &r, 8), 0);
	assert_true(r == 0);
	assert_int_equal(mm_read(m, t, (uint64_t)a + 4096, &r, 8), 0);
	struct mm_counters c;
	mm_task_counters(t, &c);
	assert_int_equal(c.min_flt, 2);
	assert_int_equal(c.zero_maps, 2);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.anon_pages, 0);   /* both map the one zero page */
	assert_true(mm_virt_to_phys(m, t, (uint64_t)a) == mm_virt_to_phys(m, t, (uint64_t)a + 4096));
	r = 7;
	assert_int_equal(mm_write(m, t, (uint64_t)a, &r, 8), 0);
	mm_task_counters(t, &c);
	assert_int_equal(c.min_flt, 3);
	assert_int_equal(c.cow_copies, 1);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.anon_pages, 1);
	assert_int_equal(mm_read(m, t, (uint64_t)a + 4096, &r, 8), 0);
	assert_true(r == 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_segv(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], true);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "s", &t), 0);
		uint64_t v = 0;
		/* nothing mapped */
		assert_int_equal(mm_read(m, t, 0x10000, &v, 8), -MM_EFAULT);
		assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_MAPERR);
		assert_true(mm_task_siginfo(t)->addr == 0x10000);
		int64_t a = mm_do_mmap(m, t, 0, 4096, MM_PROT_READ, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS,
				       -1, 0);
		assert_true(a > 0);
		/* write to read-only: ACCERR, no fault counted */
		assert_int_equal(mm_write(m, t, (uint64_t)a, &v, 8), -MM_EFAULT);
		assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_ACCERR);
		assert_int_equal(mm_task_siginfo(t)->error_code, MM_PF_WRITE | MM_PF_USER);
		struct mm_counters c;
		mm_task_counters(t, &c);
		assert_int_equal(c.min_flt, 0);
		assert_int_equal(c.segv, 2);
		/* fetch from a readable, non-executable page: the first fault maps
		 * it (minor fault), the retry faults on NX (64-bit modes) */
		int r = mm_access(m, t, (uint64_t)a, &v, 8, MM_ACCESS_EXEC);
		mm_task_counters(t, &c);
		if (modes[i] == MM_PAGING_2LEVEL) {
			assert_int_equal(r, 0);   /* no NX bit in 32-bit paging */
		} else {
			assert_int_equal(r, -MM_EFAULT);
			assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_ACCERR);
			assert_int_equal(mm_task_siginfo(t)->error_code,
					 MM_PF_PROT | MM_PF_USER | MM_PF_INSTR);
		}
		assert_int_equal(c.min_flt, 1);
		/* PROT_NONE */
		assert_int_equal(mm_do_mprotect(m, t, (uint64_t)a, 4096, MM_PROT_NONE), 0);
		assert_int_equal(mm_read(m, t, (uint64_t)a, &v, 8), -MM_EFAULT);
		assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_ACCERR);
		assert_int_equal(mm_machine_check(m), 0);
		assert_int_equal(mm_do_mprotect(m, t, (uint64_t)a, 4096, MM_PROT_READ | MM_PROT_EXEC), 0);
		assert_int_equal(mm_access(m, t, (uint64_t)a, &v, 8, MM_ACCESS_EXEC), 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

static void test_mmap_errors(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "e", &t), 0);
	const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS;
	const int rw = MM_PROT_READ | MM_PROT_WRITE;
	assert_int_equal(mm_do_mmap(m, t, 0, 0, rw, pa, -1, 0), -MM_EINVAL);
	assert_int_equal(mm_do_mmap(m, t, 0, 4096, rw, MM_MAP_ANONYMOUS, -1, 0), -MM_EINVAL);
	assert_int_equal(mm_do_mmap(m, t, 0, 4096, rw, pa, -1, 100), -MM_EINVAL);
	assert_int_equal(mm_do_mmap(m, t, 0, UINT64_MAX - 100, rw, pa, -1, 0), -MM_ENOMEM);
	assert_int_equal(mm_do_mmap(m, t, 0x100001, 4096, rw, pa | MM_MAP_FIXED, -1, 0), -MM_EINVAL);
	assert_int_equal(mm_do_mmap(m, t, 1ULL << 47, 4096, rw, pa | MM_MAP_FIXED, -1, 0), -MM_ENOMEM);
	assert_int_equal(mm_do_mmap(m, t, 0, 4096, rw, MM_MAP_PRIVATE, 3, 0), -MM_EBADF);
	/* heuristic overcommit: one private writable request beyond RAM fails,
	 * a read-only or MAP_NORESERVE one does not */
	assert_int_equal(mm_do_mmap(m, t, 0, 64ULL << 20, rw, pa, -1, 0), -MM_ENOMEM);
	int64_t big = mm_do_mmap(m, t, 0, 64ULL << 20, MM_PROT_READ, pa, -1, 0);
	assert_true(big > 0);
	assert_int_equal(mm_do_munmap(m, t, (uint64_t)big, 64ULL << 20), 0);
	big = mm_do_mmap(m, t, 0, 64ULL << 20, rw, pa | MM_MAP_NORESERVE, -1, 0);
	assert_true(big > 0);
	assert_int_equal(mm_do_munmap(m, t, (uint64_t)big, 64ULL << 20), 0);
	assert_int_equal(mm_do_mmap(m, t, 0x200000, 8192, rw, pa | MM_MAP_FIXED, -1, 0), 0x200000);
	assert_int_equal(mm_do_mmap(m, t, 0x201000, 4096, rw, pa | MM_MAP_FIXED_NOREPLACE, -1, 0),
			 -MM_EEXIST);
	/* a free hint is honoured; a taken one is not */
	assert_int_equal(mm_do_mmap(m, t, 0x300000, 4096, rw, pa, -1, 0), 0x300000);
	int64_t b = mm_do_mmap(m, t, 0x300000, 4096, rw, pa, -1, 0);
	assert_true(b > 0 && b != 0x300000);
	/* the default top-down area is below mmap_base = TASK_SIZE - 128 MiB */
	assert_true((uint64_t)b < (1ULL << 47) - (128ULL << 20));
	assert_true((uint64_t)b >= (1ULL << 47) - (128ULL << 20) - (1ULL << 20));
	/* munmap */
	assert_int_equal(mm_do_munmap(m, t, 0x200001, 4096), -MM_EINVAL);
	assert_int_equal(mm_do_munmap(m, t, 0x200000, 0), -MM_EINVAL);
	assert_int_equal(mm_do_munmap(m, t, 0x900000, 4096), 0);
	/* mprotect of a hole */
	assert_int_equal(mm_do_mprotect(m, t, 0x900000, 4096, MM_PROT_READ), -MM_ENOMEM);
	assert_int_equal(mm_do_mprotect(m, t, 0x200000, 4096, 8), -MM_EINVAL);
	assert_int_equal(mm_do_madvise(m, t, 0x200000, 4096, 99), -MM_EINVAL);
	assert_int_equal(mm_do_msync(m, t, 0x200000, 4096, MM_MS_SYNC | MM_MS_ASYNC), -MM_EINVAL);
	assert_int_equal(mm_do_msync(m, t, 0x900000, 4096, MM_MS_SYNC), -MM_ENOMEM);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* Consecutive anonymous mmaps merge; mprotect splits and re-merges. */
/* The vsyscall gate page that ends every 64-bit maps listing. */
#define GATE "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

static void test_split_merge(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "sm", &t), 0);
	const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED;
	const int rw = MM_PROT_READ | MM_PROT_WRITE;
	assert_int_equal(mm_do_mmap(m, t, 0x400000, 0x4000, rw, pa, -1, 0), 0x400000);
	assert_int_equal(mm_do_mmap(m, t, 0x404000, 0x4000, rw, pa, -1, 0), 0x404000);
	char maps[4096];
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_string_equal(maps, "00400000-00408000 rw-p 00000000 00:00 0 \n" GATE);
	for (uint64_t va = 0x400000; va < 0x408000; va += 4096)
		assert_int_equal(mm_write(m, t, va, &va, 8), 0);
	assert_int_equal(mm_do_mprotect(m, t, 0x402000, 0x2000, MM_PROT_READ), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_string_equal(maps, "00400000-00402000 rw-p 00000000 00:00 0 \n"
				  "00402000-00404000 r--p 00000000 00:00 0 \n"
				  "00404000-00408000 rw-p 00000000 00:00 0 \n" GATE);
	uint64_t v = 1;
	assert_int_equal(mm_write(m, t, 0x402000, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_read(m, t, 0x403000, &v, 8), 0);
	assert_true(v == 0x403000);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(mm_do_mprotect(m, t, 0x402000, 0x2000, rw), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_string_equal(maps, "00400000-00408000 rw-p 00000000 00:00 0 \n" GATE);
	/* exclusive anonymous pages become writable again without a fault */
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	assert_int_equal(mm_write(m, t, 0x402000, &v, 8), 0);
	mm_task_counters(t, &c1);
	assert_int_equal(c1.min_flt, c0.min_flt);
	/* munmap in the middle splits */
	assert_int_equal(mm_do_munmap(m, t, 0x403000, 0x2000), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_string_equal(maps, "00400000-00403000 rw-p 00000000 00:00 0 \n"
				  "00405000-00408000 rw-p 00000000 00:00 0 \n" GATE);
	assert_int_equal(mm_read(m, t, 0x404000, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_read(m, t, 0x405000, &v, 8), 0);
	assert_true(v == 0x405000);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* Page tables that cover only unmapped space are freed by munmap. */
static void test_pgtable_free(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "pt", &t), 0);
	const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED;
	const int rw = MM_PROT_READ | MM_PROT_WRITE;
	/* two pages 1 GiB apart: shared PGD/PUD, separate PMD and PT */
	assert_int_equal(mm_do_mmap(m, t, 0x40000000, 4096, rw, pa, -1, 0), 0x40000000);
	assert_int_equal(mm_do_mmap(m, t, 0x80000000, 4096, rw, pa, -1, 0), 0x80000000);
	uint64_t v = 3;
	assert_int_equal(mm_write(m, t, 0x40000000, &v, 8), 0);
	assert_int_equal(mm_write(m, t, 0x80000000, &v, 8), 0);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.pagetable_pages, 1 + 1 + 2 + 2);
	assert_int_equal(mm_do_munmap(m, t, 0x80000000, 4096), 0);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.pagetable_pages, 1 + 1 + 1 + 1);
	/* DONTNEED drops the page but keeps the tables */
	assert_int_equal(mm_do_madvise(m, t, 0x40000000, 4096, MM_MADV_DONTNEED), 0);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.pagetable_pages, 4);
	assert_int_equal(mi.anon_pages, 0);
	assert_int_equal(mm_read(m, t, 0x40000000, &v, 8), 0);
	assert_true(v == 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_fork_cow(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(modes); i++) {
		struct mm_machine *m = boot(modes[i], i != 1);
		uint64_t free0 = free_pages(m);
		struct mm_task *p, *c;
		assert_int_equal(mm_task_create(m, "parent", &p), 0);
		int64_t a = mm_do_mmap(m, p, 0, 4 * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		for (int k = 0; k < 4; k++) {
			uint64_t v = 100 + k;
			assert_int_equal(mm_write(m, p, (uint64_t)a + k * 4096, &v, 8), 0);
		}
		struct mm_meminfo mi0, mi;
		mm_machine_meminfo(m, &mi0);
		assert_int_equal(mm_fork(m, p, &c), 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_meminfo(m, &mi);
		assert_int_equal(mi.anon_pages, mi0.anon_pages);  /* no data copied */
		assert_int_equal(mi.pagetable_pages, 2 * mi0.pagetable_pages);
		/* the child reads the parent's data, without faults */
		uint64_t v;
		assert_int_equal(mm_read(m, c, (uint64_t)a + 2 * 4096, &v, 8), 0);
		assert_true(v == 102);
		struct mm_counters cc;
		mm_task_counters(c, &cc);
		assert_int_equal(cc.min_flt, 0);
		/* the child writes: COW copy; the parent still sees its value */
		v = 999;
		assert_int_equal(mm_write(m, c, (uint64_t)a + 2 * 4096, &v, 8), 0);
		mm_task_counters(c, &cc);
		assert_int_equal(cc.min_flt, 1);
		assert_int_equal(cc.cow_copies, 1);
		assert_int_equal(mm_read(m, p, (uint64_t)a + 2 * 4096, &v, 8), 0);
		assert_true(v == 102);
		/* the parent writes the same page: now it has one owner, reused */
		struct mm_counters pc;
		v = 555;
		assert_int_equal(mm_write(m, p, (uint64_t)a + 2 * 4096, &v, 8), 0);
		mm_task_counters(p, &pc);
		assert_int_equal(pc.cow_reuses, 1);
		assert_int_equal(pc.cow_copies, 0);
		assert_int_equal(mm_read(m, c, (uint64_t)a + 2 * 4096, &v, 8), 0);
		assert_true(v == 999);
		mm_machine_meminfo(m, &mi);
		assert_int_equal(mi.anon_pages, mi0.anon_pages + 1);
		assert_int_equal(mm_machine_check(m), 0);
		/* the parent exits; the child keeps the shared pages */
		mm_exit(m, p);
		assert_int_equal(mm_machine_check(m), 0);
		for (int k = 0; k < 4; k++) {
			assert_int_equal(mm_read(m, c, (uint64_t)a + k * 4096, &v, 8), 0);
			assert_true(v == (k == 2 ? 999 : 100 + (uint64_t)k));
		}
		/* now the sole owner: a write reuses */
		v = 1;
		assert_int_equal(mm_write(m, c, (uint64_t)a, &v, 8), 0);
		mm_task_counters(c, &cc);
		assert_int_equal(cc.cow_reuses, 1);
		mm_exit(m, c);
		assert_int_equal(mm_machine_check(m), 0);
		assert_int_equal(free_pages(m), free0);
		mm_machine_destroy(m);
	}
}

static void test_stack_growth(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "stk", &t), 0);
	assert_int_equal(mm_exec_synthetic(m, t, 0x5000, 0x2000, 0x3000), 0);
	char maps[4096];
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_string_equal(maps,
			    "00400000-00405000 r-xp 00000000 00:00 0 \n"
			    "00405000-00407000 rw-p 00000000 00:00 0 \n"
			    "00407000-0040a000 rw-p 00000000 00:00 0 \n"
			    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n" GATE);
	uint64_t top = 0x7ffffffff000ULL, v = 42;
	assert_int_equal(mm_write(m, t, top - 8, &v, 8), 0);
	/* 1 MiB below the stack start: grows */
	assert_int_equal(mm_write(m, t, top - (1ULL << 20), &v, 8), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_non_null(strstr(maps, "7fffffeff000-7ffffffff000 rw-p"));
	/* beyond RLIMIT_STACK (8 MiB): SIGSEGV */
	assert_int_equal(mm_write(m, t, top - (8ULL << 20) - 4096, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_MAPERR);
	/* exactly 8 MiB is allowed */
	assert_int_equal(mm_write(m, t, top - (8ULL << 20), &v, 8), 0);
	/* brk: the heap starts right after bss */
	assert_true(mm_sbrk(m, t, 0) == 0x40a000);
	assert_true(mm_sbrk(m, t, 10000) == 0x40a000);
	assert_true(mm_do_brk(m, t, 0) == 0x40a000 + 10000);
	assert_int_equal(mm_write(m, t, 0x40a000 + 9999 - 7, &v, 8), 0);
	assert_int_equal(mm_write(m, t, 0x40a000 + 3 * 4096, &v, 8), -MM_EFAULT);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_non_null(strstr(maps, "0040a000-0040d000 rw-p 00000000 00:00 0                                  [heap]\n"));
	assert_true(mm_sbrk(m, t, -10000) == 0x40a000 + 10000);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_null(strstr(maps, "[heap]"));
	/* brk below the start fails and returns the current break */
	assert_true(mm_do_brk(m, t, 0x400000) == 0x40a000);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* MAP_GROWSDOWN: a fault below the mapping grows it (expand_downwards),
 * but not into the stack guard gap (256 pages) above an accessible
 * mapping, and not beyond RLIMIT_STACK. */
static void test_map_growsdown(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "gd", &t), 0);
	const int rw = MM_PROT_READ | MM_PROT_WRITE, fx = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED;
	const uint64_t lo = 0x2fc00000, hi = 0x30000000;   /* 4 MiB apart */
	assert_int_equal(mm_do_mmap(m, t, lo, 4096, rw, fx, -1, 0), (int64_t)lo);
	assert_int_equal(mm_do_mmap(m, t, hi, 4096, rw, fx | MM_MAP_GROWSDOWN, -1, 0), (int64_t)hi);
	uint64_t v = 7;
	char maps[4096], want[64];
	/* 16 pages below: grows to there */
	assert_int_equal(mm_write(m, t, hi - 16 * 4096 + 8, &v, 8), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	snprintf(want, sizeof(want), "%08llx-%08llx rw-p", (unsigned long long)(hi - 16 * 4096),
		 (unsigned long long)(hi + 4096));
	assert_non_null(strstr(maps, want));
	struct mm_counters c;
	mm_task_counters(t, &c);
	assert_int_equal(c.min_flt, 1);
	assert_int_equal(c.segv, 0);
	/* within 256 pages of the mapping below: SIGSEGV, nothing grows */
	assert_int_equal(mm_write(m, t, lo + 4096 + 100 * 4096, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_MAPERR);
	mm_show_maps(m, t, maps, sizeof(maps));
	assert_non_null(strstr(maps, want));
	/* just outside the guard gap: grows */
	assert_int_equal(mm_write(m, t, lo + 4096 + 256 * 4096, &v, 8), 0);
	mm_show_maps(m, t, maps, sizeof(maps));
	snprintf(want, sizeof(want), "%08llx-%08llx rw-p", (unsigned long long)(lo + 257 * 4096),
		 (unsigned long long)(hi + 4096));
	assert_non_null(strstr(maps, want));
	mm_task_counters(t, &c);
	assert_int_equal(c.min_flt, 2);
	assert_int_equal(c.segv, 1);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* TLB behaviour: hits, capacity misses, PCID across context switches. */
static void test_tlb(void **state)
{
	(void)state;
	for (int pcid = 0; pcid < 2; pcid++) {
		struct mm_machine *m = boot(MM_PAGING_4LEVEL, pcid);
		struct mm_task *a, *b;
		assert_int_equal(mm_task_create(m, "a", &a), 0);
		assert_int_equal(mm_task_create(m, "b", &b), 0);
		const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_POPULATE;
		const int rw = MM_PROT_READ | MM_PROT_WRITE;
		assert_int_equal(mm_do_mmap(m, a, 0x10000000, 16 * 4096, rw, pa, -1, 0), 0x10000000);
		assert_int_equal(mm_do_mmap(m, b, 0x10000000, 16 * 4096, rw, pa, -1, 0), 0x10000000);
		struct mm_counters c0, c1;
		uint64_t v;
		/* warm: 16 pages of a */
		for (int k = 0; k < 16; k++)
			assert_int_equal(mm_read(m, a, 0x10000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c0);
		for (int k = 0; k < 16; k++)
			assert_int_equal(mm_read(m, a, 0x10000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c1);
		assert_int_equal(c1.dtlb_hits - c0.dtlb_hits, 16);
		assert_int_equal(c1.tlb_misses - c0.tlb_misses, 0);
		/* run b, come back to a */
		for (int k = 0; k < 16; k++)
			assert_int_equal(mm_read(m, b, 0x10000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c0);
		for (int k = 0; k < 16; k++)
			assert_int_equal(mm_read(m, a, 0x10000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c1);
		if (pcid) {
			assert_int_equal(c1.dtlb_hits - c0.dtlb_hits, 16);
		} else {
			/* the CR3 load flushed a's entries */
			assert_int_equal(c1.tlb_misses - c0.tlb_misses, 16);
			assert_int_equal(c1.dtlb_hits - c0.dtlb_hits, 0);
		}
		/* 64-entry 4-way L1: 80 pages thrash it; the 1536-entry STLB holds them */
		assert_int_equal(mm_do_mmap(m, a, 0x20000000, 80 * 4096, rw, pa, -1, 0), 0x20000000);
		for (int k = 0; k < 80; k++)
			assert_int_equal(mm_read(m, a, 0x20000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c0);
		for (int k = 0; k < 80; k++)
			assert_int_equal(mm_read(m, a, 0x20000000 + k * 4096, &v, 8), 0);
		mm_task_counters(a, &c1);
		assert_int_equal(c1.stlb_hits - c0.stlb_hits, 80);
		assert_int_equal(c1.tlb_misses - c0.tlb_misses, 0);
		struct mm_tlb_stats ts;
		mm_machine_tlb_stats(m, &ts);
		assert_true(ts.cr3_loads >= 3);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* Every counter of one deterministic scenario, exactly, with and without
 * PCID: accesses, first-level D/I hits, misses, walk references, dirty-bit
 * walks, zero-page maps, CR3 loads, full and PCID flushes, INVLPGs, global
 * flushes and shootdowns. 4-level tables; 0x10000000 and 0x20000000 share
 * the PML4 and PDPT entries and differ in the PD index. */
static void test_counters_exact(void **state)
{
	(void)state;
	for (int pcid = 0; pcid < 2; pcid++) {
		struct mm_machine *m = boot(MM_PAGING_4LEVEL, pcid);
		struct mm_task *a, *b;
		assert_int_equal(mm_task_create(m, "a", &a), 0);
		assert_int_equal(mm_task_create(m, "b", &b), 0);
		const int rw = MM_PROT_READ | MM_PROT_WRITE, fx = MM_MAP_ANONYMOUS | MM_MAP_FIXED;
		assert_int_equal(mm_do_mmap(m, a, 0x10000000, 4096, rw, MM_MAP_SHARED | fx, -1, 0), 0x10000000);
		assert_int_equal(mm_do_mmap(m, a, 0x20000000, 4096, MM_PROT_READ | MM_PROT_EXEC,
					    MM_MAP_PRIVATE | fx, -1, 0), 0x20000000);
		assert_int_equal(mm_do_mmap(m, b, 0x10000000, 4096, rw, MM_MAP_PRIVATE | fx | MM_MAP_POPULATE,
					    -1, 0), 0x10000000);
		struct mm_tlb_stats ts;
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.cr3_loads, 0);   /* nothing ran yet */
		char x = 1;
		struct mm_counters c;
		/* read of a shared anonymous page: the walk faults at the empty
		 * root (1 reference), the retry walks 4 levels; the shmem page is
		 * mapped writable and clean */
		assert_int_equal(mm_read(m, a, 0x10000000, &x, 1), 0);
		mm_task_counters(a, &c);
		assert_int_equal(c.accesses, 1);
		assert_int_equal(c.tlb_misses, 2);
		assert_int_equal(c.walk_refs, 1 + 4);
		assert_int_equal(c.min_flt, 1);
		assert_int_equal(c.dtlb_hits, 0);
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.cr3_loads, 1);
		assert_int_equal(ts.full_flushes, pcid ? 0 : 1);   /* CR3 load without PCID */
		assert_int_equal(ts.pcid_flushes, pcid ? 1 : 0);   /* a new ASID is flushed */
		/* write: the TLB entry has D = 0, so the CPU walks again to set D
		 * (no fault, no miss) */
		assert_int_equal(mm_write(m, a, 0x10000000, &x, 1), 0);
		mm_task_counters(a, &c);
		assert_int_equal(c.accesses, 2);
		assert_int_equal(c.dirty_walks, 1);
		assert_int_equal(c.walk_refs, 5 + 4);
		assert_int_equal(c.tlb_misses, 2);
		assert_int_equal(c.min_flt, 1);
		/* fetch from an untouched private page: the faulting walk stops
		 * at the empty PD entry (3 references), the zero page is mapped,
		 * the retry walks 4; the second fetch hits the ITLB */
		assert_int_equal(mm_access(m, a, 0x20000000, &x, 1, MM_ACCESS_EXEC), 0);
		assert_int_equal(mm_access(m, a, 0x20000000, &x, 1, MM_ACCESS_EXEC), 0);
		mm_task_counters(a, &c);
		assert_int_equal(c.accesses, 4);
		assert_int_equal(c.tlb_misses, 4);
		assert_int_equal(c.walk_refs, 9 + 3 + 4);
		assert_int_equal(c.zero_maps, 1);
		assert_int_equal(c.min_flt, 2);
		assert_int_equal(c.itlb_hits, 1);
		assert_int_equal(c.dtlb_hits, 0);
		/* b (populated: one walk), then a again: without PCID the CR3
		 * loads flushed a's entries */
		assert_int_equal(mm_read(m, b, 0x10000000, &x, 1), 0);
		mm_task_counters(b, &c);
		assert_int_equal(c.accesses, 1);
		assert_int_equal(c.tlb_misses, 1);
		assert_int_equal(c.walk_refs, 4);
		assert_int_equal(mm_read(m, a, 0x10000000, &x, 1), 0);
		mm_task_counters(a, &c);
		assert_int_equal(c.accesses, 5);
		assert_int_equal(c.dtlb_hits, pcid ? 1 : 0);
		assert_int_equal(c.tlb_misses, pcid ? 4 : 5);
		assert_int_equal(c.walk_refs, pcid ? 16 : 20);
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.cr3_loads, 3);
		assert_int_equal(ts.full_flushes, pcid ? 0 : 3);
		assert_int_equal(ts.pcid_flushes, pcid ? 2 : 0);
		assert_int_equal(ts.invlpg, 0);
		assert_int_equal(ts.shootdowns, 0);
		/* mprotect of b while a runs: with PCID b's entry is still cached
		 * under its ASID, so the invalidation is a (counted) shootdown;
		 * without PCID the CR3 load already dropped it */
		assert_int_equal(mm_do_mprotect(m, b, 0x10000000, 4096, MM_PROT_READ), 0);
		mm_machine_tlb_stats(m, &ts);
		mm_task_counters(b, &c);
		assert_int_equal(ts.invlpg, pcid ? 1 : 0);
		assert_int_equal(ts.shootdowns, pcid ? 1 : 0);
		assert_int_equal(c.tlb_flushes, pcid ? 1 : 0);
		/* kernel ranges: up to 33 pages by INVLPG, more by a global flush */
		uint64_t v = mm_vmalloc(m, 3 * 4096);
		assert_true(v != 0);
		mm_vfree(m, v);
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.invlpg, pcid ? 4 : 3);
		assert_int_equal(ts.global_flushes, 0);
		v = mm_vmalloc(m, 40 * 4096);
		assert_true(v != 0);
		mm_vfree(m, v);
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.invlpg, pcid ? 4 : 3);
		assert_int_equal(ts.global_flushes, 1);
		/* seven new processes: seven CR3 loads; with PCID each takes a
		 * fresh ASID (six per CPU, recycled LRU), flushed on first use */
		for (int i = 0; i < 7; i++) {
			struct mm_task *p;
			assert_int_equal(mm_task_create(m, "p", &p), 0);
			assert_int_equal(mm_do_mmap(m, p, 0x10000000, 4096, rw,
						    MM_MAP_PRIVATE | fx | MM_MAP_POPULATE, -1, 0), 0x10000000);
			assert_int_equal(mm_read(m, p, 0x10000000, &x, 1), 0);
		}
		mm_machine_tlb_stats(m, &ts);
		assert_int_equal(ts.cr3_loads, 10);
		assert_int_equal(ts.full_flushes, pcid ? 0 : 10);
		assert_int_equal(ts.pcid_flushes, pcid ? 9 : 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* The second-level TLB is optional: without it, 80 pages cycled through
 * the 64-entry 4-way L1 DTLB (16 sets, 5 pages per set, LRU) miss every
 * time and each miss walks the 4 levels. */
static void test_no_stlb(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.stlb = (struct mm_tlb_geometry){ 0, 0 };
	struct mm_machine *m = NULL;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "s", &t), 0);
	const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_POPULATE;
	assert_int_equal(mm_do_mmap(m, t, 0x20000000, 80 * 4096, MM_PROT_READ | MM_PROT_WRITE, pa, -1, 0),
			 0x20000000);
	uint64_t v;
	for (int k = 0; k < 80; k++)
		assert_int_equal(mm_read(m, t, 0x20000000 + k * 4096, &v, 8), 0);
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	for (int k = 0; k < 80; k++)
		assert_int_equal(mm_read(m, t, 0x20000000 + k * 4096, &v, 8), 0);
	mm_task_counters(t, &c1);
	assert_int_equal(c1.stlb_hits, 0);
	assert_int_equal(c1.dtlb_hits - c0.dtlb_hits, 0);
	assert_int_equal(c1.tlb_misses - c0.tlb_misses, 80);
	assert_int_equal(c1.walk_refs - c0.walk_refs, 80 * 4);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* The cost model with the seeds' default latencies (TLB 1 ns, memory
 * 100 ns, disk 5 ms; fault entry 1 us): tlb + mem + (walk refs x mem +
 * faults x fault + majors x disk) / accesses. */
static void test_cost_model(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	assert_true(cfg.lat.tlb_ns == 1.0 && cfg.lat.mem_ns == 100.0 && cfg.lat.disk_ns == 5e6 &&
		    cfg.lat.fault_ns == 1000.0);
	cfg.ram_bytes = 8ULL << 20;
	struct mm_machine *m = NULL;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_counters c;
	memset(&c, 0, sizeof(c));
	assert_true(mm_effective_access_time(m, &c) == 0.0);
	c.accesses = 10;
	c.walk_refs = 8;
	c.min_flt = 1;
	c.maj_flt = 1;
	assert_true(mm_effective_access_time(m, &c) == 1.0 + 100.0 + (800.0 + 2000.0 + 5e6) / 10.0);
	/* a real run: 16 first touches (fault + retry walk each) */
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "c", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 16 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	uint64_t v = 1;
	for (int i = 0; i < 16; i++)
		assert_int_equal(mm_write(m, t, (uint64_t)a + i * 4096, &v, 8), 0);
	mm_task_counters(t, &c);
	assert_int_equal(c.accesses, 16);
	assert_int_equal(c.min_flt, 16);
	double want = 1.0 + 100.0 + ((double)c.walk_refs * 100.0 + 16 * 1000.0) / 16.0;
	assert_true(mm_effective_access_time(m, &c) == want);
	mm_machine_destroy(m);
}

/* A non-canonical address is a general-protection fault, raised before the
 * TLB is looked up: SIGSEGV with SI_KERNEL and no address (Linux's
 * do_general_protection), even when the low bits name a page the TLB
 * holds; no page fault, no TLB miss, no walk. */
static void test_noncanonical(void **state)
{
	(void)state;
	static const enum mm_paging_mode wide[] = { MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };
	for (size_t i = 0; i < MM_ARRAY_SIZE(wide); i++) {
		struct mm_machine *m = boot(wide[i], true);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "nc", &t), 0);
		const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_POPULATE;
		assert_int_equal(mm_do_mmap(m, t, 0x400000, 4096, MM_PROT_READ | MM_PROT_WRITE, pa, -1, 0),
				 0x400000);
		uint64_t v = 3;
		assert_int_equal(mm_write(m, t, 0x400000, &v, 8), 0);   /* cached in the TLB */
		struct mm_counters c0, c1;
		mm_task_counters(t, &c0);
		unsigned int top = wide[i] == MM_PAGING_4LEVEL ? 48 : 57;
		uint64_t bad[] = { 0x400000 | (1ULL << top), 0x400000 | (1ULL << 63),
				   (1ULL << (top - 1)) + 0x400000 };
		for (size_t k = 0; k < MM_ARRAY_SIZE(bad); k++) {
			assert_int_equal(mm_read(m, t, bad[k], &v, 8), -MM_EFAULT);
			assert_int_equal(mm_task_siginfo(t)->signo, MM_SIGSEGV);
			assert_int_equal(mm_task_siginfo(t)->code, MM_SI_KERNEL);
			assert_true(mm_task_siginfo(t)->addr == 0);
			assert_int_equal(mm_write(m, t, bad[k], &v, 8), -MM_EFAULT);
			assert_int_equal(mm_task_siginfo(t)->code, MM_SI_KERNEL);
		}
		mm_task_counters(t, &c1);
		assert_int_equal(c1.segv - c0.segv, 6);
		assert_int_equal(c1.tlb_misses - c0.tlb_misses, 0);
		assert_int_equal(c1.walk_refs - c0.walk_refs, 0);
		assert_int_equal(c1.min_flt - c0.min_flt, 0);
		assert_int_equal(mm_read(m, t, 0x400000, &v, 8), 0);
		assert_true(v == 3);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* Without PCID, mprotect of the running process invalidates by INVLPG. */
static void test_invlpg(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "i", &t), 0);
	const int pa = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_POPULATE;
	assert_int_equal(mm_do_mmap(m, t, 0x10000000, 4 * 4096, MM_PROT_READ | MM_PROT_WRITE, pa, -1, 0),
			 0x10000000);
	uint64_t v = 5;
	assert_int_equal(mm_write(m, t, 0x10000000, &v, 8), 0);
	struct mm_tlb_stats s0, s1;
	mm_machine_tlb_stats(m, &s0);
	assert_int_equal(mm_do_mprotect(m, t, 0x10000000, 4 * 4096, MM_PROT_READ), 0);
	mm_machine_tlb_stats(m, &s1);
	assert_int_equal(s1.invlpg - s0.invlpg, 4);
	struct mm_counters c;
	mm_task_counters(t, &c);
	assert_int_equal(c.tlb_flushes, 4);
	/* the stale writable entry is gone: the write faults */
	assert_int_equal(mm_write(m, t, 0x10000000, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* get_unmapped_area over the augmented tree gives the highest hole that
 * fits below mmap_base, as a brute-force scan of the mappings does. */
static void test_unmapped_area_random(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "gaps", &t), 0);
	const uint64_t top = (1ULL << 47) - 4096 - (128ULL << 20);   /* mmap_base */
	const uint64_t lo = top - (4096ULL << 12);                     /* a 16 MiB arena below it */
	static bool used[4096];
	memset(used, 0, sizeof(used));
	/* fill the arena and everything above mmap_base's window with holes */
	assert_int_equal(mm_do_mmap(m, t, lo - (64ULL << 20), 64ULL << 20, MM_PROT_READ,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0),
			 (int64_t)(lo - (64ULL << 20)));
	uint64_t rounds = mm_test_iters(400);
	for (uint64_t r = 0; r < rounds; r++) {
		if (mm_rng_below(&rng, 3)) {
			uint64_t p = mm_rng_below(&rng, 4096), n = 1 + mm_rng_below(&rng, 16);
			n = MM_MIN(n, 4096 - p);
			/* alternate protections so neighbours do not always merge */
			int prot = (p & 1) ? MM_PROT_READ : MM_PROT_READ | MM_PROT_WRITE;
			assert_int_equal(mm_do_mmap(m, t, lo + p * 4096, n * 4096, prot,
						    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0),
					 (int64_t)(lo + p * 4096));
			for (uint64_t i = p; i < p + n; i++)
				used[i] = true;
		} else {
			uint64_t p = mm_rng_below(&rng, 4096), n = 1 + mm_rng_below(&rng, 64);
			n = MM_MIN(n, 4096 - p);
			assert_int_equal(mm_do_munmap(m, t, lo + p * 4096, n * 4096), 0);
			for (uint64_t i = p; i < p + n; i++)
				used[i] = false;
		}
		/* the request: the highest run of len free pages */
		uint64_t len = 1 + mm_rng_below(&rng, 24), want = 0;
		uint64_t run = 0;
		for (int64_t i = 4095; i >= 0; i--) {
			run = used[i] ? 0 : run + 1;
			if (run == len) {
				want = lo + (uint64_t)i * 4096;
				break;
			}
		}
		int64_t got = mm_do_mmap(m, t, 0, len * 4096, MM_PROT_READ, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		if (!want) {
			/* nothing fits in the arena: it must go below the 64 MiB block */
			assert_true(got > 0 && (uint64_t)got + len * 4096 <= lo - (64ULL << 20));
			assert_int_equal(mm_do_munmap(m, t, (uint64_t)got, len * 4096), 0);
			continue;
		}
		if ((uint64_t)got != want)
			mm_test_fail_seed("round %llu: mmap of %llu pages at %#llx, want %#llx",
					  (unsigned long long)r, (unsigned long long)len,
					  (unsigned long long)got, (unsigned long long)want);
		for (uint64_t i = (want - lo) / 4096; i < (want - lo) / 4096 + len; i++)
			used[i] = true;
		if (mm_machine_check(m))
			mm_test_fail_seed("check failed in round %llu", (unsigned long long)r);
	}
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_modes),
		cmocka_unit_test(test_direct_map),
		cmocka_unit_test(test_first_write),
		cmocka_unit_test(test_zero_page),
		cmocka_unit_test(test_segv),
		cmocka_unit_test(test_mmap_errors),
		cmocka_unit_test(test_split_merge),
		cmocka_unit_test(test_pgtable_free),
		cmocka_unit_test(test_fork_cow),
		cmocka_unit_test(test_stack_growth),
		cmocka_unit_test(test_map_growsdown),
		cmocka_unit_test(test_tlb),
		cmocka_unit_test(test_invlpg),
		cmocka_unit_test(test_counters_exact),
		cmocka_unit_test(test_no_stlb),
		cmocka_unit_test(test_cost_model),
		cmocka_unit_test(test_noncanonical),
		cmocka_unit_test(test_unmapped_area_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
