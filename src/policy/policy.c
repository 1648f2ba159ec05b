/* policy.c — the generic layer every replacement policy runs under.
 *
 * It owns what all policies share: the registry of names, spec parsing
 * ("name:key=value:..."), the id -> slot map, the slot allocator, the built-in
 * software MMU (referenced/dirty bits per slot when there is no external host)
 * and the counters. Each operation is one hash probe plus the policy's own
 * work; the policy sees slot numbers only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy_internal.h"

/* ---- registry ------------------------------------------------------------ */

static const struct pol_ops *const registry[] = {
	&pol_fifo_ops, &pol_second_chance_ops, &pol_clock_ops, &pol_nru_ops,
	&pol_lru_ops,  &pol_lfu_ops,           &pol_opt_ops,   &pol_random_ops,
	&pol_aging_ops, &pol_wsclock_ops,      &pol_linux_ops,
};

size_t mm_policy_count(void)
{
	return MM_ARRAY_SIZE(registry);
}

const struct mm_policy_info *mm_policy_info(size_t i)
{
	return i < MM_ARRAY_SIZE(registry) ? &registry[i]->info : NULL;
}

static bool alias_match(const char *aliases, const char *name, size_t len)
{
	const char *a = aliases;
	while (*a) {
		size_t w = strcspn(a, " ");
		if (w == len && strncasecmp(a, name, len) == 0)
			return true;
		a += w;
		a += strspn(a, " ");
	}
	return false;
}

static const struct pol_ops *find_ops(const char *name, size_t len)
{
	for (size_t i = 0; i < MM_ARRAY_SIZE(registry); i++) {
		const struct mm_policy_info *in = &registry[i]->info;
		if ((strlen(in->name) == len && strncasecmp(in->name, name, len) == 0) ||
		    alias_match(in->aliases, name, len))
			return registry[i];
	}
	return NULL;
}

const struct mm_policy_info *mm_policy_find(const char *name)
{
	const struct pol_ops *ops = find_ops(name, strlen(name));
	return ops ? &ops->info : NULL;
}

/* ---- options ----------------------------------------------------------------- */

static int parse_opts(const char *s, struct pol_opts *o)
{
	o->n = 0;
	while (*s) {
		size_t w = strcspn(s, ":");
		const char *eq = memchr(s, '=', w);
		if (w == 0 || o->n == POL_MAX_OPTS)
			return -MM_EINVAL;
		size_t klen = eq ? (size_t)(eq - s) : w;
		size_t vlen = eq ? w - klen - 1 : 0;
		if (klen == 0 || klen >= sizeof(o->o[0].key) || vlen >= sizeof(o->o[0].val))
			return -MM_EINVAL;
		memcpy(o->o[o->n].key, s, klen);
		o->o[o->n].key[klen] = 0;
		if (eq) {
			memcpy(o->o[o->n].val, eq + 1, vlen);
			o->o[o->n].val[vlen] = 0;
		} else {
			strcpy(o->o[o->n].val, "1"); /* "key" alone means key=1 */
		}
		o->o[o->n].used = false;
		o->n++;
		s += w;
		if (*s == ':')
			s++;
	}
	return 0;
}

static const char *opt_find(struct pol_opts *o, const char *key)
{
	for (int i = 0; i < o->n; i++) {
		if (strcasecmp(o->o[i].key, key) == 0) {
			o->o[i].used = true;
			return o->o[i].val;
		}
	}
	return NULL;
}

int pol_opt_u64(struct pol_opts *o, const char *key, uint64_t def, uint64_t lo,
		uint64_t hi, uint64_t *out)
{
	const char *v = opt_find(o, key);
	*out = def;
	if (!v)
		return 0;
	char *end;
	if (*v < '0' || *v > '9')
		return -MM_EINVAL;
	unsigned long long x = strtoull(v, &end, 0);
	if (*end || x < lo || x > hi)
		return -MM_EINVAL;
	*out = x;
	return 0;
}

