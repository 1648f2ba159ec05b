/* machine.c — booting and tearing down a simulated machine.
 *
 * RAM is one host mmap region (mm_buddy_create_mmap) managed by the buddy
 * allocator in real-memory mode: frame PFN lives at ram + (PFN << 12), so the
 * physical address of a byte is PFN << 12 | offset and every frame holds
 * real bytes. PFN 0 is reserved, as Linux reserves the first page (it is the
 * BIOS data area), so PFN 0 never appears in a present entry. A mem=-style
 * reservation keeps the top `reserve_bytes` out of the allocator.
 *
 * Boot then builds, as Linux's setup_arch()/mm_init() do:
 *  - the slab instance over the buddy (tasks, mm_structs, VMAs, reverse-map
 *    items are slab objects in simulated RAM, so they show in Slab);
 *  - the shared zero page (empty_zero_page) and the GDT's page;
 *  - init_mm's page tables: the direct map of RAM at PAGE_OFFSET with the
 *    largest pages the mode has (1 GiB with gbpages, else 2 MiB; 4 MiB PSE
 *    pages on 32-bit, lowmem only: 896 MiB at most), global and supervisor.
 *    Every process's root copies the kernel half of this root (Linux's
 *    pgd_alloc -> pgd_ctor), so the kernel half is shared;
 *  - the hugetlb pool (vm.nr_hugepages) and the TLBs.
 * Boot allocations are counted in boot_pages and left out of MemTotal, as
 * memblock allocations are.
 *
 * Cost: boot is O(RAM / large page) plus the buddy's O(frames) setup.
 * Reference: arch/x86/mm/init.c (init_memory_mapping), init_64.c, init_32.c.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

void mm_machine_config_init(struct mm_machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_bytes = 64ULL << 20;
	cfg->paging = MM_PAGING_4LEVEL;
	cfg->pcid = true;
	cfg->zones = true;
	cfg->gbpages = true;
	cfg->dtlb_4k = (struct mm_tlb_geometry){ 64, 4 };
	cfg->dtlb_large = (struct mm_tlb_geometry){ 32, 4 };
	cfg->dtlb_1g = (struct mm_tlb_geometry){ 4, 4 };
	cfg->itlb_4k = (struct mm_tlb_geometry){ 128, 8 };
	cfg->itlb_large = (struct mm_tlb_geometry){ 8, 8 };
	cfg->stlb = (struct mm_tlb_geometry){ 1536, 12 };
	cfg->lat = (struct mm_latency){ 1.0, 100.0, 5e6, 1000.0 };
	cfg->stack_rlimit = 8ULL << 20;
	cfg->stack_guard_gap = 256ULL << MM_PAGE_SHIFT;
	cfg->mmap_min_addr = 65536;
	cfg->hz = 100;
	cfg->dirty_writeback_centisecs = 500;
	cfg->dirty_expire_centisecs = 3000;
	cfg->policy_tick_centisecs = 100;
}

/* ---- paging mode and layout ------------------------------------------------ */

