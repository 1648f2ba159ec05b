/* The OOM killer and the kernel log.
 *
 * dmesg: the line format, the clock, the ring dropping its oldest lines.
 * The OOM killer: the process with the highest badness dies (oom_score_adj
 * -1000 protects, +1000 picks), its memory all comes back, the others'
 * data stay intact byte for byte, the report lines carry the numbers the
 * victim's status showed, fork inherits oom_score_adj, a victim that is the
 * faulting process sees -MM_ESRCH and stays a zombie until reaped, no
 * victim means -MM_ENOMEM with nothing changed; mm_machine_check() is
 * clean after every kill; a randomized run with fork and COW kills
 * processes and checks the survivors against a shadow model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
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
	/* the clock's ticks count too: 150 ticks at HZ=100 are 1.5 s */
	long long before = stamp_of(l2);
	mm_machine_tick(m, 150);
	mm_klog(m, "third");
	n = mm_show_dmesg(m, buf, sizeof(buf));
	char *l3 = strchr(l2, '\n') + 1;
	assert_true(stamp_of(l3) - before >= 1500000 && stamp_of(l3) - before < 1600000);
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
	int first = -1, prev = -1, count = 0;
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

/* ---- helpers ------------------------------------------------------------------ */

#define BASE 0x10000000ULL

/* Free pages after drop_caches plus the slab's page-map leaves (kept for
 * the machine's life once made, like mem_map; see test_sim_oom). */
static uint64_t free_after_drop(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages + mi.slab_pagemap_pages;
}

/* A kB row of /proc/PID/status ("VmRSS:" ...), in kB. */
static uint64_t status_kb(struct mm_machine *m, struct mm_task *t, const char *row)
{
	static char buf[8192];
	mm_show_status(m, t, buf, sizeof(buf));
	const char *p = strstr(buf, row);
	assert_non_null(p);
	unsigned long long v;
	assert_int_equal(sscanf(p + strlen(row), " %llu kB", &v), 1);
	return v;
}

/* A process with an anonymous mapping of `pages` pages at BASE, each page
 * written with its own pattern (tag, page). */
static struct mm_task *proc_with(struct mm_machine *m, const char *name, uint64_t pages, int tag)
{
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, name, &t), 0);
	assert_int_equal(mm_do_mmap(m, t, BASE, 4096 * 4096, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_NORESERVE,
				    -1, 0),
			 (int64_t)BASE);
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t v[2] = { (uint64_t)tag << 32 | i, ~i };
		assert_int_equal(mm_write(m, t, BASE + i * 4096 + 8 * (i % 500), v, sizeof(v)), 0);
	}
	return t;
}

static void check_pattern(struct mm_machine *m, struct mm_task *t, uint64_t pages, int tag)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t v[2];
		assert_int_equal(mm_read(m, t, BASE + i * 4096 + 8 * (i % 500), v, sizeof(v)), 0);
		assert_true(v[0] == ((uint64_t)tag << 32 | i) && v[1] == ~i);
	}
}

/* Write fresh pages in t from page `from` on until the OOM killer kills
 * someone (stop_at true after the write) or the write fails; returns the
 * last write's result and the pages written in *n. */
static int grow_until(struct mm_machine *m, struct mm_task *t, uint64_t from, struct mm_task *watch,
		      uint64_t *n)
{
	int r = 0;
	for (*n = 0; from + *n < 4096; (*n)++) {
		uint64_t v = from + *n;
		r = mm_write(m, t, BASE + (from + *n) * 4096, &v, sizeof(v));
		if (r || (watch && mm_task_killed(watch)))
			break;
	}
	return r;
}

static uint64_t vmstat_oom_kill(struct mm_machine *m)
{
	static char buf[16384];
	mm_show_vmstat(m, buf, sizeof(buf));
	const char *p = strstr(buf, "\noom_kill ");
	assert_non_null(p);
	return strtoull(p + 10, NULL, 10);
}

