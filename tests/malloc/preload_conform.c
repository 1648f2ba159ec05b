/* Conformance of the real interposed library: this program runs with
 * LD_PRELOAD=libmmalloc.so (set by CTest) and checks that malloc & co. are
 * ours, then exercises the glibc surface through the standard names:
 * errno rules, alignment, malloc_stats and malloc_info formats, mallopt and
 * the MALLOC_*_ environment variables, MMALLOC_STATS at exit, fork. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char self[4096];

/* Run this program again with extra environment (NAME=VALUE settings
 * separated by spaces) and a mode argument; returns its stderr (and
 * stdout) in buf and its exit status. */
static int rerun(const char *mode, const char *env1, char *buf, size_t cap)
{
	return mm_test_rerun(self, mode, env1, buf, cap);
}

static void test_is_ours(void **state)
{
	(void)state;
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	assert_non_null(m);
	assert_true(dladdr(m, &info) != 0);
	assert_non_null(strstr(info.dli_fname, "libmmalloc"));
	int (*check)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mmalloc_check");
	assert_non_null(check);
	void *p = malloc(100);
	assert_int_equal(check(), 0);
	free(p);
	/* glibc's own internal allocations come to us too */
	char *s = strdup("hello");
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	free(s);
	assert_int_equal(check(), 0);
}