static void setup_paging(struct mm_machine *m)
{
	struct sim_paging *pg = &m->pg;
	struct sim_layout *l = &m->lay;
	uint64_t ram = m->cfg.ram_bytes;

	memset(pg, 0, sizeof(*pg));
	memset(l, 0, sizeof(*l));
	pg->levels = m->cfg.paging;
	pg->large_level = 1;
	if (pg->levels == 2) {
		pg->entry_size = 4;
		pg->index_bits = 10;
		pg->shift[0] = 12;
		pg->shift[1] = 22;
		pg->pfn_mask = 0xfffff000ULL;
		pg->nx = false;
		pg->max_large_level = 1;
		pg->user_pgd_entries = 768;     /* 3 GiB / 4 MiB */
		pg->va_mask = 0xffffffffULL;
		l->task_size = 0xc0000000ULL;   /* TASK_SIZE = PAGE_OFFSET */
		l->map_window = l->task_size;
		l->page_offset = 0xc0000000ULL;
		l->direct_map_bytes = MM_MIN(ram, 896ULL << 20);
		/* VMALLOC_START = high_memory + VMALLOC_OFFSET (8 MiB), up to the
		 * pkmap area below the fixmap. */
		l->vmalloc_start = l->page_offset + l->direct_map_bytes + (8ULL << 20);
		l->vmalloc_end = 0xff800000ULL - 2 * MM_PAGE_SIZE;
		l->fixaddr_top = 0xfffff000ULL;
		l->elf_base = 0x08048000ULL;
	} else {
		pg->entry_size = 8;
		pg->index_bits = 9;
		for (unsigned int i = 0; i < pg->levels; i++)
			pg->shift[i] = 12 + 9 * i;
		pg->pfn_mask = 0x000ffffffffff000ULL;
		pg->nx = true;
		pg->max_large_level = 2;
		pg->user_pgd_entries = 256;
		if (pg->levels == 4) {
			pg->va_mask = (1ULL << 48) - 1;
			l->task_size = (1ULL << 47) - MM_PAGE_SIZE;
			l->page_offset = 0xffff888000000000ULL;
			l->vmalloc_start = 0xffffc90000000000ULL;
			l->vmalloc_end = 0xffffe8ffffffffffULL + 1;
		} else {
			pg->va_mask = (1ULL << 57) - 1;
			l->task_size = (1ULL << 56) - MM_PAGE_SIZE;
			l->page_offset = 0xff11000000000000ULL;
			l->vmalloc_start = 0xffa0000000000000ULL;
			l->vmalloc_end = 0xffd1ffffffffffffULL + 1;
		}
		/* Without a hint, mmap and the stack stay below 47 bits even
		 * with LA57 (DEFAULT_MAP_WINDOW). */
		l->map_window = (1ULL << 47) - MM_PAGE_SIZE;
		l->direct_map_bytes = ram;
		l->fixaddr_top = 0xffffffffff7ff000ULL;
		l->elf_base = 0x400000ULL;
	}
}

/* ---- page allocation ------------------------------------------------------- */

struct mm_page *sim_alloc_page(struct mm_machine *m, mm_gfp_t gfp, unsigned int order)
{
	struct mm_page *p = mm_alloc_pages(m->buddy, gfp, order);
	if (mm_unlikely(!p)) {
		m->pgalloc_fail++;
		m->oom_gfp = gfp;
		m->oom_order = order;
	}
	return p;
}

/* A zeroed frame for the kernel's boot tables. */
static int boot_table(struct mm_machine *m, uint64_t *pfn)
{
	struct mm_page *p = sim_alloc_page(m, MM_GFP_ZERO | MM_GFP_HIGH, 0);
	if (!p)
		return -MM_ENOMEM;
	mm_page_set_flag(p, MM_PG_PAGETABLE | SIM_PG_BOOT);
	m->boot_pages++;
	*pfn = page_pfn(m, p);
	return 0;
}

/* Map [va, va + size) to [pa, ...) in the kernel root with the largest pages
 * alignment allows (up to max_lvl), supervisor, global, writable, NX. */
static int kernel_map(struct mm_machine *m, uint64_t va, uint64_t pa, uint64_t size,
		      unsigned int max_lvl)
{
	uint64_t leaf = PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G | (m->pg.nx ? PTE_NX : 0);
	while (size) {
		unsigned int lvl = max_lvl;
		while (lvl > 0 && ((va | pa) & (level_size(m, lvl) - 1) || size < level_size(m, lvl)))
			lvl--;
		uint64_t table = m->kernel_pgd_pfn;
		for (unsigned int l = m->pg.levels - 1; l > lvl; l--) {
			void *ep = ent_ptr(m, table, ent_index(m, va, l));
			uint64_t e = ent_get(m, ep);
			if (!(e & PTE_P)) {
				uint64_t pfn;
				int err = boot_table(m, &pfn);
				if (err)
					return err;
				e = (pfn << MM_PAGE_SHIFT) | PTE_KTABLE;
				ent_set(m, ep, e);
			}
			table = ent_pfn(m, e);
		}
		ent_set(m, ent_ptr(m, table, ent_index(m, va, lvl)), pa | leaf | (lvl ? PTE_PS : 0));
		m->direct_map_leaves[lvl]++;
		va += level_size(m, lvl);
		pa += level_size(m, lvl);
		size -= level_size(m, lvl);
	}
	return 0;
}

