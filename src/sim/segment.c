/* segment.c — segmentation in front of paging (Intel SDM vol. 3, ch. 3 and
 * 5): the global descriptor table, the six segment registers, and the
 * logical -> linear translation with its limit, type and privilege checks.
 *
 * The GDT lives in a page of simulated RAM and holds real 8-byte
 * descriptors (limit 0..15, base 0..23, type, S, DPL, P, limit 16..19, AVL,
 * L, D/B, G, base 24..31). Boot fills Linux's entries:
 *   64-bit: 2 KERNEL_CS (0x10), 3 KERNEL_DS (0x18), 4 USER32_CS (0x23),
 *           5 USER_DS (0x2b), 6 USER_CS (0x33);
 *   32-bit: 12 KERNEL_CS (0x60), 13 KERNEL_DS (0x68), 14 USER_CS (0x73),
 *           15 USER_DS (0x7b);
 * all flat (base 0, limit 4 GiB with G = 1): Linux's flat model, in which
 * segmentation is the identity, so mm_access skips it.
 *
 * Loading a segment register (mm_seg_load) checks what MOV to a segment
 * register checks: the selector's index within the table, the descriptor
 * type (data or readable code for DS/ES/FS/GS; writable data for SS), the
 * privileges (data: DPL >= max(CPL, RPL); SS: RPL = DPL = CPL), presence
 * (#NP, #SS for SS); a null selector is allowed except in SS. A failure is
 * #GP: Linux sends SIGSEGV (si_code SI_KERNEL); #NP gives SIGBUS.
 *
 * An access through a register (mm_access_seg): in 32-bit mode linear =
 * base + offset after the limit check (expand-up: offset + size - 1 <=
 * limit; expand-down: offset > limit) and the type check (no write to
 * read-only data or code, no read of execute-only code); a null selector
 * faults. In 64-bit mode only FS and GS have a base (set by arch_prctl,
 * MSR_FS_BASE/MSR_GS_BASE) and there are no limit checks.
 *
 * Cost: O(1) per access; the flat model costs nothing.
 */
#include "sim_internal.h"

#define SI_KERNEL 0x80
#define GDT_ENTRIES 32

/* descriptor type bits (S = 1) */
#define DT_ACCESSED 0x1
#define DT_WRITE    0x2   /* data: writable; code: readable */
#define DT_EXPDOWN  0x4   /* data: expand-down; code: conforming */
#define DT_CODE     0x8

static uint64_t make_desc(uint32_t base, uint32_t limit, unsigned int type, bool s, unsigned int dpl,
			  bool present, bool l, bool db, bool g)
{
	uint64_t d = 0;
	d |= (uint64_t)(limit & 0xffff);
	d |= (uint64_t)(base & 0xffffff) << 16;
	d |= (uint64_t)(type & 0xf) << 40;
	d |= (uint64_t)s << 44;
	d |= (uint64_t)(dpl & 3) << 45;
	d |= (uint64_t)present << 47;
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)l << 53;
	d |= (uint64_t)db << 54;
	d |= (uint64_t)g << 55;
	d |= (uint64_t)((base >> 24) & 0xff) << 56;
	return d;
}

static void decode(uint64_t d, struct mm_segdesc *out)
{
	out->base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24);
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
	out->granularity = (d >> 55) & 1;
	out->limit = out->granularity ? (limit << 12) | 0xfff : limit;
	out->type = (d >> 40) & 0xf;
	out->system = !((d >> 44) & 1);
	out->dpl = (d >> 45) & 3;
	out->present = (d >> 47) & 1;
	out->long_mode = (d >> 53) & 1;
	out->db = (d >> 54) & 1;
}

static uint64_t *gdt(struct mm_machine *m)
{
	return (uint64_t *)(m->ram + m->gdt_pa);
}

