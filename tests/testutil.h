/* Shared helpers for the cmocka test programs.
 *
 * Randomized tests take their seed from mm_test_seed(): MMKIT_SEED=<n> in the
 * environment replays a run; otherwise a fresh seed is drawn. The seed is
 * printed up front and again if the test fails, so any failure can be replayed.
 * MMKIT_TEST_SCALE (default 1.0) scales iteration counts; sanitizer builds
 * set a smaller default through mm_test_iters().
 */
#ifndef MMKIT_TESTUTIL_H
#define MMKIT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The seed for this run (stable within one process). */
uint64_t mm_test_seed(void);

/* n scaled by MMKIT_TEST_SCALE, and by 1/8 under sanitizers; at least 1. */
uint64_t mm_test_iters(uint64_t n);

/* True when built with ASan/UBSan/TSan (slow builds). */
int mm_test_sanitized(void);

/* Read fd to its end (or until cap - 1 bytes) into buf, NUL-terminated, and
 * close it. */
void mm_test_read_all(int fd, char *buf, size_t cap);

/* Run fn(arg) in a forked child with its stderr captured in out (cap bytes,
 * NUL-terminated; stdout and stderr are flushed first); returns the child's
 * wait status. A child that returns from fn exits with status 0. */
int mm_test_run_child(void (*fn)(void *), void *arg, char *out, size_t cap);

/* Run the program `self` again (execl) with the one argument `mode` and
 * the NAME=VALUE settings of env (separated by spaces; NULL for none)
 * added to its environment; its stdout and stderr go to buf (cap bytes,
 * NUL-terminated). Returns its exit status, or 128 + the signal that
 * ended it. */
int mm_test_rerun(const char *self, const char *mode, const char *env, char *buf, size_t cap);

/* The decimal number right after the first `label` in text, or -1 if the
 * label is not there. */
long mm_test_number_after(const char *text, const char *label);

/* Run fn(arg) in a child that must die of SIGABRT with each string of needles
 * (NULL-terminated list; NULL for none) in its stderr; fails the test (showing
 * that stderr) otherwise. Returns the captured stderr (a static buffer, valid
 * until the next call). */
const char *mm_test_expect_abort(void (*fn)(void *), void *arg, const char *const *needles);

/* Print "replay with MMKIT_SEED=..." and fail the current test. */
#define mm_test_fail_seed(...)                                                  \
	do {                                                                    \
		print_error(__VA_ARGS__);                                       \
		print_error("\nreplay with MMKIT_SEED=%llu\n",                  \
			    (unsigned long long)mm_test_seed());                \
		fail();                                                         \
	} while (0)

#endif