static int boot_kernel_tables(struct mm_machine *m)
{
	int err = boot_table(m, &m->kernel_pgd_pfn);
	if (err)
		return err;
	unsigned int max_lvl = (m->pg.levels > 2 && m->cfg.gbpages) ? 2 : 1;
	return kernel_map(m, m->lay.page_offset, 0, m->lay.direct_map_bytes, max_lvl);
}

/* ---- create / destroy ------------------------------------------------------ */

static bool geometry_ok(const struct mm_tlb_geometry *g, bool optional)
{
	if (g->entries == 0)
		return optional;
	if (g->ways == 0 || g->entries % g->ways)
		return false;
	return MM_IS_POW2(g->entries / g->ways);
}

int mm_machine_create(const struct mm_machine_config *cfg, struct mm_machine **out)
{
	const struct mm_machine_config *c = cfg;
	if (c->ram_bytes < (8ULL << 20) || c->ram_bytes % (4ULL << 20))
		return -MM_EINVAL;
	if (c->paging != MM_PAGING_2LEVEL && c->paging != MM_PAGING_4LEVEL &&
	    c->paging != MM_PAGING_5LEVEL)
		return -MM_EINVAL;
	if (c->paging == MM_PAGING_2LEVEL && c->ram_bytes > (4ULL << 30))
		return -MM_EINVAL;
	if (c->reserve_bytes % MM_PAGE_SIZE || c->reserve_bytes >= c->ram_bytes / 2)
		return -MM_EINVAL;
	if (!geometry_ok(&c->dtlb_4k, false) || !geometry_ok(&c->dtlb_large, true) ||
	    !geometry_ok(&c->dtlb_1g, true) || !geometry_ok(&c->itlb_4k, false) ||
	    !geometry_ok(&c->itlb_large, true) || !geometry_ok(&c->stlb, true))
		return -MM_EINVAL;

	struct mm_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return -MM_ENOMEM;
	m->cfg = *c;
	m->nr_pages = c->ram_bytes >> MM_PAGE_SHIFT;
	setup_paging(m);
	mm_list_init(&m->tasks);
	mm_list_init(&m->zombies);
	mm_list_init(&m->mappings);
	mm_list_init(&m->shms);
	mm_list_init(&m->vmap_areas);
	m->next_pid = 1;
	m->next_ctx_id = 1;

	struct mm_pfn_range res[2] = { { 0, 1 }, { 0, 0 } };
	size_t nres = 1;
	if (c->reserve_bytes) {
		res[1].nr = c->reserve_bytes >> MM_PAGE_SHIFT;
		res[1].start = m->nr_pages - res[1].nr;
		nres = 2;
	}
	struct mm_buddy_config bc;
	mm_buddy_config_init(&bc, 0, m->nr_pages);
	bc.zones = c->zones;
	/* 32-bit: DMA, Normal up to 896 MiB (the direct map), HighMem above */
	bc.zone_layout = c->paging == MM_PAGING_2LEVEL ? MM_ZONES_X86_32 : MM_ZONES_X86_64;
	bc.no_pcp = true;            /* single CPU, exact counts */
	bc.reserved = res;
	bc.nr_reserved = nres;
	int err = mm_buddy_create_mmap(&bc, &m->buddy);
	if (err)
		goto fail;
	/* PFN 0 is reserved but its address is still the base of RAM. */
	m->ram = (uint8_t *)mm_page_address(m->buddy, mm_pfn_to_page(m->buddy, 0));
	err = -MM_ENOMEM;
	if (!m->ram)
		goto fail;
	m->rmap = calloc(m->nr_pages, sizeof(*m->rmap));
	if (!m->rmap)
		goto fail;

	/* The slab instance lives in simulated RAM; its page source is kept
	 * inside the machine, which outlives it. */
	m->ps = mm_buddy_page_source(m->buddy);
	uint64_t free_before = mm_buddy_free_pages(m->buddy);
	/* Default flags: MMKIT_DEBUG builds get the slab's debug checks
	 * (red zones, poison, free-time checks) on every kernel object. */
	m->kmem = mm_kmem_create(&m->ps, 0);
	if (!m->kmem)
		goto fail;
	/* mm_kmem_stats() leaves out the instance's own descriptor pages */
	struct mm_kmem_stats ks;
	mm_kmem_stats(m->kmem, &ks);
	m->kmem_self_pages = free_before - mm_buddy_free_pages(m->buddy) -
			     (ks.slab_pages + ks.large_pages + ks.pagemap_pages);
	m->task_cache = mm_kmem_cache_create(m->kmem, "task_struct", sizeof(struct mm_task), 0, 0, NULL);
	m->mm_cache = mm_kmem_cache_create(m->kmem, "mm_struct", sizeof(struct sim_mm), 0, 0, NULL);
	m->vma_cache = mm_kmem_cache_create(m->kmem, "vm_area_struct", sizeof(struct sim_vma), 0, 0, NULL);
	m->rmap_cache = mm_kmem_cache_create(m->kmem, "pte_chain", sizeof(struct sim_rmap), 0, 0, NULL);
	if (!m->task_cache || !m->mm_cache || !m->vma_cache || !m->rmap_cache)
		goto fail;
	/* The slab allocator builds its per-thread state on a thread's first
	 * use; do it now so the boot figures include it. */
	struct mm_kmem_cache *caches[] = { m->task_cache, m->mm_cache, m->vma_cache, m->rmap_cache };
	for (size_t i = 0; i < MM_ARRAY_SIZE(caches); i++) {
		void *obj = mm_kmem_cache_alloc(caches[i], 0);
		if (!obj)
			goto fail;
		mm_kmem_cache_free(caches[i], obj);
	}
	for (size_t i = 0; i < MM_ARRAY_SIZE(sim_kmalloc_sizes); i++) {
		void *obj = mm_kmalloc(m->kmem, sim_kmalloc_sizes[i], 0);
		if (!obj)
			goto fail;
		mm_kfree(m->kmem, obj);
	}

	/* empty_zero_page */
	struct mm_page *zp = sim_alloc_page(m, MM_GFP_ZERO, 0);
	if (!zp)
		goto fail;
	mm_page_set_flag(zp, SIM_PG_ZERO | SIM_PG_BOOT);
	m->zero_pfn = page_pfn(m, zp);
	m->boot_pages++;

	err = sim_gdt_init(m);
	if (err)
		goto fail;
	err = boot_kernel_tables(m);
	if (err)
		goto fail;
	err = sim_hugetlb_init(m);
	if (err)
		goto fail;
	err = sim_tlb_init(m);
	if (err)
		goto fail;
	/* swap first: its hooks and the reclaim layer's share the context */
	err = sim_swap_init(m);
	if (err)
		goto fail;
	err = sim_reclaim_init(m);
	if (err)
		goto fail;
	m->cpu.cr3_pfn = m->kernel_pgd_pfn;
	m->managed_at_boot = mm_buddy_free_pages(m->buddy);
	*out = m;
	return 0;
fail:
	mm_machine_destroy(m);
	return err;
}

