/* second_chance.c — Second chance (FIFO with a referenced bit).
 *
 * Definition (Tanenbaum, Modern Operating Systems, 3.4.4): resident pages
 * form a FIFO queue by load time. To evict, look at the oldest page: if its
 * referenced bit R is 0, evict it; if R is 1, clear R, move the page to the
 * tail as if it had just been loaded, and look at the new oldest page. If
 * every page has R = 1 this degenerates into FIFO after one full pass.
 *
 * Variant (option ref=0|1): the state of R right after a page is loaded.
 *   ref=0 (default): the policy clears R at insert, so a newly loaded page
 *         needs a later reference to earn a second chance. This is libCacheSim's
 *         Clock/FIFO-Reinsertion ("init-freq=0": an object enters with
 *         frequency 0 and a hit sets it to 1), so miss counts match it.
 *   ref=1: R stays as the MMU left it after the faulting access (set), as on
 *         real hardware where the restarted instruction sets the accessed bit.
 * Reads R only through the MMU bits (hardware-realistic); hits are not needed.
 *
 * Cost: insert/remove O(1); evict O(1) amortized (each page moved to the tail
 * had R set by an access since it was last examined), O(n) worst case.
 * Same victims as clock.c, which implements it without moving pages.
 * Reference: Tanenbaum & Bos, Modern Operating Systems, 4th ed., 3.4.4.
 */
#include "policy_internal.h"

struct sc {
	struct ilink *l; /* head at cap; head->next is the oldest */
	bool ref_on_insert;
};

static const char *const ref_choices[] = { "0", "1", NULL };

static int sc_init(struct mm_policy *p, struct pol_opts *o)
{
	int ref;
	if (pol_opt_enum(o, "ref", ref_choices, 0, &ref))
		return -MM_EINVAL;
	struct sc *c = pol_calloc(1, sizeof(*c));
	if (!c || !(c->l = pol_calloc((size_t)p->cap + 1, sizeof(*c->l)))) {
		free(c);
		return -MM_ENOMEM;
	}
	c->ref_on_insert = ref;
	il_init(c->l, p->cap);
	p->priv = c;
	return 0;
}

static void sc_fini(struct mm_policy *p)
{
	struct sc *c = p->priv;
	free(c->l);
	free(c);
}

static void sc_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct sc *c = p->priv;
	if (!c->ref_on_insert)
		pol_test_clear_young(p, s);
	il_add_tail(c->l, s, p->cap);
}

static uint32_t sc_evict(struct mm_policy *p)
{
	struct sc *c = p->priv;
	for (;;) {
		uint32_t s = c->l[p->cap].next;
		p->st.scanned++;
		if (!pol_test_clear_young(p, s)) {
			il_del(c->l, s);
			return s;
		}
		il_move_tail(c->l, s, p->cap); /* second chance */
	}
}

static void sc_remove(struct mm_policy *p, uint32_t s)
{
	struct sc *c = p->priv;
	il_del(c->l, s);
}

static int sc_check(const struct mm_policy *p)
{
	const struct sc *c = p->priv;
	long n = pol_il_check(c->l, p->cap, p->cap, NULL, p->cap);
	return n == (long)p->nr ? 0 : -MM_ECORRUPT;
}

const struct pol_ops pol_second_chance_ops = {
	.info = { "second-chance", "sc fifo-reinsertion",
		  "FIFO that re-queues a page whose referenced bit is set", "ref=0(0|1)", false },
	.init = sc_init,
	.fini = sc_fini,
	.insert = sc_insert,
	.evict = sc_evict,
	.remove = sc_remove,
	.check = sc_check,
};
