/* scenario_view.c — the views `show` prints and the rows `expect` reads.
 *
 * Most views are the machine's own (mm_show_*: Linux's /proc layouts); two
 * are made here from counters: `tlb` (the TLB geometry, hits, misses, walks
 * and flushes of a process, and the effective access time of the cost
 * model) and `counters` (every per-process counter under the name expect
 * uses). A view's text is built into a growing buffer, since the machine's
 * functions have snprintf semantics.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/sim.h"
#include "scenario_internal.h"

struct view_desc {
	const char *name;
	bool per_process; /* shows one process (current, or named) */
	bool takes_addr;  /* pagewalk ADDR */
};

static const struct view_desc views[] = {
	{ "free", false, false },      { "meminfo", false, false },  { "vmstat", false, false },
	{ "buddyinfo", false, false }, { "slabinfo", false, false }, { "ps", false, false },
	{ "maps", true, false },       { "smaps", true, false },     { "status", true, false },
	{ "pagewalk", true, true },    { "tlb", true, false },       { "counters", true, false },
	{ "dmesg", false, false },     { "swaps", false, false },
};
#define NVIEWS (sizeof(views) / sizeof(views[0]))

const char *const sc_view_names[] = {
	"free",  "meminfo", "vmstat",   "buddyinfo", "slabinfo", "ps",    "maps",
	"smaps", "status",  "pagewalk", "tlb",       "counters", "dmesg", "swaps",
};
const size_t sc_nviews = NVIEWS;

bool sc_view_known(const char *view, bool *per_process, bool *takes_addr)
{
	for (size_t i = 0; i < NVIEWS; i++) {
		if (strcmp(views[i].name, view) == 0) {
			*per_process = views[i].per_process;
			*takes_addr = views[i].takes_addr;
			return true;
		}
	}
	return false;
}

void sc_view_prompt(char *buf, size_t len, const char *view, int pid, uint64_t arg)
{
	if (strcmp(view, "free") == 0 || strcmp(view, "dmesg") == 0)
		snprintf(buf, len, "$ %s", view);
	else if (strcmp(view, "ps") == 0)
		snprintf(buf, len, "$ ps");
	else if (strcmp(view, "pagewalk") == 0)
		snprintf(buf, len, "$ pagewalk %d %#llx", pid, (unsigned long long)arg);
	else if (strcmp(view, "tlb") == 0 || strcmp(view, "counters") == 0)
		snprintf(buf, len, "$ %s %d", view, pid);
	else if (pid)
		snprintf(buf, len, "$ cat /proc/%d/%s", pid, view);
	else
		snprintf(buf, len, "$ cat /proc/%s", view);
}

/* ---- A growing text ----------------------------------------------------- */