int sim_gdt_init(struct mm_machine *m)
{
	struct mm_page *p = sim_alloc_page(m, MM_GFP_ZERO, 0);
	if (!p)
		return -MM_ENOMEM;
	mm_page_set_flag(p, SIM_PG_BOOT);
	m->boot_pages++;
	m->gdt_pa = page_pfn(m, p) << MM_PAGE_SHIFT;
	uint64_t *g = gdt(m);
	const unsigned int code = DT_CODE | DT_WRITE | DT_ACCESSED, data = DT_WRITE | DT_ACCESSED;
	if (m->pg.levels == 2) {
		g[12] = make_desc(0, 0xfffff, code, true, 0, true, false, true, true);
		g[13] = make_desc(0, 0xfffff, data, true, 0, true, false, true, true);
		g[14] = make_desc(0, 0xfffff, code, true, 3, true, false, true, true);
		g[15] = make_desc(0, 0xfffff, data, true, 3, true, false, true, true);
		m->user_cs = (14 << 3) | 3;
		m->user_ds = (15 << 3) | 3;
	} else {
		g[1] = make_desc(0, 0xfffff, code, true, 0, true, false, true, true);
		g[2] = make_desc(0, 0xfffff, code, true, 0, true, true, false, true);
		g[3] = make_desc(0, 0xfffff, data, true, 0, true, false, true, true);
		g[4] = make_desc(0, 0xfffff, code, true, 3, true, false, true, true);
		g[5] = make_desc(0, 0xfffff, data, true, 3, true, false, true, true);
		g[6] = make_desc(0, 0xfffff, code, true, 3, true, true, false, true);
		m->user_cs = (6 << 3) | 3;
		m->user_ds = (5 << 3) | 3;
	}
	return 0;
}

static void load_hidden(struct mm_machine *m, struct sim_segreg *r, uint16_t sel)
{
	r->sel = sel;
	if ((sel >> 3) == 0) {
		memset(&r->d, 0, sizeof(r->d));
		return;
	}
	decode(gdt(m)[sel >> 3], &r->d);
}

void sim_seg_init_task(struct mm_machine *m, struct mm_task *t)
{
	load_hidden(m, &t->seg[MM_SEG_CS], m->user_cs);
	load_hidden(m, &t->seg[MM_SEG_SS], m->user_ds);
	load_hidden(m, &t->seg[MM_SEG_DS], m->user_ds);
	load_hidden(m, &t->seg[MM_SEG_ES], m->user_ds);
	load_hidden(m, &t->seg[MM_SEG_FS], 0);
	load_hidden(m, &t->seg[MM_SEG_GS], 0);
	t->fs_base = t->gs_base = 0;
}

int mm_gdt_set(struct mm_machine *m, unsigned int index, const struct mm_segdesc *d)
{
	if (index == 0 || index >= GDT_ENTRIES)
		return -MM_EINVAL;
	if (d->limit > 0xfffff && (d->limit & 0xfff) != 0xfff)
		return -MM_EINVAL;   /* not expressible with 4 KiB granularity */
	bool g = d->limit > 0xfffff;
	gdt(m)[index] = make_desc(d->base, g ? d->limit >> 12 : d->limit, d->type, !d->system, d->dpl,
				  d->present, d->long_mode, d->db, g);
	return 0;
}

int mm_gdt_get(struct mm_machine *m, unsigned int index, struct mm_segdesc *d)
{
	if (index >= GDT_ENTRIES)
		return -MM_EINVAL;
	decode(gdt(m)[index], d);
	return 0;
}

static int gp(struct mm_task *t, int signo, int code)
{
	t->sig = (struct mm_siginfo){ signo, code, 0, 0 };
	if (signo == MM_SIGSEGV)
		t->cnt.segv++;
	return signo == MM_SIGSEGV ? -MM_EFAULT : -MM_EIO;
}