/* The dmesg text (a static buffer). */
static const char *dmesg(struct mm_machine *m)
{
	static char buf[64 * 1024 + 1];
	mm_show_dmesg(m, buf, sizeof(buf));
	return buf;
}

/* Does dmesg hold a line whose message (after the timestamp) is exactly msg? */
static bool dmesg_has_line(struct mm_machine *m, const char *msg)
{
	const char *d = dmesg(m);
	for (const char *p = d; *p; p = strchr(p, '\n') + 1) {
		const char *e = strchr(p, '\n');
		if ((size_t)(e - p) == 15 + strlen(msg) && !memcmp(p + 15, msg, strlen(msg)))
			return true;
	}
	return false;
}

/* The numbers the OOM report shows for t, read from its status. */
struct snap {
	uint64_t vm_kb, anon_kb, file_kb, shmem_kb, pte_kb, swap_kb;
};

static struct snap snap_of(struct mm_machine *m, struct mm_task *t)
{
	struct snap s = { status_kb(m, t, "VmSize:"), status_kb(m, t, "RssAnon:"),
			  status_kb(m, t, "RssFile:"), status_kb(m, t, "RssShmem:"),
			  status_kb(m, t, "VmPTE:"), status_kb(m, t, "VmSwap:") };
	return s;
}

static void expect_kill_lines(struct mm_machine *m, struct mm_task *v, const struct snap *s, int adj)
{
	char line[512];
	snprintf(line, sizeof(line),
		 "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
		 "file-rss:%llukB, shmem-rss:%llukB, UID:0 pgtables:%llukB oom_score_adj:%d",
		 mm_task_pid(v), mm_task_comm(v), (unsigned long long)s->vm_kb,
		 (unsigned long long)s->anon_kb, (unsigned long long)s->file_kb,
		 (unsigned long long)s->shmem_kb, (unsigned long long)s->pte_kb, adj);
	if (!dmesg_has_line(m, line))
		fail_msg("missing: %s\n--- dmesg:\n%s", line, dmesg(m));
	uint64_t rss = (s->anon_kb + s->file_kb + s->shmem_kb) / 4;
	snprintf(line, sizeof(line), "[%7d] %5d %5d %8llu %8llu %8llu %8llu %9llu %8llu %8llu         %5d %s",
		 mm_task_pid(v), 0, mm_task_pid(v), (unsigned long long)s->vm_kb / 4,
		 (unsigned long long)rss, (unsigned long long)s->anon_kb / 4,
		 (unsigned long long)s->file_kb / 4, (unsigned long long)s->shmem_kb / 4,
		 (unsigned long long)s->pte_kb * 1024, (unsigned long long)s->swap_kb / 4, adj,
		 mm_task_comm(v));
	if (!dmesg_has_line(m, line))
		fail_msg("missing: %s\n--- dmesg:\n%s", line, dmesg(m));
	snprintf(line, sizeof(line),
		 "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
		 "global_oom,task_memcg=/,task=%s,pid=%d,uid=0", mm_task_comm(v), mm_task_pid(v));
	assert_true(dmesg_has_line(m, line));
	snprintf(line, sizeof(line),
		 "oom_reaper: reaped process %d (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
		 mm_task_pid(v), mm_task_comm(v));
	assert_true(dmesg_has_line(m, line));
}

/* ---- the OOM killer ------------------------------------------------------------- */

/* Three idle processes and a growing one on 16 MiB: the biggest idle one
 * dies, not the one that asked; its memory comes back; the others' data
 * are intact; the report shows its status numbers. */
