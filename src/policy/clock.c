/* clock.c — the clock algorithm (one-handed clock).
 *
 * Definition (Corbató 1968; Tanenbaum 3.4.5): resident pages sit on a circle
 * with a hand pointing at the oldest. To evict, look at the page under the
 * hand: if its referenced bit R is 0, it is the victim and the hand moves
 * past it; if R is 1, clear R and advance the hand. A newly loaded page takes
 * the victim's place, i.e. it is placed just behind the hand, so it is the
 * last the hand reaches. This chooses exactly the same victims as second
 * chance (second_chance.c) without moving pages on a list. A page removed
 * for another reason simply leaves the circle (the hand skips forward if it
 * pointed at it).
 *
 * Variant (option ref=0|1), identical to second chance:
 *   ref=0 (default): R is cleared when a page is loaded — libCacheSim's Clock
 *         ("init-freq=0, n-bit-counter=1"), so miss counts match libCacheSim.
 *   ref=1: R stays set from the faulting access, as on real hardware.
 * Reads R only through the MMU bits (hardware-realistic).
 *
 * Cost: insert/remove O(1); evict O(1) amortized (every R cleared was set by
 * an access), at most one full revolution plus one step in the worst case.
 * Reference: F. J. Corbató, "A paging experiment with the Multics system",
 * MIT Project MAC MAC-M-384, 1968; Tanenbaum & Bos, Modern Operating Systems,
 * 4th ed., 3.4.5.
 */
#include "policy_internal.h"

struct clk {
	struct ilink *l; /* the circle over slots, no sentinel */
	uint32_t hand;   /* the oldest page, POL_NONE when empty */
	bool ref_on_insert;
};

static const char *const ref_choices[] = { "0", "1", NULL };

static int clk_init(struct mm_policy *p, struct pol_opts *o)
{
	int ref;
	if (pol_opt_enum(o, "ref", ref_choices, 0, &ref))
		return -MM_EINVAL;
	struct clk *c = pol_calloc(1, sizeof(*c));
	if (!c || !(c->l = pol_calloc(p->cap, sizeof(*c->l)))) {
		free(c);
		return -MM_ENOMEM;
	}
	c->hand = POL_NONE;
	c->ref_on_insert = ref;
	p->priv = c;
	return 0;
}

static void clk_fini(struct mm_policy *p)
{
	struct clk *c = p->priv;
	free(c->l);
	free(c);
}

static void clk_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	(void)info;
	struct clk *c = p->priv;
	if (!c->ref_on_insert)
		pol_test_clear_young(p, s);
	if (c->hand == POL_NONE) {
		c->l[s].next = c->l[s].prev = s;
		c->hand = s;
	} else {
		il_add_before(c->l, s, c->hand); /* just behind the hand */
	}
}

/* Take s off the circle, moving the hand forward if it pointed at s. */
static void clk_unlink(struct clk *c, uint32_t s)
{
	if (c->l[s].next == s) {
		c->hand = POL_NONE;
		c->l[s].next = c->l[s].prev = POL_NONE;
		return;
	}
	if (c->hand == s)
		c->hand = c->l[s].next;
	il_del(c->l, s);
}

static uint32_t clk_evict(struct mm_policy *p)
{
	struct clk *c = p->priv;
	for (;;) {
		uint32_t s = c->hand;
		p->st.scanned++;
		if (!pol_test_clear_young(p, s)) {
			clk_unlink(c, s); /* the hand moves past the victim */
			if (mm_likely(c->hand != POL_NONE)) {
				/* the next victims if their R bits stay clear */
				uint32_t nnx = c->l[c->hand].next;
				__builtin_prefetch(&c->l[nnx], 1);
				__builtin_prefetch(&p->flags[nnx], 1);
				pol_prefetch_victims(p, c->hand, nnx);
			}
			return s;
		}
		c->hand = c->l[s].next;
	}
}

static void clk_remove(struct mm_policy *p, uint32_t s)
{
	clk_unlink(p->priv, s);
}

static int clk_check(const struct mm_policy *p)
{
	const struct clk *c = p->priv;
	if (c->hand == POL_NONE)
		return p->nr == 0 ? 0 : -MM_ECORRUPT;
	uint32_t n = 0, x = c->hand;
	do {
		uint32_t nx = c->l[x].next;
		if (x >= p->cap || !(p->flags[x] & PF_USED) || nx >= p->cap ||
		    c->l[nx].prev != x || ++n > p->nr)
			return -MM_ECORRUPT;
		x = nx;
	} while (x != c->hand);
	return n == p->nr ? 0 : -MM_ECORRUPT;
}

const struct pol_ops pol_clock_ops = {
	.info = { "clock", "", "circular second chance: hand clears R bits until R=0",
		  "ref=0(0|1)", false },
	.init = clk_init,
	.fini = clk_fini,
	.insert = clk_insert,
	.evict = clk_evict,
	.remove = clk_remove,
	.check = clk_check,
};
