/* Swap to a real file: the device (header, SwapTotal/SwapFree, the file's
 * life), byte-exact round trips in every paging mode, swap entries shared
 * by fork, copy-on-write after swap-in, the swap cache keeping a clean
 * page's slot, slots coming back at munmap, MADV_DONTNEED and exit, a full
 * device, and injected write errors that must never lose a byte. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define PG 4096ULL

static struct mm_machine *boot_mode(uint64_t ram_mb, uint64_t swap_pages, enum mm_paging_mode mode)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = ram_mb << 20;
	cfg.paging = mode;
	cfg.swap_bytes = swap_pages ? (swap_pages + 1) * PG : 0;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static struct mm_machine *boot(uint64_t ram_mb, uint64_t swap_pages)
{
	return boot_mode(ram_mb, swap_pages, MM_PAGING_4LEVEL);
}

static uint8_t pat(uint64_t seed, uint64_t page, uint64_t i)
{
	uint64_t x = (seed * 0x9e3779b97f4a7c15ULL) ^ (page * 0xc2b2ae3d27d4eb4fULL) ^ (i >> 3);
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint8_t)(x >> ((i & 7) * 8));
}

/* Pages [first, first + count) of the area at base get / must hold the
 * pattern of seed (by absolute page index). */
static void fill_range(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t first,
		       uint64_t count, uint64_t seed)
{
	static uint8_t buf[PG];
	for (uint64_t p = first; p < first + count; p++) {
		for (uint64_t i = 0; i < PG; i++)
			buf[i] = pat(seed, p, i);
		assert_int_equal(mm_write(m, t, base + p * PG, buf, PG), 0);
	}
}

/* Returns the bytes that differ. */
static uint64_t verify_range(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t first,
			     uint64_t count, uint64_t seed)
{
	static uint8_t buf[PG];
	uint64_t bad = 0;
	for (uint64_t p = first; p < first + count; p++) {
		assert_int_equal(mm_read(m, t, base + p * PG, buf, PG), 0);
		for (uint64_t i = 0; i < PG; i++)
			bad += buf[i] != pat(seed, p, i);
	}
	return bad;
}

static void fill(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages, uint64_t seed)
{
	fill_range(m, t, base, 0, pages, seed);
}

static uint64_t verify(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages,
		       uint64_t seed)
{
	return verify_range(m, t, base, 0, pages, seed);
}

