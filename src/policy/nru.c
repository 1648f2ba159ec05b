/* nru.c — Not Recently Used.
 *
 * Definition (Tanenbaum 3.4.2; the seeds): each page has the referenced bit R
 * and the modified bit M that the MMU sets. At every clock tick the OS clears
 * all R bits (never M: M says whether the page must be written back). At a
 * fault the pages fall into four classes,
 *     class 0: R=0 M=0    class 1: R=0 M=1    class 2: R=1 M=0    class 3: R=1 M=1
 * and the victim comes from the lowest-numbered non-empty class.
 * Choice within that class (option pick=):
 *   pick=random (default, as Tanenbaum states it): uniformly at random, from
 *       the instance's seeded generator, so runs replay from the seed.
 *   pick=first: deterministic: the page loaded earliest within the class.
 *
 * How it stays O(log n) though R and M change behind its back: between two
 * ticks the MMU only ever sets R and M, so a page's class can only rise. The
 * policy files each page under the class it last observed (a lower bound of
 * the true class). To evict it looks at a candidate in the lowest non-empty
 * observed class and re-reads its bits; if the class rose, the page is re-filed
 * and the search goes on, otherwise the candidate is in the true lowest class
 * (every other page's class is at least its observed class). A page is
 * re-filed at most three times per tick interval, so eviction is O(log n)
 * amortized (O(1) for pick=random); a tick is O(n) (it must visit every R).
 * A host that cleans a page behind the policy calls mm_policy_mark_clean(),
 * which re-files it (M fell).
 *
 * Reference: Tanenbaum & Bos, Modern Operating Systems, 4th ed., 3.4.2.
 */
#include "policy_internal.h"

#define NR_CLASSES 4

struct nru {
	uint8_t *obs;          /* slot -> observed class */
	bool pick_first;
	/* pick=first: one heap keyed (observed class, load sequence) */
	struct iheap hp;
	uint64_t seq;
	/* pick=random: one dense array per observed class */
	uint32_t *member[NR_CLASSES];
	uint32_t count[NR_CLASSES];
	uint32_t *idx;         /* slot -> index in member[obs] */
};

static const char *const pick_choices[] = { "random", "first", NULL };

static void nru_free(struct nru *n)
{
	if (!n)
		return;
	free(n->obs);
	pol_heap_fini(&n->hp);
	for (int c = 0; c < NR_CLASSES; c++)
		free(n->member[c]);
	free(n->idx);
	free(n);
}

static int nru_init(struct mm_policy *p, struct pol_opts *o)
{
	int pick;
	if (pol_opt_enum(o, "pick", pick_choices, 0, &pick))
		return -MM_EINVAL;
	struct nru *n = pol_calloc(1, sizeof(*n));
	if (!n)
		return -MM_ENOMEM;
	n->pick_first = pick == 1;
	n->obs = pol_calloc(p->cap, 1);
	bool ok = n->obs != NULL;
	if (n->pick_first) {
		ok = ok && pol_heap_init(&n->hp, p->cap) == 0;
	} else {
		for (int c = 0; c < NR_CLASSES; c++)
			ok = ok && (n->member[c] = pol_calloc(p->cap, sizeof(uint32_t)));
		ok = ok && (n->idx = pol_calloc(p->cap, sizeof(uint32_t)));
	}
	if (!ok) {
		nru_free(n);
		return -MM_ENOMEM;
	}
	p->priv = n;
	return 0;
}

static void nru_fini(struct mm_policy *p)
{
	nru_free(p->priv);
}

MM_INLINE uint8_t nru_class(struct mm_policy *p, uint32_t s)
{
	return (uint8_t)(2 * pol_test_young(p, s) + pol_test_dirty(p, s));
}

static void file_add(struct nru *n, uint32_t s, uint8_t c)
{
	n->obs[s] = c;
	n->idx[s] = n->count[c];
	n->member[c][n->count[c]++] = s;
}

static void file_del(struct nru *n, uint32_t s)
{
	uint8_t c = n->obs[s];
	uint32_t i = n->idx[s], last = n->member[c][--n->count[c]];
	n->member[c][i] = last;
	n->idx[last] = i;
}

