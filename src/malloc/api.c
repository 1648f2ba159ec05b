/* api.c — the mmalloc_* entry points: the thread-cache fast paths and the
 * glibc-compatible edge cases (errno, overflow, malloc(0), realloc(p, 0),
 * alignment rules).
 *
 * Algorithm: requests up to 4104 bytes are served from the calling
 * thread's cache without a lock (tcache.h); a miss refills the cache in a
 * batch from the thread's arena, whose slab spans hold these sizes
 * (slab.c). Larger requests lock the arena and run
 * the bins (malloc.c); requests at or above the mmap threshold go straight
 * to mmap without taking any lock.
 * Cost: a cache hit is about ten instructions; see malloc.c and tcache.c
 * for the rest.
 * Reference: glibc malloc/malloc.c (__libc_malloc, __libc_free,
 * __libc_realloc, _mid_memalign, __libc_calloc).
 */
#include <errno.h>
#include <string.h>

#include "malloc_internal.h"
#include "tcache.h"

/* ---- malloc ---- */

static void *arena_malloc(size_t nb)
{
	if (nb >= MP_GET(mmap_threshold) &&
	    __atomic_load_n(&mm_mp.n_mmaps, __ATOMIC_RELAXED) < (size_t)MP_GET(n_mmaps_max)) {
		void *m = mm_sysmalloc_mmap(nb, 0);
		if (m)
			return m;
	}
	struct mm_arena *av = mm_arena_get();
	mm_lock(av);
	mm_arena_drain(av);
	void *m = mm_int_malloc(av, nb);
	mm_unlock(av);
	if (!m) {
		av = mm_arena_retry(av, nb);
		if (av) {
			mm_lock(av);
			m = mm_int_malloc(av, nb);
			mm_unlock(av);
		}
	}
	if (!m)
		errno = ENOMEM;
	return m;
}

static MM_NOINLINE void *malloc_slow(size_t n)
{
	mm_ensure_init();
	size_t nb = request2size(n);
	if (mm_unlikely(nb == 0)) {
		errno = ENOMEM;
		return NULL;
	}
	void *m;
	if (nb <= TC_MAX_CHUNK) {
		m = mm_tc_refill(tc_round(nb));
	} else {
		size_t round = nb;
		m = nb <= TC_MED_MAX ? mm_tc_med_get(nb, &round) : NULL;
		/* rounded up to the class only below the mmap threshold: what
		 * is mmap-ed stays the requests glibc would mmap */
		if (!m)
			m = arena_malloc(round < MP_GET(mmap_threshold) ? round : nb);
	}
	int perturb = MP_GET(perturb);
	if (mm_unlikely(perturb) && m)
		memset(m, perturb ^ 0xff, n);   /* glibc's M_PERTURB fill */
	return m;
}

extern uint64_t mm_req_bytes, mm_chunk_bytes;

static MM_NOINLINE void note_request(size_t n, void *m)
{
	if (!m)
		return;
	__atomic_add_fetch(&mm_req_bytes, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mm_chunk_bytes, chunksize(mem2chunk(m)), __ATOMIC_RELAXED);
}

/* Everything but a plain cache hit: a miss, or statistics to record. */
MM_NOINLINE void *mm_malloc_tail(size_t n, void *m)
{
	if (!m)
		m = malloc_slow(n);
	if (mm_stats_requested)
		note_request(n, m);
	return m;
}

void *mmalloc_malloc(size_t n)
{
	void *m = tc_get(n);
	if (mm_likely(m != NULL) && mm_likely(!mm_stats_requested))
		return m;
	return mm_malloc_tail(n, m);
}

/* ---- free ---- */

