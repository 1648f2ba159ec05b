/* reclaim.c — page reclaim inside the simulated machine: the LRU lists,
 * kswapd, direct reclaim, the flusher and local replacement.
 *
 * LRU lists. Every evictable user frame is on one of two lists, as in
 * Linux's lruvec: anonymous pages (swap cache included) and file
 * page-cache pages. Each list is an instance of a replacement policy from
 * src/policy (default "linux": active/inactive with PG_referenced, the
 * kernel's two-list scheme), whose items are PFNs. Hardware-realistic
 * policies learn about use only from the PTE accessed and dirty bits,
 * read and cleared through the reverse map (mm_page_referenced);
 * idealised ones (lru, lfu, opt) are also told of every user access: the
 * machine then turns its TLB-hit fast path off (m->watch_all) and reports
 * each translated access here. Shmem pages are not swapped by mmsim: they
 * stay off the lists and count as Unevictable.
 *
 * Reclaim order (seed 004, and Linux's preference for the page cache):
 * one reclaim run (shrink()) frees up to `target` frames in three passes,
 * each asking the policy for victims until the target is met or every
 * page on the list has been looked at once:
 *   1. clean file pages: unmapped (try_to_unmap) and dropped from the
 *      page cache, no I/O; dirty ones are put back (rotated);
 *   2. dirty file pages: written back to the host file (pageout; a failed
 *      write keeps the page dirty and resident), then dropped;
 *   3. anonymous pages, only with swap: written to a free slot, every PTE
 *      replaced by the swap entry (mm_try_to_unmap), freed; a page still
 *      in the swap cache (swapped in and clean) needs no write.
 * Pages someone holds an extra reference on (a fault copying from them)
 * are put back. Empty slabs are given back first (shrink_slab).
 *
 * kswapd: woken when free pages fall below the low watermark (summed over
 * the zones user pages use; checked as frames are added to the LRU and at
 * every tick); it runs on the simulated clock (mm_machine_tick) and
 * reclaims until free pages reach the high watermark. Direct reclaim:
 * an allocation that failed (below min) reclaims in the caller's context
 * (allocstall) up to the low watermark, at least SWAP_CLUSTER_MAX (32)
 * pages — standing in for the kswapd that runs concurrently on a real
 * machine — and retries if anything was freed.
 *
 * Flusher: every dirty_writeback_centisecs it writes back the file pages
 * it has seen dirty for dirty_expire_centisecs (the age is counted from
 * the flusher run that first saw the page dirty).
 *
 * Local replacement (seed 000's question): with reclaim_local each frame
 * is charged to the process whose fault brought it in and ranked on that
 * process's own lists (a policy instance pair per process, like a memory
 * cgroup's lruvec); a process at its frame limit first evicts one of its
 * own frames; global reclaim takes from every process's lists in
 * proportion to their sizes.
 *
 * Cost: a reclaimed page costs one policy eviction plus the reverse-map
 * walk of try_to_unmap; passes 1-2 may look at the whole file list once
 * when dirty pages dominate it. kswapd's work per tick is bounded by the
 * pages needed to reach the high watermark.
 * Reference: mm/vmscan.c (shrink_node, shrink_folio_list, kswapd,
 * try_to_free_pages), mm/page-writeback.c, fs/fs-writeback.c (wb_workfn).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reclaim_internal.h"

#define SWAP_CLUSTER_MAX 32

/* ---- helpers ---------------------------------------------------------------------- */

/* Swap-backed frames (anonymous, swap cache, shmem) on the anon list. */
static int lru_of(const struct mm_page *p)
{
	return mm_page_test_flag(p, MM_PG_ANON | MM_PG_SWAPBACKED) ? SIM_LRU_ANON : SIM_LRU_FILE;
}

static bool is_shmem(const struct mm_page *p)
{
	const struct sim_mapping *map = p->mapping;
	return mm_page_test_flag(p, SIM_PG_CACHE) && map && map->kind == SIM_MAP_SHMEM;
}

static uint64_t free_pages(struct mm_machine *m)
{
	return mm_buddy_free_pages(m->buddy);
}

/* The watermarks summed over the zones (read at boot and at each tick, so
 * mm_zone_set_watermarks() takes effect at the next tick). */
static void read_wmarks(struct mm_machine *m)
{
	for (int w = 0; w < MM_NR_WMARK; w++) {
		uint64_t sum = 0;
		for (int z = 0; z < MM_NR_ZONES; z++) {
			struct mm_zone *zone = mm_buddy_zone(m->buddy, (enum mm_zone_type)z);
			if (zone)
				sum += mm_zone_wmark(zone, (enum mm_wmark)w);
		}
		m->rc->wmark[w] = sum;
	}
}

