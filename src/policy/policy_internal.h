/* policy_internal.h — what the policy files share: the id map, slot-indexed
 * lists and heaps, the internal ops table and the instance layout.
 *
 * Every resident item occupies one slot in [0, capacity). The generic layer
 * (policy.c) owns the id -> slot map, the slot allocator and the built-in
 * software MMU bits; each policy keeps its own per-slot arrays and sees only
 * slot numbers. Lists and heaps link slots by 32-bit index, not by pointer:
 * half the memory and no allocation per item.
 */
#ifndef MMKIT_POLICY_INTERNAL_H
#define MMKIT_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/rng.h"

#define POL_NONE UINT32_MAX /* "no slot" */

/* ---- id -> uint32 map (idmap.c) ----------------------------------------
 *
 * Open addressing, linear probing, backward-shift deletion (no tombstones),
 * load factor at most 1/2, power-of-two table. Grows on demand unless created
 * with a fixed maximum. O(1) expected per operation. An empty entry has
 * val == POL_NONE, so every uint64_t id is a valid key.
 *
 * Optional position index (pol_idmap_track): when the values are small dense
 * numbers (the policies' slots), pos[val] is kept equal to the bucket holding
 * val, through inserts, backward shifts and growth. A delete by value then
 * starts at its bucket (pol_idmap_del_at): no hash, no probe, and a caller
 * that knows which value goes next can prefetch its bucket.
 */
struct idmap_ent {
	uint64_t key;
	uint32_t val;
};

struct idmap {
	struct idmap_ent *t; /* 2^bits entries */
	uint64_t mask;       /* 2^bits - 1 */
	uint64_t n;          /* live entries, n <= (mask + 1) / 2 */
	unsigned shift;      /* 64 - bits, for the multiplicative hash */
	uint32_t *pos;       /* val -> bucket of val, or NULL (not tracked);
			      * tracked maps stay below 2^32 buckets */
};

int pol_idmap_init(struct idmap *m, uint64_t expected);
void pol_idmap_fini(struct idmap *m);
/* Start keeping pos[val] = bucket of val (pos covers every value the map will
 * hold; the map must be empty and limited to 2^32 buckets). */
void pol_idmap_track(struct idmap *m, uint32_t *pos);
/* 0, or -MM_ECORRUPT; with `pos`, also that every live value's pos is its
 * bucket. */
int pol_idmap_check(const struct idmap *m);

MM_INLINE uint64_t pol_idmap_hash(const struct idmap *m, uint64_t key)
{
	key ^= key >> 31;
	key *= 0x9e3779b97f4a7c15ULL;
	return key >> m->shift;
}

/* The value for key, or POL_NONE; i is the key's home bucket
 * (pol_idmap_hash), for callers that computed it already. */
MM_INLINE uint32_t pol_idmap_get_at(const struct idmap *m, uint64_t key, uint64_t i)
{
	for (;;) {
		const struct idmap_ent *e = &m->t[i];
		if (e->val == POL_NONE)
			return POL_NONE;
		if (e->key == key)
			return e->val;
		i = (i + 1) & m->mask;
	}
}

/* The value for key, or POL_NONE. */
MM_INLINE uint32_t pol_idmap_get(const struct idmap *m, uint64_t key)
{
	return pol_idmap_get_at(m, key, pol_idmap_hash(m, key));
}

/* Insert key -> val (val != POL_NONE); the key must be absent. 0 or -MM_ENOMEM
 * (map unchanged). */
int pol_idmap_put(struct idmap *m, uint64_t key, uint32_t val);

/* pol_idmap_put() into a map known to have room without growing (a policy's
 * map, sized for its capacity at creation); i is the key's home bucket. */
MM_INLINE void pol_idmap_put_room(struct idmap *m, uint64_t key, uint32_t val, uint64_t i)
{
	while (m->t[i].val != POL_NONE)
		i = (i + 1) & m->mask;
	m->t[i].key = key;
	m->t[i].val = val;
	if (m->pos)
		m->pos[val] = (uint32_t)i;
	m->n++;
}
/* Pointer to key's value (to update it in place), or NULL. */
uint32_t *pol_idmap_ref(struct idmap *m, uint64_t key);
/* Remove key; returns its value or POL_NONE if absent. */
uint32_t pol_idmap_del(struct idmap *m, uint64_t key);
/* Remove the entry in bucket i (live); returns its value. */
uint32_t pol_idmap_del_at(struct idmap *m, uint64_t i);

/* ---- slot-indexed circular doubly linked lists -------------------------
 *
 * An array of links covers the slots [0, cap) followed by list heads
 * (sentinels) at cap, cap + 1, ... An empty list's head points to itself.
 */
