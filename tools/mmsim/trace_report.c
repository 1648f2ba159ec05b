/* trace_report.c — what `mmsim trace` prints: the summary of a replay
 * (text or one JSON object), the views asked for with --show (the Linux
 * formats of src/sim/views.c), and the plots: memory over time from the
 * timeline samples, and the buddy allocator's free blocks per order.
 */
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "trace_report.h"

const char *const trace_view_names[] = {
	"free", "meminfo", "vmstat", "buddyinfo", "slabinfo", "maps", "smaps", "status", "ps",
	"swaps", "dmesg",
};
const size_t trace_nviews = sizeof(trace_view_names) / sizeof(trace_view_names[0]);

/* ---- Views ------------------------------------------------------------------ */

/* The text of view k, malloc'ed (NULL without memory); *title gets the file
 * it stands for. */
static char *view_text(const struct trace_report *rep, size_t k, const char **title)
{
	static const char *const titles[] = {
		"free", "/proc/meminfo", "/proc/vmstat", "/proc/buddyinfo", "/proc/slabinfo",
		"/proc/PID/maps", "/proc/PID/smaps", "/proc/PID/status", "ps", "/proc/swaps",
		"dmesg",
	};
	struct mm_machine *m = rep->m;
	struct mm_task *t = rep->r->t;
	size_t cap = 4096;
	*title = titles[k];
	for (;;) {
		char *buf = malloc(cap);
		if (!buf)
			return NULL;
		size_t n = 0;
		switch (k) {
		case 0: n = mm_show_free(m, buf, cap); break;
		case 1: n = mm_show_meminfo(m, buf, cap); break;
		case 2: n = mm_show_vmstat(m, buf, cap); break;
		case 3: n = mm_show_buddyinfo(m, buf, cap); break;
		case 4: n = mm_show_slabinfo(m, buf, cap); break;
		case 5: n = mm_show_maps(m, t, buf, cap); break;
		case 6: n = mm_show_smaps(m, t, buf, cap); break;
		case 7: n = mm_show_status(m, t, buf, cap); break;
		case 8: n = mm_show_ps(m, buf, cap); break;
		case 9: n = mm_show_swaps(m, buf, cap); break;
		case 10: n = mm_show_dmesg(m, buf, cap); break;
		}
		if (n < cap)
			return buf;
		free(buf);
		cap = n + 1;
	}
}

/* ---- Summary numbers ------------------------------------------------------------- */

struct numbers {
	struct mm_counters c;
	struct mm_task_mem tm;
	struct mm_meminfo mi;
	struct mm_swap_info si;
	struct mm_reclaim_stats rs;
	double eat;
};

static void get_numbers(const struct trace_report *rep, struct numbers *n)
{
	mm_task_counters(rep->r->t, &n->c);
	mm_task_mem(rep->r->t, &n->tm);
	mm_machine_meminfo(rep->m, &n->mi);
	mm_machine_swap_info(rep->m, &n->si);
	mm_machine_reclaim_stats(rep->m, &n->rs);
	n->eat = mm_effective_access_time(rep->m, &n->c);
}

/* "linux (global)", "clock (local, 256 frames)", "off". */
static void reclaim_desc(const struct trace_report *rep, char *buf, size_t len)
{
	const struct mm_machine_config *cfg = mm_machine_config(rep->m);
	const char *pol = mm_machine_reclaim_policy(rep->m);
	if (cfg->no_reclaim || !pol || !*pol)
		snprintf(buf, len, "off");
	else if (cfg->reclaim_local)
		snprintf(buf, len, "%s (local, %llu frames)", pol,
			 (unsigned long long)cfg->frame_limit);
	else
		snprintf(buf, len, "%s (global)", pol);
}

/* The trace as the text and the plots name it ("<stdin>" for -). */
static const char *shown_name(const struct trace_report *rep)
{
	return strcmp(rep->a->run.trace, "-") == 0 ? "<stdin>" : rep->a->run.trace;
}