MM_NOINLINE void mm_free_slow(struct mchunk *p, void *mem)
{
	mm_check_free_ptr(p, mem);
	size_t size = chunksize(p);
	uintptr_t key = ((struct tc_entry *)mem)->key;
	if (key == mm_slab_key)
		mm_slab_double_free_check(p);   /* free in its span or on xfree? */
	else if (key == mm_tc_key && size > TC_MAX_CHUNK && !chunk_is_mmapped(p))
		mm_tc_med_double_free_check(mem, size);
	int perturb = MP_GET(perturb);
	if (mm_unlikely(perturb))
		memset(mem, perturb, chunk_is_mmapped(p) ? size - CHUNK_HDR_SZ : size - SIZE_SZ);
	if (chunk_is_mmapped(p)) {
		if (!MP_GET(no_dyn_threshold) && size > MP_GET(mmap_threshold) &&
		    size <= DEFAULT_MMAP_THRESHOLD_MAX) {
			MP_SET(mmap_threshold, size);
			MP_SET(trim_threshold, 2 * size);
		}
		mm_munmap_chunk(p);
		return;
	}
	if (size <= TC_MAX_CHUNK ? mm_tc_free_slow(mem, size) : mm_tc_med_put(mem, size))
		return;
	struct mm_arena *av = arena_for_chunk(p);
	struct mm_arena *own = mm_thread_arena;
	if (own != NULL && av != own && __atomic_load_n(&av->attached, __ATOMIC_RELAXED)) {
		/* another thread's arena (so several threads run: the lock is
		 * real). Free it now if its lock is free (its owner may be idle
		 * for long: the memory must go back, and top be trimmed), with
		 * what waits on the stack; else leave it on its xfree stack
		 * rather than wait for the owner, who gives it back at its next
		 * allocation (mm_arena_drain) */
		if (pthread_mutex_trylock(&av->lock) == 0) {
			mm_arena_drain(av);
			mm_int_free_locked(av, p);
			pthread_mutex_unlock(&av->lock);
			return;
		}
		struct mm_xfree *x = mem;
		x->key = mm_slab_key;   /* a second free takes the checked path */
		x->skip = NULL;
		mm_arena_push_xfree(av, x, x);
		return;
	}
	mm_lock(av);
	mm_int_free_locked(av, p);
	mm_unlock(av);
}

void mmalloc_free(void *mem)
{
	if (mm_unlikely(mem == NULL))
		return;
	if (!tc_free_fast(mem))
		mm_free_slow(mem2chunk(mem), mem);
}

/* ---- calloc ---- */

void *mmalloc_calloc(size_t nmemb, size_t size)
{
	size_t total;
	if (mm_unlikely(__builtin_mul_overflow(nmemb, size, &total))) {
		errno = ENOMEM;
		return NULL;
	}
	mm_mcache_dirty = 0;
	void *m = mmalloc_malloc(total);
	if (!m)
		return NULL;
	/* fresh mappings are already zero (unless M_PERTURB filled them or
	 * the mapping was a cached one) */
	if (!chunk_is_mmapped(mem2chunk(m)) || MP_GET(perturb) || mm_mcache_dirty)
		memset(m, 0, total);
	return m;
}

/* ---- realloc ---- */

/* Resize an mmap-ed chunk in place or by moving its mapping. */
static void *realloc_mmapped(struct mchunk *p, size_t nb)
{
	size_t ps = mm_mp.pagesize;
	size_t front = p->prev_size;
	size_t total = front + chunksize(p);
	size_t newlen = MM_ALIGN_UP(nb + front + SIZE_SZ, ps);
	if (newlen == total)
		return chunk2mem(p);
	char *base = mm_os_remap((char *)p - front, total, newlen);
	if (!base)
		return NULL;
	struct mchunk *np = (struct mchunk *)(base + front);
	np->size = (newlen - front) | IS_MMAPPED;
	if (newlen > total) {
		size_t m = __atomic_add_fetch(&mm_mp.mmapped_mem, newlen - total, __ATOMIC_RELAXED);
		size_t old = __atomic_load_n(&mm_mp.max_mmapped_mem, __ATOMIC_RELAXED);
		if (m > old)
			__atomic_store_n(&mm_mp.max_mmapped_mem, m, __ATOMIC_RELAXED);
	} else {
		__atomic_sub_fetch(&mm_mp.mmapped_mem, total - newlen, __ATOMIC_RELAXED);
	}
	return chunk2mem(np);
}

/* Resize chunk p of arena av in place if its neighbours allow; else move
 * it within the arena. Caller holds av->lock. NULL if no memory. */
