/* Randomized: every policy against an O(n) array model of its definition.
 *
 * The models are written from the definitions in docs/policies.md, as plain
 * arrays scanned linearly, sharing nothing with the real code (which uses
 * lists, rings, heaps and buckets over slots). Random traces (uniform and
 * Zipf ids, reads/writes/execs, removals, ticks, write-backs) drive both;
 * every victim and its dirty bit must agree, and mm_policy_check() runs after
 * every operation.
 */
#include <string.h>

#include "policy_testlib.h"

#define MAXCAP 48
#define MAXU   (3 * MAXCAP + 8)

enum mkind { M_FIFO, M_LRU, M_SC, M_LFU, M_OPT, M_NRU, M_NRU_RANDOM, M_AGING, M_WSC, M_LINUX };

struct ment {
	uint64_t id;
	bool R, M, exec, pgref;
	uint64_t load, last, count, nu, last_use;
	uint8_t ctr;
};

struct model {
	enum mkind kind;
	bool ref1, tie_fifo, perfect, lifo;
	uint64_t tau, ratio;
	int cap, n;
	struct ment e[MAXCAP];   /* fifo/lru/lfu/opt/nru/aging: any order; sc: queue;
				  * wsclock: ring from index 0, hand at h; linux: unused */
	int h;
	struct ment act[MAXCAP], ina[MAXCAP]; /* linux: index 0 is the head */
	int nact, nina;
	uint64_t seq, now, cleaned;
	uint64_t hist[MAXU];     /* perfect LFU counts by id */
};

static int find(const struct ment *a, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (a[i].id == id)
			return i;
	return -1;
}

static void del_at(struct ment *a, int *n, int i)
{
	memmove(&a[i], &a[i + 1], (size_t)(*n - i - 1) * sizeof(*a));
	(*n)--;
}

static void ins_at(struct ment *a, int *n, int i, struct ment x)
{
	memmove(&a[i + 1], &a[i], (size_t)(*n - i) * sizeof(*a));
	a[i] = x;
	(*n)++;
}

static struct ment *m_lookup(struct model *m, uint64_t id)
{
	int i;
	if (m->kind == M_LINUX) {
		if ((i = find(m->act, m->nact, id)) >= 0)
			return &m->act[i];
		if ((i = find(m->ina, m->nina, id)) >= 0)
			return &m->ina[i];
		return NULL;
	}
	i = find(m->e, m->n, id);
	return i >= 0 ? &m->e[i] : NULL;
}

static int m_size(const struct model *m)
{
	return m->kind == M_LINUX ? m->nact + m->nina : m->n;
}

static void m_insert(struct model *m, uint64_t id, uint8_t kind, uint64_t t, uint64_t nu)
{
	struct ment x = { .id = id, .R = true, .M = kind == MM_ACCESS_WRITE,
			  .exec = kind == MM_ACCESS_EXEC, .load = ++m->seq, .count = 1,
			  .nu = nu, .last_use = t };
	x.last = x.load;
	if (t > m->now)
		m->now = t;
	switch (m->kind) {
	case M_SC:
		if (!m->ref1)
			x.R = false;
		m->e[m->n++] = x;
		break;
	case M_LFU:
		if (m->perfect)
			x.count += m->hist[id];
		m->e[m->n++] = x;
		break;
	case M_WSC:
		ins_at(m->e, &m->n, m->h, x); /* just behind the hand */
		if (m->n > 1)
			m->h++;
		break;
	case M_LINUX:
		ins_at(m->ina, &m->nina, 0, x);
		break;
	default:
		m->e[m->n++] = x;
	}
}

static void m_access(struct model *m, uint64_t id, uint8_t kind, uint64_t t, uint64_t nu)
{
	struct ment *x = m_lookup(m, id);
	x->R = true;
	if (kind == MM_ACCESS_WRITE)
		x->M = true;
	x->last = ++m->seq;
	x->count++;
	x->nu = nu;
	if (t > m->now)
		m->now = t;
}

static void m_forget(struct model *m, const struct ment *x)
{
	if (m->kind == M_LFU && m->perfect)
		m->hist[x->id] = x->count;
}

