/* swap.c — the swap device: a real host file, its slot allocator, swap
 * entries in PTEs, the swap cache and swap-in on fault.
 *
 * Layout of the file (mkswap's, version 1): page 0 is the header — the
 * 1024 boot-block bytes, then version (1), last_page, nr_badpages (0), a
 * zero UUID and label — with "SWAPSPACE2" in its last 10 bytes; page s
 * (1 .. nslots-1) holds slot s. Pages move with pread/pwrite at s * 4096.
 *
 * Slots (Linux's swap_map, mm/swapfile.c): count[s] is the number of PTEs
 * holding entry (type 0, offset s); the swap cache (cache[s], Linux's
 * SWAP_HAS_CACHE plus the swapper address space) holds the page of a slot
 * while it is in RAM. Allocation is next-fit from a cursor (Linux scans
 * from a per-cluster cursor; the effect for one CPU is the same:
 * consecutive swap-outs land in consecutive slots). A slot is free again
 * when its count and its cache are both gone.
 *
 * Life of an anonymous page (with reclaim.c):
 *   swap-out   a slot is taken, the page written to it, put in the cache,
 *              every PTE replaced by the entry (mm_try_to_unmap; count +=
 *              mappings), the page leaves the cache and is freed;
 *   fork       copies the entry: count + 1 (swap_dup hook);
 *   swap-in    the fault finds the entry: the cache page is used if there
 *              is one (a minor fault), else a frame is read from the slot
 *              (a major fault, pswpin) and added to the cache; the PTE then
 *              maps it read-only (count - 1). The page keeps its slot while
 *              it stays clean (SwapCached): swapping it out again needs no
 *              write. A write faults again (do_wp_page): when no other PTE
 *              holds the entry the slot is freed and the page reused, else
 *              the page is copied (copy-on-write, as after fork);
 *   zap        munmap/exit of a swap PTE: count - 1 (swap_free hook); a
 *              slot with no reference and no mapped cache page is freed.
 * A page in the cache is never mapped writable, so its bytes always equal
 * its slot's. Difference from Linux: Linux leaves unmapped swap-cache pages
 * for reclaim to find; mmsim frees a cache page as soon as neither a PTE
 * nor a mapping refers to it, so SwapFree comes back at munmap and exit.
 *
 * Fault injection: mm_machine_swap_fail_after(n) lets n writes succeed and
 * fails the rest; a failed write leaves the page resident, mapped and
 * dirty, and logs Linux's "Write-error on swap-device (major:minor:sector)".
 *
 * Cost: slot allocation O(1) amortized (next-fit), a page in or out is one
 * pread/pwrite of 4 KiB, cache lookups O(1) (an array by slot).
 * Reference: mm/swapfile.c (scan_swap_map_slots, swap_duplicate,
 * swap_free, free_swap_and_cache), mm/swap_state.c, mm/memory.c
 * (do_swap_page), mm/page_io.c, include/linux/swap.h (union swap_header).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reclaim_internal.h"

#define SWAP_HEADER_MAGIC "SWAPSPACE2"

/* ---- slots ------------------------------------------------------------------------ */

uint64_t sim_swap_pte(struct mm_machine *m, uint64_t slot)
{
	return mm_swp_entry_pte(m, 0, slot);
}

static bool slot_is_free(const struct sim_swap *sw, uint64_t s)
{
	return sw->count[s] == 0 && sw->cache[s] == NULL;
}

uint64_t sim_swap_alloc_slot(struct mm_machine *m)
{
	struct sim_swap *sw = m->swap;
	if (!sw || !sw->nr_free)
		return 0;
	for (uint64_t n = 0; n < sw->nslots; n++) {
		uint64_t s = sw->cursor;
		sw->cursor = sw->cursor + 1 < sw->nslots ? sw->cursor + 1 : 1;
		if (s && slot_is_free(sw, s)) {
			sw->nr_free--;
			return s;
		}
	}
	MM_PANIC("swap: nr_free %llu but no free slot", (unsigned long long)sw->nr_free);
}

void sim_swap_free_slot(struct mm_machine *m, uint64_t slot)
{
	struct sim_swap *sw = m->swap;
	MM_BUG_ON(!slot_is_free(sw, slot));
	sw->nr_free++;
	sw->full_logged = false;
}

