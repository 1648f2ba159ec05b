/* heap.c — indexed binary min-heap over slot numbers.
 *
 * The textbook array heap (Williams 1964; CLRS ch. 6) with a position index
 * so that any slot's key can be changed or the slot removed in O(log n).
 * Keys are pairs (k1, k2) ordered lexicographically, which lets a policy state
 * its tie-break in the key itself (LFU: frequency, then recency; OPT: next
 * use, then load order). Heapify of n keys is O(n).
 */
#include "policy_internal.h"

MM_INLINE bool less(const struct iheap *hp, uint32_t a, uint32_t b)
{
	return hp->k1[a] < hp->k1[b] || (hp->k1[a] == hp->k1[b] && hp->k2[a] < hp->k2[b]);
}

MM_INLINE void set_at(struct iheap *hp, uint32_t i, uint32_t s)
{
	hp->h[i] = s;
	hp->pos[s] = i;
}

static void sift_up(struct iheap *hp, uint32_t i)
{
	uint32_t s = hp->h[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!less(hp, s, hp->h[parent]))
			break;
		set_at(hp, i, hp->h[parent]);
		i = parent;
	}
	set_at(hp, i, s);
}

static void sift_down(struct iheap *hp, uint32_t i)
{
	uint32_t s = hp->h[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= hp->n)
			break;
		if (c + 1 < hp->n && less(hp, hp->h[c + 1], hp->h[c]))
			c++;
		if (!less(hp, hp->h[c], s))
			break;
		set_at(hp, i, hp->h[c]);
		i = c;
	}
	set_at(hp, i, s);
}

int pol_heap_init(struct iheap *hp, uint32_t cap)
{
	hp->n = 0;
	hp->cap = cap;
	hp->h = pol_calloc(cap, sizeof(*hp->h));
	hp->pos = pol_calloc(cap, sizeof(*hp->pos));
	hp->k1 = pol_calloc(cap, sizeof(*hp->k1));
	hp->k2 = pol_calloc(cap, sizeof(*hp->k2));
	if (!hp->h || !hp->pos || !hp->k1 || !hp->k2) {
		pol_heap_fini(hp);
		return -MM_ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++)
		hp->pos[i] = POL_NONE;
	return 0;
}

void pol_heap_fini(struct iheap *hp)
{
	free(hp->h);
	free(hp->pos);
	free(hp->k1);
	free(hp->k2);
	hp->h = hp->pos = NULL;
	hp->k1 = hp->k2 = NULL;
	hp->n = 0;
}

void pol_heap_push(struct iheap *hp, uint32_t s, uint64_t k1, uint64_t k2)
{
	MM_ASSERT(s < hp->cap && hp->pos[s] == POL_NONE && hp->n < hp->cap);
	hp->k1[s] = k1;
	hp->k2[s] = k2;
	set_at(hp, hp->n++, s);
	sift_up(hp, hp->n - 1);
}

void pol_heap_update(struct iheap *hp, uint32_t s, uint64_t k1, uint64_t k2)
{
	MM_ASSERT(hp->pos[s] != POL_NONE);
	hp->k1[s] = k1;
	hp->k2[s] = k2;
	sift_up(hp, hp->pos[s]);
	sift_down(hp, hp->pos[s]);
}

void pol_heap_remove(struct iheap *hp, uint32_t s)
{
	uint32_t i = hp->pos[s];
	MM_ASSERT(i != POL_NONE);
	hp->pos[s] = POL_NONE;
	uint32_t last = hp->h[--hp->n];
	if (i == hp->n)
		return;
	set_at(hp, i, last);
	sift_up(hp, i);
	sift_down(hp, hp->pos[last]);
}

uint32_t pol_heap_pop(struct iheap *hp)
{
	uint32_t s = pol_heap_top(hp);
	if (s != POL_NONE)
		pol_heap_remove(hp, s);
	return s;
}

void pol_heap_heapify(struct iheap *hp)
{
	for (uint32_t i = 0; i < hp->n; i++)
		hp->pos[hp->h[i]] = i;
	for (uint32_t i = hp->n / 2; i-- > 0;)
		sift_down(hp, i);
}

int pol_heap_check(const struct iheap *hp)
{
	uint32_t inside = 0;
	if (hp->n > hp->cap)
		return -MM_ECORRUPT;
	for (uint32_t i = 0; i < hp->n; i++) {
		uint32_t s = hp->h[i];
		if (s >= hp->cap || hp->pos[s] != i)
			return -MM_ECORRUPT;
		if (i > 0 && less(hp, s, hp->h[(i - 1) / 2]))
			return -MM_ECORRUPT;
	}
	for (uint32_t s = 0; s < hp->cap; s++)
		if (hp->pos[s] != POL_NONE)
			inside++;
	return inside == hp->n ? 0 : -MM_ECORRUPT;
}
