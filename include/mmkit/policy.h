/* mmkit/policy.h — page/cache replacement policies behind one ops table.
 *
 * A policy instance ranks at most `capacity` resident items, each named by a
 * uint64_t id (a PFN inside mmsim, an object or page id in trace replay), and
 * picks a victim when asked. The same instance type serves the simulated
 * machine and plain trace replay (mmkit/cachesim.h).
 *
 * Life of an item:   insert (it became resident: a fault or a miss)
 *                    access (a hit the caller observed; optional, see below)
 *                    evict  (the policy chose it; it is gone)  or
 *                    remove (it left for another reason: unmap, exit, truncate)
 * and, independently, tick (the periodic simulated clock interrupt).
 *
 * Two kinds of policy (mm_policy_idealised()):
 *  - Hardware-realistic (fifo, second-chance, clock, nru, aging, wsclock,
 *    linux, random) never rely on mm_policy_access(): they learn about use only
 *    from the accessed ("referenced", R) and dirty (M) bits the MMU sets, read
 *    through the host interface below, as Linux's page_referenced() reads the
 *    PTE young bits through the reverse map.
 *  - Idealised (lru, lfu, opt) need to see every access (LRU, LFU) or the
 *    future (OPT); real hardware cannot give them that.
 *
 * Host interface: with `host == NULL` the instance carries a built-in software
 * MMU: every mm_policy_insert()/mm_policy_access() sets the item's referenced
 * bit, and its dirty bit when the access is a write, exactly as hardware would
 * on the access; the policy reads and clears them as it would read PTEs. Inside
 * mmsim the machine passes a host whose callbacks read the real PTE bits.
 * Contract for an external host: referenced bits are cleared only through the
 * policy (test_and_clear_referenced); if the host cleans a page behind the
 * policy's back (a flusher writes it back), or finishes a write-back the
 * policy started (start_writeback), it calls mm_policy_mark_clean(). Frames
 * that must not be evicted for a while (pinned, locked, under I/O) are taken
 * out with mm_policy_remove() and inserted again when they become evictable:
 * a victim returned by mm_policy_evict() has left the instance.
 *
 * No process-wide state: any number of instances may coexist; one instance
 * must not be used from two threads at once.
 */
#ifndef MMKIT_POLICY_H
#define MMKIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kind of an access, as the MMU sees it. */
enum mm_access_kind {
	MM_ACCESS_READ  = 0,
	MM_ACCESS_WRITE = 1, /* sets the dirty bit */
	MM_ACCESS_EXEC  = 2, /* instruction fetch; Linux keeps referenced exec pages active */
};

/* "Never used again" for mm_access_info.next_use. */
#define MM_POLICY_NEVER UINT64_MAX

/* What the caller knows about one access. */
struct mm_access_info {
	uint64_t time;     /* logical (virtual) time of the access, non-decreasing */
	uint64_t next_use; /* OPT only: time of the next access to this id, or
			    * MM_POLICY_NEVER; other policies ignore it */
	uint8_t kind;      /* enum mm_access_kind */
};

/* Callbacks a host (the simulated machine) gives hardware-realistic policies.
 * `ctx` is passed back unchanged. test_referenced and start_writeback may be
 * NULL: NRU then falls back to test_and_clear (losing the bit it read; a
 * documented approximation), WSClock then never schedules write-backs. */
struct mm_policy_host_ops {
	/* Return the item's accessed bit and clear it (Linux ptep_test_and_clear_young
	 * over every PTE mapping the frame, as page_referenced() does). */
	bool (*test_and_clear_referenced)(void *ctx, uint64_t id);
	/* Return the accessed bit without clearing it (pte_young). */
	bool (*test_referenced)(void *ctx, uint64_t id);
	/* Return the dirty bit (pte_dirty || PageDirty). */
	bool (*test_dirty)(void *ctx, uint64_t id);
	/* Start writing the item back (WSClock cleaning); return true if a write
	 * was scheduled. The host clears the dirty bit when the write completes. */
	bool (*start_writeback)(void *ctx, uint64_t id);
};

struct mm_policy_host {
	const struct mm_policy_host_ops *ops;
	void *ctx;
};

/* Creation parameters. */
struct mm_policy_config {
	size_t capacity;                   /* frames / objects, 1 .. 2^31-1 */
	uint64_t seed;                     /* random and nru:pick=random */
	const struct mm_policy_host *host; /* NULL: built-in software MMU */
};

/* The victim of an eviction. */
struct mm_victim {
	uint64_t id;
	bool dirty; /* its dirty bit at eviction time: a write-back is needed */
};

