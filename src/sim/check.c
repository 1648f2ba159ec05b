/* check.c — mm_machine_check(): every invariant of the machine, walked.
 *
 *  - the buddy allocator and the slab instance pass their own checkers;
 *  - every mm: the VMA tree and list (vma.c: order, gaps, counts);
 *  - its page tables: every table frame is a PageTable frame, counted in the
 *    mm's pgtables and the machine's PageTables; every table below the root
 *    covers part of some VMA (no leaked tables); every present or PROT_NONE
 *    leaf lies inside a VMA, with rights no wider than the VMA's (RW only
 *    with VM_WRITE; U/S set; NX exactly when the VMA is not executable;
 *    PROT_NONE exactly when it has no rights); a writable private PTE maps
 *    an anonymous page with a single mapping (COW is never bypassed); the
 *    zero page is never writable; rss[] equals the PTEs by kind;
 *  - every frame: a user frame's mapcount equals the PTEs that map it and
 *    the length of its reverse-map chain, every chain item names a PTE
 *    mapping it, refcount equals mapcount (anonymous); a frame that is not a
 *    user frame is mapped by no PTE and has no chain;
 *  - frame accounting: free + reserved + boot + page tables + user frames +
 *    slab + kernel + huge pool = all frames;
 *  - every TLB entry the CPU could use matches the page tables (frame, and
 *    rights no wider): a missing TLB flush shows here.
 *
 * Cost: O(frames + page-table entries + VMAs). Tests call it after every
 * step of their randomized scenarios.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_internal.h"

struct checker {
	struct mm_machine *m;
	uint32_t *maps;          /* PTEs seen per PFN */
	uint64_t tables;         /* tables seen in this mm */
	int64_t rss[NR_MM_COUNTERS];
	uint64_t huge;           /* huge entries seen in this mm */
	int bad;
};

