/* Out of memory without reclaim: every allocation in the fault, mmap and
 * fork paths can fail; a failure must change nothing the process can see
 * (no data lost, no half-made mapping), the machine must stay consistent,
 * and everything must come back when the processes exit. The processes
 * have oom_score_adj -1000 (children inherit it), so the OOM killer finds
 * no victim and the faults fail with -MM_ENOMEM (test_sim_oomkill kills). */
#include <stdlib.h>
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define BASE 0x10000000ULL
#define PAGES 512
#define MAXP 8

static struct mm_machine *boot(void)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 8ULL << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

/* Free pages after drop_caches, plus the slab's page-map nodes: the page
 * map grows a leaf the first time a slab lands in a 2 MiB range of RAM and
 * keeps it (mem_map-like), which an allocation-heavy run near OOM does. Every
 * other page must come back: a leaked task, VMA or rmap item keeps its slab
 * page and shows here. */
static uint64_t free_after_drop(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages + mi.slab_pagemap_pages;
}

static void test_fill_until_enomem(void **state)
{
	(void)state;
	struct mm_machine *m = boot();
	uint64_t free0 = free_after_drop(m);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "hog", &t), 0);
	assert_int_equal(mm_task_set_oom_score_adj(t, MM_OOM_SCORE_ADJ_MIN), 0);
	uint64_t n = 4096;   /* 16 MiB on an 8 MiB machine */
	/* more than RAM in one private writable request: the heuristic
	 * overcommit check refuses it; MAP_NORESERVE skips the check */
	assert_int_equal(mm_do_mmap(m, t, 0, n * 4096, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0), -MM_ENOMEM);
	int64_t a = mm_do_mmap(m, t, 0, n * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_NORESERVE, -1, 0);
	assert_true(a > 0);
	uint64_t got = 0;
	int r = 0;
	for (; got < n; got++) {
		uint64_t v = got * 3 + 1;
		r = mm_write(m, t, (uint64_t)a + got * 4096, &v, 8);
		if (r)
			break;
	}
	assert_int_equal(r, -MM_ENOMEM);
	assert_true(got > 1000 && got < 2048);
	assert_int_equal(mm_task_siginfo(t)->signo, 0);   /* not a signal: the OOM path */
	assert_int_equal(mm_machine_check(m), 0);
	for (uint64_t i = 0; i < got; i++) {
		uint64_t v;
		assert_int_equal(mm_read(m, t, (uint64_t)a + i * 4096, &v, 8), 0);
		assert_true(v == i * 3 + 1);
	}
	/* fork cannot even copy the page tables now, and changes nothing */
	struct mm_task *c;
	int fr = mm_fork(m, t, &c);
	if (fr == 0)
		mm_exit(m, c);
	else
		assert_int_equal(fr, -MM_ENOMEM);
	assert_int_equal(mm_machine_check(m), 0);
	/* give half back: writes work again */
	assert_int_equal(mm_do_munmap(m, t, (uint64_t)a, (got / 2) * 4096), 0);
	uint64_t v = 99;
	assert_int_equal(mm_write(m, t, (uint64_t)a + got * 4096, &v, 8), 0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, t);
	assert_int_equal(free_after_drop(m), free0);
	mm_machine_destroy(m);
}

struct proc {
	struct mm_task *t;
	uint8_t *data;   /* PAGES pages */
	bool mapped[PAGES];
};

