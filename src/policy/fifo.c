/* fifo.c — First-In First-Out replacement.
 *
 * Definition: the victim is the resident item that was inserted (loaded)
 * earliest. Hits change nothing; it reads no hardware bits at all. Removal of
 * an item (unmap) simply drops it from the queue.
 *
 * Cost: O(1) per insert, evict and remove (a doubly linked queue over slots).
 * Behaviour: suffers Belady's anomaly — more frames can give more faults
 * (1,2,3,4,1,2,5,1,2,3,4,5: 9 faults with 3 frames, 10 with 4).
 * Reference: L. A. Belady, R. A. Nelson, G. S. Shedler, "An anomaly in
 * space-time characteristics of certain programs running in a paging
 * machine", CACM 12(6), 1969; libCacheSim's FIFO is the same definition.
 */
#include "policy_internal.h"

struct fifo {
	struct ilink *l; /* cap slots + head at cap; head->next is the oldest */
};

static int fifo_init(struct mm_policy *p, struct pol_opts *o)
{
	(void)o;
	struct fifo *f = pol_calloc(1, sizeof(*f));
	if (!f || !(f->l = pol_calloc((size_t)p->cap + 1, sizeof(*f->l)))) {
		free(f);
		return -MM_ENOMEM;
	}
	il_init(f->l, p->cap);
	p->priv = f;
	return 0;
}

static void fifo_fini(struct mm_policy *p)
{
	struct fifo *f = p->priv;
	free(f->l);
	free(f);
}

static void fifo_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct fifo *f = p->priv;
	il_add_tail(f->l, s, p->cap);
}

static uint32_t fifo_evict(struct mm_policy *p)
{
	struct fifo *f = p->priv;
	uint32_t s = f->l[p->cap].next;
	il_del(f->l, s);
	p->st.scanned++;
	uint32_t nx = f->l[p->cap].next; /* the next victims, for sure */
	if (mm_likely(nx != p->cap)) {
		uint32_t nnx = f->l[nx].next;
		__builtin_prefetch(&f->l[nnx], 1);
		pol_prefetch_victims(p, nx, nnx);
	}
	return s;
}

static void fifo_remove(struct mm_policy *p, uint32_t s)
{
	struct fifo *f = p->priv;
	il_del(f->l, s);
}

static int fifo_check(const struct mm_policy *p)
{
	const struct fifo *f = p->priv;
	long n = pol_il_check(f->l, p->cap, p->cap, NULL, p->cap);
	return n == (long)p->nr ? 0 : -MM_ECORRUPT;
}

const struct pol_ops pol_fifo_ops = {
	.info = { "fifo", "", "first in, first out: evict the earliest loaded", "", false },
	.init = fifo_init,
	.fini = fifo_fini,
	.insert = fifo_insert,
	.evict = fifo_evict,
	.remove = fifo_remove,
	.check = fifo_check,
};