static uint64_t wmark(struct mm_machine *m, enum mm_wmark mark)
{
	return m->rc->wmark[mark];
}

static bool any_pte_dirty(struct mm_machine *m, uint64_t pfn)
{
	for (struct sim_rmap *r = m->rmap[pfn]; r; r = r->next) {
		void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
		if (ep && (ent_get(m, ep) & PTE_D))
			return true;
	}
	return false;
}

static bool page_dirty(struct mm_machine *m, struct mm_page *p)
{
	return mm_page_test_flag(p, MM_PG_DIRTY) || any_pte_dirty(m, page_pfn(m, p));
}

/* The policies' virtual time: user accesses so far. Idealised policies
 * count the accesses they are told of; the others read the machine's
 * access counters (the MMU counts every access; summing them is one pass
 * over the processes, done at each tick and every 32nd insertion). */
static uint64_t vnow(struct mm_machine *m)
{
	struct sim_reclaim *rc = m->rc;
	if (rc->idealised)
		return rc->vtime;
	struct mm_counters c;
	mm_machine_counters(m, &c);
	return c.accesses > rc->vtime ? (rc->vtime = c.accesses) : rc->vtime;
}

static struct mm_access_info info_now(struct mm_machine *m, uint64_t next_use)
{
	struct sim_reclaim *rc = m->rc;
	uint64_t now = (++rc->inserts & 31) ? rc->vtime : vnow(m);
	return (struct mm_access_info){ now, next_use, MM_ACCESS_READ };
}

/* ---- charges (local replacement) ---------------------------------------------------------- */

/* The charge of pid (an array indexed by pid), created if asked. */
static struct sim_charge *charge_of(struct mm_machine *m, int pid, bool create)
{
	struct sim_reclaim *rc = m->rc;
	if (pid <= 0)
		return NULL;
	if ((size_t)pid >= rc->nr_charge) {
		if (!create)
			return NULL;
		size_t n = MM_MAX((size_t)pid + 1, rc->nr_charge * 2);
		struct sim_charge *nc = realloc(rc->charge, n * sizeof(*nc));
		if (!nc)
			return NULL;
		memset(nc + rc->nr_charge, 0, (n - rc->nr_charge) * sizeof(*nc));
		rc->charge = nc;
		rc->nr_charge = n;
	}
	struct sim_charge *c = &rc->charge[pid];
	if (c->pid != pid) {
		if (!create)
			return NULL;
		*c = (struct sim_charge){ pid, m->cfg.frame_limit, 0, { NULL, NULL } };
	}
	return c;
}

/* A limited process's own lists, made on first use; their capacity is its
 * limit plus some slack (frames it holds beyond that — it could not evict
 * them — go on the machine's lists). NULL: the machine's lists. */
#define CHARGE_SLACK 256
static struct mm_policy *charge_list(struct mm_machine *m, struct sim_charge *c, int l)
{
	struct sim_reclaim *rc = m->rc;
	if (!c || !c->limit)
		return c ? c->lru[l] : NULL;
	if (!c->lru[l]) {
		struct mm_policy_config pc = {
			.capacity = (size_t)MM_MIN(m->nr_pages, c->limit + CHARGE_SLACK),
			.seed = 1, .host = &rc->host };
		if (mm_policy_create(rc->spec, &pc, &c->lru[l]))
			c->lru[l] = NULL;
	}
	return c->lru[l];
}

/* The owner's list of a frame, if it has one (else the machine's holds it). */
static struct mm_policy *owner_list(struct mm_machine *m, const struct mm_page *p, bool create)
{
	struct sim_reclaim *rc = m->rc;
	if (!rc->owner)
		return NULL;
	int32_t o = rc->owner[page_pfn(m, p)];
	struct sim_charge *c = o ? charge_of(m, o, false) : NULL;
	if (!c)
		return NULL;
	return create ? charge_list(m, c, lru_of(p)) : c->lru[lru_of(p)];
}

/* The list holding a frame that is on one: its owner's, else the machine's. */
static struct mm_policy *list_of(struct mm_machine *m, const struct mm_page *p)
{
	struct mm_policy *pol = owner_list(m, p, false);
	if (pol && mm_policy_contains(pol, page_pfn(m, p)))
		return pol;
	return m->rc->lru[lru_of(p)];
}

/* ---- LRU membership ------------------------------------------------------------------------ */

/* Insert a frame: a new one (fresh: OPT's next use is the hint of the
 * access being faulted) or one reclaim gives back (its own next use). */
