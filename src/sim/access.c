/* access.c — memory accesses through the MMU: the CPU side of mmsim.
 *
 * An access of N bytes at a linear address is split at page boundaries;
 * each piece is translated and the bytes are copied to or from the frame in
 * simulated RAM. Translation, as the hardware does it:
 *
 *   fast path (inlined): the first-level 4K TLB (data, or instruction for a
 *     fetch): one set, compare every way; hit when the tag matches (PCID or
 *     global) and the cached rights allow the access (U for user mode, W and
 *     D for a write, no NX for a fetch);
 *   slow path (not inlined): the other first-level arrays (2M/4M, 1G), the
 *     second-level TLB (refilling the first level on a hit), then the page
 *     walk (walk.c), which fills both levels. A write that hits an entry
 *     cached with D = 0 walks again to set D in the PTE (as Intel CPUs do);
 *     an entry whose cached rights forbid the access is dropped and the
 *     walk decides. A faulting walk raises #PF: the TLB entries of the
 *     address are invalidated (SDM vol. 3, 4.10.4.1) and the kernel's
 *     handler (fault.c) runs; on success the access is retried.
 *
 * With an idealised replacement policy (exact LRU, LFU, OPT) the machine
 * reports every user access to the reclaim layer (m->watch_all): the
 * inlined TLB-hit path is then skipped and each access is reported after
 * translation, at the cost of a function call.
 *
 * Segmentation sits in front in the Linux flat model (base 0, limit 4 GiB
 * or no limit in 64-bit mode), where it is the identity: the fast path
 * skips it.
 *
 * Cost: a TLB hit is a handful of loads and one compare per way (~3 ns on
 * the host); a walk adds one host load per level plus the TLB fill.
 * Reference: Intel SDM vol. 3, 4.10 (caching translation information).
 */
#include "sim_internal.h"

/* Rights a TLB entry must have, and the bits checked, per [user][kind]. */
static const uint32_t need_bits[2][3] = {
	{ 0, TLB_W | TLB_D, 0 },
	{ TLB_U, TLB_U | TLB_W | TLB_D, TLB_U },
};
static const uint32_t check_bits[2][3] = {
	{ 0, TLB_W | TLB_D, TLB_NX },
	{ TLB_U, TLB_U | TLB_W | TLB_D, TLB_U | TLB_NX },
};

void mm_context_switch(struct mm_machine *m, struct mm_task *t)
{
	if (m->cpu.current == t || (t && task_dead(t)))
		return;
	m->cpu.current = t;
	sim_switch_mm(m, t ? t->mm : NULL);
}

/* A linear address the paging mode can translate (bits above the top level
 * all equal to its top bit in 64-bit modes; below 4 GiB in 32-bit mode). */
static bool canonical(const struct mm_machine *m, uint64_t va)
{
	if (m->pg.levels == 2)
		return va <= 0xffffffffULL;
	unsigned int bits = m->pg.levels == 4 ? 48 : 57;
	int64_t sx = (int64_t)(va << (64 - bits)) >> (64 - bits);
	return (uint64_t)sx == va;
}