static uint64_t map_anon(struct mm_machine *m, struct mm_task *t, uint64_t pages)
{
	int64_t a = mm_do_mmap(m, t, 0, pages * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	return (uint64_t)a;
}

/* Pages of [base, base + pages) not present (swapped out). */
static uint64_t nonresident(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages)
{
	uint64_t n = 0;
	for (uint64_t p = 0; p < pages; p++)
		n += mm_virt_to_phys(m, t, base + p * PG) < 0;
	return n;
}

/* VmSwap of t in kB, read from its status view. */
static uint64_t vmswap_kb(struct mm_machine *m, struct mm_task *t)
{
	static char buf[8192];
	mm_show_status(m, t, buf, sizeof(buf));
	const char *s = strstr(buf, "\nVmSwap:");
	assert_non_null(s);
	return strtoull(s + 8, NULL, 10);
}

static void swap_info(struct mm_machine *m, struct mm_swap_info *si)
{
	mm_machine_swap_info(m, si);
	assert_true(si->free_pages <= si->total_pages);
}

/* Reclaim until `pages` of the range are out or nothing more goes. */
static void push_out(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages)
{
	for (int round = 0; round < 16 && nonresident(m, t, base, pages) < pages; round++)
		if (!mm_machine_reclaim(m, pages + 64))
			break;
}

/* ---- the device -------------------------------------------------------------------- */

static void test_swap_device(void **state)
{
	(void)state;
	char path[64];
	strcpy(path, "/tmp/mmsim-swaptest-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (int keep = 0; keep < 2; keep++) {
		struct mm_machine_config cfg;
		mm_machine_config_init(&cfg);
		cfg.ram_bytes = 16ULL << 20;
		cfg.swap_bytes = 65 * PG;
		cfg.swap_path = path;
		cfg.swap_keep = keep;
		struct mm_machine *m;
		assert_int_equal(mm_machine_create(&cfg, &m), 0);
		struct mm_swap_info si;
		swap_info(m, &si);
		assert_int_equal(si.total_pages, 64);
		assert_int_equal(si.free_pages, 64);
		assert_int_equal(si.cached_pages, 0);
		assert_string_equal(si.path, path);
		/* the file: 65 pages, mkswap's header in page 0 */
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 65 * PG);
		uint8_t hdr[PG];
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, hdr, PG, 0), (ssize_t)PG);
		close(fd);
		assert_memory_equal(hdr + PG - 10, "SWAPSPACE2", 10);
		uint32_t version, last_page;
		memcpy(&version, hdr + 1024, 4);
		memcpy(&last_page, hdr + 1028, 4);
		assert_int_equal(version, 1);
		assert_int_equal(last_page, 64);
		/* the views */
		static char buf[16384];
		mm_show_meminfo(m, buf, sizeof(buf));
		assert_non_null(strstr(buf, "\nSwapTotal:           256 kB\n"));
		assert_non_null(strstr(buf, "\nSwapFree:            256 kB\n"));
		mm_show_free(m, buf, sizeof(buf));
		assert_non_null(strstr(buf, "\nSwap:            256           0         256\n"));
		mm_machine_destroy(m);
		assert_int_equal(stat(path, &st) == 0, keep);
	}
	unlink(path);

	/* a temporary file by default: named (for /proc/swaps), possibly
	 * unlinked already so that a crashed run leaves nothing, gone after
	 * destroy */
	struct mm_machine *m = boot(16, 32);
	struct mm_swap_info si;
	swap_info(m, &si);
	assert_int_equal(si.total_pages, 32);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", si.path);
	assert_true(tmp[0] != 0);
	mm_machine_destroy(m);
	struct stat st;
	assert_true(stat(tmp, &st) != 0);

	/* no swap: zeroes everywhere */
	m = boot(16, 0);
	swap_info(m, &si);
	assert_int_equal(si.total_pages, 0);
	assert_int_equal(si.free_pages, 0);
	mm_machine_destroy(m);

	/* bad configurations fail cleanly */
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	cfg.swap_bytes = 10 * PG + 1;
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	cfg.swap_bytes = PG;   /* the header alone */
	assert_int_equal(mm_machine_create(&cfg, &m), -MM_EINVAL);
	cfg.swap_bytes = 8 * PG;
	cfg.swap_path = "/nonexistent-dir-mmsim/swap";
	assert_true(mm_machine_create(&cfg, &m) < 0);
}

/* ---- round trips ------------------------------------------------------------------- */

static void test_round_trip_modes(void **state)
{
	(void)state;
	static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };
	for (size_t k = 0; k < MM_ARRAY_SIZE(modes); k++) {
		struct mm_machine *m = boot_mode(16, 1024, modes[k]);
		struct mm_task *t;
		assert_int_equal(mm_task_create(m, "rt", &t), 0);
		const uint64_t n = 256;
		uint64_t a = map_anon(m, t, n);
		fill(m, t, a, n, 11 + k);
		struct mm_swap_info s0, s1, s2;
		swap_info(m, &s0);
		push_out(m, t, a, n);
		assert_int_equal(mm_machine_check(m), 0);
		swap_info(m, &s1);
		uint64_t out = nonresident(m, t, a, n);
		assert_true(out > n / 2);
		assert_true(s1.pswpout - s0.pswpout >= out);
		assert_int_equal(s1.total_pages - s1.free_pages, out + s1.cached_pages);
		assert_int_equal(vmswap_kb(m, t), out * 4);
		struct mm_counters c0, c1;
		mm_task_counters(t, &c0);
		assert_int_equal(verify(m, t, a, n, 11 + k), 0);
		mm_task_counters(t, &c1);
		swap_info(m, &s2);
		assert_int_equal(s2.pswpin - s1.pswpin, out);      /* each page read once */
		assert_int_equal(c1.maj_flt - c0.maj_flt, out);   /* as a major fault */
		assert_int_equal(nonresident(m, t, a, n), 0);
		assert_int_equal(vmswap_kb(m, t), 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_exit(m, t);
		swap_info(m, &s2);
		assert_int_equal(s2.free_pages, s2.total_pages);
		assert_int_equal(s2.cached_pages, 0);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_destroy(m);
	}
}

