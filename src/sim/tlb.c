/* tlb.c — the translation lookaside buffers of the one simulated CPU.
 *
 * Geometry follows a Skylake-class core: first-level data TLBs per page size
 * (4K, 2M/4M, 1G) and instruction TLBs (4K, 2M/4M), and an optional unified
 * second-level TLB (STLB) holding 4K and 2M/4M translations. Each array is
 * set-associative: the set is the low bits of the virtual page number, a
 * lookup compares every way of the set, and the victim is the invalid way or
 * the least recently used one (exact LRU by a use stamp).
 *
 * Each entry is tagged with the PCID of its address space (Intel SDM vol. 3,
 * 4.10.1): with CR4.PCIDE a CR3 load keeps other PCIDs' entries, and Linux
 * recycles TLB_NR_DYN_ASIDS = 6 PCIDs per CPU in LRU order (a reused slot
 * is flushed). Without PCID every CR3 load flushes all non-global entries.
 * Global entries (the kernel's direct map) match every PCID and survive CR3
 * loads.
 *
 * Invalidation follows Linux's flush_tlb_mm_range(): up to
 * tlb_single_page_flush_ceiling (33) pages are flushed with INVLPG one by
 * one, larger ranges flush the whole PCID. An address space that is not
 * loaded has its PCID's entries invalidated too, counted as a shootdown (on
 * an SMP machine that is an IPI to the CPUs running it).
 *
 * Cost: lookup O(ways); insert O(ways); a full flush O(entries).
 * Reference: Intel SDM vol. 3 4.10; arch/x86/mm/tlb.c.
 */
#include <stdlib.h>

#include "sim_internal.h"

#define FLUSH_CEILING 33

static int array_init(struct sim_tlb_array *a, const struct mm_tlb_geometry *g, unsigned int shift)
{
	a->shift = shift;
	if (!g->entries) {
		a->e = NULL;
		a->set_mask = 0;
		a->ways = 0;
		return 0;
	}
	a->e = malloc(sizeof(*a->e) * g->entries);
	if (!a->e)
		return -MM_ENOMEM;
	a->ways = g->ways;
	a->set_mask = g->entries / g->ways - 1;
	for (unsigned int i = 0; i < g->entries; i++)
		a->e[i] = (struct sim_tlb_entry){ TLB_INVALID, TLB_INVALID, 0, 0 };
	return 0;
}

int sim_tlb_init(struct mm_machine *m)
{
	struct sim_tlb *t = &m->tlb;
	const struct mm_machine_config *c = &m->cfg;
	unsigned int lshift = m->pg.shift[1];
	int err = array_init(&t->d4k, &c->dtlb_4k, 12);
	err = err ? err : array_init(&t->dlarge, &c->dtlb_large, lshift);
	err = err ? err : array_init(&t->d1g, m->pg.levels > 2 ? &c->dtlb_1g : &(struct mm_tlb_geometry){ 0, 0 }, 30);
	err = err ? err : array_init(&t->i4k, &c->itlb_4k, 12);
	err = err ? err : array_init(&t->ilarge, &c->itlb_large, lshift);
	err = err ? err : array_init(&t->stlb, &c->stlb, 12);
	return err;
}

void sim_tlb_destroy(struct mm_machine *m)
{
	struct sim_tlb *t = &m->tlb;
	free(t->d4k.e);
	free(t->dlarge.e);
	free(t->d1g.e);
	free(t->i4k.e);
	free(t->ilarge.e);
	free(t->stlb.e);
	memset(t, 0, sizeof(*t));
}

static inline unsigned int size_code(const struct mm_machine *m, unsigned int shift)
{
	(void)m;
	return shift == 12 ? TLB_SZ_4K : shift == 30 ? TLB_SZ_1G : TLB_SZ_LARGE;
}

static inline uint64_t make_tag(uint64_t va, unsigned int shift, unsigned int code, uint64_t pcid)
{
	return ((va >> shift) << 14) | ((uint64_t)code << 12) | pcid;
}