/* The slot of a swap PTE, or 0 if it names no slot of this device. */
static uint64_t pte_slot(struct mm_machine *m, uint64_t pte)
{
	unsigned int type;
	uint64_t off;
	struct sim_swap *sw = m->swap;
	if (!sw || !mm_pte_swp_entry(m, pte, &type, &off) || type != 0 || !off || off >= sw->nslots)
		return 0;
	return off;
}

/* ---- I/O ---------------------------------------------------------------------------- */

/* Linux's ___ratelimit() with DEFAULT_RATELIMIT_BURST (10) messages per
 * DEFAULT_RATELIMIT_INTERVAL (5 s of the kernel log's clock: the cost
 * model's time plus ticks, so time passes even without ticks); when a new
 * interval begins, the messages dropped in the last one are reported as
 * printk does. */
#define SWAP_RATELIMIT_BURST 10
#define SWAP_RATELIMIT_NS 5000000000ULL
static bool ratelimit(struct mm_machine *m, struct sim_swap *sw)
{
	uint64_t now = sim_klog_clock_ns(m);
	if (!sw->rl_printed && !sw->rl_missed)
		sw->rl_begin = now;
	if (now - sw->rl_begin >= SWAP_RATELIMIT_NS) {
		if (sw->rl_missed)
			mm_klog(m, "__end_swap_bio_write: %llu callbacks suppressed",
				(unsigned long long)sw->rl_missed);
		sw->rl_begin = now;
		sw->rl_printed = 0;
		sw->rl_missed = 0;
	}
	if (sw->rl_printed < SWAP_RATELIMIT_BURST) {
		sw->rl_printed++;
		return true;
	}
	sw->rl_missed++;
	return false;
}

int sim_swap_writepage(struct mm_machine *m, struct mm_page *page, uint64_t slot)
{
	struct sim_swap *sw = m->swap;
	ssize_t r = -1;
	if (sw->fail_after) {
		if (sw->fail_after != MM_SWAP_FAIL_NEVER)
			sw->fail_after--;
		r = pwrite(sw->fd, pfn_host(m, page_pfn(m, page)), MM_PAGE_SIZE,
			   (off_t)(slot << MM_PAGE_SHIFT));
	}
	if (r != (ssize_t)MM_PAGE_SIZE) {
		sw->write_errors++;
		/* __end_swap_bio_write(): pr_alert_ratelimited, the sector is
		 * the slot's 512-byte unit */
		if (ratelimit(m, sw))
			mm_klog(m, "Write-error on swap-device (%u:%u:%llu)", 0u, 0u,
				(unsigned long long)(slot << (MM_PAGE_SHIFT - 9)));
		return -MM_EIO;
	}
	sw->pswpout++;
	m->pgpgout += MM_PAGE_SIZE >> 10;
	return 0;
}

/* ---- the swap cache ------------------------------------------------------------------ */

void sim_swap_cache_add(struct mm_machine *m, struct mm_page *page, uint64_t slot)
{
	struct sim_swap *sw = m->swap;
	MM_BUG_ON(sw->cache[slot] || mm_page_test_flag(page, MM_PG_SWAPCACHE));
	sw->cache[slot] = page;
	sw->nr_cache++;
	mm_page_set_flag(page, MM_PG_SWAPCACHE);
	page->private = slot;
	mm_page_get(page);
}

/* Out of the cache; the slot is freed if no PTE holds it. The cache's
 * reference is dropped without freeing (the caller holds another). */
static void cache_unlink(struct mm_machine *m, struct mm_page *page)
{
	struct sim_swap *sw = m->swap;
	uint64_t slot = page->private;
	MM_BUG_ON(sw->cache[slot] != page);
	sw->cache[slot] = NULL;
	sw->nr_cache--;
	mm_page_clear_flag(page, MM_PG_SWAPCACHE);
	page->private = 0;
	if (sw->count[slot] == 0)
		sim_swap_free_slot(m, slot);
}

void sim_swap_cache_delete(struct mm_machine *m, struct mm_page *page)
{
	cache_unlink(m, page);
	MM_BUG_ON(page->refcount < 2);
	page->refcount--;
}