struct ilink {
	uint32_t next, prev;
};

MM_INLINE void il_init(struct ilink *l, uint32_t h)
{
	l[h].next = l[h].prev = h;
}

MM_INLINE bool il_empty(const struct ilink *l, uint32_t h)
{
	return l[h].next == h;
}

MM_INLINE void il_insert(struct ilink *l, uint32_t n, uint32_t prev, uint32_t next)
{
	l[n].prev = prev;
	l[n].next = next;
	l[prev].next = n;
	l[next].prev = n;
}

MM_INLINE void il_add_head(struct ilink *l, uint32_t n, uint32_t h)
{
	il_insert(l, n, h, l[h].next);
}

MM_INLINE void il_add_tail(struct ilink *l, uint32_t n, uint32_t h)
{
	il_insert(l, n, l[h].prev, h);
}

/* Insert n just before `pos` (pos may be a head or an element). */
MM_INLINE void il_add_before(struct ilink *l, uint32_t n, uint32_t pos)
{
	il_insert(l, n, l[pos].prev, pos);
}

MM_INLINE void il_del(struct ilink *l, uint32_t n)
{
	l[l[n].prev].next = l[n].next;
	l[l[n].next].prev = l[n].prev;
	l[n].next = l[n].prev = POL_NONE;
}

MM_INLINE void il_move_tail(struct ilink *l, uint32_t n, uint32_t h)
{
	il_del(l, n);
	il_add_tail(l, n, h);
}

MM_INLINE void il_move_head(struct ilink *l, uint32_t n, uint32_t h)
{
	il_del(l, n);
	il_add_head(l, n, h);
}

/* Walk the list at h: links agree, at most `limit` elements, every element
 * below `cap` and flagged in `seen` (which it sets; NULL to skip). Returns the
 * element count, or -1 if broken. */
long pol_il_check(const struct ilink *l, uint32_t h, uint32_t cap, uint8_t *seen, long limit);

/* ---- indexed binary min-heap over slots (heap.c) -----------------------
 *
 * Keys are pairs (k1, k2) compared lexicographically; each slot is in the heap
 * at most once and pos[] finds it, so update and remove are O(log n).
 */
struct iheap {
	uint32_t *h;   /* heap array of slots, n entries */
	uint32_t *pos; /* slot -> index in h, or POL_NONE */
	uint64_t *k1, *k2; /* slot -> key */
	uint32_t n, cap;
};

int pol_heap_init(struct iheap *hp, uint32_t cap);
void pol_heap_fini(struct iheap *hp);
void pol_heap_push(struct iheap *hp, uint32_t s, uint64_t k1, uint64_t k2);
void pol_heap_update(struct iheap *hp, uint32_t s, uint64_t k1, uint64_t k2);
void pol_heap_remove(struct iheap *hp, uint32_t s);
uint32_t pol_heap_pop(struct iheap *hp); /* POL_NONE if empty */
/* Rebuild the heap order after keys changed in bulk: O(n). */
void pol_heap_heapify(struct iheap *hp);
int pol_heap_check(const struct iheap *hp);

MM_INLINE uint32_t pol_heap_top(const struct iheap *hp)
{
	return hp->n ? hp->h[0] : POL_NONE;
}

MM_INLINE bool pol_heap_contains(const struct iheap *hp, uint32_t s)
{
	return hp->pos[s] != POL_NONE;
}

/* ---- the internal ops table --------------------------------------------- */

/* Parsed "key=value" options of a spec; each policy consumes the ones it
 * knows with pol_opt_*(); any left over make creation fail with -MM_EINVAL. */
#define POL_MAX_OPTS 8
struct pol_opts {
	int n;
	struct {
		char key[24];
		char val[24];
		bool used;
	} o[POL_MAX_OPTS];
};

/* Read option `key` as an unsigned number in [lo, hi]; *out keeps `def` when
 * absent. 0 or -MM_EINVAL. */
int pol_opt_u64(struct pol_opts *o, const char *key, uint64_t def, uint64_t lo,
		uint64_t hi, uint64_t *out);
/* Read option `key` as one of `choices` (NULL-terminated); *out is its index,
 * `def` when absent. 0 or -MM_EINVAL. */
int pol_opt_enum(struct pol_opts *o, const char *key, const char *const *choices,
		 int def, int *out);

struct mm_policy;

