/* Reclaim inside the simulated machine: kswapd waking below the low
 * watermark and sleeping at the high one, direct reclaim's order (clean page
 * cache, then dirty file pages written back, then anonymous pages to swap),
 * dirty shared file pages reaching the host file before they are dropped,
 * the flusher, local against global replacement, every replacement policy
 * under pressure, and a randomized run with fork, shm and shared file
 * mappings on RAM much smaller than the working set: every byte checked,
 * mm_machine_check() all along. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/buddy.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define PG 4096ULL
#define WORDS (PG / 8)

static struct mm_machine *boot_cfg(struct mm_machine_config *cfg)
{
	struct mm_machine *m;
	int err = mm_machine_create(cfg, &m);
	if (err)
		fail_msg("mm_machine_create: %d", err);
	return m;
}

static void config(struct mm_machine_config *cfg, uint64_t ram_mb, uint64_t swap_mb)
{
	mm_machine_config_init(cfg);
	cfg->ram_bytes = ram_mb << 20;
	cfg->swap_bytes = swap_mb << 20;
}

static struct mm_machine *boot(uint64_t ram_mb, uint64_t swap_mb)
{
	struct mm_machine_config cfg;
	config(&cfg, ram_mb, swap_mb);
	return boot_cfg(&cfg);
}

/* The content of a page: word w of page `page` at version `ver` of an
 * object `obj`. Version 0 is the zero page (never written). */
static uint64_t word(uint64_t obj, uint64_t page, uint64_t ver, uint64_t w)
{
	if (!ver)
		return 0;
	uint64_t x = obj * 0x9e3779b97f4a7c15ULL ^ page * 0xc2b2ae3d27d4eb4fULL ^ ver * 0x165667b19e3779f9ULL;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x + w;
}

static void page_image(uint64_t *buf, uint64_t obj, uint64_t page, uint64_t ver)
{
	for (uint64_t w = 0; w < WORDS; w++)
		buf[w] = word(obj, page, ver, w);
}

static void write_page(struct mm_machine *m, struct mm_task *t, uint64_t va, uint64_t obj,
		       uint64_t page, uint64_t ver)
{
	uint64_t buf[WORDS];
	page_image(buf, obj, page, ver);
	int err = mm_write(m, t, va, buf, PG);
	if (err)
		fail_msg("write pid %d va %#llx: %d", mm_task_pid(t), (unsigned long long)va, err);
}

/* The bytes of the page at va that differ from the version. */
static uint64_t check_page(struct mm_machine *m, struct mm_task *t, uint64_t va, uint64_t obj,
			   uint64_t page, uint64_t ver)
{
	uint64_t buf[WORDS];
	int err = mm_read(m, t, va, buf, PG);
	if (err)
		fail_msg("read pid %d va %#llx: %d", mm_task_pid(t), (unsigned long long)va, err);
	uint64_t bad = 0;
	for (uint64_t w = 0; w < WORDS; w++)
		bad += buf[w] != word(obj, page, ver, w);
	return bad;
}

static uint64_t map(struct mm_machine *m, struct mm_task *t, uint64_t pages, int flags, int fd)
{
	int64_t a = mm_do_mmap(m, t, 0, pages * PG, MM_PROT_READ | MM_PROT_WRITE, flags, fd, 0);
	assert_true(a > 0);
	return (uint64_t)a;
}

static uint64_t map_anon(struct mm_machine *m, struct mm_task *t, uint64_t pages)
{
	/* NORESERVE: the working sets here exceed RAM on purpose */
	return map(m, t, pages, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_NORESERVE, -1);
}

static uint64_t nonresident(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages)
{
	uint64_t n = 0;
	for (uint64_t p = 0; p < pages; p++)
		n += mm_virt_to_phys(m, t, base + p * PG) < 0;
	return n;
}

static uint64_t free_pages(struct mm_machine *m)
{
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages;
}

/* A watermark summed over the zones. */
static uint64_t wmark(struct mm_machine *m, enum mm_wmark mark)
{
	uint64_t sum = 0;
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct mm_zone *zone = mm_buddy_zone(mm_machine_buddy(m), (enum mm_zone_type)z);
		if (zone)
			sum += mm_zone_wmark(zone, mark);
	}
	return sum;
}

/* A host file of `pages` pages, each holding version 1 of object obj. */
static int make_file(char *path, uint64_t pages, uint64_t obj)
{
	strcpy(path, "/tmp/mmsim-reclaim-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint64_t buf[WORDS];
	for (uint64_t p = 0; p < pages; p++) {
		page_image(buf, obj, p, 1);
		assert_int_equal(write(fd, buf, PG), (ssize_t)PG);
	}
	close(fd);
	return 0;
}

/* Pages of the host file that differ from ver[] (or from version v when
 * ver is NULL). */
static uint64_t check_host(const char *path, uint64_t pages, uint64_t obj, const uint64_t *ver,
			   uint64_t v)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint64_t buf[WORDS], want[WORDS], bad = 0;
	for (uint64_t p = 0; p < pages; p++) {
		assert_int_equal(pread(fd, buf, PG, (off_t)(p * PG)), (ssize_t)PG);
		page_image(want, obj, p, ver ? ver[p] : v);
		bad += memcmp(buf, want, PG) != 0;
	}
	close(fd);
	return bad;
}

static void stats(struct mm_machine *m, struct mm_reclaim_stats *st)
{
	mm_machine_reclaim_stats(m, st);
}

/* ---- kswapd ----------------------------------------------------------------------------- */

