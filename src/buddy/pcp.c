/* pcp.c — per-thread order-0 page caches (Linux's per-CPU pagesets).
 *
 * Each thread gets, per buddy allocator it uses, one cache per zone: lists
 * of free order-0 pages per migrate type, with Linux's count / high / batch.
 * An allocation pops the first page of its type's list; when the list is
 * empty it refills `batch` pages under one zone-lock acquisition
 * (rmqueue_bulk). A free pushes the page; when count reaches `high` it
 * returns `batch` of the oldest pages, from the list it just freed to first,
 * then the next lists in turn (free_pcppages_bulk). Starting anywhere else
 * lets a list grow without bound: always starting at one list and taking a
 * page per list, a batch of 2 never reached the third list while the first
 * two were kept at one page each (test_pcp_bounded).
 * Cost: the hit path is a thread-local slot lookup, a list pop/push, and two
 * plain stores around it: no lock and no atomic read-modify-write.
 * Fragmentation: cached pages cannot merge with their buddies, so up to
 * high + 3 * batch order-0 pages per thread and zone stay split; drains
 * (high reached, drain_all, thread exit) give them back. Reference: Linux
 * mm/page_alloc.c (per_cpu_pages, rmqueue_pcplist, free_unref_page,
 * drain_all_pages); Gorman, "Understanding the Linux Virtual Memory Manager",
 * ch. 6.
 *
 * Finding the cache: a direct-mapped thread-local table keyed by the
 * allocator's id (ids are never reused, so a slot left over from a destroyed
 * allocator never matches), with a second way per slot for the entry a
 * colliding allocator pushed out. A miss in both takes the process-wide
 * registry lock and searches or creates the thread's set.
 *
 * Draining another thread's cache (drain_all, check): Linux runs the drain on
 * each CPU. Here the drainer sets the set's `locked` flag, issues
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) so that every running thread
 * passes a full barrier, then waits for the owner's `active` flag to drop
 * (asymmetric Dekker). The owner stores `active`, compiler barrier, loads
 * `locked`: if set, it leaves and uses the zone directly. Where membarrier
 * is unavailable the owner uses a full fence instead; ThreadSanitizer builds
 * use sequentially consistent atomics, which TSan understands.
 *
 * Process-wide state (the only in the buddy component): the registry lock,
 * the pthread key whose destructor drains an exiting thread's caches, the id
 * counter and the membarrier flag.
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buddy_internal.h"

__thread struct pcp_slot mm_pcp_slots[PCP_SLOTS]
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
/* The second way of each slot: the entry a colliding allocator pushed out.
 * A miss in mm_pcp_slots that hits here swaps the two, so a thread that
 * alternates between two allocators sharing a slot never takes the registry
 * lock (test_slot_collision). Same validity rule as the slots: ids are never
 * reused, so a stale entry never matches. */
static __thread struct pcp_slot victim_slots[PCP_SLOTS] __attribute__((tls_model("initial-exec")));
int mm_pcp_membarrier_ok;

/* A thread's list of cache sets (pthread key value). */
struct pcp_thread {
	struct mm_list sets; /* pcp_set.t_node; registry lock */
};

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static _Atomic uint64_t next_id = 1;
static __thread struct pcp_thread *cur_thread __attribute__((tls_model("initial-exec")));

void __mm_registry_lock(void)
{
	pthread_mutex_lock(&registry);
}

void __mm_registry_unlock(void)
{
	pthread_mutex_unlock(&registry);
}

uint64_t __mm_buddy_next_id(void)
{
	return atomic_fetch_add(&next_id, 1);
}

/* ---- moving pages between a cache and its zone ---------------------------------------- */

int __mm_pcp_refill(struct mm_zone *z, struct mm_pcp *pcp, int mt)
{
	int n = 0;
	zone_lock(z);
	for (; n < pcp->batch; n++) {
		struct mm_page *page = __mm_rmqueue(z, 0, mt);
		if (!page)
			break;
		set_pg_state(page, MM_PAGE_PCP);
		mm_list_add_tail(&page->lru, &pcp->lists[mt]);
	}
	pcp->count += n;
	zone_unlock(z);
	return n;
}