static void *int_realloc(struct mm_arena *av, struct mchunk *p, size_t nb)
{
	size_t aflag = av->is_main ? 0 : NON_MAIN_ARENA;
	size_t oldsize = chunksize(p);
	struct mchunk *next = chunk_at(p, oldsize);
	size_t newsize = oldsize;

	if (mm_unlikely(!prev_inuse(next)))
		mm_fatal("realloc(): invalid old size", chunk2mem(p));
	if (oldsize < nb) {
		if (next == av->top && oldsize + chunksize(next) >= nb + MINSIZE) {
			size_t tsize = oldsize + chunksize(next);
			p->size = nb | (p->size & PREV_INUSE) | aflag;
			struct mchunk *top = chunk_at(p, nb);
			top->size = (tsize - nb) | PREV_INUSE | aflag;
			mm_set_top(av, top);
			return chunk2mem(p);
		}
		if (next != av->top && chunksize(next) >= MINSIZE && !inuse(next) &&
		    oldsize + chunksize(next) >= nb) {
			newsize = oldsize + chunksize(next);
			mm_unlink_chunk(av, next);
			set_inuse_at(p, newsize);
			p->size = newsize | (p->size & PREV_INUSE) | aflag;
		} else {
			void *nm = mm_int_malloc(av, nb);
			if (!nm)
				return NULL;
			memcpy(nm, chunk2mem(p), oldsize - SIZE_SZ);
			mm_int_free_locked(av, p);
			return nm;
		}
	}
	/* split off the tail if it can stand as a chunk */
	if (newsize - nb >= MINSIZE) {
		struct mchunk *rem = chunk_at(p, nb);
		p->size = nb | (p->size & PREV_INUSE) | aflag;
		rem->size = (newsize - nb) | PREV_INUSE | aflag;
		set_inuse_at(rem, newsize - nb);
		mm_int_free_locked(av, rem);
	}
	return chunk2mem(p);
}

void *mmalloc_realloc(void *mem, size_t n)
{
	if (mem == NULL)
		return mmalloc_malloc(n);
	if (n == 0) {
		mmalloc_free(mem);
		return NULL;
	}
	struct mchunk *p = mem2chunk(mem);
	size_t oldsize = chunksize(p);
	if (mm_unlikely(!aligned_ok(mem) || (uintptr_t)p > (uintptr_t)0 - oldsize ||
			oldsize < MINSIZE))
		mm_fatal("realloc(): invalid pointer", mem);
	size_t nb = request2size(n);
	if (nb == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (chunk_is_mmapped(p)) {
		void *r = realloc_mmapped(p, nb);
		if (r)
			return r;
		if (oldsize - SIZE_SZ >= nb)
			return mem;        /* shrinking that could not remap: keep */
		void *nm = mmalloc_malloc(n);
		if (!nm)
			return NULL;
		memcpy(nm, mem, oldsize - CHUNK_HDR_SZ);
		mm_munmap_chunk(p);
		return nm;
	}
	/* small enough to stay: the usable size already covers n */
	if (nb <= oldsize && oldsize - nb < MINSIZE)
		return mem;
	/* a slab block cannot grow or give back its tail: it stays while
	 * it is at most half empty, else it moves */
	if (chunk_is_slab(p) && nb <= oldsize && nb >= oldsize / 2)
		return mem;
	/* both sizes cached: move through the thread cache, no lock */
	if (oldsize <= TC_MAX_CHUNK && nb <= TC_MAX_CHUNK) {
		void *nm = tc_get(n);
		if (nm) {
			size_t keep = oldsize - SIZE_SZ;
			memcpy(nm, mem, keep < n ? keep : n);
			mmalloc_free(mem);
			return nm;
		}
	}
	void *r = NULL;
	if (!chunk_is_slab(p)) {
		struct mm_arena *av = arena_for_chunk(p);
		mm_lock(av);
		r = int_realloc(av, p, nb);
		mm_unlock(av);
	}
	if (r)
		return r;
	/* a slab block, or the arena is exhausted: anywhere else will do */
	void *nm = mmalloc_malloc(n);
	if (!nm)
		return NULL;
	memcpy(nm, mem, oldsize - SIZE_SZ < n ? oldsize - SIZE_SZ : n);
	mmalloc_free(mem);
	return nm;
}

void *mmalloc_reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return mmalloc_realloc(p, total);
}

/* ---- aligned allocation ---- */