static void test_surface(void **state)
{
	(void)state;
	void *a = malloc(0), *b = malloc(0);
	assert_non_null(a);
	assert_ptr_not_equal(a, b);
	free(a);
	free(b);
	volatile size_t huge = SIZE_MAX / 4;   /* hide the overflow from gcc */
	errno = 0;
	assert_null(calloc(huge, 8));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	void *r = malloc(10);
	void *r2 = reallocarray(r, huge, 8);
	assert_null(r2);
	assert_int_equal(errno, ENOMEM);
	free(r2 ? r2 : r);
	void *out = (void *)1;
	assert_int_equal(posix_memalign(&out, 12, 10), EINVAL);
	assert_ptr_equal(out, (void *)1);
	assert_int_equal(posix_memalign(&out, 4096, 10), 0);
	assert_int_equal((uintptr_t)out % 4096, 0);
	free(out);
	char *al = aligned_alloc(256, 1000);
	assert_int_equal((uintptr_t)al % 256, 0);
	free(al);
	char *m = memalign(128, 77);
	assert_int_equal((uintptr_t)m % 128, 0);
	free(m);
	char *v = valloc(10);
	assert_int_equal((uintptr_t)v % 4096, 0);
	free(v);
	char *pv = pvalloc(5000);
	assert_true(malloc_usable_size(pv) >= 8192);
	free(pv);
	char *p = malloc(100);
	assert_true(malloc_usable_size(p) >= 100);
	memset(p, 1, malloc_usable_size(p));
	p = realloc(p, 100000);
	assert_int_equal(p[50], 1);
	assert_null(realloc(p, 0));           /* frees, as glibc */
	assert_int_equal(mallopt(M_TRIM_THRESHOLD, 256 * 1024), 1);
	/* glibc 2.36: unknown ids succeed; any mmap threshold is taken, and
	 * a request below it, even above 32 MiB, comes from the heap */
	assert_int_equal(mallopt(-100, 1), 1);
	assert_int_equal(mallopt(M_MMAP_THRESHOLD, 64 << 20), 1);
	struct mallinfo2 h0 = mallinfo2();
	char *big = malloc((size_t)40 << 20);
	assert_non_null(big);
	struct mallinfo2 h1 = mallinfo2();
	assert_int_equal(h1.hblks, h0.hblks);
	big[((size_t)40 << 20) - 1] = 1;
	free(big);
	assert_int_equal(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
	struct mallinfo2 mi = mallinfo2();
	assert_true(mi.arena > 0);
	int t = malloc_trim(0);
	assert_in_range(t, 0, 1);
	/* 16-byte alignment for every size */
	for (size_t n = 1; n < 3000; n += 13) {
		void *x = malloc(n);
		assert_int_equal((uintptr_t)x % 16, 0);
		free(x);
	}
}

static void test_malloc_stats_format(void **state)
{
	(void)state;
	char buf[8192];
	assert_int_equal(rerun("stats", NULL, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "Arena 0:\nsystem bytes     = "));
	assert_non_null(strstr(buf, "\nin use bytes     = "));
	assert_non_null(strstr(buf, "Total (incl. mmap):\n"));
	assert_non_null(strstr(buf, "max mmap regions = "));
	assert_non_null(strstr(buf, "max mmap bytes   = "));
}

static void test_malloc_info_format(void **state)
{
	(void)state;
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	/* many bins in use, so the XML outgrows the memstream's small
	 * buffers: its reallocs reach the arena while malloc_info runs */
	void *keep[400];
	for (int i = 0; i < 400; i++)
		keep[i] = malloc((size_t)i * 997 + 5000);
	for (int i = 0; i < 400; i += 2)
		free(keep[i]);
	assert_int_equal(malloc_info(0, f), 0);
	fclose(f);
	assert_true(strncmp(buf, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", 41) == 0);
	assert_non_null(strstr(buf, "<total type=\"fast\" count=\""));
	assert_non_null(strstr(buf, "<total type=\"mmap\" count=\""));
	assert_non_null(strstr(buf, "<system type=\"current\" size=\""));
	assert_non_null(strstr(buf, "<aspace type=\"mprotect\" size=\""));
	assert_non_null(strstr(buf, "</malloc>\n"));
	free(buf);
	for (int i = 1; i < 400; i += 2)
		free(keep[i]);
}

static void *info_thread(void *arg)
{
	(void)arg;
	/* 48 blocks of 20 to 67 KiB, every other one freed: more than a
	 * thread cache keeps, so chunks of several sizes reach the arena's
	 * unsorted bin (the kept ones stop them from merging) */
	static void *blk[48];
	for (int i = 0; i < 48; i++)
		blk[i] = malloc(20000 + (size_t)i * 1000);
	for (int i = 0; i < 48; i += 2)
		free(blk[i]);
	return blk;
}

static void test_malloc_info_threads(void **state)
{
	(void)state;
	char *buf;
	size_t len;
	/* options != 0: EINVAL as the result, errno untouched, no output */
	FILE *f = open_memstream(&buf, &len);
	errno = ENOENT;
	assert_int_equal(malloc_info(1, f), EINVAL);
	assert_int_equal(errno, ENOENT);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);

	pthread_t t;
	void **kept;
	assert_int_equal(pthread_create(&t, NULL, info_thread, NULL), 0);
	assert_int_equal(pthread_join(t, (void **)&kept), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(malloc_info(0, f), 0);
	fclose(f);
	/* the main arena: no subheaps line; every thread arena: one, after
	 * its mprotect line, with at least one heap */
	char *h1 = strstr(buf, "<heap nr=\"1\">");
	assert_non_null(h1);
	char *sub = strstr(buf, "<aspace type=\"subheaps\"");
	assert_true(sub > h1);
	int with_unsorted = 0;
	for (char *h = h1; h; h = strstr(h + 1, "<heap nr=\"")) {
		char *end = strstr(h, "</heap>");
		assert_non_null(end);
		size_t nsub = 0;
		char *s = strstr(h, "<aspace type=\"mprotect\" size=\"");
		assert_true(s && s < end);
		s = strstr(s, "\n<aspace type=\"subheaps\" size=\"");
		assert_true(s && s < end);
		assert_int_equal(sscanf(s, "\n<aspace type=\"subheaps\" size=\"%zu\"/>", &nsub), 1);
		assert_true(nsub >= 1);
		char *u = strstr(h, "<unsorted from=\"");
		if (u && u < end) {
			size_t from, to, total, count;
			assert_int_equal(sscanf(u, "<unsorted from=\"%zu\" to=\"%zu\" total=\"%zu\" "
						"count=\"%zu\"/>", &from, &to, &total, &count), 4);
			/* the smallest and largest chunk of the bin */
			assert_true(from >= 20000 && from <= to);
			assert_true(total >= from * count && total <= to * count);
			if (count >= 2)
				assert_true(from < to && total >= from + to);
			with_unsorted++;
		}
	}
	assert_true(with_unsorted >= 1);
	free(buf);
	for (int i = 1; i < 48; i += 2)
		free(kept[i]);
}

static void test_env_thresholds(void **state)
{
	(void)state;
	char buf[4096];
	/* default: 200 KiB is above the 128 KiB threshold -> mmap */
	assert_int_equal(rerun("mmapcount", NULL, buf, sizeof(buf)), 1);
	/* raised by the environment: served from the heap */
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_THRESHOLD_=1048576", buf, sizeof(buf)), 0);
	/* mmap forbidden */
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_MAX_=0", buf, sizeof(buf)), 0);
	/* trimming: by default freed heap memory goes back to the system */
	assert_int_equal(rerun("trim", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(rerun("trim", "MALLOC_TRIM_THRESHOLD_=100000000", buf, sizeof(buf)), 1);
	/* a program cycling a batch through the heap: by default the heap
	 * stops shrinking after the first cycles (trim hysteresis); with the
	 * threshold set explicitly, every cycle trims as in glibc */
	assert_true(rerun("churn", NULL, buf, sizeof(buf)) < 10);
	assert_int_equal(rerun("churn", "MALLOC_TRIM_THRESHOLD_=131072", buf, sizeof(buf)), 30);
	/* top pad: the first growth asks for the pad as well */
	assert_int_equal(rerun("toppad", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(rerun("toppad", "MALLOC_TOP_PAD_=16777216", buf, sizeof(buf)), 1);
	/* the same through GLIBC_TUNABLES */
	assert_int_equal(rerun("mmapcount", "GLIBC_TUNABLES=glibc.malloc.check=0:"
			       "glibc.malloc.mmap_threshold=1048576", buf, sizeof(buf)), 0);
	/* values read as glibc 2.36 reads them: 64-bit (not wrapped through
	 * an int), a leading 0 octal, characters after the number ignored,
	 * no number at all 0, out of a tunable's range ignored */
	assert_int_equal(rerun("trim", "MALLOC_TRIM_THRESHOLD_=4294967296", buf, sizeof(buf)), 1);
	assert_int_equal(rerun("trim", "GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967296",
			       buf, sizeof(buf)), 1);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_THRESHOLD_=0400000", buf, sizeof(buf)), 1);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_THRESHOLD_=1048576B", buf, sizeof(buf)), 0);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_MAX_=none", buf, sizeof(buf)), 0);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_MAX_=4294967296", buf, sizeof(buf)), 1);
	assert_int_equal(rerun("perturb", "MALLOC_PERTURB_=0125", buf, sizeof(buf)), 0);
	/* a GLIBC_TUNABLES entry wins over the MALLOC_*_ variable, in
	 * either order, unless its value is out of range */
	assert_int_equal(rerun("mmapcount", "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576 "
			       "MALLOC_MMAP_THRESHOLD_=4096", buf, sizeof(buf)), 0);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_THRESHOLD_=4096 "
			       "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576", buf, sizeof(buf)), 0);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_MAX_=0 GLIBC_TUNABLES=glibc.malloc.mmap_max=1",
			       buf, sizeof(buf)), 1);
	assert_int_equal(rerun("mmapcount", "MALLOC_MMAP_MAX_=0 GLIBC_TUNABLES=glibc.malloc.mmap_max=-1",
			       buf, sizeof(buf)), 0);
	/* M_PERTURB: new blocks filled with ~byte, freed ones with byte */
	assert_int_equal(rerun("perturb", "MALLOC_PERTURB_=85", buf, sizeof(buf)), 0);
	/* caches off entirely: still a working allocator */
	assert_int_equal(rerun("stats", "MMALLOC_TCACHE_MAX=0", buf, sizeof(buf)), 0);
	/* arena max 1: a second thread shares the main arena */
	assert_int_equal(rerun("arenas", "MALLOC_ARENA_MAX=1", buf, sizeof(buf)), 1);
	assert_int_equal(rerun("arenas", NULL, buf, sizeof(buf)), 2);
}

