/* tcache.h — per-thread caches of free chunks: the lock-free fast path.
 *
 * Each thread owns TC_NBINS singly linked stacks of chunks of one size each
 * (32, 48, ..., 4112 bytes: requests up to 4104 bytes), in initial-exec TLS
 * so that reaching them costs one segment-relative load and nothing is
 * allocated to set them up. A cached chunk stays marked in use in its arena;
 * its first word links the stack and its second holds mm_tc_key, which lets
 * free() notice a chunk that is already cached (double free).
 *
 * Only chunks of the thread's own arena are cached for reuse: a chunk of
 * another arena goes on the remote list, which is given back to the
 * owners every TC_REMOTE_MAX frees without taking their locks (pushed on
 * each arena's xfree stack, drained by its next lock holder), so that a
 * block allocated by one thread and freed by another is not handed out
 * again next to its old neighbours' owner (false sharing, cache-scratch)
 * and memory does not drift between arenas.
 *
 * Invariants: count[i] = length of head[i] <= limit[i]; every chunk on
 * head[i] has size (i + 2) * 16 and belongs to the thread's arena;
 * nremote = length of remote < TC_REMOTE_MAX; bytes = total size of the
 * chunks on head[], kept under TC_BUDGET so a thread never hoards more
 * than that. limit[] is all zero until the thread has
 * registered its exit handler (so a thread that only frees cannot strand
 * chunks in its cache) and again once the thread has exited.
 * Only the owning thread touches its cache.
 */
#ifndef MMALLOC_TCACHE_H
#define MMALLOC_TCACHE_H

#include "malloc_internal.h"

#define TC_NBINS     256
#define TC_MAX_CHUNK ((size_t)(TC_NBINS + 1) * MALLOC_ALIGN)   /* 4112 */
#define TC_MAX_REQ   (TC_MAX_CHUNK - SIZE_SZ)                   /* 4104 */
#define TC_BUDGET_DEFAULT ((size_t)512 * 1024)  /* bytes one thread may cache */
#define TC_BUDGET    mm_tc_budget

enum { TC_NEW = 0, TC_ACTIVE = 1, TC_DEAD = 2 };

struct tc_entry {
	struct tc_entry *next;
	uintptr_t key;                /* mm_tc_key while cached */
};

struct tcache {
	struct tc_entry *head[TC_NBINS];
	uint16_t count[TC_NBINS];
	uint16_t limit[TC_NBINS];
	size_t bytes;                 /* sum of cached chunk sizes */
	int state;                    /* TC_NEW, TC_ACTIVE, TC_DEAD */
	unsigned nremote;             /* length of remote */
	struct tc_entry *remote;      /* freed blocks of other arenas, on their
					 way back (never reused here) */
};

extern MM_TLS struct tcache mm_tc;
extern uintptr_t mm_tc_key;
extern uint16_t mm_tc_cap[TC_NBINS];
extern size_t mm_tc_budget;     /* MMALLOC_TCACHE_BUDGET, set at init */


/* Cache index of a request of n bytes (n <= TC_MAX_REQ). */
static inline unsigned tc_index(size_t n)
{
	size_t u = (n + SIZE_SZ + MALLOC_ALIGN_MASK) >> 4;
	return u < 2 ? 0 : (unsigned)(u - 2);
}

/* Pop a cached chunk for request n, or NULL. */
static inline void *tc_get(size_t n)
{
	if (mm_likely(n <= TC_MAX_REQ)) {
		unsigned i = tc_index(n);
		struct tc_entry *e = mm_tc.head[i];
		if (mm_likely(e != NULL)) {
			mm_tc.head[i] = e->next;
			mm_tc.count[i]--;
			mm_tc.bytes -= (size_t)(i + 2) * MALLOC_ALIGN;
			e->key = 0;
			return e;
		}
	}
	return NULL;
}

void mm_tc_double_free_check(struct tc_entry *e, unsigned i);

/* Push mem (a non-mmapped chunk of the thread's arena) on the cache if it
 * has room; 1 if done. */
static inline int tc_put(void *mem, size_t csize)
{
	size_t i = (csize >> 4) - 2;
	if (i < TC_NBINS && mm_likely(aligned_ok(mem))) {
		struct tc_entry *e = mem;
		if (mm_unlikely(e->key == mm_tc_key))
			mm_tc_double_free_check(e, (unsigned)i);
		if (mm_likely(mm_tc.count[i] < mm_tc.limit[i] &&
			      mm_tc.bytes + csize <= TC_BUDGET)) {
			e->next = mm_tc.head[i];
			e->key = mm_tc_key;
			mm_tc.head[i] = e;
			mm_tc.count[i]++;
			mm_tc.bytes += csize;
			return 1;
		}
	}
	return 0;
}

/* Slow paths (tcache.c). */
/* Allocate a chunk of size nb <= TC_MAX_CHUNK and fill its cache bin
 * with spares; NULL with errno = ENOMEM on failure. */
void *mm_tc_refill(size_t nb);
/* Everything free() does with a chunk of cache size that the inline
 * path did not: registering the thread, double-free checks, a chunk of
 * another arena (remote list, given back in batches), a full bin or byte
 * budget. 0 if the chunk must go to its arena instead. */
int mm_tc_free_slow(void *mem, size_t csize);
#define TC_REMOTE_MAX 64    /* remote blocks held before they are given back */
void mm_tc_flush_all(void);
/* No caching from now on for threads that register later, nor for the
 * calling thread (M_PERTURB needs every block to pass the slow paths). */
void mm_tc_close(void);

#endif
