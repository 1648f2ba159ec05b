/* exec of a real ELF file of the host: PT_LOAD segments as private file
 * mappings, the interpreter and every library ld.so loads through the shared page
 * cache, the heap and stack; and the synthetic layout's errors. */
#define _GNU_SOURCE
#include <limits.h>
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
	uint64_t w[41];   /* argc, 2 + 1, 2 + 1, 17 auxv pairs */
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
	uint64_t pagesz = 0, entry = 0, base = 0, execfn = 0, ehdr = 0;
	for (int i = 7; i + 1 < 41 && w[i] != 0; i += 2) {
		if (w[i] == 33)
			ehdr = w[i + 1];
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
	char want[64];   /* AT_SYSINFO_EHDR: the [vdso] */
	snprintf(want, sizeof(want), "%08llx-%08llx r-xp 00000000 00:00 0", (unsigned long long)ehdr,
		 (unsigned long long)ehdr + 8192);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(strstr(buf, want), " [vdso]\n"));
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

/* A dynamic program whose libraries need further libraries (libcurl needs
 * libssl, libssl libcrypto...), or any dynamic one. */
static const char *find_deep_binary(void)
{
	static const char *const cands[] = { "/usr/bin/curl", "/usr/bin/ssh", "/usr/bin/python3", "/usr/bin/git" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(cands); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return find_binary();
}

#define MAX_OBJS 128

struct objset {
	int n;
	char path[MAX_OBJS][PATH_MAX];
};

static void objset_add(struct objset *s, const char *p)
{
	char real[PATH_MAX];
	if (!realpath(p, real))
		return;
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->path[i], real))
			return;
	assert_true(s->n < MAX_OBJS);
	snprintf(s->path[s->n++], PATH_MAX, "%s", real);
}

/* What the real ld.so loads: LD_TRACE_LOADED_OBJECTS=1 (what ldd does)
 * prints "name => path (addr)" per library and "/interp (addr)". */
static bool host_objects(const char *bin, struct objset *s)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "LD_TRACE_LOADED_OBJECTS=1 %s 2>/dev/null", bin);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[PATH_MAX + 128];
	s->n = 0;
	while (fgets(line, sizeof(line), f)) {
		char path[PATH_MAX];
		const char *arrow = strstr(line, "=> ");
		if (arrow && sscanf(arrow + 3, "%4095s", path) == 1 && path[0] == '/')
			objset_add(s, path);
		else if (!arrow && sscanf(line, " %4095s", path) == 1 && path[0] == '/')
			objset_add(s, path);
	}
	return pclose(f) == 0 && s->n > 0;
}

/* The file-backed objects of a maps listing, each checked to be mapped
 * once (one line mapping its offset 0). */
static void maps_objects(const char *maps, struct objset *s)
{
	s->n = 0;
	for (const char *l = maps; *l; l = strchr(l, '\n') + 1) {
		const char *nl = strchr(l, '\n');
		const char *name = strchr(l, '/');
		if (!nl)
			break;
		if (!name || name > nl)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%.*s", (int)(nl - name), name);
		unsigned long long off;
		char perms[8];
		assert_int_equal(sscanf(strchr(l, ' ') + 1, "%7s %llx", perms, &off), 2);
		int before = s->n;
		objset_add(s, path);
		if (off == 0) {
			/* a second offset-0 line would be a second copy */
			int k = 0;
			for (const char *q = maps; (q = strstr(q, path)); q += strlen(path))
				if (q[strlen(path)] == '\n') {
					const char *ls = q;
					while (ls > maps && ls[-1] != '\n')
						ls--;
					k += sscanf(strchr(ls, ' ') + 1, "%7s %llx", perms, &off) == 2 && off == 0;
				}
			assert_int_equal(k, 1);
		}
		(void)before;
	}
}

static uint64_t line_start(const char *maps, const char *path)
{
	for (const char *q = maps; (q = strstr(q, path)); q += strlen(path))
		if (q[strlen(path)] == '\n' && q[-1] == ' ') {
			while (q > maps && q[-1] != '\n')
				q--;
			return strtoull(q, NULL, 16);
		}
	return 0;
}

/* exec loads what the real dynamic linker loads: breadth-first over the
 * DT_NEEDED entries of the executable and of every library, each once, so
 * maps lists exactly the executable, the interpreter and the libraries
 * LD_TRACE_LOADED_OBJECTS reports; plus [vvar], [vvar_vclock] and [vdso]. A
 * second process running the program shares every library page. */
