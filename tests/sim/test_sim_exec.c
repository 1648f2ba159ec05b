/* exec of a real ELF file of the host: PT_LOAD segments as private file
 * mappings, the interpreter and DT_NEEDED libraries through the shared page
 * cache, the heap and stack; and the synthetic layout's errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

static char buf[1 << 16];

static struct mm_machine *boot(enum mm_paging_mode mode)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 64ULL << 20;
	cfg.paging = mode;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static const char *find_binary(void)
{
	static const char *const cands[] = { "/usr/bin/true", "/bin/true", "/usr/bin/sleep", "/bin/sleep" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(cands); i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	return NULL;
}

static uint64_t free_after_drop(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages;
}

static void test_exec_elf(void **state)
{
	(void)state;
	const char *bin = find_binary();
	if (!bin)
		skip();
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	uint64_t free0 = free_after_drop(m);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "sh", &a), 0);
	assert_int_equal(mm_task_create(m, "sh", &b), 0);
	assert_int_equal(mm_exec(m, a, bin), 0);
	assert_string_equal(mm_task_comm(a), strrchr(bin, '/') + 1);
	mm_show_maps(m, a, buf, sizeof(buf));
	/* the executable's segments, named by path, and the stack */
	assert_non_null(strstr(buf, bin));
	assert_non_null(strstr(buf, "r-xp"));
	assert_non_null(strstr(buf, "[stack]\n"));
	/* the first PT_LOAD maps the ELF header: read it through the MMU */
	unsigned long long start = strtoull(buf, NULL, 16);
	uint8_t magic[4];
	struct mm_counters c0, c1;
	mm_task_counters(a, &c0);
	assert_int_equal(mm_read(m, a, start, magic, 4), 0);
	assert_memory_equal(magic, "\x7f" "ELF", 4);
	mm_task_counters(a, &c1);
	assert_int_equal(c1.maj_flt - c0.maj_flt, 1);   /* read from the host file */
	/* a second process running the same file shares the page */
	assert_int_equal(mm_exec(m, b, bin), 0);
	mm_task_counters(b, &c0);
	assert_int_equal(mm_read(m, b, start, magic, 4), 0);
	mm_task_counters(b, &c1);
	assert_int_equal(c1.maj_flt - c0.maj_flt, 0);
	assert_int_equal(c1.min_flt - c0.min_flt, 1);
	assert_true(mm_virt_to_phys(m, a, start) == mm_virt_to_phys(m, b, start));
	/* the heap starts after the image; brk works */
	uint64_t brk0 = mm_do_brk(m, a, 0);
	assert_true(brk0 > start);
	assert_true(mm_do_brk(m, a, brk0 + 10000) == brk0 + 10000);
	uint64_t v = 5;
	assert_int_equal(mm_write(m, a, brk0 + 100, &v, 8), 0);
	mm_show_status(m, a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "RssFile:"));
	assert_int_equal(mm_machine_check(m), 0);
	/* fork and exit of an exec'ed process */
	struct mm_task *c;
	assert_int_equal(mm_fork(m, a, &c), 0);
	assert_int_equal(mm_read(m, c, brk0 + 100, &v, 8), 0);
	assert_true(v == 5);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	mm_exit(m, a);
	mm_exit(m, b);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(free_after_drop(m), free0);
	mm_machine_destroy(m);
}

static void read_str(struct mm_machine *m, struct mm_task *t, uint64_t va, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(mm_read(m, t, va + i, &out[i], 1), 0);
		if (!out[i])
			return;
	}
	out[n - 1] = 0;
}