static void test_kswapd_watermarks(void **state)
{
	(void)state;
	struct mm_machine *m = boot(32, 64);
	uint64_t low = wmark(m, MM_WMARK_LOW), high = wmark(m, MM_WMARK_HIGH);
	uint64_t min = wmark(m, MM_WMARK_MIN);
	assert_true(min < low && low < high);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "fill", &t), 0);
	const uint64_t n = 32ULL << 20 >> 12;
	uint64_t a = map_anon(m, t, n);
	struct mm_reclaim_stats st;
	uint64_t p = 0;
	for (; p < n; p++) {
		write_page(m, t, a + p * PG, 1, p, 1);
		stats(m, &st);
		if (st.kswapd_awake)
			break;
	}
	assert_true(p < n);
	/* woken below low, before any direct reclaim */
	assert_true(free_pages(m) < low);
	assert_true(free_pages(m) > min);
	assert_int_equal(st.kswapd_wakeups, 1);
	assert_int_equal(st.allocstall, 0);
	assert_int_equal(st.pgscan_direct, 0);
	assert_int_equal(st.pgsteal_kswapd, 0);
	/* the clock gives kswapd the CPU: it reclaims up to high and sleeps */
	mm_machine_tick(m, 1);
	stats(m, &st);
	assert_false(st.kswapd_awake);
	assert_true(free_pages(m) >= high);
	assert_true(st.pgsteal_kswapd > 0);
	assert_true(st.pgscan_kswapd >= st.pgsteal_kswapd);
	assert_int_equal(st.pageoutrun, 1);
	assert_int_equal(mm_machine_check(m), 0);
	/* asleep while free memory is above low: ticks do nothing */
	mm_machine_tick(m, 10);
	struct mm_reclaim_stats st2;
	stats(m, &st2);
	assert_int_equal(st2.pageoutrun, 1);
	assert_int_equal(st2.pgscan_kswapd, st.pgscan_kswapd);
	for (uint64_t q = 0; q <= p; q++)
		assert_int_equal(check_page(m, t, a + q * PG, 1, q, 1), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* ---- direct reclaim order ------------------------------------------------------------------ */

static void test_direct_reclaim_order(void **state)
{
	(void)state;
	const uint64_t n = 64;
	char cpath[64], dpath[64];
	make_file(cpath, n, 100);
	make_file(dpath, n, 200);
	struct mm_machine *m = boot(32, 64);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "order", &t), 0);
	int cfd = mm_open(m, t, cpath, MM_O_RDONLY), dfd = mm_open(m, t, dpath, MM_O_RDWR);
	assert_true(cfd >= 0 && dfd >= 0);
	int64_t ca = mm_do_mmap(m, t, 0, n * PG, MM_PROT_READ, MM_MAP_SHARED, cfd, 0);
	assert_true(ca > 0);
	uint64_t da = map(m, t, n, MM_MAP_SHARED, dfd);
	uint64_t aa = map_anon(m, t, n);
	for (uint64_t p = 0; p < n; p++) {
		assert_int_equal(check_page(m, t, (uint64_t)ca + p * PG, 100, p, 1), 0);   /* clean */
		write_page(m, t, da + p * PG, 200, p, 2);                                  /* dirty */
		write_page(m, t, aa + p * PG, 300, p, 1);                                  /* anon */
	}
	struct mm_swap_info s0, s;
	mm_machine_swap_info(m, &s0);
	struct mm_reclaim_stats st0, st;
	stats(m, &st0);
	/* 1. clean page cache only */
	assert_int_equal(mm_machine_reclaim(m, n / 2), n / 2);
	stats(m, &st);
	mm_machine_swap_info(m, &s);
	assert_int_equal(st.pgsteal_file - st0.pgsteal_file, n / 2);
	assert_int_equal(st.file_writeback, st0.file_writeback);
	assert_int_equal(s.pswpout, s0.pswpout);
	assert_int_equal(nonresident(m, t, (uint64_t)ca, n), n / 2);
	assert_int_equal(nonresident(m, t, da, n), 0);
	assert_int_equal(nonresident(m, t, aa, n), 0);
	assert_true(st.allocstall == st0.allocstall);
	assert_true(st.pgsteal_direct - st0.pgsteal_direct == n / 2);
	assert_int_equal(mm_machine_check(m), 0);
	/* 2. the rest of the clean pages, then dirty file pages, written back */
	assert_int_equal(mm_machine_reclaim(m, n), n);
	stats(m, &st);
	mm_machine_swap_info(m, &s);
	assert_int_equal(nonresident(m, t, (uint64_t)ca, n), n);
	assert_int_equal(nonresident(m, t, da, n), n / 2);
	assert_int_equal(st.file_writeback - st0.file_writeback, n / 2);
	assert_int_equal(s.pswpout, s0.pswpout);
	assert_int_equal(nonresident(m, t, aa, n), 0);
	/* 3. the other dirty half, then anonymous pages to swap */
	assert_int_equal(mm_machine_reclaim(m, n), n);
	stats(m, &st);
	mm_machine_swap_info(m, &s);
	assert_int_equal(nonresident(m, t, da, n), n);
	assert_int_equal(st.file_writeback - st0.file_writeback, n);
	assert_int_equal(s.pswpout - s0.pswpout, n / 2);
	assert_int_equal(nonresident(m, t, aa, n), n / 2);
	assert_int_equal(st.pgsteal_anon - st0.pgsteal_anon, n / 2);
	assert_int_equal(mm_machine_check(m), 0);
	/* the dirty pages reached the host file before they were dropped */
	assert_int_equal(check_host(dpath, n, 200, NULL, 2), 0);
	assert_int_equal(check_host(cpath, n, 100, NULL, 1), 0);
	/* and everything reads back */
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	for (uint64_t p = 0; p < n; p++) {
		assert_int_equal(check_page(m, t, (uint64_t)ca + p * PG, 100, p, 1), 0);
		assert_int_equal(check_page(m, t, da + p * PG, 200, p, 2), 0);
		assert_int_equal(check_page(m, t, aa + p * PG, 300, p, 1), 0);
	}
	mm_task_counters(t, &c1);
	assert_int_equal(c1.maj_flt - c0.maj_flt, 2 * n + n / 2);   /* every page read in */
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	mm_machine_destroy(m);
	unlink(cpath);
	unlink(dpath);
}

/* Dirty MAP_SHARED pages of a file under memory pressure: what the process
 * wrote is in the host file even though nobody called msync. 32-bit mode
 * too (4-byte PTEs). */
static void test_shared_file_writeback(void **state)
{
	(void)state;
	static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL };
	for (size_t k = 0; k < MM_ARRAY_SIZE(modes); k++) {
		const uint64_t n = 3000;   /* 11.7 MiB of file on a 12 MiB machine */
		char path[64];
		make_file(path, n, 7);
		struct mm_machine_config cfg;
		config(&cfg, 12, 0);
		cfg.paging = modes[k];
		struct mm_machine *m = boot_cfg(&cfg);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "wb", &t), 0);
		int fd = mm_open(m, t, path, MM_O_RDWR);
		assert_true(fd >= 0);
		uint64_t a = map(m, t, n, MM_MAP_SHARED, fd);
		for (uint64_t p = 0; p < n; p++)
			write_page(m, t, a + p * PG, 7, p, 3);
		struct mm_reclaim_stats st;
		stats(m, &st);
		assert_true(st.file_writeback > 0);   /* reclaim had to write */
		assert_true(nonresident(m, t, a, n) > 0);
		assert_int_equal(mm_machine_check(m), 0);
		/* the pages reclaim dropped are in the host file */
		int hfd = open(path, O_RDONLY);
		uint64_t buf[WORDS], want[WORDS];
		uint64_t checked = 0;
		for (uint64_t p = 0; p < n; p++) {
			if (mm_virt_to_phys(m, t, a + p * PG) >= 0)
				continue;
			assert_int_equal(pread(hfd, buf, PG, (off_t)(p * PG)), (ssize_t)PG);
			page_image(want, 7, p, 3);
			assert_memory_equal(buf, want, PG);
			checked++;
		}
		close(hfd);
		assert_true(checked > 0);
		for (uint64_t p = 0; p < n; p++)
			assert_int_equal(check_page(m, t, a + p * PG, 7, p, 3), 0);
		mm_exit(m, t);   /* writes back the rest */
		assert_int_equal(check_host(path, n, 7, NULL, 3), 0);
		mm_machine_destroy(m);
		unlink(path);
	}
}

/* ---- the flusher ---------------------------------------------------------------------------- */

static void test_flusher(void **state)
{
	(void)state;
	const uint64_t n = 16;
	char path[64];
	make_file(path, n, 9);
	struct mm_machine *m = boot(32, 0);   /* defaults: every 500 cs, expire 3000 cs, HZ 100 */
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "fl", &t), 0);
	int fd = mm_open(m, t, path, MM_O_RDWR);
	uint64_t a = map(m, t, n, MM_MAP_SHARED, fd);
	for (uint64_t p = 0; p < n; p++)
		write_page(m, t, a + p * PG, 9, p, 2);
	mm_machine_tick(m, 1);        /* the flusher first sees them dirty */
	mm_machine_tick(m, 1000);     /* 10 s later: not old enough */
	assert_int_equal(check_host(path, n, 9, NULL, 1), 0);
	struct mm_reclaim_stats st;
	stats(m, &st);
	assert_int_equal(st.flusher_writeback, 0);
	static char buf[16384];
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nDirty:                64 kB\n"));
	mm_machine_tick(m, 2500);     /* 35 s: written */
	assert_int_equal(check_host(path, n, 9, NULL, 2), 0);
	stats(m, &st);
	assert_int_equal(st.flusher_writeback, n);
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nDirty:                 0 kB\n"));
	assert_int_equal(mm_machine_jiffies(m), 3501);
	/* written again only when dirtied again */
	mm_machine_tick(m, 5000);
	stats(m, &st);
	assert_int_equal(st.flusher_writeback, n);
	write_page(m, t, a, 9, 0, 5);
	mm_machine_tick(m, 500);      /* the next run sees it dirty */
	mm_machine_tick(m, 2000);
	stats(m, &st);
	assert_int_equal(st.flusher_writeback, n);
	mm_machine_tick(m, 1500);     /* 35 s after that run */
	stats(m, &st);
	assert_int_equal(st.flusher_writeback, n + 1);
	uint64_t ver[16];
	for (uint64_t p = 0; p < n; p++)
		ver[p] = p ? 2 : 5;
	assert_int_equal(check_host(path, n, 9, ver, 0), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
}

