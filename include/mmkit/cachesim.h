/* mmkit/cachesim.h — trace replay through replacement policies alone (no
 * MMU), the engine behind `mmsim cache` and `mmsim sweep`.
 *
 * One pass over a stream of requests (id, kind) drives any number of
 * (policy, size) runs. Sizes count objects, never bytes: this is libCacheSim's
 * `--ignore-obj-size` semantics, where every object has size 1 and a cache of
 * size N holds N objects. For each run: requests, hits, misses (cold misses
 * included: every first reference is a miss), evictions, dirty evictions
 * (the victim's dirty bit was set: a write-back), write-backs (dirty evictions
 * plus pages a policy cleaned before evicting, as WSClock does).
 *
 * On a miss the engine first evicts (if the run is full) and then inserts the
 * missing id, so the new item is never its own victim (demand paging;
 * libCacheSim does the same). Hardware-realistic policies run over the
 * policy's built-in software MMU: each request sets the item's referenced
 * bit, and its dirty bit if the request is a write, as hardware would.
 *
 * Time: request i of the stream (0-based, counted across feeds) happens at
 * logical time i. Clock ticks (NRU clears R bits, aging shifts counters) come
 * every `tick_interval` requests: before each request whose index is a
 * positive multiple of the interval. 0 chooses, per run, an interval equal to
 * the run's size, which keeps the O(size) tick at O(1) amortized per request.
 *
 * OPT needs the future: the caller passes next_use[] with each chunk (the
 * index of the next request to the same id, or MM_POLICY_NEVER), computed by
 * a pre-pass (mm_cache_next_use()). That pre-pass needs the whole trace in
 * memory: 16 bytes per request for the requests and 8 for next_use, plus a
 * map of the distinct ids. Every other policy streams in constant memory
 * (the runs' own state only).
 */
#ifndef MMKIT_CACHESIM_H
#define MMKIT_CACHESIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmkit/policy.h"

/* One request. */
struct mm_cache_request {
	uint64_t id;
	uint8_t kind; /* enum mm_access_kind */
};

struct mm_cachesim_config {
	uint64_t seed;          /* seeds random and nru:pick=random (each run: seed + run index) */
	uint64_t tick_interval; /* requests between clock ticks; 0 = the run's size */
};

/* The outcome of one (policy, size) run. */
struct mm_cache_result {
	const char *policy;  /* the spec as given; valid while the engine lives */
	size_t size;
	uint64_t requests, hits, misses, evictions, dirty_evictions, writebacks;
	double miss_ratio;   /* misses / requests, 0 when no requests */
};

struct mm_cachesim;

/* Create an engine (cfg NULL: seed 0, automatic ticks). 0, -MM_ENOMEM. */
int mm_cachesim_create(const struct mm_cachesim_config *cfg, struct mm_cachesim **out);
void mm_cachesim_destroy(struct mm_cachesim *cs);

/* Add a run of policy `spec` (mm_policy_create) with `size` objects, before
 * the first request. 0; -MM_EINVAL (bad spec or size, or requests already
 * fed); -MM_ENOMEM. Nothing changes on failure. */
int mm_cachesim_add(struct mm_cachesim *cs, const char *spec, size_t size);

/* True if some run needs next_use (OPT). */
bool mm_cachesim_needs_future(const struct mm_cachesim *cs);

/* Feed the next n requests to every run. next_use may be NULL unless a run
 * needs the future (then -MM_EINVAL, nothing fed). Returns 0. */
int mm_cachesim_feed(struct mm_cachesim *cs, const struct mm_cache_request *reqs,
		     const uint64_t *next_use, size_t n);

size_t mm_cachesim_nruns(const struct mm_cachesim *cs);
/* The result of run i (in the order added); -MM_EINVAL if i is out of range. */
int mm_cachesim_result(const struct mm_cachesim *cs, size_t i, struct mm_cache_result *r);
/* The policy instance of run i (for inspection), or NULL. */
const struct mm_policy *mm_cachesim_policy(const struct mm_cachesim *cs, size_t i);

/* Verify every run: its policy (mm_policy_check), hits + misses = requests,
 * evictions <= misses, residents = misses - evictions. 0 or -MM_ECORRUPT. */
int mm_cachesim_check(const struct mm_cachesim *cs);

