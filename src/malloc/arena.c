/* arena.c — arenas, the heaps of non-main arenas, thread attachment and
 * fork handling.
 *
 * Algorithm (glibc's ptmalloc2 arenas): the main arena grows with brk; every
 * other arena lives in heaps, each a HEAP_MAX_SIZE (64 MiB) aligned
 * reservation whose used part is made read-write with mprotect as it grows,
 * so the heap header of any chunk is found by masking its address
 * (heap_for_ptr). A thread takes an arena on its first allocation: the main
 * arena for the first thread, then a free arena (one whose threads have
 * exited), then a new one while there are fewer than M_ARENA_MAX (default
 * 8 x cores), and beyond that an existing one chosen round-robin, preferring
 * one whose lock is free.
 *
 * Cost: attaching is once per thread (one list lock); growing a heap is one
 * mprotect; shrinking one madvise; a whole empty heap is unmapped.
 * Fragmentation: each arena has its own free lists, so memory freed in one
 * arena cannot serve another (the price of low contention), and
 * per-arena tops are trimmed separately.
 * Reference: glibc malloc/arena.c (new_heap, grow_heap, heap_trim,
 * arena_get2, reused_arena).
 */
#define _GNU_SOURCE
#include <string.h>

#include "malloc_internal.h"

pthread_mutex_t mm_list_lock = PTHREAD_MUTEX_INITIALIZER;
int mm_narenas = 1;
MM_TLS struct mm_arena *mm_thread_arena;

/* list_lock: arenas with no thread; the main arena waits here for the
 * first thread that allocates. */
static struct mm_arena *free_list = &mm_main_arena;
static struct mm_arena *next_reuse;  /* list_lock: round-robin cursor */

/* ---- Arena setup ---- */

/* Arena locks are held for short stretches: spin a little before
 * sleeping (glibc's adaptive mutex), which saves futex calls when two
 * threads meet on one arena. */
static void arena_lock_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &at);
	pthread_mutexattr_destroy(&at);
}

void mm_arena_init(struct mm_arena *av, int is_main)
{
	for (unsigned i = 0; i < NBINS; i++) {
		av->bins[i].fd = &av->bins[i];
		av->bins[i].bk = &av->bins[i];
	}
	av->is_main = is_main != 0;
	if (!is_main)
		arena_lock_init(&av->lock);
}

/* ---- Heaps of non-main arenas ---- */

/* A new heap with at least `size` bytes usable after its header, made
 * read-write up to size + top_pad (rounded to pages); NULL on failure. */
struct mm_heap *mm_heap_new(size_t size, size_t top_pad)
{
	size_t ps = mm_mp.pagesize;
	if (size + top_pad < size || size > HEAP_MAX_SIZE)
		return NULL;
	size_t want = size + top_pad;
	if (want < HEAP_MIN_SIZE)
		want = HEAP_MIN_SIZE;
	else if (want > HEAP_MAX_SIZE)
		want = HEAP_MAX_SIZE;
	want = MM_ALIGN_UP(want, ps);
	if (want > HEAP_MAX_SIZE)
		return NULL;

	char *raw = mm_os_reserve(2 * HEAP_MAX_SIZE);
	if (!raw)
		return NULL;
	char *start = (char *)MM_ALIGN_UP((uintptr_t)raw, HEAP_MAX_SIZE);
	size_t lead = (size_t)(start - raw);
	if (lead)
		mm_os_unmap(raw, lead);
	mm_os_unmap(start + HEAP_MAX_SIZE, HEAP_MAX_SIZE - lead);
	if (mm_os_commit(start, want) != 0) {
		mm_os_unmap(start, HEAP_MAX_SIZE);
		return NULL;
	}
	struct mm_heap *h = (struct mm_heap *)start;
	h->ar = NULL;
	h->prev = NULL;
	h->size = want;
	h->mprotect_size = want;
	h->first = (struct mchunk *)(start + HEAP_HDR_SZ);
	h->kind = SEG_HEAP;
	return h;
}

/* Grow heap h by at least diff bytes; 0 or -1 (heap full, or no memory). */
int mm_heap_grow(struct mm_heap *h, size_t diff)
{
	size_t ps = mm_mp.pagesize;
	size_t new_size = MM_ALIGN_UP(h->size + diff, ps);
	if (diff > HEAP_MAX_SIZE || new_size > HEAP_MAX_SIZE)
		return -1;
	if (new_size > h->mprotect_size) {
		if (mm_os_commit((char *)h + h->mprotect_size, new_size - h->mprotect_size) != 0)
			return -1;
		h->mprotect_size = new_size;
	}
	h->size = new_size;
	return 0;
}