static void *mid_memalign(size_t align, size_t n)
{
	if (align <= MALLOC_ALIGN)
		return mmalloc_malloc(n);
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (!MM_IS_POW2(align)) {
		size_t a = MINSIZE;
		while (a < align)
			a <<= 1;
		align = a;
	}
	mm_ensure_init();
	size_t nb = request2size(n);
	if (nb == 0 || nb > SIZE_MAX / 4 - align) {
		errno = ENOMEM;
		return NULL;
	}
	if (nb >= MP_GET(mmap_threshold)) {
		void *m = mm_sysmalloc_mmap(nb, align);
		if (m)
			return m;
	}
	struct mm_arena *av = mm_arena_get();
	mm_lock(av);
	void *m = mm_int_memalign(av, align, nb);
	mm_unlock(av);
	if (!m) {
		av = mm_arena_retry(av, nb);
		if (av) {
			mm_lock(av);
			m = mm_int_memalign(av, align, nb);
			mm_unlock(av);
		}
	}
	if (!m)
		errno = ENOMEM;
	return m;
}

void *mmalloc_memalign(size_t align, size_t n)
{
	return mid_memalign(align, n);
}

int mmalloc_posix_memalign(void **out, size_t align, size_t n)
{
	if (align % sizeof(void *) != 0 || !MM_IS_POW2(align / sizeof(void *)))
		return EINVAL;
	void *m = mid_memalign(align, n);
	if (!m)
		return ENOMEM;      /* errno is ENOMEM too, as glibc leaves it */
	*out = m;
	return 0;
}

/* As glibc 2.36 (Debian 12's): memalign's rules, a non-power-of-two
 * alignment rounded up (glibc 2.38 returns EINVAL instead). */
void *mmalloc_aligned_alloc(size_t align, size_t n)
{
	return mmalloc_memalign(align, n);
}

void *mmalloc_valloc(size_t n)
{
	mm_ensure_init();
	return mid_memalign(mm_mp.pagesize, n);
}

void *mmalloc_pvalloc(size_t n)
{
	mm_ensure_init();
	size_t ps = mm_mp.pagesize;
	if (n > SIZE_MAX - 2 * ps) {
		errno = ENOMEM;
		return NULL;
	}
	return mid_memalign(ps, MM_ALIGN_UP(n, ps));
}

size_t mmalloc_usable_size(const void *mem)
{
	if (!mem)
		return 0;
	const struct mchunk *p = mem2chunk(mem);
	if (chunk_is_mmapped(p))
		return chunksize(p) - CHUNK_HDR_SZ;
	if (chunk_is_slab(p))
		return chunksize(p) - SIZE_SZ;
	if (inuse(p))
		return chunksize(p) - SIZE_SZ;
	return 0;
}

/* ---- trimming ---- */

/* Return the whole pages inside free chunks to the system. */
static int release_free_pages(struct mm_arena *av)
{
	size_t ps = mm_mp.pagesize;
	int released = 0;
	for (unsigned i = 1; i < NBINS; i++) {
		struct mlink *b = bin_at(av, i);
		for (struct mlink *l = b->fd; l != b; l = l->fd) {
			struct mchunk *p = link2chunk(l);
			uintptr_t start = MM_ALIGN_UP((uintptr_t)p + sizeof(struct mchunk), ps);
			uintptr_t end = MM_ALIGN_DOWN((uintptr_t)p + chunksize(p), ps);
			if (end > start) {
				mm_os_dontneed((void *)start, end - start);
				mm_os_note_trimmed(end - start);
				released = 1;
			}
		}
	}
	return released;
}

int mmalloc_trim(size_t pad)
{
	mm_ensure_init();
	mm_tc_flush_med();   /* the calling thread's cached medium chunks */
	int released = 0;
	for (struct mm_arena *a = &mm_main_arena; a;
	     a = __atomic_load_n(&a->next, __ATOMIC_ACQUIRE)) {
		mm_lock(a);
		mm_arena_drain(a);
		released |= mm_slab_release_empty(a);
		if (a->have_fastchunks)
			mm_consolidate(a);
		if (a->top) {
			if (a->is_main)
				released |= mm_systrim_locked(a, pad);
			else
				released |= mm_heap_trim_locked(a, pad);
		}
		released |= release_free_pages(a);
		mm_unlock(a);
	}
	released |= mm_mcache_flush();
	return released;
}