struct pol_ops {
	struct mm_policy_info info;
	/* Allocate private state for p->cap slots; 0 or negative mm_err. */
	int (*init)(struct mm_policy *p, struct pol_opts *o);
	void (*fini)(struct mm_policy *p);
	/* Slot s now holds a new resident item. */
	void (*insert)(struct mm_policy *p, uint32_t s, const struct mm_access_info *info);
	/* A hit on slot s (NULL: the policy ignores hits). */
	void (*access)(struct mm_policy *p, uint32_t s, const struct mm_access_info *info);
	/* Choose a victim among >= 1 residents, unlink it, return its slot. */
	uint32_t (*evict)(struct mm_policy *p);
	/* Unlink slot s (it is leaving). */
	void (*remove)(struct mm_policy *p, uint32_t s);
	/* Clock interrupt (NULL: nothing to do). */
	void (*tick)(struct mm_policy *p);
	/* The dirty bit of slot s was cleared by the host (NULL: ignore). */
	void (*cleaned)(struct mm_policy *p, uint32_t s);
	/* Fill the page state of slot s (NULL: inactive, unreferenced). */
	void (*page_info)(const struct mm_policy *p, uint32_t s, struct mm_policy_page *out);
	/* Residents on an active list (NULL: 0). */
	size_t (*nr_active)(const struct mm_policy *p);
	/* Check the private state against the generic one; 0 or -MM_ECORRUPT. */
	int (*check)(const struct mm_policy *p);
};

/* Built-in software MMU bits and slot state, per slot. */
#define PF_USED  0x01 /* slot holds a resident item */
#define PF_YOUNG 0x02 /* referenced (accessed) bit */
#define PF_DIRTY 0x04 /* dirty (modified) bit */
#define PF_EXEC  0x08 /* the item was loaded by an instruction fetch */

struct mm_policy {
	const struct pol_ops *ops;
	uint32_t cap;       /* slots, fixed at creation */
	uint32_t nr;        /* resident items */
	struct idmap map;   /* id -> slot of every resident item */
	uint32_t *bpos;     /* used slot -> its bucket in map (map.pos); free slot ->
			     * the next free slot (POL_NONE: last) */
	uint64_t *ids;      /* slot -> id */
	uint8_t *flags;     /* slot -> PF_* */
	uint32_t free_head; /* free slots, a stack linked through bpos: the
			     * latest freed first, low slots first at start */
	uint32_t nfree;     /* its length */
	bool soft;          /* built-in MMU (no external host) */
	struct mm_policy_host host;
	uint64_t now;       /* latest time seen in insert/access/tick */
	struct mm_rng rng;  /* seeded from the config */
	struct mm_policy_stats st;
	void *priv;         /* the policy's own state */
	char spec[96];      /* canonical name plus options as given */
};

/* ---- reading the hardware bits (the only way realistic policies learn of use) */

MM_INLINE bool pol_test_clear_young(struct mm_policy *p, uint32_t s)
{
	if (mm_likely(p->soft)) {
		bool r = p->flags[s] & PF_YOUNG;
		p->flags[s] &= (uint8_t)~PF_YOUNG;
		return r;
	}
	return p->host.ops->test_and_clear_referenced(p->host.ctx, p->ids[s]);
}

MM_INLINE bool pol_test_young(struct mm_policy *p, uint32_t s)
{
	if (mm_likely(p->soft))
		return p->flags[s] & PF_YOUNG;
	if (p->host.ops->test_referenced)
		return p->host.ops->test_referenced(p->host.ctx, p->ids[s]);
	return p->host.ops->test_and_clear_referenced(p->host.ctx, p->ids[s]);
}

MM_INLINE bool pol_test_dirty(struct mm_policy *p, uint32_t s)
{
	if (mm_likely(p->soft))
		return p->flags[s] & PF_DIRTY;
	return p->host.ops->test_dirty ? p->host.ops->test_dirty(p->host.ctx, p->ids[s]) : false;
}

/* Start a write-back of slot s; true if one was started (counted in
 * st.cleaned). The built-in MMU completes it at once (clears the dirty bit). */
MM_INLINE bool pol_start_writeback(struct mm_policy *p, uint32_t s)
{
	if (p->soft) {
		p->flags[s] &= (uint8_t)~PF_DIRTY;
		p->st.cleaned++;
		return true;
	}
	if (p->host.ops->start_writeback && p->host.ops->start_writeback(p->host.ctx, p->ids[s])) {
		p->st.cleaned++;
		return true;
	}
	return false;
}

/* ---- the hot path, shared by mm_policy_access() and the replay engine ---- */

MM_INLINE int pol_access_at(struct mm_policy *p, uint64_t id, uint64_t home,
			    const struct mm_access_info *info)
{
	uint32_t s = pol_idmap_get_at(&p->map, id, home);
	if (s == POL_NONE)
		return -MM_ENOENT;
	if (p->soft)
		p->flags[s] |= info->kind == MM_ACCESS_WRITE ? PF_YOUNG | PF_DIRTY : PF_YOUNG;
	if (info->time > p->now)
		p->now = info->time;
	p->st.accesses++;
	if (p->ops->access)
		p->ops->access(p, s, info);
	return 0;
}