void sim_swap_page_unmapped(struct mm_machine *m, struct mm_page *page)
{
	if (!m->swap || page->mapcount || page->refcount != 1 || m->swap->count[page->private])
		return;
	/* nothing refers to it any more: cache and page go together */
	cache_unlink(m, page);
	sim_put_user_page(m, page);
}

void sim_swap_try_free(struct mm_machine *m, struct mm_page *page)
{
	if (m->swap && !m->swap->count[page->private])
		sim_swap_cache_delete(m, page);
}

/* WSClock's cleaning of an anonymous page: write it to a new slot now and
 * keep it resident as a clean swap-cache page (every PTE write-protected
 * and cleaned, so the next store faults and frees the slot again). The
 * page is later reclaimed without a write. */
bool sim_swap_preclean(struct mm_machine *m, struct mm_page *page)
{
	if (!m->swap || !mm_page_test_flag(page, MM_PG_ANON) ||
	    mm_page_test_flag(page, MM_PG_SWAPCACHE) || page->refcount != page->mapcount)
		return false;
	uint64_t slot = sim_swap_alloc_slot(m);
	if (!slot)
		return false;
	if (sim_swap_writepage(m, page, slot)) {
		sim_swap_free_slot(m, slot);
		return false;
	}
	sim_swap_cache_add(m, page, slot);
	for (struct sim_rmap *r = m->rmap[page_pfn(m, page)]; r; r = r->next) {
		void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
		ent_set(m, ep, ent_get(m, ep) & ~(PTE_RW | PTE_D));
		sim_flush_tlb_range(m, r->mm, r->va, r->va + MM_PAGE_SIZE);
	}
	mm_page_clear_flag(page, MM_PG_DIRTY);
	return true;
}

/* ---- shmem ------------------------------------------------------------------------------ */
/* A shmem page going to swap leaves its slot in the mapping (Linux keeps
 * the swap entry in the page cache's xarray): its PTEs are simply cleared,
 * and the next fault of any process finds the entry through the mapping.
 * The mapping's entry is the slot's one reference. */

int sim_swap_shmem_store(struct mm_machine *m, struct sim_mapping *map, uint64_t idx, uint64_t slot)
{
	if (idx >= map->swapped_cap) {
		uint64_t cap = MM_MAX(map->cap, idx + 1);
		uint64_t *ns = realloc(map->swapped, cap * sizeof(*ns));
		if (!ns)
			return -MM_ENOMEM;
		memset(ns + map->swapped_cap, 0, (cap - map->swapped_cap) * sizeof(*ns));
		map->swapped = ns;
		map->swapped_cap = cap;
	}
	MM_BUG_ON(map->swapped[idx] || m->swap->count[slot]);
	map->swapped[idx] = slot;
	map->nr_swapped++;
	m->swap->count[slot] = 1;
	return 0;
}

int sim_swap_shmem_in(struct mm_machine *m, struct sim_mapping *map, uint64_t idx,
		      struct mm_page *page, bool *major)
{
	struct sim_swap *sw = m->swap;
	uint64_t slot = idx < map->swapped_cap ? map->swapped[idx] : 0;
	if (!slot)
		return 0;
	if (pread(sw->fd, pfn_host(m, page_pfn(m, page)), MM_PAGE_SIZE,
		  (off_t)(slot << MM_PAGE_SHIFT)) != (ssize_t)MM_PAGE_SIZE) {
		mm_klog(m, "Read-error on swap-device (%u:%u:%llu)", 0u, 0u,
			(unsigned long long)(slot << (MM_PAGE_SHIFT - 9)));
		return -MM_EIO;
	}
	map->swapped[idx] = 0;
	map->nr_swapped--;
	MM_BUG_ON(sw->count[slot] != 1);
	sw->count[slot] = 0;
	sim_swap_free_slot(m, slot);
	sw->pswpin++;
	m->pgpgin += MM_PAGE_SIZE >> 10;
	*major = true;
	return 0;
}

void sim_swap_shmem_release(struct mm_machine *m, struct sim_mapping *map)
{
	for (uint64_t i = 0; i < map->swapped_cap && map->nr_swapped; i++) {
		uint64_t slot = map->swapped[i];
		if (!slot)
			continue;
		map->swapped[i] = 0;
		map->nr_swapped--;
		m->swap->count[slot] = 0;
		sim_swap_free_slot(m, slot);
	}
	free(map->swapped);
	map->swapped = NULL;
	map->swapped_cap = 0;
}