static void m_remove(struct model *m, uint64_t id)
{
	if (m->kind == M_LINUX) {
		int i = find(m->act, m->nact, id);
		if (i >= 0)
			del_at(m->act, &m->nact, i);
		else
			del_at(m->ina, &m->nina, find(m->ina, m->nina, id));
		return;
	}
	int i = find(m->e, m->n, id);
	m_forget(m, &m->e[i]);
	del_at(m->e, &m->n, i);
	if (m->kind == M_WSC) {
		if (i < m->h)
			m->h--;
		if (m->h >= m->n)
			m->h = 0;
	}
}

static int nru_class(const struct ment *x)
{
	return 2 * x->R + x->M;
}

/* index minimizing (key1, key2) */
static int argmin(const struct model *m, uint64_t (*k1)(const struct model *, const struct ment *),
		  uint64_t (*k2)(const struct model *, const struct ment *))
{
	int best = 0;
	for (int i = 1; i < m->n; i++) {
		uint64_t a = k1(m, &m->e[i]), b = k1(m, &m->e[best]);
		if (a < b || (a == b && k2(m, &m->e[i]) < k2(m, &m->e[best])))
			best = i;
	}
	return best;
}

static uint64_t k_load(const struct model *m, const struct ment *x) { (void)m; return x->load; }
static uint64_t k_last(const struct model *m, const struct ment *x) { (void)m; return x->last; }
static uint64_t k_count(const struct model *m, const struct ment *x) { (void)m; return x->count; }
static uint64_t k_lfu_tie(const struct model *m, const struct ment *x)
{
	return m->tie_fifo ? x->load : x->last;
}
static uint64_t k_far(const struct model *m, const struct ment *x) { (void)m; return ~x->nu; }
static uint64_t k_opt_tie(const struct model *m, const struct ment *x)
{
	return m->lifo ? ~x->load : x->load;
}
static uint64_t k_class(const struct model *m, const struct ment *x) { (void)m; return (uint64_t)nru_class(x); }
static uint64_t k_ctr(const struct model *m, const struct ment *x) { (void)m; return x->ctr; }

static bool linux_low(const struct model *m)
{
	uint64_t ratio = m->ratio;
	if (!ratio)
		ratio = 1; /* below 1 GB of 4 KiB pages */
	return (uint64_t)m->nina * ratio < (uint64_t)m->nact;
}

static struct ment m_evict_linux(struct model *m)
{
	for (;;) {
		while (linux_low(m)) {
			struct ment x = m->act[m->nact - 1];
			del_at(m->act, &m->nact, m->nact - 1);
			bool r = x.R;
			x.R = false;
			if (r && x.exec)
				ins_at(m->act, &m->nact, 0, x);
			else
				ins_at(m->ina, &m->nina, 0, x);
		}
		struct ment x = m->ina[m->nina - 1];
		del_at(m->ina, &m->nina, m->nina - 1);
		bool r = x.R, pg = x.pgref;
		x.R = false;
		x.pgref = false;
		if (!r)
			return x;
		x.pgref = true;
		if (pg || x.exec)
			ins_at(m->act, &m->nact, 0, x);
		else
			ins_at(m->ina, &m->nina, 0, x);
	}
}

static struct ment m_evict_wsc(struct model *m)
{
	int oldest = -1;
	uint64_t writes = 0, limit = (uint64_t)m->n;
	int v = -1;
	for (uint64_t step = 0;; step++) {
		if (step == limit) {
			if (!writes || limit != (uint64_t)m->n)
				break;
			limit *= 2; /* one more revolution */
		}
		struct ment *x = &m->e[m->h];
		bool dirty;
		if (x->R) {
			x->R = false;
			x->last_use = m->now;
			dirty = x->M;
		} else {
			dirty = x->M;
			if (m->now - x->last_use > m->tau) {
				if (!dirty) {
					v = m->h;
					break;
				}
				x->M = false;
				m->cleaned++;
				writes++;
				dirty = true;
			}
		}
		if (!dirty && (oldest < 0 || x->last_use < m->e[oldest].last_use))
			oldest = m->h;
		m->h = (m->h + 1) % m->n;
	}
	if (v < 0)
		v = oldest >= 0 ? oldest : m->h;
	struct ment x = m->e[v];
	del_at(m->e, &m->n, v);
	if (v < m->h)
		m->h--;
	if (m->h >= m->n)
		m->h = 0;
	return x;
}

/* The model's victim; for M_NRU_RANDOM, `forced` names the real victim and
 * the model checks it is in the lowest class. */
