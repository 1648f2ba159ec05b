/* u64set.h — a hash set of 64-bit keys, optionally with a 64-bit value each
 * (u64set.c). mmsim trace keeps in one the pages it mapped automatically,
 * in another the page of every id of an id trace.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), at most half full; every key is allowed (the one that marks
 * empty slots is kept aside). Cost: O(1) expected per operation.
 */
#ifndef MMSIM_U64SET_H
#define MMSIM_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64set {
	uint64_t *keys;      /* U64SET_EMPTY: a free slot */
	uint64_t *vals;      /* NULL for a set without values */
	size_t mask;         /* slots - 1, slots a power of two */
	size_t count;        /* keys held, the kept-aside one included */
	bool has_empty_key;  /* the key U64SET_EMPTY is held */
	uint64_t empty_val;  /* ... with this value */
};

#define U64SET_EMPTY UINT64_MAX

/* An empty set (with values if vals). 0, or -1 without memory. */
int u64set_init(struct u64set *h, bool vals);
void u64set_free(struct u64set *h);

/* Is key held? Its value into *val if so and val is not NULL (0 in a set
 * without values). */
bool u64set_get(const struct u64set *h, uint64_t key, uint64_t *val);

/* Add key with value v (or set its value). 0, or -1 without memory
 * (nothing changed). */
int u64set_put(struct u64set *h, uint64_t key, uint64_t v);

/* Remove key if held. */
void u64set_del(struct u64set *h, uint64_t key);

/* Remove every key in [lo, hi]: by looking each one up when the range is
 * smaller than the set, else by one sweep of the table. */
void u64set_del_range(struct u64set *h, uint64_t lo, uint64_t hi);

#endif /* MMSIM_U64SET_H */