/* ---- local and global replacement ------------------------------------------------------------ */

static void test_local_vs_global(void **state)
{
	(void)state;
	/* local: A is limited to 32 frames and replaces only its own */
	struct mm_machine_config cfg;
	config(&cfg, 64, 64);
	cfg.reclaim_local = true;
	struct mm_machine *m = boot_cfg(&cfg);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "b", &b), 0);
	assert_int_equal(mm_task_set_frame_limit(m, a, 32), 0);
	uint64_t ba = map_anon(m, b, 64), aa = map_anon(m, a, 128);
	for (uint64_t p = 0; p < 64; p++)
		write_page(m, b, ba + p * PG, 2, p, 1);
	for (uint64_t p = 0; p < 128; p++) {
		write_page(m, a, aa + p * PG, 1, p, 1);
		assert_true(mm_task_frames(m, a) <= 32);
	}
	assert_int_equal(mm_task_frames(m, b), 64);
	assert_int_equal(nonresident(m, b, ba, 64), 0);
	assert_true(nonresident(m, a, aa, 128) >= 128 - 32);
	struct mm_reclaim_stats st;
	stats(m, &st);
	assert_true(st.local_reclaims >= 128 - 32);
	assert_int_equal(mm_machine_check(m), 0);
	for (uint64_t p = 0; p < 128; p++) {
		assert_int_equal(check_page(m, a, aa + p * PG, 1, p, 1), 0);
		assert_true(mm_task_frames(m, a) <= 32);
	}
	assert_int_equal(nonresident(m, b, ba, 64), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);

	/* global, same machine: no limits, nothing is replaced */
	config(&cfg, 64, 64);
	m = boot_cfg(&cfg);
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_set_frame_limit(m, a, 32), -MM_EINVAL);
	aa = map_anon(m, a, 128);
	for (uint64_t p = 0; p < 128; p++)
		write_page(m, a, aa + p * PG, 1, p, 1);
	assert_int_equal(nonresident(m, a, aa, 128), 0);
	mm_machine_destroy(m);

	/* global under pressure: A's growth takes B's frames too; local with
	 * a limit on A leaves B alone */
	for (int local = 0; local < 2; local++) {
		config(&cfg, 16, 64);
		cfg.reclaim_local = local;
		m = boot_cfg(&cfg);
		assert_int_equal(mm_task_create(m, "b", &b), 0);
		assert_int_equal(mm_task_create(m, "a", &a), 0);
		if (local)
			assert_int_equal(mm_task_set_frame_limit(m, a, 1024), 0);
		const uint64_t nb = 256, na = 4096;
		ba = map_anon(m, b, nb);
		aa = map_anon(m, a, na);
		for (uint64_t p = 0; p < nb; p++)
			write_page(m, b, ba + p * PG, 2, p, 1);
		for (uint64_t p = 0; p < na; p++)
			write_page(m, a, aa + p * PG, 1, p, 1);
		uint64_t lost_b = nonresident(m, b, ba, nb);
		if (local)
			assert_int_equal(lost_b, 0);
		else
			assert_true(lost_b > 0);
		assert_int_equal(mm_machine_check(m), 0);
		for (uint64_t p = 0; p < nb; p++)
			assert_int_equal(check_page(m, b, ba + p * PG, 2, p, 1), 0);
		for (uint64_t p = 0; p < na; p++)
			assert_int_equal(check_page(m, a, aa + p * PG, 1, p, 1), 0);
		mm_machine_destroy(m);
	}
}

/* cfg.frame_limit applies to every process, fork children included; the
 * frames a child faults in (swap-ins of pages it shares) are its own. */
static void test_default_frame_limit(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	config(&cfg, 32, 32);
	cfg.reclaim_local = true;
	cfg.frame_limit = 64;
	struct mm_machine *m = boot_cfg(&cfg);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "p", &p), 0);
	const uint64_t n = 200;
	uint64_t a = map_anon(m, p, n);
	for (uint64_t q = 0; q < n; q++) {
		write_page(m, p, a + q * PG, 12, q, 1);
		assert_true(mm_task_frames(m, p) <= 64);
	}
	assert_true(nonresident(m, p, a, n) >= n - 64);
	assert_int_equal(mm_fork(m, p, &c), 0);
	for (uint64_t q = 0; q < n; q++) {
		assert_int_equal(check_page(m, c, a + q * PG, 12, q, 1), 0);
		assert_true(mm_task_frames(m, c) <= 64);
	}
	assert_true(mm_task_frames(m, c) > 0);
	/* a process may be given more */
	assert_int_equal(mm_task_set_frame_limit(m, p, 1000), 0);
	for (uint64_t q = 0; q < n; q++)
		write_page(m, p, a + q * PG, 12, q, 2);
	assert_true(mm_task_frames(m, p) > 64);
	assert_int_equal(nonresident(m, p, a, n), 0);
	for (uint64_t q = 0; q < n; q++)
		assert_int_equal(check_page(m, c, a + q * PG, 12, q, 1), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	mm_exit(m, p);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	mm_machine_destroy(m);
}

/* ---- every policy under pressure --------------------------------------------------------------- */

#define NPROC 3
#define PPAGES 1300   /* 3 x 5.1 MiB of anonymous memory on 12 MiB of RAM */

