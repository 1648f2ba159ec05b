/* The /proc views in Linux's layouts, and their numbers agreeing with each
 * other: meminfo vs free, status vs maps, smaps Pss summing to the resident
 * frames, ps, the page-walk explanation, and a page-touch workload giving
 * one minor fault per page as the real kernel does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

static char buf[1 << 16];

static struct mm_machine *boot(enum mm_paging_mode mode)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.paging = mode;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static uint64_t field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	assert_non_null(p);
	return strtoull(p + strlen(name), NULL, 10);
}

static void test_meminfo_free(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "v", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 100 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_POPULATE, -1, 0);
	assert_true(a > 0);
	mm_show_meminfo(m, buf, sizeof(buf));
	/* the layout: "Name:" padded to 15, value right-aligned in 9, " kB" */
	assert_non_null(strstr(buf, "\nAnonPages:           400 kB\n"));
	assert_non_null(strstr(buf, "\nVmallocTotal:   34359738367 kB\n"));   /* as on x86-64 Linux */
	assert_true(strncmp(buf, "MemTotal:       ", 16) == 0);
	uint64_t total = field(buf, "MemTotal:"), fr = field(buf, "MemFree:");
	uint64_t pt = field(buf, "PageTables:");
	assert_int_equal(pt, 4 * 4);   /* root, PUD, PMD, PT */
	assert_int_equal(field(buf, "Committed_AS:"), 400);   /* the private writable mapping */
	assert_int_equal(field(buf, "CommitLimit:"), (total / 4) * 50 / 100 * 4);   /* no swap */
	char fb[512];
	mm_show_free(m, fb, sizeof(fb));
	assert_true(strncmp(fb, "               total        used        free      shared  buff/cache   available\nMem:", 85) == 0);
	unsigned long long ft, fu, ff, fs, fc, fa;
	assert_int_equal(sscanf(strchr(fb, '\n') + 1, "Mem: %llu %llu %llu %llu %llu %llu", &ft, &fu, &ff, &fs, &fc, &fa), 6);
	/* procps-ng 4: used = total - available (linux-formats/free.txt) */
	assert_true(ft == total && ff == fr && fu == total - fa);
	/* MemAvailable: free above the reserves plus droppable cache */
	uint64_t avail = field(buf, "MemAvailable:");
	assert_true(fa == avail && avail < fr && avail > fr / 2);
	assert_non_null(strstr(fb, "\nSwap:              0           0           0\n"));
	mm_show_vmstat(m, buf, sizeof(buf));
	assert_int_equal(field(buf, "\npgfault "), 100);
	assert_int_equal(field(buf, "nr_anon_pages "), 100);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_status_smaps_pss(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "parent", &p), 0);
	assert_int_equal(mm_exec_synthetic(m, p, 0x3000, 0x1000, 0x2000), 0);
	int64_t a = mm_do_mmap(m, p, 0, 8 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	uint64_t v = 1;
	for (int i = 0; i < 8; i++)
		assert_int_equal(mm_write(m, p, (uint64_t)a + i * 4096, &v, 8), 0);
	assert_int_equal(mm_write(m, p, 0x7ffffffff000ULL - 8, &v, 8), 0);   /* stack */
	assert_int_equal(mm_fork(m, p, &c), 0);
	/* the child writes 4 pages: those become private to each */
	for (int i = 0; i < 4; i++)
		assert_int_equal(mm_write(m, c, (uint64_t)a + i * 4096, &v, 8), 0);
	mm_show_status(m, p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Name:\tparent\n"));
	assert_int_equal(field(buf, "VmRSS:"), 9 * 4);
	assert_int_equal(field(buf, "RssAnon:"), 9 * 4);
	assert_int_equal(field(buf, "VmStk:"), 132);
	assert_int_equal(field(buf, "VmExe:"), 12);
	assert_int_equal(field(buf, "VmSize:"), 12 + 4 + 8 + 132 + 32);
	assert_non_null(strstr(buf, "VmRSS:\t      36 kB\n"));
	/* smaps: the mmap'ed area of the parent: 4 shared (COW) + 4 private pages */
	mm_show_smaps(m, p, buf, sizeof(buf));
	char key[64];
	snprintf(key, sizeof(key), "%08llx-", (unsigned long long)a);
	const char *vma = strstr(buf, key);
	assert_non_null(vma);
	assert_int_equal(field(vma, "Rss:"), 32);
	assert_int_equal(field(vma, "Pss:"), 16 + 8);
	assert_int_equal(field(vma, "Shared_Dirty:"), 16);
	assert_int_equal(field(vma, "Private_Dirty:"), 16);
	assert_int_equal(field(vma, "Anonymous:"), 32);
	assert_non_null(strstr(vma, "\nVmFlags: rd wr mr mw me ac \n"));
	assert_non_null(strstr(buf, "Size:                  8 kB\n"));
	/* the sum of Pss over processes is the resident user memory */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	uint64_t pss = mm_task_pss_bytes(m, p) + mm_task_pss_bytes(m, c);
	assert_int_equal(pss, mi.anon_pages * 4096);
	mm_show_ps(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "    PID    VSZ   RSS   SHR  MINFL  MAJFL COMMAND\n"));
	assert_non_null(strstr(buf, "      1    188    36     0      9      0 parent\n"));
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_pagewalk_text(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "w", &t), 0);
	assert_int_equal(mm_do_mmap(m, t, 0x12345000, 4096, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0), 0x12345000);
	mm_show_pagewalk(m, t, 0x12345678, buf, sizeof(buf));
	assert_non_null(strstr(buf, "not present"));
	uint64_t v = 9;
	assert_int_equal(mm_write(m, t, 0x12345678, &v, 8), 0);
	mm_show_pagewalk(m, t, 0x12345678, buf, sizeof(buf));
	/* 0x12345678: PML4 0, PDPT 0, PD 0x91, PT 0x145, offset 0x678 */
	assert_non_null(strstr(buf, "PML4E index    0 (bits 39-47)"));
	assert_non_null(strstr(buf, "PDE   index  145 (bits 21-29)"));
	assert_non_null(strstr(buf, "PTE   index  325 (bits 12-20)"));
	assert_non_null(strstr(buf, "P RW U A D NX"));
	int64_t pa = mm_virt_to_phys(m, t, 0x12345678);
	char want[128];
	snprintf(want, sizeof(want), "= physical %#llx\n", (unsigned long long)pa);
	assert_non_null(strstr(buf, want));
	mm_show_buddyinfo(m, buf, sizeof(buf));
	assert_true(strncmp(buf, "Node 0, zone      DMA ", 22) == 0);
	mm_show_slabinfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "vm_area_struct"));
	mm_machine_destroy(m);
}

