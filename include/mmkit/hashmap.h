/* mmkit/hashmap.h — uint64_t → uint64_t hash map (open addressing).
 *
 * Keys and values are plain 64-bit integers (a pointer fits in either). The
 * table is a power-of-two array probed linearly from the slot chosen by a
 * strong 64-bit mixer (mm_hash64), so even keys that differ only in their
 * high bits (page-aligned addresses, PFNs << 12) spread evenly. Deletion
 * shifts the following entries of the probe run back into the hole
 * ("backward-shift deletion"), so there are no tombstones and lookups never
 * slow down after many deletions.
 *
 * Costs: get/put/remove are O(1) expected (at the 7/8 maximum load a
 * successful lookup probes about 4.5 slots, an unsuccessful one about 32; at
 * the usual 7/16..7/8 load far fewer). A put that crosses 7/8 load doubles
 * the table and re-inserts everything: O(n), amortised O(1). The table never
 * shrinks on remove; mm_hashmap_clear keeps the capacity too. Memory: 16 bytes
 * per slot plus one occupancy bit.
 *
 * Invariant (mm_hashmap_check): every entry lies on its probe run, i.e. no
 * empty slot lies between its home slot and the slot it occupies, and no
 * earlier slot on that run holds the same key.
 *
 * Locking: none; the caller serialises access. Pointers returned by
 * mm_hashmap_lookup are valid until the next put or remove.
 */
#ifndef MMKIT_HASHMAP_H
#define MMKIT_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A bijective 64-bit mixer (splitmix64's finalizer, Stafford's "Mix13"):
 * every input bit affects every output bit with probability about 1/2. */
static inline uint64_t mm_hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Where the table memory comes from (default: malloc/free). alloc returns
 * NULL on failure; free gets back the size that was allocated. */
struct mm_hashmap_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);
	void *ctx;
};

struct mm_hashmap_entry {
	uint64_t key;
	uint64_t value;
};

struct mm_hashmap {
	struct mm_hashmap_entry *slots; /* cap entries; NULL while cap == 0 */
	uint64_t *used;                 /* occupancy bitmap, cap bits (same block) */
	size_t cap;                     /* 0 or a power of two >= MM_HASHMAP_MIN_CAP */
	size_t count;                   /* entries stored; <= cap * 7 / 8 */
	struct mm_hashmap_allocator alloc;
};

#define MM_HASHMAP_MIN_CAP 16

/* Initialise an empty map with room for `expected` entries before it must
 * grow (0: allocate on the first put). `a` may be NULL for malloc/free; it is
 * copied. Returns 0, or -MM_ENOMEM if the initial table could not be
 * allocated (the map is then a valid empty map with no table). */
int mm_hashmap_init(struct mm_hashmap *m, size_t expected, const struct mm_hashmap_allocator *a);

/* Free the table. The map may be initialised again afterwards. */
void mm_hashmap_destroy(struct mm_hashmap *m);

/* True and *value set (if value is not NULL) when key is present. */
bool mm_hashmap_get(const struct mm_hashmap *m, uint64_t key, uint64_t *value);

/* Pointer to key's value for in-place update, or NULL if absent. Invalidated
 * by the next put or remove. */
uint64_t *mm_hashmap_lookup(const struct mm_hashmap *m, uint64_t key);

/* Map key to value. Returns 0 if the key was new, 1 if an existing value was
 * replaced, -MM_ENOMEM if the table had to grow and could not (nothing
 * changed then). */
int mm_hashmap_put(struct mm_hashmap *m, uint64_t key, uint64_t value);

/* Remove key. Returns true and sets *old_value (if not NULL) when the key was
 * present; false and changes nothing otherwise. */
bool mm_hashmap_remove(struct mm_hashmap *m, uint64_t key, uint64_t *old_value);

static inline size_t mm_hashmap_size(const struct mm_hashmap *m)
{
	return m->count;
}

/* Remove every entry; the capacity is kept. */
void mm_hashmap_clear(struct mm_hashmap *m);

/* ---- iteration -----------------------------------------------------------
 *
 *	struct mm_hashmap_iter it;
 *	uint64_t k, v;
 *	mm_hashmap_iter_init(&it, &map);
 *	while (mm_hashmap_iter_next(&it, &k, &v))
 *		if (unwanted(k))
 *			mm_hashmap_iter_remove(&it);
 *
 * Visits every entry exactly once in table order. The only change allowed
 * during a walk is mm_hashmap_iter_remove of the entry just returned (the
 * walk starts just after an empty slot, so backward shifts never move an
 * unvisited entry behind the cursor, and the cursor re-reads its slot).
 */
struct mm_hashmap_iter {
	struct mm_hashmap *map;
	size_t base; /* an empty slot: the walk covers base+1 .. base+cap */
	size_t step; /* slots examined so far */
	size_t cur;  /* slot of the entry last returned */
};

void mm_hashmap_iter_init(struct mm_hashmap_iter *it, struct mm_hashmap *m);
bool mm_hashmap_iter_next(struct mm_hashmap_iter *it, uint64_t *key, uint64_t *value);
void mm_hashmap_iter_remove(struct mm_hashmap_iter *it);

/* Verify count, capacity, load and the probe-run invariant. O(n * run
 * length). Returns 0 or -MM_ECORRUPT. */
int mm_hashmap_check(const struct mm_hashmap *m);

#endif /* MMKIT_HASHMAP_H */