MM_PRINTF(2, 3)
static void fail(struct checker *c, const char *fmt, ...)
{
	if (c->bad++ > 10)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mm_machine_check: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool rmap_has(struct mm_machine *m, uint64_t pfn, struct sim_mm *mm, uint64_t va)
{
	for (struct sim_rmap *r = m->rmap[pfn]; r; r = r->next)
		if (r->mm == mm && r->va == va)
			return true;
	return false;
}

static void check_leaf(struct checker *c, struct sim_mm *mm, uint64_t va, uint64_t e)
{
	struct mm_machine *m = c->m;
	struct sim_vma *v = sim_find_vma(mm, va);
	if (!v || v->vm_start > va) {
		fail(c, "pid %d: PTE %#llx at %#llx outside every VMA", mm->owner->pid,
		     (unsigned long long)e, (unsigned long long)va);
		return;
	}
	uint64_t f = v->vm_flags;
	bool none = !(f & VM_ACCESS_FLAGS);
	if (none != !(e & PTE_P) || (!(e & PTE_P) && !(e & PTE_PROTNONE)))
		fail(c, "pid %d: PTE %#llx at %#llx: present bit vs flags %#llx", mm->owner->pid,
		     (unsigned long long)e, (unsigned long long)va, (unsigned long long)f);
	if ((e & PTE_RW) && !(f & VM_WRITE))
		fail(c, "pid %d: writable PTE at %#llx in a read-only VMA", mm->owner->pid,
		     (unsigned long long)va);
	if ((e & PTE_P) && !(e & PTE_US))
		fail(c, "pid %d: supervisor PTE at %#llx", mm->owner->pid, (unsigned long long)va);
	if (m->pg.nx && (e & PTE_P) && !!(e & PTE_NX) != !(f & VM_EXEC))
		fail(c, "pid %d: NX at %#llx disagrees with the VMA", mm->owner->pid,
		     (unsigned long long)va);
	uint64_t pfn = ent_pfn(m, e);
	if (pfn == m->zero_pfn) {
		if (e & PTE_RW)
			fail(c, "pid %d: zero page writable at %#llx", mm->owner->pid,
			     (unsigned long long)va);
		return;
	}
	struct mm_page *p = pfn >= m->nr_pages ? NULL : pfn_page(m, pfn);
	if (!p || !mm_page_test_flag(p, SIM_PG_USER) || !mm_page_is_head(p)) {
		fail(c, "pid %d: PTE at %#llx maps pfn %#llx, not a user frame", mm->owner->pid,
		     (unsigned long long)va, (unsigned long long)pfn);
		return;
	}
	c->maps[pfn]++;
	c->rss[sim_rss_kind(p)]++;
	if (!mm_page_test_flag(p, MM_PG_ANON)) {
		uint64_t idx = v->vm_pgoff + ((va - v->vm_start) >> MM_PAGE_SHIFT);
		if (p->mapping != v->mapping || p->index != idx)
			fail(c, "pid %d: cache page at %#llx is not page %llu of the VMA's object",
			     mm->owner->pid, (unsigned long long)va, (unsigned long long)idx);
		if ((e & PTE_RW) && v->mapping->kind == SIM_MAP_FILE && !(e & PTE_D))
			fail(c, "pid %d: writable clean PTE of a shared file page at %#llx",
			     mm->owner->pid, (unsigned long long)va);
	}
	if (!rmap_has(m, pfn, mm, va))
		fail(c, "pid %d: pfn %#llx mapped at %#llx has no rmap item", mm->owner->pid,
		     (unsigned long long)pfn, (unsigned long long)va);
	if ((e & PTE_RW) && !(f & VM_SHARED) && !(p->mapcount == 1 && mm_page_test_flag(p, MM_PG_ANON)))
		fail(c, "pid %d: writable private PTE at %#llx maps a shared page (mapcount %d)",
		     mm->owner->pid, (unsigned long long)va, p->mapcount);
}

static void check_huge(struct checker *c, struct sim_mm *mm, uint64_t va, uint64_t e)
{
	struct mm_machine *m = c->m;
	struct sim_vma *v = sim_find_vma(mm, va);
	uint64_t pfn = ent_pfn(m, e) & ~((1ULL << m->huge_order) - 1);
	struct mm_page *p = pfn < m->nr_pages ? pfn_page(m, pfn) : NULL;
	if (!v || v->vm_start > va || !(v->vm_flags & VM_HUGETLB) ||
	    va + (1ULL << m->huge_shift) > v->vm_end) {
		fail(c, "pid %d: huge entry at %#llx outside a hugetlb VMA", mm->owner->pid,
		     (unsigned long long)va);
		return;
	}
	if (!p || !mm_page_test_flag(p, SIM_PG_HUGE) || !mm_page_test_flag(p, SIM_PG_USER)) {
		fail(c, "pid %d: huge entry at %#llx maps no pool page in use", mm->owner->pid,
		     (unsigned long long)va);
		return;
	}
	if ((e & PTE_RW) && !(v->vm_flags & VM_WRITE))
		fail(c, "pid %d: writable huge entry in a read-only VMA", mm->owner->pid);
	if ((e & PTE_RW) && p->mapcount != 1)
		fail(c, "pid %d: writable huge entry on a shared page", mm->owner->pid);
	c->maps[pfn]++;
	c->huge++;
	if (!rmap_has(m, pfn, mm, va))
		fail(c, "pid %d: huge page at %#llx has no rmap item", mm->owner->pid,
		     (unsigned long long)va);
}

static void check_table(struct checker *c, struct sim_mm *mm, uint64_t table, unsigned int lvl,
			uint64_t base)
{
	struct mm_machine *m = c->m;
	struct mm_page *tp = pfn_page(m, table);
	c->tables++;
	if (!tp || !mm_page_test_flag(tp, MM_PG_PAGETABLE) || mm_page_test_flag(tp, SIM_PG_BOOT))
		fail(c, "pid %d: table pfn %#llx is not a process page table", mm->owner->pid,
		     (unsigned long long)table);
	uint64_t sz = level_size(m, lvl);
	unsigned int n = lvl == m->pg.levels - 1 ? m->pg.user_pgd_entries : entries_per_table(m);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t s = base + i * sz;
		uint64_t e = ent_get(m, ent_ptr(m, table, i));
		if (!e)
			continue;
		if (lvl == 0) {
			if (pte_present_sw(e))
				check_leaf(c, mm, s, e);
			else
				c->rss[MM_SWAPENTS]++;
			continue;
		}
		if ((e & PTE_PS) && lvl == 1 && pte_present_sw(e)) {
			check_huge(c, mm, s, e);
			continue;
		}
		if (!(e & PTE_P) || (e & PTE_PS)) {
			fail(c, "pid %d: level-%u entry %#llx at %#llx unexpected", mm->owner->pid, lvl,
			     (unsigned long long)e, (unsigned long long)s);
			continue;
		}
		if ((e & PTE_TABLE) != PTE_TABLE)
			fail(c, "pid %d: table entry %#llx lacks _PAGE_TABLE bits", mm->owner->pid,
			     (unsigned long long)e);
		if (!sim_find_vma_intersection(mm, s, s + sz))
			fail(c, "pid %d: table for %#llx..%#llx covers no VMA (leaked)", mm->owner->pid,
			     (unsigned long long)s, (unsigned long long)(s + sz));
		check_table(c, mm, ent_pfn(m, e), lvl - 1, s);
	}
}