static void test_exec_all_libraries(void **state)
{
	(void)state;
	const char *bin = find_deep_binary();
	static struct objset want, got;
	if (!bin || !host_objects(bin, &want))
		skip();   /* static, or no way to ask ld.so */
	objset_add(&want, bin);
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 128ULL << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	uint64_t free0 = free_after_drop(m);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "b", &b), 0);
	assert_int_equal(mm_exec(m, a, bin), 0);
	assert_int_equal(mm_exec(m, b, bin), 0);
	static char maps[1 << 17];
	mm_show_maps(m, a, maps, sizeof(maps));
	maps_objects(maps, &got);
	assert_int_equal(got.n, want.n);
	for (int i = 0; i < want.n; i++) {
		bool found = false;
		for (int j = 0; j < got.n && !found; j++)
			found = !strcmp(want.path[i], got.path[j]);
		if (!found)
			fail_msg("%s: ld.so loads %s, exec did not", bin, want.path[i]);
	}
	/* the vDSO and its data pages, of Linux 6.x's sizes, below the interpreter */
	const char *vv = strstr(maps, " [vvar]\n"), *vc = strstr(maps, " [vvar_vclock]\n"),
		   *vd = strstr(maps, " [vdso]\n");
	assert_true(vv && vc && vd && vv < vc && vc < vd);
	uint64_t vvar = line_start(maps, "[vvar]"), vclock = line_start(maps, "[vvar_vclock]"),
		 vdso = line_start(maps, "[vdso]");
	assert_int_equal(vclock - vvar, 16384);
	assert_int_equal(vdso - vclock, 8192);
	char want_vdso[64];
	snprintf(want_vdso, sizeof(want_vdso), "%08llx-%08llx r-xp 00000000 00:00 0",
		 (unsigned long long)vdso, (unsigned long long)vdso + 8192);
	assert_non_null(strstr(maps, want_vdso));
	/* both processes read the first page of every object: one frame each */
	char before[4096];
	mm_show_ps(m, before, sizeof(before));
	static char maps_b[1 << 17];
	mm_show_maps(m, b, maps_b, sizeof(maps_b));
	for (int i = 0; i < got.n; i++) {
		uint64_t va = line_start(maps, got.path[i]);
		assert_true(va != 0);
		assert_true(line_start(maps_b, got.path[i]) == va);   /* no ASLR: same layout */
		uint8_t magic[4];
		assert_int_equal(mm_read(m, a, va, magic, 4), 0);
		assert_memory_equal(magic, "\x7f" "ELF", 4);
		assert_int_equal(mm_read(m, b, va, magic, 4), 0);
		assert_true(mm_virt_to_phys(m, a, va) == mm_virt_to_phys(m, b, va));
	}
	/* ... which both count in SHR: 4 kB per object more than before */
	static char after[4096];
	mm_show_ps(m, after, sizeof(after));
	for (int i = 0; i < 2; i++) {
		const char *l0 = strchr(before, '\n') + 1, *l1 = strchr(after, '\n') + 1;
		if (i) {
			l0 = strchr(l0, '\n') + 1;
			l1 = strchr(l1, '\n') + 1;
		}
		unsigned pid0, vsz0, rss0, shr0, pid1, vsz1, rss1, shr1;
		assert_int_equal(sscanf(l0, "%u %u %u %u", &pid0, &vsz0, &rss0, &shr0), 4);
		assert_int_equal(sscanf(l1, "%u %u %u %u", &pid1, &vsz1, &rss1, &shr1), 4);
		assert_int_equal(shr1 - shr0, 4 * (unsigned)got.n);
	}
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, a);
	mm_exit(m, b);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(free_after_drop(m), free0);
	mm_machine_destroy(m);
}

/* A library that cannot be found: -MM_ENOENT before the point of no return
 * (the old layout stays), and mm_exec_error() names it as ld.so would. */
static void test_exec_missing_library(void **state)
{
	(void)state;
	const char *bin = find_binary();
	if (!bin)
		skip();
	FILE *f = fopen(bin, "rb");
	assert_non_null(f);
	static char img[1 << 22];
	size_t n = fread(img, 1, sizeof(img), f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(img));
	char *lib = memmem(img, n, "libc.so.6", 10);
	if (!lib)
		skip();   /* a static binary */
	lib[8] = 'Z';
	char path[] = "/tmp/mmsim-nolib-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, n), (ssize_t)n);
	close(fd);
	struct mm_machine *m = boot(MM_PAGING_4LEVEL);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "x", &t), 0);
	assert_int_equal(mm_exec_synthetic(m, t, 4096, 4096, 4096), 0);
	assert_int_equal(mm_exec(m, t, path), -MM_ENOENT);
	unlink(path);
	assert_non_null(strstr(mm_exec_error(), "libc.so.Z: cannot open shared object file"));
	mm_show_maps(m, t, buf, sizeof(buf));
	assert_true(strncmp(buf, "00400000-00401000 r-xp", 22) == 0);
	assert_int_equal(mm_exec(m, t, bin), 0);
	assert_string_equal(mm_exec_error(), "");
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_elf),
		cmocka_unit_test(test_execve_stack),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_exec_shared_libc),
		cmocka_unit_test(test_exec_all_libraries),
		cmocka_unit_test(test_exec_missing_library),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
