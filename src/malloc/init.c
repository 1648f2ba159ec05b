/* init.c — the process-wide state of libmmalloc, its initialisation and
 * the tunables (mallopt and glibc's MALLOC_*_ environment variables).
 *
 * Initialisation runs on the first slow-path call and must not recurse:
 * it reads the environment by scanning `environ` (no getenv that could
 * allocate; /proc/self/environ when it runs before libc has set
 * `environ`), sets up the main arena before calling anything in libc, and
 * only then registers the thread-exit key and the fork handlers (which do
 * not allocate in glibc; if they did, the nested call would find the main
 * arena ready and be served from it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "malloc_internal.h"
#include "tcache.h"

struct mm_params mm_mp = {
	.mmap_threshold = DEFAULT_MMAP_THRESHOLD,
	.trim_threshold = DEFAULT_TRIM_THRESHOLD,
	.top_pad = DEFAULT_TOP_PAD,
	.max_fast = DEFAULT_MXFAST,
	.n_mmaps_max = DEFAULT_MMAP_MAX,
	.arena_test = 8,
	.pagesize = 4096,
};

struct mm_arena mm_main_arena = {
	.lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
	.is_main = true,
};

int mm_ready;                      /* 0 none, 1 in progress, 2 done */
int mm_trim_keep = 1;
static MM_TLS int init_owner;      /* this thread is running init */

extern char **environ;

const char *mm_getenv(const char *name)
{
	size_t len = strlen(name);
	char **env = environ;
	if (env) {
		for (; *env; env++)
			if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
				return *env + len + 1;
		return NULL;
	}
	/* libc has not set environ yet (the first malloc comes from a
	 * .preinit_array function): the kernel's copy of the environment */
	for (const char *e = mm_os_initial_environ(); e && *e; e += strlen(e) + 1)
		if (strncmp(e, name, len) == 0 && e[len] == '=')
			return e + len + 1;
	return NULL;
}

/* A number as glibc 2.36 reads tunables (_dl_strtoul): blanks, a sign,
 * then 0x hex, 0 octal or decimal digits up to the first other character
 * (no digit at all: 0); an overflow gives UINT64_MAX; "-" negates modulo
 * 2^64. Never fails: "abc" is 0, "85x" is 85. */
static uint64_t parse_ul(const char *s)
{
	uint64_t v = 0;
	int neg = 0;
	unsigned base = 10, max_digit = 9;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-') {
		neg = 1;
		s++;
	} else if (*s == '+') {
		s++;
	}
	if (*s < '0' || *s > '9')
		return 0;
	if (*s == '0') {
		if (s[1] == 'x' || s[1] == 'X') {
			base = 16;
			s += 2;
		} else {
			base = 8;
			max_digit = 7;
		}
	}
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= (char)('0' + max_digit))
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (v >= (UINT64_MAX - d) / base)
			return UINT64_MAX;
		v = v * base + d;
	}
	return neg ? -v : v;
}

/* glibc 2.36's malloc tunables that libmmalloc has (the tcache ones are
 * its own MMALLOC_TCACHE_*): name in GLIBC_TUNABLES, the older variable,
 * the mallopt id, and the accepted range (a value outside it is ignored,
 * as if unset). The INT_32 ones compare signed, the SIZE_T ones unsigned.
 * Listed in the order glibc's ptmalloc_init applies them. */
