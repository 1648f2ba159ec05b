/* fork() while other threads allocate: the pthread_atfork handlers hold
 * every arena lock across fork, so the child finds a consistent heap it
 * can allocate from, passes the heap checker, and exits cleanly. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

static int stop;

static void *churn(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	void *keep[32] = { 0 };
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned k = (unsigned)(s >> 40) % 32;
		mmalloc_free(keep[k]);
		size_t n = (s >> 20) % 4 == 0 ? (size_t)(s >> 33) % 200000 : (size_t)(s >> 33) % 700;
		keep[k] = mmalloc_malloc(n);
		if (keep[k])
			memset(keep[k], 0x33, n < 64 ? n : 64);
	}
	for (int i = 0; i < 32; i++)
		mmalloc_free(keep[i]);
	return NULL;
}

static int child_work(void)
{
	void *p[200];
	for (int i = 0; i < 200; i++) {
		p[i] = mmalloc_malloc((size_t)i * 97 + 1);
		if (!p[i])
			return 2;
		memset(p[i], 0x44, (size_t)i * 97 + 1);
	}
	for (int i = 0; i < 200; i += 2)
		mmalloc_free(p[i]);
	if (mmalloc_check() != 0)
		return 3;
	for (int i = 1; i < 200; i += 2)
		mmalloc_free(p[i]);
	void *big = mmalloc_malloc(1 << 20);
	if (!big)
		return 4;
	mmalloc_free(big);
	/* a thread in the child gets an arena too. Not under sanitizers:
	 * pthread_create allocates through the sanitizer's allocator, which
	 * does not hold its own locks across fork and can deadlock the child
	 * (glibc's malloc, in the normal build, does hold them). */
	if (!mm_test_sanitized()) {
		pthread_t t;
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
		if (pthread_create(&t, NULL, churn, (void *)7) != 0)
			return 5;
		pthread_join(t, NULL);
	}
	mmalloc_thread_flush();
	return mmalloc_check() == 0 ? 0 : 6;
}

static void test_fork_while_threads_allocate(void **state)
{
	(void)state;
	pthread_t t[3];
	__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
	for (uintptr_t i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
	int forks = (int)mm_test_iters(80);
	for (int f = 0; f < forks; f++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_work());
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
			for (int i = 0; i < 3; i++)
				pthread_join(t[i], NULL);
			mm_test_fail_seed("fork %d: child status %d (signal %d)", f,
					  WIFEXITED(st) ? WEXITSTATUS(st) : -1,
					  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_while_threads_allocate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
