/* cachesim.c — the trace-replay engine: requests through many (policy, size)
 * runs in one pass, the OPT pre-pass, miss curves and Belady's anomaly.
 *
 * Each fed chunk is replayed run by run (all requests of the chunk through
 * run 0, then run 1, ...), so a run's state stays in cache while the input is
 * still read only once. Per request and run: one hash probe on a hit, plus an
 * eviction and an insert on a miss: O(1) for fifo/lru/clock/random/lfu,
 * O(log n) for opt and the lfu variants (see each policy file). The bucket of
 * the hash probe a few requests ahead is prefetched: that cache miss is what
 * a replay spends most of its time on. The victim's map entry is found
 * through the slot's recorded bucket (no probe), and fifo, lru, clock and lfu
 * prefetch their next victims' buckets at each eviction (policy_internal.h,
 * pol_prefetch_victims); the miss path (evict, insert) is inlined here.
 */
#include <string.h>

#include "mmkit/cachesim.h"
#include "policy_internal.h"

#define PREFETCH_AHEAD 8 /* requests */
#define CURVE_GROUP_SLOTS (2u << 20) /* mm_cache_curve: slots per pass (~250 MB) */

struct run {
	struct mm_policy *p;
	char *spec;
	size_t size;
	uint64_t interval;   /* requests between ticks */
	uint64_t to_tick;    /* requests until the next tick is due */
	uint64_t hits, misses, evictions, dirty;
	bool future;         /* needs next_use */
};

struct mm_cachesim {
	struct mm_cachesim_config cfg;
	struct run *runs;
	size_t nruns, cap;
	uint64_t time;       /* requests fed so far */
};

int mm_cachesim_create(const struct mm_cachesim_config *cfg, struct mm_cachesim **out)
{
	struct mm_cachesim *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -MM_ENOMEM;
	if (cfg)
		cs->cfg = *cfg;
	*out = cs;
	return 0;
}

void mm_cachesim_destroy(struct mm_cachesim *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->nruns; i++) {
		mm_policy_destroy(cs->runs[i].p);
		free(cs->runs[i].spec);
	}
	free(cs->runs);
	free(cs);
}

int mm_cachesim_add(struct mm_cachesim *cs, const char *spec, size_t size)
{
	if (cs->time > 0 || size == 0)
		return -MM_EINVAL;
	if (cs->nruns == cs->cap) {
		size_t nc = cs->cap ? 2 * cs->cap : 8;
		struct run *r = realloc(cs->runs, nc * sizeof(*r));
		if (!r)
			return -MM_ENOMEM;
		cs->runs = r;
		cs->cap = nc;
	}
	struct mm_policy_config pc = {
		.capacity = size, .seed = cs->cfg.seed + cs->nruns, .host = NULL,
	};
	struct run *r = &cs->runs[cs->nruns];
	memset(r, 0, sizeof(*r));
	int err = mm_policy_create(spec, &pc, &r->p);
	if (err)
		return err;
	r->spec = strdup(spec);
	if (!r->spec) {
		mm_policy_destroy(r->p);
		return -MM_ENOMEM;
	}
	r->size = size;
	r->interval = cs->cfg.tick_interval ? cs->cfg.tick_interval : size;
	r->to_tick = r->interval + 1; /* the first tick comes before request `interval` */
	r->future = r->p->ops == &pol_opt_ops;
	cs->nruns++;
	return 0;
}

bool mm_cachesim_needs_future(const struct mm_cachesim *cs)
{
	for (size_t i = 0; i < cs->nruns; i++)
		if (cs->runs[i].future)
			return true;
	return false;
}

