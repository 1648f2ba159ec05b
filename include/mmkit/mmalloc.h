/* mmkit/mmalloc.h — libmmalloc, a complete glibc-compatible malloc.
 *
 * libmmalloc is built twice from the same core:
 *   - libmmalloc.so (and libmmalloc-debug.so) define malloc, free, ... through
 *     a thin interposition layer, so `LD_PRELOAD=libmmalloc.so prog` replaces
 *     the C library's allocator;
 *   - the static library mmalloc_core has no interposition: a program linked
 *     with it keeps its own malloc and calls the mmalloc_* functions below.
 *
 * Every mmalloc_X function has the semantics of glibc's X, errno included.
 * On failure nothing was allocated and no existing block was changed.
 */
#ifndef MMKIT_MMALLOC_H
#define MMKIT_MMALLOC_H

#include <malloc.h>     /* struct mallinfo, struct mallinfo2, M_* parameter ids */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exported from libmmalloc.so even though it hides everything else. */
#define MMALLOC_API __attribute__((visibility("default")))

/* ---- The C allocation surface ---- */

/* A block of at least n bytes aligned to 16; malloc(0) returns a unique
 * minimal block. NULL with errno = ENOMEM when memory cannot be had. */
MMALLOC_API void *mmalloc_malloc(size_t n);

/* Release a block from any of the allocation functions; NULL is ignored.
 * A pointer that is not a live block aborts with "free(): invalid pointer"
 * or a "double free" message when the damage can be detected. */
MMALLOC_API void mmalloc_free(void *p);

/* nmemb * size zeroed bytes; NULL with ENOMEM on overflow or no memory. */
MMALLOC_API void *mmalloc_calloc(size_t nmemb, size_t size);

/* Resize p to n bytes, keeping the contents up to the smaller size.
 * realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL
 * (glibc's behaviour). On failure returns NULL, errno = ENOMEM, p unchanged. */
MMALLOC_API void *mmalloc_realloc(void *p, size_t n);

/* realloc(p, nmemb * size) with overflow checking (NULL + ENOMEM). */
MMALLOC_API void *mmalloc_reallocarray(void *p, size_t nmemb, size_t size);

/* A block aligned to `align`; an alignment that is not a power of two is
 * rounded up to one (glibc's memalign); absurd alignments give EINVAL. */
MMALLOC_API void *mmalloc_memalign(size_t align, size_t n);

/* Store an aligned block in *out and return 0, or return EINVAL (align not a
 * power of two multiple of sizeof(void *)) or ENOMEM; *out unchanged then. */
MMALLOC_API int mmalloc_posix_memalign(void **out, size_t align, size_t n);

/* C11 aligned_alloc: align must be a power of two, else NULL with EINVAL. */
MMALLOC_API void *mmalloc_aligned_alloc(size_t align, size_t n);

/* Page-aligned blocks; pvalloc also rounds the size up to whole pages. */
MMALLOC_API void *mmalloc_valloc(size_t n);
MMALLOC_API void *mmalloc_pvalloc(size_t n);

/* The number of bytes usable in block p (>= the size asked); 0 for NULL. */
MMALLOC_API size_t mmalloc_usable_size(const void *p);

/* ---- Tuning and inspection ---- */

/* Give free memory back to the system, keeping `pad` bytes at the top of the
 * main heap. Returns 1 if any memory was released, else 0. */
MMALLOC_API int mmalloc_trim(size_t pad);

/* Set a parameter (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD,
 * M_MMAP_MAX, M_ARENA_MAX, M_ARENA_TEST, M_MXFAST, M_PERTURB). Returns 0 for
 * a value out of range (M_MXFAST above 160), else 1, an unknown parameter
 * included (glibc 2.36). Setting any
 * of the first three turns off the dynamic mmap threshold, as in glibc. */
MMALLOC_API int mmalloc_mallopt(int param, int value);

/* glibc's malloc_stats() text on stderr. */
MMALLOC_API void mmalloc_stats(void);

/* glibc's malloc_info() XML on fp: 0; options must be 0, else nothing is
 * written and the result is EINVAL (errno untouched, as glibc 2.36). */
MMALLOC_API int mmalloc_info(int options, FILE *fp);

/* Totals over every arena, glibc's field meanings. */
MMALLOC_API struct mallinfo2 mmalloc_mallinfo2(void);
MMALLOC_API struct mallinfo mmalloc_mallinfo(void);

/* ---- Checking ---- */

/* Walk every arena (every chunk, bin, fast bin, slab span and the top
 * chunk) and the calling thread's cache, and check every invariant.
 * Returns 0, or -MM_ECORRUPT after printing what is broken on stderr.
 * Takes each arena lock in turn. */
MMALLOC_API int mmalloc_check(void);

/* Return the calling thread's cached blocks to their arenas (the same
 * work as at thread exit; the thread may go on allocating afterwards). */
MMALLOC_API void mmalloc_thread_flush(void);

/* Counters kept by the operating-system layer since the process started. */
struct mmalloc_os_counters {
	uint64_t brk_calls;     /* sbrk calls that moved the break (both ways) */
	uint64_t mmap_calls;    /* mmap calls (chunks, heaps, fallback segments) */
	uint64_t munmap_calls;
	uint64_t mremap_calls;
	uint64_t mprotect_calls;
	uint64_t madvise_calls;
	uint64_t bytes_trimmed; /* returned by negative sbrk, heap shrink, madvise */
	uint64_t failures;      /* calls that failed, injected or real */
};
MMALLOC_API void mmalloc_os_counters(struct mmalloc_os_counters *out);

/* Fault injection for tests: of the OS calls of the kinds in `kinds`
 * (MMALLOC_FAULT_MMAP covers mmap, mremap and mprotect-to-grow;
 * MMALLOC_FAULT_BRK covers growing sbrk), let nth-1 more succeed, then fail
 * the following `count` ones (count < 0: all of them). nth == 0 disarms. */
#define MMALLOC_FAULT_MMAP 1u
#define MMALLOC_FAULT_BRK  2u
MMALLOC_API void mmalloc_fault_inject(unsigned kinds, long nth, long count);

/* ---- Debug mode (MMALLOC_CHECK=1, or libmmalloc-debug.so) ----
 * The same surface with guard bytes, poisoning, a quarantine of freed
 * blocks, double/invalid free detection and a leak report; every report
 * names the address, the size and the allocation's call site. Blocks from
 * the debug functions must be released by mmalloc_dbg_free. */
MMALLOC_API void *mmalloc_dbg_malloc(size_t n);
MMALLOC_API void mmalloc_dbg_free(void *p);
MMALLOC_API void *mmalloc_dbg_calloc(size_t nmemb, size_t size);
MMALLOC_API void *mmalloc_dbg_realloc(void *p, size_t n);
MMALLOC_API void *mmalloc_dbg_memalign(size_t align, size_t n);
MMALLOC_API size_t mmalloc_dbg_usable_size(const void *p);
/* Verify every live block's guards and every quarantined block's poison;
 * returns the number of problems found (each reported on stderr). */
MMALLOC_API size_t mmalloc_dbg_verify(void);
/* Print the leak report (live debug blocks) on stderr; returns their count. */
MMALLOC_API size_t mmalloc_dbg_leak_report(void);

#endif /* MMKIT_MMALLOC_H */