void mm_machine_destroy(struct mm_machine *m)
{
	if (!m)
		return;
	while (!mm_list_empty(&m->tasks))
		mm_exit(m, mm_list_entry(m->tasks.next, struct mm_task, node));
	while (!mm_list_empty(&m->zombies))
		mm_exit(m, mm_list_entry(m->zombies.next, struct mm_task, node));
	if (m->kmem) {
		sim_kalloc_destroy(m);
		sim_shm_destroy_all(m);
		while (!mm_list_empty(&m->mappings)) {
			struct sim_mapping *map = mm_list_entry(m->mappings.next, struct sim_mapping, node);
			map->refs = 0;
			sim_mapping_destroy(m, map);
		}
	}
	sim_reclaim_destroy(m);
	sim_swap_destroy(m);
	sim_tlb_destroy(m);
	sim_hugetlb_destroy(m);
	mm_kmem_destroy(m->kmem);
	free(m->rmap);
	mm_buddy_destroy(m->buddy);
	sim_klog_destroy(m);
	free(m);
}

struct mm_buddy *mm_machine_buddy(struct mm_machine *m)
{
	return m->buddy;
}

struct mm_kmem *mm_machine_kmem(struct mm_machine *m)
{
	return m->kmem;
}

const struct mm_machine_config *mm_machine_config(const struct mm_machine *m)
{
	return &m->cfg;
}

void *mm_phys_to_host(struct mm_machine *m, uint64_t pa)
{
	if (pa >= (m->nr_pages << MM_PAGE_SHIFT))
		return NULL;
	return m->ram + pa;
}