static void run_policy(const char *spec, uint64_t seed, uint64_t ops)
{
	struct mm_machine_config cfg;
	config(&cfg, 12, 64);
	cfg.reclaim_policy = spec;
	struct mm_machine *m = boot_cfg(&cfg);
	struct mm_task *t[NPROC + 1];
	uint64_t base[NPROC + 1];
	/* page contents are (page, version) with versions unique over the whole
	 * run, so a write leaking into another process shows */
	static uint32_t ver[NPROC + 1][PPAGES];
	uint32_t gver = 0;
	memset(ver, 0, sizeof(ver));
	int np = NPROC;
	for (int i = 0; i < NPROC; i++) {
		assert_int_equal(mm_task_create(m, "p", &t[i]), 0);
		base[i] = map_anon(m, t[i], PPAGES);
	}
	/* every page written once: the working set is larger than RAM */
	for (int i = 0; i < NPROC; i++)
		for (uint64_t p = 0; p < PPAGES; p++) {
			ver[i][p] = ++gver;
			write_page(m, t[i], base[i] + p * PG, 1, p, ver[i][p]);
		}
	struct mm_rng rng;
	mm_rng_seed(&rng, seed);
	for (uint64_t op = 0; op < ops; op++) {
		int i = (int)mm_rng_below(&rng, (uint64_t)np);
		/* a hot quarter gets most accesses */
		uint64_t page = mm_rng_below(&rng, 4) ? mm_rng_below(&rng, PPAGES / 4) :
							mm_rng_below(&rng, PPAGES);
		if (mm_rng_below(&rng, 3) == 0) {
			ver[i][page] = ++gver;
			write_page(m, t[i], base[i] + page * PG, 1, page, ver[i][page]);
		} else {
			uint64_t w = mm_rng_below(&rng, WORDS), v = 0;
			assert_int_equal(mm_read(m, t[i], base[i] + page * PG + w * 8, &v, 8), 0);
			if (v != word(1, page, ver[i][page], w))
				mm_test_fail_seed("policy %s: pid %d page %llu word %llu differs", spec,
						  mm_task_pid(t[i]), (unsigned long long)page,
						  (unsigned long long)w);
		}
		if (op == ops / 2) {
			/* fork: the child shares every page, swapped or not */
			assert_int_equal(mm_fork(m, t[0], &t[np]), 0);
			base[np] = base[0];
			memcpy(ver[np], ver[0], sizeof(ver[0]));
			np++;
		}
		if (op % 512 == 0)
			mm_machine_tick(m, 1);
		if (op % (ops / 4) == 0 && mm_machine_check(m))
			mm_test_fail_seed("policy %s: mm_machine_check failed at op %llu", spec,
					  (unsigned long long)op);
	}
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_true(si.pswpout > 0);
	assert_true(si.pswpin > 0);
	for (int i = 0; i < np; i++)
		for (uint64_t p = 0; p < PPAGES; p++) {
			if (check_page(m, t[i], base[i] + p * PG, 1, p, ver[i][p]))
				mm_test_fail_seed("policy %s: pid %d page %llu lost", spec,
						  mm_task_pid(t[i]), (unsigned long long)p);
		}
	assert_int_equal(mm_machine_check(m), 0);
	assert_string_equal(mm_machine_reclaim_policy(m), mm_policy_find(spec)->name);
	for (int i = 0; i < np; i++)
		mm_exit(m, t[i]);
	mm_machine_swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_every_policy(void **state)
{
	(void)state;
	uint64_t seed = mm_test_seed();
	for (size_t i = 0; i < mm_policy_count(); i++)
		run_policy(mm_policy_info(i)->name, seed + i, mm_test_iters(12000));
}

/* ---- a randomized run ------------------------------------------------------------------------ */
/* Processes forked from one another share a private anonymous area (COW),
 * a MAP_SHARED host file and a System V segment; RAM is much smaller than
 * what they write, so pages go to swap and to the file and come back all
 * the time. Every read is checked, every page at the end, and the host
 * file after the last exit. */

#define RP_MAXP 6
#define RP_ANON 900
#define RP_FILE 192
#define RP_SHM 64

struct rp_proc {
	struct mm_task *t;
	uint32_t ver[RP_ANON];
};

struct rp {
	struct mm_machine *m;
	struct rp_proc p[RP_MAXP];
	int np;
	uint64_t anon, file, shm;   /* the same addresses in every process */
	uint32_t fver[RP_FILE], sver[RP_SHM];
	uint32_t gver;
	struct mm_rng rng;
};

/* Region r (0 anon, 1 file, 2 shm) of process i: address, object, version slot. */
static void rp_page(struct rp *w, int i, int r, uint64_t page, uint64_t *va, uint64_t *obj,
		    uint32_t **ver)
{
	if (r == 0) {
		*va = w->anon + page * PG;
		*obj = 1;
		*ver = &w->p[i].ver[page];
	} else if (r == 1) {
		*va = w->file + page * PG;
		*obj = 2;
		*ver = &w->fver[page];
	} else {
		*va = w->shm + page * PG;
		*obj = 3;
		*ver = &w->sver[page];
	}
}

static uint64_t rp_pages(int r)
{
	return r == 0 ? RP_ANON : r == 1 ? RP_FILE : RP_SHM;
}

static void rp_verify_all(struct rp *w)
{
	for (int i = 0; i < w->np; i++)
		for (int r = 0; r < 3; r++)
			for (uint64_t pg = 0; pg < rp_pages(r); pg++) {
				uint64_t va, obj;
				uint32_t *ver;
				rp_page(w, i, r, pg, &va, &obj, &ver);
				if (check_page(w->m, w->p[i].t, va, obj, pg, *ver))
					mm_test_fail_seed("pid %d region %d page %llu differs",
							  mm_task_pid(w->p[i].t), r, (unsigned long long)pg);
			}
}

static void random_pressure(enum mm_paging_mode mode, bool swap_shmem, uint64_t ops)
{
	char path[64];
	make_file(path, RP_FILE, 2);
	static struct rp w;
	memset(&w, 0, sizeof(w));
	mm_rng_seed(&w.rng, mm_test_seed() + mode);
	struct mm_machine_config cfg;
	config(&cfg, 8, 32);
	cfg.paging = mode;
	cfg.swap_shmem = swap_shmem;
	w.m = boot_cfg(&cfg);
	struct mm_machine *m = w.m;
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "rp", &t), 0);
	w.p[0].t = t;
	w.np = 1;
	w.anon = map_anon(m, t, RP_ANON);
	int fd = mm_open(m, t, path, MM_O_RDWR);
	assert_true(fd >= 0);
	w.file = map(m, t, RP_FILE, MM_MAP_SHARED, fd);
	int id = mm_shmget(m, t, MM_IPC_PRIVATE, RP_SHM * PG, MM_IPC_CREAT);
	assert_true(id >= 0);
	int64_t sa = mm_shmat(m, t, id, 0, 0);
	assert_true(sa > 0);
	w.shm = (uint64_t)sa;
	assert_int_equal(mm_shmctl(m, t, id, MM_IPC_RMID, NULL), 0);
	/* the file is in the page cache before the pressure starts, so
	 * reclaim meets file pages too */
	for (uint64_t pg = 0; pg < RP_FILE; pg++) {
		w.fver[pg] = 1;
		assert_int_equal(check_page(m, t, w.file + pg * PG, 2, pg, 1), 0);
	}
	for (uint64_t pg = 0; pg < RP_ANON; pg++) {
		w.p[0].ver[pg] = ++w.gver;
		write_page(m, t, w.anon + pg * PG, 1, pg, w.p[0].ver[pg]);
	}
	/* two children copy every page: 2700 anonymous pages on 2048 frames */
	for (int c = 1; c <= 2; c++) {
		assert_int_equal(mm_fork(m, t, &w.p[c].t), 0);
		for (uint64_t pg = 0; pg < RP_ANON; pg++) {
			w.p[c].ver[pg] = ++w.gver;
			write_page(m, w.p[c].t, w.anon + pg * PG, 1, pg, w.p[c].ver[pg]);
		}
		w.np++;
	}
	uint64_t forks = 0, exits = 0;
	for (uint64_t op = 0; op < ops; op++) {
		uint64_t x = mm_rng_below(&w.rng, 100);
		int i = (int)mm_rng_below(&w.rng, (uint64_t)w.np);
		struct mm_task *ti = w.p[i].t;
		int r = mm_rng_below(&w.rng, 8) < 6 ? 0 : mm_rng_below(&w.rng, 2) ? 1 : 2;
		uint64_t pg = mm_rng_below(&w.rng, rp_pages(r)), va, obj;
		uint32_t *ver;
		rp_page(&w, i, r, pg, &va, &obj, &ver);
		if (x < 45) {
			*ver = ++w.gver;
			write_page(m, ti, va, obj, pg, *ver);
		} else if (x < 82) {
			uint64_t wd = mm_rng_below(&w.rng, WORDS), v = 0;
			assert_int_equal(mm_read(m, ti, va + wd * 8, &v, 8), 0);
			if (v != word(obj, pg, *ver, wd))
				mm_test_fail_seed("op %llu: pid %d region %d page %llu word %llu differs",
						  (unsigned long long)op, mm_task_pid(ti), r,
						  (unsigned long long)pg, (unsigned long long)wd);
		} else if (x < 84) {
			if (w.np < RP_MAXP) {
				struct mm_task *c;
				assert_int_equal(mm_fork(m, ti, &c), 0);
				w.p[w.np].t = c;
				memcpy(w.p[w.np].ver, w.p[i].ver, sizeof(w.p[i].ver));
				w.np++;
				forks++;
			}
		} else if (x < 85) {
			if (w.np > 1 && mm_rng_below(&w.rng, 8) == 0) {
				mm_exit(m, ti);
				w.p[i] = w.p[w.np - 1];
				w.np--;
				exits++;
			}
		} else if (x < 86) {
			/* drop a few anonymous pages: zeroes after, slots back */
			uint64_t first = mm_rng_below(&w.rng, RP_ANON - 8);
			assert_int_equal(mm_do_madvise(m, ti, w.anon + first * PG, 8 * PG, MM_MADV_DONTNEED), 0);
			memset(&w.p[i].ver[first], 0, 8 * sizeof(uint32_t));
		} else if (x < 88) {
			assert_int_equal(mm_do_msync(m, ti, w.file, RP_FILE * PG, MM_MS_SYNC), 0);
		} else {
			mm_machine_tick(m, 1 + mm_rng_below(&w.rng, 200));
		}
		if (op % 2000 == 0 && mm_machine_check(m))
			mm_test_fail_seed("mm_machine_check failed at op %llu", (unsigned long long)op);
	}
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	struct mm_reclaim_stats st;
	stats(m, &st);
	assert_true(si.pswpout > 0 && si.pswpin > 0);
	assert_true(st.pgsteal_file > 0);
	assert_true(forks > 0);
	rp_verify_all(&w);
	assert_int_equal(mm_machine_check(m), 0);
	while (w.np)
		mm_exit(m, w.p[--w.np].t);
	mm_machine_swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	assert_int_equal(si.cached_pages, 0);
	uint64_t fver[RP_FILE];
	for (uint64_t pg = 0; pg < RP_FILE; pg++)
		fver[pg] = w.fver[pg];
	assert_int_equal(check_host(path, RP_FILE, 2, fver, 0), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
	(void)exits;
}