static void check_kernel_half(struct checker *c, struct sim_mm *mm)
{
	struct mm_machine *m = c->m;
	unsigned int u = m->pg.user_pgd_entries, n = entries_per_table(m);
	for (unsigned int i = u; i < n; i++)
		if (ent_get(m, ent_ptr(m, mm->pgd_pfn, i)) != ent_get(m, ent_ptr(m, m->kernel_pgd_pfn, i))) {
			fail(c, "pid %d: kernel root entry %u differs from init_mm", mm->owner->pid, i);
			return;
		}
}

/* ---- the TLBs ---------------------------------------------------------------------- */
/* Every entry the CPU could still use must agree with the page tables: same
 * frame, rights no wider than the walk would give now (a missing flush
 * would show here). Entries of a PCID slot that no address space owns are
 * unusable until the slot is reused, which flushes them. */

static struct sim_mm *mm_of_ctx(struct mm_machine *m, uint64_t ctx)
{
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		if (t->mm->ctx_id == ctx)
			return t->mm;
	return NULL;
}

static void check_tlb_array(struct checker *c, struct sim_tlb_array *a, const char *name)
{
	struct mm_machine *m = c->m;
	if (!a->e)
		return;
	size_t n = (a->set_mask + 1) * a->ways;
	unsigned int valid = 0;
	for (size_t i = 0; i < n; i++) {
		struct sim_tlb_entry *e = &a->e[i];
		if (e->tag == TLB_INVALID)
			continue;
		valid++;
		bool global = e->mask != ~0ULL;
		uint64_t pcid = e->tag & 0xfff;
		unsigned int code = (e->tag >> 12) & 3;
		unsigned int shift = code == TLB_SZ_4K ? 12 : code == TLB_SZ_1G ? 30 : m->pg.shift[1];
		uint64_t va = (e->tag >> 14) << shift;
		if (m->pg.levels > 2) {
			unsigned int bits = m->pg.levels == 4 ? 48 : 57;
			va = (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
		}
		uint64_t root;
		if (global) {
			root = m->kernel_pgd_pfn;
		} else if (m->cfg.pcid) {
			if (!pcid) {
				root = m->kernel_pgd_pfn;
			} else {
				uint64_t ctx = m->cpu.asid[pcid - 1].ctx_id;
				struct sim_mm *mm = ctx ? mm_of_ctx(m, ctx) : NULL;
				if (!mm)
					continue;   /* a free slot: flushed before reuse */
				root = mm->pgd_pfn;
			}
		} else {
			root = m->cpu.cr3_pfn;
		}
		/* the walk, in software, with the rights combined over the levels */
		uint64_t table = root, rw = PTE_RW, us = PTE_US, nx = 0, leaf = 0;
		unsigned int lvl = m->pg.levels;
		while (lvl-- > 0) {
			uint64_t ent = ent_get(m, ent_ptr(m, table, ent_index(m, va, lvl)));
			if (!(ent & PTE_P))
				break;
			rw &= ent;
			us &= ent;
			nx |= ent & PTE_NX;
			if (lvl == 0 || ((ent & PTE_PS) && lvl <= m->pg.max_large_level)) {
				leaf = ent;
				break;
			}
			table = ent_pfn(m, ent);
		}
		uint32_t f = (uint32_t)(e->pa_flags & TLB_FLAGS);
		if (!(leaf & PTE_P)) {
			fail(c, "%s: stale entry for %#llx (pcid %llu): no translation now", name,
			     (unsigned long long)va, (unsigned long long)pcid);
			continue;
		}
		uint64_t lsz = level_size(m, lvl);
		uint64_t want = (leaf & m->pg.pfn_mask & ~(lsz - 1)) + (va & (lsz - 1) & ~((1ULL << shift) - 1));
		if ((e->pa_flags & ~(uint64_t)TLB_FLAGS) != want || ((f & TLB_W) && !rw) ||
		    ((f & TLB_U) && !us) || (!(f & TLB_NX) && nx && m->pg.nx) ||
		    ((f & TLB_D) && !(leaf & PTE_D)))
			fail(c, "%s: stale entry for %#llx (pcid %llu): pa %#llx flags %#x, tables say pa %#llx",
			     name, (unsigned long long)va, (unsigned long long)pcid,
			     (unsigned long long)(e->pa_flags & ~(uint64_t)TLB_FLAGS), f, (unsigned long long)want);
	}
	if (valid > a->nvalid)
		fail(c, "%s: %u valid entries, nvalid %u", name, valid, a->nvalid);
}

static void check_tlbs(struct checker *c)
{
	struct sim_tlb *t = &c->m->tlb;
	check_tlb_array(c, &t->d4k, "dtlb-4k");
	check_tlb_array(c, &t->dlarge, "dtlb-large");
	check_tlb_array(c, &t->d1g, "dtlb-1g");
	check_tlb_array(c, &t->i4k, "itlb-4k");
	check_tlb_array(c, &t->ilarge, "itlb-large");
	check_tlb_array(c, &t->stlb, "stlb");
}

int mm_machine_check(struct mm_machine *m)
{
	struct checker c = { .m = m };
	if (mm_buddy_check(m->buddy))
		fail(&c, "buddy check failed");
	if (mm_kmem_check(m->kmem))
		fail(&c, "slab check failed");
	c.maps = calloc(m->nr_pages, sizeof(*c.maps));
	if (!c.maps)
		return -MM_ENOMEM;
	check_tlbs(&c);
	uint64_t tables = 0;
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node) {
		struct sim_mm *mm = t->mm;
		if (mm->owner != t)
			fail(&c, "pid %d: mm owner mismatch", t->pid);
		if (sim_vma_check(m, mm))
			fail(&c, "pid %d: VMA check failed", t->pid);
		c.tables = 0;
		c.huge = 0;
		memset(c.rss, 0, sizeof(c.rss));
		check_table(&c, mm, mm->pgd_pfn, m->pg.levels - 1, 0);
		check_kernel_half(&c, mm);
		if (c.tables != mm->pgtables)
			fail(&c, "pid %d: %llu tables found, %llu counted", t->pid,
			     (unsigned long long)c.tables, (unsigned long long)mm->pgtables);
		for (int i = 0; i < NR_MM_COUNTERS; i++)
			if (c.rss[i] != mm->rss[i])
				fail(&c, "pid %d: rss[%d] is %lld, PTEs say %lld", t->pid, i,
				     (long long)mm->rss[i], (long long)c.rss[i]);
		if (c.huge != mm->huge_pages)
			fail(&c, "pid %d: %llu huge entries, HugetlbPages says %llu", t->pid,
			     (unsigned long long)c.huge, (unsigned long long)mm->huge_pages);
		tables += c.tables;
	}
	if (tables != m->pagetable_pages)
		fail(&c, "PageTables %llu, tables found %llu", (unsigned long long)m->pagetable_pages,
		     (unsigned long long)tables);

	uint64_t user = 0, anon = 0, boot = 0, kern = 0, ptab = 0, cached = 0, shmem = 0;
	uint64_t huge = 0, huge_free = 0;
	for (uint64_t pfn = 0; pfn < m->nr_pages; pfn++) {
		struct mm_page *p = pfn_page(m, pfn);
		unsigned int chain = 0;
		for (struct sim_rmap *r = m->rmap[pfn]; r; r = r->next) {
			chain++;
			void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
			if (!ep || !pte_present_sw(ent_get(m, ep)) || ent_pfn(m, ent_get(m, ep)) != pfn)
				fail(&c, "pfn %#llx: rmap item (pid %d, %#llx) maps something else",
				     (unsigned long long)pfn, r->mm->owner ? r->mm->owner->pid : -1,
				     (unsigned long long)r->va);
		}
		if (mm_page_test_flag(p, SIM_PG_HUGE)) {
			/* a pool page: in use (mapped) or free in the pool */
			huge += 1ULL << m->huge_order;
			if (!mm_page_test_flag(p, SIM_PG_USER)) {
				huge_free++;
				if (c.maps[pfn] || chain)
					fail(&c, "pfn %#llx: free huge page mapped", (unsigned long long)pfn);
			} else if ((uint32_t)p->mapcount != c.maps[pfn] || chain != c.maps[pfn] ||
				   p->refcount != p->mapcount) {
				fail(&c, "pfn %#llx: huge page mapcount %d refcount %d, PTEs %u, chain %u",
				     (unsigned long long)pfn, p->mapcount, p->refcount, c.maps[pfn], chain);
			}
			pfn += (1ULL << m->huge_order) - 1;
			continue;
		}
		if (mm_page_test_flag(p, SIM_PG_BOOT))
			boot++;
		else if (mm_page_test_flag(p, SIM_PG_KERNEL))
			kern++;   /* kalloc frames and kernel tables made after boot */
		else if (mm_page_test_flag(p, MM_PG_PAGETABLE))
			ptab++;
		if (!mm_page_test_flag(p, SIM_PG_USER)) {
			if (c.maps[pfn] || chain)
				fail(&c, "pfn %#llx: not a user frame but mapped %u times (chain %u)",
				     (unsigned long long)pfn, c.maps[pfn], chain);
			continue;
		}
		user++;
		if (!mm_page_is_head(p))
			fail(&c, "pfn %#llx: user frame is free", (unsigned long long)pfn);
		if (mm_page_test_flag(p, MM_PG_ANON))
			anon++;
		if ((uint32_t)p->mapcount != c.maps[pfn] || chain != c.maps[pfn])
			fail(&c, "pfn %#llx: mapcount %d, PTEs %u, rmap chain %u",
			     (unsigned long long)pfn, p->mapcount, c.maps[pfn], chain);
		int cache = mm_page_test_flag(p, SIM_PG_CACHE) ? 1 : 0;
		int swapcache = mm_page_test_flag(p, MM_PG_SWAPCACHE) ? 1 : 0;
		if (p->refcount != p->mapcount + cache + swapcache)
			fail(&c, "pfn %#llx: refcount %d != mapcount %d + cache %d + swap cache %d",
			     (unsigned long long)pfn, p->refcount, p->mapcount, cache, swapcache);
		if (cache) {
			struct sim_mapping *map = p->mapping;
			cached++;
			shmem += map->kind == SIM_MAP_SHMEM;
			if (p->index >= map->cap || map->pages[p->index] != p)
				fail(&c, "pfn %#llx: cache page not at its index %llu",
				     (unsigned long long)pfn, (unsigned long long)p->index);
		} else if (!mm_page_test_flag(p, MM_PG_ANON) || (!p->mapcount && !swapcache)) {
			fail(&c, "pfn %#llx: user frame neither anonymous nor cached", (unsigned long long)pfn);
		}
	}
	if (anon != m->anon_pages)
		fail(&c, "AnonPages %llu, anonymous frames %llu", (unsigned long long)m->anon_pages,
		     (unsigned long long)anon);
	if (cached != m->cache_pages || shmem != m->shmem_pages)
		fail(&c, "Cached %llu/%llu, Shmem %llu/%llu", (unsigned long long)cached,
		     (unsigned long long)m->cache_pages, (unsigned long long)shmem,
		     (unsigned long long)m->shmem_pages);
	uint64_t nr = 0;
	struct sim_mapping *map;
	mm_list_for_each_entry(map, &m->mappings, node) {
		uint64_t k = 0;
		for (uint64_t i = 0; i < map->cap; i++)
			k += map->pages[i] != NULL;
		if (k != map->nrpages || map->refs < 0 || (map->kind == SIM_MAP_SHMEM && !map->refs))
			fail(&c, "mapping %s: %llu pages, nrpages %llu, refs %d", map->name,
			     (unsigned long long)k, (unsigned long long)map->nrpages, map->refs);
		nr += k;
	}
	if (nr != cached)
		fail(&c, "page-cache pages %llu in mappings, %llu frames", (unsigned long long)nr,
		     (unsigned long long)cached);
	if (boot != m->boot_pages || ptab != m->pagetable_pages || kern != m->kernel_pages)
		fail(&c, "boot %llu/%llu, page tables %llu/%llu, kernel %llu/%llu",
		     (unsigned long long)boot, (unsigned long long)m->boot_pages,
		     (unsigned long long)ptab, (unsigned long long)m->pagetable_pages,
		     (unsigned long long)kern, (unsigned long long)m->kernel_pages);
	struct mm_kmem_stats ks;
	mm_kmem_stats(m->kmem, &ks);
	uint64_t slab = ks.slab_pages + ks.large_pages + ks.pagemap_pages + m->kmem_self_pages;
	if (huge != m->huge_total << m->huge_order || huge_free != m->huge_free)
		fail(&c, "huge pool: %llu frames for %llu pages, %llu free / %llu",
		     (unsigned long long)huge, (unsigned long long)m->huge_total,
		     (unsigned long long)huge_free, (unsigned long long)m->huge_free);
	uint64_t sum = mm_buddy_free_pages(m->buddy) + mm_buddy_reserved_pages(m->buddy) + boot + ptab +
		       user + slab + kern + huge;
	if (sum != m->nr_pages)
		fail(&c, "frames: free %llu + reserved %llu + boot %llu + tables %llu + user %llu + "
			 "slab %llu + kernel %llu = %llu, RAM has %llu",
		     (unsigned long long)mm_buddy_free_pages(m->buddy),
		     (unsigned long long)mm_buddy_reserved_pages(m->buddy), (unsigned long long)boot,
		     (unsigned long long)ptab, (unsigned long long)user, (unsigned long long)slab,
		     (unsigned long long)kern, (unsigned long long)sum, (unsigned long long)m->nr_pages);
	free(c.maps);
	if (sim_swap_check(m) || sim_reclaim_check(m))
		c.bad++;
	return c.bad ? -MM_ECORRUPT : 0;
}