static void test_biggest_is_killed(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *a = proc_with(m, "small", 100, 1);
	struct mm_task *c = proc_with(m, "medium", 500, 3);
	uint64_t free1 = free_after_drop(m);
	struct mm_task *b = proc_with(m, "big", 2300, 2);
	struct snap sb = snap_of(m, b);
	assert_true(mm_task_oom_score(m, b) > mm_task_oom_score(m, c));
	assert_true(mm_task_oom_score(m, c) > mm_task_oom_score(m, a));
	struct mm_task *d = proc_with(m, "grower", 0, 4);
	uint64_t n;
	assert_int_equal(grow_until(m, d, 0, b, &n), 0);
	assert_true(mm_task_killed(b));
	assert_false(mm_task_killed(a) || mm_task_killed(c) || mm_task_killed(d));
	assert_true(n > 100 && n < 2300);
	assert_int_equal(vmstat_oom_kill(m), 1);
	assert_int_equal(mm_machine_check(m), 0);
	/* the header names the allocating process and its failed allocation */
	char line[256];
	snprintf(line, sizeof(line),
		 "grower invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), "
		 "order=0, oom_score_adj=0");
	if (!dmesg_has_line(m, line))
		fail_msg("missing: %s\n--- dmesg:\n%s", line, dmesg(m));
	expect_kill_lines(m, b, &sb, 0);
	assert_non_null(strstr(dmesg(m), "Tasks state (memory values in pages):\n"));
	/* B's memory is free already: AnonPages is the survivors' */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.anon_pages, (status_kb(m, a, "RssAnon:") + status_kb(m, c, "RssAnon:") +
					 status_kb(m, d, "RssAnon:")) / 4);
	/* the grower goes on: its write was retried */
	for (uint64_t i = 0; i <= n; i++) {
		uint64_t v;
		assert_int_equal(mm_read(m, d, BASE + i * 4096, &v, sizeof(v)), 0);
		assert_true(v == i);
	}
	check_pattern(m, a, 100, 1);
	check_pattern(m, c, 500, 3);
	/* the zombie: gone from ps and mm_find_task, calls fail, reaped by mm_exit */
	assert_null(mm_find_task(m, mm_task_pid(b)));
	assert_int_equal(mm_task_siginfo(b)->signo, MM_SIGKILL);
	assert_int_equal(mm_task_siginfo(b)->code, MM_SI_KERNEL);
	uint64_t v = 0;
	assert_int_equal(mm_read(m, b, BASE, &v, sizeof(v)), -MM_ESRCH);
	assert_int_equal(mm_task_oom_score(m, b), 0);
	mm_exit(m, d);
	mm_exit(m, b);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(free_after_drop(m), free1);
	mm_exit(m, a);
	mm_exit(m, c);
	mm_machine_destroy(m);
}

/* fork with memory exhausted: copy_process()'s GFP_KERNEL allocations get
 * direct reclaim and then the OOM killer, which kills the only killable
 * process; the fork then succeeds and the child sees the parent's data. */
static void test_fork_calls_oom_killer(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *p = proc_with(m, "parent", 50, 5);
	assert_int_equal(mm_task_set_oom_score_adj(p, -1000), 0);
	struct mm_task *b = proc_with(m, "big", 1500, 2);
	assert_int_equal(mm_task_set_oom_score_adj(b, -1000), 0);
	struct mm_task *f = proc_with(m, "filler", 0, 3);
	assert_int_equal(mm_task_set_oom_score_adj(f, -1000), 0);
	uint64_t n;
	/* every process protected: the filler runs into -MM_ENOMEM */
	assert_int_equal(grow_until(m, f, 0, NULL, &n), -MM_ENOMEM);
	assert_int_equal(vmstat_oom_kill(m), 0);
	struct mm_task *c;
	assert_int_equal(mm_fork(m, p, &c), -MM_ENOMEM);   /* still no victim */
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(mm_task_set_oom_score_adj(b, 0), 0);
	struct snap sb = snap_of(m, b);
	assert_int_equal(mm_fork(m, p, &c), 0);
	assert_true(mm_task_killed(b));
	assert_false(mm_task_killed(p) || mm_task_killed(f));
	assert_int_equal(vmstat_oom_kill(m), 1);
	assert_true(dmesg_has_line(m, "parent invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), "
				      "order=0, oom_score_adj=-1000"));
	expect_kill_lines(m, b, &sb, 0);
	check_pattern(m, c, 50, 5);
	check_pattern(m, p, 50, 5);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	mm_exit(m, b);
	mm_exit(m, f);
	mm_exit(m, p);
	mm_machine_destroy(m);
}

