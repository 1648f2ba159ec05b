/* lfu.c — exact Least Frequently Used (idealised).
 *
 * Definition: every resident item has a use count; the victim is the item
 * with the smallest count. Counting starts at 1 for the access that loads the
 * item and adds 1 per hit, so every hit must be reported (idealised).
 *
 * Variants, stated precisely:
 *   tie=lru (default): among items with the smallest count, evict the one
 *       whose most recent access is oldest. This is libCacheSim's LFU: its
 *       frequency buckets keep items in the order they entered the bucket, and
 *       an item enters bucket f at its f-th access, i.e. at its latest access,
 *       so "first in the bucket" is "least recently used among equals".
 *   tie=fifo: among equals, evict the one loaded earliest (its insert time).
 *   perfect=0 (default): "in-cache LFU": counts are forgotten on eviction or
 *       removal; a reloaded item starts again at 1 (libCacheSim's LFU).
 *   perfect=1: "perfect LFU": counts survive eviction; a reloaded item starts
 *       at its old count + 1. Costs one map entry per distinct id ever seen.
 *
 * Cost: the default (tie=lru, perfect=0) is O(1) per operation with
 * frequency buckets (Shah, Mitra & Matani, "An O(1) algorithm for implementing
 * the LFU cache eviction scheme", 2010): a list of buckets in increasing count,
 * each holding its items in the order they entered it; a hit moves an item to
 * the tail of the next bucket (count + 1), creating it if needed, and an
 * eviction takes the head of the first bucket. tie=fifo and perfect=1 need an
 * item to enter a bucket in the middle of its order (by load time, or at an
 * arbitrary count), so they use an indexed binary heap keyed by (count,
 * tie-break time): O(log n). Both structures give the victims the definition
 * gives (tested against a model).
 * Reference: the seeds' LFU; Aho, Denning & Ullman, "Principles of optimal
 * page replacement", JACM 18(1), 1971 (LFU as the optimal policy under the
 * independent reference model); libCacheSim LFU.c.
 */
#include "policy_internal.h"

struct lfu {
	struct iheap hp;  /* heap mode: k1 = count, k2 = tie-break time */
	uint64_t seq;     /* logical clock: one tick per insert or hit */
	bool tie_fifo;
	bool perfect;
	bool buckets;     /* bucket mode (tie=lru, perfect=0) */
	struct idmap hist; /* perfect: id -> count at departure */
	/* bucket mode: buckets 0 .. cap are a pool; bucket list sentinel is
	 * bucket cap + 1. Item lists: links over slots, bucket b's item list
	 * head at link index cap + b. */
	struct ilink *items;   /* cap + cap + 1 entries */
	struct ilink *blist;   /* cap + 2 entries: bucket order by count */
	uint64_t *bfreq;       /* bucket -> its count */
	uint32_t *slot_bucket; /* slot -> bucket */
	uint32_t *bfree;       /* free bucket stack */
	uint32_t nbfree;
};

/* ---- bucket mode: O(1) LFU ----------------------------------------------- */

MM_INLINE uint32_t bsent(const struct mm_policy *p)
{
	return p->cap + 1;
}

MM_INLINE uint32_t bhead(const struct mm_policy *p, uint32_t b)
{
	return p->cap + b;
}

/* a new empty bucket with count f right after bucket `after` */
MM_INLINE uint32_t bucket_new(struct mm_policy *p, struct lfu *f, uint32_t after, uint64_t count)
{
	uint32_t b = f->bfree[--f->nbfree];
	f->bfreq[b] = count;
	il_init(f->items, bhead(p, b));
	il_insert(f->blist, b, after, f->blist[after].next);
	return b;
}

MM_INLINE void bucket_put_if_empty(struct mm_policy *p, struct lfu *f, uint32_t b)
{
	if (!il_empty(f->items, bhead(p, b)))
		return;
	il_del(f->blist, b);
	f->bfree[f->nbfree++] = b;
}

MM_INLINE void bk_insert(struct mm_policy *p, struct lfu *f, uint32_t s)
{
	uint32_t first = f->blist[bsent(p)].next;
	if (first == bsent(p) || f->bfreq[first] != 1)
		first = bucket_new(p, f, bsent(p), 1);
	il_add_tail(f->items, s, bhead(p, first));
	f->slot_bucket[s] = first;
}