static void lru_insert(struct mm_machine *m, struct mm_page *p, bool fresh)
{
	struct sim_reclaim *rc = m->rc;
	uint64_t pfn = page_pfn(m, p);
	uint64_t next = rc->next_use;
	if (rc->next_use_of) {
		if (fresh)
			rc->next_use_of[pfn] = next;
		else
			next = rc->next_use_of[pfn];
	}
	struct mm_access_info in = info_now(m, next);
	struct mm_policy *own = owner_list(m, p, true);
	int err = own ? mm_policy_insert(own, pfn, &in) : -MM_ENOSPC;
	if (err)   /* no list of its own, or it is full */
		err = mm_policy_insert(rc->lru[lru_of(p)], pfn, &in);
	MM_BUG_ON(err);
	mm_page_set_flag(p, MM_PG_LRU);
}

/* Put an isolated page back on its list (it was not reclaimed). */
static void putback(struct mm_machine *m, struct mm_page *p)
{
	m->rc->st.putback++;
	lru_insert(m, p, false);
}

static uint64_t shrink(struct mm_machine *m, uint64_t target, bool kswapd, int owner);
static void page_added(void *ctx, struct mm_page *p);

/* The built-in reclaim runs unless mm_machine_set_reclaim_hooks() put an
 * external reclaim layer in its place. */
static struct sim_reclaim *active_rc(const struct mm_machine *m)
{
	return m->rc && m->hooks.page_added == page_added ? m->rc : NULL;
}

static void page_added(void *ctx, struct mm_page *p)
{
	struct mm_machine *m = ctx;
	struct sim_reclaim *rc = m->rc;
	if (is_shmem(p) && !m->cfg.swap_shmem) {
		mm_page_set_flag(p, MM_PG_UNEVICTABLE);
		rc->nr_unevictable++;
	} else {
		if (m->cfg.reclaim_local) {
			/* charge the faulting process; at its limit it first
			 * replaces one of its own frames (this one is not on
			 * a list yet, so it cannot be the victim) */
			struct sim_charge *c = charge_of(m, m->fault_pid, true);
			if (c && c->limit && c->frames >= c->limit && !rc->depth) {
				uint64_t n = shrink(m, c->frames - c->limit + 1, false, c->pid);
				rc->st.local_reclaims += n;
			}
			if (c) {
				c->frames++;
				rc->owner[page_pfn(m, p)] = c->pid;
			}
		}
		/* the kernel's own allocations (page tables, slab) cannot
		 * reclaim: keep half of the min..low band free for them by
		 * reclaiming here, before the new frame is on a list, so it
		 * cannot be the victim. This is the work the kswapd woken at
		 * the low watermark does concurrently on a real machine (the
		 * allocation has not failed: free memory is above min), so it
		 * counts as kswapd's (pageoutrun, pgscan/pgsteal_kswapd), not
		 * as direct reclaim (allocstall) */
		uint64_t min = wmark(m, MM_WMARK_MIN), low = wmark(m, MM_WMARK_LOW);
		uint64_t fr = free_pages(m);
		if (mm_unlikely(fr < min + (low - min) / 2) && !rc->depth) {
			rc->st.pageoutrun++;
			shrink(m, MM_MAX((uint64_t)SWAP_CLUSTER_MAX, low > fr ? low - fr : 0), true, 0);
		}
		lru_insert(m, p, true);
	}
	if (!rc->kswapd_awake && free_pages(m) < wmark(m, MM_WMARK_LOW)) {
		rc->kswapd_awake = true;
		rc->st.kswapd_wakeups++;
	}
}

static void page_removed(void *ctx, struct mm_page *p)
{
	struct mm_machine *m = ctx;
	struct sim_reclaim *rc = m->rc;
	uint64_t pfn = page_pfn(m, p);
	if (mm_page_test_flag(p, MM_PG_UNEVICTABLE)) {
		rc->nr_unevictable--;
		mm_page_clear_flag(p, MM_PG_UNEVICTABLE);
	}
	if (mm_page_test_flag(p, MM_PG_LRU)) {
		int err = mm_policy_remove(list_of(m, p), pfn);
		MM_BUG_ON(err);
		mm_page_clear_flag(p, MM_PG_LRU);
	}
	if (rc->owner && rc->owner[pfn]) {
		struct sim_charge *c = charge_of(m, rc->owner[pfn], false);
		if (c && c->frames)
			c->frames--;
		rc->owner[pfn] = 0;
	}
	if (rc->dirtied && rc->dirtied[pfn])
		rc->dirtied[pfn] = 0;
}