/* mm_policy_access(): 0 on a hit, -MM_ENOENT if id is not resident. */
MM_INLINE int pol_access(struct mm_policy *p, uint64_t id, const struct mm_access_info *info)
{
	return pol_access_at(p, id, pol_idmap_hash(&p->map, id), info);
}

/* mm_policy_insert() for an id the caller knows is absent and with room
 * (nr < cap): one hash probe fewer. Cannot fail: the map was sized for the
 * capacity at creation. `home` is the id's home bucket (pol_idmap_hash). */
MM_INLINE void pol_insert_absent(struct mm_policy *p, uint64_t id, uint64_t home,
				 const struct mm_access_info *info)
{
	uint32_t s = p->free_head;
	p->free_head = p->bpos[s];
	p->nfree--;
	pol_idmap_put_room(&p->map, id, s, home); /* sets bpos[s] */
	p->ids[s] = id;
	/* the faulting access itself sets the bits, as the MMU does when the
	 * instruction restarts; policies may clear R at insert (clock:ref=0) */
	p->flags[s] = (uint8_t)(PF_USED |
				(p->soft ? (info->kind == MM_ACCESS_WRITE ? PF_YOUNG | PF_DIRTY
									  : PF_YOUNG) : 0) |
				(info->kind == MM_ACCESS_EXEC ? PF_EXEC : 0));
	p->nr++;
	if (info->time > p->now)
		p->now = info->time;
	p->st.inserts++;
	p->ops->insert(p, s, info);
}

/* Slot s leaves: its map entry (found through bpos, no hash probe), its bits,
 * back on the free stack. */
MM_INLINE void pol_release_slot(struct mm_policy *p, uint32_t s)
{
	pol_idmap_del_at(&p->map, p->bpos[s]);
	p->flags[s] = 0;
	p->bpos[s] = p->free_head;
	p->free_head = s;
	p->nfree++;
	p->nr--;
}

/* mm_policy_evict() without the victim's id: the policy's choice, counted and
 * released. Returns its dirty bit. The instance must not be empty. */
MM_INLINE bool pol_evict_one(struct mm_policy *p)
{
	uint32_t s = p->ops->evict(p);
	MM_BUG_ON(s >= p->cap || !(p->flags[s] & PF_USED));
	bool dirty = pol_test_dirty(p, s);
	p->st.evictions++;
	pol_release_slot(p, s);
	return dirty;
}

/* A policy that knows (or guesses) its next victims calls this from its
 * evict, a two-stage pipeline: for the next victim nx, whose bpos entry was
 * prefetched by the previous eviction, the map bucket and the id (which the
 * replacement overwrites); for the one after, nnx (>= cap: none), its bpos
 * entry. The policy prefetches its own per-slot state of nnx. So the next
 * miss finds the victim's bucket loaded instead of stalling on two dependent
 * cache misses (bpos, then the bucket). A wrong guess (a hit moved nx) costs
 * only the prefetches. */
MM_INLINE void pol_prefetch_victims(const struct mm_policy *p, uint32_t nx, uint32_t nnx)
{
	__builtin_prefetch(&p->map.t[p->bpos[nx]], 1);
	__builtin_prefetch(&p->ids[nx], 1);
	if (nnx < p->cap)
		__builtin_prefetch(&p->bpos[nnx]);
}

/* mm_cache_curve() with the sizes replayed in groups of at most group_slots
 * slots in all, one pass per group (mm_cache_curve uses a fixed budget; the
 * tests a small one). Same results whatever the grouping. */
struct mm_cache_request;
struct mm_cachesim_config;
int pol_cache_curve_grouped(const struct mm_cache_request *reqs, size_t n, const char *spec,
			    size_t min_size, size_t max_size,
			    const struct mm_cachesim_config *cfg, uint64_t *misses,
			    size_t group_slots);

/* Zeroed array of n elements of `size` bytes; NULL on overflow or ENOMEM. */
void *pol_calloc(size_t n, size_t size);

/* aging's counter of a resident id (tests), or a negative mm_err. */
int pol_aging_counter(const struct mm_policy *p, uint64_t id);

/* Every policy's ops table. */
extern const struct pol_ops pol_fifo_ops, pol_second_chance_ops, pol_clock_ops,
	pol_lru_ops, pol_lfu_ops, pol_opt_ops, pol_random_ops, pol_nru_ops,
	pol_aging_ops, pol_wsclock_ops, pol_linux_ops;

#endif /* MMKIT_POLICY_INTERNAL_H */