static struct ment m_evict(struct model *m, uint64_t forced, bool *ok)
{
	int i = 0;
	*ok = true;
	switch (m->kind) {
	case M_FIFO: i = argmin(m, k_load, k_load); break;
	case M_LRU: i = argmin(m, k_last, k_last); break;
	case M_LFU: i = argmin(m, k_count, k_lfu_tie); break;
	case M_OPT: i = argmin(m, k_far, k_opt_tie); break;
	case M_NRU: i = argmin(m, k_class, k_load); break;
	case M_AGING: i = argmin(m, k_ctr, k_load); break;
	case M_NRU_RANDOM: {
		int lo = nru_class(&m->e[argmin(m, k_class, k_load)]);
		i = find(m->e, m->n, forced);
		*ok = i >= 0 && nru_class(&m->e[i]) == lo;
		if (i < 0)
			i = 0;
		break;
	}
	case M_SC:
		while (m->e[0].R) {
			struct ment x = m->e[0];
			x.R = false;
			del_at(m->e, &m->n, 0);
			m->e[m->n++] = x;
		}
		i = 0;
		break;
	case M_WSC:
		return m_evict_wsc(m);
	case M_LINUX:
		return m_evict_linux(m);
	}
	struct ment x = m->e[i];
	m_forget(m, &x);
	del_at(m->e, &m->n, i);
	return x;
}

static void m_tick(struct model *m, uint64_t now)
{
	if (now > m->now)
		m->now = now;
	for (int i = 0; i < m->n; i++) {
		struct ment *x = &m->e[i];
		if (m->kind == M_NRU || m->kind == M_NRU_RANDOM) {
			x->R = false;
		} else if (m->kind == M_AGING) {
			x->ctr = (uint8_t)((x->ctr >> 1) | (x->R ? 0x80 : 0));
			x->R = false;
		}
	}
}

struct pcase {
	const char *spec;
	enum mkind kind;
	bool ref1, tie_fifo, perfect, lifo;
	uint64_t tau, ratio;
};

static const struct pcase cases[] = {
	{ "fifo", M_FIFO, 0, 0, 0, 0, 0, 0 },
	{ "lru", M_LRU, 0, 0, 0, 0, 0, 0 },
	{ "second-chance", M_SC, 0, 0, 0, 0, 0, 0 },
	{ "second-chance:ref=1", M_SC, 1, 0, 0, 0, 0, 0 },
	{ "clock", M_SC, 0, 0, 0, 0, 0, 0 },
	{ "clock:ref=1", M_SC, 1, 0, 0, 0, 0, 0 },
	{ "lfu", M_LFU, 0, 0, 0, 0, 0, 0 },
	{ "lfu:tie=fifo", M_LFU, 0, 1, 0, 0, 0, 0 },
	{ "lfu:perfect=1", M_LFU, 0, 0, 1, 0, 0, 0 },
	{ "lfu:tie=fifo:perfect=1", M_LFU, 0, 1, 1, 0, 0, 0 },
	{ "opt", M_OPT, 0, 0, 0, 0, 0, 0 },
	{ "opt:tie=lifo", M_OPT, 0, 0, 0, 1, 0, 0 },
	{ "nru:pick=first", M_NRU, 0, 0, 0, 0, 0, 0 },
	{ "nru", M_NRU_RANDOM, 0, 0, 0, 0, 0, 0 },
	{ "aging", M_AGING, 0, 0, 0, 0, 0, 0 },
	{ "wsclock:tau=0", M_WSC, 0, 0, 0, 0, 0, 0 },
	{ "wsclock:tau=7", M_WSC, 0, 0, 0, 0, 7, 0 },
	{ "wsclock:tau=40", M_WSC, 0, 0, 0, 0, 40, 0 },
	{ "linux", M_LINUX, 0, 0, 0, 0, 0, 0 },
	{ "linux:ratio=3", M_LINUX, 0, 0, 0, 0, 0, 3 },
};

