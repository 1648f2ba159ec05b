/* Per-thread magazines and the depot: the object-caching layer above the
 * slabs.
 *
 * Algorithm (Bonwick & Adams 2001, "Magazines and Vmem", section 3, with
 * threads in place of CPUs): each thread has, per cache, a loaded and a
 * previous magazine (stacks of up to mag_size object pointers).
 *  alloc: pop from loaded; if empty and previous is full, swap them; else
 *         exchange the empty previous for a full magazine of the depot;
 *         else refill loaded with `batch` objects from the slab layer.
 *  free:  push on loaded; if full and previous is empty, swap; else hand
 *         previous (full) to the depot and take an empty magazine from the
 *         depot or the "kmem_magazine" cache; when the depot already holds
 *         depot_max full magazines (128 KiB of objects, clamped to [4, 32]
 *         magazines), previous is flushed to the slabs instead
 *         (this bound, with the slab layer's empty_max, bounds the memory a
 *         cache holds free: 2 * mag_size per thread + depot_max * mag_size).
 * The owner thread touches its magazines with no lock and no atomic; the
 * depot is one mutex per cache, taken once per mag_size operations at most.
 * Thread exit (pthread key destructor) hands the thread's magazines to the
 * depot or the slabs; cache destroy reclaims those of live threads through
 * the cache's registry of tcaches.
 * Cost: fast path O(1), about 15 instructions through the thread memo (no
 * pthread_getspecific); slow path O(batch) with one lock; the slab layer is
 * reached at most once per batch objects.
 * Fragmentation: objects parked in magazines are free memory the slabs
 * cannot return: bounded as above, and drained by mm_kmem_cache_shrink
 * (caller's magazines and depot) and mm_kmem_shrink_all (depots).
 */
#include <string.h>

#include "slab_internal.h"

void slab_magazine_setup(struct mm_kmem_cache *c)
{
	if (c->flags & MM_SLAB_NO_MAGAZINES) {
		c->mag_size = c->batch = c->depot_max = 0;
		return;
	}
	/* Smaller objects, bigger magazines: Linux SLAB's per-CPU array
	 * limits (enable_cpucache), batch = half of it as there. */
	if (c->size > 4096)
		c->mag_size = 8;
	else if (c->size > 1024)
		c->mag_size = 24;
	else if (c->size > 256)
		c->mag_size = 54;
	else
		c->mag_size = 120;
	c->batch = (c->mag_size + 1) / 2;
	size_t per_mag = (size_t)c->mag_size * c->size;
	c->depot_max = (unsigned)MM_MAX((size_t)SLAB_DEPOT_MIN,
					MM_MIN((size_t)SLAB_DEPOT_MAX, SLAB_DEPOT_BYTES / per_mag));
}

/* ---- magazines ---------------------------------------------------------- */

static inline bool mag_real(const struct mm_kmem_cache *c, const struct mm_magazine *m)
{
	return m != &c->kmem->nomag;
}

static struct mm_magazine *mag_alloc(struct mm_kmem_cache *c)
{
	struct mm_magazine *m = slab_alloc_direct(c->kmem->mag_cache, MM_GFP_KERNEL);
	if (m) {
		m->next = NULL;
		m->guard = NULL;
		m->rounds = 0;
		m->cap = c->mag_size;
	}
	return m;
}

static void mag_free(struct mm_kmem_cache *c, struct mm_magazine *m)
{
	slab_free_direct(c->kmem->mag_cache, m);
}

/* Give a magazine's objects back to the slabs; it becomes empty. Returns
 * the pages that went back to the page source. */
static long mag_flush(struct mm_kmem_cache *c, struct mm_magazine *m)
{
	long freed = 0;
	if (m->rounds)
		freed = slab_free_bulk(c, m->obj, m->rounds);
	m->rounds = 0;
	return freed;
}

/* Keep an empty magazine in the depot, or free it when the depot has enough. */
static void mag_put_empty(struct mm_kmem_cache *c, struct mm_magazine *m)
{
	pthread_mutex_lock(&c->depot_lock);
	if (c->nr_depot_empty < c->depot_max) {
		m->next = c->depot_empty;
		c->depot_empty = m;
		c->nr_depot_empty++;
		m = NULL;
	}
	pthread_mutex_unlock(&c->depot_lock);
	if (m)
		mag_free(c, m);
}

/* Hand a magazine (full or partly filled) to the depot if it has room,
 * else flush it to the slabs and free it. */
