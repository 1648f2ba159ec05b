/* wsclock.c — WSClock: the working-set clock.
 *
 * Definition (Carr & Hennessy 1981; Tanenbaum 3.4.9): pages sit on a circle
 * as in clock, each with a "time of last use" in virtual time that the
 * policy keeps itself from the R bits it reads. A page is in the working set
 * if it was used within the last tau units of virtual time. To evict, the
 * hand examines the page under it:
 *   1. R = 1: clear R, set last use := now, advance (in the working set).
 *   2. R = 0, age = now - last use > tau, clean: this is the victim; the hand
 *      moves past it.
 *   3. R = 0, age > tau, dirty: schedule a write-back (start_writeback; the
 *      built-in MMU completes it at once and counts it in stats.cleaned) and
 *      advance: the page will be clean when the hand comes back. A write
 *      started by an external host is pending until the host reports it done
 *      with mm_policy_mark_clean() (allowed from inside start_writeback) or the
 *      page is seen clean; a pending page is never written twice.
 *   4. otherwise (age <= tau): advance.
 * If the hand goes all the way round: when a write was scheduled, keep going
 * (one more revolution at most; a cleaned page is then taken); when none was
 * (every page is in the working set), claim the clean page with the oldest
 * last use seen in the sweep (after step 1 updated it; ties: the first met),
 * and if no page is clean, the page under the hand (a dirty eviction).
 * "now" is the instance's virtual time: the latest time given to insert,
 * access or tick (trace replay: the request index). A loaded page starts with
 * last use := its insert time and R as the faulting access left it (set).
 * Options: tau=N in virtual-time units (default 1000 — a fixed window, see
 * the cost). Only R and M are read (hardware-realistic).
 *
 * Cost: insert/remove O(1). An eviction must step over every page used within
 * the last tau units (they are in the working set), so it costs about the
 * size of the working set W(tau), at most two revolutions (2n steps). In
 * trace replay W(tau) is roughly tau x miss ratio pages: measured on a Zipf(1)
 * trace with 100,000 frames, ~0.15 x tau steps per eviction, and ~15,000 with
 * tau = the capacity, which is why the default is a fixed window and not a
 * multiple of the capacity.
 * Reference: R. W. Carr, J. L. Hennessy, "WSCLOCK — a simple and effective
 * algorithm for virtual memory management", SOSP 1981; Tanenbaum & Bos,
 * Modern Operating Systems, 4th ed., 3.4.9.
 */
#include "policy_internal.h"

#define WSCLOCK_DEFAULT_TAU 1000

struct wsc {
	struct ilink *l;    /* the circle, no sentinel */
	uint64_t *last_use; /* slot -> virtual time of last observed use */
	uint8_t *pending;   /* slot -> write-back started, completion not yet
			     * reported (external host only; mm_policy_mark_clean) */
	uint32_t hand;      /* POL_NONE when empty */
	uint64_t tau;
};

static int wsc_init(struct mm_policy *p, struct pol_opts *o)
{
	uint64_t tau;
	if (pol_opt_u64(o, "tau", WSCLOCK_DEFAULT_TAU, 0, UINT64_MAX / 2, &tau))
		return -MM_EINVAL;
	struct wsc *w = pol_calloc(1, sizeof(*w));
	if (!w)
		return -MM_ENOMEM;
	w->l = pol_calloc(p->cap, sizeof(*w->l));
	w->last_use = pol_calloc(p->cap, sizeof(*w->last_use));
	w->pending = pol_calloc(p->cap, 1);
	if (!w->l || !w->last_use || !w->pending) {
		free(w->l);
		free(w->last_use);
		free(w->pending);
		free(w);
		return -MM_ENOMEM;
	}
	w->hand = POL_NONE;
	w->tau = tau;
	p->priv = w;
	return 0;
}

static void wsc_fini(struct mm_policy *p)
{
	struct wsc *w = p->priv;
	free(w->l);
	free(w->last_use);
	free(w->pending);
	free(w);
}