/* ---- fork -------------------------------------------------------------------------- */

static void test_fork_shares_swap(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 1024);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "parent", &p), 0);
	const uint64_t n = 128;
	uint64_t a = map_anon(m, p, n);
	fill(m, p, a, n, 5);
	push_out(m, p, a, n);
	uint64_t out = nonresident(m, p, a, n);
	assert_true(out > 0);
	struct mm_swap_info s0, s1;
	swap_info(m, &s0);
	assert_int_equal(mm_fork(m, p, &c), 0);
	assert_int_equal(mm_machine_check(m), 0);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages, s0.free_pages);   /* fork shares the slots */
	assert_int_equal(vmswap_kb(m, c), out * 4);
	assert_int_equal(nonresident(m, c, a, n), out);
	/* both read: each slot is read once; the second reader finds the page
	 * in the swap cache */
	assert_int_equal(verify(m, c, a, n, 5), 0);
	assert_int_equal(verify(m, p, a, n, 5), 0);
	swap_info(m, &s1);
	assert_int_equal(s1.pswpin - s0.pswpin, out);
	assert_int_equal(mm_machine_check(m), 0);
	/* copy-on-write after swap-in: the child's writes stay its own */
	fill_range(m, c, a, 0, n / 2, 6);
	assert_int_equal(verify(m, p, a, n, 5), 0);
	assert_int_equal(verify_range(m, c, a, 0, n / 2, 6), 0);
	assert_int_equal(verify_range(m, c, a, n / 2, n / 2, 5), 0);
	assert_int_equal(mm_machine_check(m), 0);
	/* out again with both mappings, the parent writes its upper half,
	 * everything reads back as each process last wrote it */
	push_out(m, p, a, n);
	fill_range(m, p, a, n / 2, n / 2, 7);
	push_out(m, c, a, n);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(verify_range(m, p, a, 0, n / 2, 5), 0);
	assert_int_equal(verify_range(m, p, a, n / 2, n / 2, 7), 0);
	assert_int_equal(verify_range(m, c, a, 0, n / 2, 6), 0);
	assert_int_equal(verify_range(m, c, a, n / 2, n / 2, 5), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, p);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages, s1.total_pages);
	assert_int_equal(s1.cached_pages, 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* A swapped-out page shared by parent and child, written by the child only
 * after fork, with the parent never touching it: the parent's copy must
 * come from the slot untouched. */
static void test_cow_after_swapin(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 256);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "p", &p), 0);
	const uint64_t n = 32;
	uint64_t a = map_anon(m, p, n);
	fill(m, p, a, n, 21);
	push_out(m, p, a, n);
	assert_true(nonresident(m, p, a, n) > 0);
	assert_int_equal(mm_fork(m, p, &c), 0);
	fill(m, c, a, n, 22);   /* swap-in then COW in the child */
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(verify(m, c, a, n, 22), 0);
	push_out(m, c, a, n);
	assert_int_equal(verify(m, p, a, n, 21), 0);
	assert_int_equal(verify(m, c, a, n, 22), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, p);
	assert_int_equal(verify(m, c, a, n, 22), 0);
	mm_exit(m, c);
	struct mm_swap_info si;
	swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	mm_machine_destroy(m);
}

/* ---- the swap cache ------------------------------------------------------------------ */

