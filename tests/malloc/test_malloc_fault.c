/* Fault injection through the OS layer: with mmap and brk failing, every
 * allocation path returns NULL with errno = ENOMEM, leaves the heap intact
 * (checker passes) and recovers once the OS works again. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mmkit/mmalloc.h"
#include "testutil.h"

#define ALL (MMALLOC_FAULT_MMAP | MMALLOC_FAULT_BRK)

static void exhaust_and_recover(void)
{
	/* big requests need the OS at once */
	mmalloc_fault_inject(ALL, 1, -1);
	errno = 0;
	assert_null(mmalloc_malloc(64 << 20));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mmalloc_calloc(1, 10 << 20));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(mmalloc_memalign(4096, 8 << 20));
	assert_int_equal(errno, ENOMEM);
	void *out = NULL;
	assert_int_equal(mmalloc_posix_memalign(&out, 64, 8 << 20), ENOMEM);
	assert_null(out);

	/* a block that cannot grow keeps its contents */
	char *keep = mmalloc_malloc(1000);
	if (keep) {
		memset(keep, 0x7e, 1000);
		errno = 0;
		assert_null(mmalloc_realloc(keep, 32 << 20));
		assert_int_equal(errno, ENOMEM);
		for (int i = 0; i < 1000; i++)
			assert_int_equal(keep[i], 0x7e);
	}

	/* small requests: use up what the arena has, then NULL + ENOMEM */
	void *blocks[100000];
	size_t n = 0;
	while (n < 100000) {
		errno = 0;
		void *p = mmalloc_malloc(2000);
		if (!p) {
			assert_int_equal(errno, ENOMEM);
			break;
		}
		blocks[n++] = p;
	}
	assert_true(n < 100000);
	assert_int_equal(mmalloc_check(), 0);
	mmalloc_fault_inject(0, 0, 0);

	/* the OS is back: the same requests work */
	void *big = mmalloc_malloc(64 << 20);
	assert_non_null(big);
	if (keep) {
		keep = mmalloc_realloc(keep, 32 << 20);
		assert_non_null(keep);
		assert_int_equal(keep[999], 0x7e);
	}
	for (size_t i = 0; i < n; i++)
		mmalloc_free(blocks[i]);
	mmalloc_free(big);
	mmalloc_free(keep);
	mmalloc_thread_flush();
	assert_int_equal(mmalloc_check(), 0);
}

static void test_main_arena(void **state)
{
	(void)state;
	exhaust_and_recover();
}

static void *thread_body(void *arg)
{
	(void)arg;
	mmalloc_free(mmalloc_malloc(100));   /* attach to an arena first */
	exhaust_and_recover();
	return NULL;
}

static void test_thread_arena(void **state)
{
	(void)state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_body, NULL), 0);
	pthread_join(t, NULL);
}

/* Fail only the Nth call, for each N: whatever fails, the heap stays
 * whole and later calls succeed. */
static void test_nth_failure(void **state)
{
	(void)state;
	for (long nth = 1; nth <= 6; nth++) {
		mmalloc_fault_inject(ALL, nth, 1);
		void *p[64];
		for (int i = 0; i < 64; i++) {
			p[i] = mmalloc_malloc((size_t)(i % 8) * 50000 + 100);
			if (!p[i])
				assert_int_equal(errno, ENOMEM);
		}
		assert_int_equal(mmalloc_check(), 0);
		for (int i = 0; i < 64; i++)
			mmalloc_free(p[i]);
		mmalloc_fault_inject(0, 0, 0);
		assert_int_equal(mmalloc_check(), 0);
	}
	struct mmalloc_os_counters c;
	mmalloc_os_counters(&c);
	assert_true(c.failures > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_arena),
		cmocka_unit_test(test_thread_arena),
		cmocka_unit_test(test_nth_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
