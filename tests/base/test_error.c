/* Error codes: names and messages for every code, sign handling, unknown
 * codes, the Linux errno values, and mm_panic / MM_BUG_ON aborting with the
 * file, line and message on stderr. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "mmkit/compiler.h"
#include "mmkit/error.h"

static const struct {
	int code;
	int linux_errno; /* 0 for mmkit's own codes */
	const char *name;
} codes[] = {
	{ MM_EPERM, EPERM, "EPERM" },         { MM_ENOENT, ENOENT, "ENOENT" },
	{ MM_EINTR, EINTR, "EINTR" },         { MM_EIO, EIO, "EIO" },
	{ MM_E2BIG, E2BIG, "E2BIG" },         { MM_EBADF, EBADF, "EBADF" },
	{ MM_EAGAIN, EAGAIN, "EAGAIN" },      { MM_ENOMEM, ENOMEM, "ENOMEM" },
	{ MM_EACCES, EACCES, "EACCES" },      { MM_EFAULT, EFAULT, "EFAULT" },
	{ MM_EBUSY, EBUSY, "EBUSY" },         { MM_EEXIST, EEXIST, "EEXIST" },
	{ MM_ENODEV, ENODEV, "ENODEV" },      { MM_EINVAL, EINVAL, "EINVAL" },
	{ MM_EMFILE, EMFILE, "EMFILE" },      { MM_EFBIG, EFBIG, "EFBIG" },
	{ MM_ENOSPC, ENOSPC, "ENOSPC" },      { MM_ERANGE, ERANGE, "ERANGE" },
	{ MM_ENOSYS, ENOSYS, "ENOSYS" },      { MM_EOVERFLOW, EOVERFLOW, "EOVERFLOW" },
	{ MM_EPARSE, 0, "EPARSE" },           { MM_ECORRUPT, 0, "ECORRUPT" },
	{ MM_EFAULTINJ, 0, "EFAULTINJ" },     { MM_ENOEXEC, ENOEXEC, "ENOEXEC" },
	{ MM_ESRCH, ESRCH, "ESRCH" },
};

static void test_every_code(void **state)
{
	(void)state;
	for (size_t i = 0; i < MM_ARRAY_SIZE(codes); i++) {
		int c = codes[i].code;
		if (codes[i].linux_errno)
			assert_int_equal(c, codes[i].linux_errno);
		else
			assert_true(c >= 1000); /* outside Linux's errno range */
		assert_string_equal(mm_errname(c), codes[i].name);
		assert_string_equal(mm_errname(-c), codes[i].name);
		const char *msg = mm_strerror(c);
		assert_non_null(msg);
		assert_true(strlen(msg) > 3);
		assert_string_not_equal(msg, "unknown error");
		assert_ptr_equal(mm_strerror(-c), msg);
		/* every message is distinct */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(mm_strerror(codes[j].code), msg);
	}
	assert_string_equal(mm_errname(MM_OK), "OK");
	assert_string_equal(mm_strerror(0), "success");
}

static void test_unknown(void **state)
{
	(void)state;
	const int unknown[] = { 6, 10, 999, 1003, -6, -5000, 1 << 30, -(1 << 30) };
	for (size_t i = 0; i < MM_ARRAY_SIZE(unknown); i++) {
		assert_string_equal(mm_strerror(unknown[i]), "unknown error");
		assert_string_equal(mm_errname(unknown[i]), "E?");
	}
}

static void child_panic(void *arg)
{
	(void)arg;
	MM_PANIC("pool %s lost %d elements", "demo", 3);
}

static volatile int corrupt_value = 1;

static void child_bug_on(void *arg)
{
	(void)arg;
	MM_BUG_ON(corrupt_value == 1);
}

static void test_panic_aborts(void **state)
{
	(void)state;
	mm_test_expect_abort(child_panic, NULL,
			     (const char *const[]){ "test_error.c:", "pool demo lost 3 elements", NULL });
	mm_test_expect_abort(child_bug_on, NULL, (const char *const[]){ "BUG: corrupt_value == 1", NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_panic_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