/* Counters an instance keeps (all monotonic). */
struct mm_policy_stats {
	uint64_t inserts, accesses, evictions, removes, ticks;
	uint64_t scanned;     /* items examined while choosing victims */
	uint64_t refilled;    /* linux: active-list pages aged (shrink_active_list:
			       * pgrefill, not counted in scanned) */
	uint64_t activated;   /* linux: inactive -> active (pgactivate) */
	uint64_t deactivated; /* linux: active -> inactive (pgdeactivate) */
	uint64_t cleaned;     /* wsclock: write-backs started before eviction */
};

struct mm_policy;

/* Create a policy from a spec "name" or "name:key=value:key=value" (names
 * and options: mm_policy_info(), docs/policies.md). On success stores the
 * instance in *out and returns 0. Returns -MM_EINVAL for an unknown name or
 * option, a bad value, or a capacity out of range; -MM_ENOMEM when memory runs
 * out. On failure *out is left untouched and nothing is allocated. */
int mm_policy_create(const char *spec, const struct mm_policy_config *cfg,
		     struct mm_policy **out);

/* Free an instance (NULL is allowed). */
void mm_policy_destroy(struct mm_policy *p);

/* The item became resident. Returns 0; -MM_EEXIST if it already is;
 * -MM_ENOSPC if the instance is full (evict first). Nothing changes on error. */
int mm_policy_insert(struct mm_policy *p, uint64_t id, const struct mm_access_info *info);

/* A hit on a resident item. Returns 0, or -MM_ENOENT (nothing changed) if the
 * item is not resident: the caller then has a miss. With the built-in MMU it
 * sets the referenced/dirty bits; idealised policies update their ranking. */
int mm_policy_access(struct mm_policy *p, uint64_t id, const struct mm_access_info *info);

/* Choose a victim, remove it from the instance and describe it in *v.
 * Returns 0, or -MM_ENOENT when the instance is empty (*v untouched). */
int mm_policy_evict(struct mm_policy *p, struct mm_victim *v);

/* The item left for another reason. Returns 0 or -MM_ENOENT. */
int mm_policy_remove(struct mm_policy *p, uint64_t id);

/* The periodic clock interrupt at time `now` (NRU clears referenced bits,
 * aging shifts its counters; other policies only note the time). O(size) for
 * NRU and aging, O(1) otherwise. */
void mm_policy_tick(struct mm_policy *p, uint64_t now);

/* The host wrote the item back behind the policy's back (its dirty bit is now
 * clear). Returns 0 or -MM_ENOENT. */
int mm_policy_mark_clean(struct mm_policy *p, uint64_t id);

bool mm_policy_contains(const struct mm_policy *p, uint64_t id);
size_t mm_policy_size(const struct mm_policy *p);     /* resident items */
size_t mm_policy_capacity(const struct mm_policy *p);
const char *mm_policy_name(const struct mm_policy *p); /* canonical name */
const char *mm_policy_spec(const struct mm_policy *p); /* name with its options */
bool mm_policy_idealised(const struct mm_policy *p);
void mm_policy_get_stats(const struct mm_policy *p, struct mm_policy_stats *st);

/* The built-in MMU's bits of a resident item (tests, trace tools). Returns
 * -MM_ENOENT if absent, -MM_EINVAL with an external host. */
int mm_policy_soft_bits(const struct mm_policy *p, uint64_t id, bool *referenced, bool *dirty);

/* The "referenced" queries the machine's views need (/proc/meminfo's
 * Active/Inactive, smaps' Referenced, vmstat's pgactivate...). */
struct mm_policy_page {
	bool active;     /* on the active list (linux); single-list policies
			  * report every page inactive, as Linux counts pages
			  * that are on no active list */
	bool referenced; /* the policy's own software referenced flag (linux's
			  * PG_referenced); false for policies without one. The
			  * hardware accessed bit is the host's to report */
};

/* State of a resident item: 0, or -MM_ENOENT (*out untouched). O(1). */
int mm_policy_page_info(const struct mm_policy *p, uint64_t id, struct mm_policy_page *out);

/* Number of resident items on an active list (0 for single-list policies). */
size_t mm_policy_nr_active(const struct mm_policy *p);

/* Verify every invariant of the instance: 0, or -MM_ECORRUPT. O(size). */
int mm_policy_check(const struct mm_policy *p);

/* The registry, for `mmsim policies` and option help. */
struct mm_policy_info {
	const char *name;      /* canonical name */
	const char *aliases;   /* other accepted names, space separated, or "" */
	const char *summary;   /* one line */
	const char *options;   /* "key=default(values) ..." or "" */
	bool idealised;
};

/* Number of policies, and the i-th (0-based; NULL past the end). */
size_t mm_policy_count(void);
const struct mm_policy_info *mm_policy_info(size_t i);
/* Look a name or alias up; NULL if unknown. */
const struct mm_policy_info *mm_policy_find(const char *name);

#endif /* MMKIT_POLICY_H */
