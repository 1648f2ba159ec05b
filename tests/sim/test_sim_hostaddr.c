/* The same run gives the same figures wherever the host maps the RAM.
 *
 * The slab allocator keys its page map (a radix tree over the host page
 * number, one node per 2 MiB, 1 GiB and 512 GiB range its slabs touch) by
 * host address, and its nodes are pages of the simulated RAM. When the
 * host's mapping of the RAM could fall anywhere (ASLR), 32 MiB of RAM
 * straddled a 1 GiB boundary about once in 30 runs: a slab on the far side
 * then cost one more page-map node, one page less for everything else, and
 * `mmsim demo` wrote 272 pages to swap instead of 271. mm_buddy_create_mmap
 * now places the RAM at an address aligned to the power of two covering it.
 *
 * The test steers the host's choice: it reserves address space with no
 * access and leaves one hole where a mapping of the old size (RAM plus the
 * largest block) fits only with the RAM across a 1 GiB boundary, so that
 * the host's top-down search puts it there; then it boots the machine, fills memory
 * until reclaim swaps (as the demo's cruncher does) and compares every
 * figure with a run placed by the host alone. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mmkit/compiler.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define PG     4096ULL
#define MIB    (1ULL << 20)
#define GIB    (1ULL << 30)
#define RAM    (32 * MIB)
#define SPAN   (RAM + 4 * MIB)      /* the old mapping: RAM plus the largest block */
#define HOLE   (SPAN + 2 * MIB)     /* room for it with a THP-aligned start too */

struct figures {
	uint64_t free_pages, slab_pages, pagemap_pages, anon_pages, pagetable_pages;
	uint64_t pswpout, pgscan_kswapd, pgscan_direct, pgsteal_kswapd, pgsteal_direct;
	uint64_t free_end, pagemap_end;
};