/* Give back the last `diff` bytes of heap h (pages stay mapped but are
 * dropped from memory). */
static void heap_shrink(struct mm_heap *h, size_t diff)
{
	size_t new_size = h->size - diff;
	mm_os_dontneed((char *)h + new_size, diff);
	mm_os_note_trimmed(diff);
	h->size = new_size;
}

/* Trim a non-main arena: drop whole heaps that hold nothing but the top
 * chunk, then shrink the newest heap's top down to `pad` spare bytes.
 * Caller holds av->lock. Returns 1 if memory was released. */
int mm_heap_trim_locked(struct mm_arena *av, size_t pad)
{
	size_t ps = mm_mp.pagesize;
	int released = 0;
	struct mm_heap *h = av->heap;
	size_t aflag = NON_MAIN_ARENA;

	while (h->prev && av->top == h->first) {
		struct mm_heap *prev = h->prev;
		/* the previous heap ends with two fenceposts (retire_top: f2
		 * in the last 16 bytes, f1 of 16 or 32 bytes before it, its
		 * size in f2's prev_size); the chunk before them becomes the
		 * new top together with them */
		struct mchunk *f2 = (struct mchunk *)((char *)prev + prev->size - FENCEPOST_SZ);
		size_t f1size = f2->prev_size;
		if (mm_unlikely((f1size != FENCEPOST_SZ && f1size != 2 * FENCEPOST_SZ) ||
				chunksize(f2) != FENCEPOST_SZ))
			mm_fatal("heap_trim(): corrupted fencepost", f2);
		struct mchunk *fence = (struct mchunk *)((char *)f2 - f1size);
		if (mm_unlikely(chunksize(fence) != f1size))
			mm_fatal("heap_trim(): corrupted fencepost", fence);
		struct mchunk *ntop = fence;
		size_t nsize = f1size + FENCEPOST_SZ;
		if (!prev_inuse(fence)) {
			struct mchunk *q = prev_chunk(fence);
			if (chunksize(q) != fence->prev_size)
				mm_fatal("heap_trim(): corrupted fencepost", fence);
			mm_unlink_chunk(av, q);
			ntop = q;
			nsize += chunksize(q);
		}
		av->system_mem -= h->size;
		mm_os_note_trimmed(h->size);
		mm_os_unmap(h, HEAP_MAX_SIZE);
		av->heap = prev;
		ntop->size = nsize | PREV_INUSE | aflag;
		mm_set_top(av, ntop);
		h = prev;
		released = 1;
	}

	size_t top_size = chunksize(av->top);
	if (top_size < MINSIZE + 1 + pad)
		return released;
	size_t extra = MM_ALIGN_DOWN(top_size - MINSIZE - 1 - pad, ps);
	if (extra == 0 || extra < MP_GET(trim_threshold))
		return released;
	/* the top must end at the heap's end */
	if ((char *)av->top + top_size != (char *)h + h->size)
		return released;
	heap_shrink(h, extra);
	av->system_mem -= extra;
	av->top->size = (top_size - extra) | PREV_INUSE | aflag;
	return 1;
}

/* ---- Choosing an arena for a thread ---- */

static size_t arena_limit(void)
{
	int m = MP_GET(arena_max);
	if (m > 0)
		return (size_t)m;
	size_t n = (size_t)mm_os_ncpus() * 8;
	size_t t = (size_t)MP_GET(arena_test);
	return n > t ? n : t;
}

/* A new arena in a new heap, linked into the list; NULL on failure.
 * Caller holds list_lock. */