static MM_NOINLINE uint8_t *translate_slow(struct mm_machine *m, struct mm_task *t,
					   struct mm_counters *c, uint64_t va,
					   enum mm_access_kind kind, bool user, int *errp,
					   bool l1_4k_missed)
{
	if (mm_unlikely(!canonical(m, va))) {
		/* #GP at address generation, before the TLB is looked up (its
		 * tag would alias the low bits): Linux's do_general_protection
		 * sends SIGSEGV with SI_KERNEL and no address */
		if (t && user) {
			t->sig = (struct mm_siginfo){ MM_SIGSEGV, MM_SI_KERNEL, 0, 0 };
			t->cnt.segv++;
		}
		*errp = -MM_EFAULT;
		return NULL;
	}
	bool instr = kind == MM_ACCESS_EXEC;
	uint32_t need = need_bits[user][kind], check = check_bits[user][kind];
	for (int tries = 0;; tries++) {
		MM_BUG_ON(tries > 8);
		bool second;
		unsigned int shift;
		struct sim_tlb_entry *e = sim_tlb_find(m, instr, va, &second, &shift,
						       l1_4k_missed && tries == 0);
		if (e) {
			uint32_t f = (uint32_t)(e->pa_flags & TLB_FLAGS);
			if ((f & check) == need) {
				if (second) {
					c->stlb_hits++;
					sim_tlb_fill_l1(m, instr, va, shift, e->pa_flags);
				} else {
					c->dtlb_hits += !instr;
					c->itlb_hits += instr;
				}
				uint64_t base = e->pa_flags & ~(uint64_t)TLB_FLAGS;
				return m->ram + base + (va & ((1ULL << shift) - 1));
			}
			if (kind == MM_ACCESS_WRITE && (f & (check & ~TLB_D)) == (need & ~TLB_D))
				c->dirty_walks++;   /* cached clean: walk to set D */
			else
				c->tlb_misses++;
			sim_tlb_entry_invalidate(e);
		} else {
			c->tlb_misses++;
		}
		struct sim_walk w;
		unsigned int res = sim_hw_walk(m, m->cpu.cr3_pfn, va, kind, user, &w);
		c->walk_refs += w.refs;
		if (!res) {
			sim_tlb_insert(m, instr, va, w.shift, w.pa_base, w.flags);
			return m->ram + w.pa_base + (va & ((1ULL << w.shift) - 1));
		}
		unsigned int err = res & ~SIM_WALK_FAULT;
		/* #PF: the faulting address leaves the TLBs */
		sim_tlb_invalidate_va(m, va, m->cpu.pcid, false);
		if (!t || (!user && va >= t->mm->task_size)) {
			*errp = -MM_EFAULT;   /* a kernel oops: no fixup */
			return NULL;
		}
		int r = sim_do_page_fault(m, t, va, err);
		if (r) {
			*errp = r;
			return NULL;
		}
	}
}

static inline uint8_t *translate(struct mm_machine *m, struct mm_task *t, struct mm_counters *c,
				 uint64_t va, enum mm_access_kind kind, bool user, int *errp)
{
	struct sim_tlb_array *a = kind == MM_ACCESS_EXEC ? &m->tlb.i4k : &m->tlb.d4k;
	uint64_t vpn = va >> MM_PAGE_SHIFT;
	struct sim_tlb_entry *s = a->e + (vpn & a->set_mask) * a->ways;
	uint64_t key = (vpn << 14) | m->cpu.pcid;
	uint32_t need = need_bits[user][kind], check = check_bits[user][kind];
	for (unsigned int w = 0; w < a->ways; w++) {
		if (((s[w].tag ^ key) & s[w].mask) == 0 &&
		    ((uint32_t)s[w].pa_flags & check) == need) {
			s[w].stamp = ++m->tlb.clock;
			if (kind == MM_ACCESS_EXEC)
				c->itlb_hits++;
			else
				c->dtlb_hits++;
			return m->ram + (s[w].pa_flags & ~(uint64_t)TLB_FLAGS) + (va & (MM_PAGE_SIZE - 1));
		}
	}
	return translate_slow(m, t, c, va, kind, user, errp, true);
}

/* Move n bytes between the frame at h and the caller's buffer: into the
 * frame for a write, out of it otherwise. An aligned word, the common case,
 * is one load and one store. */
MM_INLINE void copy_bytes(uint8_t *h, void *buf, size_t n, enum mm_access_kind kind)
{
	if (n == 8) {
		uint64_t x;
		if (kind == MM_ACCESS_WRITE) {
			memcpy(&x, buf, 8);
			memcpy(h, &x, 8);
		} else {
			memcpy(&x, h, 8);
			memcpy(buf, &x, 8);
		}
	} else if (kind == MM_ACCESS_WRITE) {
		memcpy(h, buf, n);
	} else {
		memcpy(buf, h, n);
	}
}

