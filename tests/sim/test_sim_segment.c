/* Segmentation in front of paging: Linux's flat GDT, loading segment
 * registers with the privilege and type checks, limit checks (#GP), and
 * FS/GS bases in 64-bit mode. */
#include <string.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

static struct mm_machine *boot(enum mm_paging_mode mode, struct mm_task **t)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	cfg.paging = mode;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	assert_int_equal(mm_task_create(m, "seg", t), 0);
	assert_int_equal(mm_do_mmap(m, *t, 0x10000000, 0x20000, MM_PROT_READ | MM_PROT_WRITE,
				    MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0), 0x10000000);
	return m;
}

static void test_flat_model(void **state)
{
	(void)state;
	struct mm_task *t;
	struct mm_machine *m = boot(MM_PAGING_2LEVEL, &t);
	uint16_t sel;
	struct mm_segdesc d;
	assert_int_equal(mm_seg_get(t, MM_SEG_DS, &sel, &d), 0);
	assert_int_equal(sel, 0x7b);   /* __USER_DS */
	assert_int_equal(d.base, 0);
	assert_int_equal(d.limit, 0xffffffffu);
	assert_int_equal(mm_seg_get(t, MM_SEG_CS, &sel, &d), 0);
	assert_int_equal(sel, 0x73);   /* __USER_CS */
	assert_int_equal(d.dpl, 3);
	/* flat: DS:offset is the linear address */
	uint64_t v = 0x1234, r = 0;
	assert_int_equal(mm_access_seg(m, t, MM_SEG_DS, 0x10000010, &v, 8, MM_ACCESS_WRITE), 0);
	assert_int_equal(mm_read(m, t, 0x10000010, &r, 8), 0);
	assert_true(r == 0x1234);
	/* FS is null in user mode: using it is #GP */
	assert_int_equal(mm_access_seg(m, t, MM_SEG_FS, 0, &r, 8, MM_ACCESS_READ), -MM_EFAULT);
	assert_int_equal(mm_task_siginfo(t)->signo, MM_SIGSEGV);
	mm_machine_destroy(m);

	m = boot(MM_PAGING_4LEVEL, &t);
	assert_int_equal(mm_seg_get(t, MM_SEG_CS, &sel, &d), 0);
	assert_int_equal(sel, 0x33);
	assert_true(d.long_mode);
	assert_int_equal(mm_seg_get(t, MM_SEG_SS, &sel, NULL), 0);
	assert_int_equal(sel, 0x2b);
	mm_machine_destroy(m);
}

