/* Hash map: open addressing, linear probing, backward-shift deletion.
 *
 * Algorithm: an entry lives in the first free slot at or after its home slot
 * mm_hash64(key) & (cap - 1), wrapping around. Lookups walk from the home slot
 * until they find the key or an empty slot. Removal empties the slot and then
 * pulls later entries of the same run back into the hole whenever the hole
 * lies on their own probe path (Knuth, TAOCP vol. 3, 6.4 Algorithm R), so the
 * table never holds tombstones.
 *
 * Costs: O(1) expected per operation up to the 7/8 maximum load (Knuth's
 * analysis: 1/2 (1 + 1/(1 - a)) probes for a hit, 1/2 (1 + 1/(1 - a)^2) for a
 * miss); growth doubles the table in O(n). Space: one 16-byte slot per
 * capacity plus an occupancy bitmap, in a single allocation; no per-entry
 * allocation, so no fragmentation beyond the table's own slack.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/bitmap.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/hashmap.h"

/* ---- helpers ------------------------------------------------------------ */

static void *malloc_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void malloc_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static const struct mm_hashmap_allocator malloc_allocator = { malloc_alloc, malloc_free, NULL };

static inline size_t home_of(const struct mm_hashmap *m, uint64_t key)
{
	return (size_t)mm_hash64(key) & (m->cap - 1);
}

static inline bool slot_used(const struct mm_hashmap *m, size_t i)
{
	return mm_bit_test(m->used, i);
}

/* Bytes of one table of `cap` slots: the entries, then the bitmap. */
static size_t table_bytes(size_t cap)
{
	return cap * sizeof(struct mm_hashmap_entry) + MM_BITMAP_WORDS(cap) * sizeof(uint64_t);
}

/* Largest entry count a table of `cap` slots may hold. */
static inline size_t max_load(size_t cap)
{
	return cap - cap / 8;
}

/* Allocate an empty table of `cap` slots into *slots / *used. */
static int table_alloc(const struct mm_hashmap *m, size_t cap, struct mm_hashmap_entry **slots,
		       uint64_t **used)
{
	if (cap > SIZE_MAX / 2 / sizeof(struct mm_hashmap_entry))
		return -MM_ENOMEM;
	char *mem = m->alloc.alloc(m->alloc.ctx, table_bytes(cap));
	if (!mem)
		return -MM_ENOMEM;
	*slots = (struct mm_hashmap_entry *)(void *)mem;
	*used = (uint64_t *)(void *)(mem + cap * sizeof(struct mm_hashmap_entry));
	memset(*used, 0, MM_BITMAP_WORDS(cap) * sizeof(uint64_t));
	return 0;
}

static void table_free(struct mm_hashmap *m)
{
	if (m->slots)
		m->alloc.free(m->alloc.ctx, m->slots, table_bytes(m->cap));
	m->slots = NULL;
	m->used = NULL;
}

/* Slot holding key, or cap if absent. */
static size_t find_slot(const struct mm_hashmap *m, uint64_t key)
{
	if (m->cap == 0)
		return 0; /* == cap */
	size_t mask = m->cap - 1;
	for (size_t i = home_of(m, key);; i = (i + 1) & mask) {
		if (!slot_used(m, i))
			return m->cap;
		if (m->slots[i].key == key)
			return i;
	}
}

/* Put a key known to be absent into the first free slot of its run. */
static void insert_new(struct mm_hashmap *m, uint64_t key, uint64_t value)
{
	size_t mask = m->cap - 1, i = home_of(m, key);
	while (slot_used(m, i))
		i = (i + 1) & mask;
	mm_bit_set(m->used, i);
	m->slots[i].key = key;
	m->slots[i].value = value;
	m->count++;
}

