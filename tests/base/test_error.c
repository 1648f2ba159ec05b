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
	const int unknown[] = { 3, 6, 999, 1003, -3, -5000, 1 << 30, -(1 << 30) };
	for (size_t i = 0; i < MM_ARRAY_SIZE(unknown); i++) {
		assert_string_equal(mm_strerror(unknown[i]), "unknown error");
		assert_string_equal(mm_errname(unknown[i]), "E?");
	}
}

/* Run fn in a child; return its stderr (in buf) and its wait status. */
static int run_child(void (*fn)(void), char *buf, size_t len)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn();
		_exit(0);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t n;
	while (got + 1 < len && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void child_panic(void)
{
	MM_PANIC("pool %s lost %d elements", "demo", 3);
}

static volatile int corrupt_value = 1;

static void child_bug_on(void)
{
	MM_BUG_ON(corrupt_value == 1);
}

static void test_panic_aborts(void **state)
{
	(void)state;
	char buf[512];
	int st = run_child(child_panic, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_non_null(strstr(buf, "test_error.c:"));
	assert_non_null(strstr(buf, "pool demo lost 3 elements"));

	st = run_child(child_bug_on, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_non_null(strstr(buf, "BUG: corrupt_value == 1"));
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