static void mag_retire(struct mm_kmem_cache *c, struct mm_magazine *m)
{
	if (!m->rounds) {
		mag_put_empty(c, m);
		return;
	}
	pthread_mutex_lock(&c->depot_lock);
	if (c->nr_depot_full < c->depot_max) {
		m->next = c->depot_full;
		c->depot_full = m;
		c->nr_depot_full++;
		c->depot_objs += m->rounds;
		m = NULL;
	}
	pthread_mutex_unlock(&c->depot_lock);
	if (m) {
		mag_flush(c, m);
		mag_free(c, m);
	}
}

/* Empty every magazine of the depot into the slabs and free them. Returns
 * the pages of this cache that went back to the page source. */
long slab_depot_drain(struct mm_kmem_cache *c)
{
	long freed = 0;
	pthread_mutex_lock(&c->depot_lock);
	struct mm_magazine *full = c->depot_full, *empty = c->depot_empty;
	c->depot_full = c->depot_empty = NULL;
	c->nr_depot_full = c->nr_depot_empty = 0;
	c->depot_objs = 0;
	pthread_mutex_unlock(&c->depot_lock);
	while (full) {
		struct mm_magazine *next = full->next;
		freed += mag_flush(c, full);
		mag_free(c, full);
		full = next;
	}
	while (empty) {
		struct mm_magazine *next = empty->next;
		mag_free(c, empty);
		empty = next;
	}
	return freed;
}

/* ---- per-thread state --------------------------------------------------- */

__thread struct slab_tls_ent slab_tls[1 + SLAB_TLS_VICTIMS]
	__attribute__((tls_model("initial-exec")));

static inline bool tls_match(const struct slab_tls_ent *e, const struct mm_kmem *k)
{
	return e->kmem == k && e->nonce == k->nonce;
}

/* Make k's entry the hot one (slab_tls[0]): swap it in from the victims,
 * or demote the others by one and start a fresh entry. Returns whether an
 * entry for k existed. */
static bool tls_make_hot(struct mm_kmem *k)
{
	if (tls_match(&slab_tls[0], k))
		return true;
	for (unsigned i = 1; i <= SLAB_TLS_VICTIMS; i++) {
		if (tls_match(&slab_tls[i], k)) {
			struct slab_tls_ent tmp = slab_tls[0];
			slab_tls[0] = slab_tls[i];
			slab_tls[i] = tmp;
			return true;
		}
	}
	memmove(&slab_tls[2], &slab_tls[1], (SLAB_TLS_VICTIMS - 1) * sizeof(slab_tls[0]));
	slab_tls[1] = slab_tls[0];
	slab_tls[0] = (struct slab_tls_ent){ .kmem = k, .nonce = k->nonce,
					     .leaf_base = SLAB_NO_LEAF, .leaf = k->pm_root,
					     .kmc = k->kmc_none };
	return false;
}

/* Record t (its tc array may have changed) in k's entry, made hot. */
static void tls_fill(struct mm_kmem *k, struct mm_kthread *t)
{
	tls_make_hot(k);
	struct slab_tls_ent *e = &slab_tls[0];
	e->tc = t->tc;
	e->ntc = t->ntc;
	e->kmc = t->kmc;
	e->t = t;
}

/* Forget k in this thread's memo (thread exit). */
static void tls_forget(struct mm_kmem *k)
{
	for (unsigned i = 0; i <= SLAB_TLS_VICTIMS; i++)
		if (tls_match(&slab_tls[i], k))
			slab_tls[i] = (struct slab_tls_ent){ .leaf_base = SLAB_NO_LEAF };
}

/* The hot entry missed (another instance, or the cache id is beyond this
 * thread's array): swap in a victim or ask pthread_getspecific. */
MM_NOINLINE struct mm_tcache *slab_tls_refresh(const struct mm_kmem_cache *c)
{
	struct mm_kmem *k = c->kmem;
	struct slab_tls_ent *e = &slab_tls[0];
	if (!tls_make_hot(k) || !e->t) {
		struct mm_kthread *t = pthread_getspecific(k->key);
		if (!t)
			return NULL;
		tls_fill(k, t);
	}
	return c->id < e->ntc ? e->tc[c->id] : NULL;
}

/* Sync the loaded magazine's rounds between the tcache and the magazine. */
static inline void tc_unload(struct mm_kmem_cache *c, struct mm_tcache *tc)
{
	if (tc->loaded != &c->kmem->nomag)
		tc->loaded->rounds = (uint32_t)(tc->top - tc->loaded->obj);
}