static void array_insert(struct sim_tlb *t, struct sim_tlb_array *a, uint64_t va,
			 unsigned int shift, unsigned int code, uint64_t pcid, uint64_t pa_flags)
{
	if (!a->e)
		return;
	uint64_t vpn = va >> shift;
	struct sim_tlb_entry *s = a->e + (vpn & a->set_mask) * a->ways;
	uint64_t tag = make_tag(va, shift, code, pcid);
	struct sim_tlb_entry *victim = &s[0];
	for (unsigned int w = 0; w < a->ways; w++) {
		/* an entry for the same page is replaced in place */
		if (s[w].tag == tag || ((s[w].tag ^ tag) & s[w].mask) == 0) {
			victim = &s[w];
			break;
		}
		if (s[w].tag == TLB_INVALID) {
			victim = &s[w];
			break;
		}
		if (s[w].stamp < victim->stamp)
			victim = &s[w];
	}
	bool global = (pa_flags & TLB_G) != 0;
	if (victim->tag == TLB_INVALID)
		a->nvalid++;
	victim->tag = tag;
	victim->mask = global ? ~0xfffULL : ~0ULL;
	victim->pa_flags = pa_flags;
	victim->stamp = ++t->clock;
}

void sim_tlb_insert(struct mm_machine *m, bool instr, uint64_t va, unsigned int shift,
		    uint64_t pa_base, uint32_t flags)
{
	struct sim_tlb *t = &m->tlb;
	unsigned int code = size_code(m, shift);
	uint64_t pcid = (flags & TLB_G) ? 0 : m->cpu.pcid;
	uint64_t paf = pa_base | flags;
	struct sim_tlb_array *l1;
	if (code == TLB_SZ_4K)
		l1 = instr ? &t->i4k : &t->d4k;
	else if (code == TLB_SZ_LARGE)
		l1 = instr ? &t->ilarge : &t->dlarge;
	else
		l1 = instr ? NULL : &t->d1g;  /* no 1G ITLB: fetches use 4K-split entries */
	if (!l1 && code == TLB_SZ_1G) {
		/* fetch from a 1 GiB page: cache the 4 KiB piece */
		uint64_t off = va & ((1ULL << 30) - 1) & ~0xfffULL;
		array_insert(t, &t->i4k, va, 12, TLB_SZ_4K, pcid, (pa_base + off) | flags);
		return;
	}
	array_insert(t, l1, va, shift, code, pcid, paf);
	if (code != TLB_SZ_1G && t->stlb.e) {
		/* the STLB indexes every size by its own page number */
		array_insert(t, &t->stlb, va, shift, code, pcid, paf);
	}
}

/* ---- invalidation ---------------------------------------------------------- */

static void array_invalidate_va(struct sim_tlb_array *a, uint64_t va, unsigned int shift,
				unsigned int code, uint64_t pcid, bool global)
{
	if (!a->e || !a->nvalid)
		return;
	uint64_t vpn = va >> shift;
	struct sim_tlb_entry *s = a->e + (vpn & a->set_mask) * a->ways;
	uint64_t tag = make_tag(va, shift, code, pcid);
	for (unsigned int w = 0; w < a->ways; w++) {
		bool g = s[w].mask != ~0ULL && s[w].tag != TLB_INVALID;
		if (g ? (global && ((s[w].tag ^ tag) & ~0xfffULL) == 0) : s[w].tag == tag)
			s[w] = (struct sim_tlb_entry){ TLB_INVALID, TLB_INVALID, 0, 0 };
	}
}

void sim_tlb_invalidate_va(struct mm_machine *m, uint64_t va, uint64_t pcid, bool global)
{
	struct sim_tlb *t = &m->tlb;
	unsigned int ls = m->pg.shift[1];
	array_invalidate_va(&t->d4k, va, 12, TLB_SZ_4K, pcid, global);
	array_invalidate_va(&t->i4k, va, 12, TLB_SZ_4K, pcid, global);
	array_invalidate_va(&t->dlarge, va, ls, TLB_SZ_LARGE, pcid, global);
	array_invalidate_va(&t->ilarge, va, ls, TLB_SZ_LARGE, pcid, global);
	array_invalidate_va(&t->d1g, va, 30, TLB_SZ_1G, pcid, global);
	if (t->stlb.e) {
		array_invalidate_va(&t->stlb, va, 12, TLB_SZ_4K, pcid, global);
		/* large entries in the STLB sit in the set of their own page number */
		array_invalidate_va(&t->stlb, va, ls, TLB_SZ_LARGE, pcid, global);
	}
}