/* A page-touch workload: the real kernel takes one minor fault per page
 * touched (first write of a private anonymous page); so must mmsim, in
 * every paging mode, whatever the order of the touches. */
static void test_one_fault_per_page(void **state)
{
	(void)state;
	static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };
	for (size_t k = 0; k < MM_ARRAY_SIZE(modes); k++) {
		struct mm_machine *m = boot(modes[k]);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "touch", &t), 0);
		uint64_t pages = 1000;
		int64_t a = mm_do_mmap(m, t, 0, pages * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		assert_true(a > 0);
		/* a strided permutation, several touches per page */
		for (int rep = 0; rep < 3; rep++)
			for (uint64_t i = 0; i < pages; i++) {
				uint64_t pg = (i * 379) % pages, v = i;
				assert_int_equal(mm_write(m, t, (uint64_t)a + pg * 4096 + rep * 64, &v, 8), 0);
			}
		struct mm_counters c;
		mm_task_counters(t, &c);
		assert_int_equal(c.min_flt, pages);
		assert_int_equal(c.maj_flt, 0);
		mm_machine_destroy(m);
	}
}

/* The same touches on the host: the real kernel's minor-fault count (from
 * getrusage) must match the simulator's, one per page. Transparent huge
 * pages are turned off for the region, as mmsim has none. */
static void test_faults_match_host_kernel(void **state)
{
	(void)state;
	const size_t pages = 2000;
	uint8_t *h = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(h != MAP_FAILED);
	(void)madvise(h, pages * 4096, MADV_NOHUGEPAGE);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < pages; i++)
			h[((i * 379) % pages) * 4096 + (size_t)rep * 64] = (uint8_t)i;
	getrusage(RUSAGE_SELF, &r1);
	long host = r1.ru_minflt - r0.ru_minflt;
	munmap(h, pages * 4096);

	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "touch", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, pages * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < pages; i++) {
			uint8_t v = (uint8_t)i;
			assert_int_equal(mm_write(m, t, (uint64_t)a + ((i * 379) % pages) * 4096 + (size_t)rep * 64,
						  &v, 1), 0);
		}
	struct mm_counters c;
	mm_task_counters(t, &c);
	mm_machine_destroy(m);
	/* the host may add a few faults of its own (the test harness, the
	 * mmap of the host region's page tables does not count) */
	if (host < (long)pages || host > (long)pages + 50)
		skip();   /* THP or fault-around still active on this host */
	assert_int_equal(c.min_flt, pages);
	assert_true((long)c.min_flt <= host && host - (long)c.min_flt <= 50);
}

/* Each line starts with `name` followed by `sep`, in this order. */
static void assert_rows_in_order(const char *text, const char *const *names, size_t n, char sep)
{
	const char *p = text;
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "%s%c", names[i], sep);
		const char *q = p;
		size_t len = strlen(want);
		while (q && strncmp(q, want, len) != 0) {
			q = strchr(q, '\n');
			if (q)
				q++;
		}
		if (!q || !*q)
			fail_msg("row %s missing or out of order", names[i]);
		p = q;
	}
}

/* The rows of /proc/meminfo, /proc/vmstat and /proc/PID/status in Linux's
 * order (linux-formats/meminfo, vmstat and status, x86-64, 6.x). */
