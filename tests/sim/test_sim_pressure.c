/* Data integrity under heavy memory pressure (issue 4's checks).
 *
 * Randomized scenarios on 8 MiB of RAM with a working set about twice as
 * large: up to 8 processes, each with an anonymous window, all mapping one
 * host temporary file MAP_SHARED and attaching one System V segment; fork
 * (copy-on-write), exit, munmap/mmap, MADV_DONTNEED, msync, clock ticks
 * (kswapd, the flusher). Swapping and writeback never stop. A shadow model
 * outside the simulator holds every byte written; every read is compared,
 * every process's memory is read back periodically and at the end, and the
 * host file is compared after each msync and after the final sync:
 * zero mismatches. mm_machine_check() runs after every step.
 *
 * Then the failures: swap writes failing by fault injection, and a swap
 * device too small (full) — reported (write_errors, full_events, the
 * kernel log), no data lost, and when nothing else can be done the OOM
 * killer runs; the process it kills frees everything (its swap slots too)
 * and the others keep running with their data intact. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define ANON_BASE 0x10000000ULL
#define APAGES    640           /* anonymous window per process */
#define FILE_BASE 0x40000000ULL
#define FPAGES    160           /* the shared host file */
#define SHM_BASE  0x50000000ULL
#define SPAGES    24            /* the System V segment (never swapped) */
#define PMAX      8

struct pproc {
	struct mm_task *t;
	uint8_t *anon;              /* APAGES pages */
	bool mapped[APAGES];
};

struct pworld {
	struct mm_machine *m;
	struct mm_rng rng;
	struct pproc p[PMAX];
	int n;
	uint64_t step;
	char path[64];              /* the host file */
	uint8_t *file;              /* what the file holds (page cache or disk) */
	uint8_t *shm;
	int shmid;
	bool allow_kills;           /* failure scenarios: the OOM killer may run */
	uint64_t kills, errors_seen;
};

static uint64_t free_after_drop(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages + mi.slab_pagemap_pages;
}

#define FAIL(w, ...)                                                                          \
	mm_test_fail_seed("policy %s, step %llu: %s", mm_machine_reclaim_policy((w)->m),       \
			  (unsigned long long)(w)->step, msg(__VA_ARGS__))