static const struct tunable {
	const char *name;
	const char *alias;
	int param;
	int int32;
	int64_t min, max;   /* int32 ones */
	uint64_t umin;      /* size_t ones (max SIZE_MAX) */
} tunables[] = {
	{ "glibc.malloc.top_pad", "MALLOC_TOP_PAD_", M_TOP_PAD, 0, 0, 0, 0 },
	{ "glibc.malloc.perturb", "MALLOC_PERTURB_", M_PERTURB, 1, 0, 0xff, 0 },
	{ "glibc.malloc.mmap_threshold", "MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, 0, 0, 0, 0 },
	{ "glibc.malloc.trim_threshold", "MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, 0, 0, 0, 0 },
	{ "glibc.malloc.mmap_max", "MALLOC_MMAP_MAX_", M_MMAP_MAX, 1, 0, INT32_MAX, 0 },
	{ "glibc.malloc.arena_max", "MALLOC_ARENA_MAX", M_ARENA_MAX, 0, 0, 0, 1 },
	{ "glibc.malloc.arena_test", "MALLOC_ARENA_TEST", M_ARENA_TEST, 0, 0, 0, 1 },
	{ "glibc.malloc.mxfast", NULL, M_MXFAST, 0, 0, 0, 0 },
};
#define NTUNABLES (sizeof(tunables) / sizeof(tunables[0]))

static int in_range(const struct tunable *t, uint64_t v)
{
	if (t->int32)
		return (int64_t)v >= t->min && (int64_t)v <= t->max;
	return v >= t->umin;
}

static int set_param(int param, size_t value);

/* The tunables as glibc 2.36 resolves them: a GLIBC_TUNABLES entry wins
 * over the MALLOC_*_ variable whatever their order in the environment
 * (the last valid entry of GLIBC_TUNABLES counts); the variable counts
 * only when no valid entry set the tunable. Values are 64-bit, never
 * wrapped through mallopt's int. GLIBC_TUNABLES is read in place. */
static void read_tunables(void)
{
	uint64_t val[NTUNABLES];
	int set[NTUNABLES] = { 0 };
	const char *t = mm_getenv("GLIBC_TUNABLES");
	while (t && *t) {
		const char *end = strchr(t, ':');
		size_t len = end ? (size_t)(end - t) : strlen(t);
		const char *eq = memchr(t, '=', len);
		if (eq) {
			for (size_t i = 0; i < NTUNABLES; i++) {
				if (strlen(tunables[i].name) != (size_t)(eq - t) ||
				    strncmp(tunables[i].name, t, (size_t)(eq - t)) != 0)
					continue;
				uint64_t v = parse_ul(eq + 1);  /* stops at the ':' */
				if (in_range(&tunables[i], v)) {
					val[i] = v;
					set[i] = 1;
				}
			}
		}
		t = end ? end + 1 : NULL;
	}
	for (size_t i = 0; i < NTUNABLES; i++) {
		if (set[i] || !tunables[i].alias)
			continue;
		const char *v = mm_getenv(tunables[i].alias);
		if (v && in_range(&tunables[i], parse_ul(v))) {
			val[i] = parse_ul(v);
			set[i] = 1;
		}
	}
	for (size_t i = 0; i < NTUNABLES; i++)
		if (set[i])
			set_param(tunables[i].param, (size_t)val[i]);
}

static void read_env(void)
{
	read_tunables();
	const char *k = mm_getenv("MMALLOC_TRIM_KEEP");
	if (k && *k == '0')
		mm_trim_keep = 0;
	const char *s = mm_getenv("MMALLOC_STATS");
	if (s && *s && *s != '0')
		mm_stats_requested = 1;
}

void mm_init_slow(void)
{
	static int spin;
	if (__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) == 2 || init_owner)
		return;   /* done, or a nested call from inside init itself */
	while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	if (__atomic_load_n(&mm_ready, __ATOMIC_ACQUIRE) == 2) {
		__atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
		return;
	}
	init_owner = 1;
	mm_ready = 1;
	mm_mp.pagesize = mm_os_pagesize();
	mm_arena_init(&mm_main_arena, 1);
	mm_tcache_init_global();
	mm_slab_init_global();  /* after the caches: its key derives from theirs */
	read_env();             /* after the caches: M_PERTURB closes them */
	pthread_atfork(mm_fork_prepare, mm_fork_parent, mm_fork_child);
	mm_debug_init();
	if (mm_stats_requested || mm_debug_mode == 1)
		mm_os_keep_err();   /* their reports at exit outlive a closed fd 2 */
	__atomic_store_n(&mm_ready, 2, __ATOMIC_RELEASE);
	init_owner = 0;
	__atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
}

/* Initialise before main(), while the process has one thread, so that no
 * fork can catch another thread half-way through init (the fork handlers
 * are only registered by init itself). */
__attribute__((constructor)) static void mm_init_early(void)
{
	mm_init_slow();
}

/* ---- mallopt ---- */

/* The parameters glibc holds as size_t (the environment passes 64-bit
 * values); 0 if the value is out of range, 1 if set, -1 for the others. */
static int set_param(int param, size_t value)
{
	switch (param) {
	case M_MXFAST:
		if (value > MAX_FAST_SIZE)
			return 0;
		for (struct mm_arena *a = &mm_main_arena; a; a = a->next) {
			mm_lock(a);
			if (a->have_fastchunks)
				mm_consolidate(a);
			mm_unlock(a);
		}
		MP_SET(max_fast, value == 0 ? (size_t)0 : (value + SIZE_SZ) & ~MALLOC_ALIGN_MASK);
		return 1;
	case M_TRIM_THRESHOLD:
		MP_SET(trim_threshold, value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_TOP_PAD:
		MP_SET(top_pad, value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_MMAP_THRESHOLD:
		/* any value, as glibc 2.36: above HEAP_MAX_SIZE / 2 a request
		 * may come from the heap, or be mapped if no heap can hold it */
		MP_SET(mmap_threshold, value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_MMAP_MAX:
		MP_SET(n_mmaps_max, (int)value);   /* the environment passes 0..INT32_MAX */
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_PERTURB:
		MP_SET(perturb, (int)(value & 0xff));
		if (value & 0xff)
			mm_tc_close();   /* every block must pass the filling paths */
		return 1;
	case M_ARENA_TEST:
		if (value > 0)
			MP_SET(arena_test, value > INT_MAX ? INT_MAX : (int)value);
		return 1;
	case M_ARENA_MAX:
		if (value > 0)
			MP_SET(arena_max, value > INT_MAX ? INT_MAX : (int)value);
		return 1;
	default:
		return -1;
	}
}

int mmalloc_mallopt(int param, int value)
{
	mm_ensure_init();
	switch (param) {
	case M_MMAP_MAX:
		/* glibc compares the count with a signed int: a negative
		 * limit allows no mmap at all, as 0 does here */
		MP_SET(n_mmaps_max, value < 0 ? 0 : value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_CHECK_ACTION:
		return 1;
	case M_PERTURB:
		return set_param(param, (size_t)(unsigned)value);
	case M_ARENA_TEST:
	case M_ARENA_MAX:
		return set_param(param, value > 0 ? (size_t)value : 0);
	default: {
		/* size_t parameters take the int sign-extended, as glibc;
		 * unknown ids are ignored and succeed, as glibc */
		int r = set_param(param, (size_t)(long)value);
		return r < 0 ? 1 : r;
	}
	}
}
