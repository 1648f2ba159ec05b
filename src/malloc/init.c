/* init.c — the process-wide state of libmmalloc, its initialisation and
 * the tunables (mallopt and glibc's MALLOC_*_ environment variables).
 *
 * Initialisation runs on the first slow-path call and must not recurse:
 * it reads the environment by scanning `environ` (no getenv that could
 * allocate), sets up the main arena before calling anything in libc, and
 * only then registers the thread-exit key and the fork handlers (which do
 * not allocate in glibc; if they did, the nested call would find the main
 * arena ready and be served from it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
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
	if (!env)
		return NULL;
	for (; *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* Decimal (or 0x hex) number; 0 if none. Sets *ok when parsed. */
static long long parse_num(const char *s, int *ok)
{
	int neg = 0, base = 10;
	long long v = 0;
	*ok = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return 0;
		v = v * base + d;
		*ok = 1;
	}
	return neg ? -v : v;
}

static void env_param(const char *name, int param)
{
	const char *v = mm_getenv(name);
	int ok;
	if (!v)
		return;
	long long n = parse_num(v, &ok);
	if (ok)
		mmalloc_mallopt(param, (int)n);
}

/* GLIBC_TUNABLES=glibc.malloc.NAME=VALUE:...: the malloc tunables that map
 * onto mallopt parameters (the others are ignored). Parsed in place,
 * without copying the string. */
static void read_tunables(void)
{
	static const struct {
		const char *name;
		int param;
	} map[] = {
		{ "glibc.malloc.mmap_threshold", M_MMAP_THRESHOLD },
		{ "glibc.malloc.trim_threshold", M_TRIM_THRESHOLD },
		{ "glibc.malloc.top_pad", M_TOP_PAD },
		{ "glibc.malloc.mmap_max", M_MMAP_MAX },
		{ "glibc.malloc.arena_max", M_ARENA_MAX },
		{ "glibc.malloc.arena_test", M_ARENA_TEST },
		{ "glibc.malloc.perturb", M_PERTURB },
		{ "glibc.malloc.mxfast", M_MXFAST },
	};
	const char *t = mm_getenv("GLIBC_TUNABLES");
	while (t && *t) {
		const char *end = strchr(t, ':');
		size_t len = end ? (size_t)(end - t) : strlen(t);
		const char *eq = memchr(t, '=', len);
		if (eq) {
			char val[32];
			size_t vlen = len - (size_t)(eq + 1 - t);
			if (vlen < sizeof(val)) {
				memcpy(val, eq + 1, vlen);
				val[vlen] = '\0';
				for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
					int ok;
					if (strlen(map[i].name) == (size_t)(eq - t) &&
					    strncmp(map[i].name, t, (size_t)(eq - t)) == 0) {
						long long v = parse_num(val, &ok);
						if (ok)
							mmalloc_mallopt(map[i].param, (int)v);
					}
				}
			}
		}
		t = end ? end + 1 : NULL;
	}
}

static void read_env(void)
{
	read_tunables();
	env_param("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD);
	env_param("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD);
	env_param("MALLOC_TOP_PAD_", M_TOP_PAD);
	env_param("MALLOC_MMAP_MAX_", M_MMAP_MAX);
	env_param("MALLOC_ARENA_MAX", M_ARENA_MAX);
	env_param("MALLOC_ARENA_TEST", M_ARENA_TEST);
	env_param("MALLOC_PERTURB_", M_PERTURB);
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

int mmalloc_mallopt(int param, int value)
{
	mm_ensure_init();
	switch (param) {
	case M_MXFAST:
		if (value < 0 || (size_t)value > MAX_FAST_SIZE)
			return 0;
		for (struct mm_arena *a = &mm_main_arena; a; a = a->next) {
			mm_lock(a);
			if (a->have_fastchunks)
				mm_consolidate(a);
			mm_unlock(a);
		}
		MP_SET(max_fast, value == 0 ? (size_t)0
			       : ((size_t)value + SIZE_SZ) & ~MALLOC_ALIGN_MASK);
		return 1;
	case M_TRIM_THRESHOLD:
		MP_SET(trim_threshold, (size_t)(long)value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_TOP_PAD:
		MP_SET(top_pad, (size_t)(long)value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_MMAP_THRESHOLD:
		/* any value, as glibc 2.36: above HEAP_MAX_SIZE / 2 a request
		 * may come from the heap, or be mapped if no heap can hold it */
		MP_SET(mmap_threshold, (size_t)(long)value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_MMAP_MAX:
		MP_SET(n_mmaps_max, value);
		MP_SET(no_dyn_threshold, 1);
		return 1;
	case M_CHECK_ACTION:
		return 1;
	case M_PERTURB:
		MP_SET(perturb, value & 0xff);
		if (value & 0xff)
			mm_tc_close();   /* every block must pass the filling paths */
		return 1;
	case M_ARENA_TEST:
		if (value > 0)
			MP_SET(arena_test, value);
		return 1;
	case M_ARENA_MAX:
		if (value > 0)
			MP_SET(arena_max, value);
		return 1;
	default:
		return 1;   /* glibc: unknown ids are ignored and succeed */
	}
}