int __mm_pcp_free_bulk(struct mm_buddy *b, struct mm_zone *z, struct mm_pcp *pcp, int count,
		       int first_mt)
{
	int n = 0, mt = first_mt;
	zone_lock(z);
	for (int tried = 0; n < count && tried < MM_MIGRATE_PCPTYPES;
	     tried++, mt = (mt + 1) % MM_MIGRATE_PCPTYPES) {
		struct mm_list *list = &pcp->lists[mt];
		while (n < count && !mm_list_empty(list)) {
			/* the oldest (coldest) page first */
			struct mm_page *page = mm_list_last_entry(list, struct mm_page, lru);
			mm_list_del(&page->lru);
			set_pg_state(page, 0);
			uint64_t pfn = page_pfn(b, page);
			__mm_free_one_page(z, pfn, 0, pageblock_mt(b, pfn));
			n++;
		}
	}
	pcp->count -= n;
	zone_unlock(z);
	return n;
}

/* Caller has exclusive use of the set. */
static void drain_set(struct pcp_set *s)
{
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_pcp *pcp = &s->pcp[zi];
		if (pcp->count)
			__mm_pcp_free_bulk(s->b, &s->b->zones[zi], pcp, pcp->count, 0);
	}
}

/* ---- thread lifetime ------------------------------------------------------------------- */

/* Fold a dying set's event counts into its zones (registry lock held). */
static void fold_events(struct pcp_set *s)
{
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &s->b->zones[zi];
		if (!s->pcp[zi].ev_alloc && !s->pcp[zi].ev_free)
			continue;
		zone_lock(z);
		z->ev_alloc += s->pcp[zi].ev_alloc;
		z->ev_free += s->pcp[zi].ev_free;
		zone_unlock(z);
	}
}

static void thread_exit(void *arg)
{
	struct pcp_thread *t = arg;
	struct pcp_set *s, *tmp;
	pthread_mutex_lock(&registry);
	mm_list_for_each_entry_safe(s, tmp, &t->sets, t_node) {
		drain_set(s);
		fold_events(s);
		mm_list_del(&s->t_node);
		mm_list_del(&s->b_node);
		free(s);
	}
	pthread_mutex_unlock(&registry);
	free(t);
	cur_thread = NULL;
	memset(mm_pcp_slots, 0, sizeof(mm_pcp_slots));
	memset(victim_slots, 0, sizeof(victim_slots));
}

static void global_init_once(void)
{
	if (pthread_key_create(&thread_key, thread_exit) != 0)
		MM_PANIC("pcp: pthread_key_create failed");
#ifndef MMKIT_TSAN
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		mm_pcp_membarrier_ok = 1;
#endif
}

void __mm_pcp_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

static struct pcp_set *find_set(struct pcp_thread *t, const struct mm_buddy *b)
{
	struct pcp_set *s;
	mm_list_for_each_entry(s, &t->sets, t_node)
		if (s->b == b && s->id == b->id)
			return s;
	return NULL;
}

struct pcp_set *__mm_pcp_set_slow(struct mm_buddy *b)
{
	struct pcp_slot *slot = &mm_pcp_slots[b->id % PCP_SLOTS];
	struct pcp_slot *victim = &victim_slots[b->id % PCP_SLOTS];
	if (victim->id == b->id) {
		struct pcp_slot tmp = *slot;
		*slot = *victim;
		*victim = tmp;
		return slot->set;
	}
	struct pcp_thread *t = cur_thread;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		mm_list_init(&t->sets);
		if (pthread_setspecific(thread_key, t) != 0) {
			free(t);
			return NULL;
		}
		cur_thread = t;
	}
	pthread_mutex_lock(&registry);
	struct pcp_set *s = find_set(t, b);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (s) {
			s->id = b->id;
			s->b = b;
			s->owner = t;
			for (int zi = 0; zi < MM_NR_ZONES; zi++) {
				struct mm_pcp *pcp = &s->pcp[zi];
				pcp->high = (int)b->zones[zi].pcp_high;
				pcp->batch = (int)b->zones[zi].pcp_batch;
				for (int mt = 0; mt < MM_MIGRATE_PCPTYPES; mt++)
					mm_list_init(&pcp->lists[mt]);
			}
			mm_list_add(&s->t_node, &t->sets);
			mm_list_add(&s->b_node, &b->pcp_sets);
		}
	}
	pthread_mutex_unlock(&registry);
	if (s) {
		*victim = *slot;
		slot->id = b->id;
		slot->set = s;
	}
	return s;
}

