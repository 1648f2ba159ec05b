/* idmap.c — uint64 id -> uint32 value map for the policies and the replay
 * engine.
 *
 * Open addressing with linear probing and backward-shift deletion (Knuth,
 * TAOCP vol. 3, 6.4, Algorithm R): a delete moves later entries of the same
 * cluster back, so there are no tombstones and lookups stay short. The table
 * is a power of two at most half full; keys are hashed by a xor-shift and a
 * Fibonacci multiply (Knuth 6.4), taking the top bits. Expected O(1) for
 * get/put/del; growth doubles the table (amortized O(1)).
 *
 * Also here: pol_il_check(), the walker for the slot-indexed lists.
 */
#include <string.h>
#include <sys/mman.h>

#include "policy_internal.h"

#define HUGE_BYTES (2u << 20) /* x86-64 huge page */

/* Arrays of 2 MiB or more are indexed at random by slot or hash: on 4 KiB
 * pages nearly every access of a large cache is also a TLB miss. Such arrays
 * are aligned to 2 MiB and offered to transparent huge pages (a hint: with THP
 * off, or without MADV_HUGEPAGE, they are ordinary memory). free() releases
 * them either way. */
static void *alloc_big(size_t bytes)
{
	void *a;
	if (bytes < HUGE_BYTES)
		return malloc(bytes);
	if (posix_memalign(&a, HUGE_BYTES, bytes))
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(a, (bytes + HUGE_BYTES - 1) & ~(size_t)(HUGE_BYTES - 1), MADV_HUGEPAGE);
#endif
	return a;
}

void *pol_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = (n ? n : 1) * (size ? size : 1);
	if (bytes < HUGE_BYTES)
		return calloc(1, bytes);
	void *a = alloc_big(bytes);
	if (a)
		memset(a, 0, bytes);
	return a;
}

static int pol_idmap_alloc(struct idmap *m, unsigned bits)
{
	uint64_t n = 1ULL << bits;
	struct idmap_ent *t = alloc_big(n * sizeof(*t));
	if (!t)
		return -MM_ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		t[i].val = POL_NONE;
	m->t = t;
	m->mask = n - 1;
	m->shift = 64 - bits;
	return 0;
}

/* Tables up to this size (capacities up to 1024) start at most 1/4 full
 * instead of 1/2: they stay in the L1/L2 cache either way, and the shorter
 * clusters make the backward shift of a delete (a replay's every miss) about
 * half as long. Kept small: a sweep holds many runs, and larger maps would
 * double its memory for a smaller gain. */
#define SPARSE_BYTES (64u << 10)

int pol_idmap_init(struct idmap *m, uint64_t expected)
{
	unsigned bits = 4;
	while (bits < 40 && (1ULL << bits) < 2 * expected)
		bits++;
	if ((sizeof(struct idmap_ent) << (bits + 1)) <= SPARSE_BYTES)
		bits++;
	m->n = 0;
	m->pos = NULL;
	return pol_idmap_alloc(m, bits);
}

void pol_idmap_track(struct idmap *m, uint32_t *pos)
{
	MM_BUG_ON(m->n != 0 || m->mask > UINT32_MAX);
	m->pos = pos;
}

void pol_idmap_fini(struct idmap *m)
{
	free(m->t);
	m->t = NULL;
	m->n = 0;
}

static void pol_idmap_place(struct idmap *m, uint64_t key, uint32_t val)
{
	uint64_t i = pol_idmap_hash(m, key);
	while (m->t[i].val != POL_NONE)
		i = (i + 1) & m->mask;
	m->t[i].key = key;
	m->t[i].val = val;
	if (m->pos)
		m->pos[val] = (uint32_t)i;
}

static MM_NOINLINE int pol_idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	unsigned bits = 64 - m->shift + 1;
	if (bits > (m->pos ? 32u : 40u) || pol_idmap_alloc(m, bits)) {
		*m = old;
		return -MM_ENOMEM;
	}
	for (uint64_t i = 0; i <= old.mask; i++)
		if (old.t[i].val != POL_NONE)
			pol_idmap_place(m, old.t[i].key, old.t[i].val);
	free(old.t);
	return 0;
}

int pol_idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
	if (mm_unlikely(2 * (m->n + 1) > m->mask + 1)) {
		int err = pol_idmap_grow(m);
		if (err)
			return err;
	}
	pol_idmap_place(m, key, val);
	m->n++;
	return 0;
}

uint32_t *pol_idmap_ref(struct idmap *m, uint64_t key)
{
	uint64_t i = pol_idmap_hash(m, key);
	for (;;) {
		struct idmap_ent *e = &m->t[i];
		if (e->val == POL_NONE)
			return NULL;
		if (e->key == key)
			return &e->val;
		i = (i + 1) & m->mask;
	}
}

uint32_t pol_idmap_del_at(struct idmap *m, uint64_t i)
{
	struct idmap_ent *t = m->t;
	uint32_t val = t[i].val;
	/* backward shift: pull later cluster members into the hole when their
	 * home position does not lie cyclically in (hole, j], i.e. when the
	 * distance from home to j is at least the distance from hole to j */
	uint64_t hole = i, j = i;
	for (;;) {
		j = (j + 1) & m->mask;
		if (t[j].val == POL_NONE)
			break;
		uint64_t home = pol_idmap_hash(m, t[j].key);
		if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
			t[hole] = t[j];
			if (m->pos)
				m->pos[t[hole].val] = (uint32_t)hole;
			hole = j;
		}
	}
	t[hole].val = POL_NONE;
	m->n--;
	return val;
}

uint32_t pol_idmap_del(struct idmap *m, uint64_t key)
{
	uint64_t i = pol_idmap_hash(m, key);
	while (m->t[i].val != POL_NONE && m->t[i].key != key)
		i = (i + 1) & m->mask;
	if (m->t[i].val == POL_NONE)
		return POL_NONE;
	return pol_idmap_del_at(m, i);
}

int pol_idmap_check(const struct idmap *m)
{
	uint64_t live = 0;
	if (!m->t || 2 * m->n > m->mask + 1)
		return -MM_ECORRUPT;
	for (uint64_t i = 0; i <= m->mask; i++) {
		if (m->t[i].val == POL_NONE)
			continue;
		live++;
		if (m->pos && m->pos[m->t[i].val] != i)
			return -MM_ECORRUPT;
		/* every entry is reachable from its home without crossing a hole */
		for (uint64_t k = pol_idmap_hash(m, m->t[i].key); k != i; k = (k + 1) & m->mask)
			if (m->t[k].val == POL_NONE)
				return -MM_ECORRUPT;
	}
	return live == m->n ? 0 : -MM_ECORRUPT;
}

long pol_il_check(const struct ilink *l, uint32_t h, uint32_t cap, uint8_t *seen, long limit)
{
	long n = 0;
	uint32_t prev = h;
	for (uint32_t x = l[h].next; x != h; prev = x, x = l[x].next) {
		if (x >= cap || l[x].prev != prev || ++n > limit)
			return -1;
		if (seen) {
			if (seen[x])
				return -1;
			seen[x] = 1;
		}
	}
	return l[h].prev == prev ? n : -1;
}
