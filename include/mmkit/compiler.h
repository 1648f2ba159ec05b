/* mmkit/compiler.h — small compiler helpers shared by every component.
 *
 * Assertion tiers (STYLE.md 13):
 *   MM_BUG_ON(c)    cheap corruption check, kept in release builds; aborts with a message.
 *   MM_ASSERT(c)    debug-only assertion (MMKIT_DEBUG builds: Debug and sanitizer builds).
 *   whole-structure checks are the *_check() walkers of each component.
 */
#ifndef MMKIT_COMPILER_H
#define MMKIT_COMPILER_H

#include <stddef.h>
#include <stdint.h>

#define mm_likely(x)   __builtin_expect(!!(x), 1)
#define mm_unlikely(x) __builtin_expect(!!(x), 0)
#define MM_NOINLINE    __attribute__((noinline))
#define MM_INLINE      static inline __attribute__((always_inline))
#define MM_UNUSED      __attribute__((unused))
#define MM_NORETURN    __attribute__((noreturn))
#define MM_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define MM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MM_ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define MM_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define MM_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define MM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* container_of: from a pointer to a member back to its enclosing struct. */
#define mm_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Report a fatal internal error (file, line, message) and abort. */
MM_NORETURN MM_PRINTF(3, 4)
void mm_panic(const char *file, int line, const char *fmt, ...);

#define MM_PANIC(...) mm_panic(__FILE__, __LINE__, __VA_ARGS__)
#define MM_BUG_ON(c) \
	do { if (mm_unlikely(c)) mm_panic(__FILE__, __LINE__, "BUG: %s", #c); } while (0)
#ifdef MMKIT_DEBUG
#define MM_ASSERT(c) MM_BUG_ON(!(c))
#else
#define MM_ASSERT(c) ((void)0)
#endif

#endif /* MMKIT_COMPILER_H */