/* Empty slot `hole` and shift the rest of its run back (Algorithm R). */
static void delete_at(struct mm_hashmap *m, size_t hole)
{
	size_t mask = m->cap - 1;
	for (size_t j = (hole + 1) & mask; slot_used(m, j); j = (j + 1) & mask) {
		size_t home = home_of(m, m->slots[j].key);
		/* the entry at j may fill the hole iff the hole lies on its
		 * probe path home..j, i.e. it is at least as far from j */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	mm_bit_clear(m->used, hole);
	m->count--;
}

static int grow(struct mm_hashmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : MM_HASHMAP_MIN_CAP;
	struct mm_hashmap old = *m;
	struct mm_hashmap_entry *slots;
	uint64_t *used;
	int rc = table_alloc(m, ncap, &slots, &used);
	if (rc)
		return rc;
	m->slots = slots;
	m->used = used;
	m->cap = ncap;
	m->count = 0;
	for (size_t w = 0; w < MM_BITMAP_WORDS(old.cap); w++) {
		uint64_t bits = old.used[w];
		while (bits) { /* occupied slots, a word at a time */
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			insert_new(m, old.slots[i].key, old.slots[i].value);
		}
	}
	table_free(&old);
	return 0;
}

/* ---- API ---------------------------------------------------------------- */

int mm_hashmap_init(struct mm_hashmap *m, size_t expected, const struct mm_hashmap_allocator *a)
{
	memset(m, 0, sizeof(*m));
	m->alloc = a ? *a : malloc_allocator;
	if (expected == 0)
		return 0;
	size_t cap = MM_HASHMAP_MIN_CAP;
	while (max_load(cap) < expected) {
		if (cap > SIZE_MAX / 4)
			return -MM_ENOMEM;
		cap *= 2;
	}
	struct mm_hashmap_entry *slots;
	uint64_t *used;
	int rc = table_alloc(m, cap, &slots, &used);
	if (rc)
		return rc;
	m->slots = slots;
	m->used = used;
	m->cap = cap;
	return 0;
}

void mm_hashmap_destroy(struct mm_hashmap *m)
{
	table_free(m);
	m->cap = 0;
	m->count = 0;
}

bool mm_hashmap_get(const struct mm_hashmap *m, uint64_t key, uint64_t *value)
{
	size_t i = find_slot(m, key);
	if (i == m->cap)
		return false;
	if (value)
		*value = m->slots[i].value;
	return true;
}

uint64_t *mm_hashmap_lookup(const struct mm_hashmap *m, uint64_t key)
{
	size_t i = find_slot(m, key);
	return i == m->cap ? NULL : &m->slots[i].value;
}

int mm_hashmap_put(struct mm_hashmap *m, uint64_t key, uint64_t value)
{
	size_t i = find_slot(m, key);
	if (i != m->cap) {
		m->slots[i].value = value;
		return 1;
	}
	if (mm_unlikely(m->count + 1 > max_load(m->cap))) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	insert_new(m, key, value);
	return 0;
}

bool mm_hashmap_remove(struct mm_hashmap *m, uint64_t key, uint64_t *old_value)
{
	size_t i = find_slot(m, key);
	if (i == m->cap)
		return false;
	if (old_value)
		*old_value = m->slots[i].value;
	delete_at(m, i);
	return true;
}

void mm_hashmap_clear(struct mm_hashmap *m)
{
	if (m->used)
		memset(m->used, 0, MM_BITMAP_WORDS(m->cap) * sizeof(uint64_t));
	m->count = 0;
}

/* ---- iteration ---------------------------------------------------------- */

void mm_hashmap_iter_init(struct mm_hashmap_iter *it, struct mm_hashmap *m)
{
	it->map = m;
	it->step = 0;
	it->cur = 0;
	it->base = 0;
	if (m->cap) /* the load limit guarantees an empty slot */
		it->base = mm_bitmap_find_next_zero_bit(m->used, m->cap, 0);
}

bool mm_hashmap_iter_next(struct mm_hashmap_iter *it, uint64_t *key, uint64_t *value)
{
	const struct mm_hashmap *m = it->map;
	while (it->step < m->cap) {
		size_t i = (it->base + 1 + it->step) & (m->cap - 1);
		it->step++;
		if (slot_used(m, i)) {
			it->cur = i;
			if (key)
				*key = m->slots[i].key;
			if (value)
				*value = m->slots[i].value;
			return true;
		}
	}
	return false;
}

void mm_hashmap_iter_remove(struct mm_hashmap_iter *it)
{
	delete_at(it->map, it->cur);
	it->step--; /* an entry may have shifted into cur: look again */
}

/* ---- checker ------------------------------------------------------------ */

int mm_hashmap_check(const struct mm_hashmap *m)
{
	if (m->cap == 0)
		return m->count == 0 && m->slots == NULL ? 0 : -MM_ECORRUPT;
	if (!MM_IS_POW2(m->cap) || m->cap < MM_HASHMAP_MIN_CAP || !m->slots || !m->used)
		return -MM_ECORRUPT;
	if (m->count > max_load(m->cap))
		return -MM_ECORRUPT;
	if (mm_bitmap_weight(m->used, m->cap) != m->count)
		return -MM_ECORRUPT;
	if (m->cap % 64 && (m->used[m->cap / 64] >> (m->cap % 64)) != 0)
		return -MM_ECORRUPT; /* bits past the table */
	size_t mask = m->cap - 1;
	for (size_t i = 0; i < m->cap; i++) {
		if (!slot_used(m, i))
			continue;
		uint64_t key = m->slots[i].key;
		for (size_t j = home_of(m, key); j != i; j = (j + 1) & mask)
			if (!slot_used(m, j) || m->slots[j].key == key)
				return -MM_ECORRUPT;
	}
	return 0;
}