static const char *vma_mode_name(enum vma_mode v)
{
	static const char *const names[] = { "auto", "syscalls", "touch", "region" };
	return names[v];
}

static void tlb_geom(char *buf, size_t len, const struct mm_tlb_geometry *g)
{
	if (!g->entries)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%u:%u", g->entries, g->ways);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* ---- Text ------------------------------------------------------------------------ */

static void print_text(const struct trace_report *rep, const struct numbers *n, FILE *f)
{
	const struct replay_stats *s = &rep->r->st;
	const struct mm_machine_config *cfg = mm_machine_config(rep->m);
	const struct mm_counters *c = &n->c;
	char d[32], i[32], st[32];
	tlb_geom(d, sizeof(d), &cfg->dtlb_4k);
	tlb_geom(i, sizeof(i), &cfg->itlb_4k);
	tlb_geom(st, sizeof(st), &cfg->stlb);
	uint64_t lookups = c->dtlb_hits + c->itlb_hits + c->stlb_hits + c->tlb_misses;
	fprintf(f, "trace          %s (%s, %s), %llu records\n", shown_name(rep),
		mm_trace_fmt_name(mm_trace_format(rep->t)), mm_trace_compression(rep->t),
		(unsigned long long)s->records);
	fprintf(f, "machine        %llu MiB RAM, %d-level paging, PCID %s, dTLB %s, iTLB %s, "
		"sTLB %s\n", (unsigned long long)(cfg->ram_bytes >> 20), (int)cfg->paging,
		cfg->pcid ? "on" : "off", d, i, st);
	fprintf(f, "accesses       %llu: %llu reads, %llu writes, %llu modifies, %llu fetches\n",
		(unsigned long long)s->accesses, (unsigned long long)s->reads,
		(unsigned long long)s->writes, (unsigned long long)s->modifies,
		(unsigned long long)s->ifetches);
	fprintf(f, "page accesses  %llu (a modify is a read and a write; an access across a "
		"page boundary is two)\n", (unsigned long long)c->accesses);
	fprintf(f, "dTLB hits      %llu (%.2f%%)\n", (unsigned long long)c->dtlb_hits,
		pct(c->dtlb_hits, lookups));
	fprintf(f, "iTLB hits      %llu (%.2f%%)\n", (unsigned long long)c->itlb_hits,
		pct(c->itlb_hits, lookups));
	fprintf(f, "sTLB hits      %llu (%.2f%%)\n", (unsigned long long)c->stlb_hits,
		pct(c->stlb_hits, lookups));
	fprintf(f, "TLB misses     %llu (%.2f%%): page walks, %llu memory references\n",
		(unsigned long long)c->tlb_misses, pct(c->tlb_misses, lookups),
		(unsigned long long)c->walk_refs);
	fprintf(f, "dirty walks    %llu (a write through a clean TLB entry sets D)\n",
		(unsigned long long)c->dirty_walks);
	fprintf(f, "page faults    %llu minor, %llu major\n", (unsigned long long)c->min_flt,
		(unsigned long long)c->maj_flt);
	fprintf(f, "copy-on-write  %llu copies, %llu reuses; %llu reads mapped the zero page\n",
		(unsigned long long)c->cow_copies, (unsigned long long)c->cow_reuses,
		(unsigned long long)c->zero_maps);
	char rd[96];
	reclaim_desc(rep, rd, sizeof(rd));
	if (n->si.total_pages)
		fprintf(f, "swap           %llu pages in, %llu out; VmSwap %llu kB; SwapFree %llu of "
			"%llu kB\n", (unsigned long long)n->si.pswpin,
			(unsigned long long)n->si.pswpout, (unsigned long long)n->tm.swap_ents * 4,
			(unsigned long long)n->si.free_pages * 4,
			(unsigned long long)n->si.total_pages * 4);
	else
		fprintf(f, "swap           none (--swap SIZE)\n");
	fprintf(f, "reclaim        %s: kswapd woken %llu times, %llu pages scanned, %llu freed; "
		"direct %llu times, %llu scanned, %llu freed\n", rd,
		(unsigned long long)n->rs.kswapd_wakeups, (unsigned long long)n->rs.pgscan_kswapd,
		(unsigned long long)n->rs.pgsteal_kswapd, (unsigned long long)n->rs.allocstall,
		(unsigned long long)n->rs.pgscan_direct, (unsigned long long)n->rs.pgsteal_direct);
	fprintf(f, "EAT            %.2f ns per page access (tlb %g, mem %g, fault %g, disk %g ns)\n",
		n->eat, cfg->lat.tlb_ns, cfg->lat.mem_ns, cfg->lat.fault_ns, cfg->lat.disk_ns);
	fprintf(f, "memory         VmRSS %llu kB, VmPTE %llu kB, VmSize %llu kB, %u VMAs; "
		"MemFree %llu kB\n",
		(unsigned long long)(n->tm.rss_anon + n->tm.rss_file + n->tm.rss_shmem) * 4,
		(unsigned long long)n->tm.pgtables * 4, (unsigned long long)n->tm.total_vm * 4,
		n->tm.map_count, (unsigned long long)n->mi.free_pages * 4);
	if (rep->r->mode == VMA_REGION)
		fprintf(f, "VMAs           region: %llu distinct ids\n",
			(unsigned long long)rep->r->st.distinct_ids);
	else
		fprintf(f, "VMAs           %s: %llu system calls (%llu applied, %llu failed in the "
			"trace, %llu refused), %llu pages mapped on first touch\n",
			vma_mode_name(rep->r->mode), (unsigned long long)s->syscalls,
			(unsigned long long)s->sys_applied, (unsigned long long)s->sys_failed_in_trace,
			(unsigned long long)s->sys_rejected, (unsigned long long)s->auto_vmas);
	fprintf(f, "signals        %llu SIGSEGV, %llu SIGBUS (passed over)\n",
		(unsigned long long)s->segv, (unsigned long long)s->sigbus);
	if (s->oom)
		fprintf(f, "stopped        out of memory at line %llu: no free frame and nothing "
			"to reclaim\n", (unsigned long long)s->oom_line);
}

/* Notes on stderr about what was approximated or refused. */
static void print_notes(const struct trace_report *rep)
{
	const struct replay_stats *s = &rep->r->st;
	const char *cmd = "trace";
	if (s->first_signal[0])
		mmsim_err(cmd, "note: %llu accesses raised a signal; the first: %s",
			  (unsigned long long)(s->segv + s->sigbus), s->first_signal);
	if (s->sys_rejected)
		mmsim_err(cmd, "note: the machine refused %llu system calls; the first: %s",
			  (unsigned long long)s->sys_rejected, s->first_reject);
	if (s->sys_file_anon)
		mmsim_err(cmd, "note: %llu file mappings were made anonymous (a trace names no "
			  "file)", (unsigned long long)s->sys_file_anon);
	if (s->sys_noreserve)
		mmsim_err(cmd, "note: %llu mappings over the commit limit were made MAP_NORESERVE",
			  (unsigned long long)s->sys_noreserve);
	if (s->sys_huge_small)
		mmsim_err(cmd, "note: %llu MAP_HUGETLB mappings were made of 4 KiB pages (no huge "
			  "page pool: --hugepages N)", (unsigned long long)s->sys_huge_small);
	if (s->widened)
		mmsim_err(cmd, "note: %llu automatic pages were made rwx (written or executed "
			  "after their first touch)", (unsigned long long)s->widened);
	if (s->too_big)
		mmsim_err(cmd, "note: %llu accesses over 64 KiB were passed over",
			  (unsigned long long)s->too_big);
	if (s->deletes)
		mmsim_err(cmd, "note: %llu delete requests were not replayed",
			  (unsigned long long)s->deletes);
	if (rep->r->mode == VMA_TOUCH && s->syscalls)
		mmsim_err(cmd, "note: %llu system call records were passed over (--vma touch)",
			  (unsigned long long)s->syscalls);
	uint64_t skipped = mm_trace_skipped(rep->t);
	if (skipped)
		mmsim_err(cmd, "note: %llu malformed lines were skipped; the last: %s",
			  (unsigned long long)skipped, mm_trace_error(rep->t));
	if (s->oom)
		mmsim_err(cmd, "out of simulated memory at line %llu: the replay stopped there "
			  "(more --ram%s)", (unsigned long long)s->oom_line,
			  mm_machine_config(rep->m)->swap_bytes ? ", more --swap" : ", or --swap SIZE");
}

/* ---- JSON ------------------------------------------------------------------------ */

#define JU(w, k, v) (jw_key(w, k), jw_u64(w, (uint64_t)(v)))

static int print_json(const struct trace_report *rep, const struct numbers *n, FILE *f)
{
	const struct replay_stats *s = &rep->r->st;
	const struct mm_machine_config *cfg = mm_machine_config(rep->m);
	const struct mm_counters *c = &n->c;
	struct jw w;
	jw_init(&w, f);
	jw_begin_object(&w);
	jw_key(&w, "trace");
	jw_str(&w, rep->a->run.trace);
	jw_key(&w, "format");
	jw_str(&w, mm_trace_fmt_name(mm_trace_format(rep->t)));
	jw_key(&w, "compression");
	jw_str(&w, mm_trace_compression(rep->t));
	JU(&w, "records", s->records);
	JU(&w, "accesses", s->accesses);
	JU(&w, "reads", s->reads);
	JU(&w, "writes", s->writes);
	JU(&w, "modifies", s->modifies);
	JU(&w, "ifetches", s->ifetches);
	JU(&w, "page_accesses", c->accesses);
	JU(&w, "dtlb_hits", c->dtlb_hits);
	JU(&w, "itlb_hits", c->itlb_hits);
	JU(&w, "stlb_hits", c->stlb_hits);
	JU(&w, "tlb_misses", c->tlb_misses);
	JU(&w, "walk_refs", c->walk_refs);
	JU(&w, "dirty_walks", c->dirty_walks);
	JU(&w, "min_flt", c->min_flt);
	JU(&w, "maj_flt", c->maj_flt);
	JU(&w, "cow_copies", c->cow_copies);
	JU(&w, "cow_reuses", c->cow_reuses);
	JU(&w, "zero_maps", c->zero_maps);
	JU(&w, "tlb_flushes", c->tlb_flushes);
	JU(&w, "swap_kb", n->tm.swap_ents * 4);
	JU(&w, "pswpin", n->si.pswpin);
	JU(&w, "pswpout", n->si.pswpout);
	JU(&w, "swap_total_kb", n->si.total_pages * 4);
	JU(&w, "swap_free_kb", n->si.free_pages * 4);
	jw_key(&w, "reclaim");
	{
		char rd[96];
		reclaim_desc(rep, rd, sizeof(rd));
		jw_str(&w, rd);
	}
	JU(&w, "kswapd_wakeups", n->rs.kswapd_wakeups);
	JU(&w, "pgscan_kswapd", n->rs.pgscan_kswapd);
	JU(&w, "pgsteal_kswapd", n->rs.pgsteal_kswapd);
	JU(&w, "allocstall", n->rs.allocstall);
	JU(&w, "pgscan_direct", n->rs.pgscan_direct);
	JU(&w, "pgsteal_direct", n->rs.pgsteal_direct);
	JU(&w, "ticks", mm_machine_jiffies(rep->m));
	jw_key(&w, "eat_ns");
	jw_double(&w, n->eat);
	JU(&w, "rss_kb", (n->tm.rss_anon + n->tm.rss_file + n->tm.rss_shmem) * 4);
	JU(&w, "pagetables_kb", n->tm.pgtables * 4);
	JU(&w, "vm_kb", n->tm.total_vm * 4);
	JU(&w, "vmas", n->tm.map_count);
	JU(&w, "mem_free_kb", n->mi.free_pages * 4);
	jw_key(&w, "vma_mode");
	jw_str(&w, vma_mode_name(rep->r->mode));
	JU(&w, "syscalls", s->syscalls);
	JU(&w, "syscalls_applied", s->sys_applied);
	JU(&w, "syscalls_failed_in_trace", s->sys_failed_in_trace);
	JU(&w, "syscalls_refused", s->sys_rejected);
	JU(&w, "auto_pages", s->auto_vmas);
	JU(&w, "distinct_ids", s->distinct_ids);
	JU(&w, "segv", s->segv);
	JU(&w, "sigbus", s->sigbus);
	JU(&w, "skipped", mm_trace_skipped(rep->t));
	jw_key(&w, "oom");
	jw_bool(&w, s->oom);
	jw_key(&w, "machine");
	jw_begin_object(&w);
	JU(&w, "ram_bytes", cfg->ram_bytes);
	JU(&w, "paging", cfg->paging);
	jw_key(&w, "pcid");
	jw_bool(&w, cfg->pcid);
	static const char *const arrays[] = { "dtlb", "itlb", "stlb", "dtlb_2m", "dtlb_1g",
					      "itlb_2m" };
	const struct mm_tlb_geometry *g[] = { &cfg->dtlb_4k, &cfg->itlb_4k, &cfg->stlb,
					      &cfg->dtlb_large, &cfg->dtlb_1g, &cfg->itlb_large };
	for (size_t k = 0; k < 6; k++) {
		char v[32];
		tlb_geom(v, sizeof(v), g[k]);
		jw_key(&w, arrays[k]);
		jw_str(&w, v);
	}
	jw_end_object(&w);
	if (rep->a->views) {
		jw_key(&w, "views");
		jw_begin_object(&w);
		for (size_t k = 0; k < trace_nviews; k++) {
			if (!(rep->a->views & (1u << k)))
				continue;
			const char *title;
			char *text = view_text(rep, k, &title);
			if (!text)
				return EXIT_NOMEM;
			jw_key(&w, trace_view_names[k]);
			jw_str(&w, text);
			free(text);
		}
		jw_end_object(&w);
	}
	jw_end_object(&w);
	jw_finish(&w);
	return 0;
}

/* ---- Plots ----------------------------------------------------------------------- */

static int plot_memory(const struct trace_report *rep, FILE *script)
{
	const struct replay *r = rep->r;
	size_t n = r->ntl;
	double *v = malloc((n ? n : 1) * 4 * sizeof(*v));
	if (!v)
		return EXIT_NOMEM;
	double *x = v, *fr = v + n, *rss = v + 2 * n, *sw = v + 3 * n;
	for (size_t k = 0; k < n; k++) {
		x[k] = (double)r->tl[k].accesses;
		fr[k] = (double)r->tl[k].free_pages / 256.0;
		rss[k] = (double)r->tl[k].rss_pages / 256.0;
		sw[k] = (double)r->tl[k].swap_pages / 256.0;
	}
	struct plot_series s[] = {
		{ .name = "free (MemFree)", .n = n, .x = x, .y = fr },
		{ .name = "RSS (VmRSS)", .n = n, .x = x, .y = rss },
		{ .name = "swap (VmSwap)", .n = n, .x = x, .y = sw },
	};
	char title[512];
	snprintf(title, sizeof(title), "%s: memory over time", shown_name(rep));
	struct plot p = { .title = title, .xlabel = "accesses", .ylabel = "MiB", .nseries = 3,
			  .series = s, .with = "lines lw 2" };
	int rc = 0;
	if (script)
		plot_write_script(script, &p, rep->a->plot);
	else
		rc = plot_render("trace", &p, rep->a->plot);
	free(v);
	return rc;
}

/* The free blocks per order of each zone, from /proc/buddyinfo's lines
 * "Node 0, zone   Normal   n0 n1 ...". */
static int plot_buddy(const struct trace_report *rep, FILE *script)
{
	const char *title;
	char *text = view_text(rep, 3, &title);
	if (!text)
		return EXIT_NOMEM;
	enum { MAXZ = 8, MAXO = 16 };
	char names[MAXZ][32];
	double xs[MAXO], ys[MAXZ][MAXO];
	size_t nz = 0, no[MAXZ];
	for (size_t k = 0; k < MAXO; k++)
		xs[k] = (double)k;
	for (char *line = strtok(text, "\n"); line && nz < MAXZ; line = strtok(NULL, "\n")) {
		char *z = strstr(line, "zone");
		if (!z)
			continue;
		char *p = z + 4, *end;
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		snprintf(names[nz], sizeof(names[nz]), "%.*s", (int)(len < 31 ? len : 31), p);
		p += len;
		size_t o = 0;
		for (;;) {
			unsigned long long v = strtoull(p, &end, 10);
			if (end == p || o >= MAXO)
				break;
			ys[nz][o++] = (double)v;
			p = end;
		}
		no[nz++] = o;
	}
	free(text);
	struct plot_series s[MAXZ];
	for (size_t k = 0; k < nz; k++)
		s[k] = (struct plot_series){ .name = names[k], .n = no[k], .x = xs, .y = ys[k] };
	char t[512];
	snprintf(t, sizeof(t), "%s: buddy allocator free blocks per order at the end",
		 shown_name(rep));
	struct plot p = { .title = t, .xlabel = "order (block = 2^order pages)",
			  .ylabel = "free blocks", .nseries = nz, .series = s };
	if (script) {
		plot_write_script(script, &p, rep->a->plot_buddy);
		return 0;
	}
	return plot_render("trace", &p, rep->a->plot_buddy);
}

static int draw_plots(const struct trace_report *rep)
{
	const struct trace_args_all *a = rep->a;
	int rc = 0, r2;
	if (a->plot_script) {
		FILE *f = out_open("trace", a->plot_script);
		if (!f)
			return EXIT_IO;
		if (a->plot)
			rc = plot_memory(rep, f);
		if (!rc && a->plot_buddy)
			rc = plot_buddy(rep, f);
		r2 = out_close("trace", a->plot_script, f);
		if (!rc)
			rc = r2;
		if (rc)
			return rc;
	}
	if (a->plot && (r2 = plot_memory(rep, NULL)) && !rc)
		rc = r2;
	if (a->plot_buddy && (r2 = plot_buddy(rep, NULL)) && !rc)
		rc = r2;
	return rc;
}

/* ---- The report ------------------------------------------------------------------ */

int trace_report(const struct trace_report *rep)
{
	const struct trace_args_all *a = rep->a;
	struct numbers n;
	int rc = 0;
	get_numbers(rep, &n);
	print_notes(rep);
	bool csv_stdout = a->csv && strcmp(a->csv, "-") == 0;
	if (!csv_stdout) {
		if (a->json) {
			rc = print_json(rep, &n, stdout);
		} else {
			print_text(rep, &n, stdout);
			for (size_t k = 0; k < trace_nviews && !rc; k++) {
				if (!(a->views & (1u << k)))
					continue;
				const char *title;
				char *text = view_text(rep, k, &title);
				if (!text) {
					rc = EXIT_NOMEM;
					break;
				}
				printf("\n==> %s <==\n%s", title, text);
				free(text);
			}
		}
		if (rc == EXIT_NOMEM)
			mmsim_err("trace", "out of memory");
		int r2 = out_close("trace", "-", stdout);
		if (!rc)
			rc = r2;
	}
	int r3 = draw_plots(rep);
	return rc ? rc : r3;
}