int mm_seg_load(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint16_t sel)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (reg == MM_SEG_CS || reg >= MM_NR_SEGREGS)
		return -MM_EINVAL;     /* CS changes by far transfers only */
	unsigned int cpl = t->seg[MM_SEG_CS].sel & 3, rpl = sel & 3, idx = sel >> 3;
	if (sel & 4)
		return gp(t, MM_SIGSEGV, SI_KERNEL);   /* no LDT */
	if (idx == 0) {
		if (reg == MM_SEG_SS)
			return gp(t, MM_SIGSEGV, SI_KERNEL);
		load_hidden(m, &t->seg[reg], sel);
		return 0;
	}
	if (idx >= GDT_ENTRIES)
		return gp(t, MM_SIGSEGV, SI_KERNEL);
	struct mm_segdesc d;
	decode(gdt(m)[idx], &d);
	if (d.system)
		return gp(t, MM_SIGSEGV, SI_KERNEL);
	bool code = d.type & DT_CODE, w = d.type & DT_WRITE;
	if (reg == MM_SEG_SS) {
		if (code || !w || rpl != cpl || d.dpl != cpl)
			return gp(t, MM_SIGSEGV, SI_KERNEL);
	} else {
		if (code && !w)
			return gp(t, MM_SIGSEGV, SI_KERNEL);   /* execute-only code */
		bool conforming = code && (d.type & DT_EXPDOWN);
		if (!conforming && d.dpl < MM_MAX(cpl, rpl))
			return gp(t, MM_SIGSEGV, SI_KERNEL);
	}
	if (!d.present)
		return gp(t, MM_SIGBUS, 0);   /* #NP (#SS for SS) */
	t->seg[reg].sel = sel;
	t->seg[reg].d = d;
	return 0;
}

int mm_arch_prctl_set_base(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint64_t base)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (m->pg.levels == 2 || (reg != MM_SEG_FS && reg != MM_SEG_GS))
		return -MM_EINVAL;
	if (base >= t->task_size)
		return -MM_EPERM;
	if (reg == MM_SEG_FS)
		t->fs_base = base;
	else
		t->gs_base = base;
	return 0;
}

int mm_access_seg(struct mm_machine *m, struct mm_task *t, enum mm_segreg reg, uint64_t offset,
		  void *buf, size_t len, enum mm_access_kind kind)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (reg >= MM_NR_SEGREGS || !len)
		return -MM_EINVAL;
	const struct sim_segreg *r = &t->seg[reg];
	uint64_t linear;
	if (m->pg.levels > 2) {
		/* 64-bit mode: no limits; only FS and GS have a base */
		linear = offset + (reg == MM_SEG_FS ? t->fs_base : reg == MM_SEG_GS ? t->gs_base : 0);
	} else {
		if ((r->sel >> 3) == 0)
			return gp(t, MM_SIGSEGV, SI_KERNEL);
		bool code = r->d.type & DT_CODE, w = r->d.type & DT_WRITE;
		if (kind == MM_ACCESS_WRITE && (code || !w))
			return gp(t, MM_SIGSEGV, SI_KERNEL);
		if (kind == MM_ACCESS_READ && code && !w)
			return gp(t, MM_SIGSEGV, SI_KERNEL);
		if (kind == MM_ACCESS_EXEC && !code)
			return gp(t, MM_SIGSEGV, SI_KERNEL);
		uint64_t last = offset + len - 1;
		bool expdown = !code && (r->d.type & DT_EXPDOWN);
		uint64_t top = r->d.db ? 0xffffffffULL : 0xffffULL;
		bool ok = expdown ? (offset > r->d.limit && last <= top) : last <= r->d.limit;
		if (!ok || last < offset)
			return gp(t, reg == MM_SEG_SS ? MM_SIGBUS : MM_SIGSEGV, SI_KERNEL);
		linear = (r->d.base + offset) & 0xffffffffULL;
	}
	return mm_access(m, t, linear, buf, len, kind);
}

int mm_seg_get(const struct mm_task *t, enum mm_segreg reg, uint16_t *sel, struct mm_segdesc *d)
{
	if (reg >= MM_NR_SEGREGS)
		return -MM_EINVAL;
	if (sel)
		*sel = t->seg[reg].sel;
	if (d)
		*d = t->seg[reg].d;
	return 0;
}
