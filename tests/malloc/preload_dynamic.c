/* The interposed library (LD_PRELOAD=libmmalloc.so, set by CTest) against
 * numbers glibc gives as well:
 *  - the dynamic mmap threshold: freeing a mapped chunk raises the threshold
 *    to its size, but not above 32 MiB, and not at all once a threshold
 *    was fixed by the environment or mallopt;
 *  - MMALLOC_STATS=1: the counters at exit follow the work done (calls to
 *    mmap/munmap/brk, bytes trimmed, free bytes in the bins, external
 *    fragmentation of a heap with holes, internal fragmentation of 1-byte
 *    and of 4096-byte requests).
 * Each case runs in a fresh child process (`self MODE`), since the
 * thresholds are process-wide and only move one way. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char self[4096];

/* Run `self mode` with extra NAME=VALUE settings (space separated); its
 * exit status, and its stdout and stderr in buf. */
static int rerun(const char *mode, const char *env1, char *buf, size_t cap)
{
	return mm_test_rerun(self, mode, env1, buf, cap);
}

/* 1 if a malloc(n) is served by its own mapping. */
static int mapped(size_t n)
{
	size_t before = mallinfo2().hblks;
	char *volatile p = malloc(n);   /* volatile: gcc may drop malloc+free */
	p[0] = 1;
	int m = mallinfo2().hblks == before + 1;
	free(p);
	return m;
}

/* The dynamic threshold, step by step; the exit status is a bit mask of
 * which requests were mapped (the same under glibc 2.36: 0x2d by default,
 * 0x3f with a threshold fixed). */
static int dyn_steps(int fix_by_mallopt)
{
	if (fix_by_mallopt)
		mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	int r = 0;
	r |= mapped(1 << 20) << 0;          /* above 128 KiB: mapped; freeing it raises */
	r |= mapped(1 << 20) << 1;          /* now below the threshold: heap */
	r |= mapped(40 << 20) << 2;         /* mapped; too big to raise the threshold */
	r |= mapped(2 << 20) << 3;          /* still above the 1 MiB threshold: mapped */
	r |= mapped(2 << 20) << 4;          /* raised to 2 MiB by the last free: heap */
	r |= mapped(33 << 20) << 5;         /* above 32 MiB: always mapped */
	return r;
}

static void test_dynamic_threshold(void **state)
{
	(void)state;
	char buf[4096];
	assert_int_equal(rerun("dyn", NULL, buf, sizeof(buf)), 0x2d);
	/* a threshold fixed by the environment or mallopt: no raise */
	assert_int_equal(rerun("dyn", "MALLOC_MMAP_THRESHOLD_=131072", buf, sizeof(buf)), 0x3f);
	assert_int_equal(rerun("dyn", "MALLOC_TOP_PAD_=131072", buf, sizeof(buf)), 0x3f);
	assert_int_equal(rerun("dyn", "MALLOC_TRIM_THRESHOLD_=131072", buf, sizeof(buf)), 0x3f);
	assert_int_equal(rerun("dyn", "MALLOC_MMAP_MAX_=65536", buf, sizeof(buf)), 0x3f);
	assert_int_equal(rerun("dynopt", NULL, buf, sizeof(buf)), 0x3f);
}

/* The value printed after `label` in an MMALLOC_STATS report, or -1. */
static long stat_value(const char *buf, const char *label)
{
	return mm_test_number_after(buf, label);
}

static void test_stats_values(void **state)
{
	(void)state;
	char buf[8192];
	/* with nothing done, nothing is unmapped or trimmed */
	assert_int_equal(rerun("nothing", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	assert_int_equal(stat_value(buf, "munmap calls"), 0);
	assert_int_equal(stat_value(buf, "bytes trimmed"), 0);
	/* fixed thresholds, so mappings are unmapped and the top trimmed at
	 * once, as in glibc */
	assert_int_equal(rerun("work", "MMALLOC_STATS=1 MALLOC_MMAP_THRESHOLD_=131072", buf,
			       sizeof(buf)), 0);
	assert_non_null(strstr(buf, "==mmalloc== statistics at exit"));
	assert_true(stat_value(buf, "mmap calls") >= 3);
	assert_true(stat_value(buf, "munmap calls") >= 3);
	assert_true(stat_value(buf, "brk calls") >= 2);
	assert_true(stat_value(buf, "bytes trimmed") >= 3 << 20);
	/* 200 chunks of 5000-byte requests (class 5120) freed between kept
	 * ones: free bytes in the bins (unsorted until a malloc sorts them)
	 * or, the newest few, in the thread's cache; and free memory in
	 * pieces: external fragmentation well above 0 */
	assert_int_equal(rerun("holes", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	long in_bins = stat_value(buf, "bytes in unsorted bin") + stat_value(buf, "bytes in small bins") +
		       stat_value(buf, "bytes in large bins");
	long cached = stat_value(buf, "bytes in this thread cache");
	assert_true(in_bins >= 180 * 5120);
	assert_true(in_bins + cached >= 200 * 5120);
	assert_in_range(stat_value(buf, "external fragmentation"), 50, 100);
	/* 1-byte requests in 32-byte blocks: about 97% internal fragmentation */
	assert_int_equal(rerun("tiny", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	assert_in_range(stat_value(buf, "internal fragmentation"), 90, 100);
	/* 4096-byte requests in 4112-byte blocks: below 1% */
	assert_int_equal(rerun("page", "MMALLOC_STATS=1", buf, sizeof(buf)), 0);
	assert_int_equal(stat_value(buf, "internal fragmentation"), 0);
	/* not asked for: no report */
	assert_int_equal(rerun("work", NULL, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "==mmalloc=="));
}

static int child(const char *mode)
{
	if (strcmp(mode, "dyn") == 0)
		return dyn_steps(0);
	if (strcmp(mode, "dynopt") == 0)
		return dyn_steps(1);
	if (strcmp(mode, "nothing") == 0)
		return 0;
	if (strcmp(mode, "work") == 0) {
		for (int i = 0; i < 3; i++) {   /* mapped, then unmapped */
			char *volatile m = malloc(1 << 20);
			m[0] = 1;
			free(m);
		}
		static char *volatile blk[40];  /* 4 MB of heap, freed: trimmed */
		for (int i = 0; i < 40; i++) {
			blk[i] = malloc(100 * 1024);
			blk[i][0] = 1;
		}
		for (int i = 39; i >= 0; i--)
			free(blk[i]);
		return 0;
	}
	if (strcmp(mode, "holes") == 0) {
		static char *volatile mid[400];
		for (int i = 0; i < 400; i++) {
			mid[i] = malloc(5000);
			mid[i][0] = 1;
		}
		for (int i = 0; i < 400; i += 2)
			free(mid[i]);
		return 0;
	}
	if (strcmp(mode, "tiny") == 0 || strcmp(mode, "page") == 0) {
		size_t n = mode[0] == 't' ? 1 : 4096;
		static char *volatile keep[20000];
		for (int i = 0; i < 20000; i++) {
			keep[i] = malloc(n);
			keep[i][0] = 1;
		}
		return 0;
	}
	return 99;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	if (argc > 1)
		return child(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic_threshold),
		cmocka_unit_test(test_stats_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
