/* The OOM killer and the kernel log: dmesg's format and ring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "sim_internal.h"   /* mm_klog */
#include "testutil.h"

static struct mm_machine *boot(uint64_t ram_mib)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = ram_mib << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

/* ---- dmesg ------------------------------------------------------------------- */

/* Does s look like "[%5lu.%06lu] " ? Returns the timestamp in microseconds. */
static long long stamp_of(const char *s)
{
	unsigned long long sec, usec;
	int n = 0;
	assert_int_equal(sscanf(s, "[%5llu.%6llu]%n", &sec, &usec, &n), 2);
	assert_int_equal(n, 14);
	assert_int_equal(s[0], '[');
	assert_int_equal(s[6], '.');
	assert_int_equal(s[14], ' ');
	return (long long)(sec * 1000000 + usec);
}

static void test_dmesg_format(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	char buf[256];
	assert_int_equal(mm_show_dmesg(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	mm_klog(m, "hello %d", 42);
	assert_int_equal(mm_show_dmesg(m, buf, sizeof(buf)), strlen("[    0.000000] hello 42\n"));
	assert_string_equal(buf, "[    0.000000] hello 42\n");
	/* the clock is the cost model's time: 1000 page faults at 1 us each
	 * (plus the accesses) move it past a millisecond */
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "p", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 1000 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(mm_write(m, t, (uint64_t)a + (uint64_t)i * 4096, &i, sizeof(i)), 0);
	mm_klog(m, "second\n");   /* a trailing newline is not doubled */
	size_t n = mm_show_dmesg(m, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	char *l2 = strchr(buf, '\n') + 1;
	assert_true(stamp_of(l2) >= 1000);
	assert_string_equal(l2 + 15, "second\n");
	/* snprintf semantics: the full length whatever the buffer */
	char small[8];
	assert_int_equal(mm_show_dmesg(m, small, sizeof(small)), n);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(mm_show_dmesg(m, NULL, 0), n);
	mm_exit(m, t);
	mm_machine_destroy(m);
}

static void test_dmesg_ring_wraps(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	/* 64 KiB ring: 5000 lines of ~40 bytes keep the newest whole lines */
	for (int i = 0; i < 5000; i++)
		mm_klog(m, "line %05d %s", i, "xxxxxxxxxxxxxxxxxx");
	size_t n = mm_show_dmesg(m, NULL, 0);
	assert_true(n <= 64 * 1024 && n > 60 * 1024);
	char *buf = malloc(n + 1);
	assert_int_equal(mm_show_dmesg(m, buf, n + 1), n);
	/* first line whole, last line the newest, consecutive in between */
	assert_int_equal(buf[0], '[');
	int first, prev = -1, count = 0;
	for (char *p = buf; *p; p = strchr(p, '\n') + 1) {
		stamp_of(p);
		int k;
		assert_int_equal(sscanf(p + 15, "line %d", &k), 1);
		if (prev >= 0)
			assert_int_equal(k, prev + 1);
		else
			first = k;
		prev = k;
		count++;
	}
	assert_int_equal(prev, 4999);
	assert_int_equal(first + count, 5000);
	/* a line longer than the line buffer is cut, not overflowed */
	char *big = malloc(5000);
	memset(big, 'y', 4999);
	big[4999] = '\0';
	mm_klog(m, "%s", big);
	free(buf);
	n = mm_show_dmesg(m, NULL, 0);
	assert_true(n <= 64 * 1024);
	buf = malloc(n + 1);
	assert_int_equal(mm_show_dmesg(m, buf, n + 1), n);
	char *last = buf + n - 1;
	assert_int_equal(*last, '\n');
	while (last > buf && last[-1] != '\n')
		last--;
	assert_int_equal(strlen(last), 1023);   /* the 1 KiB line buffer, newline kept */
	assert_int_equal(last[1021], 'y');
	free(big);
	free(buf);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dmesg_format),
		cmocka_unit_test(test_dmesg_ring_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