/* ---- hooks: swap-in, swap_free, swap_dup ------------------------------------------------ */

static int swapin(void *ctx, struct mm_task *t, uint64_t va, uint64_t pte, bool *major)
{
	struct mm_machine *m = ctx;
	struct sim_swap *sw = m->swap;
	struct sim_mm *mm = t->mm;
	uint64_t slot = pte_slot(m, pte);
	if (!slot || !sw->count[slot])
		return -MM_EIO;   /* a bad swap entry: SIGBUS */
	struct mm_page *page = sw->cache[slot];
	if (!page) {
		/* swap_read_folio(): a new frame from the slot (allocation may
		 * reclaim, which never touches this slot: the PTE holds it) */
		page = sim_alloc_user_page(m, false);
		if (!page)
			return -MM_ENOMEM;
		if (pread(sw->fd, pfn_host(m, page_pfn(m, page)), MM_PAGE_SIZE,
			  (off_t)(slot << MM_PAGE_SHIFT)) != (ssize_t)MM_PAGE_SIZE) {
			mm_klog(m, "Read-error on swap-device (%u:%u:%llu)", 0u, 0u,
				(unsigned long long)(slot << (MM_PAGE_SHIFT - 9)));
			page->refcount = 1;
			mm_free_pages(m->buddy, page, 0);
			return -MM_EIO;
		}
		mm_page_set_flag(page, SIM_PG_USER | MM_PG_ANON | MM_PG_SWAPBACKED | MM_PG_UPTODATE);
		page->mapcount = 0;
		page->index = va >> MM_PAGE_SHIFT;
		m->anon_pages++;
		/* the cache's reference is the allocation's */
		sim_swap_cache_add(m, page, slot);
		page->refcount--;
		sw->pswpin++;
		m->pgpgin += MM_PAGE_SIZE >> 10;
		*major = true;
		if (m->hooks.page_added)
			m->hooks.page_added(m->hooks.ctx, page);
	}
	void *ep = sim_pte_lookup(m, mm->pgd_pfn, va, NULL);
	struct sim_vma *vma = sim_find_vma(mm, va);
	MM_BUG_ON(!ep || ent_get(m, ep) != pte || !vma);
	uint64_t pfn = page_pfn(m, page);
	if (sim_rmap_add(m, pfn, mm, va))
		return -MM_ENOMEM;   /* the page stays cached; the entry stays */
	mm_page_get(page);
	page->mapcount++;
	sw->count[slot]--;
	mm->rss[MM_SWAPENTS]--;
	mm->rss[MM_ANONPAGES]++;
	/* read-only: a write faults into do_wp_page, which frees the slot
	 * (or copies) so the cache page stays equal to its slot */
	uint64_t e = (pfn << MM_PAGE_SHIFT) | (sim_vm_page_prot(m, vma->vm_flags) & ~PTE_RW) | PTE_A;
	ent_set(m, ep, e);
	sim_flush_tlb_range(m, mm, va, va + MM_PAGE_SIZE);
	return 0;
}

static void swap_free_hook(void *ctx, uint64_t pte)
{
	struct mm_machine *m = ctx;
	struct sim_swap *sw = m->swap;
	uint64_t slot = pte_slot(m, pte);
	MM_BUG_ON(!slot || !sw->count[slot]);
	if (--sw->count[slot])
		return;
	struct mm_page *page = sw->cache[slot];
	if (!page)
		sim_swap_free_slot(m, slot);
	else
		sim_swap_page_unmapped(m, page);
}

static int swap_dup_hook(void *ctx, uint64_t pte)
{
	struct mm_machine *m = ctx;
	uint64_t slot = pte_slot(m, pte);
	if (!slot || m->swap->count[slot] == UINT32_MAX)
		return -MM_ENOMEM;
	m->swap->count[slot]++;
	return 0;
}

/* ---- the device ------------------------------------------------------------------------- */