static void test_row_order(void **state)
{
	(void)state;
	static const char *const meminfo_rows[] = {
		"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
		"Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
		"Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty",
		"Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable",
		"SUnreclaim", "KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce",
		"WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
		"VmallocChunk", "Percpu", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped",
		"FileHugePages", "FilePmdMapped", "Balloon", "HugePages_Total", "HugePages_Free",
		"HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb", "DirectMap4k",
		"DirectMap2M", "DirectMap1G",
	};
	static const char *const vmstat_rows[] = {
		"nr_free_pages", "nr_slab_unreclaimable", "nr_anon_pages", "nr_mapped",
		"nr_file_pages", "nr_shmem", "nr_page_table_pages", "pgpgin", "pgpgout", "pswpin",
		"pswpout", "pgfault", "pgmajfault",
	};
	static const char *const status_rows[] = {
		"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
		"FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "Kthread", "VmPeak",
		"VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
		"VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages",
		"CoreDumping", "THP_enabled", "untag_mask", "Threads", "SigQ", "SigPnd", "ShdPnd",
		"SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
		"NoNewPrivs", "Seccomp", "Seccomp_filters", "Speculation_Store_Bypass",
		"SpeculationIndirectBranch", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed",
		"Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
	};
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "rows", &t), 0);
	mm_show_status(m, t, buf, sizeof(buf));
	assert_rows_in_order(buf, status_rows, MM_ARRAY_SIZE(status_rows), ':');
	assert_non_null(strstr(buf, "\nGroups:\t \n"));   /* Linux's trailing space */
	mm_exit(m, t);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_rows_in_order(buf, meminfo_rows, MM_ARRAY_SIZE(meminfo_rows), ':');
	mm_show_vmstat(m, buf, sizeof(buf));
	assert_rows_in_order(buf, vmstat_rows, MM_ARRAY_SIZE(vmstat_rows), ' ');
	mm_machine_destroy(m);
}

/* DirectMap rows: the direct map's leaf sizes (arch_report_meminfo). 4-level
 * with gbpages: 1 GiB pages where aligned, 2 MiB for the rest; without
 * gbpages no DirectMap1G row; 32-bit non-PAE: 4 MiB pages of the first
 * 896 MiB (DirectMap4M). */
static void test_direct_map_rows(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = (1ULL << 30) + (8ULL << 20);
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nDirectMap4k:           0 kB\nDirectMap2M:        8192 kB\n"
				    "DirectMap1G:     1048576 kB\n"));
	mm_machine_destroy(m);
	cfg.gbpages = false;
	cfg.ram_bytes = 32ULL << 20;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nDirectMap4k:           0 kB\nDirectMap2M:       32768 kB\n"));
	assert_null(strstr(buf, "DirectMap1G"));
	mm_machine_destroy(m);
	mm_machine_config_init(&cfg);
	cfg.paging = MM_PAGING_2LEVEL;
	cfg.ram_bytes = 32ULL << 20;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nDirectMap4k:           0 kB\nDirectMap4M:       32768 kB\n"));
	assert_null(strstr(buf, "DirectMap1G"));
	mm_machine_destroy(m);
}

/* The vsyscall gate page ends maps and smaps of every 64-bit process
 * (linux-formats/maps, last line), and is not part of the mm (VmSize); a
 * 32-bit process has none. */
static void test_vsyscall_gate(void **state)
{
	(void)state;
	static const char gate[] =
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "g", &t), 0);
	mm_show_maps(m, t, buf, sizeof(buf));
	assert_string_equal(buf, gate);   /* no VMAs yet: the gate alone */
	assert_int_equal(mm_exec_synthetic(m, t, 4096, 4096, 4096), 0);
	mm_show_maps(m, t, buf, sizeof(buf));
	size_t n = strlen(buf);
	assert_true(n > sizeof(gate) && strcmp(buf + n - (sizeof(gate) - 1), gate) == 0);
	mm_show_smaps(m, t, buf, sizeof(buf));
	const char *g = strstr(buf, gate);
	assert_non_null(g);
	assert_int_equal(field(g, "Size:"), 4);
	assert_int_equal(field(g, "Rss:"), 0);
	assert_non_null(strstr(g, "\nVmFlags: ex \n"));
	mm_show_status(m, t, buf, sizeof(buf));
	assert_int_equal(field(buf, "VmSize:"), 4 + 4 + 4 + 132);   /* text, data, bss, stack */
	mm_machine_destroy(m);
	m = boot(MM_PAGING_2LEVEL);
	assert_int_equal(mm_task_create(m, "g", &t), 0);
	mm_show_maps(m, t, buf, sizeof(buf));
	assert_string_equal(buf, "");
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_free),
		cmocka_unit_test(test_row_order),
		cmocka_unit_test(test_direct_map_rows),
		cmocka_unit_test(test_vsyscall_gate),
		cmocka_unit_test(test_status_smaps_pss),
		cmocka_unit_test(test_pagewalk_text),
		cmocka_unit_test(test_one_fault_per_page),
		cmocka_unit_test(test_faults_match_host_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