/* 4-level (8-byte PTEs) and 2-level (4-byte PTEs, the 32-bit swap entry
 * layout) machines, and the System V segment swapped too (swap_shmem). */
static void test_random_pressure(void **state)
{
	(void)state;
	random_pressure(MM_PAGING_4LEVEL, false, mm_test_iters(30000));
	random_pressure(MM_PAGING_2LEVEL, false, mm_test_iters(15000));
	random_pressure(MM_PAGING_4LEVEL, true, mm_test_iters(15000));
}

/* ---- the views ------------------------------------------------------------------------------ */

/* The value of row `name` (followed by `sep`) in a view, or UINT64_MAX. */
static uint64_t row(const char *buf, const char *name, char sep)
{
	size_t n = strlen(name);
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == sep)
			return strtoull(p + n + 1, NULL, 10);
	return UINT64_MAX;
}

/* Rows appear in this order (Linux's, linux-formats/vmstat). */
static void assert_order(const char *view, const char *const *rows, size_t n)
{
	static char buf[(1 << 15) + 2];
	buf[0] = '\n';
	strncpy(buf + 1, view, sizeof(buf) - 2);
	buf[sizeof(buf) - 1] = 0;
	const char *prev = buf;
	for (size_t i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof(key), "\n%s ", rows[i]);
		const char *at = strstr(buf, key);
		if (!at)
			fail_msg("vmstat: no row %s", rows[i]);
		if (at < prev)
			fail_msg("vmstat: row %s out of Linux's order", rows[i]);
		prev = at;
	}
}

/* meminfo's LRU rows, vmstat's reclaim rows and free's Swap line agree with
 * the counters after a run under pressure. */
static void test_views_under_pressure(void **state)
{
	(void)state;
	const uint64_t n = 2600, nf = 128;
	char path[64];
	make_file(path, nf, 5);
	struct mm_machine *m = boot(8, 32);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "views", &t), 0);
	int fd = mm_open(m, t, path, MM_O_RDWR);
	uint64_t fa = map(m, t, nf, MM_MAP_SHARED, fd);
	uint64_t a = map_anon(m, t, n);
	int id = mm_shmget(m, t, MM_IPC_PRIVATE, 16 * PG, MM_IPC_CREAT);
	int64_t sa = mm_shmat(m, t, id, 0, 0);
	assert_true(sa > 0);
	for (uint64_t p = 0; p < 16; p++)
		write_page(m, t, (uint64_t)sa + p * PG, 6, p, 1);
	for (uint64_t p = 0; p < nf; p++)
		assert_int_equal(check_page(m, t, fa + p * PG, 5, p, 1), 0);
	for (uint64_t p = 0; p < n; p++)
		write_page(m, t, a + p * PG, 4, p, 1);
	for (uint64_t p = 0; p < 8; p++)
		write_page(m, t, fa + p * PG, 5, p, 2);
	mm_machine_tick(m, 1);
	struct mm_reclaim_stats st;
	stats(m, &st);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_true(si.pswpout > 0);
	static char buf[1 << 15];
	mm_show_meminfo(m, buf, sizeof(buf));
	assert_int_equal(row(buf, "Active(anon)", ':'), st.nr_active_anon * 4);
	assert_int_equal(row(buf, "Inactive(anon)", ':'), st.nr_inactive_anon * 4);
	assert_int_equal(row(buf, "Active(file)", ':'), st.nr_active_file * 4);
	assert_int_equal(row(buf, "Inactive(file)", ':'), st.nr_inactive_file * 4);
	assert_int_equal(row(buf, "Active", ':'), (st.nr_active_anon + st.nr_active_file) * 4);
	assert_int_equal(row(buf, "Inactive", ':'), (st.nr_inactive_anon + st.nr_inactive_file) * 4);
	assert_int_equal(row(buf, "Unevictable", ':'), 16 * 4);   /* the shm pages */
	assert_int_equal(row(buf, "SwapTotal", ':'), si.total_pages * 4);
	assert_int_equal(row(buf, "SwapFree", ':'), si.free_pages * 4);
	assert_int_equal(row(buf, "SwapCached", ':'), si.cached_pages * 4);
	/* every resident user page is on a list or unevictable */
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(st.nr_active_anon + st.nr_inactive_anon + st.nr_active_file + st.nr_inactive_file +
				 st.nr_unevictable,
			 mi.anon_pages + mi.cached_pages);
	mm_show_vmstat(m, buf, sizeof(buf));
	assert_int_equal(row(buf, "pswpin", ' '), si.pswpin);
	assert_int_equal(row(buf, "pswpout", ' '), si.pswpout);
	assert_int_equal(row(buf, "pgscan_kswapd", ' '), st.pgscan_kswapd);
	assert_int_equal(row(buf, "pgscan_direct", ' '), st.pgscan_direct);
	assert_int_equal(row(buf, "pgsteal_kswapd", ' '), st.pgsteal_kswapd);
	assert_int_equal(row(buf, "pgsteal_direct", ' '), st.pgsteal_direct);
	assert_int_equal(row(buf, "pgactivate", ' '), st.pgactivate);
	assert_int_equal(row(buf, "pgdeactivate", ' '), st.pgdeactivate);
	assert_int_equal(row(buf, "pageoutrun", ' '), st.pageoutrun);
	assert_int_equal(row(buf, "nr_inactive_anon", ' '), st.nr_inactive_anon);
	assert_int_equal(row(buf, "nr_active_file", ' '), st.nr_active_file);
	assert_int_equal(row(buf, "nr_swapcached", ' '), si.cached_pages);
	assert_true(st.pgsteal_kswapd + st.pgsteal_direct > 0);
	assert_int_equal(row(buf, "allocstall_movable", ' '), st.allocstall);
	assert_int_equal(row(buf, "pgrotated", ' '), st.pgrotated);
	assert_int_equal(row(buf, "pgrefill", ' '), st.pgrefill);
	static const char *const order[] = {
		"nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file",
		"nr_active_file", "nr_unevictable", "nr_slab_unreclaimable", "nr_anon_pages",
		"nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem",
		"nr_page_table_pages", "nr_swapcached", "pgpgin", "pgpgout", "pswpin", "pswpout",
		"allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable",
		"pgactivate", "pgdeactivate", "pgfault", "pgmajfault", "pgrefill", "pgsteal_kswapd",
		"pgsteal_direct", "pgscan_kswapd", "pgscan_direct", "pgscan_anon", "pgscan_file",
		"pgsteal_anon", "pgsteal_file", "pageoutrun", "pgrotated",
	};
	assert_order(buf, order, MM_ARRAY_SIZE(order));
	mm_show_free(m, buf, sizeof(buf));
	char want[128];
	snprintf(want, sizeof(want), "\nSwap:   %12llu%12llu%12llu\n", (unsigned long long)si.total_pages * 4,
		 (unsigned long long)(si.total_pages - si.free_pages) * 4,
		 (unsigned long long)si.free_pages * 4);
	assert_non_null(strstr(buf, want));
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
}