void sim_reclaim_note_access(struct mm_machine *m, const uint8_t *h, enum mm_access_kind kind)
{
	struct sim_reclaim *rc = m->rc;
	uint64_t pfn = (uint64_t)(h - m->ram) >> MM_PAGE_SHIFT;
	struct mm_access_info in = { rc->vtime++, rc->next_use, (uint8_t)kind };
	rc->next_use = MM_POLICY_NEVER;
	if (pfn >= m->nr_pages)
		return;
	struct mm_page *p = pfn_page(m, pfn);
	if (!mm_page_test_flag(p, MM_PG_LRU))
		return;
	if (rc->next_use_of)
		rc->next_use_of[pfn] = in.next_use;
	mm_policy_access(list_of(m, p), pfn, &in);
}

/* ---- reclaiming one page ------------------------------------------------------------------ */

/* Only the mappings, a cache and the caller hold the page: nobody is in
 * the middle of using it. */
static bool page_pinned(const struct mm_page *p)
{
	int refs = p->mapcount + 1 + mm_page_test_flag(p, SIM_PG_CACHE) +
		   mm_page_test_flag(p, MM_PG_SWAPCACHE);
	return p->refcount != refs;
}

enum pass { PASS_CLEAN_FILE, PASS_DIRTY_FILE, PASS_ANON };

/* The page (isolated: off its list, our reference held) is freed: true;
 * or it must go back on its list: false. */
static bool reclaim_file(struct mm_machine *m, struct mm_page *p, enum pass pass)
{
	struct sim_reclaim *rc = m->rc;
	struct sim_mapping *map = p->mapping;
	if (page_dirty(m, p)) {
		if (pass == PASS_CLEAN_FILE)
			return false;
		/* pageout(): write it now (the write-protect of page_mkclean
		 * makes the next store fault and dirty it again) */
		if (sim_writeback(m, map, p->index, p->index) || mm_page_test_flag(p, MM_PG_DIRTY))
			return false;
		rc->st.file_writeback++;
	}
	mm_try_to_unmap(m, p, 0);
	if (mm_page_test_flag(p, MM_PG_DIRTY))
		return false;   /* a PTE was dirtied since: keep it */
	sim_page_cache_delete(m, p);
	if (!map->refs && !map->nrpages)
		sim_mapping_destroy(m, map);
	rc->st.pgsteal_file++;
	return true;
}

/* A free slot, or 0 with the "swap full" event counted (logged once until
 * a slot frees again). */
static uint64_t get_slot(struct mm_machine *m)
{
	struct sim_swap *sw = m->swap;
	uint64_t slot = sim_swap_alloc_slot(m);
	if (slot)
		return slot;
	sw->full_events++;
	if (!sw->full_logged) {
		sw->full_logged = true;
		mm_klog(m, "swap: no free slot (SwapTotal %llukB): anonymous pages stay in RAM",
			(unsigned long long)((sw->nslots - 1) << 2));
	}
	return 0;
}

/* A shmem page (swap_shmem): written to a slot that its mapping keeps;
 * every PTE is cleared (a fault finds the slot through the mapping), the
 * page leaves the page cache. */
static bool reclaim_shmem(struct mm_machine *m, struct mm_page *p)
{
	struct sim_mapping *map = p->mapping;
	uint64_t idx = p->index;
	uint64_t slot = get_slot(m);
	if (!slot)
		return false;
	if (sim_swap_writepage(m, p, slot)) {
		sim_swap_free_slot(m, slot);
		return false;
	}
	mm_try_to_unmap(m, p, 0);
	if (sim_swap_shmem_store(m, map, idx, slot)) {
		sim_swap_free_slot(m, slot);
		return false;   /* still cached: the next fault maps it again */
	}
	mm_page_clear_flag(p, MM_PG_DIRTY);
	sim_page_cache_delete(m, p);
	m->rc->st.pgsteal_anon++;
	return true;
}

static bool reclaim_anon(struct mm_machine *m, struct mm_page *p)
{
	struct sim_swap *sw = m->swap;
	uint64_t slot;
	if (mm_page_test_flag(p, MM_PG_SWAPCACHE)) {
		/* swapped in and still clean: its slot holds these bytes */
		slot = p->private;
		if (page_dirty(m, p) && sim_swap_writepage(m, p, slot))
			return false;
	} else {
		slot = get_slot(m);
		if (!slot)
			return false;
		/* write first: if it fails nothing has changed yet */
		if (sim_swap_writepage(m, p, slot)) {
			sim_swap_free_slot(m, slot);
			return false;
		}
		sim_swap_cache_add(m, p, slot);
	}
	mm_page_clear_flag(p, MM_PG_DIRTY);
	int n = mm_try_to_unmap(m, p, sim_swap_pte(m, slot));
	sw->count[slot] += (uint32_t)n;
	sim_swap_cache_delete(m, p);
	m->rc->st.pgsteal_anon++;
	return true;
}