static inline void tc_load(struct mm_tcache *tc)
{
	tc->top = tc->loaded->obj + tc->loaded->rounds;
	tc->end = tc->loaded->obj + tc->loaded->cap;
}

void slab_tcache_clear(struct mm_kmem *k, struct mm_tcache *tc)
{
	tc->loaded = tc->prev = &k->nomag;
	tc_load(tc);
}

static struct mm_kthread *kthread_get(struct mm_kmem *k)
{
	struct mm_kthread *t = pthread_getspecific(k->key);
	if (t)
		return t;
	t = slab_kmalloc_internal(k, sizeof(*t));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++)
		slab_tcache_clear(k, &t->kmc[i]);
	t->kmem = k;
	if (pthread_setspecific(k->key, t) != 0) {
		slab_kfree_internal(k, t);
		return NULL;
	}
	pthread_mutex_lock(&k->thr_lock);
	mm_list_add(&t->link, &k->threads);
	k->nr_threads++;
	pthread_mutex_unlock(&k->thr_lock);
	tls_fill(k, t);
	return t;
}

/* The thread's embedded tcache for c if c is a kmalloc cache whose
 * tcaches live there (no debug checks), else NULL. */
static struct mm_tcache *kmc_slot(struct mm_kthread *t, const struct mm_kmem_cache *c)
{
	struct mm_kmem *k = c->kmem;
	unsigned cls = c->id - KMALLOC_ID0;
	if (cls < KMALLOC_NR_CLASSES && k->kmalloc[cls] == c && !k->kmalloc_debug)
		return &t->kmc[cls];
	return NULL;
}

/* Free a tcache that is on no list and in no tc[] slot any more. */
static void tcache_free(struct mm_kmem *k, struct mm_tcache *tc)
{
	struct mm_kthread *t = tc->thread;
	if (tc < t->kmc || tc >= t->kmc + KMALLOC_NR_CLASSES)
		slab_kfree_internal(k, tc);
}

static struct mm_tcache *tcache_create(struct mm_kmem_cache *c)
{
	struct mm_kmem *k = c->kmem;
	struct mm_kthread *t = kthread_get(k);
	if (!t)
		return NULL;
	if (c->id >= t->ntc) {
		unsigned n = 16;
		while (n <= c->id)
			n *= 2;
		struct mm_tcache **arr = slab_kmalloc_internal(k, n * sizeof(*arr));
		if (!arr)
			return NULL;
		memset(arr, 0, n * sizeof(*arr));
		pthread_mutex_lock(&k->thr_lock);
		struct mm_tcache **old = t->tc;
		if (t->ntc)
			memcpy(arr, old, t->ntc * sizeof(*arr));
		t->tc = arr;
		t->ntc = n;
		pthread_mutex_unlock(&k->thr_lock);
		tls_fill(k, t);
		if (old)
			slab_kfree_internal(k, old);
	}
	struct mm_tcache *tc = kmc_slot(t, c);
	if (!tc)
		tc = slab_kmalloc_internal(k, sizeof(*tc));
	if (!tc)
		return NULL;
	slab_tcache_clear(k, tc);
	tc->cache = c;
	tc->thread = t;
	pthread_mutex_lock(&k->thr_lock);
	t->tc[c->id] = tc;
	mm_list_add(&tc->reg, &c->tcaches);
	pthread_mutex_unlock(&k->thr_lock);
	return tc;
}

/* Return both magazines of tc: to the depot (to_depot) or to the slabs.
 * Returns the pages that went back to the page source. */
static long tcache_drain(struct mm_tcache *tc, bool to_depot)
{
	long freed = 0;
	struct mm_kmem_cache *c = tc->cache;
	tc_unload(c, tc);
	struct mm_magazine *mags[2] = { tc->loaded, tc->prev };
	slab_tcache_clear(c->kmem, tc);
	for (int i = 0; i < 2; i++) {
		if (!mag_real(c, mags[i]))
			continue;
		if (to_depot) {
			mag_retire(c, mags[i]);
		} else {
			freed += mag_flush(c, mags[i]);
			mag_free(c, mags[i]);
		}
	}
	return freed;
}