static int write_header(struct sim_swap *sw)
{
	uint8_t h[MM_PAGE_SIZE];
	memset(h, 0, sizeof(h));
	uint32_t info[3] = { 1, (uint32_t)(sw->nslots - 1), 0 }; /* version, last_page, nr_badpages */
	memcpy(h + 1024, info, sizeof(info));
	memcpy(h + MM_PAGE_SIZE - 10, SWAP_HEADER_MAGIC, 10);
	return pwrite(sw->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -MM_EIO;
}

int sim_swap_init(struct mm_machine *m)
{
	const struct mm_machine_config *c = &m->cfg;
	if (!c->swap_bytes)
		return 0;
	if (c->swap_bytes % MM_PAGE_SIZE || c->swap_bytes < 2 * MM_PAGE_SIZE)
		return -MM_EINVAL;
	uint64_t nslots = c->swap_bytes >> MM_PAGE_SHIFT;
	/* the offset field of a 32-bit PTE holds 23 bits */
	if (m->pg.entry_size == 4 && nslots > (1ULL << 23))
		return -MM_EINVAL;
	struct sim_swap *sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -MM_ENOMEM;
	sw->fd = -1;
	sw->nslots = nslots;
	sw->keep = c->swap_keep;
	sw->count = calloc(nslots, sizeof(*sw->count));
	sw->cache = calloc(nslots, sizeof(*sw->cache));
	int err = -MM_ENOMEM;
	if (!sw->count || !sw->cache)
		goto fail;
	if (c->swap_path) {
		snprintf(sw->path, sizeof(sw->path), "%s", c->swap_path);
		sw->fd = open(sw->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		const char *dir = getenv("TMPDIR");
		snprintf(sw->path, sizeof(sw->path), "%s/mmsim-swap-XXXXXX", dir && *dir ? dir : "/tmp");
		sw->fd = mkostemp(sw->path, O_CLOEXEC);
	}
	if (sw->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (ftruncate(sw->fd, (off_t)c->swap_bytes) || write_header(sw)) {
		err = -MM_EIO;
		goto fail_file;
	}
	/* a temporary file is unlinked at once (kept open): a run that
	 * crashes leaves nothing behind */
	if (!c->swap_path && !sw->keep && !unlink(sw->path))
		sw->unlinked = true;
	sw->nr_free = nslots - 1;
	sw->cursor = 1;
	sw->fail_after = MM_SWAP_FAIL_NEVER;
	m->swap = sw;
	m->cfg.swap_path = sw->path;   /* the caller's string need not live on */
	m->hooks.swapin = swapin;
	m->hooks.swap_free = swap_free_hook;
	m->hooks.swap_dup = swap_dup_hook;
	m->hooks.ctx = m;
	return 0;
fail_file:
	close(sw->fd);
	unlink(sw->path);
	sw->fd = -1;
fail:
	free(sw->count);
	free(sw->cache);
	free(sw);
	return err;
}

void sim_swap_destroy(struct mm_machine *m)
{
	struct sim_swap *sw = m->swap;
	if (!sw)
		return;
	close(sw->fd);
	if (!sw->keep && !sw->unlinked)
		unlink(sw->path);
	free(sw->count);
	free(sw->cache);
	free(sw);
	m->swap = NULL;
}

/* ---- public ------------------------------------------------------------------------------- */

void mm_machine_swap_info(const struct mm_machine *m, struct mm_swap_info *out)
{
	memset(out, 0, sizeof(*out));
	out->path = "";
	const struct sim_swap *sw = m->swap;
	if (!sw)
		return;
	out->total_pages = sw->nslots - 1;
	out->free_pages = sw->nr_free;
	out->cached_pages = sw->nr_cache;
	out->pswpin = sw->pswpin;
	out->pswpout = sw->pswpout;
	out->write_errors = sw->write_errors;
	out->full_events = sw->full_events;
	out->path = sw->path;
}

void mm_machine_swap_fail_after(struct mm_machine *m, uint64_t n)
{
	if (m->swap)
		m->swap->fail_after = n;
}

/* ---- check ---------------------------------------------------------------------------------- */

struct swap_walk {
	struct mm_machine *m;
	uint32_t *refs;
	int bad;
};

static void count_swap_pte(struct mm_machine *m, struct sim_mm *mm, uint64_t va, unsigned int lvl,
			   void *ep, void *arg)
{
	struct swap_walk *w = arg;
	(void)lvl;
	uint64_t e = ent_get(m, ep);
	if (pte_present_sw(e))
		return;
	uint64_t slot = pte_slot(m, e);
	if (!slot) {
		fprintf(stderr, "mm_machine_check: pid %d: swap PTE %#llx at %#llx names no slot\n",
			mm->owner->pid, (unsigned long long)e, (unsigned long long)va);
		w->bad++;
		return;
	}
	w->refs[slot]++;
}

int sim_swap_check(struct mm_machine *m)
{
	struct sim_swap *sw = m->swap;
	if (!sw || m->hooks.swap_free != swap_free_hook)
		return 0;   /* no swap, or an external layer replaced it */
	struct swap_walk w = { m, calloc(sw->nslots, sizeof(uint32_t)), 0 };
	if (!w.refs)
		return -MM_ENOMEM;
	struct mm_task *t;
	mm_list_for_each_entry(t, &m->tasks, node)
		sim_for_each_pte_any(m, t->mm, 0, t->mm->task_size, count_swap_pte, &w);
	/* shmem pages swapped out: the mapping holds the slot */
	struct sim_mapping *map;
	mm_list_for_each_entry(map, &m->mappings, node) {
		uint64_t n = 0;
		for (uint64_t i = 0; i < map->swapped_cap; i++) {
			uint64_t slot = map->swapped[i];
			if (!slot)
				continue;
			n++;
			if (slot >= sw->nslots || (i < map->cap && map->pages[i])) {
				fprintf(stderr, "mm_machine_check: %s page %llu: bad swap slot %llu\n",
					map->name, (unsigned long long)i, (unsigned long long)slot);
				w.bad++;
				continue;
			}
			w.refs[slot]++;
		}
		if (n != map->nr_swapped) {
			fprintf(stderr, "mm_machine_check: %s: %llu pages in swap, counted %llu\n",
				map->name, (unsigned long long)n, (unsigned long long)map->nr_swapped);
			w.bad++;
		}
	}
	uint64_t nfree = 0, ncache = 0;
	for (uint64_t s = 0; s < sw->nslots && w.bad < 10; s++) {
		struct mm_page *p = sw->cache[s];
		if (s == 0 && (sw->count[0] || p)) {
			fprintf(stderr, "mm_machine_check: swap header slot in use\n");
			w.bad++;
		}
		if (sw->count[s] != w.refs[s]) {
			fprintf(stderr, "mm_machine_check: swap slot %llu: count %u, PTEs %u\n",
				(unsigned long long)s, sw->count[s], w.refs[s]);
			w.bad++;
		}
		if (s && slot_is_free(sw, s))
			nfree++;
		if (!p)
			continue;
		ncache++;
		if (!mm_page_test_flag(p, MM_PG_SWAPCACHE) || !mm_page_test_flag(p, MM_PG_ANON) ||
		    p->private != s || !mm_page_is_head(p)) {
			fprintf(stderr, "mm_machine_check: swap slot %llu: cache page not marked\n",
				(unsigned long long)s);
			w.bad++;
			continue;
		}
		if (!p->mapcount && !sw->count[s]) {
			fprintf(stderr, "mm_machine_check: swap slot %llu: orphan cache page\n",
				(unsigned long long)s);
			w.bad++;
		}
		for (struct sim_rmap *r = m->rmap[page_pfn(m, p)]; r; r = r->next) {
			void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
			if (ep && (ent_get(m, ep) & PTE_RW)) {
				fprintf(stderr, "mm_machine_check: swap-cache page of slot %llu mapped "
						"writable at %#llx\n", (unsigned long long)s,
					(unsigned long long)r->va);
				w.bad++;
			}
		}
	}
	if (w.bad < 10 && (nfree != sw->nr_free || ncache != sw->nr_cache)) {
		fprintf(stderr, "mm_machine_check: swap: %llu free slots (SwapFree says %llu), "
				"%llu cached (SwapCached says %llu)\n", (unsigned long long)nfree,
			(unsigned long long)sw->nr_free, (unsigned long long)ncache,
			(unsigned long long)sw->nr_cache);
		w.bad++;
	}
	free(w.refs);
	return w.bad ? -MM_ECORRUPT : 0;
}