/* oom_score_adj: -1000 protects the biggest, +1000 picks a small one;
 * oom_score follows Linux's formula; bad values are refused. */
static void test_score_adj(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *big = proc_with(m, "big", 1800, 1);
	struct mm_task *mid = proc_with(m, "mid", 1400, 2);
	struct mm_task *tiny = proc_with(m, "tiny", 20, 3);
	assert_int_equal(mm_task_oom_score_adj(big), 0);
	assert_int_equal(mm_task_set_oom_score_adj(big, -1001), -MM_EINVAL);
	assert_int_equal(mm_task_set_oom_score_adj(big, 1001), -MM_EINVAL);
	assert_int_equal(mm_task_oom_score_adj(big), 0);
	/* oom_score = (1000 + points * 1000 / totalpages) * 2 / 3 */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	int64_t total = (int64_t)mi.total_pages;   /* no swap */
	int adjs[] = { 0, 300, -300, 1000, -999 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(adjs); i++) {
		assert_int_equal(mm_task_set_oom_score_adj(mid, adjs[i]), 0);
		int64_t points = (int64_t)((status_kb(m, mid, "VmRSS:") + status_kb(m, mid, "VmPTE:") +
					    status_kb(m, mid, "VmSwap:")) / 4) +
				 adjs[i] * (total / 1000);
		assert_int_equal(mm_task_oom_score(m, mid), (1000 + points * 1000 / total) * 2 / 3);
	}
	assert_int_equal(mm_task_set_oom_score_adj(mid, 0), 0);
	assert_int_equal(mm_task_set_oom_score_adj(big, MM_OOM_SCORE_ADJ_MIN), 0);
	assert_int_equal(mm_task_oom_score(m, big), 0);
	struct snap smid = snap_of(m, mid);
	struct mm_task *g = proc_with(m, "grower", 0, 4);
	uint64_t n;
	assert_int_equal(grow_until(m, g, 0, mid, &n), 0);
	assert_true(mm_task_killed(mid));
	assert_false(mm_task_killed(big) || mm_task_killed(tiny));
	expect_kill_lines(m, mid, &smid, 0);
	assert_int_equal(mm_machine_check(m), 0);
	/* +1000 picks the tiny one, though the grower is far bigger */
	assert_int_equal(mm_task_set_oom_score_adj(tiny, MM_OOM_SCORE_ADJ_MAX), 0);
	struct snap stiny = snap_of(m, tiny);
	uint64_t n2;
	assert_int_equal(grow_until(m, g, n + 1, tiny, &n2), 0);
	assert_true(mm_task_killed(tiny));
	assert_false(mm_task_killed(big) || mm_task_killed(g));
	expect_kill_lines(m, tiny, &stiny, 1000);
	assert_int_equal(vmstat_oom_kill(m), 2);
	assert_int_equal(mm_machine_check(m), 0);
	check_pattern(m, big, 1800, 1);
	assert_int_equal(mm_task_set_oom_score_adj(tiny, 0), -MM_ESRCH);
	mm_machine_destroy(m);   /* zombies included (ASan: no leak) */
}

static void test_fork_inherits_adj(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *p = proc_with(m, "parent", 10, 1), *c;
	assert_int_equal(mm_task_set_oom_score_adj(p, 500), 0);
	assert_int_equal(mm_fork(m, p, &c), 0);
	assert_int_equal(mm_task_oom_score_adj(c), 500);
	assert_int_equal(mm_task_set_oom_score_adj(c, -300), 0);
	assert_int_equal(mm_task_oom_score_adj(p), 500);
	struct mm_task *gc;
	assert_int_equal(mm_fork(m, c, &gc), 0);
	assert_int_equal(mm_task_oom_score_adj(gc), -300);
	mm_machine_destroy(m);
}