/* The value printed after `label` in an MMALLOC_STATS report, or -1. */
static long stat_value(const char *buf, const char *label)
{
	return mm_test_number_after(buf, label);
}

/* Small blocks come from slab spans by default; MMALLOC_SLAB_MAX=0 turns
 * them off, and MMALLOC_SLAB_MAX=512 keeps them for chunks up to 512. */
static void test_slab_setting(void **state)
{
	(void)state;
	char buf[8192];
	assert_int_equal(rerun("slab", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	long all = stat_value(buf, "slab spans");
	assert_true(all >= 2);
	assert_int_equal(rerun("slab", "MMALLOC_STATS=1 MMALLOC_SLAB_MAX=0", buf, sizeof(buf)), 0);
	assert_int_equal(stat_value(buf, "slab spans"), 0);
	/* the 2000-byte blocks are heap chunks now: fewer spans */
	assert_int_equal(rerun("slab", "MMALLOC_STATS=1 MMALLOC_SLAB_MAX=512", buf, sizeof(buf)), 0);
	long small = stat_value(buf, "slab spans");
	assert_true(small >= 1 && small < all);
}

static void test_stats_at_exit(void **state)
{
	(void)state;
	char buf[8192];
	assert_int_equal(rerun("nothing", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "==mmalloc== statistics at exit"));
	assert_non_null(strstr(buf, "brk calls"));
	assert_non_null(strstr(buf, "mmap calls"));
	assert_non_null(strstr(buf, "bytes trimmed"));
	assert_non_null(strstr(buf, "bytes in fast bins"));
	assert_non_null(strstr(buf, "internal fragmentation"));
	assert_non_null(strstr(buf, "external fragmentation"));
}

/* The reports at exit of a program that closed its stderr (or put another
 * file at fd 2) reach the stderr it started with. */
static void test_reports_after_stderr_closed(void **state)
{
	(void)state;
	char buf[16384];
	char env[4200];
	const char *modes[] = { "closeerr", "reuseerr" };
	for (int m = 0; m < 2; m++) {
		assert_int_equal(rerun(modes[m], "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
		assert_non_null(strstr(buf, "==mmalloc== statistics at exit"));
		assert_non_null(strstr(buf, "external fragmentation"));
		const char *dso = getenv("MMALLOC_DEBUG_SO");
		assert_non_null(dso);
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", dso);
		const char *ways[] = { env, "MMALLOC_CHECK=1" };
		for (int w = 0; w < 2; w++) {
			assert_int_equal(rerun(modes[m], ways[w], buf, sizeof(buf)), 0);
			assert_non_null(strstr(buf, "(4242 bytes) never freed"));
			assert_non_null(strstr(buf, "allocated at:"));
			assert_non_null(strstr(buf, "preload_conform"));   /* backtrace too */
		}
		/* neither mode on: nothing */
		assert_int_equal(rerun(modes[m], NULL, buf, sizeof(buf)), 0);
		assert_null(strstr(buf, "mmalloc"));
	}
}

/* Debug mode, both ways of turning it on: a leak is reported at exit with
 * its size and call site, a double free aborts with a report, and so do a
 * write after free and an overflow still undetected at exit. */
static void test_debug_modes(void **state)
{
	(void)state;
	char buf[16384];
	char env[4200];
	const char *dso = getenv("MMALLOC_DEBUG_SO");
	assert_non_null(dso);
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", dso);
	const char *ways[] = { env, "MMALLOC_CHECK=1" };
	for (int w = 0; w < 2; w++) {
		assert_int_equal(rerun("leak", ways[w], buf, sizeof(buf)), 0);
		assert_non_null(strstr(buf, "mmalloc-debug: leak: "));
		assert_non_null(strstr(buf, "(4242 bytes) never freed"));
		assert_non_null(strstr(buf, "allocated at:"));
		assert_non_null(strstr(buf, "preload_conform"));   /* the call site */
		assert_int_equal(rerun("dfree", ways[w], buf, sizeof(buf)), 128 + SIGABRT);
		assert_non_null(strstr(buf, "mmalloc-debug: double free of "));
		assert_non_null(strstr(buf, "(77 bytes)"));
		/* damage that no free or realloc saw is found at exit: a write
		 * into a quarantined block, an overflow of a live block */
		assert_int_equal(rerun("uafexit", ways[w], buf, sizeof(buf)), 128 + SIGABRT);
		assert_non_null(strstr(buf, "mmalloc-debug: use after free: write into freed block "));
		assert_non_null(strstr(buf, " at offset 3\n"));
		assert_non_null(strstr(buf, "allocated at:"));
		assert_non_null(strstr(buf, "preload_conform"));
		assert_int_equal(rerun("overexit", ways[w], buf, sizeof(buf)), 128 + SIGABRT);
		assert_non_null(strstr(buf, "mmalloc-debug: guard bytes overwritten around "));
		assert_non_null(strstr(buf, "(10 bytes)"));
		assert_non_null(strstr(buf, "preload_conform"));
	}
	/* without debug mode: no report */
	assert_int_equal(rerun("leak", NULL, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "mmalloc-debug"));
}

static void *thread_alloc(void *arg)
{
	(void)arg;
	char *volatile p = malloc(100);   /* volatile: gcc may drop malloc+free */
	p[0] = 1;
	free(p);
	return NULL;
}

static void test_fork_child_mallocs(void **state)
{
	(void)state;
	pthread_t t;
	pthread_create(&t, NULL, thread_alloc, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char *x = malloc(12345);
		memset(x, 1, 12345);
		free(x);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	pthread_join(t, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A store gcc cannot drop, though nothing reads it (the block is freed
 * or never used again). */
__attribute__((noipa)) static void poke(char *p, size_t i)
{
	((volatile char *)p)[i] = 'x';
}

/* child modes */
static int child(const char *mode)
{
	if (strcmp(mode, "stats") == 0) {
		void *p = malloc(1000), *q = malloc(300000);
		malloc_stats();
		free(p);
		free(q);
		return 0;
	}
	if (strcmp(mode, "perturb") == 0) {
		unsigned char *volatile p = malloc(100);
		for (int i = 0; i < 100; i++)
			if (p[i] != (85 ^ 0xff))
				return 1;
		unsigned char *volatile z = calloc(1, 300000);
		for (int i = 0; i < 300000; i += 4096)
			if (z[i] != 0)
				return 2;
		free(z);
		free(p);
		if (p[50] != 85)      /* reads freed memory on purpose */
			return 3;
		return 0;
	}
	if (strcmp(mode, "trim") == 0) {
		char *volatile blk[40];
		for (int i = 0; i < 40; i++) {
			blk[i] = malloc(100 * 1024);
			blk[i][0] = 1;
		}
		for (int i = 39; i >= 0; i--)
			free(blk[i]);
		return mallinfo2().arena > (2u << 20);
	}
	if (strcmp(mode, "churn") == 0) {
		/* 30 x {400 blocks of 8000 B, freed newest first}: the exit
		 * status counts the cycles that gave most of the batch back
		 * (the break went down by more than 1 MiB) */
		static char *volatile blk[400];
		int shrank = 0;
		for (int r = 0; r < 30; r++) {
			for (int i = 0; i < 400; i++) {
				blk[i] = malloc(8000);
				blk[i][0] = 1;
			}
			char *high = sbrk(0);
			for (int i = 399; i >= 0; i--)
				free(blk[i]);
			shrank += (char *)sbrk(0) + (1 << 20) < high;
		}
		return shrank;
	}
	if (strcmp(mode, "toppad") == 0) {
		char *volatile p = malloc(100);
		p[0] = 1;
		int big = mallinfo2().arena >= (16u << 20);
		free(p);
		return big;
	}
	if (strcmp(mode, "slab") == 0) {
		/* blocks of two classes kept to the end: 100 B and 2000 B */
		int (*check)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mmalloc_check");
		static char *volatile keep[2][300];
		for (int i = 0; i < 300; i++) {
			keep[0][i] = malloc(100);
			keep[1][i] = malloc(2000);
			keep[0][i][99] = keep[1][i][1999] = 1;
		}
		return check() != 0;
	}
	if (strcmp(mode, "leak") == 0) {
		char *volatile p = malloc(4242);
		p[0] = 1;
		return 0;
	}
	if (strcmp(mode, "closeerr") == 0 || strcmp(mode, "reuseerr") == 0) {
		/* a leak, then stdout to /dev/null and stderr closed (as
		 * coreutils' close_stdout does); "reuseerr" then opens a file,
		 * which takes the number 2: the reports at exit must still
		 * reach the original stderr, and only it */
		char *volatile p = malloc(4242);
		p[0] = 1;
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) != 1 || close(null) != 0 || close(2) != 0)
			return 10;
		if (mode[0] == 'r' && open("/dev/null", O_WRONLY) != 2)
			return 11;
		return 0;
	}
	if (strcmp(mode, "uafexit") == 0) {
		/* a write after free into a block still in the quarantine at
		 * exit */
		char *volatile p = malloc(10);
		free(p);
		poke(p, 3);
		return 0;
	}
	if (strcmp(mode, "overexit") == 0) {
		char *volatile p = malloc(10);   /* overflowed, never freed */
		poke(p, 10);
		return 0;
	}
	if (strcmp(mode, "dfree") == 0) {
		char *volatile p = malloc(77);
		free(p);
		free(p);
		return 0;
	}
	if (strcmp(mode, "mmapcount") == 0) {
		struct mallinfo2 a = mallinfo2();
		char *volatile p = malloc(200 * 1024);  /* volatile: keep the call */
		p[0] = 1;
		struct mallinfo2 b = mallinfo2();
		free(p);
		return (int)(b.hblks - a.hblks);
	}
	if (strcmp(mode, "arenas") == 0) {
		thread_alloc(NULL);
		pthread_t t;
		pthread_create(&t, NULL, thread_alloc, NULL);
		pthread_join(t, NULL);
		char *buf;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		malloc_info(0, f);
		fclose(f);
		int n = 0;
		for (char *s = buf; (s = strstr(s, "<heap nr=")); s++)
			n++;
		free(buf);
		return n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	if (argc > 1)
		return child(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_surface),
		cmocka_unit_test(test_malloc_stats_format),
		cmocka_unit_test(test_malloc_info_format),
		cmocka_unit_test(test_malloc_info_threads),
		cmocka_unit_test(test_env_thresholds),
		cmocka_unit_test(test_stats_at_exit),
		cmocka_unit_test(test_reports_after_stderr_closed),
		cmocka_unit_test(test_slab_setting),
		cmocka_unit_test(test_fork_child_mallocs),
		cmocka_unit_test(test_debug_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