MM_INLINE void bk_access(struct mm_policy *p, struct lfu *f, uint32_t s)
{
	uint32_t b = f->slot_bucket[s], nb = f->blist[b].next;
	uint64_t count = f->bfreq[b] + 1;
	if (nb == bsent(p) || f->bfreq[nb] != count)
		nb = bucket_new(p, f, b, count);
	il_move_tail(f->items, s, bhead(p, nb));
	f->slot_bucket[s] = nb;
	bucket_put_if_empty(p, f, b);
}

MM_INLINE void bk_remove(struct mm_policy *p, struct lfu *f, uint32_t s)
{
	uint32_t b = f->slot_bucket[s];
	il_del(f->items, s);
	bucket_put_if_empty(p, f, b);
}

static uint32_t bk_evict(struct mm_policy *p, struct lfu *f)
{
	uint32_t b = f->blist[bsent(p)].next;
	uint32_t s = f->items[bhead(p, b)].next;
	bk_remove(p, f, s);
	/* the next victim unless it is hit first (or a new item comes at 1) */
	b = f->blist[bsent(p)].next;
	if (mm_likely(b != bsent(p))) {
		uint32_t nx = f->items[bhead(p, b)].next, nnx = f->items[nx].next;
		__builtin_prefetch(&f->items[nnx], 1);
		__builtin_prefetch(&f->slot_bucket[nnx], 1);
		pol_prefetch_victims(p, nx, nnx);
	}
	return s;
}

static int bk_check(const struct mm_policy *p, const struct lfu *f)
{
	long total = 0;
	uint64_t prev_count = 0;
	uint32_t nb = 0;
	uint32_t prev = bsent(p);
	for (uint32_t b = f->blist[bsent(p)].next; b != bsent(p); prev = b, b = f->blist[b].next) {
		if (b > p->cap || f->blist[b].prev != prev || ++nb > p->cap + 1)
			return -MM_ECORRUPT;
		if (f->bfreq[b] <= prev_count) /* strictly increasing counts */
			return -MM_ECORRUPT;
		prev_count = f->bfreq[b];
		long n = pol_il_check(f->items, bhead(p, b), p->cap, NULL, p->cap);
		if (n <= 0) /* no empty bucket stays on the list */
			return -MM_ECORRUPT;
		for (uint32_t s = f->items[bhead(p, b)].next; s != bhead(p, b); s = f->items[s].next)
			if (f->slot_bucket[s] != b || !(p->flags[s] & PF_USED))
				return -MM_ECORRUPT;
		total += n;
	}
	if (total != (long)p->nr || nb + f->nbfree != p->cap + 1)
		return -MM_ECORRUPT;
	return 0;
}

/* ---- heap mode and the ops ---------------------------------------------------- */

static const char *const tie_choices[] = { "lru", "fifo", NULL };
static const char *const bool_choices[] = { "0", "1", NULL };

static void lfu_free(struct lfu *f)
{
	free(f->items);
	free(f->blist);
	free(f->bfreq);
	free(f->slot_bucket);
	free(f->bfree);
	free(f);
}

