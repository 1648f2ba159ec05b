/* Swapping shared memory (swap_shmem): System V segments and shared
 * anonymous mappings go to swap with their slot kept by the mapping, come
 * back on the next fault of any process that maps them, byte for byte;
 * their slots return when the object dies; without swap_shmem they stay
 * resident (unevictable); a failed write loses nothing. */
#include <stdlib.h>
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define PG 4096ULL

static struct mm_machine *boot(bool swap_shmem)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	cfg.swap_bytes = 32ULL << 20;
	cfg.swap_shmem = swap_shmem;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static uint64_t word(uint64_t page, uint64_t i, uint64_t salt)
{
	return (page * 0x9e3779b97f4a7c15ULL) ^ (i * 0xc2b2ae3d27d4eb4fULL) ^ salt;
}

static void fill(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages,
		 uint64_t salt)
{
	for (uint64_t p = 0; p < pages; p++)
		for (uint64_t i = 0; i < PG / 8; i += 61) {
			uint64_t v = word(p, i, salt);
			assert_int_equal(mm_write(m, t, base + p * PG + i * 8, &v, 8), 0);
		}
}

static void verify(struct mm_machine *m, struct mm_task *t, uint64_t base, uint64_t pages,
		   uint64_t salt)
{
	for (uint64_t p = 0; p < pages; p++)
		for (uint64_t i = 0; i < PG / 8; i += 61) {
			uint64_t v = 0;
			assert_int_equal(mm_read(m, t, base + p * PG + i * 8, &v, 8), 0);
			assert_int_equal(v, word(p, i, salt));
		}
}

static uint64_t shmem_kb(struct mm_machine *m)
{
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.shmem_pages;
}

static void test_sysv_segment_swaps(void **state)
{
	(void)state;
	struct mm_machine *m = boot(true);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "b", &b), 0);
	const uint64_t n = 1024;   /* 4 MiB */
	int id = mm_shmget(m, a, 42, n * PG, MM_IPC_CREAT);
	assert_true(id >= 0);
	int64_t pa = mm_shmat(m, a, id, 0, 0), pb = mm_shmat(m, b, id, 0, 0);
	assert_true(pa > 0 && pb > 0);
	fill(m, a, (uint64_t)pa, n, 7);
	assert_int_equal(shmem_kb(m), n);
	struct mm_swap_info s0, s1, s2;
	mm_machine_swap_info(m, &s0);
	assert_true(mm_machine_reclaim(m, n) >= n / 2);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_swap_info(m, &s1);
	uint64_t out = s1.pswpout - s0.pswpout;
	assert_true(out >= n / 2);
	assert_int_equal(s0.free_pages - s1.free_pages, out);   /* the segment keeps the slots */
	assert_int_equal(shmem_kb(m), n - out);
	/* the other process reads it back: major faults, every byte */
	struct mm_counters c0, c1;
	mm_task_counters(b, &c0);
	verify(m, b, (uint64_t)pb, n, 7);
	mm_task_counters(b, &c1);
	assert_int_equal(c1.maj_flt - c0.maj_flt, out);
	mm_machine_swap_info(m, &s2);
	assert_int_equal(s2.pswpin - s1.pswpin, out);
	assert_int_equal(s2.free_pages, s0.free_pages);       /* slots freed on swap-in */
	assert_int_equal(mm_machine_check(m), 0);
	/* swapped out again, then the segment goes: its slots come back */
	assert_true(mm_machine_reclaim(m, n) > 0);
	mm_machine_swap_info(m, &s1);
	assert_true(s1.free_pages < s1.total_pages);
	assert_int_equal(mm_shmdt(m, a, (uint64_t)pa), 0);
	assert_int_equal(mm_shmdt(m, b, (uint64_t)pb), 0);
	assert_int_equal(mm_shmctl(m, a, id, MM_IPC_RMID, NULL), 0);
	mm_machine_swap_info(m, &s2);
	assert_int_equal(s2.free_pages, s2.total_pages);
	assert_int_equal(shmem_kb(m), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, a);
	mm_exit(m, b);
	mm_machine_destroy(m);
}

static void test_shared_anon_across_fork(void **state)
{
	(void)state;
	struct mm_machine *m = boot(true);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "p", &p), 0);
	const uint64_t n = 256;
	int64_t a = mm_do_mmap(m, p, 0, n * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_SHARED | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	fill(m, p, (uint64_t)a, n, 1);
	assert_int_equal(mm_fork(m, p, &c), 0);
	assert_true(mm_machine_reclaim(m, 4 * n) >= n / 2);
	assert_int_equal(mm_machine_check(m), 0);
	/* the child writes through the shared mapping, the parent sees it */
	verify(m, c, (uint64_t)a, n, 1);
	fill(m, c, (uint64_t)a, n, 2);
	assert_true(mm_machine_reclaim(m, 4 * n) >= n / 2);
	verify(m, p, (uint64_t)a, n, 2);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, c);
	mm_exit(m, p);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_default_keeps_shmem(void **state)
{
	(void)state;
	struct mm_machine *m = boot(false);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "t", &t), 0);
	const uint64_t n = 128;
	int64_t a = mm_do_mmap(m, t, 0, n * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_SHARED | MM_MAP_ANONYMOUS, -1, 0);
	fill(m, t, (uint64_t)a, n, 3);
	assert_int_equal(mm_machine_reclaim(m, n), 0);
	struct mm_reclaim_stats rs;
	mm_machine_reclaim_stats(m, &rs);
	assert_int_equal(rs.nr_unevictable, n);
	assert_int_equal(shmem_kb(m), n);
	verify(m, t, (uint64_t)a, n, 3);
	mm_machine_destroy(m);
}

