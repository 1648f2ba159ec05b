/* The checking layer (mmalloc_dbg_*), called directly on the core: each
 * memory error is provoked in a forked child, which must die of SIGABRT
 * with a report naming the block's address, its size and the allocation
 * call site; verify() and the leak report count what they find. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

/* The child announces the block under test as "BLOCK <address>" before
 * provoking the error; the report must repeat that address. */
static void expect_abort(void (*fn)(void *), const char *what, const char *size_text)
{
	const char *err = mm_test_expect_abort(fn, NULL, (const char *const[]){ what, NULL });
	char addr[64] = "";
	const char *b = strstr(err, "BLOCK ");
	if (!b || sscanf(b, "BLOCK %63s", addr) != 1)
		fail_msg("child did not announce its block:\n%s", err);
	if (!strstr(b + 6 + strlen(addr), addr))
		fail_msg("report does not name the address %s:\n%s", addr, err);
	if (size_text && !strstr(err, size_text))
		fail_msg("report does not give the size '%s':\n%s", size_text, err);
	if (size_text && !strstr(err, "allocated at:"))
		fail_msg("report has no allocation site:\n%s", err);
}

static void announce(const void *p)
{
	dprintf(2, "BLOCK %p\n", p);
}

static unsigned char *make_block(size_t n)
{
	unsigned char *p = mmalloc_dbg_malloc(n);
	announce(p);
	return p;
}

static void do_double_free(void *arg)
{
	(void)arg;
	unsigned char *p = make_block(40);
	mmalloc_dbg_free(p);
	mmalloc_dbg_free(p);
}

static void do_overflow(void *arg)
{
	(void)arg;
	unsigned char *p = make_block(33);
	p[33] = 0;      /* one past the end */
	mmalloc_dbg_free(p);
}

static void do_underflow(void *arg)
{
	(void)arg;
	unsigned char *p = make_block(20);
	p[-1] = 0;
	mmalloc_dbg_free(p);
}

static void do_invalid_free(void *arg)
{
	(void)arg;
	unsigned char *p = mmalloc_dbg_malloc(64);
	announce(p + 32);
	mmalloc_dbg_free(p + 32);
}

static void do_use_after_free(void *arg)
{
	(void)arg;
	unsigned char *p = make_block(100);
	mmalloc_dbg_free(p);
	p[50] = 1;      /* write after free */
	/* push it out of the quarantine: more than 16 MiB of frees */
	for (int i = 0; i < 600; i++)
		mmalloc_dbg_free(mmalloc_dbg_malloc(32768));
}

static void do_realloc_freed(void *arg)
{
	(void)arg;
	unsigned char *p = make_block(8);
	mmalloc_dbg_free(p);
	mmalloc_dbg_realloc(p, 100);
}

static void test_double_free(void **state)
{
	(void)state;
	expect_abort(do_double_free, "double free of", "40 bytes");
}

static void test_overflow(void **state)
{
	(void)state;
	expect_abort(do_overflow, "guard bytes overwritten", "33 bytes");
}

static void test_underflow(void **state)
{
	(void)state;
	expect_abort(do_underflow, "guard bytes overwritten", "20 bytes");
}

static void test_invalid_free(void **state)
{
	(void)state;
	expect_abort(do_invalid_free, "invalid pointer", NULL);
}

static void test_use_after_free(void **state)
{
	(void)state;
	expect_abort(do_use_after_free, "use after free", "at offset 50");
}

static void test_realloc_of_freed(void **state)
{
	(void)state;
	expect_abort(do_realloc_freed, "realloc of freed block", "8 bytes");
}

static void test_clean_use_and_reports(void **state)
{
	(void)state;
	size_t before = mmalloc_dbg_leak_report();
	unsigned char *a = mmalloc_dbg_malloc(100);
	unsigned char *b = mmalloc_dbg_calloc(10, 10);
	for (int i = 0; i < 100; i++)
		assert_int_equal(b[i], 0);
	a = mmalloc_dbg_realloc(a, 5000);
	assert_non_null(a);
	assert_int_equal(mmalloc_dbg_usable_size(a), 5000);
	unsigned char *c = mmalloc_dbg_memalign(256, 77);
	assert_int_equal((uintptr_t)c % 256, 0);
	memset(c, 1, 77);
	assert_int_equal(mmalloc_dbg_verify(), 0);
	assert_int_equal(mmalloc_dbg_leak_report(), before + 3);
	/* damage detected by verify without aborting */
	c[77] = 0;
	assert_int_equal(mmalloc_dbg_verify(), 1);
	c[77] = 0xFD;
	mmalloc_dbg_free(a);
	mmalloc_dbg_free(b);
	mmalloc_dbg_free(c);
	assert_int_equal(mmalloc_dbg_verify(), 0);
	assert_int_equal(mmalloc_dbg_leak_report(), before);
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_underflow),
		cmocka_unit_test(test_invalid_free),
		cmocka_unit_test(test_use_after_free),
		cmocka_unit_test(test_realloc_of_freed),
		cmocka_unit_test(test_clean_use_and_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