static void run_chunk(struct run *r, uint64_t t0, const struct mm_cache_request *reqs,
		      const uint64_t *next_use, size_t n)
{
	struct mm_policy *p = r->p;
	struct mm_access_info info = { .next_use = MM_POLICY_NEVER };
	uint64_t hits = 0, misses = 0, to_tick = r->to_tick;
	/* home buckets of requests i .. i + PREFETCH_AHEAD - 1, computed once
	 * when prefetched and used by the lookup and, on a miss, the insert */
	uint64_t home[PREFETCH_AHEAD];
	for (size_t j = 0; j < PREFETCH_AHEAD && j < n; j++) {
		home[j] = pol_idmap_hash(&p->map, reqs[j].id);
		__builtin_prefetch(&p->map.t[home[j]]);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t t = t0 + i, h = home[i % PREFETCH_AHEAD];
		/* the hash probe is the one cache miss every request pays: start
		 * loading the bucket of a request a little ahead */
		if (mm_likely(i + PREFETCH_AHEAD < n)) {
			uint64_t ah = pol_idmap_hash(&p->map, reqs[i + PREFETCH_AHEAD].id);
			home[i % PREFETCH_AHEAD] = ah;
			__builtin_prefetch(&p->map.t[ah]);
		}
		if (mm_unlikely(--to_tick == 0)) {
			to_tick = r->interval;
			mm_policy_tick(p, t);
		}
		info.time = t;
		info.kind = reqs[i].kind;
		if (next_use)
			info.next_use = next_use[i];
		if (pol_access_at(p, reqs[i].id, h, &info) == 0) {
			hits++;
			continue;
		}
		misses++;
		if (p->nr == p->cap) {
			r->dirty += pol_evict_one(p);
			r->evictions++;
		}
		pol_insert_absent(p, reqs[i].id, h, &info);
	}
	r->to_tick = to_tick;
	r->hits += hits;
	r->misses += misses;
}

int mm_cachesim_feed(struct mm_cachesim *cs, const struct mm_cache_request *reqs,
		     const uint64_t *next_use, size_t n)
{
	if (!next_use && mm_cachesim_needs_future(cs))
		return -MM_EINVAL;
	for (size_t i = 0; i < cs->nruns; i++)
		run_chunk(&cs->runs[i], cs->time, reqs, cs->runs[i].future ? next_use : NULL, n);
	cs->time += n;
	return 0;
}

size_t mm_cachesim_nruns(const struct mm_cachesim *cs)
{
	return cs->nruns;
}

int mm_cachesim_result(const struct mm_cachesim *cs, size_t i, struct mm_cache_result *res)
{
	if (i >= cs->nruns)
		return -MM_EINVAL;
	const struct run *r = &cs->runs[i];
	res->policy = r->spec;
	res->size = r->size;
	res->requests = cs->time;
	res->hits = r->hits;
	res->misses = r->misses;
	res->evictions = r->evictions;
	res->dirty_evictions = r->dirty;
	res->writebacks = r->dirty + r->p->st.cleaned;
	res->miss_ratio = cs->time ? (double)r->misses / (double)cs->time : 0.0;
	return 0;
}

const struct mm_policy *mm_cachesim_policy(const struct mm_cachesim *cs, size_t i)
{
	return i < cs->nruns ? cs->runs[i].p : NULL;
}

int mm_cachesim_check(const struct mm_cachesim *cs)
{
	for (size_t i = 0; i < cs->nruns; i++) {
		const struct run *r = &cs->runs[i];
		if (mm_policy_check(r->p) || r->hits + r->misses != cs->time ||
		    r->evictions > r->misses || r->dirty > r->evictions ||
		    r->p->nr + r->p->st.removes != r->misses - r->evictions ||
		    r->p->cap != r->size)
			return -MM_ECORRUPT;
	}
	return 0;
}

/* ---- OPT pre-pass ------------------------------------------------------------ */

int mm_cache_next_use(const struct mm_cache_request *reqs, size_t n, uint64_t *next_use)
{
	/* walk backwards; the map holds, per id, the latest index seen so far
	 * (i.e. the next use of the earlier requests), as an index into `first` */
	struct idmap m;
	if (pol_idmap_init(&m, 1024))
		return -MM_ENOMEM;
	uint64_t *seen = NULL;
	size_t nseen = 0, cap = 0;
	int err = 0;
	for (size_t i = n; i-- > 0;) {
		uint32_t *ref = pol_idmap_ref(&m, reqs[i].id);
		if (ref) {
			next_use[i] = seen[*ref];
			seen[*ref] = i;
			continue;
		}
		next_use[i] = MM_POLICY_NEVER;
		if (nseen == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			uint64_t *ns = nc < POL_NONE ? realloc(seen, nc * sizeof(*ns)) : NULL;
			if (!ns) {
				err = -MM_ENOMEM;
				break;
			}
			seen = ns;
			cap = nc;
		}
		if (pol_idmap_put(&m, reqs[i].id, (uint32_t)nseen)) {
			err = -MM_ENOMEM;
			break;
		}
		seen[nseen++] = i;
	}
	free(seen);
	pol_idmap_fini(&m);
	return err;
}

/* ---- whole-trace helpers --------------------------------------------------- */