static void test_random_low_memory(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	struct mm_machine *m = boot();
	uint64_t free0 = free_after_drop(m);
	struct proc p[MAXP];
	int n = 1;
	memset(p, 0, sizeof(p));
	assert_int_equal(mm_task_create(m, "p0", &p[0].t), 0);
	assert_int_equal(mm_task_set_oom_score_adj(p[0].t, MM_OOM_SCORE_ADJ_MIN), 0);
	p[0].data = calloc(PAGES, 4096);
	assert_int_equal(mm_do_mmap(m, p[0].t, BASE, PAGES * 4096, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0), (int64_t)BASE);
	for (int i = 0; i < PAGES; i++)
		p[0].mapped[i] = true;
	uint64_t steps = mm_test_iters(3000), enomem = 0;
	for (uint64_t s = 0; s < steps; s++) {
		int i = (int)mm_rng_below(&rng, (uint64_t)n);
		struct proc *q = &p[i];
		unsigned int op = (unsigned int)mm_rng_below(&rng, 100);
		uint64_t pg = mm_rng_below(&rng, PAGES), off = mm_rng_below(&rng, 4096 - 64);
		uint64_t va = BASE + pg * 4096 + off;
		if (op < 15) {
			/* a burst: one byte in each of 64 pages */
			for (uint64_t k = pg; k < MM_MIN(pg + 64, (uint64_t)PAGES); k++) {
				uint8_t b = (uint8_t)mm_rng_next(&rng);
				int r = mm_write(m, q->t, BASE + k * 4096 + off, &b, 1);
				if (!q->mapped[k]) {
					assert_int_equal(r, -MM_EFAULT);
				} else if (r == 0) {
					q->data[k * 4096 + off] = b;
				} else {
					if (r != -MM_ENOMEM)
						mm_test_fail_seed("burst write: %d", r);
					enomem++;
					break;
				}
			}
		} else if (op < 50) {
			uint8_t buf[64];
			for (int k = 0; k < 64; k++)
				buf[k] = (uint8_t)mm_rng_next(&rng);
			int r = mm_write(m, q->t, va, buf, 64);
			if (!q->mapped[pg]) {
				assert_int_equal(r, -MM_EFAULT);
			} else if (r == 0) {
				memcpy(q->data + pg * 4096 + off, buf, 64);
			} else {
				if (r != -MM_ENOMEM)
					mm_test_fail_seed("write: %d", r);
				enomem++;
			}
		} else if (op < 80) {
			uint8_t buf[64];
			int r = mm_read(m, q->t, va, buf, 64);
			if (!q->mapped[pg]) {
				assert_int_equal(r, -MM_EFAULT);
			} else if (r == 0) {
				if (memcmp(buf, q->data + pg * 4096 + off, 64))
					mm_test_fail_seed("pid %d page %llu: data lost", mm_task_pid(q->t),
							  (unsigned long long)pg);
			} else if (r != -MM_ENOMEM) {
				mm_test_fail_seed("read: %d", r);
			}
		} else if (op < 88) {
			if (n == MAXP)
				continue;
			struct mm_task *c;
			int r = mm_fork(m, q->t, &c);
			if (r) {
				if (r != -MM_ENOMEM)
					mm_test_fail_seed("fork: %d", r);
				enomem++;
				continue;
			}
			p[n].t = c;
			p[n].data = malloc(PAGES * 4096);
			memcpy(p[n].data, q->data, PAGES * 4096);
			memcpy(p[n].mapped, q->mapped, sizeof(q->mapped));
			n++;
		} else if (op < 91) {
			uint64_t len = 1 + mm_rng_below(&rng, MM_MIN(32, PAGES - pg));
			int r = mm_do_munmap(m, q->t, BASE + pg * 4096, len * 4096);
			if (r == 0) {
				for (uint64_t k = pg; k < pg + len; k++) {
					q->mapped[k] = false;
					memset(q->data + k * 4096, 0, 4096);
				}
			} else if (r != -MM_ENOMEM) {
				mm_test_fail_seed("munmap: %d", r);
			}
		} else if (op < 99) {
			uint64_t len = 1 + mm_rng_below(&rng, MM_MIN(32, PAGES - pg));
			int64_t r = mm_do_mmap(m, q->t, BASE + pg * 4096, len * 4096, MM_PROT_READ | MM_PROT_WRITE,
					       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
			if (r == (int64_t)(BASE + pg * 4096)) {
				for (uint64_t k = pg; k < pg + len; k++) {
					q->mapped[k] = true;
					memset(q->data + k * 4096, 0, 4096);
				}
			} else if (r != -MM_ENOMEM) {
				mm_test_fail_seed("mmap: %lld", (long long)r);
			}
		} else if (n > 1) {
			mm_exit(m, q->t);
			free(q->data);
			p[i] = p[--n];
		}
		if (mm_machine_check(m))
			mm_test_fail_seed("machine check failed at step %llu", (unsigned long long)s);
	}
	while (n) {
		mm_exit(m, p[n - 1].t);
		free(p[--n].data);
	}
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(free_after_drop(m), free0);
	assert_true(enomem > 0 || mm_test_sanitized());   /* the point: memory ran out */
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_until_enomem),
		cmocka_unit_test(test_random_low_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
