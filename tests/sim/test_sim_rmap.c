/* The reverse map and the hooks reclaim builds on: rmap walks, accessed-bit
 * harvesting (page_referenced), try_to_unmap leaving swap entries, swap
 * entry encoding, swap_free / swap_dup on exit and fork. */
#include <string.h>

#include "mmkit/buddy.h"
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/sim.h"
#include "testutil.h"

struct hookctx {
	int frees, dups;
	int added, removed;
};

static void h_added(void *ctx, struct mm_page *p)
{
	(void)p;
	((struct hookctx *)ctx)->added++;
}

static void h_removed(void *ctx, struct mm_page *p)
{
	(void)p;
	((struct hookctx *)ctx)->removed++;
}

static void h_free(void *ctx, uint64_t pte)
{
	(void)pte;
	((struct hookctx *)ctx)->frees++;
}

static int h_dup(void *ctx, uint64_t pte)
{
	(void)pte;
	((struct hookctx *)ctx)->dups++;
	return 0;
}

static bool count_pid(struct mm_machine *m, struct mm_task *t, uint64_t va, void *arg)
{
	(void)m;
	(void)va;
	*(int *)arg += mm_task_pid(t);
	return true;
}

static void test_rmap_hooks(void **state)
{
	(void)state;
	static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };
	for (size_t k = 0; k < MM_ARRAY_SIZE(modes); k++) {
		struct mm_machine_config cfg;
		mm_machine_config_init(&cfg);
		cfg.ram_bytes = 16ULL << 20;
		cfg.paging = modes[k];
		struct mm_machine *m;
		assert_int_equal(mm_machine_create(&cfg, &m), 0);
		struct hookctx hc = { 0, 0, 0, 0 };
		struct mm_reclaim_hooks hooks = { .swap_free = h_free, .swap_dup = h_dup, .page_added = h_added,
						  .page_removed = h_removed, .ctx = &hc };
		mm_machine_set_reclaim_hooks(m, &hooks);
		mm_machine_drop_caches(m);
		struct mm_meminfo mi0, mi;
		mm_machine_meminfo(m, &mi0);
		struct mm_task *p, *c1, *c2;
		assert_int_equal(mm_task_create(m, "p", &p), 0);
		int64_t a = mm_do_mmap(m, p, 0, 2 * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		uint64_t v = 7;
		assert_int_equal(mm_write(m, p, (uint64_t)a, &v, 8), 0);
		assert_int_equal(mm_write(m, p, (uint64_t)a + 4096, &v, 8), 0);
		assert_int_equal(mm_fork(m, p, &c1), 0);
		assert_int_equal(mm_fork(m, p, &c2), 0);
		int64_t pa = mm_virt_to_phys(m, p, (uint64_t)a);
		struct mm_page *pg = mm_user_page_get(m, (uint64_t)pa >> 12);
		assert_non_null(pg);
		int pids = 0;
		assert_int_equal(mm_rmap_walk(m, pg, count_pid, &pids), 3);
		assert_int_equal(pids, mm_task_pid(p) + mm_task_pid(c1) + mm_task_pid(c2));
		/* fork made the children's PTEs old: only the parent's is young */
		assert_int_equal(mm_page_referenced(m, pg), 1);
		assert_int_equal(mm_page_referenced(m, pg), 0);
		uint64_t r;
		assert_int_equal(mm_read(m, c1, (uint64_t)a, &r, 8), 0);   /* the walk sets A */
		assert_int_equal(mm_page_referenced(m, pg), 1);
		assert_int_equal(mm_read(m, p, (uint64_t)a, &r, 8), 0);    /* its TLB entry was flushed */
		assert_int_equal(mm_page_referenced(m, pg), 1);
		/* swap entries round-trip */
		uint64_t swp = mm_swp_entry_pte(m, 3, 12345);
		unsigned int type;
		uint64_t off;
		assert_true(mm_pte_swp_entry(m, swp, &type, &off));
		assert_int_equal(type, 3);
		assert_int_equal(off, 12345);
		assert_false(mm_pte_swp_entry(m, 0, &type, &off));
		/* unmap from all three, leaving the swap entry */
		assert_int_equal(mm_try_to_unmap(m, pg, swp), 3);
		mm_user_page_put(m, pg);   /* the last reference: freed */
		assert_int_equal(mm_machine_check(m), 0);
		assert_int_equal(mm_read(m, c2, (uint64_t)a, &r, 8), -MM_EIO);   /* no swapin: SIGBUS */
		assert_int_equal(mm_task_siginfo(c2)->signo, MM_SIGBUS);
		char buf[4096];
		mm_show_status(m, c1, buf, sizeof(buf));
		assert_non_null(strstr(buf, "VmSwap:\t       4 kB\n"));
		/* the other page still works */
		assert_int_equal(mm_read(m, c2, (uint64_t)a + 4096, &r, 8), 0);
		assert_true(r == 7);
		struct mm_task *c3;
		assert_int_equal(mm_fork(m, c1, &c3), 0);
		assert_int_equal(hc.dups, 1);
		assert_int_equal(mm_machine_check(m), 0);
		mm_exit(m, c3);
		mm_exit(m, c2);
		mm_exit(m, c1);
		mm_exit(m, p);
		assert_int_equal(hc.frees, 4);
		/* every user frame that became resident left again: LRU balance
		 * (the two pages the parent wrote; nothing was copied) */
		assert_int_equal(hc.added, 2);
		assert_int_equal(hc.removed, 2);
		assert_int_equal(mm_machine_check(m), 0);
		mm_machine_drop_caches(m);
		mm_machine_meminfo(m, &mi);
		assert_int_equal(mi.free_pages, mi0.free_pages);
		mm_machine_destroy(m);
	}
}