static int replay_with(struct mm_cachesim *cs, const struct mm_cache_request *reqs, size_t n)
{
	uint64_t *nu = NULL;
	if (mm_cachesim_needs_future(cs)) {
		nu = pol_calloc(n, sizeof(*nu));
		if (!nu)
			return -MM_ENOMEM;
		int err = mm_cache_next_use(reqs, n, nu);
		if (err) {
			free(nu);
			return err;
		}
	}
	int err = mm_cachesim_feed(cs, reqs, nu, n);
	free(nu);
	return err;
}

int mm_cache_replay(const struct mm_cache_request *reqs, size_t n,
		    const char *const *specs, size_t nspecs,
		    const size_t *sizes, size_t nsizes,
		    const struct mm_cachesim_config *cfg, struct mm_cache_result *results)
{
	struct mm_cachesim *cs;
	int err = mm_cachesim_create(cfg, &cs);
	if (err)
		return err;
	for (size_t i = 0; i < nspecs && !err; i++)
		for (size_t j = 0; j < nsizes && !err; j++)
			err = mm_cachesim_add(cs, specs[i], sizes[j]);
	if (!err)
		err = replay_with(cs, reqs, n);
	for (size_t k = 0; !err && k < cs->nruns; k++) {
		mm_cachesim_result(cs, k, &results[k]);
		results[k].policy = specs[k / nsizes];
	}
	mm_cachesim_destroy(cs);
	return err;
}

/* One pass of a curve: sizes [lo, hi] as runs whose seeds are those they
 * would have as runs lo - min_size ... of a single engine. */
static int curve_group(const struct mm_cache_request *reqs, size_t n, const char *spec,
		       size_t lo, size_t hi, const struct mm_cachesim_config *gcfg,
		       uint64_t **nu, uint64_t *misses)
{
	struct mm_cachesim *cs;
	int err = mm_cachesim_create(gcfg, &cs);
	if (err)
		return err;
	for (size_t k = lo; k <= hi && !err; k++)
		err = mm_cachesim_add(cs, spec, k);
	if (!err && !*nu && mm_cachesim_needs_future(cs)) { /* once for all groups */
		*nu = pol_calloc(n, sizeof(**nu));
		err = *nu ? mm_cache_next_use(reqs, n, *nu) : -MM_ENOMEM;
	}
	if (!err)
		err = mm_cachesim_feed(cs, reqs, *nu, n);
	for (size_t k = 0; !err && k < cs->nruns; k++)
		misses[k] = cs->runs[k].misses;
	mm_cachesim_destroy(cs);
	return err;
}

int mm_cache_curve(const struct mm_cache_request *reqs, size_t n, const char *spec,
		   size_t min_size, size_t max_size, const struct mm_cachesim_config *cfg,
		   uint64_t *misses)
{
	return pol_cache_curve_grouped(reqs, n, spec, min_size, max_size, cfg, misses,
				       CURVE_GROUP_SLOTS);
}

int pol_cache_curve_grouped(const struct mm_cache_request *reqs, size_t n, const char *spec,
			    size_t min_size, size_t max_size,
			    const struct mm_cachesim_config *cfg, uint64_t *misses,
			    size_t group_slots)
{
	if (min_size == 0 || max_size < min_size)
		return -MM_EINVAL;
	struct mm_cachesim_config gcfg = { 0, 0 };
	if (cfg)
		gcfg = *cfg;
	uint64_t seed0 = gcfg.seed, *nu = NULL;
	int err = 0;
	/* the sizes in groups of at most group_slots slots in all (a size larger
	 * than that alone), one pass over the trace per group */
	for (size_t lo = min_size; lo <= max_size && !err;) {
		size_t hi = lo, slots = lo;
		while (hi < max_size && slots + hi + 1 <= group_slots)
			slots += ++hi;
		gcfg.seed = seed0 + (lo - min_size);
		err = curve_group(reqs, n, spec, lo, hi, &gcfg, &nu, misses + (lo - min_size));
		if (hi == max_size)
			break;
		lo = hi + 1;
	}
	free(nu);
	return err;
}

size_t mm_curve_anomalies(const uint64_t *misses, size_t min_size, size_t count,
			  size_t *out, size_t max_out)
{
	size_t found = 0;
	for (size_t k = 1; k < count; k++) {
		if (misses[k] > misses[k - 1]) {
			if (found < max_out)
				out[found] = min_size + k;
			found++;
		}
	}
	return found;
}