static void run(struct figures *f, uintptr_t *ram)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = RAM;
	cfg.swap_bytes = 16 * MIB;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	*ram = (uintptr_t)mm_phys_to_host(m, 0);

	/* a process whose pages reclaim will swap, then a cruncher filling
	 * 30 MiB a megabyte at a time with the clock ticking */
	struct mm_task *a, *c;
	assert_int_equal(mm_task_create(m, "shell", &a), 0);
	int64_t va = mm_do_mmap(m, a, 0, 2 * MIB, MM_PROT_READ | MM_PROT_WRITE,
				MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(va > 0);
	for (uint64_t off = 0; off < 2 * MIB; off += PG)
		assert_int_equal(mm_write(m, a, (uint64_t)va + off, &off, 8), 0);
	assert_int_equal(mm_task_create(m, "cruncher", &c), 0);
	int64_t cv = mm_do_mmap(m, c, 0, 30 * MIB, MM_PROT_READ | MM_PROT_WRITE,
				MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(cv > 0);
	for (uint64_t mb = 0; mb < 30; mb++) {
		for (uint64_t off = 0; off < MIB; off += PG) {
			uint64_t v = 0xc1c1c1c1c1c1c1c1ULL;
			assert_int_equal(mm_write(m, c, (uint64_t)cv + mb * MIB + off, &v, 8), 0);
		}
		mm_machine_tick(m, 10);
	}
	assert_int_equal(mm_machine_check(m), 0);

	struct mm_meminfo mi;
	struct mm_swap_info si;
	struct mm_reclaim_stats rs;
	mm_machine_meminfo(m, &mi);
	mm_machine_swap_info(m, &si);
	mm_machine_reclaim_stats(m, &rs);
	memset(f, 0, sizeof(*f));
	f->free_pages = mi.free_pages;
	f->slab_pages = mi.slab_pages;
	f->pagemap_pages = mi.slab_pagemap_pages;
	f->anon_pages = mi.anon_pages;
	f->pagetable_pages = mi.pagetable_pages;
	f->pswpout = si.pswpout;
	f->pgscan_kswapd = rs.pgscan_kswapd;
	f->pgscan_direct = rs.pgscan_direct;
	f->pgsteal_kswapd = rs.pgsteal_kswapd;
	f->pgsteal_direct = rs.pgsteal_direct;
	mm_exit(m, c);
	mm_exit(m, a);
	mm_machine_drop_caches(m);
	mm_machine_meminfo(m, &mi);
	f->free_end = mi.free_pages;
	f->pagemap_end = mi.slab_pagemap_pages;
	mm_machine_destroy(m);
	assert_true(f->pswpout > 0); /* the run did reach reclaim and swap */
}

static void print(const char *what, uintptr_t ram, const struct figures *f)
{
	printf("# %-22s RAM at %#llx: free %llu slab %llu (page map %llu) pswpout %llu "
	       "pgscan %llu+%llu pgsteal %llu+%llu; at the end free %llu page map %llu\n",
	       what, (unsigned long long)ram, (unsigned long long)f->free_pages,
	       (unsigned long long)f->slab_pages, (unsigned long long)f->pagemap_pages,
	       (unsigned long long)f->pswpout, (unsigned long long)f->pgscan_kswapd,
	       (unsigned long long)f->pgscan_direct, (unsigned long long)f->pgsteal_kswapd,
	       (unsigned long long)f->pgsteal_direct, (unsigned long long)f->free_end,
	       (unsigned long long)f->pagemap_end);
}

/* The RAM starts at a multiple of its size (32 MiB, a power of two), so it
 * lies in one 1 GiB (and one 512 GiB) range of the host's address space. */
static void check_placement(uintptr_t ram)
{
	assert_int_equal(ram & (RAM - 1), 0);
	assert_int_equal(ram / GIB, (ram + RAM - 1) / GIB);
}

static void same_figures_wherever_the_host_maps_ram(void **state)
{
	(void)state;
	struct figures ref, f;
	uintptr_t ram;
	run(&ref, &ram);
	print("placed by the host", ram, &ref);
	uintptr_t rams[1 + 7] = { ram };
	size_t nrams = 1;
	if (sizeof(void *) < 8)
		skip(); /* no address space to steer the placement with */

	/* Holes where the old mapping fits only with the RAM across a 1 GiB
	 * boundary G (top-down, the mapping takes the top of the hole, 2 MiB
	 * aligned, and the RAM starts at the next 4 MiB: 4 MiB above the
	 * hole's start): the RAM would straddle G in its middle, near its
	 * start and near its end; then just below G and just above. Last,
	 * holes where the new reservation (twice the RAM) fits only across G. */
	static const struct {
		int64_t at_mib, mib;     /* the hole, from G */
	} holes[] = {
		{ -20, HOLE / MIB }, { -32, HOLE / MIB }, { -8, HOLE / MIB },
		{ -36, HOLE / MIB }, { -4, HOLE / MIB }, { -40, 80 }, { -70, 80 },
	};
	unsigned steered = 0;
	for (size_t i = 0; i < MM_ARRAY_SIZE(holes); i++) {
		size_t len = 3 * GIB;
		char *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			skip();
		char *g = (char *)MM_ALIGN_UP((uintptr_t)r + GIB, (uintptr_t)GIB);
		char *hole = g + holes[i].at_mib * (int64_t)MIB;
		size_t hlen = (size_t)holes[i].mib * MIB;
		assert_int_equal(munmap(hole, hlen), 0);
		run(&f, &ram);
		/* give the reservation back around the hole (the machine, if it
		 * went into the hole, is gone already) */
		assert_int_equal(munmap(r, (size_t)(hole - r)), 0);
		assert_int_equal(munmap(hole + hlen, (size_t)(r + len - (hole + hlen))), 0);
		char what[64];
		snprintf(what, sizeof(what), "hole G%+lld MiB, %lld MiB", (long long)holes[i].at_mib,
			 (long long)holes[i].mib);
		print(what, ram, &f);
		if (ram >= (uintptr_t)hole && ram < (uintptr_t)hole + hlen)
			steered++;
		rams[nrams++] = ram;
		if (memcmp(&f, &ref, sizeof(f)) != 0)
			fail_msg("%s (RAM at %#llx): the figures differ from the run placed by the host",
				 what, (unsigned long long)ram);
	}
	printf("# %u of %zu runs went into the hole\n", steered, MM_ARRAY_SIZE(holes));
	for (size_t i = 0; i < nrams; i++)
		check_placement(rams[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_figures_wherever_the_host_maps_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