/* A hardware-realistic policy (clock) run over the machine: it sees use
 * only through the PTE accessed bits the MMU sets. */
static void test_policy_host(void **state)
{
	(void)state;
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "pol", &t), 0);
	int64_t a = mm_do_mmap(m, t, 0, 3 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	uint64_t pfn[3], v = 1;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mm_write(m, t, (uint64_t)a + i * 4096, &v, 8), 0);
		pfn[i] = (uint64_t)mm_virt_to_phys(m, t, (uint64_t)a + i * 4096) >> 12;
	}
	struct mm_policy_host host = mm_machine_policy_host(m);
	assert_true(host.ops->test_referenced(host.ctx, pfn[1]));
	assert_true(host.ops->test_dirty(host.ctx, pfn[1]));
	for (int i = 0; i < 3; i++)
		assert_true(host.ops->test_and_clear_referenced(host.ctx, pfn[i]));
	assert_false(host.ops->test_and_clear_referenced(host.ctx, pfn[1]));
	assert_false(host.ops->test_referenced(host.ctx, 12345678));   /* not a user frame */
	struct mm_policy_config pc = { .capacity = 3, .seed = 1, .host = &host };
	struct mm_policy *p;
	assert_int_equal(mm_policy_create("clock", &pc, &p), 0);
	struct mm_access_info ai = { 0, 0, MM_ACCESS_READ };
	for (int i = 0; i < 3; i++) {
		ai.time = (uint64_t)i;
		assert_int_equal(mm_policy_insert(p, pfn[i], &ai), 0);
	}
	/* the program touches pages 0 and 2 (the walks set A: page_referenced
	 * flushed their TLB entries); page 1 is left alone */
	assert_int_equal(mm_read(m, t, (uint64_t)a, &v, 8), 0);
	assert_int_equal(mm_read(m, t, (uint64_t)a + 2 * 4096, &v, 8), 0);
	struct mm_victim vic;
	assert_int_equal(mm_policy_evict(p, &vic), 0);
	assert_true(vic.id == pfn[1]);
	assert_true(vic.dirty);
	mm_policy_destroy(p);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmap_hooks),
		cmocka_unit_test(test_policy_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
