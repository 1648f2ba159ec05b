/* The sample traces shipped in examples/traces/ read cleanly, are detected
 * as the right format, and hold what their README says. */
#include <limits.h>
#include <stdio.h>

#include "trace_test.h"

/* examples/traces/<name>, found from this source file's path */
static void example_path(char *buf, size_t n, const char *name)
{
	const char *f = __FILE__;
	const char *cut = strstr(f, "tests/trace/");
	assert_non_null(cut);
	snprintf(buf, n, "%.*sexamples/traces/%s", (int)(cut - f), f, name);
}

static void read_example(struct tt_run *run, const char *name, enum mm_trace_fmt fmt,
			 const char *comp)
{
	char path[PATH_MAX], err[600];
	struct mm_trace_rec rec;
	example_path(path, sizeof(path), name);
	memset(run, 0, sizeof(*run));
	struct mm_trace *t = mm_trace_open(path, NULL, err, sizeof(err));
	if (!t)
		fail_msg("%s", err);
	assert_int_equal(mm_trace_format(t), fmt);
	assert_string_equal(mm_trace_compression(t), comp);
	while ((run->rc = mm_trace_next(t, &rec)) == 1)
		tt_push(run, &rec);
	if (run->rc != 0)
		fail_msg("%s", mm_trace_error(t));
	mm_trace_close(t);
}

static void test_touch_lackey(void **state)
{
	(void)state;
	struct tt_run run;
	read_example(&run, "touch.lk.gz", MM_TRACE_FMT_LACKEY, "gzip");
	uint64_t kinds[MM_TRACE_SYSCALL + 1] = { 0 };
	const struct mm_trace_rec *map = NULL, *prot = NULL, *unmap = NULL;
	int brks = 0;
	for (size_t i = 0; i < run.n; i++) {
		const struct mm_trace_rec *r = &run.r[i];
		kinds[r->kind]++;
		if (r->kind != MM_TRACE_SYSCALL)
			continue;
		if (r->sys.which == MM_SYS_MMAP && r->size == 16 * 4096)
			map = r;
		if (map && r->sys.which == MM_SYS_MPROTECT && r->addr == map->addr)
			prot = r;
		if (map && r->sys.which == MM_SYS_MUNMAP && r->addr == map->addr)
			unmap = r;
		brks += r->sys.which == MM_SYS_BRK;
	}
	/* the counts the README gives (they change if the trace is recorded again) */
	assert_int_equal(run.n, 49836);
	assert_int_equal(kinds[MM_TRACE_IFETCH], 41003);
	assert_int_equal(kinds[MM_TRACE_READ], 7275);
	assert_int_equal(kinds[MM_TRACE_WRITE], 1508);
	assert_int_equal(kinds[MM_TRACE_MODIFY], 41);
	assert_int_equal(kinds[MM_TRACE_SYSCALL], 9);
	assert_int_equal(brks, 5);
	/* touch.c: mmap 16 pages, mprotect the first 8 read-only, munmap them all */
	assert_non_null(map);
	assert_non_null(prot);
	assert_non_null(unmap);
	assert_false(map->sys.failed);
	assert_true(map->sys.args[2] == 3 && prot->size == 8 * 4096 && prot->sys.args[2] == 1 &&
		    unmap->size == 16 * 4096 && map->line < prot->line && prot->line < unmap->line);
	/* the stores of the first loop: one byte at the start of every page */
	int stores = 0, modifies = 0;
	for (size_t i = 0; i < run.n; i++) {
		const struct mm_trace_rec *r = &run.r[i];
		if (r->line > map->line && r->line < prot->line && r->size == 1 &&
		    r->addr >= map->addr && r->addr < map->addr + map->size) {
			stores += r->kind == MM_TRACE_WRITE && (r->addr & 4095) == 0;
			modifies += r->kind == MM_TRACE_MODIFY && (r->addr & 4095) == 1;
		}
	}
	assert_int_equal(stores, 16);
	assert_int_equal(modifies, 16);
	tt_free(&run);
}

static void test_small_examples(void **state)
{
	(void)state;
	struct tt_run run;
	read_example(&run, "belady.txt", MM_TRACE_FMT_TXT, "plain");
	static const uint64_t belady[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
	assert_int_equal(run.n, 12);
	for (int i = 0; i < 12; i++)
		assert_true(run.r[i].addr == belady[i] && run.r[i].flags == MM_TREC_ID);
	tt_free(&run);

	read_example(&run, "matrix.addr", MM_TRACE_FMT_ADDR, "plain");
	assert_int_equal(run.n, 65);
	for (int i = 0; i < 32; i++) { /* row-major writes, then column-major reads */
		assert_int_equal(run.r[i].kind, MM_TRACE_WRITE);
		assert_true(run.r[i].addr == 0x10000 + (uint64_t)(i / 8) * 4096 + (i % 8) * 512);
		assert_int_equal(run.r[32 + i].kind, MM_TRACE_READ);
		assert_true(run.r[32 + i].addr == 0x10000 + (uint64_t)(i % 4) * 4096 + (i / 4) * 512);
	}
	assert_true(run.r[64].addr == 131072 && run.r[64].kind == MM_TRACE_WRITE);
	tt_free(&run);

	read_example(&run, "cache.csv", MM_TRACE_FMT_CSV, "plain");
	assert_int_equal(run.n, 60);
	for (size_t i = 0; i < run.n; i++) {
		assert_int_equal(run.r[i].flags, MM_TREC_ID | MM_TREC_TIME | MM_TREC_SIZE);
		assert_true(i == 0 || run.r[i].time >= run.r[i - 1].time);
		assert_true(run.r[i].kind == MM_TRACE_READ || run.r[i].kind == MM_TRACE_WRITE ||
			    run.r[i].kind == MM_TRACE_DELETE);
	}
	tt_free(&run);
}

/* sort.lk.zst: streamed (4.7 M records), counted by kind */
static void test_sort_lackey(void **state)
{
	(void)state;
	char path[PATH_MAX], err[600];
	example_path(path, sizeof(path), "sort.lk.zst");
	struct mm_trace *t = mm_trace_open(path, NULL, err, sizeof(err));
	if (!t)
		fail_msg("%s", err);
	assert_int_equal(mm_trace_format(t), MM_TRACE_FMT_LACKEY);
	assert_string_equal(mm_trace_compression(t), "zstd");
	uint64_t kinds[MM_TRACE_SYSCALL + 1] = { 0 };
	struct mm_trace_rec rec;
	int rc;
	while ((rc = mm_trace_next(t, &rec)) == 1)
		kinds[rec.kind]++;
	if (rc != 0)
		fail_msg("%s", mm_trace_error(t));
	mm_trace_close(t);
	assert_int_equal(kinds[MM_TRACE_IFETCH], 3351852);
	assert_int_equal(kinds[MM_TRACE_READ], 918967);
	assert_int_equal(kinds[MM_TRACE_WRITE], 459625);
	assert_int_equal(kinds[MM_TRACE_MODIFY], 15840);
	assert_int_equal(kinds[MM_TRACE_SYSCALL], 22);   /* of 204: the mapping calls */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touch_lackey),
		cmocka_unit_test(test_sort_lackey),
		cmocka_unit_test(test_small_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