/* Cache destroy: take back the magazines of every thread, live or not. */
void slab_tcache_reclaim_all(struct mm_kmem_cache *c)
{
	struct mm_kmem *k = c->kmem;
	pthread_mutex_lock(&k->thr_lock);
	while (!mm_list_empty(&c->tcaches)) {
		struct mm_tcache *tc = mm_list_first_entry(&c->tcaches, struct mm_tcache, reg);
		tc->thread->tc[c->id] = NULL;
		mm_list_del(&tc->reg);
		tcache_drain(tc, false);
		tcache_free(k, tc);
	}
	pthread_mutex_unlock(&k->thr_lock);
}

/* mm_kmem_cache_shrink: the calling thread's magazines go back to the slabs. */
long slab_tcache_flush_current(struct mm_kmem_cache *c)
{
	struct mm_tcache *tc = tcache_of(c);
	return tc ? tcache_drain(tc, false) : 0;
}

static bool tcache_busy(const struct mm_kthread *t, const struct mm_tcache *tc)
{
	for (const struct slab_busy *b = t->busy; b; b = b->outer)
		if (b->tc == tc)
			return true;
	return false;
}

/* mm_kmem_shrink_all: every magazine of the calling thread goes back to
 * the slabs, except the tcaches slow paths of this thread are in the
 * middle of (the shrinker can run from inside the page source). Under
 * thr_lock: another thread may be destroying one of these caches (the
 * thread no longer uses it, but the shrinker walks them all), and destroy
 * reclaims and frees the same tcaches. Returns pages freed. */
long slab_tcache_flush_thread(struct mm_kmem *k)
{
	struct mm_kthread *t = pthread_getspecific(k->key);
	long freed = 0;
	if (!t)
		return 0;
	pthread_mutex_lock(&k->thr_lock);
	for (unsigned i = 0; i < t->ntc; i++) {
		struct mm_tcache *tc = t->tc[i];
		if (tc && !tcache_busy(t, tc))
			freed += tcache_drain(tc, false);
	}
	pthread_mutex_unlock(&k->thr_lock);
	return freed;
}

/* pthread key destructor: a thread that used the instance exits. */
void slab_kthread_destructor(void *arg)
{
	struct mm_kthread *t = arg;
	struct mm_kmem *k = t->kmem;
	pthread_mutex_lock(&k->thr_lock);
	for (unsigned i = 0; i < t->ntc; i++) {
		struct mm_tcache *tc = t->tc[i];
		if (!tc)
			continue;
		t->tc[i] = NULL;
		mm_list_del(&tc->reg);
		tcache_drain(tc, true);
		tcache_free(k, tc);
	}
	mm_list_del(&t->link);
	k->nr_threads--;
	pthread_mutex_unlock(&k->thr_lock);
	tls_forget(k);
	if (t->tc)
		slab_kfree_internal(k, t->tc);
	slab_kfree_internal(k, t);
}

/* ---- slow paths --------------------------------------------------------- */

static inline void tcache_swap(struct mm_tcache *tc)
{
	struct mm_magazine *m = tc->loaded;
	tc->loaded = tc->prev;
	tc->prev = m;
}

/* The loaded magazine is empty: make it hold objects. Returns an object (in
 * the free debug state) or NULL with nothing changed. */
static void *tcache_refill(struct mm_kmem_cache *c, struct mm_tcache *tc, mm_gfp_t gfp)
{
	struct mm_kmem *k = c->kmem;
	if (tc->prev->rounds) {
		tcache_swap(tc);
		return tc->loaded->obj[--tc->loaded->rounds];
	}
	/* Exchange with the depot: a full one in, the empty previous out. */
	pthread_mutex_lock(&c->depot_lock);
	struct mm_magazine *full = c->depot_full;
	if (full) {
		c->depot_full = full->next;
		c->nr_depot_full--;
		c->depot_objs -= full->rounds;
		if (mag_real(c, tc->prev) && c->nr_depot_empty < c->depot_max) {
			tc->prev->next = c->depot_empty;
			c->depot_empty = tc->prev;
			c->nr_depot_empty++;
			tc->prev = &k->nomag;
		}
	}
	pthread_mutex_unlock(&c->depot_lock);
	if (full) {
		if (mag_real(c, tc->prev))
			mag_free(c, tc->prev); /* depot had enough empties */
		tc->prev = tc->loaded;
		tc->loaded = full;
		return full->obj[--full->rounds];
	}
	/* Refill from the slab layer. */
	bool fresh = false, allocated = false;
	if (!mag_real(c, tc->loaded)) {
		if (mag_real(c, tc->prev)) {
			tcache_swap(tc);
		} else {
			struct mm_magazine *m = NULL;
			pthread_mutex_lock(&c->depot_lock);
			if (c->depot_empty) {
				m = c->depot_empty;
				c->depot_empty = m->next;
				c->nr_depot_empty--;
				fresh = true;
			}
			pthread_mutex_unlock(&c->depot_lock);
			if (!m) {
				m = mag_alloc(c);
				allocated = true;
			}
			if (!m) {
				void *obj;
				return slab_alloc_bulk(c, &obj, 1, gfp) ? obj : NULL;
			}
			tc->loaded = m;
		}
	}
	struct mm_magazine *m = tc->loaded;
	unsigned got = slab_alloc_bulk(c, m->obj, c->batch, gfp);
	if (!got) {
		/* Put the magazine back where it came from: nothing changed. */
		if (fresh) {
			tc->loaded = &k->nomag;
			mag_put_empty(c, m);
		} else if (allocated) {
			tc->loaded = &k->nomag;
			mag_free(c, m);
		}
		return NULL;
	}
	m->rounds = got;
	return m->obj[--m->rounds];
}