/* ---- shrink -------------------------------------------------------------------------------- */

struct scan {
	uint64_t scanned, reclaimed;
};

/* Reclaim from one list until sc->reclaimed reaches target or every page
 * on it has been looked at once. */
static void shrink_list(struct mm_machine *m, struct mm_policy *pol, enum pass pass,
			uint64_t target, struct scan *sc)
{
	struct sim_reclaim *rc = m->rc;
	size_t budget = mm_policy_size(pol);
	while (budget-- && sc->reclaimed < target) {
		struct mm_victim v;
		struct mm_policy_stats before, after;
		mm_policy_get_stats(pol, &before);
		if (mm_policy_evict(pol, &v))
			break;
		/* pgscan: every page the policy looked at to pick this one
		 * (the referenced ones it kept or activated included), at
		 * least the victim */
		mm_policy_get_stats(pol, &after);
		uint64_t looked = MM_MAX(after.scanned - before.scanned, 1ULL);
		rc->st.pgrefill += after.refilled - before.refilled;
		struct mm_page *p = pfn_page(m, v.id);
		mm_page_clear_flag(p, MM_PG_LRU);
		sc->scanned += looked;
		if (pass == PASS_ANON)
			rc->st.pgscan_anon += looked;
		else
			rc->st.pgscan_file += looked;
		mm_page_get(p);
		bool freed = false;
		if (!page_pinned(p))
			freed = pass != PASS_ANON ? reclaim_file(m, p, pass) :
				mm_page_test_flag(p, SIM_PG_CACHE) ? reclaim_shmem(m, p) : reclaim_anon(m, p);
		if (freed)
			sc->reclaimed++;
		else
			putback(m, p);
		sim_put_user_page(m, p);
	}
}

/* One pass over the machine's list and every process's (local
 * replacement), each asked for a share of what is left in proportion to
 * its size; owner != 0: that process's list only. */
static void shrink_pass(struct mm_machine *m, enum pass pass, uint64_t target, int owner,
			struct scan *sc)
{
	struct sim_reclaim *rc = m->rc;
	int l = pass == PASS_ANON ? SIM_LRU_ANON : SIM_LRU_FILE;
	if (pass == PASS_ANON && (!m->swap || (!m->swap->nr_free && !m->swap->nr_cache)))
		return;
	if (owner) {
		struct sim_charge *c = charge_of(m, owner, false);
		if (c && c->lru[l])
			shrink_list(m, c->lru[l], pass, target, sc);
		return;
	}
	uint64_t left = mm_policy_size(rc->lru[l]);
	for (size_t i = 0; i < rc->nr_charge; i++)
		if (rc->charge[i].lru[l])
			left += mm_policy_size(rc->charge[i].lru[l]);
	for (size_t i = 0; i <= rc->nr_charge && sc->reclaimed < target && left; i++) {
		struct mm_policy *pol = i == 0 ? rc->lru[l] : rc->charge[i - 1].lru[l];
		if (!pol)
			continue;
		uint64_t n = mm_policy_size(pol);
		if (!n)
			continue;
		uint64_t share = ((target - sc->reclaimed) * n + left - 1) / left;
		left -= n;
		shrink_list(m, pol, pass, sc->reclaimed + share, sc);
	}
}

void sim_shrink_slab_caches(struct mm_machine *m)
{
	mm_kmem_cache_shrink(m->task_cache);
	mm_kmem_cache_shrink(m->mm_cache);
	mm_kmem_cache_shrink(m->vma_cache);
	mm_kmem_cache_shrink(m->rmap_cache);
	for (size_t i = 0; i < MM_ARRAY_SIZE(sim_kmalloc_sizes); i++)
		mm_kmem_cache_shrink(mm_kmalloc_cache(m->kmem, sim_kmalloc_sizes[i]));
	mm_kmem_shrink_all(m->kmem);
}

static uint64_t shrink_slab(struct mm_machine *m)
{
	uint64_t before = free_pages(m);
	sim_shrink_slab_caches(m);
	uint64_t freed = free_pages(m) - before;
	m->rc->st.slab_shrinks += freed;
	return freed;
}

/* Free up to target frames (owner != 0: only frames charged to that pid). */
static uint64_t shrink(struct mm_machine *m, uint64_t target, bool kswapd, int owner)
{
	struct sim_reclaim *rc = m->rc;
	struct scan sc = { 0 };
	rc->depth++;
	for (enum pass pass = PASS_CLEAN_FILE; pass <= PASS_ANON && sc.reclaimed < target; pass++)
		shrink_pass(m, pass, target, owner, &sc);
	rc->depth--;
	if (kswapd) {
		rc->st.pgscan_kswapd += sc.scanned;
		rc->st.pgsteal_kswapd += sc.reclaimed;
	} else {
		rc->st.pgscan_direct += sc.scanned;
		rc->st.pgsteal_direct += sc.reclaimed;
	}
	return sc.reclaimed;
}

