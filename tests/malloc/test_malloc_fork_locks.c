/* The fork handlers release exactly the locks the prepare handler took
 * (arena.c mm_fork_prepare / mm_fork_child). Arena locks are skipped
 * while __libc_single_threaded is set, and that flag can differ between
 * the prepare handler and the child handler: under ThreadSanitizer a
 * single-threaded parent's child already reads it clear, so mm_fork_child
 * unlocks arena mutexes nobody locked ("unlock of an unlocked mutex",
 * the child exits with TSan's status 66). This test forks from a
 * single-threaded process and wants the child to exit 0; it fails only
 * in the MMKIT_TSAN build. */
#include <sys/wait.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

static void test_fork_from_single_thread(void **state)
{
	(void)state;
	mmalloc_free(mmalloc_malloc(100));   /* initialised, one thread */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *p = mmalloc_malloc(100);
		mmalloc_free(p);
		_exit(mmalloc_check() == 0 ? 0 : 1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_from_single_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