static inline int do_access(struct mm_machine *m, struct mm_task *t, struct mm_counters *c,
			    uint64_t va, uint8_t *buf, size_t len, enum mm_access_kind kind, bool user,
			    bool fast, bool l1_4k_missed)
{
	while (len) {
		size_t off = va & (MM_PAGE_SIZE - 1);
		size_t n = MM_PAGE_SIZE - off < len ? MM_PAGE_SIZE - off : len;
		int err = 0;
		c->accesses++;
		uint8_t *h = fast ? translate(m, t, c, va, kind, user, &err) :
				    translate_slow(m, t, c, va, kind, user, &err, l1_4k_missed);
		if (mm_unlikely(!h))
			return err;
		if (mm_unlikely(m->watch_all) && user)
			sim_reclaim_note_access(m, h, kind);   /* an idealised policy */
		copy_bytes(h, buf, n, kind);
		buf += n;
		va += n;
		len -= n;
	}
	return 0;
}

/* The general path: any length, any address, not inlined. */
static MM_NOINLINE int access_general(struct mm_machine *m, struct mm_task *t, uint64_t va,
				      void *buf, size_t len, enum mm_access_kind kind,
				      bool l1_4k_missed)
{
	if (task_dead(t))
		return -MM_ESRCH;   /* killed: never current again, so never on the fast path */
	if (m->cpu.current != t)
		mm_context_switch(m, t);
	/* addresses outside the user half take the careful path: the TLB tag
	 * drops the top bits of non-canonical addresses */
	bool fast = va < t->task_size && len <= t->task_size - va;
	/* a word the inlined path just missed: straight to the slow path,
	 * which need not look at the first-level 4K TLB again */
	if (len <= 8 && (va & (MM_PAGE_SIZE - 1)) + len <= MM_PAGE_SIZE)
		fast = false;
	else
		l1_4k_missed = false;
	return do_access(m, t, &t->cnt, va, buf, len, kind, true, fast, l1_4k_missed);
}

int mm_access(struct mm_machine *m, struct mm_task *t, uint64_t va, void *buf, size_t len,
	      enum mm_access_kind kind)
{
	/* Fast path: the running task, a word or less inside one user page,
	 * a first-level TLB hit. */
	if (mm_likely(m->cpu.current == t && !m->watch_all && len <= 8 && (va & (MM_PAGE_SIZE - 1)) + len <= MM_PAGE_SIZE &&
		      va < t->task_size)) {
		struct sim_tlb_array *a = kind == MM_ACCESS_EXEC ? &m->tlb.i4k : &m->tlb.d4k;
		uint64_t vpn = va >> MM_PAGE_SHIFT;
		struct sim_tlb_entry *s = a->e + (vpn & a->set_mask) * a->ways;
		uint64_t key = (vpn << 14) | m->cpu.pcid;
		uint32_t need = need_bits[1][kind], check = check_bits[1][kind];
		for (unsigned int w = 0; w < a->ways; w++) {
			if (((s[w].tag ^ key) & s[w].mask) != 0)
				continue;
			if (((uint32_t)s[w].pa_flags & check) != need)
				return access_general(m, t, va, buf, len, kind, false);
			s[w].stamp = ++m->tlb.clock;
			t->cnt.accesses++;
			if (kind == MM_ACCESS_EXEC)
				t->cnt.itlb_hits++;
			else
				t->cnt.dtlb_hits++;
			uint8_t *h = m->ram + (s[w].pa_flags & ~(uint64_t)TLB_FLAGS) +
				     (va & (MM_PAGE_SIZE - 1));
			copy_bytes(h, buf, len, kind);
			return 0;
		}
	}
	return access_general(m, t, va, buf, len, kind, m->cpu.current == t && va < t->task_size);
}

int mm_kernel_access(struct mm_machine *m, uint64_t va, void *buf, size_t len,
		     enum mm_access_kind kind)
{
	return do_access(m, m->cpu.current, &m->kcnt, va, buf, len, kind, false, false, false);
}