static void array_flush(struct sim_tlb_array *a, bool all_pcids, uint64_t pcid, bool global)
{
	if (!a->e)
		return;
	size_t n = (a->set_mask + 1) * a->ways;
	unsigned int valid = 0;
	for (size_t i = 0; i < n && a->nvalid; i++) {
		struct sim_tlb_entry *e = &a->e[i];
		if (e->tag == TLB_INVALID)
			continue;
		bool g = e->mask != ~0ULL;
		if (g ? global : (all_pcids || (e->tag & 0xfff) == pcid))
			*e = (struct sim_tlb_entry){ TLB_INVALID, TLB_INVALID, 0, 0 };
		else
			valid++;
	}
	a->nvalid = valid;
}

static void flush_arrays(struct mm_machine *m, bool all_pcids, uint64_t pcid, bool global)
{
	struct sim_tlb *t = &m->tlb;
	array_flush(&t->d4k, all_pcids, pcid, global);
	array_flush(&t->dlarge, all_pcids, pcid, global);
	array_flush(&t->d1g, all_pcids, pcid, global);
	array_flush(&t->i4k, all_pcids, pcid, global);
	array_flush(&t->ilarge, all_pcids, pcid, global);
	array_flush(&t->stlb, all_pcids, pcid, global);
}

void sim_tlb_flush_pcid(struct mm_machine *m, uint64_t pcid)
{
	flush_arrays(m, false, pcid, false);
}

void sim_tlb_flush_all(struct mm_machine *m, bool global)
{
	flush_arrays(m, true, 0, global);
	if (global)
		m->tlbst.global_flushes++;
}

/* ---- PCID slots ---------------------------------------------------------------- */

uint64_t sim_mm_pcid(const struct mm_machine *m, const struct sim_mm *mm)
{
	if (!m->cfg.pcid || !mm)
		return 0;
	for (unsigned int i = 0; i < SIM_NR_ASIDS; i++)
		if (m->cpu.asid[i].ctx_id == mm->ctx_id)
			return i + 1;
	return 0;
}

void sim_release_asid(struct mm_machine *m, struct sim_mm *mm)
{
	for (unsigned int i = 0; i < SIM_NR_ASIDS; i++)
		if (m->cpu.asid[i].ctx_id == mm->ctx_id)
			m->cpu.asid[i].ctx_id = 0;
}

void sim_switch_mm(struct mm_machine *m, struct sim_mm *mm)
{
	struct sim_cpu *cpu = &m->cpu;
	uint64_t root = mm ? mm->pgd_pfn : m->kernel_pgd_pfn;
	m->tlbst.cr3_loads++;
	if (!m->cfg.pcid) {
		cpu->cr3_pfn = root;
		cpu->pcid = 0;
		flush_arrays(m, true, 0, false);
		m->tlbst.full_flushes++;
		return;
	}
	uint64_t pcid = mm ? sim_mm_pcid(m, mm) : 0;
	if (mm && !pcid) {
		/* take the least recently used slot, flushing what it held */
		unsigned int v = 0;
		for (unsigned int i = 0; i < SIM_NR_ASIDS; i++) {
			if (!cpu->asid[i].ctx_id) {
				v = i;
				break;
			}
			if (cpu->asid[i].last_use < cpu->asid[v].last_use)
				v = i;
		}
		cpu->asid[v].ctx_id = mm->ctx_id;
		pcid = v + 1;
		sim_tlb_flush_pcid(m, pcid);
		m->tlbst.pcid_flushes++;
	}
	if (pcid)
		cpu->asid[pcid - 1].last_use = ++cpu->asid_clock;
	cpu->cr3_pfn = root;
	cpu->pcid = pcid;
}

/* ---- Linux's flush interfaces ----------------------------------------------------- */

void sim_flush_tlb_range(struct mm_machine *m, struct sim_mm *mm, uint64_t start, uint64_t end)
{
	bool loaded = m->cpu.cr3_pfn == mm->pgd_pfn;
	uint64_t pcid = loaded ? m->cpu.pcid : sim_mm_pcid(m, mm);
	if (!loaded && !pcid)
		return;   /* nothing of it can be cached */
	if (!loaded)
		m->tlbst.shootdowns++;
	uint64_t pages = (end - start) >> MM_PAGE_SHIFT;
	if (pages > FLUSH_CEILING) {
		sim_tlb_flush_pcid(m, pcid);
		m->tlbst.full_flushes++;
		if (mm->owner)
			mm->owner->cnt.tlb_flushes++;
		return;
	}
	for (uint64_t va = start; va < end; va += MM_PAGE_SIZE) {
		sim_tlb_invalidate_va(m, va, pcid, false);
		m->tlbst.invlpg++;
	}
	if (mm->owner)
		mm->owner->cnt.tlb_flushes += pages;
}