/* The faulting process is the biggest: its own access reports the kill. */
static void test_self_killed(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *keep = proc_with(m, "keeper", 200, 1);
	assert_int_equal(mm_task_set_oom_score_adj(keep, MM_OOM_SCORE_ADJ_MIN), 0);
	uint64_t free1 = free_after_drop(m);
	struct mm_task *hog = proc_with(m, "hog", 0, 2);
	int pid = mm_task_pid(hog);
	uint64_t n;
	int r = grow_until(m, hog, 0, NULL, &n);
	assert_int_equal(r, -MM_ESRCH);
	assert_true(mm_task_killed(hog));
	const struct mm_siginfo *si = mm_task_siginfo(hog);
	assert_int_equal(si->signo, MM_SIGKILL);
	assert_int_equal(si->code, MM_SI_KERNEL);
	char line[128];
	snprintf(line, sizeof(line), "hog invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|"
				     "__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=0");
	assert_true(dmesg_has_line(m, line));
	snprintf(line, sizeof(line), "Out of memory: Killed process %d (hog) total-vm:16384kB, "
				     "anon-rss:%llukB,", pid, (unsigned long long)n * 4);
	assert_non_null(strstr(dmesg(m), line));
	assert_int_equal(mm_machine_check(m), 0);
	/* every call on the zombie fails cleanly */
	uint64_t v = 1;
	assert_int_equal(mm_write(m, hog, BASE, &v, 8), -MM_ESRCH);
	assert_int_equal(mm_read(m, hog, BASE, &v, 8), -MM_ESRCH);
	assert_int_equal(mm_do_mmap(m, hog, 0, 4096, MM_PROT_READ, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0),
			 -MM_ESRCH);
	assert_int_equal(mm_do_munmap(m, hog, BASE, 4096), -MM_ESRCH);
	assert_int_equal(mm_do_mprotect(m, hog, BASE, 4096, MM_PROT_READ), -MM_ESRCH);
	assert_int_equal(mm_do_brk(m, hog, 0), 0);
	assert_int_equal(mm_sbrk(m, hog, 4096), -MM_ESRCH);
	assert_int_equal(mm_do_madvise(m, hog, BASE, 4096, MM_MADV_DONTNEED), -MM_ESRCH);
	assert_int_equal(mm_do_msync(m, hog, BASE, 4096, MM_MS_SYNC), -MM_ESRCH);
	assert_int_equal(mm_open(m, hog, "/dev/null", MM_O_RDONLY), -MM_ESRCH);
	assert_int_equal(mm_shmget(m, hog, MM_IPC_PRIVATE, 4096, MM_IPC_CREAT), -MM_ESRCH);
	assert_int_equal(mm_virt_to_phys(m, hog, BASE), -MM_ESRCH);
	assert_int_equal(mm_exec_synthetic(m, hog, 4096, 4096, 4096), -MM_ESRCH);
	struct mm_task *c;
	assert_int_equal(mm_fork(m, hog, &c), -MM_ESRCH);
	mm_context_switch(m, hog);   /* ignored */
	char buf[512];
	assert_int_equal(mm_show_maps(m, hog, buf, sizeof(buf)), 0);
	assert_int_equal(mm_show_smaps(m, hog, buf, sizeof(buf)), 0);
	assert_int_equal(mm_task_pss_bytes(m, hog), 0);
	mm_show_status(m, hog, buf, sizeof(buf));
	assert_non_null(strstr(buf, "State:\tZ (zombie)\n"));
	assert_null(strstr(buf, "VmRSS"));
	mm_show_ps(m, buf, sizeof(buf));
	assert_null(strstr(buf, " hog\n"));
	assert_null(mm_find_task(m, pid));
	check_pattern(m, keep, 200, 1);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, hog);
	assert_int_equal(free_after_drop(m), free1);
	mm_machine_destroy(m);
}