/* ---- configuration ------------------------------------------------------------------------- */

static void test_config(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	config(&cfg, 16, 0);
	struct mm_machine *m = boot_cfg(&cfg);
	assert_string_equal(mm_machine_reclaim_policy(m), "linux");   /* the default */
	mm_machine_destroy(m);
	/* a spec with options; the caller's string need not outlive create */
	char spec[32];
	strcpy(spec, "linux:ratio=2");
	cfg.reclaim_policy = spec;
	m = boot_cfg(&cfg);
	memset(spec, 0, sizeof(spec));
	assert_int_equal(strncmp(mm_machine_reclaim_policy(m), "linux", 5), 0);
	mm_machine_destroy(m);
	cfg.reclaim_policy = "no-such-policy";
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	cfg.reclaim_policy = "clock:no-such-option=1";
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	/* reclaim off: no lists, nothing reclaimed, ticks do nothing */
	config(&cfg, 16, 0);
	cfg.no_reclaim = true;
	m = boot_cfg(&cfg);
	assert_string_equal(mm_machine_reclaim_policy(m), "");
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "off", &t), 0);
	assert_int_equal(mm_task_set_frame_limit(m, t, 8), -MM_EINVAL);
	char path[64];
	make_file(path, 8, 3);
	int fd = mm_open(m, t, path, MM_O_RDONLY);
	int64_t fa = mm_do_mmap(m, t, 0, 8 * PG, MM_PROT_READ, MM_MAP_SHARED, fd, 0);
	assert_true(fa > 0);
	for (uint64_t p = 0; p < 8; p++)
		assert_int_equal(check_page(m, t, (uint64_t)fa + p * PG, 3, p, 1), 0);
	assert_int_equal(mm_machine_reclaim(m, 8), 0);
	assert_int_equal(nonresident(m, t, (uint64_t)fa, 8), 0);
	mm_machine_tick(m, 100);
	struct mm_reclaim_stats st;
	stats(m, &st);
	assert_int_equal(st.pgscan_direct + st.pgscan_kswapd + st.pageoutrun, 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
}

/* Idealised policies see every access, TLB hits included: under exact LRU
 * a page touched between every two new pages is never the victim; FIFO,
 * which ignores use, evicts it while the stream goes by. */
static void test_idealised_sees_hits(void **state)
{
	(void)state;
	static const char *const specs[] = { "lru", "fifo" };
	for (size_t k = 0; k < MM_ARRAY_SIZE(specs); k++) {
		struct mm_machine_config cfg;
		config(&cfg, 8, 32);
		cfg.reclaim_policy = specs[k];
		struct mm_machine *m = boot_cfg(&cfg);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "hot", &t), 0);
		const uint64_t n = 3000;   /* more than the 2048 frames */
		uint64_t hot = map_anon(m, t, 1), a = map_anon(m, t, n);
		uint64_t v = 7;
		assert_int_equal(mm_write(m, t, hot, &v, 8), 0);
		uint64_t evicted = 0;
		for (uint64_t p = 0; p < n; p++) {
			write_page(m, t, a + p * PG, 8, p, 1);
			evicted += mm_virt_to_phys(m, t, hot) < 0;
			for (int r = 0; r < 4; r++)   /* TLB hits */
				assert_int_equal(mm_read(m, t, hot, &v, 8), 0);
			assert_int_equal(v, 7);
		}
		if (k == 0)
			assert_int_equal(evicted, 0);
		else
			assert_true(evicted > 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* Huge pages are never on the LRU lists: under pressure they stay mapped
 * with their bytes while anonymous 4 KiB pages go to swap around them. */
static void test_hugetlb_untouched(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	config(&cfg, 16, 32);
	cfg.nr_hugepages = 2;
	struct mm_machine *m = boot_cfg(&cfg);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "huge", &t), 0);
	const uint64_t hp = 2 * 512, n = 3000;
	int64_t h = mm_do_mmap(m, t, 0, hp * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_HUGETLB, -1, 0);
	assert_true(h > 0);
	for (uint64_t p = 0; p < hp; p++)
		write_page(m, t, (uint64_t)h + p * PG, 10, p, 1);
	uint64_t a = map_anon(m, t, n);
	for (uint64_t p = 0; p < n; p++)
		write_page(m, t, a + p * PG, 11, p, 1);
	mm_machine_reclaim(m, n);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_true(si.pswpout > 0);
	assert_int_equal(nonresident(m, t, (uint64_t)h, hp), 0);
	assert_int_equal(mm_machine_check(m), 0);
	for (uint64_t p = 0; p < hp; p++)
		assert_int_equal(check_page(m, t, (uint64_t)h + p * PG, 10, p, 1), 0);
	for (uint64_t p = 0; p < n; p++)
		assert_int_equal(check_page(m, t, a + p * PG, 11, p, 1), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* A program's text and read-only data are clean page-cache pages of its
 * file: reclaim drops them without I/O and the next access reads them back
 * from the host file, byte for byte. */
static uint64_t compare_segments(struct mm_machine *m, struct mm_task *t, const char *bin, int hfd,
				 uint64_t *pages)
{
	static char maps[1 << 15];
	mm_show_maps(m, t, maps, sizeof(maps));
	uint64_t bad = 0;
	*pages = 0;
	for (char *line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long lo, hi, off;
		char perms[8], path[256];
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %255s", &lo, &hi, perms, &off, path) != 5)
			continue;
		if (strcmp(path, bin) || perms[1] == 'w' || perms[0] != 'r')
			continue;
		for (unsigned long long va = lo; va < hi; va += PG) {
			uint8_t got[PG], want[PG];
			memset(want, 0, PG);
			ssize_t r = pread(hfd, want, PG, (off_t)(off + (va - lo)));
			assert_true(r >= 0);
			assert_int_equal(mm_read(m, t, va, got, PG), 0);
			bad += memcmp(got, want, PG) != 0;
			(*pages)++;
		}
	}
	return bad;
}

static void test_exec_text_reclaimed(void **state)
{
	(void)state;
	static const char *const cands[] = { "/usr/bin/true", "/bin/true", "/usr/bin/sleep", "/bin/sleep" };
	const char *bin = NULL;
	for (size_t i = 0; i < MM_ARRAY_SIZE(cands) && !bin; i++)
		if (access(cands[i], R_OK) == 0)
			bin = cands[i];
	if (!bin)
		skip();
	char real[256];
	assert_non_null(realpath(bin, real));
	struct mm_machine *m = boot(32, 0);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "prog", &t), 0);
	assert_int_equal(mm_exec(m, t, bin), 0);
	int hfd = open(real, O_RDONLY);
	assert_true(hfd >= 0);
	uint64_t pages;
	assert_int_equal(compare_segments(m, t, real, hfd, &pages), 0);
	assert_true(pages > 0);
	struct mm_reclaim_stats st0, st;
	stats(m, &st0);
	mm_machine_reclaim(m, 100000);
	stats(m, &st);
	assert_true(st.pgsteal_file - st0.pgsteal_file >= pages);
	assert_int_equal(st.file_writeback, st0.file_writeback);   /* clean: no I/O */
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	uint64_t again;
	assert_int_equal(compare_segments(m, t, real, hfd, &again), 0);
	mm_task_counters(t, &c1);
	assert_int_equal(again, pages);
	assert_true(c1.maj_flt - c0.maj_flt >= pages);
	assert_int_equal(mm_machine_check(m), 0);
	close(hfd);
	mm_machine_destroy(m);
}