void sim_flush_tlb_mm(struct mm_machine *m, struct sim_mm *mm)
{
	bool loaded = m->cpu.cr3_pfn == mm->pgd_pfn;
	uint64_t pcid = loaded ? m->cpu.pcid : sim_mm_pcid(m, mm);
	if (!loaded && !pcid)
		return;
	if (!loaded)
		m->tlbst.shootdowns++;
	sim_tlb_flush_pcid(m, pcid);
	m->tlbst.full_flushes++;
	if (mm->owner)
		mm->owner->cnt.tlb_flushes++;
}

void sim_flush_tlb_kernel_range(struct mm_machine *m, uint64_t start, uint64_t end)
{
	uint64_t pages = (end - start) >> MM_PAGE_SHIFT;
	if (pages > FLUSH_CEILING) {
		sim_tlb_flush_all(m, true);
		return;
	}
	for (uint64_t va = start; va < end; va += MM_PAGE_SIZE) {
		sim_tlb_invalidate_va(m, va, 0, true);
		m->tlbst.invlpg++;
	}
}

/* ---- lookups for the slow path ---------------------------------------------------- */

static struct sim_tlb_entry *array_find(struct sim_tlb_array *a, uint64_t va, unsigned int shift,
					unsigned int code, uint64_t pcid)
{
	if (!a->e || !a->nvalid)
		return NULL;
	uint64_t vpn = va >> shift;
	struct sim_tlb_entry *s = a->e + (vpn & a->set_mask) * a->ways;
	uint64_t key = make_tag(va, shift, code, pcid);
	for (unsigned int w = 0; w < a->ways; w++)
		if (((s[w].tag ^ key) & s[w].mask) == 0)
			return &s[w];
	return NULL;
}

struct sim_tlb_entry *sim_tlb_find(struct mm_machine *m, bool instr, uint64_t va, bool *second,
				   unsigned int *shift, bool skip_l1_4k)
{
	struct sim_tlb *t = &m->tlb;
	uint64_t pcid = m->cpu.pcid;
	unsigned int ls = m->pg.shift[1];
	struct sim_tlb_entry *e;
	*second = false;
	if (!skip_l1_4k && (e = array_find(instr ? &t->i4k : &t->d4k, va, 12, TLB_SZ_4K, pcid))) {
		*shift = 12;
	} else if ((e = array_find(instr ? &t->ilarge : &t->dlarge, va, ls, TLB_SZ_LARGE, pcid))) {
		*shift = ls;
	} else if (!instr && (e = array_find(&t->d1g, va, 30, TLB_SZ_1G, pcid))) {
		*shift = 30;
	} else {
		*second = true;
		if ((e = array_find(&t->stlb, va, 12, TLB_SZ_4K, pcid)))
			*shift = 12;
		else if ((e = array_find(&t->stlb, va, ls, TLB_SZ_LARGE, pcid)))
			*shift = ls;
	}
	if (e)
		e->stamp = ++t->clock;
	return e;
}

void sim_tlb_fill_l1(struct mm_machine *m, bool instr, uint64_t va, unsigned int shift,
		     uint64_t pa_flags)
{
	struct sim_tlb *t = &m->tlb;
	unsigned int code = size_code(m, shift);
	uint64_t pcid = (pa_flags & TLB_G) ? 0 : m->cpu.pcid;
	struct sim_tlb_array *a = code == TLB_SZ_4K ? (instr ? &t->i4k : &t->d4k) :
				  (instr ? &t->ilarge : &t->dlarge);
	array_insert(t, a, va, shift, code, pcid, pa_flags);
}

void sim_tlb_entry_invalidate(struct sim_tlb_entry *e)
{
	*e = (struct sim_tlb_entry){ TLB_INVALID, TLB_INVALID, 0, 0 };
}