/* The OPT pre-pass: next_use[i] = the smallest j > i with reqs[j].id ==
 * reqs[i].id, or MM_POLICY_NEVER. One backward pass, O(n) expected time,
 * O(distinct ids) extra memory. 0 or -MM_ENOMEM. */
int mm_cache_next_use(const struct mm_cache_request *reqs, size_t n, uint64_t *next_use);

/* Replay an in-memory trace through every spec x size pair in one call,
 * doing the pre-pass only if some spec needs it. results has nspecs * nsizes
 * entries, spec-major (results[i * nsizes + j] is specs[i] at sizes[j]); their
 * `policy` fields point into specs. 0, -MM_EINVAL, -MM_ENOMEM. */
int mm_cache_replay(const struct mm_cache_request *reqs, size_t n,
		    const char *const *specs, size_t nspecs,
		    const size_t *sizes, size_t nsizes,
		    const struct mm_cachesim_config *cfg, struct mm_cache_result *results);

/* Misses of one policy at every size in [min_size, max_size], one run per
 * size: misses[k - min_size] is the count at size k, exactly what separate
 * replays with run seeds seed + (k - min_size) give. The runs go in groups of
 * about 2 M slots in all (one pass over the in-memory trace per group), so
 * memory stays near 250 MB (plus one larger size alone) while time grows with
 * the sum of the sizes: for wide ranges pick sample sizes with
 * mm_cache_replay(), or use the stack algorithm for LRU. 0, -MM_EINVAL,
 * -MM_ENOMEM. */
int mm_cache_curve(const struct mm_cache_request *reqs, size_t n, const char *spec,
		   size_t min_size, size_t max_size, const struct mm_cachesim_config *cfg,
		   uint64_t *misses);

/* Belady's anomaly in a miss curve (misses[k] at size min_size + k, count
 * entries): stores in out (up to max_out) every size s with
 * misses(s) > misses(s - 1) — more frames, more faults — and returns how many
 * there are (possibly more than max_out). */
size_t mm_curve_anomalies(const uint64_t *misses, size_t min_size, size_t count,
			  size_t *out, size_t max_out);

/* ---- Mattson's stack algorithm: exact LRU at every size in one pass -------
 *
 * LRU is a stack algorithm: the LRU stack distance of a request (1 + the
 * number of distinct ids referenced since the previous reference to the same
 * id; infinite for a first reference) is <= k exactly when LRU with k frames
 * hits. One pass builds the histogram of distances; misses at size k =
 * cold misses + requests with distance > k. Distances come from a Fenwick
 * tree over time that marks each id's latest reference (count of marks between
 * the previous and the current reference), O(log D) per request for D
 * distinct ids; time is renumbered when the tree fills, so memory is O(D),
 * independent of the trace length (about 64 bytes per distinct id).
 * Reference: Mattson, Gecsei, Slutz, Traiger, IBM Systems Journal 9(2), 1970;
 * Bennett & Kruskal, "LRU stack processing", IBM J. R&D 19(4), 1975.
 */
struct mm_lru_stack;

int mm_lru_stack_create(struct mm_lru_stack **out);
void mm_lru_stack_destroy(struct mm_lru_stack *s);
/* Account one reference; returns its stack distance (1-based), 0 for a cold
 * miss, or -MM_ENOMEM (nothing changed). */
int64_t mm_lru_stack_access(struct mm_lru_stack *s, uint64_t id);
uint64_t mm_lru_stack_requests(const struct mm_lru_stack *s);
uint64_t mm_lru_stack_distinct(const struct mm_lru_stack *s); /* = cold misses */
/* Requests with stack distance exactly d (d >= 1). */
uint64_t mm_lru_stack_hist(const struct mm_lru_stack *s, uint64_t d);
/* Exact LRU misses with `size` frames (size >= 1). O(distinct). */
uint64_t mm_lru_stack_misses(const struct mm_lru_stack *s, size_t size);
/* misses[k - 1] for k = 1 .. max_size in one O(max_size + distinct) sweep. */
void mm_lru_stack_curve(const struct mm_lru_stack *s, size_t max_size, uint64_t *misses);
/* Verify the Fenwick tree, the map and the histogram totals; 0 or -MM_ECORRUPT. */
int mm_lru_stack_check(const struct mm_lru_stack *s);

#endif /* MMKIT_CACHESIM_H */