/* File s under class c (it is not filed yet). */
static void nru_file(struct nru *n, uint32_t s, uint8_t c)
{
	if (n->pick_first) {
		n->obs[s] = c;
		pol_heap_push(&n->hp, s, c, ++n->seq);
	} else {
		file_add(n, s, c);
	}
}

/* Re-file a filed page under class c. */
static void nru_refile(struct nru *n, uint32_t s, uint8_t c)
{
	if (n->pick_first) {
		n->obs[s] = c;
		pol_heap_update(&n->hp, s, c, n->hp.k2[s]);
	} else {
		file_del(n, s);
		file_add(n, s, c);
	}
}

static void nru_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	nru_file(p->priv, s, nru_class(p, s));
}

static void nru_remove(struct mm_policy *p, uint32_t s)
{
	struct nru *n = p->priv;
	if (n->pick_first)
		pol_heap_remove(&n->hp, s);
	else
		file_del(n, s);
}

static uint32_t nru_evict(struct mm_policy *p)
{
	struct nru *n = p->priv;
	for (;;) {
		uint32_t s;
		p->st.scanned++;
		if (n->pick_first) {
			s = pol_heap_top(&n->hp);
		} else {
			int c = 0;
			while (n->count[c] == 0)
				c++;
			s = n->member[c][mm_rng_below(&p->rng, n->count[c])];
		}
		uint8_t actual = nru_class(p, s);
		if (actual == n->obs[s]) {
			nru_remove(p, s);
			return s;
		}
		nru_refile(n, s, actual); /* its class rose since we last looked */
	}
}

/* Clock interrupt: clear every R; each page's class becomes its M bit. */
static void nru_tick(struct mm_policy *p)
{
	struct nru *n = p->priv;
	if (!n->pick_first)
		n->count[0] = n->count[1] = n->count[2] = n->count[3] = 0;
	for (uint32_t s = 0; s < p->cap; s++) {
		if (!(p->flags[s] & PF_USED))
			continue;
		pol_test_clear_young(p, s);
		uint8_t c = pol_test_dirty(p, s);
		if (n->pick_first) {
			n->obs[s] = c;
			n->hp.k1[s] = c;
		} else {
			file_add(n, s, c);
		}
	}
	if (n->pick_first)
		pol_heap_heapify(&n->hp);
}

static void nru_cleaned(struct mm_policy *p, uint32_t s)
{
	nru_refile(p->priv, s, nru_class(p, s));
}

static int nru_check(const struct mm_policy *p)
{
	const struct nru *n = p->priv;
	if (n->pick_first) {
		if (pol_heap_check(&n->hp) || n->hp.n != p->nr)
			return -MM_ECORRUPT;
	} else {
		uint32_t total = 0;
		for (int c = 0; c < NR_CLASSES; c++) {
			total += n->count[c];
			for (uint32_t i = 0; i < n->count[c]; i++) {
				uint32_t s = n->member[c][i];
				if (s >= p->cap || n->obs[s] != c || n->idx[s] != i)
					return -MM_ECORRUPT;
			}
		}
		if (total != p->nr)
			return -MM_ECORRUPT;
	}
	for (uint32_t s = 0; s < p->cap; s++) {
		if (!(p->flags[s] & PF_USED))
			continue;
		if (n->obs[s] >= NR_CLASSES || (n->pick_first && !pol_heap_contains(&n->hp, s)))
			return -MM_ECORRUPT;
		/* the observed class is a lower bound of the true one */
		if (p->soft && n->obs[s] > 2 * !!(p->flags[s] & PF_YOUNG) + !!(p->flags[s] & PF_DIRTY))
			return -MM_ECORRUPT;
	}
	return 0;
}

const struct pol_ops pol_nru_ops = {
	.info = { "nru", "", "not recently used: lowest of four R/M classes, R cleared on tick",
		  "pick=random(random|first)", false },
	.init = nru_init,
	.fini = nru_fini,
	.insert = nru_insert,
	.evict = nru_evict,
	.remove = nru_remove,
	.tick = nru_tick,
	.cleaned = nru_cleaned,
	.check = nru_check,
};