static void wsc_insert(struct mm_policy *p, uint32_t s, const struct mm_access_info *info)
{
	struct wsc *w = p->priv;
	w->last_use[s] = info->time;
	w->pending[s] = 0;
	if (w->hand == POL_NONE) {
		w->l[s].next = w->l[s].prev = s;
		w->hand = s;
	} else {
		il_add_before(w->l, s, w->hand);
	}
}

static void wsc_unlink(struct wsc *w, uint32_t s)
{
	if (w->l[s].next == s) {
		w->hand = POL_NONE;
		w->l[s].next = w->l[s].prev = POL_NONE;
		return;
	}
	if (w->hand == s)
		w->hand = w->l[s].next;
	il_del(w->l, s);
}

static void wsc_remove(struct mm_policy *p, uint32_t s)
{
	wsc_unlink(p->priv, s);
}

static uint32_t wsc_evict(struct mm_policy *p)
{
	struct wsc *w = p->priv;
	uint64_t now = p->now;
	uint32_t oldest_clean = POL_NONE, writes = 0;
	uint64_t limit = p->nr; /* one revolution */
	for (uint64_t step = 0;; step++) {
		if (step == limit) {
			if (!writes || limit != p->nr)
				break;
			limit = 2 * (uint64_t)p->nr; /* let the writes come back clean */
		}
		uint32_t s = w->hand;
		p->st.scanned++;
		bool dirty;
		if (pol_test_clear_young(p, s)) {
			w->last_use[s] = now; /* in the working set */
			dirty = pol_test_dirty(p, s);
		} else {
			dirty = pol_test_dirty(p, s);
			if (!dirty)
				w->pending[s] = 0; /* any write-back has completed */
			if (now - w->last_use[s] > w->tau) {
				if (!dirty) {
					wsc_unlink(w, s);
					return s;
				}
				if (w->pending[s]) {
					writes++; /* still in flight: do not write twice */
				} else {
					/* pending before the call: a host that completes at once
					 * may report it (mark_clean) from inside the call */
					w->pending[s] = !p->soft;
					if (pol_start_writeback(p, s))
						writes++;
					else
						w->pending[s] = 0;
				}
				dirty = true; /* not clean until the hand comes back */
			}
		}
		if (!dirty && (oldest_clean == POL_NONE ||
			       w->last_use[s] < w->last_use[oldest_clean]))
			oldest_clean = s;
		w->hand = w->l[s].next;
	}
	/* every page is in the working set: claim the oldest clean one, else the
	 * page under the hand */
	uint32_t s = oldest_clean != POL_NONE ? oldest_clean : w->hand;
	if (s == w->hand)
		wsc_unlink(w, s);
	else
		il_del(w->l, s);
	return s;
}

/* the host reports a write-back completed */
static void wsc_cleaned(struct mm_policy *p, uint32_t s)
{
	struct wsc *w = p->priv;
	w->pending[s] = 0;
}

static int wsc_check(const struct mm_policy *p)
{
	const struct wsc *w = p->priv;
	if (w->hand == POL_NONE)
		return p->nr == 0 ? 0 : -MM_ECORRUPT;
	uint32_t n = 0, x = w->hand;
	do {
		uint32_t nx = w->l[x].next;
		if (x >= p->cap || !(p->flags[x] & PF_USED) || nx >= p->cap ||
		    w->l[nx].prev != x || ++n > p->nr || w->last_use[x] > p->now)
			return -MM_ECORRUPT;
		x = nx;
	} while (x != w->hand);
	return n == p->nr ? 0 : -MM_ECORRUPT;
}

const struct pol_ops pol_wsclock_ops = {
	.info = { "wsclock", "", "working-set clock: evict old (> tau) clean pages, clean old dirty ones",
		  "tau=1000(N)", false },
	.init = wsc_init,
	.fini = wsc_fini,
	.insert = wsc_insert,
	.evict = wsc_evict,
	.remove = wsc_remove,
	.cleaned = wsc_cleaned,
	.check = wsc_check,
};
