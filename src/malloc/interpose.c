/* interpose.c — the C library's allocation symbols, forwarding to the core.
 *
 * This is the only file of libmmalloc.so that defines malloc, free, ...;
 * the core (mmalloc_core) never does, so tests can link the core into a
 * program that keeps its own allocator (and run it under ASan/TSan).
 * glibc routes its own internal allocations (stdio, dlopen, the dynamic
 * loader after start-up) through these public symbols, and libstdc++'s
 * operator new calls malloc, so defining them replaces the allocator of the
 * whole process. In debug mode (MMALLOC_CHECK=1 at start-up, or
 * libmmalloc-debug.so) every call goes to the checking layer instead.
 */
#include <errno.h>
#include <stdlib.h>

#include "mmkit/mmalloc.h"
#include "malloc_internal.h"
#include "tcache.h"

#define EXPORT __attribute__((visibility("default")))

/* Is debug mode on? Decided once, at initialisation, before the first
 * block is handed out, so every block is released by the layer that made
 * it. A nested call while initialising (mode still unknown) takes the
 * plain path. */
#ifndef MMALLOC_DEBUG_DEFAULT
static MM_NOINLINE int debug_on_slow(void)
{
	int m = __atomic_load_n(&mm_debug_mode, __ATOMIC_RELAXED);
	if (m < 0) {
		mm_init_slow();
		m = __atomic_load_n(&mm_debug_mode, __ATOMIC_RELAXED);
	}
	return m > 0;
}
#endif

static inline int debug_on(void)
{
#ifdef MMALLOC_DEBUG_DEFAULT
	return 1;
#else
	if (mm_likely(__atomic_load_n(&mm_debug_mode, __ATOMIC_RELAXED) == 0))
		return 0;
	return debug_on_slow();
#endif
}
#define DBG mm_unlikely(debug_on())

#ifdef MMALLOC_DEBUG_DEFAULT
EXPORT void *malloc(size_t n)
{
	return mmalloc_dbg_malloc(n);
}

EXPORT void free(void *p)
{
	mmalloc_dbg_free(p);
}
#else
/* malloc and free take the thread cache's fast paths first, without
 * testing the mode: in debug mode no thread caches anything (tcache.c,
 * tc_register), so a hit means plain mode and a debug block always falls
 * through to the test. Saves a call and a load on every malloc and free. */
EXPORT void *malloc(size_t n)
{
	void *m = tc_get(n);
	if (mm_likely(m != NULL) && mm_likely(!mm_stats_requested))
		return m;
	if (!m && DBG)
		return mmalloc_dbg_malloc(n);
	return mm_malloc_tail(n, m);
}

static MM_NOINLINE void free_slow_or_debug(void *p)
{
	if (DBG)
		mmalloc_dbg_free(p);
	else
		mm_free_slow(mem2chunk(p), p);
}

EXPORT void free(void *p)
{
	if (mm_unlikely(p == NULL))
		return;
	if (!tc_free_fast(p))
		free_slow_or_debug(p);
}
#endif

void cfree(void *p); /* old SunOS name, no longer declared by glibc */

EXPORT void cfree(void *p)
{
	free(p);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	if (DBG)
		return mmalloc_dbg_calloc(nmemb, size);
	return mmalloc_calloc(nmemb, size);
}

EXPORT void *realloc(void *p, size_t n)
{
	if (DBG)
		return mmalloc_dbg_realloc(p, n);
	return mmalloc_realloc(p, n);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

EXPORT void *memalign(size_t align, size_t n)
{
	if (DBG)
		return mmalloc_dbg_memalign(align, n);
	return mmalloc_memalign(align, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (DBG) {
		if (align % sizeof(void *) != 0 || !MM_IS_POW2(align / sizeof(void *)))
			return EINVAL;
		void *m = mmalloc_dbg_memalign(align, n);
		if (!m)
			return ENOMEM;   /* errno is ENOMEM too, as in glibc */
		*out = m;
		return 0;
	}
	return mmalloc_posix_memalign(out, align, n);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (DBG)
		return mmalloc_dbg_memalign(align, n);   /* memalign's rules, as glibc 2.36 */
	return mmalloc_aligned_alloc(align, n);
}

EXPORT void *valloc(size_t n)
{
	if (DBG)
		return mmalloc_dbg_memalign(mm_os_pagesize(), n);
	return mmalloc_valloc(n);
}

EXPORT void *pvalloc(size_t n)
{
	if (DBG) {
		size_t ps = mm_os_pagesize();
		if (n > SIZE_MAX - 2 * ps) {
			errno = ENOMEM;
			return NULL;
		}
		return mmalloc_dbg_memalign(ps, MM_ALIGN_UP(n, ps));
	}
	return mmalloc_pvalloc(n);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (DBG)
		return mmalloc_dbg_usable_size(p);
	return mmalloc_usable_size(p);
}

EXPORT int malloc_trim(size_t pad)
{
	return mmalloc_trim(pad);
}

EXPORT int mallopt(int param, int value)
{
	return mmalloc_mallopt(param, value);
}

EXPORT void malloc_stats(void)
{
	mmalloc_stats();
}

EXPORT int malloc_info(int options, FILE *fp)
{
	return mmalloc_info(options, fp);
}

EXPORT struct mallinfo2 mallinfo2(void)
{
	return mmalloc_mallinfo2();
}

EXPORT struct mallinfo mallinfo(void)
{
	return mmalloc_mallinfo();
}