static void run_case(const struct pcase *c, struct mm_rng *rng, uint64_t seed)
{
	int cap = 1 + (int)mm_rng_below(rng, MAXCAP);
	uint64_t U = (uint64_t)cap + 1 + mm_rng_below(rng, 2 * (uint64_t)cap + 6);
	bool zipf = mm_rng_below(rng, 2);
	struct model *m = test_calloc(1, sizeof(*m));
	m->kind = c->kind;
	m->ref1 = c->ref1;
	m->tie_fifo = c->tie_fifo;
	m->perfect = c->perfect;
	m->lifo = c->lifo;
	m->tau = c->tau;
	m->ratio = c->ratio;
	m->cap = cap;
	struct mm_policy *p = tp_new(c->spec, (size_t)cap, seed);
	uint64_t ops = mm_test_iters(4000);
	uint64_t t = 0;
	for (uint64_t op = 0; op < ops; op++) {
		uint64_t r = mm_rng_below(rng, 100);
		if (r < 5 && m_size(m) > 0) { /* remove a resident */
			uint64_t id;
			do
				id = mm_rng_below(rng, U);
			while (!m_lookup(m, id));
			m_remove(m, id);
			assert_int_equal(mm_policy_remove(p, id), 0);
		} else if (r < 10) {
			t++;
			m_tick(m, t);
			mm_policy_tick(p, t);
		} else if (r < 13 && m_size(m) > 0) { /* the host writes a page back */
			uint64_t id;
			do
				id = mm_rng_below(rng, U);
			while (!m_lookup(m, id));
			m_lookup(m, id)->M = false;
			assert_int_equal(mm_policy_mark_clean(p, id), 0);
		} else {
			t++;
			uint64_t id = zipf ? mm_rng_zipf(rng, U, 0.9) : mm_rng_below(rng, U);
			uint64_t k = mm_rng_below(rng, 10);
			uint8_t kind = k < 6 ? MM_ACCESS_READ : k < 9 ? MM_ACCESS_WRITE : MM_ACCESS_EXEC;
			uint64_t nu = mm_rng_below(rng, 5) == 0 ? MM_POLICY_NEVER
								: t + 1 + mm_rng_below(rng, 4 * U);
			struct mm_access_info in = { .time = t, .next_use = nu, .kind = kind };
			if (m_lookup(m, id)) {
				m_access(m, id, kind, t, nu);
				assert_int_equal(mm_policy_access(p, id, &in), 0);
			} else {
				assert_int_equal(mm_policy_access(p, id, &in), -MM_ENOENT);
				if (m_size(m) == cap) {
					struct mm_victim v;
					assert_int_equal(mm_policy_evict(p, &v), 0);
					bool ok;
					struct ment x = m_evict(m, v.id, &ok);
					if (c->kind == M_NRU_RANDOM) {
						if (!ok)
							mm_test_fail_seed("%s: victim %llu not in the lowest class (op %llu)\n",
									  c->spec, (unsigned long long)v.id,
									  (unsigned long long)op);
						x.M = v.dirty; /* model state was read above */
					}
					if (x.id != v.id || x.M != v.dirty)
						mm_test_fail_seed("%s cap %d op %llu: victim %llu%s, model %llu%s\n",
								  c->spec, cap, (unsigned long long)op,
								  (unsigned long long)v.id, v.dirty ? " (dirty)" : "",
								  (unsigned long long)x.id, x.M ? " (dirty)" : "");
				}
				m_insert(m, id, kind, t, nu);
				assert_int_equal(mm_policy_insert(p, id, &in), 0);
			}
		}
		if (mm_policy_check(p) != 0)
			mm_test_fail_seed("%s: check failed after op %llu\n", c->spec, (unsigned long long)op);
		if (c->kind == M_LINUX) { /* the views agree with the model's lists */
			struct mm_policy_page pg;
			for (int i = 0; i < m->nact + m->nina; i++) {
				const struct ment *x = i < m->nact ? &m->act[i] : &m->ina[i - m->nact];
				assert_int_equal(mm_policy_page_info(p, x->id, &pg), 0);
				assert_int_equal(pg.active, i < m->nact);
				assert_int_equal(pg.referenced, x->pgref);
			}
			assert_int_equal(mm_policy_nr_active(p), (size_t)m->nact);
		}
		if (mm_policy_size(p) != (size_t)m_size(m))
			mm_test_fail_seed("%s cap %d op %llu: size %zu, model %d\n", c->spec, cap,
					  (unsigned long long)op, mm_policy_size(p), m_size(m));
	}
	if (c->kind == M_WSC) {
		struct mm_policy_stats st;
		mm_policy_get_stats(p, &st);
		assert_int_equal(st.cleaned, m->cleaned);
	}
	mm_policy_destroy(p);
	test_free(m);
}

static void test_against_models(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	for (size_t i = 0; i < MM_ARRAY_SIZE(cases); i++)
		for (int round = 0; round < 30; round++)
			run_case(&cases[i], &rng, mm_test_seed() + (uint64_t)round);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