/* Nobody may be killed: the fault fails with -MM_ENOMEM, nothing is lost. */
static void test_no_victim(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16);
	struct mm_task *a = proc_with(m, "a", 300, 1);
	assert_int_equal(mm_task_set_oom_score_adj(a, MM_OOM_SCORE_ADJ_MIN), 0);
	struct mm_task *b;
	assert_int_equal(mm_fork(m, a, &b), 0);   /* inherits -1000 */
	uint64_t n;
	assert_int_equal(grow_until(m, b, 300, NULL, &n), -MM_ENOMEM);
	assert_int_equal(mm_task_siginfo(b)->signo, 0);
	assert_false(mm_task_killed(a) || mm_task_killed(b));
	assert_int_equal(vmstat_oom_kill(m), 0);
	assert_true(dmesg_has_line(m, "Out of memory and no killable processes..."));
	assert_null(strstr(dmesg(m), "Killed process"));
	assert_int_equal(mm_machine_check(m), 0);
	check_pattern(m, a, 300, 1);
	check_pattern(m, b, 300, 1);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		assert_int_equal(mm_read(m, b, BASE + (300 + i) * 4096, &v, 8), 0);
		assert_true(v == 300 + i);
	}
	/* the public entry: no victim now, one after raising b's adj; no
	 * process is running, so the idle task is "current" */
	mm_context_switch(m, NULL);
	assert_int_equal(mm_out_of_memory(m, 0, MM_GFP_KERNEL), 0);
	assert_int_equal(mm_task_set_oom_score_adj(b, 0), 0);
	assert_int_equal(mm_out_of_memory(m, 2, MM_GFP_KERNEL), mm_task_pid(b));
	assert_true(mm_task_killed(b));
	assert_true(dmesg_has_line(m, "swapper/0 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=2, "
				      "oom_score_adj=0"));
	assert_int_equal(mm_machine_check(m), 0);
	check_pattern(m, a, 300, 1);
	mm_machine_destroy(m);
}

/* ---- randomized ---------------------------------------------------------------- */

#define RPAGES 640
#define RMAX 8

struct rproc {
	struct mm_task *t;
	uint8_t *data;            /* RPAGES pages: the shadow */
	bool mapped[RPAGES];
	int adj;
};

struct rworld {
	struct mm_machine *m;
	struct mm_rng rng;
	struct rproc p[RMAX];
	int n;
	uint64_t kills, step;
};

static void rproc_new(struct rworld *w)
{
	struct rproc *q = &w->p[w->n];
	memset(q, 0, sizeof(*q));
	char name[16];
	snprintf(name, sizeof(name), "r%llu", (unsigned long long)w->step);
	assert_int_equal(mm_task_create(w->m, name, &q->t), 0);
	assert_int_equal(mm_do_mmap(w->m, q->t, BASE, RPAGES * 4096, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_NORESERVE,
				    -1, 0),
			 (int64_t)BASE);
	q->data = calloc(RPAGES, 4096);
	for (int i = 0; i < RPAGES; i++)
		q->mapped[i] = true;
	w->n++;
}

static void rproc_verify(struct rworld *w, struct rproc *q)
{
	static uint8_t page[4096];
	for (int i = 0; i < RPAGES; i++) {
		int r = mm_read(w->m, q->t, BASE + (uint64_t)i * 4096, page, 4096);
		if (!q->mapped[i]) {
			if (r != -MM_EFAULT)
				mm_test_fail_seed("step %llu: unmapped page read: %d", (unsigned long long)w->step, r);
			continue;
		}
		/* reading never allocates (the zero page), so it cannot OOM */
		if (r || memcmp(page, q->data + (size_t)i * 4096, 4096))
			mm_test_fail_seed("step %llu: pid %d page %d differs (r %d)", (unsigned long long)w->step,
					  mm_task_pid(q->t), i, r);
	}
}