/* The textbook results, end to end through the machine: Belady's reference
 * string 1,2,3,4,1,2,5,1,2,3,4,5 with local replacement giving the process
 * exactly F frames (anonymous pages, evicted to swap). The first touch of
 * a page writes it (a frame; a read would map the zero page), later ones
 * read it; every page fault counts, cold misses included. FIFO: 9 faults
 * with 3 frames, 10 with 4 (the anomaly); LRU 10 and 8; OPT 7 and 6. */
static void test_belady_in_machine(void **state)
{
	(void)state;
	static const int refs[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
	static const struct { const char *spec; uint64_t faults[2]; } want[] = {
		{ "fifo", { 9, 10 } }, { "lru", { 10, 8 } }, { "opt", { 7, 6 } },
	};
	const size_t nr = MM_ARRAY_SIZE(refs);
	for (size_t k = 0; k < MM_ARRAY_SIZE(want); k++)
		for (int f = 0; f < 2; f++) {
			struct mm_machine_config cfg;
			config(&cfg, 16, 16);
			cfg.reclaim_policy = want[k].spec;
			cfg.reclaim_local = true;
			struct mm_machine *m = boot_cfg(&cfg);
			struct mm_task *t;
			assert_int_equal(mm_task_create(m, "belady", &t), 0);
			assert_int_equal(mm_task_set_frame_limit(m, t, (uint64_t)(3 + f)), 0);
			uint64_t a = map_anon(m, t, 8);
			bool seen[8] = { false };
			struct mm_counters c0, c1;
			mm_task_counters(t, &c0);
			for (size_t i = 0; i < nr; i++) {
				/* OPT's pre-pass: when is this page used next? */
				uint64_t next = MM_POLICY_NEVER;
				for (size_t j = i + 1; j < nr && next == MM_POLICY_NEVER; j++)
					if (refs[j] == refs[i])
						next = j;
				mm_machine_set_next_use(m, next);
				uint64_t va = a + (uint64_t)refs[i] * PG, v = (uint64_t)refs[i];
				if (!seen[refs[i]]) {
					assert_int_equal(mm_write(m, t, va, &v, 8), 0);
					seen[refs[i]] = true;
				} else {
					assert_int_equal(mm_read(m, t, va, &v, 8), 0);
					assert_int_equal(v, (uint64_t)refs[i]);
				}
				assert_true(mm_task_frames(m, t) <= (uint64_t)(3 + f));
			}
			mm_task_counters(t, &c1);
			uint64_t faults = c1.min_flt + c1.maj_flt - c0.min_flt - c0.maj_flt;
			if (faults != want[k].faults[f])
				fail_msg("%s with %d frames: %llu faults, want %llu", want[k].spec, 3 + f,
					 (unsigned long long)faults, (unsigned long long)want[k].faults[f]);
			assert_int_equal(mm_machine_check(m), 0);
			mm_machine_destroy(m);
		}
}

/* ---- definitions kept inside the machine ------------------------------------------------ */

/* Overcommit (heuristic mode) counts swap: one request may be as large as
 * RAM plus swap, and CommitLimit includes SwapTotal. */
static void test_overcommit_counts_swap(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 32);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "oc", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 6000 * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);   /* 23.4 MiB: more than RAM, less than RAM + swap */
	assert_int_equal(mm_do_mmap(m, t, 0, 20000 * PG, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0),
			 -MM_ENOMEM);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_int_equal(mi.commit_limit, mi.total_pages * 50 / 100 + si.total_pages);
	mm_machine_destroy(m);
}

/* pgscan counts every page reclaim looked at, pgsteal those it freed: pages
 * found referenced and kept make the difference. */
static void test_pgscan_counts_kept_pages(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 32);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "scan", &t), 0);
	const uint64_t n = 256;
	uint64_t a = map_anon(m, t, n);
	for (uint64_t p = 0; p < n; p++)
		write_page(m, t, a + p * PG, 13, p, 1);   /* every page young */
	struct mm_reclaim_stats st;
	assert_int_equal(mm_machine_reclaim(m, 32), 32);
	stats(m, &st);
	assert_int_equal(st.pgsteal_direct, 32);
	assert_true(st.pgscan_direct > st.pgsteal_direct);
	mm_machine_destroy(m);
}

/* A steady fill with no clock tick: the headroom reclaim a fault does
 * between ticks is kswapd's work (Linux's kswapd runs concurrently), so
 * no allocation stalls and nothing counted as direct; the linux policy's
 * active-list aging is pgrefill, apart from pgscan. */
