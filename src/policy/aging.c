/* aging.c — aging (NFU with shifting counters).
 *
 * Definition (Tanenbaum 3.4.7): every page has an 8-bit counter, 0 when the
 * page is loaded. At every clock tick, for every page, the counter is shifted
 * right one bit and the page's referenced bit R is put in the leftmost bit,
 * and R is cleared:  counter = (counter >> 1) | (R << 7). The victim is the
 * page with the lowest counter: a page referenced in a recent interval beats
 * any page referenced only in older ones. Ties (equal counters, e.g. pages
 * loaded since the last tick, all 0) go to the page loaded earliest.
 * Counters change only at ticks: references since the last tick do not count
 * until the next one (so, as in the book, a page loaded after the last tick is
 * an early candidate). Only R is read (hardware-realistic).
 *
 * Cost: insert, evict, remove O(1): pages sit in 256 buckets by counter value,
 * each in load order, and a 256-bit map finds the lowest non-empty bucket. A
 * tick is O(n): it visits every page (in load order, which rebuilds the
 * buckets already sorted by load time).
 * Reference: Tanenbaum & Bos, Modern Operating Systems, 4th ed., 3.4.7.
 */
#include "policy_internal.h"

#define AGING_BUCKETS 256

struct aging {
	uint8_t *counter;   /* slot -> 8-bit age counter */
	struct ilink *load; /* load order, head at cap (oldest first) */
	struct ilink *bk;   /* cap slots + 256 bucket heads at cap + counter */
	uint64_t nonempty[AGING_BUCKETS / 64];
};

static int aging_init(struct mm_policy *p, struct pol_opts *o)
{
	(void)o;
	struct aging *a = pol_calloc(1, sizeof(*a));
	if (!a)
		return -MM_ENOMEM;
	a->counter = pol_calloc(p->cap, 1);
	a->load = pol_calloc((size_t)p->cap + 1, sizeof(*a->load));
	a->bk = pol_calloc((size_t)p->cap + AGING_BUCKETS, sizeof(*a->bk));
	if (!a->counter || !a->load || !a->bk) {
		free(a->counter);
		free(a->load);
		free(a->bk);
		free(a);
		return -MM_ENOMEM;
	}
	il_init(a->load, p->cap);
	for (uint32_t b = 0; b < AGING_BUCKETS; b++)
		il_init(a->bk, p->cap + b);
	p->priv = a;
	return 0;
}

static void aging_fini(struct mm_policy *p)
{
	struct aging *a = p->priv;
	free(a->counter);
	free(a->load);
	free(a->bk);
	free(a);
}

static void bucket_add(struct mm_policy *p, struct aging *a, uint32_t s)
{
	uint8_t c = a->counter[s];
	il_add_tail(a->bk, s, p->cap + c);
	a->nonempty[c / 64] |= 1ULL << (c % 64);
}

static void bucket_del(struct mm_policy *p, struct aging *a, uint32_t s)
{
	uint8_t c = a->counter[s];
	il_del(a->bk, s);
	if (il_empty(a->bk, p->cap + c))
		a->nonempty[c / 64] &= ~(1ULL << (c % 64));
}

static void aging_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct aging *a = p->priv;
	a->counter[s] = 0;
	il_add_tail(a->load, s, p->cap);
	bucket_add(p, a, s);
}

static void aging_remove(struct mm_policy *p, uint32_t s)
{
	struct aging *a = p->priv;
	bucket_del(p, a, s);
	il_del(a->load, s);
}

static uint32_t aging_evict(struct mm_policy *p)
{
	struct aging *a = p->priv;
	int w = 0;
	while (a->nonempty[w] == 0)
		w++;
	uint32_t c = (uint32_t)(w * 64 + __builtin_ctzll(a->nonempty[w]));
	uint32_t s = a->bk[p->cap + c].next;
	p->st.scanned++;
	aging_remove(p, s);
	return s;
}

static void aging_tick(struct mm_policy *p)
{
	struct aging *a = p->priv;
	for (uint32_t b = 0; b < AGING_BUCKETS; b++)
		il_init(a->bk, p->cap + b);
	for (int w = 0; w < AGING_BUCKETS / 64; w++)
		a->nonempty[w] = 0;
	for (uint32_t s = a->load[p->cap].next; s != p->cap; s = a->load[s].next) {
		bool r = pol_test_clear_young(p, s);
		a->counter[s] = (uint8_t)((a->counter[s] >> 1) | (r ? 0x80 : 0));
		bucket_add(p, a, s);
	}
}

static int aging_check(const struct mm_policy *p)
{
	const struct aging *a = p->priv;
	uint8_t *seen = pol_calloc(p->cap, 1);
	if (!seen)
		return 0; /* cannot check without memory; not corruption */
	int err = 0;
	if (pol_il_check(a->load, p->cap, p->cap, NULL, p->cap) != (long)p->nr)
		err = -MM_ECORRUPT;
	long total = 0;
	for (uint32_t b = 0; b < AGING_BUCKETS && !err; b++) {
		long n = pol_il_check(a->bk, p->cap + b, p->cap, seen, p->cap);
		bool bit = a->nonempty[b / 64] >> (b % 64) & 1;
		if (n < 0 || bit != (n > 0)) {
			err = -MM_ECORRUPT;
			break;
		}
		total += n;
		for (uint32_t s = a->bk[p->cap + b].next; s != p->cap + b; s = a->bk[s].next)
			if (a->counter[s] != b || !(p->flags[s] & PF_USED))
				err = -MM_ECORRUPT;
	}
	if (!err && total != (long)p->nr)
		err = -MM_ECORRUPT;
	free(seen);
	return err;
}

const struct pol_ops pol_aging_ops = {
	.info = { "aging", "nfu", "NFU with 8-bit counters shifted right each tick, R into the top bit",
		  "", false },
	.init = aging_init,
	.fini = aging_fini,
	.insert = aging_insert,
	.evict = aging_evict,
	.remove = aging_remove,
	.tick = aging_tick,
	.check = aging_check,
};

int pol_aging_counter(const struct mm_policy *p, uint64_t id)
{
	if (p->ops != &pol_aging_ops)
		return -MM_EINVAL;
	uint32_t s = pol_idmap_get(&p->map, id);
	if (s == POL_NONE)
		return -MM_ENOENT;
	return ((const struct aging *)p->priv)->counter[s];
}
