/* MAP_HUGETLB: huge pages from the pool mapped by PS entries, one TLB entry
 * per huge page, fork copy-on-write of huge pages, the pool's accounting. */
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

static char buf[1 << 15];

static void run(enum mm_paging_mode mode)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.paging = mode;
	cfg.nr_hugepages = 4;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	uint64_t hsz = mode == MM_PAGING_2LEVEL ? 4ULL << 20 : 2ULL << 20;
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HugePages_Total:       4\nHugePages_Free:        4\n"));
	assert_int_equal(mm_machine_check(m), 0);
	struct mm_task *t, *c;
	assert_int_equal(mm_task_create(m, "huge", &t), 0);
	const int rw = MM_PROT_READ | MM_PROT_WRITE, fl = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_HUGETLB;
	assert_int_equal(mm_do_mmap(m, t, 0, 5 * hsz, rw, fl, -1, 0), -MM_ENOMEM);   /* pool too small */
	assert_int_equal(mm_do_mmap(m, t, 0, hsz, rw, MM_MAP_SHARED | MM_MAP_ANONYMOUS | MM_MAP_HUGETLB, -1, 0),
			 -MM_EINVAL);
	assert_int_equal(mm_do_mmap(m, t, hsz + 4096, hsz, rw, fl | MM_MAP_FIXED, -1, 0), -MM_EINVAL);
	int64_t a = mm_do_mmap(m, t, 0, 2 * hsz - 4096, rw, fl, -1, 0);   /* rounded up to 2 */
	assert_true(a > 0);
	assert_int_equal((uint64_t)a % hsz, 0);
	/* one fault and one walk per huge page; then every 4 KiB inside hits */
	for (uint64_t off = 0; off < 2 * hsz; off += 4096) {
		uint64_t v = off;
		assert_int_equal(mm_write(m, t, (uint64_t)a + off, &v, 8), 0);
	}
	struct mm_counters k;
	mm_task_counters(t, &k);
	assert_int_equal(k.min_flt, 2);
	assert_int_equal(k.tlb_misses, 4);   /* two faulting walks, two retries */
	/* the first faulting walk stops at the empty root entry; the second at
	 * the empty PDE (levels - 1 reads); each retry reads levels - 1 entries
	 * down to the PS entry */
	assert_int_equal(k.walk_refs, 1 + 3 * (mode - 1));
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HugePages_Free:        2\n"));
	mm_show_status(m, t, buf, sizeof(buf));
	char want[64];
	snprintf(want, sizeof(want), "HugetlbPages:\t%8llu kB\n", (unsigned long long)(2 * hsz >> 10));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "VmRSS:\t       0 kB\n"));   /* not in RSS, as Linux */
	mm_show_pagewalk(m, t, (uint64_t)a + 12345, buf, sizeof(buf));
	assert_non_null(strstr(buf, " PS"));
	assert_int_equal(mm_machine_check(m), 0);
	/* fork: the child shares the huge pages until one side writes */
	assert_int_equal(mm_fork(m, t, &c), 0);
	uint64_t r;
	assert_int_equal(mm_read(m, c, (uint64_t)a + hsz + 8192, &r, 8), 0);
	assert_true(r == hsz + 8192);
	uint64_t v = 42;
	assert_int_equal(mm_write(m, c, (uint64_t)a + 8, &v, 8), 0);   /* copies 1 huge page */
	mm_task_counters(c, &k);
	assert_int_equal(k.cow_copies, 1);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HugePages_Free:        1\n"));
	assert_int_equal(mm_read(m, t, (uint64_t)a + 8, &r, 8), 0);
	assert_true(r == 0);      /* the parent's page is untouched */
	assert_int_equal(mm_read(m, c, (uint64_t)a + 8, &r, 8), 0);
	assert_true(r == 42);
	assert_int_equal(mm_read(m, c, (uint64_t)a + 4096, &r, 8), 0);
	assert_true(r == 4096);   /* the copy kept the rest of the page */
	assert_int_equal(mm_write(m, t, (uint64_t)a + 16, &v, 8), 0);   /* sole owner now: reuse */
	mm_task_counters(t, &k);
	assert_int_equal(k.cow_reuses, 1);
	mm_show_smaps(m, t, buf, sizeof(buf));
	snprintf(want, sizeof(want), "KernelPageSize:     %4llu kB\n", (unsigned long long)(hsz >> 10));
	assert_non_null(strstr(buf, want));
	assert_int_equal(mm_machine_check(m), 0);
	/* huge VMAs cut only at huge boundaries */
	assert_int_equal(mm_do_munmap(m, c, (uint64_t)a + 4096, 4096), -MM_EINVAL);
	assert_int_equal(mm_do_mprotect(m, c, (uint64_t)a, hsz, MM_PROT_READ), 0);
	assert_int_equal(mm_write(m, c, (uint64_t)a, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_do_munmap(m, c, (uint64_t)a + hsz, hsz), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	mm_exit(m, t);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HugePages_Free:        4\n"));
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_hugetlb(void **state)
{
	(void)state;
	run(MM_PAGING_4LEVEL);
	run(MM_PAGING_5LEVEL);
	run(MM_PAGING_2LEVEL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hugetlb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
