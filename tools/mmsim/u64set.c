/* u64set.c — the hash set of u64set.h.
 *
 * Linear probing from the key's hash (a 64-bit mix, so page numbers and
 * small dense ids spread); deletion shifts the rest of the probe run back
 * into the hole (Knuth's algorithm R), so lookups never meet tombstones.
 */
#include <stdlib.h>
#include <string.h>

#include "u64set.h"

#define INIT_SLOTS 1024

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline size_t home(const struct u64set *h, uint64_t key)
{
	return (size_t)mix64(key) & h->mask;
}

/* The slot of key, or the free slot where it would go. */
static size_t find(const struct u64set *h, uint64_t key)
{
	size_t i = home(h, key);
	while (h->keys[i] != U64SET_EMPTY && h->keys[i] != key)
		i = (i + 1) & h->mask;
	return i;
}

static int alloc_table(struct u64set *h, size_t slots, bool vals)
{
	h->keys = malloc(slots * sizeof(*h->keys));
	h->vals = vals ? malloc(slots * sizeof(*h->vals)) : NULL;
	if (!h->keys || (vals && !h->vals)) {
		free(h->keys);
		free(h->vals);
		return -1;
	}
	memset(h->keys, 0xff, slots * sizeof(*h->keys));
	h->mask = slots - 1;
	return 0;
}

int u64set_init(struct u64set *h, bool vals)
{
	memset(h, 0, sizeof(*h));
	return alloc_table(h, INIT_SLOTS, vals);
}

void u64set_free(struct u64set *h)
{
	free(h->keys);
	free(h->vals);
	h->keys = h->vals = NULL;
}

static int grow(struct u64set *h)
{
	struct u64set n = *h;
	if (alloc_table(&n, (h->mask + 1) * 2, h->vals != NULL))
		return -1;
	for (size_t i = 0; i <= h->mask; i++) {
		if (h->keys[i] == U64SET_EMPTY)
			continue;
		size_t j = find(&n, h->keys[i]);
		n.keys[j] = h->keys[i];
		if (n.vals)
			n.vals[j] = h->vals[i];
	}
	free(h->keys);
	free(h->vals);
	*h = n;
	return 0;
}

bool u64set_get(const struct u64set *h, uint64_t key, uint64_t *val)
{
	if (key == U64SET_EMPTY) {
		if (h->has_empty_key && val)
			*val = h->empty_val;
		return h->has_empty_key;
	}
	size_t i = find(h, key);
	if (h->keys[i] != key)
		return false;
	if (val)
		*val = h->vals ? h->vals[i] : 0;
	return true;
}

int u64set_put(struct u64set *h, uint64_t key, uint64_t v)
{
	if (key == U64SET_EMPTY) {
		h->count += !h->has_empty_key;
		h->has_empty_key = true;
		h->empty_val = v;
		return 0;
	}
	if ((h->count + 1) * 2 > h->mask + 1 && grow(h))
		return -1;
	size_t i = find(h, key);
	if (h->keys[i] == U64SET_EMPTY) {
		h->keys[i] = key;
		h->count++;
	}
	if (h->vals)
		h->vals[i] = v;
	return 0;
}

/* Empty slot i and shift the rest of its probe run back. */
static void remove_at(struct u64set *h, size_t i)
{
	h->count--;
	for (size_t j = (i + 1) & h->mask; h->keys[j] != U64SET_EMPTY; j = (j + 1) & h->mask) {
		size_t k = home(h, h->keys[j]);
		/* the entry at j stays if its home lies cyclically in (i, j] */
		bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (stays)
			continue;
		h->keys[i] = h->keys[j];
		if (h->vals)
			h->vals[i] = h->vals[j];
		i = j;
	}
	h->keys[i] = U64SET_EMPTY;
}

void u64set_del(struct u64set *h, uint64_t key)
{
	if (key == U64SET_EMPTY) {
		h->count -= h->has_empty_key;
		h->has_empty_key = false;
		return;
	}
	size_t i = find(h, key);
	if (h->keys[i] == key)
		remove_at(h, i);
}

void u64set_del_range(struct u64set *h, uint64_t lo, uint64_t hi)
{
	if (!h->count || hi < lo)
		return;
	if (hi - lo < h->count) {
		for (uint64_t k = lo;; k++) {
			u64set_del(h, k);
			if (k == hi)
				break;
		}
		return;
	}
	if (h->has_empty_key && U64SET_EMPTY >= lo && U64SET_EMPTY <= hi)
		u64set_del(h, U64SET_EMPTY);
	/* a removal may shift a later key into slot i: look at i again (keys
	 * shifted from the start of the table past its end are seen twice,
	 * which is harmless) */
	for (size_t i = 0; i <= h->mask;) {
		uint64_t k = h->keys[i];
		if (k != U64SET_EMPTY && k >= lo && k <= hi)
			remove_at(h, i);
		else
			i++;
	}
}