static void test_write_error_keeps_shmem(void **state)
{
	(void)state;
	struct mm_machine *m = boot(true);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "t", &t), 0);
	const uint64_t n = 128;
	int64_t a = mm_do_mmap(m, t, 0, n * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_SHARED | MM_MAP_ANONYMOUS, -1, 0);
	fill(m, t, (uint64_t)a, n, 4);
	mm_machine_swap_fail_after(m, 0);
	assert_int_equal(mm_machine_reclaim(m, n), 0);
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_true(si.write_errors > 0);
	assert_int_equal(si.free_pages, si.total_pages);
	assert_int_equal(shmem_kb(m), n);
	assert_int_equal(mm_machine_check(m), 0);
	verify(m, t, (uint64_t)a, n, 4);
	mm_machine_swap_fail_after(m, MM_SWAP_FAIL_NEVER);
	assert_true(mm_machine_reclaim(m, n) > 0);
	verify(m, t, (uint64_t)a, n, 4);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* Randomized: processes sharing a System V segment, each with private
 * memory, forks (the child shares the segment and copies the private
 * part), on RAM much smaller than segment + private memory; a shadow copy
 * of every word; mm_machine_check() every 256 steps. */
#define NPROC 4
#define SHM_PAGES 1024
#define PRIV_PAGES 512
static void test_random_shm_pressure(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 8ULL << 20;
	cfg.swap_bytes = 32ULL << 20;
	cfg.swap_shmem = true;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	static uint64_t shm_shadow[SHM_PAGES], priv[NPROC][PRIV_PAGES];
	memset(shm_shadow, 0, sizeof(shm_shadow));
	memset(priv, 0, sizeof(priv));
	struct mm_task *t[NPROC];
	uint64_t shm_at[NPROC], priv_at[NPROC];
	assert_int_equal(mm_task_create(m, "p0", &t[0]), 0);
	int id = mm_shmget(m, t[0], MM_IPC_PRIVATE, SHM_PAGES * PG, MM_IPC_CREAT);
	assert_true(id >= 0);
	int64_t a = mm_shmat(m, t[0], id, 0, 0);
	int64_t b = mm_do_mmap(m, t[0], 0, PRIV_PAGES * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0 && b > 0);
	shm_at[0] = (uint64_t)a;
	priv_at[0] = (uint64_t)b;
	int np = 1;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	uint64_t steps = mm_test_iters(40000);
	for (uint64_t step = 0; step < steps; step++) {
		int i = (int)mm_rng_below(&rng, (uint64_t)np);
		uint64_t r = mm_rng_below(&rng, 100);
		if (r < 2 && np < NPROC) {
			/* fork: the segment is shared, the private part copied */
			assert_int_equal(mm_fork(m, t[i], &t[np]), 0);
			shm_at[np] = shm_at[i];
			priv_at[np] = priv_at[i];
			memcpy(priv[np], priv[i], sizeof(priv[i]));
			np++;
			continue;
		}
		bool shared = r < 55;
		uint64_t page = mm_rng_below(&rng, shared ? SHM_PAGES : PRIV_PAGES);
		uint64_t va = (shared ? shm_at[i] : priv_at[i]) + page * PG + 8 * (page % 500);
		uint64_t *sh = shared ? &shm_shadow[page] : &priv[i][page];
		if (mm_rng_below(&rng, 2)) {
			uint64_t v = mm_rng_next(&rng) | 1;
			assert_int_equal(mm_write(m, t[i], va, &v, 8), 0);
			*sh = v;
		} else {
			uint64_t v = 0;
			assert_int_equal(mm_read(m, t[i], va, &v, 8), 0);
			if (v != *sh)
				mm_test_fail_seed("step %llu: pid %d %s page %llu: %#llx, expected %#llx",
						  (unsigned long long)step, mm_task_pid(t[i]),
						  shared ? "shm" : "private", (unsigned long long)page,
						  (unsigned long long)v, (unsigned long long)*sh);
		}
		if (step % 64 == 0)
			mm_machine_tick(m, 1);
		if (step % 256 == 0 && mm_machine_check(m))
			mm_test_fail_seed("step %llu: mm_machine_check failed", (unsigned long long)step);
	}
	/* every word read back by every process */
	for (int i = 0; i < np; i++)
		for (uint64_t page = 0; page < SHM_PAGES; page++) {
			uint64_t v = 0;
			assert_int_equal(mm_read(m, t[i], shm_at[i] + page * PG + 8 * (page % 500), &v, 8), 0);
			assert_int_equal(v, shm_shadow[page]);
			if (page < PRIV_PAGES) {
				assert_int_equal(mm_read(m, t[i], priv_at[i] + page * PG + 8 * (page % 500),
							 &v, 8), 0);
				assert_int_equal(v, priv[i][page]);
			}
		}
	struct mm_swap_info si;
	mm_machine_swap_info(m, &si);
	assert_true(si.pswpout > 0 && si.pswpin > 0);
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(mm_shmctl(m, t[0], id, MM_IPC_RMID, NULL), 0);
	for (int i = np - 1; i >= 0; i--)
		mm_exit(m, t[i]);
	mm_machine_swap_info(m, &si);
	assert_int_equal(si.free_pages, si.total_pages);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysv_segment_swaps),
		cmocka_unit_test(test_shared_anon_across_fork),
		cmocka_unit_test(test_default_keeps_shmem),
		cmocka_unit_test(test_write_error_keeps_shmem),
		cmocka_unit_test(test_random_shm_pressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