/* Reap every process the OOM killer killed; it must not have been
 * protected. */
static void reap_killed(struct rworld *w)
{
	for (int i = 0; i < w->n;) {
		struct rproc *q = &w->p[i];
		if (!mm_task_killed(q->t)) {
			i++;
			continue;
		}
		if (q->adj == MM_OOM_SCORE_ADJ_MIN)
			mm_test_fail_seed("step %llu: protected pid %d killed", (unsigned long long)w->step,
					  mm_task_pid(q->t));
		assert_int_equal(mm_task_siginfo(q->t)->signo, MM_SIGKILL);
		mm_exit(w->m, q->t);
		free(q->data);
		w->p[i] = w->p[--w->n];
		w->kills++;
	}
}

/* A result of a write: 0 (the shadow takes it), -MM_ESRCH (t was killed),
 * -MM_ENOMEM only when every process is protected. */
static bool write_ok(struct rworld *w, struct rproc *q, int r)
{
	if (r == 0)
		return true;
	if (r == -MM_ESRCH && mm_task_killed(q->t))
		return false;
	if (r == -MM_ENOMEM) {
		for (int i = 0; i < w->n; i++)
			if (w->p[i].adj != MM_OOM_SCORE_ADJ_MIN && !mm_task_killed(w->p[i].t))
				mm_test_fail_seed("step %llu: ENOMEM with pid %d killable",
						  (unsigned long long)w->step, mm_task_pid(w->p[i].t));
		return false;
	}
	mm_test_fail_seed("step %llu: write: %d", (unsigned long long)w->step, r);
	return false;
}