int pol_opt_enum(struct pol_opts *o, const char *key, const char *const *choices,
		 int def, int *out)
{
	const char *v = opt_find(o, key);
	*out = def;
	if (!v)
		return 0;
	for (int i = 0; choices[i]; i++) {
		if (strcasecmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -MM_EINVAL;
}

/* ---- create / destroy ------------------------------------------------------- */

static void free_instance(struct mm_policy *p)
{
	pol_idmap_fini(&p->map);
	free(p->bpos);
	free(p->ids);
	free(p->flags);
	free(p);
}

int mm_policy_create(const char *spec, const struct mm_policy_config *cfg,
		     struct mm_policy **out)
{
	if (!spec || !cfg || !out || cfg->capacity == 0 || cfg->capacity >= (1u << 31))
		return -MM_EINVAL;
	if (cfg->host && (!cfg->host->ops || !cfg->host->ops->test_and_clear_referenced))
		return -MM_EINVAL;
	size_t nlen = strcspn(spec, ":");
	const struct pol_ops *ops = find_ops(spec, nlen);
	struct pol_opts opts;
	if (!ops || strlen(spec) >= sizeof(((struct mm_policy *)0)->spec) ||
	    parse_opts(spec[nlen] ? spec + nlen + 1 : "", &opts))
		return -MM_EINVAL;

	struct mm_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -MM_ENOMEM;
	p->ops = ops;
	p->cap = (uint32_t)cfg->capacity;
	p->soft = cfg->host == NULL;
	if (cfg->host)
		p->host = *cfg->host;
	mm_rng_seed(&p->rng, cfg->seed);
	snprintf(p->spec, sizeof(p->spec), "%s%s", ops->info.name, spec + nlen);
	p->ids = pol_calloc(p->cap, sizeof(*p->ids));
	p->flags = pol_calloc(p->cap, sizeof(*p->flags));
	p->bpos = pol_calloc(p->cap, sizeof(*p->bpos));
	if (!p->ids || !p->flags || !p->bpos || pol_idmap_init(&p->map, p->cap)) {
		free_instance(p);
		return -MM_ENOMEM;
	}
	pol_idmap_track(&p->map, p->bpos);
	/* hand out low slots first: slot order follows insertion order at start */
	for (uint32_t i = 0; i < p->cap; i++)
		p->bpos[i] = i + 1 < p->cap ? i + 1 : POL_NONE;
	p->free_head = 0;
	p->nfree = p->cap;
	int err = ops->init(p, &opts);
	if (err) {
		free_instance(p);
		return err;
	}
	for (int i = 0; i < opts.n; i++) {
		if (!opts.o[i].used) {
			ops->fini(p);
			free_instance(p);
			return -MM_EINVAL;
		}
	}
	*out = p;
	return 0;
}

void mm_policy_destroy(struct mm_policy *p)
{
	if (!p)
		return;
	p->ops->fini(p);
	free_instance(p);
}

/* ---- operations ----------------------------------------------------------- */

int mm_policy_insert(struct mm_policy *p, uint64_t id, const struct mm_access_info *info)
{
	if (mm_unlikely(p->nr == p->cap))
		return -MM_ENOSPC;
	if (pol_idmap_get(&p->map, id) != POL_NONE)
		return -MM_EEXIST;
	pol_insert_absent(p, id, pol_idmap_hash(&p->map, id), info);
	return 0;
}

int mm_policy_access(struct mm_policy *p, uint64_t id, const struct mm_access_info *info)
{
	return pol_access(p, id, info);
}

int mm_policy_evict(struct mm_policy *p, struct mm_victim *v)
{
	if (p->nr == 0)
		return -MM_ENOENT;
	uint32_t s = p->ops->evict(p);
	MM_BUG_ON(s >= p->cap || !(p->flags[s] & PF_USED));
	v->id = p->ids[s];
	v->dirty = pol_test_dirty(p, s);
	p->st.evictions++;
	pol_release_slot(p, s);
	return 0;
}

int mm_policy_remove(struct mm_policy *p, uint64_t id)
{
	uint32_t s = pol_idmap_get(&p->map, id);
	if (s == POL_NONE)
		return -MM_ENOENT;
	p->ops->remove(p, s);
	p->st.removes++;
	pol_release_slot(p, s);
	return 0;
}

void mm_policy_tick(struct mm_policy *p, uint64_t now)
{
	if (now > p->now)
		p->now = now;
	p->st.ticks++;
	if (p->ops->tick)
		p->ops->tick(p);
}

int mm_policy_mark_clean(struct mm_policy *p, uint64_t id)
{
	uint32_t s = pol_idmap_get(&p->map, id);
	if (s == POL_NONE)
		return -MM_ENOENT;
	if (p->soft)
		p->flags[s] &= (uint8_t)~PF_DIRTY;
	if (p->ops->cleaned)
		p->ops->cleaned(p, s);
	return 0;
}

/* ---- queries ------------------------------------------------------------------ */

bool mm_policy_contains(const struct mm_policy *p, uint64_t id)
{
	return pol_idmap_get(&p->map, id) != POL_NONE;
}

size_t mm_policy_size(const struct mm_policy *p)
{
	return p->nr;
}

size_t mm_policy_capacity(const struct mm_policy *p)
{
	return p->cap;
}

const char *mm_policy_name(const struct mm_policy *p)
{
	return p->ops->info.name;
}

const char *mm_policy_spec(const struct mm_policy *p)
{
	return p->spec;
}

bool mm_policy_idealised(const struct mm_policy *p)
{
	return p->ops->info.idealised;
}

void mm_policy_get_stats(const struct mm_policy *p, struct mm_policy_stats *st)
{
	*st = p->st;
}

int mm_policy_soft_bits(const struct mm_policy *p, uint64_t id, bool *referenced, bool *dirty)
{
	if (!p->soft)
		return -MM_EINVAL;
	uint32_t s = pol_idmap_get(&p->map, id);
	if (s == POL_NONE)
		return -MM_ENOENT;
	*referenced = p->flags[s] & PF_YOUNG;
	*dirty = p->flags[s] & PF_DIRTY;
	return 0;
}

int mm_policy_page_info(const struct mm_policy *p, uint64_t id, struct mm_policy_page *out)
{
	uint32_t s = pol_idmap_get(&p->map, id);
	if (s == POL_NONE)
		return -MM_ENOENT;
	out->active = false;
	out->referenced = false;
	if (p->ops->page_info)
		p->ops->page_info(p, s, out);
	return 0;
}

size_t mm_policy_nr_active(const struct mm_policy *p)
{
	return p->ops->nr_active ? p->ops->nr_active(p) : 0;
}

int mm_policy_check(const struct mm_policy *p)
{
	if (p->nr > p->cap || p->nr + p->nfree != p->cap || p->map.n != p->nr)
		return -MM_ECORRUPT;
	if (pol_idmap_check(&p->map))
		return -MM_ECORRUPT;
	uint32_t used = 0;
	for (uint32_t s = 0; s < p->cap; s++) {
		if (!(p->flags[s] & PF_USED))
			continue;
		used++;
		if (pol_idmap_get(&p->map, p->ids[s]) != s)
			return -MM_ECORRUPT;
	}
	uint32_t f = p->free_head;
	for (uint32_t i = 0; i < p->nfree; i++, f = p->bpos[f])
		if (f >= p->cap || (p->flags[f] & PF_USED))
			return -MM_ECORRUPT;
	if (f != POL_NONE)
		return -MM_ECORRUPT;
	if (used != p->nr)
		return -MM_ECORRUPT;
	return p->ops->check(p);
}