static void test_segment_checks(void **state)
{
	(void)state;
	struct mm_task *t;
	struct mm_machine *m = boot(MM_PAGING_2LEVEL, &t);
	/* a user data segment: base 0x10000000, limit 0xffff, read/write */
	struct mm_segdesc d = { .base = 0x10000000, .limit = 0xffff, .type = MM_SEGT_WRITE, .dpl = 3,
				.present = true, .db = true };
	assert_int_equal(mm_gdt_set(m, 20, &d), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_ES, (20 << 3) | 3), 0);
	uint64_t v = 0xabc, r = 0;
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0x100, &v, 8, MM_ACCESS_WRITE), 0);
	assert_int_equal(mm_read(m, t, 0x10000100, &r, 8), 0);
	assert_true(r == 0xabc);
	/* the last 8 bytes fit, one more does not: #GP */
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0xfff8, &r, 8, MM_ACCESS_READ), 0);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0xfff9, &r, 8, MM_ACCESS_READ), -MM_EFAULT);
	assert_int_equal(mm_task_siginfo(t)->code, 0x80);   /* SI_KERNEL */
	/* read-only data: writes are #GP, reads fine */
	d.type = 0;
	assert_int_equal(mm_gdt_set(m, 21, &d), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_GS, (21 << 3) | 3), 0);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_GS, 0x100, &r, 8, MM_ACCESS_READ), 0);
	assert_true(r == 0xabc);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_GS, 0x100, &v, 8, MM_ACCESS_WRITE), -MM_EFAULT);
	/* a read-only segment cannot be SS; a DPL 0 segment cannot be loaded at CPL 3 */
	assert_int_equal(mm_seg_load(m, t, MM_SEG_SS, (21 << 3) | 3), -MM_EFAULT);
	d.type = MM_SEGT_WRITE;
	d.dpl = 0;
	assert_int_equal(mm_gdt_set(m, 22, &d), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_DS, (22 << 3) | 3), -MM_EFAULT);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_DS, 0x68), -MM_EFAULT);   /* __KERNEL_DS */
	/* the register kept its old value */
	uint16_t sel;
	assert_int_equal(mm_seg_get(t, MM_SEG_DS, &sel, NULL), 0);
	assert_int_equal(sel, 0x7b);
	/* not present: #NP, SIGBUS */
	d.dpl = 3;
	d.present = false;
	assert_int_equal(mm_gdt_set(m, 23, &d), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_FS, (23 << 3) | 3), -MM_EIO);
	assert_int_equal(mm_task_siginfo(t)->signo, MM_SIGBUS);
	/* null selectors: fine in DS, not in SS; beyond the GDT: #GP */
	assert_int_equal(mm_seg_load(m, t, MM_SEG_FS, 0), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_SS, 0), -MM_EFAULT);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_FS, (40 << 3) | 3), -MM_EFAULT);
	/* expand-down: valid offsets are above the limit */
	d = (struct mm_segdesc){ .base = 0x10000000, .limit = 0xfff, .type = MM_SEGT_WRITE | MM_SEGT_EXPDOWN,
				 .dpl = 3, .present = true, .db = true };
	assert_int_equal(mm_gdt_set(m, 24, &d), 0);
	assert_int_equal(mm_seg_load(m, t, MM_SEG_ES, (24 << 3) | 3), 0);
	v = 0xdef;
	assert_int_equal(mm_write(m, t, 0x10001100, &v, 8), 0);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0x1100, &r, 8, MM_ACCESS_READ), 0);
	assert_true(r == 0xdef);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0xff8, &r, 8, MM_ACCESS_READ), -MM_EFAULT);
	assert_int_equal(mm_access_seg(m, t, MM_SEG_ES, 0x100, &r, 8, MM_ACCESS_READ), -MM_EFAULT);
	/* descriptors round-trip through their 8-byte encoding */
	struct mm_segdesc back;
	assert_int_equal(mm_gdt_get(m, 24, &back), 0);
	assert_int_equal(back.base, 0x10000000);
	assert_int_equal(back.limit, 0xfff);
	assert_int_equal(back.type, MM_SEGT_WRITE | MM_SEGT_EXPDOWN);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_fs_base_64(void **state)
{
	(void)state;
	struct mm_task *t;
	struct mm_machine *m = boot(MM_PAGING_4LEVEL, &t);
	assert_int_equal(mm_arch_prctl_set_base(m, t, MM_SEG_FS, 0x10001000), 0);
	assert_int_equal(mm_arch_prctl_set_base(m, t, MM_SEG_FS, 1ULL << 63), -MM_EPERM);
	uint64_t v = 77, r = 0;
	assert_int_equal(mm_access_seg(m, t, MM_SEG_FS, 0x28, &v, 8, MM_ACCESS_WRITE), 0);
	assert_int_equal(mm_read(m, t, 0x10001028, &r, 8), 0);
	assert_true(r == 77);
	/* DS has no base and no limit in 64-bit mode */
	assert_int_equal(mm_access_seg(m, t, MM_SEG_DS, 0x10001028, &r, 8, MM_ACCESS_READ), 0);
	struct mm_task *c;
	assert_int_equal(mm_fork(m, t, &c), 0);
	assert_int_equal(mm_access_seg(m, c, MM_SEG_FS, 0x28, &r, 8, MM_ACCESS_READ), 0);
	assert_true(r == 77);
	mm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_model),
		cmocka_unit_test(test_segment_checks),
		cmocka_unit_test(test_fs_base_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