static bool alloc_failed(void *ctx, unsigned int order, mm_gfp_t gfp)
{
	struct mm_machine *m = ctx;
	struct sim_reclaim *rc = m->rc;
	(void)gfp;
	if (rc->depth)
		return false;
	rc->st.allocstall++;
	uint64_t before = free_pages(m);
	shrink_slab(m);
	uint64_t low = wmark(m, MM_WMARK_LOW), fr = free_pages(m);
	uint64_t want = MM_MAX((uint64_t)SWAP_CLUSTER_MAX << order, low > fr ? low - fr : 0);
	shrink(m, want, false, 0);
	return free_pages(m) > before;
}

/* ---- kswapd, the flusher, the clock ---------------------------------------------------------- */

static void kswapd_run(struct mm_machine *m)
{
	struct sim_reclaim *rc = m->rc;
	rc->st.pageoutrun++;
	shrink_slab(m);
	uint64_t high = wmark(m, MM_WMARK_HIGH);
	while (free_pages(m) < high)
		if (!shrink(m, high - free_pages(m), true, 0))
			break;
	rc->kswapd_awake = false;
}

static void flusher_run(struct mm_machine *m)
{
	struct sim_reclaim *rc = m->rc;
	uint64_t expire = (uint64_t)m->cfg.dirty_expire_centisecs * m->cfg.hz / 100;
	if (!rc->dirtied) {
		/* allocated on the first run: machines that never tick pay nothing */
		rc->dirtied = calloc(m->nr_pages, sizeof(*rc->dirtied));
		if (!rc->dirtied)
			return;
	}
	struct sim_mapping *map;
	mm_list_for_each_entry(map, &m->mappings, node) {
		if (map->kind != SIM_MAP_FILE)
			continue;
		for (uint64_t i = 0; i < map->cap; i++) {
			struct mm_page *p = map->pages[i];
			if (!p)
				continue;
			uint64_t pfn = page_pfn(m, p);
			if (!page_dirty(m, p)) {
				rc->dirtied[pfn] = 0;
				continue;
			}
			if (!rc->dirtied[pfn])
				rc->dirtied[pfn] = rc->jiffies + 1;
			if (rc->jiffies + 1 - rc->dirtied[pfn] < expire)
				continue;
			if (!sim_writeback(m, map, i, i) && !mm_page_test_flag(p, MM_PG_DIRTY)) {
				rc->st.flusher_writeback++;
				rc->dirtied[pfn] = 0;
			}
		}
	}
}

/* Processes that exited leave their charge: frames still charged to them
 * (shared pages, page cache) move to the machine's lists, charged to
 * nobody, and their lists go. One pass over the frames, at a tick. */
static void reap_charges(struct mm_machine *m)
{
	struct sim_reclaim *rc = m->rc;
	if (!rc->owner || !rc->nr_charge)
		return;
	bool *live = calloc(rc->nr_charge, sizeof(*live));
	if (!live)
		return;
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		if ((size_t)t->pid < rc->nr_charge)
			live[t->pid] = true;
	bool any = false;
	for (size_t i = 1; i < rc->nr_charge && !any; i++)
		any = rc->charge[i].pid && !live[i];
	if (any) {
		for (uint64_t pfn = 0; pfn < m->nr_pages; pfn++) {
			int32_t o = rc->owner[pfn];
			if (!o || live[o])
				continue;
			struct mm_page *p = pfn_page(m, pfn);
			if (mm_page_test_flag(p, MM_PG_LRU)) {
				struct mm_policy *own = rc->charge[o].lru[lru_of(p)];
				if (own && !mm_policy_remove(own, pfn)) {
					rc->owner[pfn] = 0;
					mm_page_clear_flag(p, MM_PG_LRU);
					lru_insert(m, p, false);
				}
			}
			rc->owner[pfn] = 0;
		}
		for (size_t i = 1; i < rc->nr_charge; i++) {
			struct sim_charge *c = &rc->charge[i];
			if (!c->pid || live[i])
				continue;
			for (int l = 0; l < SIM_NR_LRU; l++) {
				MM_BUG_ON(c->lru[l] && mm_policy_size(c->lru[l]));
				mm_policy_destroy(c->lru[l]);
			}
			memset(c, 0, sizeof(*c));
		}
	}
	free(live);
}

