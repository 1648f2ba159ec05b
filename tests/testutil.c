#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(MMKIT_TSAN) || \
	defined(MMKIT_DEBUG)
#define SLOW_BUILD 1
#else
#define SLOW_BUILD 0
#endif

int mm_test_sanitized(void)
{
	return SLOW_BUILD;
}

uint64_t mm_test_seed(void)
{
	static uint64_t seed;
	static int have;
	if (!have) {
		const char *e = getenv("MMKIT_SEED");
		if (e && *e) {
			seed = strtoull(e, NULL, 0);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
			       ((uint64_t)getpid() << 32);
		}
		have = 1;
		fprintf(stderr, "test seed: MMKIT_SEED=%llu\n", (unsigned long long)seed);
	}
	return seed;
}

uint64_t mm_test_iters(uint64_t n)
{
	double scale = 1.0;
	const char *e = getenv("MMKIT_TEST_SCALE");
	if (e && *e)
		scale = strtod(e, NULL);
	if (SLOW_BUILD)
		scale /= 8.0;
	double r = (double)n * scale;
	return r < 1.0 ? 1 : (uint64_t)r;
}

void mm_test_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;
	while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
}

int mm_test_rerun(const char *self, const char *mode, const char *env, char *buf, size_t cap)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 2);
		dup2(fd[1], 1);
		close(fd[0]);
		static char envbuf[8192];
		if (env) {
			snprintf(envbuf, sizeof(envbuf), "%s", env);
			for (char *e = strtok(envbuf, " "); e; e = strtok(NULL, " "))
				putenv(e);
		}
		execl(self, self, mode, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	mm_test_read_all(fd[0], buf, cap);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

long mm_test_number_after(const char *text, const char *label)
{
	const char *s = strstr(text, label);
	return s ? strtol(s + strlen(label), NULL, 10) : -1;
}

int mm_test_run_child(void (*fn)(void *), void *arg, char *out, size_t cap)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	mm_test_read_all(fds[0], out, cap);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

const char *mm_test_expect_abort(void (*fn)(void *), void *arg, const char *const *needles)
{
	static char out[8192];
	int status = mm_test_run_child(fn, arg, out, sizeof(out));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("child did not abort (status 0x%x), stderr:\n%s", status, out);
	for (; needles && *needles; needles++)
		if (!strstr(out, *needles))
			fail_msg("expected \"%s\" in the child's stderr:\n%s", *needles, out);
	return out;
}