/* argv, envp and the auxiliary vector on the new stack, as the ABI says */
static void test_execve_stack(void **state)
{
	(void)state;
	const char *bin = find_binary();
	if (!bin)
		skip();
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "sh", &t), 0);
	const char *argv[] = { "prog", "--version", NULL };
	const char *envp[] = { "HOME=/root", "LANG=C", NULL };
	assert_int_equal(mm_execve(m, t, bin, argv, envp), 0);
	uint64_t sp = mm_task_start_stack(t);
	assert_int_equal(sp % 16, 0);
	assert_true(sp < 0x7ffffffff000ULL && sp > 0x7ffffffff000ULL - 4096);
	uint64_t w[39];   /* argc, 2 + 1, 2 + 1, 16 auxv pairs */
	assert_int_equal(mm_read(m, t, sp, w, sizeof(w)), 0);
	assert_int_equal(w[0], 2);                          /* argc */
	char s[64];
	read_str(m, t, w[1], s, sizeof(s));
	assert_string_equal(s, "prog");
	read_str(m, t, w[2], s, sizeof(s));
	assert_string_equal(s, "--version");
	assert_int_equal(w[3], 0);
	read_str(m, t, w[4], s, sizeof(s));
	assert_string_equal(s, "HOME=/root");
	read_str(m, t, w[5], s, sizeof(s));
	assert_string_equal(s, "LANG=C");
	assert_int_equal(w[6], 0);
	/* the auxiliary vector */
	uint64_t pagesz = 0, entry = 0, base = 0, execfn = 0;
	for (int i = 7; i + 1 < 39 && w[i] != 0; i += 2) {
		if (w[i] == 6)
			pagesz = w[i + 1];
		if (w[i] == 9)
			entry = w[i + 1];
		if (w[i] == 7)
			base = w[i + 1];
		if (w[i] == 31)
			execfn = w[i + 1];
	}
	assert_int_equal(pagesz, 4096);
	assert_true(entry >= 0x555555554000ULL);   /* inside the PIE image */
	read_str(m, t, execfn, s, sizeof(s));
	assert_string_equal(s, bin);
	mm_show_maps(m, t, buf, sizeof(buf));
	if (strstr(buf, "ld-linux")) {
		char want[32];
		snprintf(want, sizeof(want), "%08llx-", (unsigned long long)base);
		assert_non_null(strstr(buf, want));   /* AT_BASE: the interpreter's start */
	}
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_exec_errors(void **state)
{
	(void)state;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "x", &t), 0);
	assert_int_equal(mm_exec_synthetic(m, t, 4096, 4096, 4096), 0);
	assert_int_equal(mm_exec(m, t, "/nonexistent/binary"), -MM_ENOENT);
	char path[] = "/tmp/mmsim-notelf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n" "........................................................", 74), 74);
	close(fd);
	/* not ELF: ENOEXEC, as search_binary_handler() returns */
	assert_int_equal(mm_exec(m, t, path), -MM_ENOEXEC);
	unlink(path);
	/* nothing changed: the synthetic layout is still there */
	mm_show_maps(m, t, buf, sizeof(buf));
	assert_true(strncmp(buf, "00400000-00401000 r-xp", 22) == 0);
	/* a 64-bit binary cannot run on the 32-bit machine */
	const char *bin = find_binary();
	if (bin) {
		struct mm_machine *m32 = boot(MM_PAGING_2LEVEL);
		struct mm_task *u;
		assert_int_equal(mm_task_create(m32, "x", &u), 0);
		assert_int_equal(mm_exec(m32, u, bin), -MM_ENOEXEC);   /* elf_check_arch */
		mm_machine_destroy(m32);
	}
	assert_int_equal(mm_exec_synthetic(m, t, 4096, 0, 0), -MM_EINVAL);   /* has VMAs */
	mm_machine_destroy(m);
}

/* The libraries a dynamic executable needs (DT_NEEDED: libc) are file
 * mappings shared through the page cache: the first process to touch a
 * page of libc reads it from the host (major fault), a second one maps the
 * same frame (minor fault), and both count it in RssFile and SHR. */
static void test_exec_shared_libc(void **state)
{
	(void)state;
	const char *bin = find_binary();
	if (!bin)
		skip();
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "b", &b), 0);
	assert_int_equal(mm_exec(m, a, bin), 0);
	assert_int_equal(mm_exec(m, b, bin), 0);
	mm_show_maps(m, a, buf, sizeof(buf));
	const char *lib = strstr(buf, "/libc.so.6\n");
	if (!lib)
		skip();   /* a static binary */
	while (lib > buf && lib[-1] != '\n')
		lib--;
	/* the first libc line maps offset 0: the ELF header */
	uint64_t start = strtoull(lib, NULL, 16);
	assert_true(strncmp(strchr(lib, ' ') + 1, "r--p 00000000 ", 14) == 0);
	char before[4096];
	mm_show_ps(m, before, sizeof(before));
	struct mm_counters a0, a1, b0, b1;
	mm_task_counters(a, &a0);
	mm_task_counters(b, &b0);
	uint8_t magic[4];
	assert_int_equal(mm_read(m, a, start, magic, 4), 0);
	assert_memory_equal(magic, "\x7f" "ELF", 4);
	assert_int_equal(mm_read(m, b, start, magic, 4), 0);
	assert_memory_equal(magic, "\x7f" "ELF", 4);
	mm_task_counters(a, &a1);
	mm_task_counters(b, &b1);
	assert_int_equal(a1.maj_flt - a0.maj_flt, 1);
	assert_int_equal(a1.min_flt - a0.min_flt, 0);
	assert_int_equal(b1.maj_flt - b0.maj_flt, 0);
	assert_int_equal(b1.min_flt - b0.min_flt, 1);
	assert_true(mm_virt_to_phys(m, a, start) == mm_virt_to_phys(m, b, start));
	/* RssFile and SHR grew by that page in both */
	mm_show_ps(m, buf, sizeof(buf));
	unsigned pid, vsz0, rss0, shr0, pid1, vsz1, rss1, shr1;
	for (int i = 0; i < 2; i++) {
		const char *l0 = strchr(before, '\n') + 1, *l1 = strchr(buf, '\n') + 1;
		if (i) {
			l0 = strchr(l0, '\n') + 1;
			l1 = strchr(l1, '\n') + 1;
		}
		assert_int_equal(sscanf(l0, "%u %u %u %u", &pid, &vsz0, &rss0, &shr0), 4);
		assert_int_equal(sscanf(l1, "%u %u %u %u", &pid1, &vsz1, &rss1, &shr1), 4);
		assert_int_equal(pid, pid1);
		assert_int_equal(shr1 - shr0, 4);
		assert_int_equal(rss1 - rss0, 4);
	}
	mm_show_status(m, b, buf, sizeof(buf));
	assert_non_null(strstr(buf, "RssFile:\t       4 kB\n"));
	/* the page is cached once and mapped twice */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_true(mi.mapped_pages >= 1);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, a);
	mm_exit(m, b);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_elf),
		cmocka_unit_test(test_execve_stack),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_exec_shared_libc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