void mm_machine_tick(struct mm_machine *m, uint64_t ticks)
{
	struct sim_reclaim *rc = active_rc(m);
	if (!rc)
		return;
	rc->jiffies += ticks;
	read_wmarks(m);
	reap_charges(m);
	if (!rc->kswapd_awake && free_pages(m) < wmark(m, MM_WMARK_LOW)) {
		rc->kswapd_awake = true;
		rc->st.kswapd_wakeups++;
	}
	if (rc->kswapd_awake)
		kswapd_run(m);
	if (m->cfg.dirty_writeback_centisecs && rc->jiffies >= rc->next_flush) {
		flusher_run(m);
		rc->next_flush = rc->jiffies + MM_MAX(1ULL, (uint64_t)m->cfg.dirty_writeback_centisecs *
								    m->cfg.hz / 100);
	}
	if (rc->jiffies >= rc->next_policy_tick) {
		uint64_t now = vnow(m);
		for (int i = 0; i < SIM_NR_LRU; i++) {
			mm_policy_tick(rc->lru[i], now);
			for (size_t k = 0; k < rc->nr_charge; k++)
				if (rc->charge[k].lru[i])
					mm_policy_tick(rc->charge[k].lru[i], now);
		}
		rc->next_policy_tick = rc->jiffies + MM_MAX(1ULL, (uint64_t)m->cfg.policy_tick_centisecs *
									  m->cfg.hz / 100);
	}
}

uint64_t mm_machine_jiffies(const struct mm_machine *m)
{
	return m->rc ? m->rc->jiffies : 0;
}

uint64_t mm_machine_reclaim(struct mm_machine *m, uint64_t nr)
{
	if (!active_rc(m) || m->rc->depth)
		return 0;
	shrink_slab(m);
	return shrink(m, nr, false, 0);
}

int mm_machine_sync(struct mm_machine *m)
{
	int err = 0;
	struct sim_mapping *map;
	mm_list_for_each_entry(map, &m->mappings, node)
		if (map->kind == SIM_MAP_FILE && sim_writeback(m, map, 0, UINT64_MAX))
			err = -MM_EIO;
	return err;
}

/* ---- setup and queries ------------------------------------------------------------------------ */

int sim_reclaim_init(struct mm_machine *m)
{
	if (m->cfg.no_reclaim)
		return 0;
	struct sim_reclaim *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -MM_ENOMEM;
	const char *spec = m->cfg.reclaim_policy ? m->cfg.reclaim_policy : "linux";
	int err = -MM_EINVAL;
	if (strlen(spec) >= sizeof(rc->spec))
		goto fail;
	snprintf(rc->spec, sizeof(rc->spec), "%s", spec);
	m->cfg.reclaim_policy = rc->spec;   /* the caller's string need not live on */
	if (!m->cfg.hz)
		m->cfg.hz = 100;
	rc->host = mm_machine_policy_host(m);
	struct mm_policy_config pc = { .capacity = m->nr_pages, .seed = 1, .host = &rc->host };
	for (int i = 0; i < SIM_NR_LRU; i++) {
		err = mm_policy_create(spec, &pc, &rc->lru[i]);
		if (err)
			goto fail;
	}
	rc->idealised = mm_policy_idealised(rc->lru[0]);
	rc->next_use = MM_POLICY_NEVER;
	err = -MM_ENOMEM;
	if (rc->idealised) {
		/* each resident page's next use, for pages reclaim gives back */
		rc->next_use_of = calloc(m->nr_pages, sizeof(*rc->next_use_of));
		if (!rc->next_use_of)
			goto fail;
	}
	if (m->cfg.reclaim_local) {
		rc->owner = calloc(m->nr_pages, sizeof(*rc->owner));
		if (!rc->owner)
			goto fail;
	}
	m->rc = rc;
	read_wmarks(m);
	m->watch_all = rc->idealised;
	m->hooks.page_added = page_added;
	m->hooks.page_removed = page_removed;
	m->hooks.alloc_failed = alloc_failed;
	m->hooks.ctx = m;
	return 0;
fail:
	for (int i = 0; i < SIM_NR_LRU; i++)
		mm_policy_destroy(rc->lru[i]);
	free(rc->dirtied);
	free(rc->owner);
	free(rc->next_use_of);
	free(rc);
	return err;
}

void sim_reclaim_destroy(struct mm_machine *m)
{
	struct sim_reclaim *rc = m->rc;
	if (!rc)
		return;
	for (int i = 0; i < SIM_NR_LRU; i++) {
		mm_policy_destroy(rc->lru[i]);
		for (size_t k = 0; k < rc->nr_charge; k++)
			mm_policy_destroy(rc->charge[k].lru[i]);
	}
	free(rc->dirtied);
	free(rc->owner);
	free(rc->next_use_of);
	free(rc->charge);
	free(rc);
	m->rc = NULL;
	m->watch_all = false;
}

