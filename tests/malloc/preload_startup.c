/* Start-up of the interposed library (LD_PRELOAD=libmmalloc.so, set by
 * CTest): allocations made before main() -- from the program's
 * .preinit_array, which runs before any library constructor, and from a
 * constructor that also goes through dlopen/dlsym (both allocate inside
 * libc and the dynamic loader) -- are served without recursing into the
 * allocator's own initialisation, keep their contents, and are released
 * normally in main(). The same start-up runs again in debug mode, both
 * ways of turning it on (libmmalloc-debug.so, MMALLOC_CHECK=1), where the
 * blocks made before main() must also be freed without a report. The
 * .preinit_array allocation initialises the allocator before libc has set
 * `environ`: the settings (MMALLOC_CHECK, MMALLOC_STATS, MALLOC_*_) must
 * still be read, from /proc/self/environ. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char self[4096];

static char *pre_block;      /* from .preinit_array */
static char *pre_dup;
static char *ctor_block;     /* from the constructor */
static void *ctor_aligned;
static int ctor_dl_ok;

static int pre_environ_set;   /* environ was set in pre_init */

static void pre_init(int argc, char **argv, char **envp)
{
	(void)argc;
	(void)argv;
	(void)envp;
	pre_environ_set = environ != NULL;
	pre_block = malloc(100);
	if (pre_block)
		memcpy(pre_block, "preinit", 8);
	pre_dup = strdup("before every constructor");
	free(calloc(10, 10));
}
__attribute__((section(".preinit_array"), used)) static void (*pre_init_p)(int, char **, char **) =
	pre_init;

__attribute__((constructor(101))) static void early_ctor(void)
{
	char *p = calloc(3, 1000);
	if (p) {
		p[2999] = 7;
		p = realloc(p, 50000);   /* grows: a move or an in-place resize */
	}
	ctor_block = p;
	if (posix_memalign(&ctor_aligned, 256, 300) != 0)
		ctor_aligned = NULL;
	void *h = dlopen("libm.so.6", RTLD_NOW);
	ctor_dl_ok = h != NULL && dlsym(h, "cos") != NULL;
}

static int check_early_blocks(void)
{
	if (!pre_block || strcmp(pre_block, "preinit") != 0 || malloc_usable_size(pre_block) < 100)
		return 1;
	if (!pre_dup || strcmp(pre_dup, "before every constructor") != 0)
		return 2;
	free(pre_block);
	free(pre_dup);
	if (!ctor_block || ctor_block[2999] != 7 || malloc_usable_size(ctor_block) < 50000)
		return 3;
	if (!ctor_aligned || (uintptr_t)ctor_aligned % 256 != 0)
		return 4;
	if (!ctor_dl_ok)
		return 5;
	free(ctor_block);
	free(ctor_aligned);
	return 0;
}

/* In a child: 0 if the blocks made before main() are intact, then
 * "debug=1" on stdout if debug mode is on (its malloc_usable_size is the
 * size asked for, not the chunk's), and "fill=XX", the byte a new block
 * holds (MALLOC_PERTURB_=1: fe). */
static int child(void)
{
	int r = check_early_blocks();
	unsigned char *volatile p = malloc(5);
	unsigned char *volatile q = malloc(100);
	printf("environ=%d debug=%d fill=%02x\n", pre_environ_set,
	       malloc_usable_size((void *)p) == 5, q[50]);
	free(q);
	free(p);
	return r;
}

/* Run this program again as `self early` with one extra NAME=VALUE in
 * its environment; its exit status, and its output in buf. */
static int rerun(const char *env1, char *buf, size_t cap)
{
	return mm_test_rerun(self, "early", env1, buf, cap);
}

static void test_blocks_before_main(void **state)
{
	(void)state;
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	assert_non_null(m);
	assert_true(dladdr(m, &info) != 0);
	assert_non_null(strstr(info.dli_fname, "libmmalloc"));
	assert_int_equal(check_early_blocks(), 0);
	int (*check)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mmalloc_check");
	assert_non_null(check);
	assert_int_equal(check(), 0);
}

static void test_debug_start_up(void **state)
{
	(void)state;
	char buf[8192];
	char env[4200];
	const char *dso = getenv("MMALLOC_DEBUG_SO");
	assert_non_null(dso);
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", dso);
	const char *ways[] = { env, "MMALLOC_CHECK=1" };
	for (int w = 0; w < 2; w++) {
		assert_int_equal(rerun(ways[w], buf, sizeof(buf)), 0);
		assert_non_null(strstr(buf, "environ=0 debug=1"));
		/* no error report (leaks may be listed: the debug library's
		 * first call, from .preinit_array, cannot see MMALLOC_LEAKS) */
		assert_null(strstr(buf, "double free"));
		assert_null(strstr(buf, "invalid pointer"));
		assert_null(strstr(buf, "guard bytes"));
		assert_null(strstr(buf, "use after free"));
		assert_null(strstr(buf, "mmalloc:"));
	}
	/* and without debug mode */
	assert_int_equal(rerun("MMALLOC_CHECK=0", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "environ=0 debug=0"));
}

/* Settings read although the allocator starts before `environ` is set:
 * glibc's (MALLOC_PERTURB_) and libmmalloc's own (MMALLOC_STATS). */
static void test_settings_before_environ(void **state)
{
	(void)state;
	char buf[8192];
	assert_int_equal(rerun("MALLOC_PERTURB_=1", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "environ=0 debug=0 fill=fe"));
	assert_int_equal(rerun("MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "==mmalloc== statistics at exit"));
	assert_int_equal(rerun("MMALLOC_STATS=0", buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "==mmalloc=="));
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	(void)argv;
	if (argc > 1)
		return child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_before_main),
		cmocka_unit_test(test_debug_start_up),
		cmocka_unit_test(test_settings_before_environ),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