static const char *msg(const char *fmt, ...) MM_PRINTF(1, 2);
static const char *msg(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

/* ---- the world ---------------------------------------------------------------- */

static void world_init_mode(struct pworld *w, const char *policy, uint64_t swap_bytes, uint64_t seed,
			    enum mm_paging_mode paging)
{
	memset(w, 0, sizeof(*w));
	mm_rng_seed(&w->rng, seed);
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 8ULL << 20;
	cfg.paging = paging;
	cfg.swap_bytes = swap_bytes;
	cfg.reclaim_policy = policy;
	assert_int_equal(mm_machine_create(&cfg, &w->m), 0);
	const char *tmp = getenv("TMPDIR");
	snprintf(w->path, sizeof(w->path), "%s/mmkit-pressure-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(w->path);
	assert_true(fd >= 0);
	w->file = malloc(FPAGES * 4096);
	for (size_t i = 0; i < FPAGES * 4096; i++)
		w->file[i] = (uint8_t)mm_rng_next(&w->rng);
	assert_int_equal(pwrite(fd, w->file, FPAGES * 4096, 0), FPAGES * 4096);
	close(fd);
	w->shm = calloc(SPAGES, 4096);
}

static void world_init(struct pworld *w, const char *policy, uint64_t swap_bytes, uint64_t seed)
{
	world_init_mode(w, policy, swap_bytes, seed, MM_PAGING_4LEVEL);
}

static void world_fini(struct pworld *w)
{
	mm_machine_destroy(w->m);
	unlink(w->path);
	free(w->file);
	free(w->shm);
}

/* The host file must hold what the model says (after msync or sync). */
static void check_host_file(struct pworld *w)
{
	uint8_t *buf = malloc(FPAGES * 4096);
	int fd = open(w->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, FPAGES * 4096, 0), FPAGES * 4096);
	close(fd);
	for (size_t i = 0; i < FPAGES * 4096; i++)
		if (buf[i] != w->file[i])
			FAIL(w, "host file byte %zu: %#x, model %#x", i, buf[i], w->file[i]);
	free(buf);
}

/* A new process mapping its window, the file and the segment. Under the
 * failure scenarios its kernel allocations may fail (-MM_ENOMEM): it is
 * then gone again and false returned. */
static bool proc_new(struct pworld *w)
{
	struct mm_machine *m = w->m;
	struct pproc *q = &w->p[w->n];
	memset(q, 0, sizeof(*q));
	char name[16];
	snprintf(name, sizeof(name), "p%llu", (unsigned long long)w->step);
	int r = mm_task_create(m, name, &q->t);
	if (r)
		goto fail_notask;
	int64_t a = mm_do_mmap(m, q->t, ANON_BASE, APAGES * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
	if (a != (int64_t)ANON_BASE)
		goto fail;
	int fd = mm_open(m, q->t, w->path, MM_O_RDWR);
	assert_true(fd >= 0);
	a = mm_do_mmap(m, q->t, FILE_BASE, FPAGES * 4096, MM_PROT_READ | MM_PROT_WRITE,
		       MM_MAP_SHARED | MM_MAP_FIXED, fd, 0);
	assert_int_equal(mm_close(m, q->t, fd), 0);
	if (a != (int64_t)FILE_BASE)
		goto fail;
	if (!w->shmid) {
		int id = mm_shmget(m, q->t, MM_IPC_PRIVATE, SPAGES * 4096, MM_IPC_CREAT);
		if (id < 0)
			goto fail;
		w->shmid = id + 1;
	}
	if (mm_shmat(m, q->t, w->shmid - 1, SHM_BASE, 0) != (int64_t)SHM_BASE)
		goto fail;
	q->anon = calloc(APAGES, 4096);
	for (int i = 0; i < APAGES; i++)
		q->mapped[i] = true;
	w->n++;
	return true;
fail:
	mm_exit(m, q->t);
fail_notask:
	if (!w->allow_kills)
		FAIL(w, "a new process: out of memory");
	return false;
}

static void proc_drop(struct pworld *w, int i)
{
	mm_exit(w->m, w->p[i].t);
	free(w->p[i].anon);
	w->p[i] = w->p[--w->n];
}

/* Reap the processes the OOM killer killed. */
static void reap_killed(struct pworld *w)
{
	for (int i = 0; i < w->n;) {
		if (!mm_task_killed(w->p[i].t)) {
			i++;
			continue;
		}
		if (!w->allow_kills)
			FAIL(w, "pid %d OOM-killed with swap to spare", mm_task_pid(w->p[i].t));
		w->kills++;
		proc_drop(w, i);
	}
}

/* Judge a result: true if the access happened (the model follows). */
static bool result_ok(struct pworld *w, struct pproc *q, int r, const char *what)
{
	if (r == 0)
		return true;
	if (w->allow_kills && r == -MM_ESRCH && mm_task_killed(q->t))
		return false;
	if (w->allow_kills && r == -MM_ENOMEM)
		return false;   /* the fault changed nothing */
	FAIL(w, "%s in pid %d: %s", what, mm_task_pid(q->t), mm_errname(r));
	return false;
}

/* Read region [va, va + len) of q and compare with the model. */
static void check_bytes(struct pworld *w, struct pproc *q, uint64_t va, const uint8_t *model, size_t len,
			const char *what)
{
	static uint8_t buf[4096];
	for (size_t done = 0; done < len;) {
		size_t n = MM_MIN(len - done, sizeof(buf));
		int r = mm_read(w->m, q->t, va + done, buf, n);
		if (!result_ok(w, q, r, what))
			return;
		if (memcmp(buf, model + done, n)) {
			size_t k = 0;
			while (buf[k] == model[done + k])
				k++;
			FAIL(w, "%s pid %d at %#llx: %#x, model %#x", what, mm_task_pid(q->t),
			     (unsigned long long)(va + done + k), buf[k], model[done + k]);
		}
		done += n;
	}
}

/* Read back everything q maps. */
static void verify_proc(struct pworld *w, struct pproc *q)
{
	for (int i = 0; i < APAGES && !mm_task_killed(q->t); i++) {
		if (q->mapped[i]) {
			check_bytes(w, q, ANON_BASE + (uint64_t)i * 4096, q->anon + (size_t)i * 4096, 4096, "anon");
		} else {
			uint8_t b;
			int r = mm_read(w->m, q->t, ANON_BASE + (uint64_t)i * 4096, &b, 1);
			if (r != -MM_EFAULT)
				FAIL(w, "unmapped page %d read: %d", i, r);
		}
	}
	if (!mm_task_killed(q->t))
		check_bytes(w, q, FILE_BASE, w->file, FPAGES * 4096, "file");
	if (!mm_task_killed(q->t))
		check_bytes(w, q, SHM_BASE, w->shm, SPAGES * 4096, "shm");
}

static void verify_all(struct pworld *w)
{
	for (int i = 0; i < w->n; i++)
		verify_proc(w, &w->p[i]);
	reap_killed(w);
}

/* ---- one random step -------------------------------------------------------------- */

static void write_model(struct pworld *w, struct pproc *q, uint64_t va, uint8_t *model, size_t len)
{
	uint8_t buf[64];
	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)mm_rng_next(&w->rng);
	int r = mm_write(w->m, q->t, va, buf, len);
	if (result_ok(w, q, r, "write"))
		memcpy(model, buf, len);
}

static void step(struct pworld *w)
{
	struct mm_machine *m = w->m;
	if (w->n == 0 && !proc_new(w))
		return;
	int i = (int)mm_rng_below(&w->rng, (uint64_t)w->n);
	struct pproc *q = &w->p[i];
	unsigned int op = (unsigned int)mm_rng_below(&w->rng, 100);
	uint64_t pg = mm_rng_below(&w->rng, APAGES), off = mm_rng_below(&w->rng, 4096 - 64);
	if (op < 25) {
		/* a burst: one byte in each of up to 48 pages */
		for (uint64_t k = pg; k < MM_MIN(pg + 48, (uint64_t)APAGES) && !mm_task_killed(q->t); k++) {
			uint64_t va = ANON_BASE + k * 4096 + off;
			if (!q->mapped[k]) {
				uint8_t b = 1;
				if (mm_write(m, q->t, va, &b, 1) != -MM_EFAULT)
					FAIL(w, "write to unmapped page");
				continue;
			}
			write_model(w, q, va, q->anon + k * 4096 + off, 1);
		}
	} else if (op < 38) {
		if (q->mapped[pg])
			write_model(w, q, ANON_BASE + pg * 4096 + off, q->anon + pg * 4096 + off, 64);
	} else if (op < 52) {
		if (q->mapped[pg])
			check_bytes(w, q, ANON_BASE + pg * 4096 + off, q->anon + pg * 4096 + off, 64, "anon");
	} else if (op < 60) {
		uint64_t f = mm_rng_below(&w->rng, FPAGES * 4096 - 64);
		write_model(w, q, FILE_BASE + f, w->file + f, 64);
	} else if (op < 65) {
		uint64_t f = mm_rng_below(&w->rng, FPAGES * 4096 - 64);
		check_bytes(w, q, FILE_BASE + f, w->file + f, 64, "file");
	} else if (op < 68) {
		uint64_t s = mm_rng_below(&w->rng, SPAGES * 4096 - 64);
		write_model(w, q, SHM_BASE + s, w->shm + s, 64);
	} else if (op < 70) {
		uint64_t s = mm_rng_below(&w->rng, SPAGES * 4096 - 64);
		check_bytes(w, q, SHM_BASE + s, w->shm + s, 64, "shm");
	} else if (op < 76) {
		if (w->n == PMAX)
			return;
		struct mm_task *c;
		int r = mm_fork(m, q->t, &c);
		if (r) {
			/* fork's own allocations fail without reclaim or the
			 * OOM killer (documented): nothing changed */
			if (r != -MM_ENOMEM)
				FAIL(w, "fork: %s", mm_errname(r));
			return;
		}
		struct pproc *n = &w->p[w->n++];
		*n = *q;
		n->t = c;
		n->anon = malloc(APAGES * 4096);
		memcpy(n->anon, q->anon, APAGES * 4096);
	} else if (op < 78) {
		uint64_t len = 1 + mm_rng_below(&w->rng, MM_MIN(32, APAGES - pg));
		int r = mm_do_munmap(m, q->t, ANON_BASE + pg * 4096, len * 4096);
		if (r == -MM_ENOMEM)
			return;   /* no VMA for the split (kernel allocations do not
				   * reclaim): nothing changed */
		if (r)
			FAIL(w, "munmap: %s", mm_errname(r));
		for (uint64_t k = pg; k < pg + len; k++) {
			q->mapped[k] = false;
			memset(q->anon + k * 4096, 0, 4096);
		}
	} else if (op < 81) {
		uint64_t len = 1 + mm_rng_below(&w->rng, MM_MIN(32, APAGES - pg));
		int64_t r = mm_do_mmap(m, q->t, ANON_BASE + pg * 4096, len * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
		if (r != (int64_t)(ANON_BASE + pg * 4096)) {
			if (r != -MM_ENOMEM)
				FAIL(w, "mmap: %lld", (long long)r);
			return;
		}
		for (uint64_t k = pg; k < pg + len; k++) {
			q->mapped[k] = true;
			memset(q->anon + k * 4096, 0, 4096);
		}
	} else if (op < 83) {
		uint64_t len = 1 + mm_rng_below(&w->rng, MM_MIN(32, APAGES - pg));
		int r = mm_do_madvise(m, q->t, ANON_BASE + pg * 4096, len * 4096, MM_MADV_DONTNEED);
		if (r && r != -MM_ENOMEM)
			FAIL(w, "madvise: %d", r);
		/* DONTNEED drops the mapped parts; a hole is -ENOMEM */
		for (uint64_t k = pg; k < pg + len; k++)
			if (q->mapped[k])
				memset(q->anon + k * 4096, 0, 4096);
	} else if (op < 84) {
		int r = mm_do_msync(m, q->t, FILE_BASE, FPAGES * 4096, MM_MS_SYNC);
		if (r)
			FAIL(w, "msync: %s", mm_errname(r));
		check_host_file(w);
	} else if (op < 95) {
		mm_machine_tick(m, 1 + mm_rng_below(&w->rng, 1000));
	} else if (op < 97) {
		if (w->n > 1)
			proc_drop(w, i);
	} else {
		if (w->n < PMAX)
			proc_new(w);
	}
}

static void run(struct pworld *w, uint64_t steps, unsigned int check_every)
{
	for (w->step = 0; w->step < steps; w->step++) {
		step(w);
		reap_killed(w);
		if (w->step % check_every == 0 && mm_machine_check(w->m))
			FAIL(w, "machine check failed");
		if (w->step % 400 == 399)
			verify_all(w);
	}
	verify_all(w);
}

/* Everything exits: swap and memory come all back. */
static void drain(struct pworld *w, uint64_t free0)
{
	assert_int_equal(mm_machine_sync(w->m), 0);
	check_host_file(w);
	while (w->n)
		proc_drop(w, w->n - 1);
	assert_int_equal(mm_machine_check(w->m), 0);
	struct mm_swap_info si;
	mm_machine_swap_info(w->m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	/* the segment goes when marked removed and detached */
	struct mm_task *t;
	assert_int_equal(mm_task_create(w->m, "rm", &t), 0);
	assert_int_equal(mm_shmctl(w->m, t, w->shmid - 1, MM_IPC_RMID, NULL), 0);
	mm_exit(w->m, t);
	assert_int_equal(free_after_drop(w->m), free0);
}

/* ---- the scenarios ----------------------------------------------------------------- */

static void pressure(const char *policy, uint64_t steps, enum mm_paging_mode paging)
{
	struct pworld w;
	world_init_mode(&w, policy, 32ULL << 20, mm_test_seed(), paging);
	uint64_t free0 = free_after_drop(w.m);
	run(&w, steps, 1);
	struct mm_swap_info si;
	mm_machine_swap_info(w.m, &si);
	struct mm_reclaim_stats rs;
	mm_machine_reclaim_stats(w.m, &rs);
	print_message("%d-level %-8s %llu steps: pswpout %llu pswpin %llu, file writeback %llu + %llu (flusher), "
		      "kswapd runs %llu, direct %llu\n",
		      (int)paging, policy, (unsigned long long)steps, (unsigned long long)si.pswpout,
		      (unsigned long long)si.pswpin, (unsigned long long)rs.file_writeback,
		      (unsigned long long)rs.flusher_writeback, (unsigned long long)rs.pageoutrun,
		      (unsigned long long)rs.allocstall);
	if (!mm_test_sanitized()) {
		/* the point: it swapped and wrote back all along */
		assert_true(si.pswpout > 1000 && si.pswpin > 1000);
		assert_true(rs.file_writeback + rs.flusher_writeback > 0);
	}
	assert_int_equal(si.write_errors, 0);
	drain(&w, free0);
	world_fini(&w);
}

static void test_pressure_linux(void **state)
{
	(void)state;
	pressure("linux", mm_test_iters(4000), MM_PAGING_4LEVEL);
}

/* The swap entries' PTE layouts of 32-bit and LA57 paging. */
static void test_pressure_paging_modes(void **state)
{
	(void)state;
	pressure("linux", mm_test_iters(1000), MM_PAGING_2LEVEL);
	pressure("linux", mm_test_iters(1000), MM_PAGING_5LEVEL);
}

static void test_pressure_other_policies(void **state)
{
	(void)state;
	static const char *const policies[] = { "clock", "fifo", "lru" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(policies); i++)
		pressure(policies[i], mm_test_iters(1500), MM_PAGING_4LEVEL);
}

/* A kB row of /proc/PID/status. */
static uint64_t status_kb(struct mm_machine *m, struct mm_task *t, const char *row)
{
	static char buf[8192];
	mm_show_status(m, t, buf, sizeof(buf));
	const char *p = strstr(buf, row);
	assert_non_null(p);
	return strtoull(p + strlen(row), NULL, 10);
}

static bool dmesg_has(struct mm_machine *m, const char *needle)
{
	static char buf[64 * 1024 + 1];
	mm_show_dmesg(m, buf, sizeof(buf));
	return strstr(buf, needle) != NULL;
}

static uint64_t vmstat_oom_kill(struct mm_machine *m)
{
	static char buf[16384];
	mm_show_vmstat(m, buf, sizeof(buf));
	const char *p = strstr(buf, "\noom_kill ");
	assert_non_null(p);
	return strtoull(p + 10, NULL, 10);
}

/* Every swap write fails for a while: the pages stay in RAM, dirty; the
 * errors are counted and logged; nothing is lost; when RAM is full the
 * OOM killer kills, the survivors' data stay intact; once the device works
 * again, swapping resumes. */
static void test_swap_write_errors(void **state)
{
	(void)state;
	struct pworld w;
	world_init(&w, "linux", 32ULL << 20, mm_test_seed());
	uint64_t free0 = free_after_drop(w.m);
	w.allow_kills = true;
	run(&w, mm_test_iters(800), 1);
	struct mm_swap_info si0, si;
	mm_machine_swap_info(w.m, &si0);
	mm_machine_swap_fail_after(w.m, 0);
	run(&w, mm_test_iters(2400), 1);
	mm_machine_swap_info(w.m, &si);
	print_message("write errors %llu, pswpout %llu -> %llu, OOM kills %llu\n",
		      (unsigned long long)si.write_errors, (unsigned long long)si0.pswpout,
		      (unsigned long long)si.pswpout, (unsigned long long)w.kills);
	assert_int_equal(si.pswpout, si0.pswpout);   /* not one page written */
	assert_int_equal(vmstat_oom_kill(w.m), w.kills);
	if (!mm_test_sanitized()) {
		assert_true(si.write_errors > 0);
		assert_true(dmesg_has(w.m, "Write-error on swap-device ("));
		assert_true(w.kills > 0);   /* nothing else could be done */
	}
	/* the device heals */
	mm_machine_swap_fail_after(w.m, MM_SWAP_FAIL_NEVER);
	uint64_t errors = si.write_errors;
	run(&w, mm_test_iters(800), 1);
	mm_machine_swap_info(w.m, &si);
	assert_int_equal(si.write_errors, errors);
	drain(&w, free0);
	world_fini(&w);
}

/* A swap device far too small: it fills, which is counted and logged once;
 * anonymous pages stay in RAM; the OOM killer ends it; no data lost. */
static void test_swap_full(void **state)
{
	(void)state;
	struct pworld w;
	world_init(&w, "linux", 1ULL << 20, mm_test_seed());
	uint64_t free0 = free_after_drop(w.m);
	w.allow_kills = true;
	run(&w, mm_test_iters(3000), 1);
	struct mm_swap_info si;
	mm_machine_swap_info(w.m, &si);
	print_message("swap %llu pages, full events %llu, pswpout %llu, OOM kills %llu\n",
		      (unsigned long long)si.total_pages, (unsigned long long)si.full_events,
		      (unsigned long long)si.pswpout, (unsigned long long)w.kills);
	assert_int_equal(si.total_pages, 255);
	assert_int_equal(vmstat_oom_kill(w.m), w.kills);
	if (!mm_test_sanitized()) {
		assert_true(si.full_events > 0);
		assert_true(dmesg_has(w.m, "swap: no free slot"));
		assert_true(w.kills > 0);
	}
	drain(&w, free0);
	world_fini(&w);
}

/* A process with much of its memory in swap is the OOM killer's victim
 * (swap entries count in its badness): its slots come back at once, its
 * memory after reaping, and the others' data are intact. */
static void test_victim_frees_swap(void **state)
{
	(void)state;
	struct pworld w;
	world_init(&w, "linux", 8ULL << 20, mm_test_seed());
	struct mm_machine *m = w.m;
	uint64_t free0 = free_after_drop(m);
	/* A: its window and 1160 pages more; B: 600 + 600. Together more
	 * than RAM: much of A (the older) goes to swap. */
	assert_true(proc_new(&w) && proc_new(&w));
	struct pproc *a = &w.p[0], *b = &w.p[1];
	for (int k = 0; k < 2; k++) {
		struct pproc *q = k ? b : a;
		uint64_t pages = k ? 600 : APAGES, more = k ? 600 : 1160;
		assert_int_equal(mm_do_mmap(m, q->t, ANON_BASE + APAGES * 4096ULL, more * 4096,
					    MM_PROT_READ | MM_PROT_WRITE,
					    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0),
				 (int64_t)(ANON_BASE + APAGES * 4096ULL));
		for (uint64_t i = 0; i < pages; i++)
			write_model(&w, q, ANON_BASE + i * 4096 + i % 4000, q->anon + i * 4096 + i % 4000, 1);
		for (uint64_t i = 0; i < more; i++) {
			uint64_t v = (uint64_t)k << 32 | i;
			assert_int_equal(mm_write(m, q->t, ANON_BASE + (APAGES + i) * 4096, &v, 8), 0);
		}
	}
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	uint64_t used = si.total_pages - si.free_pages;
	assert_true(used > 500);
	unsigned long sa = mm_task_oom_score(m, a->t), sb = mm_task_oom_score(m, b->t);
	assert_true(sa > sb);
	/* oom_score counts swap entries, and totalpages includes SwapTotal */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	int64_t total = (int64_t)(mi.total_pages + si.total_pages);
	int64_t points = (int64_t)((status_kb(m, a->t, "VmRSS:") + status_kb(m, a->t, "VmPTE:") +
				    status_kb(m, a->t, "VmSwap:")) / 4);
	assert_true(status_kb(m, a->t, "VmSwap:") > 0);
	assert_int_equal(sa, (1000 + points * 1000 / total) * 2 / 3);
	assert_int_equal(mm_task_set_oom_score_adj(b->t, -500), 0);
	char row[160];
	int apid = mm_task_pid(a->t);
	mm_context_switch(m, NULL);
	assert_int_equal(mm_out_of_memory(m, 0, MM_GFP_HIGHUSER_MOVABLE), apid);
	assert_true(mm_task_killed(a->t));
	mm_machine_swap_info(m, &si);
	/* only B's slots are left */
	assert_true(si.total_pages - si.free_pages < used);
	snprintf(row, sizeof(row), "Out of memory: Killed process %d (%s) total-vm:", apid, "p0");
	assert_true(dmesg_has(m, row));
	assert_int_equal(mm_machine_check(m), 0);
	w.allow_kills = true;
	reap_killed(&w);
	w.allow_kills = false;
	assert_int_equal(w.kills, 1);
	assert_int_equal(w.n, 1);
	b = &w.p[0];
	verify_proc(&w, b);
	for (uint64_t i = 0; i < 600; i++) {
		uint64_t v;
		assert_int_equal(mm_read(m, b->t, ANON_BASE + (APAGES + i) * 4096, &v, 8), 0);
		assert_true(v == (1ULL << 32 | i));
	}
	drain(&w, free0);
	world_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pressure_linux),
		cmocka_unit_test(test_pressure_paging_modes),
		cmocka_unit_test(test_pressure_other_policies),
		cmocka_unit_test(test_swap_write_errors),
		cmocka_unit_test(test_swap_full),
		cmocka_unit_test(test_victim_frees_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