void *slab_alloc_slow(struct mm_kmem_cache *c, mm_gfp_t gfp)
{
	if (!c->mag_size)
		return slab_alloc_direct(c, gfp);
	struct mm_tcache *tc = tcache_of(c);
	if (!tc) {
		tc = tcache_create(c);
		if (!tc)
			return slab_alloc_direct(c, gfp);
	}
	tc_unload(c, tc);
	struct slab_busy busy = { tc, tc->thread->busy };
	tc->thread->busy = &busy;
	void *obj = tcache_refill(c, tc, gfp);
	tc->thread->busy = busy.outer;
	tc_load(tc);
	return obj ? slab_obj_ready(c, obj, gfp) : NULL;
}

/* The loaded magazine is full (or absent): make room, then push obj. The
 * debug free hooks have already run. */
static void tcache_make_room(struct mm_kmem_cache *c, struct mm_tcache *tc, void *obj);

void slab_free_slow(struct mm_kmem_cache *c, void *obj)
{
	if (!c->mag_size) {
		slab_free_bulk(c, &obj, 1);
		return;
	}
	struct mm_tcache *tc = tcache_of(c);
	if (!tc) {
		tc = tcache_create(c);
		if (!tc) {
			slab_free_bulk(c, &obj, 1);
			return;
		}
	}
	tc_unload(c, tc);
	struct slab_busy busy = { tc, tc->thread->busy };
	tc->thread->busy = &busy;
	tcache_make_room(c, tc, obj);
	tc->thread->busy = busy.outer;
	tc_load(tc);
}

/* slab_free_slow with the tcache unloaded: push obj somewhere. */
static void tcache_make_room(struct mm_kmem_cache *c, struct mm_tcache *tc, void *obj)
{
	struct mm_kmem *k = c->kmem;
	struct mm_magazine *loaded = tc->loaded, *prev = tc->prev, *empty = NULL;
	if (mag_real(c, prev) && prev->rounds == 0) {
		tcache_swap(tc);
		tc->loaded->obj[tc->loaded->rounds++] = obj;
		return;
	}
	/* prev is full or absent: it goes to the depot, an empty one comes in. */
	pthread_mutex_lock(&c->depot_lock);
	bool handed = false;
	if (mag_real(c, prev) && c->nr_depot_full < c->depot_max) {
		prev->next = c->depot_full;
		c->depot_full = prev;
		c->nr_depot_full++;
		c->depot_objs += prev->rounds;
		handed = true;
	}
	if ((handed || !mag_real(c, prev)) && c->depot_empty) {
		empty = c->depot_empty;
		c->depot_empty = empty->next;
		c->nr_depot_empty--;
	}
	pthread_mutex_unlock(&c->depot_lock);
	if (mag_real(c, prev) && !handed) {
		/* Depot holds enough full magazines: prev goes back to the slabs. */
		mag_flush(c, prev);
		empty = prev;
	} else if (handed) {
		tc->prev = &k->nomag;
	}
	if (!empty)
		empty = mag_alloc(c);
	if (!empty) {
		/* No magazine to be had: the loaded one goes back to the slabs. */
		if (mag_real(c, loaded)) {
			mag_flush(c, loaded);
			loaded->obj[loaded->rounds++] = obj;
		} else {
			slab_free_bulk(c, &obj, 1);
		}
		return;
	}
	tc->prev = loaded;
	tc->loaded = empty;
	empty->obj[empty->rounds++] = obj;
}
