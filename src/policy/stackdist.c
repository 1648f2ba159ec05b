/* stackdist.c — Mattson's stack algorithm: LRU stack distances in one pass.
 *
 * For each reference at time t to an id last referenced at time p, the LRU
 * stack distance is 1 + (number of distinct ids referenced in (p, t)). Mark
 * in a Fenwick (binary indexed) tree the time of every id's latest reference;
 * the distinct ids referenced in (p, t) are exactly the marks in (p, t). All
 * D live marks lie before t, so that is D minus the prefix sum up to p: one
 * Fenwick query. Then unmark p and mark t. O(log F) per reference for a tree
 * of F time positions.
 *
 * The tree covers a window of time positions; when it fills, the live marks
 * (one per distinct id, D of them) are renumbered 0 .. D-1 in time order
 * (an order-preserving compaction, which keeps every distance) and the window
 * restarts at D, doubling if less than half of it would be free. So F <= 2D +
 * O(1) and memory is O(D) whatever the trace length; a compaction is O(F) and
 * happens at most once per F - D >= F / 2 references: O(1) amortized.
 *
 * Reference: Mattson, Gecsei, Slutz, Traiger, "Evaluation techniques for
 * storage hierarchies", IBM Systems Journal 9(2), 1970; Fenwick, "A new data
 * structure for cumulative frequency tables", Software P&E 24(3), 1994.
 */
#include <string.h>

#include "mmkit/cachesim.h"
#include "policy_internal.h"

struct mm_lru_stack {
	struct idmap map;  /* id -> dense index k */
	uint64_t *last;    /* k -> time position of its latest reference */
	uint32_t *who;     /* time position -> k, POL_NONE if unmarked */
	uint32_t *bit;     /* Fenwick tree over F positions (1-based inside) */
	uint64_t F;        /* window size */
	uint64_t t;        /* next time position */
	uint64_t D;        /* distinct ids */
	uint64_t kcap;     /* capacity of last[] */
	uint64_t *hist;    /* hist[d] for d = 1 .. hcap - 1 */
	uint64_t hcap;
	uint64_t requests;
};

static void fw_add(uint32_t *bit, uint64_t F, uint64_t pos, int32_t delta)
{
	for (uint64_t i = pos + 1; i <= F; i += i & -i)
		bit[i] += (uint32_t)delta;
}

/* marks in positions [0, pos] */
static uint64_t fw_sum(const uint32_t *bit, uint64_t pos)
{
	uint64_t s = 0;
	for (uint64_t i = pos + 1; i > 0; i -= i & -i)
		s += bit[i];
	return s;
}

/* Linear-time build from who[]. */
static void fw_build(struct mm_lru_stack *s)
{
	memset(s->bit, 0, (s->F + 1) * sizeof(*s->bit));
	for (uint64_t i = 1; i <= s->F; i++) {
		s->bit[i] += s->who[i - 1] != POL_NONE;
		uint64_t j = i + (i & -i);
		if (j <= s->F)
			s->bit[j] += s->bit[i];
	}
}

static int resize_window(struct mm_lru_stack *s, uint64_t F)
{
	uint32_t *who = realloc(s->who, F * sizeof(*who));
	if (!who)
		return -MM_ENOMEM;
	s->who = who;
	uint32_t *bit = realloc(s->bit, (F + 1) * sizeof(*bit));
	if (!bit)
		return -MM_ENOMEM;
	s->bit = bit;
	for (uint64_t i = s->F; i < F; i++)
		s->who[i] = POL_NONE;
	s->F = F;
	return 0;
}

int mm_lru_stack_create(struct mm_lru_stack **out)
{
	struct mm_lru_stack *s = calloc(1, sizeof(*s));
	if (!s)
		return -MM_ENOMEM;
	if (pol_idmap_init(&s->map, 1024) || resize_window(s, 1024)) {
		mm_lru_stack_destroy(s);
		return -MM_ENOMEM;
	}
	fw_build(s);
	*out = s;
	return 0;
}

void mm_lru_stack_destroy(struct mm_lru_stack *s)
{
	if (!s)
		return;
	pol_idmap_fini(&s->map);
	free(s->last);
	free(s->who);
	free(s->bit);
	free(s->hist);
	free(s);
}