static int lfu_init(struct mm_policy *p, struct pol_opts *o)
{
	int tie, perfect;
	if (pol_opt_enum(o, "tie", tie_choices, 0, &tie) ||
	    pol_opt_enum(o, "perfect", bool_choices, 0, &perfect))
		return -MM_EINVAL;
	struct lfu *f = pol_calloc(1, sizeof(*f));
	if (!f)
		return -MM_ENOMEM;
	f->tie_fifo = tie == 1;
	f->perfect = perfect;
	f->buckets = !f->tie_fifo && !f->perfect;
	if (f->buckets) {
		size_t nb = (size_t)p->cap + 1;
		f->items = pol_calloc(p->cap + nb, sizeof(*f->items));
		f->blist = pol_calloc(nb + 1, sizeof(*f->blist));
		f->bfreq = pol_calloc(nb, sizeof(*f->bfreq));
		f->slot_bucket = pol_calloc(p->cap, sizeof(*f->slot_bucket));
		f->bfree = pol_calloc(nb, sizeof(*f->bfree));
		if (!f->items || !f->blist || !f->bfreq || !f->slot_bucket || !f->bfree) {
			lfu_free(f);
			return -MM_ENOMEM;
		}
		il_init(f->blist, bsent(p));
		for (uint32_t b = 0; b < nb; b++)
			f->bfree[b] = (uint32_t)nb - 1 - b;
		f->nbfree = (uint32_t)nb;
		p->priv = f;
		return 0;
	}
	if (pol_heap_init(&f->hp, p->cap)) {
		free(f);
		return -MM_ENOMEM;
	}
	if (f->perfect && pol_idmap_init(&f->hist, 1024)) {
		pol_heap_fini(&f->hp);
		free(f);
		return -MM_ENOMEM;
	}
	p->priv = f;
	return 0;
}

static void lfu_fini(struct mm_policy *p)
{
	struct lfu *f = p->priv;
	pol_heap_fini(&f->hp);
	if (f->perfect)
		pol_idmap_fini(&f->hist);
	lfu_free(f);
}

static void lfu_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lfu *f = p->priv;
	uint64_t count = 1;
	if (f->buckets) {
		bk_insert(p, f, s);
		return;
	}
	if (f->perfect) {
		const uint32_t *old = pol_idmap_ref(&f->hist, p->ids[s]);
		if (old)
			count += *old;
	}
	pol_heap_push(&f->hp, s, count, ++f->seq);
}

static void lfu_access(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct lfu *f = p->priv;
	if (f->buckets) {
		bk_access(p, f, s);
		return;
	}
	++f->seq;
	pol_heap_update(&f->hp, s, f->hp.k1[s] + 1, f->tie_fifo ? f->hp.k2[s] : f->seq);
}

/* perfect LFU: remember the count of a departing item */
static void lfu_forget(struct mm_policy *p, uint32_t s)
{
	struct lfu *f = p->priv;
	if (!f->perfect)
		return;
	uint64_t c = f->hp.k1[s];
	uint32_t v = c >= POL_NONE - 1 ? POL_NONE - 1 : (uint32_t)c;
	uint32_t *old = pol_idmap_ref(&f->hist, p->ids[s]);
	if (old)
		*old = v;
	else
		(void)pol_idmap_put(&f->hist, p->ids[s], v); /* on ENOMEM the count is lost */
}

static uint32_t lfu_evict(struct mm_policy *p)
{
	struct lfu *f = p->priv;
	p->st.scanned++;
	if (f->buckets)
		return bk_evict(p, f);
	uint32_t s = pol_heap_pop(&f->hp);
	lfu_forget(p, s);
	return s;
}

static void lfu_remove(struct mm_policy *p, uint32_t s)
{
	struct lfu *f = p->priv;
	if (f->buckets) {
		bk_remove(p, f, s);
		return;
	}
	pol_heap_remove(&f->hp, s);
	lfu_forget(p, s);
}

static int lfu_check(const struct mm_policy *p)
{
	const struct lfu *f = p->priv;
	if (f->buckets)
		return bk_check(p, f);
	if (pol_heap_check(&f->hp) || f->hp.n != p->nr)
		return -MM_ECORRUPT;
	for (uint32_t s = 0; s < p->cap; s++) {
		bool used = p->flags[s] & PF_USED;
		if (used != pol_heap_contains(&f->hp, s))
			return -MM_ECORRUPT;
		if (used && (f->hp.k1[s] == 0 || f->hp.k2[s] > f->seq))
			return -MM_ECORRUPT;
	}
	return f->perfect ? pol_idmap_check(&f->hist) : 0;
}

const struct pol_ops pol_lfu_ops = {
	.info = { "lfu", "", "exact least frequently used (sees every access)",
		  "tie=lru(lru|fifo) perfect=0(0|1)", true },
	.init = lfu_init,
	.fini = lfu_fini,
	.insert = lfu_insert,
	.access = lfu_access,
	.evict = lfu_evict,
	.remove = lfu_remove,
	.check = lfu_check,
};