static void test_swap_cache_keeps_clean_slot(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "sc", &t), 0);
	const uint64_t n = 64;
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 31);
	push_out(m, t, a, n);
	uint64_t out = nonresident(m, t, a, n);
	assert_true(out > 0);
	struct mm_swap_info s0, s1;
	swap_info(m, &s0);
	/* read back: the pages stay in the swap cache with their slots */
	assert_int_equal(verify(m, t, a, n, 31), 0);
	swap_info(m, &s1);
	assert_int_equal(s1.cached_pages, out);
	assert_int_equal(s1.free_pages, s0.free_pages);
	static char buf[16384];
	mm_show_meminfo(m, buf, sizeof(buf));
	char want[64];
	snprintf(want, sizeof(want), "\nSwapCached:     %8llu kB\n", (unsigned long long)out * 4);
	assert_non_null(strstr(buf, want));
	assert_int_equal(mm_machine_check(m), 0);
	/* clean: out again without a single write */
	push_out(m, t, a, n);
	swap_info(m, &s1);
	assert_true(nonresident(m, t, a, n) > 0);
	assert_int_equal(s1.pswpout, s0.pswpout);
	assert_int_equal(verify(m, t, a, n, 31), 0);
	/* written: the slots go (no other PTE holds them), and the next
	 * swap-out writes again */
	fill(m, t, a, n, 32);
	swap_info(m, &s1);
	assert_int_equal(s1.cached_pages, 0);
	assert_int_equal(s1.free_pages, s1.total_pages);
	push_out(m, t, a, n);
	swap_info(m, &s1);
	assert_true(s1.pswpout > s0.pswpout);
	assert_int_equal(verify(m, t, a, n, 32), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* ---- slots come back ------------------------------------------------------------------- */

static void test_unmap_frees_slots(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "un", &t), 0);
	const uint64_t n = 128;
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 41);
	push_out(m, t, a, n);
	struct mm_swap_info s0, s1;
	swap_info(m, &s0);
	uint64_t out_hi = nonresident(m, t, a + n / 2 * PG, n / 2);
	assert_true(s0.free_pages < s0.total_pages);
	/* munmap of the upper half gives its slots back */
	assert_int_equal(mm_do_munmap(m, t, a + n / 2 * PG, n / 2 * PG), 0);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages - s0.free_pages, out_hi);
	assert_int_equal(mm_machine_check(m), 0);
	/* MADV_DONTNEED of the rest: every slot back, and zeroes after */
	assert_int_equal(mm_do_madvise(m, t, a, n / 2 * PG, MM_MADV_DONTNEED), 0);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages, s1.total_pages);
	assert_int_equal(vmswap_kb(m, t), 0);
	uint64_t v = 1;
	assert_int_equal(mm_read(m, t, a, &v, 8), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	mm_machine_destroy(m);
}

/* ---- a full device ------------------------------------------------------------------------ */

static void test_swap_full(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 8);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "full", &t), 0);
	const uint64_t n = 64;
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 51);
	push_out(m, t, a, n);
	struct mm_swap_info si;
	swap_info(m, &si);
	assert_int_equal(si.free_pages, 0);
	assert_int_equal(nonresident(m, t, a, n), 8);
	assert_true(si.full_events > 0);
	assert_int_equal(verify(m, t, a, n, 51), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	swap_info(m, &si);
	assert_int_equal(si.free_pages, 8);
	mm_machine_destroy(m);
}

/* ---- injected write errors ------------------------------------------------------------------- */

static void test_write_errors_keep_data(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "eio", &t), 0);
	const uint64_t n = 64;
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 61);
	mm_machine_swap_fail_after(m, 3);
	struct mm_swap_info s0, s1;
	swap_info(m, &s0);
	push_out(m, t, a, n);
	swap_info(m, &s1);
	assert_int_equal(s1.pswpout - s0.pswpout, 3);
	assert_true(s1.write_errors > 0);
	assert_int_equal(nonresident(m, t, a, n), 3);
	assert_int_equal(mm_machine_check(m), 0);
	static char buf[1 << 16];
	mm_show_dmesg(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Write-error on swap-device"));
	assert_int_equal(verify(m, t, a, n, 61), 0);
	/* the device heals: everything goes out and comes back intact */
	mm_machine_swap_fail_after(m, MM_SWAP_FAIL_NEVER);
	push_out(m, t, a, n);
	assert_true(nonresident(m, t, a, n) > 3);
	assert_int_equal(verify(m, t, a, n, 61), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages, s1.total_pages);
	mm_machine_destroy(m);
}