static struct mm_arena *arena_new_locked(void)
{
	size_t asz = MM_ALIGN_UP(sizeof(struct mm_arena), MALLOC_ALIGN);
	struct mm_heap *h = mm_heap_new(HEAP_HDR_SZ + asz + MINSIZE, MP_GET(top_pad));
	if (!h)
		return NULL;
	struct mm_arena *av = (struct mm_arena *)((char *)h + HEAP_HDR_SZ);
	memset(av, 0, sizeof(*av));
	mm_arena_init(av, 0);
	h->ar = av;
	h->first = (struct mchunk *)((char *)av + asz);
	av->heap = h;
	mm_set_top(av, h->first);
	av->top->size = (h->size - HEAP_HDR_SZ - asz) | PREV_INUSE | NON_MAIN_ARENA;
	av->system_mem = av->max_system_mem = h->size;
	av->index = mm_narenas++;
	/* publish: append to the list (readers walk it without list_lock) */
	struct mm_arena *last = &mm_main_arena;
	while (last->next)
		last = last->next;
	__atomic_store_n(&last->next, av, __ATOMIC_RELEASE);
	return av;
}

/* Pick an existing arena round-robin, preferring an unlocked one. */
static struct mm_arena *arena_reuse_locked(void)
{
	struct mm_arena *start = next_reuse ? next_reuse : &mm_main_arena;
	struct mm_arena *a = start;
	do {
		if (pthread_mutex_trylock(&a->lock) == 0) {
			pthread_mutex_unlock(&a->lock);
			break;
		}
		a = a->next ? a->next : &mm_main_arena;
	} while (a != start);
	next_reuse = a->next ? a->next : &mm_main_arena;
	return a;
}

struct mm_arena *mm_arena_get_slow(void)
{
	mm_ensure_init();
	struct mm_arena *a = NULL;
	pthread_mutex_lock(&mm_list_lock);
	if (free_list) {
		a = free_list;
		free_list = a->next_free;
		a->next_free = NULL;
	} else if ((size_t)mm_narenas < arena_limit()) {
		a = arena_new_locked();
	}
	if (!a)
		a = arena_reuse_locked();
	/* atomic: free() of other threads reads it without the lock */
	__atomic_add_fetch(&a->attached, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mm_list_lock);
	mm_thread_arena = a;
	mm_thread_arm_exit();   /* hand the arena back when the thread ends */
	return a;
}

/* The calling thread is exiting: its arena may be handed to a new thread. */
void mm_arena_thread_detach(void)
{
	struct mm_arena *a = mm_thread_arena;
	if (!a)
		return;
	pthread_mutex_lock(&mm_list_lock);
	if (a->attached > 0 && __atomic_sub_fetch(&a->attached, 1, __ATOMIC_RELAXED) == 0) {
		a->next_free = free_list;
		free_list = a;
	}
	pthread_mutex_unlock(&mm_list_lock);
}

struct mm_arena *mm_arena_retry(struct mm_arena *av, size_t bytes)
{
	(void)bytes;
	if (!av->is_main)
		return &mm_main_arena;
	struct mm_arena *a = __atomic_load_n(&mm_main_arena.next, __ATOMIC_ACQUIRE);
	if (a)
		return a;
	pthread_mutex_lock(&mm_list_lock);
	a = arena_new_locked();
	pthread_mutex_unlock(&mm_list_lock);
	return a;
}

/* ---- fork: hold every lock across fork so the child's heap is whole ---- */

void mm_fork_prepare(void)
{
	if (__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) != 2)
		return;
	mm_debug_fork_prepare();
	pthread_mutex_lock(&mm_list_lock);
	for (struct mm_arena *a = &mm_main_arena; a; a = a->next)
		pthread_mutex_lock(&a->lock);
	mm_mcache_fork_prepare();
}

void mm_fork_parent(void)
{
	if (__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) != 2)
		return;
	mm_mcache_fork_parent();
	for (struct mm_arena *a = &mm_main_arena; a; a = a->next)
		pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&mm_list_lock);
	mm_debug_fork_parent();
}

void mm_fork_child(void)
{
	if (__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) != 2)
		return;
	mm_mcache_fork_child();
	/* Only the forking thread exists now: every other arena is free. */
	free_list = NULL;
	/* mm_fork_prepare took every lock in this very thread, which is the
	 * child's only one: it releases them (initialising a locked mutex
	 * again is undefined, and ThreadSanitizer then still sees it held) */
	for (struct mm_arena *a = &mm_main_arena; a; a = a->next) {
		pthread_mutex_unlock(&a->lock);
		if (a == mm_thread_arena) {
			__atomic_store_n(&a->attached, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&a->attached, 0, __ATOMIC_RELAXED);
			a->next_free = free_list;
			free_list = a;
		}
	}
	/* the main arena is handed out first only while it has no thread */
	pthread_mutex_unlock(&mm_list_lock);
	mm_debug_fork_child();
}
