/* cost.c — memory accounting and the cost model.
 *
 * Accounting reads the machine's counters (frames by use) and the buddy and
 * slab instances, as Linux's si_meminfo()/meminfo_proc_show() read the zone
 * and node counters: MemTotal is the RAM the buddy manages minus what boot
 * took (kernel page tables, the zero page), as memblock reservations are
 * left out of MemTotal on Linux.
 *
 * Cost model: every access pays a TLB lookup (tlb_ns) and the memory
 * reference itself (mem_ns); a TLB miss adds its page walk's memory
 * references (one per level; walk_refs counts them, dirty-bit walks
 * included); a fault adds the kernel's entry and work (fault_ns) and a
 * major fault a disk transfer (disk_ns):
 *
 *   EAT = tlb + mem + (walk_refs * mem + faults * fault + majors * disk) / accesses
 *
 * This is the textbook effective-access-time formula (seed 004's latency
 * table: TLB ~1 ns, memory ~100 ns, disk ~5 ms) fed with counted events
 * instead of assumed ratios. Caches between the CPU and RAM are not modelled.
 */
#include "sim_internal.h"

/* si_mem_available(): free pages above the reserves, plus the page cache
 * and reclaimable slab that could be freed, less what reclaim would leave
 * (half of it, up to the low watermarks). Shmem is not reclaimable here, and
 * mmkit has no reclaimable slab. */
static uint64_t mem_available(struct mm_machine *m, const struct mm_meminfo *mi)
{
	uint64_t reserve = 0, wmark_low = 0;
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = mm_buddy_zone(m->buddy, (enum mm_zone_type)zi);
		if (!z)
			continue;
		uint64_t maxres = 0;
		for (int cz = 0; cz < MM_NR_ZONES; cz++)
			maxres = MM_MAX(maxres, mm_zone_lowmem_reserve(z, (enum mm_zone_type)cz));
		uint64_t res = maxres + mm_zone_wmark(z, MM_WMARK_HIGH);
		reserve += MM_MIN(res, mm_zone_managed_pages(z));
		wmark_low += mm_zone_wmark(z, MM_WMARK_LOW);
	}
	int64_t avail = (int64_t)mi->free_pages - (int64_t)reserve;
	uint64_t pagecache = mi->cached_pages - mi->shmem_pages;
	pagecache -= MM_MIN(pagecache / 2, wmark_low);
	avail += (int64_t)pagecache;
	return avail < 0 ? 0 : (uint64_t)avail;
}

void mm_machine_meminfo(struct mm_machine *m, struct mm_meminfo *out)
{
	memset(out, 0, sizeof(*out));
	struct mm_kmem_stats ks;
	mm_kmem_stats(m->kmem, &ks);
	uint64_t managed = m->nr_pages - mm_buddy_reserved_pages(m->buddy);
	out->total_pages = managed - m->boot_pages;
	out->free_pages = mm_buddy_free_pages(m->buddy);
	struct mm_zone *hz = mm_buddy_zone(m->buddy, MM_ZONE_HIGHMEM);
	if (hz) {
		out->high_total_pages = mm_zone_managed_pages(hz);
		out->high_free_pages = mm_zone_free_pages(hz);
	}
	out->anon_pages = m->anon_pages;
	out->pagetable_pages = m->pagetable_pages;
	out->slab_pages = ks.slab_pages + ks.large_pages + ks.pagemap_pages + m->kmem_self_pages;
	out->slab_pagemap_pages = ks.pagemap_pages;
	out->kernel_pages = m->kernel_pages;
	out->boot_pages = m->boot_pages;
	out->cached_pages = m->cache_pages;
	out->shmem_pages = m->shmem_pages;
	struct sim_mapping *map;
	mm_list_for_each_entry(map, &m->mappings, node)
		for (uint64_t i = 0; i < map->cap; i++)
			if (map->pages[i]) {
				out->mapped_pages += map->pages[i]->mapcount != 0;
				out->dirty_pages += map->kind == SIM_MAP_FILE &&
						    mm_page_test_flag(map->pages[i], MM_PG_DIRTY);
			}
	out->available_pages = mem_available(m, out);
	/* (totalram_pages - hugetlb) * overcommit_ratio (50) / 100 + swap */
	out->commit_limit = (out->total_pages - (m->huge_total << m->huge_order)) * 50 / 100;
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	out->commit_limit += si.total_pages;
	const struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		out->committed_as += t->mm->committed;
}

double mm_effective_access_time(const struct mm_machine *m, const struct mm_counters *c)
{
	if (!c->accesses)
		return 0.0;
	const struct mm_latency *l = &m->cfg.lat;
	double n = (double)c->accesses;
	double extra = (double)c->walk_refs * l->mem_ns +
		       (double)(c->min_flt + c->maj_flt) * l->fault_ns + (double)c->maj_flt * l->disk_ns;
	return l->tlb_ns + l->mem_ns + extra / n;
}

uint64_t mm_machine_drop_caches(struct mm_machine *m)
{
	uint64_t before = mm_buddy_free_pages(m->buddy);
	sim_drop_page_cache(m);
	sim_shrink_slab_caches(m);
	return mm_buddy_free_pages(m->buddy) - before;
}