/* ---- the bytes are in the file ------------------------------------------------------------ */

/* Every page swapped out is, byte for byte, in some slot of the host file
 * (pwrite of the frame), and no slot holds a page twice. */
static void test_swap_file_holds_pages(void **state)
{
	(void)state;
	char path[64];
	strcpy(path, "/tmp/mmsim-swapfile-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const uint64_t slots = 256, n = 96;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	cfg.swap_bytes = (slots + 1) * PG;
	cfg.swap_path = path;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "file", &t), 0);
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 71);
	push_out(m, t, a, n);
	uint64_t out = nonresident(m, t, a, n);
	assert_true(out > 0);
	static uint8_t img[257][PG], want[PG];
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, img, sizeof(img), 0), (ssize_t)sizeof(img));
	close(fd);
	uint64_t found = 0;
	for (uint64_t p = 0; p < n; p++) {
		if (mm_virt_to_phys(m, t, a + p * PG) >= 0)
			continue;
		for (uint64_t i = 0; i < PG; i++)
			want[i] = pat(71, p, i);
		unsigned int hits = 0;
		for (uint64_t sl = 1; sl <= slots; sl++)
			hits += !memcmp(img[sl], want, PG);
		assert_int_equal(hits, 1);
		found++;
	}
	assert_int_equal(found, out);
	mm_machine_destroy(m);
	unlink(path);
}

/* ---- /proc/swaps ---------------------------------------------------------------------- */

static void test_proc_swaps(void **state)
{
	(void)state;
	static char buf[4096];
	struct mm_machine *m = boot(16, 0);
	mm_show_swaps(m, buf, sizeof(buf));
	assert_string_equal(buf, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	mm_machine_destroy(m);
	m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "sw", &t), 0);
	uint64_t a = map_anon(m, t, 64);
	fill(m, t, a, 64, 81);
	push_out(m, t, a, 64);
	struct mm_swap_info si;
	swap_info(m, &si);
	mm_show_swaps(m, buf, sizeof(buf));
	/* the area's line: path, "file", Size and Used in kB, priority -2 */
	const char *line = strchr(buf, '\n');
	assert_non_null(line);
	line++;
	assert_int_equal(strncmp(line, si.path, strlen(si.path)), 0);
	char type[16];
	unsigned long long size, used;
	int prio;
	assert_int_equal(sscanf(line + strlen(si.path), "%15s %llu %llu %d", type, &size, &used, &prio), 4);
	assert_string_equal(type, "file");
	assert_int_equal(size, 512 * 4);
	assert_int_equal(used, (si.total_pages - si.free_pages) * 4);
	assert_true(used > 0);
	assert_int_equal(prio, -2);
	mm_machine_destroy(m);
}

/* ---- swap entries under other mappings ------------------------------------------------ */

/* Copy-on-write pages of a private file mapping are anonymous: they go to
 * swap and come back, the untouched pages come from the file, and the host
 * file never changes. */
