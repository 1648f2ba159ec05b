/* fsync() and sync() in the machine: a dirty page of a shared file mapping
 * reaches the host file when the process calls mm_fsync() on the file (or
 * mm_machine_sync()), the page is clean afterwards (Dirty in meminfo is 0)
 * and a later store dirties it again; bad descriptors are -EBADF. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define PG 4096ULL
#define NPAGES 8

static void make_file(char *path)
{
	snprintf(path, 64, "/tmp/mmsim-fsync-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static char zero[PG];
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(write(fd, zero, PG), (ssize_t)PG);
	close(fd);
}

static uint64_t host_word(const char *path, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint64_t v = 0;
	assert_int_equal(pread(fd, &v, 8, (off_t)off), 8);
	close(fd);
	return v;
}

static uint64_t dirty_pages(struct mm_machine *m)
{
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.dirty_pages;
}

static void test_fsync_and_sync(void **state)
{
	(void)state;
	char path[64];
	make_file(path);
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "w", &t), 0);
	int fd = mm_open(m, t, path, MM_O_RDWR);
	assert_true(fd >= 0);
	int64_t a = mm_do_mmap(m, t, 0, NPAGES * PG, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_SHARED, fd, 0);
	assert_true(a > 0);
	for (uint64_t p = 0; p < NPAGES; p++) {
		uint64_t v = 0x1000 + p;
		assert_int_equal(mm_write(m, t, (uint64_t)a + p * PG + 16, &v, 8), 0);
	}
	assert_int_equal(dirty_pages(m), NPAGES);
	assert_int_equal(host_word(path, 16), 0);       /* not written yet */
	assert_int_equal(mm_fsync(m, t, fd), 0);
	assert_int_equal(dirty_pages(m), 0);
	for (uint64_t p = 0; p < NPAGES; p++)
		assert_int_equal(host_word(path, p * PG + 16), 0x1000 + p);
	/* a store after fsync dirties the page again; sync() writes it */
	uint64_t v = 0xabcd;
	assert_int_equal(mm_write(m, t, (uint64_t)a + 3 * PG + 24, &v, 8), 0);
	assert_int_equal(dirty_pages(m), 1);
	assert_int_equal(mm_machine_sync(m), 0);
	assert_int_equal(dirty_pages(m), 0);
	assert_int_equal(host_word(path, 3 * PG + 24), 0xabcd);
	assert_int_equal(mm_fsync(m, t, fd + 1), -MM_EBADF);
	assert_int_equal(mm_fsync(m, t, -1), -MM_EBADF);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsync_and_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