static void test_random_kills(void **state)
{
	(void)state;
	struct rworld w = { 0 };
	mm_rng_seed(&w.rng, mm_test_seed());
	w.m = boot(8);
	uint64_t free0 = free_after_drop(w.m);
	uint64_t steps = mm_test_iters(4000);
	for (w.step = 0; w.step < steps; w.step++) {
		if (w.n == 0)
			rproc_new(&w);
		int i = (int)mm_rng_below(&w.rng, (uint64_t)w.n);
		struct rproc *q = &w.p[i];
		unsigned int op = (unsigned int)mm_rng_below(&w.rng, 100);
		uint64_t pg = mm_rng_below(&w.rng, RPAGES), off = mm_rng_below(&w.rng, 4096 - 64);
		if (op < 30) {
			/* a burst: one byte in each of up to 64 pages */
			for (uint64_t k = pg; k < MM_MIN(pg + 64, (uint64_t)RPAGES); k++) {
				uint8_t b = (uint8_t)mm_rng_next(&w.rng);
				int r = mm_write(w.m, q->t, BASE + k * 4096 + off, &b, 1);
				if (!q->mapped[k]) {
					assert_int_equal(r, -MM_EFAULT);
					continue;
				}
				if (!write_ok(&w, q, r))
					break;
				q->data[k * 4096 + off] = b;
			}
		} else if (op < 50) {
			uint8_t buf[64];
			for (int k = 0; k < 64; k++)
				buf[k] = (uint8_t)mm_rng_next(&w.rng);
			int r = mm_write(w.m, q->t, BASE + pg * 4096 + off, buf, 64);
			if (!q->mapped[pg])
				assert_int_equal(r, -MM_EFAULT);
			else if (write_ok(&w, q, r))
				memcpy(q->data + pg * 4096 + off, buf, 64);
		} else if (op < 70) {
			uint8_t buf[64];
			int r = mm_read(w.m, q->t, BASE + pg * 4096 + off, buf, 64);
			if (!q->mapped[pg])
				assert_int_equal(r, -MM_EFAULT);
			else if (r || memcmp(buf, q->data + pg * 4096 + off, 64))
				mm_test_fail_seed("step %llu: read %d or data differ", (unsigned long long)w.step, r);
		} else if (op < 80) {
			if (w.n == RMAX)
				continue;
			struct mm_task *c;
			int r = mm_fork(w.m, q->t, &c);
			if (r) {
				/* the OOM killer may pick the forking process */
				if (r != -MM_ENOMEM && !(r == -MM_ESRCH && mm_task_killed(q->t)))
					mm_test_fail_seed("fork: %d", r);
				continue;
			}
			struct rproc *n = &w.p[w.n++];
			*n = *q;
			n->t = c;
			n->data = malloc(RPAGES * 4096);
			memcpy(n->data, q->data, RPAGES * 4096);
			assert_int_equal(mm_task_oom_score_adj(c), q->adj);
		} else if (op < 86) {
			uint64_t len = 1 + mm_rng_below(&w.rng, MM_MIN(32, RPAGES - pg));
			int r = mm_do_munmap(w.m, q->t, BASE + pg * 4096, len * 4096);
			if (r == -MM_ENOMEM)
				continue;   /* no VMA for the split: nothing changed */
			assert_int_equal(r, 0);
			for (uint64_t k = pg; k < pg + len; k++) {
				q->mapped[k] = false;
				memset(q->data + k * 4096, 0, 4096);
			}
		} else if (op < 92) {
			uint64_t len = 1 + mm_rng_below(&w.rng, MM_MIN(32, RPAGES - pg));
			int64_t r = mm_do_mmap(w.m, q->t, BASE + pg * 4096, len * 4096, MM_PROT_READ | MM_PROT_WRITE,
					       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_NORESERVE,
					       -1, 0);
			if (r == (int64_t)(BASE + pg * 4096)) {
				for (uint64_t k = pg; k < pg + len; k++) {
					q->mapped[k] = true;
					memset(q->data + k * 4096, 0, 4096);
				}
			} else if (r != -MM_ENOMEM) {
				mm_test_fail_seed("mmap: %lld", (long long)r);
			}
		} else if (op < 97) {
			/* mostly ordinary, sometimes protected or preferred */
			static const int adjs[] = { 0, 0, 100, -100, 500, -1000, 1000 };
			q->adj = adjs[mm_rng_below(&w.rng, MM_ARRAY_SIZE(adjs))];
			assert_int_equal(mm_task_set_oom_score_adj(q->t, q->adj), 0);
		} else if (w.n > 1) {
			mm_exit(w.m, q->t);
			free(q->data);
			w.p[i] = w.p[--w.n];
		} else {
			rproc_new(&w);
		}
		reap_killed(&w);
		if (mm_machine_check(w.m))
			mm_test_fail_seed("machine check failed at step %llu", (unsigned long long)w.step);
		if (w.step % 100 == 0)
			for (int k = 0; k < w.n; k++)
				rproc_verify(&w, &w.p[k]);
	}
	for (int k = 0; k < w.n; k++)
		rproc_verify(&w, &w.p[k]);
	assert_int_equal(vmstat_oom_kill(w.m), w.kills);
	print_message("%llu steps, %llu OOM kills\n", (unsigned long long)steps, (unsigned long long)w.kills);
	assert_true(w.kills > 0 || mm_test_sanitized());   /* the point: the killer ran */
	while (w.n) {
		mm_exit(w.m, w.p[w.n - 1].t);
		free(w.p[--w.n].data);
	}
	assert_int_equal(mm_machine_check(w.m), 0);
	assert_int_equal(free_after_drop(w.m), free0);
	mm_machine_destroy(w.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dmesg_format),
		cmocka_unit_test(test_dmesg_ring_wraps),
		cmocka_unit_test(test_biggest_is_killed),
		cmocka_unit_test(test_score_adj),
		cmocka_unit_test(test_fork_inherits_adj),
		cmocka_unit_test(test_self_killed),
		cmocka_unit_test(test_no_victim),
		cmocka_unit_test(test_fork_calls_oom_killer),
		cmocka_unit_test(test_random_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