static void test_private_file_cow_swapped(void **state)
{
	(void)state;
	char path[64];
	strcpy(path, "/tmp/mmsim-swapcow-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const uint64_t n = 64;
	static uint8_t page[PG];
	for (uint64_t p = 0; p < n; p++) {
		for (uint64_t i = 0; i < PG; i++)
			page[i] = pat(90, p, i);
		assert_int_equal(write(fd, page, PG), (ssize_t)PG);
	}
	close(fd);
	struct mm_machine *m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "cow", &t), 0);
	int vfd = mm_open(m, t, path, MM_O_RDONLY);
	assert_true(vfd >= 0);
	int64_t a = mm_do_mmap(m, t, 0, n * PG, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_PRIVATE, vfd, 0);
	assert_true(a > 0);
	fill_range(m, t, (uint64_t)a, 0, n / 2, 91);   /* COW copies of the first half */
	assert_int_equal(verify_range(m, t, (uint64_t)a, n / 2, n / 2, 90), 0);
	push_out(m, t, (uint64_t)a, n);
	struct mm_swap_info si;
	swap_info(m, &si);
	assert_true(si.pswpout > 0);
	assert_true(vmswap_kb(m, t) > 0);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(verify_range(m, t, (uint64_t)a, 0, n / 2, 91), 0);
	assert_int_equal(verify_range(m, t, (uint64_t)a, n / 2, n / 2, 90), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	fd = open(path, O_RDONLY);
	for (uint64_t p = 0; p < n; p++) {
		assert_int_equal(pread(fd, page, PG, (off_t)(p * PG)), (ssize_t)PG);
		for (uint64_t i = 0; i < PG; i++)
			assert_int_equal(page[i], pat(90, p, i));
	}
	close(fd);
	mm_machine_destroy(m);
	unlink(path);
}

/* mprotect over swap entries: PROT_NONE keeps them (an access is SIGSEGV,
 * nothing is read), read-only maps them back read-only (a write is
 * SIGSEGV), read-write restores everything. */
static void test_mprotect_over_swap(void **state)
{
	(void)state;
	struct mm_machine *m = boot(16, 512);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "prot", &t), 0);
	const uint64_t n = 64;
	uint64_t a = map_anon(m, t, n);
	fill(m, t, a, n, 95);
	push_out(m, t, a, n);
	uint64_t out = nonresident(m, t, a, n);
	assert_true(out > 0);
	uint64_t q = 0;
	while (mm_virt_to_phys(m, t, a + q * PG) >= 0)
		q++;
	struct mm_swap_info s0, s1;
	swap_info(m, &s0);
	assert_int_equal(mm_do_mprotect(m, t, a, n * PG, MM_PROT_NONE), 0);
	uint64_t v;
	assert_int_equal(mm_read(m, t, a + q * PG, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_task_siginfo(t)->code, MM_SEGV_ACCERR);
	swap_info(m, &s1);
	assert_int_equal(s1.pswpin, s0.pswpin);
	assert_int_equal(vmswap_kb(m, t), out * 4);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(mm_do_mprotect(m, t, a, n * PG, MM_PROT_READ), 0);
	assert_int_equal(verify(m, t, a, n, 95), 0);
	assert_int_equal(mm_write(m, t, a + q * PG, &v, 8), -MM_EFAULT);
	assert_int_equal(mm_machine_check(m), 0);
	push_out(m, t, a, n);
	assert_int_equal(mm_do_mprotect(m, t, a, n * PG, MM_PROT_READ | MM_PROT_WRITE), 0);
	fill_range(m, t, a, 0, n / 2, 96);
	assert_int_equal(verify_range(m, t, a, 0, n / 2, 96), 0);
	assert_int_equal(verify_range(m, t, a, n / 2, n / 2, 95), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	swap_info(m, &s1);
	assert_int_equal(s1.free_pages, s1.total_pages);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_device),
		cmocka_unit_test(test_round_trip_modes),
		cmocka_unit_test(test_fork_shares_swap),
		cmocka_unit_test(test_cow_after_swapin),
		cmocka_unit_test(test_swap_cache_keeps_clean_slot),
		cmocka_unit_test(test_unmap_frees_slots),
		cmocka_unit_test(test_swap_full),
		cmocka_unit_test(test_write_errors_keep_data),
		cmocka_unit_test(test_swap_file_holds_pages),
		cmocka_unit_test(test_proc_swaps),
		cmocka_unit_test(test_private_file_cow_swapped),
		cmocka_unit_test(test_mprotect_over_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