static void test_fill_is_kswapd_work(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 64);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "fill", &t), 0);
	const uint64_t n = 6000;   /* 23 MiB on 16 MiB */
	uint64_t a = map_anon(m, t, n);
	for (uint64_t p = 0; p < n; p++) {
		write_page(m, t, a + p * PG, 17, p, 1);
		/* a hot set of 3000 pages read again and again: activated,
		 * it outgrows the inactive list, which is then refilled */
		for (uint64_t k = 0; k < 4 && p >= 3000; k++) {
			uint64_t h = (p * 4 + k) % 3000, v;
			assert_int_equal(mm_read(m, t, a + h * PG, &v, sizeof(v)), 0);
		}
	}
	struct mm_reclaim_stats st;
	stats(m, &st);
	assert_true(st.pgsteal_kswapd > 1000);
	assert_true(st.pageoutrun > 0);
	assert_int_equal(st.allocstall, 0);
	assert_int_equal(st.pgscan_direct, 0);
	assert_int_equal(st.pgsteal_direct, 0);
	assert_true(st.pgrefill > 0 && st.pgdeactivate > 0);
	assert_true(st.pgscan_kswapd >= st.pgsteal_kswapd);
	for (uint64_t p = 0; p < n; p += 97)
		assert_int_equal(check_page(m, t, a + p * PG, 17, p, 1), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* Local replacement must not disturb other processes' order: with FIFO
 * and LRU, Q's victim is q1 (loaded first, used least recently) even after
 * P's reclaim met q1 on its way to P's own page. */
static void test_local_keeps_others_order(void **state)
{
	(void)state;
	static const char *const specs[] = { "fifo", "lru" };
	for (size_t k = 0; k < MM_ARRAY_SIZE(specs); k++) {
		struct mm_machine_config cfg;
		config(&cfg, 16, 16);
		cfg.reclaim_local = true;
		cfg.reclaim_policy = specs[k];
		struct mm_machine *m = boot_cfg(&cfg);
		struct mm_task *p, *q;
		assert_int_equal(mm_task_create(m, "p", &p), 0);
		assert_int_equal(mm_task_create(m, "q", &q), 0);
		assert_int_equal(mm_task_set_frame_limit(m, p, 3), 0);
		assert_int_equal(mm_task_set_frame_limit(m, q, 3), 0);
		uint64_t pa = map_anon(m, p, 4), qa = map_anon(m, q, 4);
		write_page(m, q, qa, 20, 0, 1);
		for (uint64_t i = 0; i < 3; i++)
			write_page(m, p, pa + i * PG, 21, i, 1);
		write_page(m, q, qa + PG, 20, 1, 1);
		write_page(m, q, qa + 2 * PG, 20, 2, 1);
		write_page(m, p, pa + 3 * PG, 21, 3, 1);   /* evicts p0, meets q0 first */
		write_page(m, q, qa + 3 * PG, 20, 3, 1);   /* Q's victim: q0 */
		if (mm_virt_to_phys(m, q, qa) >= 0 || mm_virt_to_phys(m, q, qa + PG) < 0)
			fail_msg("%s: Q's oldest page q0 should be the victim", specs[k]);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* Clock and second chance inside the machine: the restarted faulting
 * access sets the PTE accessed bit after the page was inserted, so a loaded
 * page always has R set and ref=0 (R cleared at insert) behaves as ref=1
 * (docs/policies.md, "Inside the simulated machine"). Load B, A, C, read B,
 * load D with 3 frames: every R is set, one turn of the hand clears them,
 * and B, where the hand started, is the victim under both variants. */
static void test_clock_ref_in_machine(void **state)
{
	(void)state;
	static const char *const specs[] = { "clock", "clock:ref=1", "second-chance",
					     "second-chance:ref=1" };
	for (size_t k = 0; k < MM_ARRAY_SIZE(specs); k++) {
		struct mm_machine_config cfg;
		config(&cfg, 16, 16);
		cfg.reclaim_local = true;
		cfg.reclaim_policy = specs[k];
		struct mm_machine *m = boot_cfg(&cfg);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "clk", &t), 0);
		assert_int_equal(mm_task_set_frame_limit(m, t, 3), 0);
		uint64_t a = map_anon(m, t, 4), v;
		/* pages: 0 = B, 1 = A, 2 = C, 3 = D */
		write_page(m, t, a, 30, 0, 1);
		write_page(m, t, a + PG, 30, 1, 1);
		write_page(m, t, a + 2 * PG, 30, 2, 1);
		assert_int_equal(mm_read(m, t, a, &v, 8), 0);
		write_page(m, t, a + 3 * PG, 30, 3, 1);
		for (uint64_t p = 0; p < 3; p++) {
			bool gone = mm_virt_to_phys(m, t, a + p * PG) < 0;
			if (gone != (p == 0))
				fail_msg("%s: page %llu %s", specs[k], (unsigned long long)p,
					 gone ? "evicted" : "kept");
		}
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* OPT with local replacement: a page of another process that reclaim meets
 * and puts back keeps its own next use (not the faulting access's). Q: q0
 * used again at t7, q1 never; P's reclaim at t4 (its p2 is used again at
 * t5) meets q1 first; at t6 Q's own reclaim must take q1, not q0. */
static void test_opt_putback_keeps_next_use(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	config(&cfg, 16, 16);
	cfg.reclaim_local = true;
	cfg.reclaim_policy = "opt";
	struct mm_machine *m = boot_cfg(&cfg);
	struct mm_task *p, *q;
	assert_int_equal(mm_task_create(m, "p", &p), 0);
	assert_int_equal(mm_task_create(m, "q", &q), 0);
	assert_int_equal(mm_task_set_frame_limit(m, p, 2), 0);
	assert_int_equal(mm_task_set_frame_limit(m, q, 2), 0);
	uint64_t pa = map_anon(m, p, 4), qa = map_anon(m, q, 4), v = 1;
	const uint64_t N = MM_POLICY_NEVER;
	struct { struct mm_task *t; uint64_t va; bool write; uint64_t next; } seq[] = {
		{ q, qa, true, 7 },            /* t0 q0 */
		{ q, qa + PG, true, N },       /* t1 q1 */
		{ p, pa, true, N },            /* t2 p0 */
		{ p, pa + PG, true, N },       /* t3 p1 */
		{ p, pa + 2 * PG, true, 5 },   /* t4 p2: P's reclaim meets q1 */
		{ p, pa + 2 * PG, false, N },  /* t5 */
		{ q, qa + 2 * PG, true, N },   /* t6 q2: Q's victim must be q1 */
	};
	for (size_t i = 0; i < MM_ARRAY_SIZE(seq); i++) {
		mm_machine_set_next_use(m, seq[i].next);
		if (seq[i].write)
			assert_int_equal(mm_write(m, seq[i].t, seq[i].va, &v, 8), 0);
		else
			assert_int_equal(mm_read(m, seq[i].t, seq[i].va, &v, 8), 0);
	}
	assert_true(mm_virt_to_phys(m, q, qa + PG) < 0);   /* q1 evicted */
	assert_true(mm_virt_to_phys(m, q, qa) >= 0);       /* q0 kept for t7 */
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* Reclaim gives empty slabs back (shrink_slab): kswapd's run reaps them
 * (slab_shrinks counts the pages), so Slab is smaller after it even though
 * reclaim itself frees kernel objects (reverse-map items). */
static void test_slab_shrunk(void **state)
{
	(void)state;
	struct mm_machine *m = boot(32, 64);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "fill", &t), 0);
	const uint64_t n = 32ULL << 20 >> 12;
	uint64_t a = map_anon(m, t, n);
	struct mm_reclaim_stats st0, st;
	for (uint64_t p = 0; p < n; p++) {
		write_page(m, t, a + p * PG, 15, p, 1);
		stats(m, &st0);
		if (st0.kswapd_awake)
			break;
	}
	assert_true(st0.kswapd_awake);
	struct mm_meminfo mi0, mi;
	mm_machine_meminfo(m, &mi0);
	mm_machine_tick(m, 1);
	stats(m, &st);
	mm_machine_meminfo(m, &mi);
	assert_true(st.slab_shrinks > st0.slab_shrinks);
	assert_true(mi.slab_pages < mi0.slab_pages);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kswapd_watermarks),
		cmocka_unit_test(test_direct_reclaim_order),
		cmocka_unit_test(test_shared_file_writeback),
		cmocka_unit_test(test_flusher),
		cmocka_unit_test(test_local_vs_global),
		cmocka_unit_test(test_default_frame_limit),
		cmocka_unit_test(test_every_policy),
		cmocka_unit_test(test_random_pressure),
		cmocka_unit_test(test_views_under_pressure),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_idealised_sees_hits),
		cmocka_unit_test(test_hugetlb_untouched),
		cmocka_unit_test(test_exec_text_reclaimed),
		cmocka_unit_test(test_belady_in_machine),
		cmocka_unit_test(test_overcommit_counts_swap),
		cmocka_unit_test(test_pgscan_counts_kept_pages),
		cmocka_unit_test(test_fill_is_kswapd_work),
		cmocka_unit_test(test_local_keeps_others_order),
		cmocka_unit_test(test_clock_ref_in_machine),
		cmocka_unit_test(test_opt_putback_keeps_next_use),
		cmocka_unit_test(test_slab_shrunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