struct text {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static void tput(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tput(struct text *t, const char *fmt, ...)
{
	if (t->nomem)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *nb = realloc(t->buf, cap);
		if (!nb) {
			t->nomem = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

/* ---- tlb and counters --------------------------------------------------- */

static void geometry(struct text *t, const char *name, const struct mm_tlb_geometry *g)
{
	if (g->entries)
		tput(t, "  %-11s %5u entries, %2u-way\n", name, g->entries, g->ways);
	else
		tput(t, "  %-11s absent\n", name);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void tlb_view(struct text *t, struct mm_machine *m, struct mm_task *task)
{
	const struct mm_machine_config *cfg = mm_machine_config(m);
	struct mm_counters c;
	struct mm_tlb_stats s;
	mm_task_counters(task, &c);
	mm_machine_tlb_stats(m, &s);
	tput(t, "TLB geometry (%s):\n", cfg->pcid ? "PCID on" : "PCID off");
	geometry(t, "dTLB 4K", &cfg->dtlb_4k);
	geometry(t, "dTLB 2M/4M", &cfg->dtlb_large);
	geometry(t, "dTLB 1G", &cfg->dtlb_1g);
	geometry(t, "iTLB 4K", &cfg->itlb_4k);
	geometry(t, "iTLB 2M/4M", &cfg->itlb_large);
	geometry(t, "STLB", &cfg->stlb);
	uint64_t l1 = c.dtlb_hits + c.itlb_hits;
	tput(t, "process %d (%s):\n", mm_task_pid(task), mm_task_comm(task));
	tput(t, "  accesses       %12llu\n", (unsigned long long)c.accesses);
	tput(t, "  L1 hits        %12llu  %6.2f%%  (dTLB %llu, iTLB %llu)\n",
	     (unsigned long long)l1, pct(l1, c.accesses), (unsigned long long)c.dtlb_hits,
	     (unsigned long long)c.itlb_hits);
	tput(t, "  STLB hits      %12llu  %6.2f%%\n", (unsigned long long)c.stlb_hits,
	     pct(c.stlb_hits, c.accesses));
	tput(t, "  misses (walks) %12llu  (a faulting access walks again after the fault)\n",
	     (unsigned long long)c.tlb_misses);
	tput(t, "  walk refs      %12llu  (%.2f per walk)\n", (unsigned long long)c.walk_refs,
	     c.tlb_misses ? (double)c.walk_refs / (double)c.tlb_misses : 0.0);
	tput(t, "  dirty walks    %12llu\n", (unsigned long long)c.dirty_walks);
	tput(t, "  flushes        %12llu\n", (unsigned long long)c.tlb_flushes);
	tput(t,
	     "machine: %llu CR3 loads, %llu full flushes, %llu PCID flushes, %llu INVLPG, "
	     "%llu shootdowns\n",
	     (unsigned long long)s.cr3_loads, (unsigned long long)s.full_flushes,
	     (unsigned long long)s.pcid_flushes, (unsigned long long)s.invlpg,
	     (unsigned long long)s.shootdowns);
	tput(t,
	     "effective access time: %.2f ns (TLB %.0f ns, memory %.0f ns, fault %.0f ns, "
	     "disk %.0f ns)\n",
	     mm_effective_access_time(m, &c), cfg->lat.tlb_ns, cfg->lat.mem_ns, cfg->lat.fault_ns,
	     cfg->lat.disk_ns);
}

static void counters_view(struct text *t, struct mm_task *task)
{
	struct mm_counters c;
	mm_task_counters(task, &c);
	const uint64_t v[SC_NCTR] = {
		[CTR_ACCESSES] = c.accesses,
		[CTR_DTLB_HITS] = c.dtlb_hits,
		[CTR_ITLB_HITS] = c.itlb_hits,
		[CTR_STLB_HITS] = c.stlb_hits,
		[CTR_TLB_MISSES] = c.tlb_misses,
		[CTR_WALK_REFS] = c.walk_refs,
		[CTR_DIRTY_WALKS] = c.dirty_walks,
		[CTR_MINFLT] = c.min_flt,
		[CTR_MAJFLT] = c.maj_flt,
		[CTR_COW_COPIES] = c.cow_copies,
		[CTR_COW_REUSES] = c.cow_reuses,
		[CTR_ZERO_MAPS] = c.zero_maps,
		[CTR_SEGV] = c.segv,
		[CTR_TLB_FLUSHES] = c.tlb_flushes,
		[CTR_TLB_HITS] = c.dtlb_hits + c.itlb_hits + c.stlb_hits,
		[CTR_FAULTS] = c.min_flt + c.maj_flt,
	};
	for (size_t i = 0; i < SC_NCTR; i++)
		tput(t, "%-12s %llu\n", sc_ctr_names[i], (unsigned long long)v[i]);
}

/* ---- The machine's views ------------------------------------------------ */

typedef size_t (*show_m)(struct mm_machine *, char *, size_t);
typedef size_t (*show_t)(struct mm_machine *, struct mm_task *, char *, size_t);

static void from_machine(struct text *t, struct mm_machine *m, struct mm_task *task, show_m fm,
			 show_t ft, uint64_t arg, bool walk)
{
	for (;;) {
		size_t room = t->cap - t->len, n;
		if (walk)
			n = mm_show_pagewalk(m, task, arg, t->buf + t->len, room);
		else if (fm)
			n = fm(m, t->buf + t->len, room);
		else
			n = ft(m, task, t->buf + t->len, room);
		if (n < room) {
			t->len += n;
			return;
		}
		size_t cap = t->len + n + 1;
		char *nb = realloc(t->buf, cap);
		if (!nb) {
			t->nomem = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

/* The views a mm_show_* function prints whole: of the machine (fm) or of
 * one process (ft). */
static const struct {
	const char *name;
	show_m fm;
	show_t ft;
} shows[] = {
	{ "free", mm_show_free, NULL },
	{ "meminfo", mm_show_meminfo, NULL },
	{ "vmstat", mm_show_vmstat, NULL },
	{ "buddyinfo", mm_show_buddyinfo, NULL },
	{ "slabinfo", mm_show_slabinfo, NULL },
	{ "ps", mm_show_ps, NULL },
	{ "dmesg", mm_show_dmesg, NULL },
	{ "swaps", mm_show_swaps, NULL },
	{ "maps", NULL, mm_show_maps },
	{ "smaps", NULL, mm_show_smaps },
	{ "status", NULL, mm_show_status },
};

char *sc_view_text(struct mm_machine *m, struct mm_task *task, const char *view, uint64_t arg)
{
	struct text t = { .cap = 4096 };
	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	t.buf[0] = 0;
	show_m fm = NULL;
	show_t ft = NULL;
	for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++) {
		if (strcmp(view, shows[i].name) == 0) {
			fm = shows[i].fm;
			ft = shows[i].ft;
			break;
		}
	}
	if (fm || ft)
		from_machine(&t, m, task, fm, ft, 0, false);
	else if (strcmp(view, "pagewalk") == 0)
		from_machine(&t, m, task, NULL, NULL, arg, true);
	else if (strcmp(view, "tlb") == 0)
		tlb_view(&t, m, task);
	else if (strcmp(view, "counters") == 0)
		counters_view(&t, task);
	else
		t.nomem = true;
	if (t.nomem) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

/* ---- Rows --------------------------------------------------------------- */

int sc_view_field(const char *text, const char *field, int64_t *v)
{
	size_t fl = strlen(field);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, field, fl) != 0 || (l[fl] != ':' && l[fl] != ' ' && l[fl] != '\t'))
			continue;
		const char *p = l + fl;
		while (*p == ':' || *p == ' ' || *p == '\t')
			p++;
		bool neg = *p == '-';
		if (neg)
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		uint64_t x = strtoull(p, NULL, 10);
		*v = neg ? -(int64_t)x : (int64_t)x;
		return 0;
	}
	return -1;
}