void __mm_pcp_destroy_all(struct mm_buddy *b)
{
	struct pcp_set *s, *tmp;
	pthread_mutex_lock(&registry);
	mm_list_for_each_entry_safe(s, tmp, &b->pcp_sets, b_node) {
		mm_list_del(&s->t_node);
		mm_list_del(&s->b_node);
		free(s);
	}
	pthread_mutex_unlock(&registry);
	struct pcp_slot *slot = &mm_pcp_slots[b->id % PCP_SLOTS];
	struct pcp_slot *victim = &victim_slots[b->id % PCP_SLOTS];
	if (slot->id == b->id)
		slot->id = 0;
	if (victim->id == b->id)
		victim->id = 0;
}

/* ---- locking out other threads' caches --------------------------------------------------- */

static void remote_barrier(void)
{
#ifndef MMKIT_TSAN
	if (mm_pcp_membarrier_ok) {
		/* owners rely on it: after a successful registration the
		 * command cannot fail, and if it did, going on would be wrong */
		if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
			MM_PANIC("pcp: membarrier(PRIVATE_EXPEDITED) failed after registration");
		return;
	}
	/* owners use full fences when membarrier is unavailable */
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* Lock out every other thread's cache of b; registry lock held. */
static void lockout_all(struct mm_buddy *b)
{
	struct pcp_set *s;
	bool foreign = false;
	mm_list_for_each_entry(s, &b->pcp_sets, b_node) {
		if (s->owner == cur_thread)
			continue;
		atomic_store_explicit(&s->locked, 1, memory_order_seq_cst);
		foreign = true;
	}
	if (!foreign)
		return;
	remote_barrier();
	mm_list_for_each_entry(s, &b->pcp_sets, b_node) {
		if (s->owner == cur_thread)
			continue;
		while (atomic_load_explicit(&s->active, memory_order_seq_cst))
			sched_yield();
	}
}

void __mm_pcp_freeze(struct mm_buddy *b)
{
	pthread_mutex_lock(&registry);
	lockout_all(b);
}

void __mm_pcp_thaw(struct mm_buddy *b)
{
	struct pcp_set *s;
	mm_list_for_each_entry(s, &b->pcp_sets, b_node)
		if (s->owner != cur_thread)
			atomic_store_explicit(&s->locked, 0, memory_order_release);
	pthread_mutex_unlock(&registry);
}

/* ---- draining ------------------------------------------------------------------------------ */

void __mm_pcp_drain_frozen(struct mm_buddy *b)
{
	struct pcp_set *s;
	mm_list_for_each_entry(s, &b->pcp_sets, b_node)
		drain_set(s);
}

void mm_buddy_drain_all(struct mm_buddy *b)
{
	if (!b->pcp_on)
		return;
	__mm_pcp_freeze(b);
	__mm_pcp_drain_frozen(b);
	__mm_pcp_thaw(b);
}

void mm_buddy_drain_local(struct mm_buddy *b)
{
	if (!b->pcp_on || !cur_thread)
		return;
	pthread_mutex_lock(&registry);
	struct pcp_set *s = find_set(cur_thread, b);
	pthread_mutex_unlock(&registry);
	if (s && pcp_enter(s)) {
		drain_set(s);
		pcp_exit(s);
	}
}

/* ---- event counters (vmstat) ------------------------------------------------------------ */

void mm_buddy_events(struct mm_buddy *b, struct mm_buddy_events *ev)
{
	struct pcp_set *s;
	memset(ev, 0, sizeof(*ev));
	__mm_pcp_freeze(b);
	mm_list_for_each_entry(s, &b->pcp_sets, b_node) {
		for (int zi = 0; zi < MM_NR_ZONES; zi++) {
			ev->pgalloc[zi] += s->pcp[zi].ev_alloc;
			ev->pgfree += s->pcp[zi].ev_free;
		}
	}
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		zone_lock(z);
		ev->pgalloc[zi] += z->ev_alloc;
		ev->pgfree += z->ev_free;
		zone_unlock(z);
	}
	__mm_pcp_thaw(b);
	ev->alloc_fail = atomic_load_explicit(&b->ev_alloc_fail, memory_order_relaxed);
}