/* Renumber live marks to 0 .. D-1; grow the window so half of it is free. */
static MM_NOINLINE int compact(struct mm_lru_stack *s)
{
	uint64_t F = s->F;
	while (F < 2 * s->D + 64)
		F *= 2;
	if (F != s->F && resize_window(s, F))
		return -MM_ENOMEM;
	uint64_t next = 0;
	for (uint64_t pos = 0; pos < s->t; pos++) {
		uint32_t k = s->who[pos];
		if (k == POL_NONE)
			continue;
		s->who[pos] = POL_NONE;
		s->who[next] = k;
		s->last[k] = next++;
	}
	MM_BUG_ON(next != s->D);
	s->t = next;
	fw_build(s);
	return 0;
}

static int grow_u64(uint64_t **a, uint64_t *cap, uint64_t need)
{
	if (need < *cap)
		return 0;
	uint64_t nc = *cap ? *cap : 1024;
	while (nc <= need)
		nc *= 2;
	uint64_t *na = realloc(*a, nc * sizeof(*na));
	if (!na)
		return -MM_ENOMEM;
	memset(na + *cap, 0, (nc - *cap) * sizeof(*na));
	*a = na;
	*cap = nc;
	return 0;
}

int64_t mm_lru_stack_access(struct mm_lru_stack *s, uint64_t id)
{
	if (mm_unlikely(s->t == s->F) && compact(s))
		return -MM_ENOMEM;
	uint32_t *ref = pol_idmap_ref(&s->map, id);
	int64_t dist;
	uint32_t k;
	if (!ref) {
		uint64_t hneed = s->D + 1;
		if (s->D >= POL_NONE - 1 || grow_u64(&s->last, &s->kcap, s->D) ||
		    grow_u64(&s->hist, &s->hcap, hneed) ||
		    pol_idmap_put(&s->map, id, (uint32_t)s->D))
			return -MM_ENOMEM;
		k = (uint32_t)s->D++;
		dist = 0;
	} else {
		k = *ref;
		uint64_t p = s->last[k];
		/* marks strictly between p and t, plus the id itself; every live
		 * mark lies before t, so marks in (p, t) = D - marks in [0, p] */
		dist = (int64_t)(s->D - fw_sum(s->bit, p)) + 1;
		s->hist[dist]++;
		fw_add(s->bit, s->F, p, -1);
		s->who[p] = POL_NONE;
	}
	s->last[k] = s->t;
	s->who[s->t] = k;
	fw_add(s->bit, s->F, s->t, 1);
	s->t++;
	s->requests++;
	return dist;
}

uint64_t mm_lru_stack_requests(const struct mm_lru_stack *s)
{
	return s->requests;
}

uint64_t mm_lru_stack_distinct(const struct mm_lru_stack *s)
{
	return s->D;
}

uint64_t mm_lru_stack_hist(const struct mm_lru_stack *s, uint64_t d)
{
	return d >= 1 && d < s->hcap ? s->hist[d] : 0;
}

uint64_t mm_lru_stack_misses(const struct mm_lru_stack *s, size_t size)
{
	uint64_t m = s->D;
	for (uint64_t d = (uint64_t)size + 1; d < s->hcap; d++)
		m += s->hist[d];
	return m;
}

void mm_lru_stack_curve(const struct mm_lru_stack *s, size_t max_size, uint64_t *misses)
{
	/* misses(k) = D + sum_{d > k} hist[d]; walk k downwards */
	uint64_t tail = 0;
	for (uint64_t d = s->hcap; d-- > (uint64_t)max_size + 1;)
		tail += s->hist[d];
	for (size_t k = max_size; k >= 1; k--) {
		misses[k - 1] = s->D + tail;
		if (k < s->hcap)
			tail += s->hist[k];
	}
}

int mm_lru_stack_check(const struct mm_lru_stack *s)
{
	if (pol_idmap_check(&s->map) || s->map.n != s->D || s->t > s->F || s->D > s->t)
		return -MM_ECORRUPT;
	uint64_t marks = 0;
	for (uint64_t pos = 0; pos < s->F; pos++) {
		uint32_t k = s->who[pos];
		if (k == POL_NONE)
			continue;
		if (k >= s->D || s->last[k] != pos || pos >= s->t)
			return -MM_ECORRUPT;
		marks++;
	}
	if (marks != s->D || (s->t && fw_sum(s->bit, s->t - 1) != s->D) ||
	    fw_sum(s->bit, s->F - 1) != s->D)
		return -MM_ECORRUPT;
	uint64_t total = s->D;
	for (uint64_t d = 1; d < s->hcap; d++)
		total += s->hist[d];
	return total == s->requests ? 0 : -MM_ECORRUPT;
}