void mm_machine_reclaim_stats(const struct mm_machine *m, struct mm_reclaim_stats *out)
{
	memset(out, 0, sizeof(*out));
	const struct sim_reclaim *rc = m->rc;
	if (!rc)
		return;
	*out = rc->st;
	for (int i = 0; i < SIM_NR_LRU; i++) {
		uint64_t act = 0, inact = 0;
		for (size_t k = 0; k <= rc->nr_charge; k++) {
			const struct mm_policy *pol = k == 0 ? rc->lru[i] : rc->charge[k - 1].lru[i];
			if (!pol)
				continue;
			struct mm_policy_stats ps;
			mm_policy_get_stats(pol, &ps);
			out->pgactivate += ps.activated;
			out->pgdeactivate += ps.deactivated;
			uint64_t a = mm_policy_nr_active(pol);
			act += a;
			inact += mm_policy_size(pol) - a;
		}
		if (i == SIM_LRU_ANON) {
			out->nr_active_anon = act;
			out->nr_inactive_anon = inact;
		} else {
			out->nr_active_file = act;
			out->nr_inactive_file = inact;
		}
	}
	out->nr_unevictable = rc->nr_unevictable;
	out->kswapd_awake = rc->kswapd_awake;
}

const char *mm_machine_reclaim_policy(const struct mm_machine *m)
{
	return m->rc ? mm_policy_spec(m->rc->lru[0]) : "";
}

int mm_task_set_frame_limit(struct mm_machine *m, struct mm_task *t, uint64_t frames)
{
	if (!m->rc || !m->cfg.reclaim_local)
		return -MM_EINVAL;
	struct sim_charge *c = charge_of(m, mm_task_pid(t), true);
	if (!c)
		return -MM_ENOMEM;
	c->limit = frames;
	return 0;
}

uint64_t mm_task_frames(const struct mm_machine *m, const struct mm_task *t)
{
	if (!m->rc || !m->cfg.reclaim_local)
		return 0;
	const struct sim_reclaim *rc = m->rc;
	int pid = mm_task_pid(t);
	if (pid <= 0 || (size_t)pid >= rc->nr_charge || rc->charge[pid].pid != pid)
		return 0;
	return rc->charge[pid].frames;
}

void mm_machine_set_next_use(struct mm_machine *m, uint64_t next_use)
{
	if (m->rc)
		m->rc->next_use = next_use;
}

/* ---- check ------------------------------------------------------------------------------------ */

int sim_reclaim_check(struct mm_machine *m)
{
	struct sim_reclaim *rc = active_rc(m);
	if (!rc)
		return 0;
	int bad = 0;
	uint64_t on = 0, unevictable = 0;
	for (uint64_t pfn = 0; pfn < m->nr_pages && bad < 10; pfn++) {
		struct mm_page *p = pfn_page(m, pfn);
		if (!mm_page_test_flag(p, SIM_PG_USER) || mm_page_test_flag(p, SIM_PG_HUGE))
			continue;
		if (mm_page_test_flag(p, MM_PG_UNEVICTABLE)) {
			unevictable++;
			continue;
		}
		if (!mm_page_test_flag(p, MM_PG_LRU) || !mm_policy_contains(list_of(m, p), pfn)) {
			fprintf(stderr, "mm_machine_check: pfn %#llx: user frame not on its LRU list\n",
				(unsigned long long)pfn);
			bad++;
			continue;
		}
		on++;
	}
	/* every frame is on its own list; equal totals leave no room for a
	 * frame on a second one */
	uint64_t sizes = 0;
	for (int l = 0; l < SIM_NR_LRU; l++)
		for (size_t k = 0; k <= rc->nr_charge; k++) {
			const struct mm_policy *pol = k == 0 ? rc->lru[l] : rc->charge[k - 1].lru[l];
			if (!pol)
				continue;
			sizes += mm_policy_size(pol);
			if (mm_policy_check(pol))
				bad++;
		}
	if (!bad && on != sizes) {
		fprintf(stderr, "mm_machine_check: the LRU lists hold %llu items, %llu frames on them\n",
			(unsigned long long)sizes, (unsigned long long)on);
		bad++;
	}
	if (!bad && unevictable != rc->nr_unevictable) {
		fprintf(stderr, "mm_machine_check: %llu unevictable frames, counted %llu\n",
			(unsigned long long)unevictable, (unsigned long long)rc->nr_unevictable);
		bad++;
	}
	return bad ? -MM_ECORRUPT : 0;
}
