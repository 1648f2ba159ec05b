/* cmd_demo.c — `mmsim demo`: the main job. Runs the bundled scenario
 * (examples/scenarios/demo.mms, built into the binary by embed.cmake), or
 * another one with --scenario, prints its text output as `mmsim run` does,
 * and writes a report into DIR (default out/): report.md or report.html
 * with every section, explanation, view and check of the run, and two plots
 * drawn by gnuplot — memory over time (free, anonymous, page cache, shmem,
 * kernel, swap; sampled after every statement of the script or of a
 * first-level repeat) and the buddy
 * allocator's free areas per order at the start of each section and at the
 * end. The gnuplot scripts are always written beside the report; without
 * gnuplot the report says so and the run still succeeds.
 *
 * Standard output holds only the scenario's text (stable: no paths, no
 * times), so it can be compared with a golden file; where the report went
 * is said on standard error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmkit/sim.h"
#include "scenario_out.h"

extern const char mmsim_demo_scenario[];
extern const size_t mmsim_demo_scenario_len;

enum { OPT_OUT = 1, OPT_FORMAT, OPT_SCENARIO, OPT_QUIET, OPT_HELP };

static const struct cli_opt opts[] = {
	{ "out", 'o', CLI_ARG_REQUIRED, OPT_OUT },
	{ "format", 'f', CLI_ARG_REQUIRED, OPT_FORMAT },
	{ "scenario", 's', CLI_ARG_REQUIRED, OPT_SCENARIO },
	{ "quiet", 'q', CLI_ARG_NONE, OPT_QUIET },
	{ "help", 'h', CLI_ARG_NONE, OPT_HELP },
};

#define DEMO_MAX_SNAPS  12 /* buddy snapshots plotted */
#define DEMO_MAX_ORDERS 16
#define DEMO_LABEL      48

/* Free blocks per order, summed over the zones of /proc/buddyinfo. */
struct snap {
	char label[DEMO_LABEL]; /* the section's title up to its first ':' */
	double step;            /* the step it was taken at (the section's start) */
	double free[DEMO_MAX_ORDERS];
	int norders;
};

/* What the report is writing now: consecutive lines of one kind group. */
enum mode { M_NONE, M_TEXT, M_CODE, M_LIST };

struct demo {
	struct sc_out out; /* the text on stdout */
	FILE *body;        /* the report's body (a memory stream) */
	char *body_buf;
	size_t body_len;
	bool html;
	enum mode mode;
	struct sc_sample *samples;
	size_t nsamples, capsamples;
	bool nomem;
	struct snap snaps[DEMO_MAX_SNAPS];
	size_t nsnaps;
	struct snap last; /* after the latest step */
	bool have_last;
	char pending[DEMO_LABEL]; /* a section began: snapshot at the next step */
	bool want_snap;
	uint64_t swap_seen; /* any swap used: plot it */
};

/* ---- Writing the report ------------------------------------------------- */

static void esc(struct demo *d, const char *s)
{
	if (!d->html) {
		fputs(s, d->body);
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", d->body);
			break;
		case '>':
			fputs("&gt;", d->body);
			break;
		case '&':
			fputs("&amp;", d->body);
			break;
		case '"':
			fputs("&quot;", d->body);
			break;
		default:
			fputc(*s, d->body);
		}
	}
}

static void set_mode(struct demo *d, enum mode m)
{
	if (d->mode == m)
		return;
	switch (d->mode) {
	case M_TEXT:
		fputs(d->html ? "</p>\n" : "\n", d->body);
		break;
	case M_CODE:
		fputs(d->html ? "</pre>\n" : "```\n\n", d->body);
		break;
	case M_LIST:
		fputs(d->html ? "</ul>\n" : "\n", d->body);
		break;
	case M_NONE:
		break;
	}
	switch (m) {
	case M_TEXT:
		fputs(d->html ? "<p>" : "", d->body);
		break;
	case M_CODE:
		fputs(d->html ? "<pre>" : "```text\n", d->body);
		break;
	case M_LIST:
		fputs(d->html ? "<ul>\n" : "", d->body);
		break;
	case M_NONE:
		break;
	}
	d->mode = m;
}

/* Where a backslash keeps Markdown from reading a line as a heading, quote,
 * list item or rule instead of text ("# x", "> x", "- x", "3. x"): its
 * offset in the line, or -1 when the line is plain text. */
static int md_escape_at(const char *s)
{
	if (*s && strchr("#>-+*=", *s))
		return 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	bool item = p > s && (*p == '.' || *p == ')') && (!p[1] || p[1] == ' ' || p[1] == '\t');
	return item ? (int)(p - s) : -1;
}

static void rep_echo(void *ctx, const struct sc_where *w, const char *text)
{
	struct demo *d = ctx;
	sc_out_echo(&d->out, w, text);
	set_mode(d, M_TEXT);
	int at = d->html ? -1 : md_escape_at(text);
	if (at >= 0) {
		fwrite(text, 1, (size_t)at, d->body);
		fputc('\\', d->body);
		text += at;
	}
	esc(d, text);
	fputs("\n", d->body);
}

static void rep_section(void *ctx, const struct sc_where *w, const char *title)
{
	struct demo *d = ctx;
	sc_out_section(&d->out, w, title);
	set_mode(d, M_NONE);
	fputs(d->html ? "<h2>" : "## ", d->body);
	esc(d, title);
	fputs(d->html ? "</h2>\n" : "\n\n", d->body);
	snprintf(d->pending, sizeof(d->pending), "%s", title);
	d->want_snap = true;
}

static void rep_view(void *ctx, const struct sc_where *w, const char *prompt, const char *view,
		     int pid, const char *text)
{
	struct demo *d = ctx;
	sc_out_view(&d->out, w, prompt, view, pid, text);
	set_mode(d, M_NONE);
	set_mode(d, M_CODE);
	esc(d, prompt);
	fputc('\n', d->body);
	esc(d, text);
	size_t n = strlen(text);
	if (n && text[n - 1] != '\n')
		fputc('\n', d->body);
	set_mode(d, M_NONE);
}

static void rep_strace(void *ctx, const struct sc_where *w, const char *line)
{
	struct demo *d = ctx;
	sc_out_strace(&d->out, w, line);
	set_mode(d, M_CODE);
	esc(d, line);
	fputc('\n', d->body);
}

static void rep_expect(void *ctx, const struct sc_where *w, const char *src, bool ok, int64_t got,
		       int64_t want, const char *msg)
{
	struct demo *d = ctx;
	sc_out_expect(&d->out, w, src, ok, got, want, msg);
	set_mode(d, M_LIST);
	fputs(d->html ? "<li><code>" : "- `", d->body);
	esc(d, src);
	fputs(d->html ? "</code>" : "`", d->body);
	if (ok)
		fputs(": holds\n", d->body);
	else
		fprintf(d->body,
			d->html ? ": <strong>FAILED</strong> (got %lld)\n"
				: ": **FAILED** (got %lld)\n",
			(long long)got);
	if (d->html)
		fputs("</li>", d->body);
}

/* free blocks per order from /proc/buddyinfo ("Node 0, zone DMA  1 0 ...") */
static void parse_buddy(const char *text, struct snap *s)
{
	memset(s->free, 0, sizeof(s->free));
	s->norders = 0;
	for (const char *l = text; *l;) {
		const char *z = strstr(l, "zone");
		const char *e = strchr(l, '\n');
		if (z && (!e || z < e)) {
			const char *p = z + 4;
			while (*p == ' ')
				p++;
			while (*p && *p != ' ' && *p != '\n')
				p++; /* the zone's name */
			int k = 0;
			while (*p && *p != '\n' && k < DEMO_MAX_ORDERS) {
				char *end;
				double v = strtod(p, &end);
				if (end == p)
					break;
				s->free[k++] += v;
				p = end;
			}
			if (k > s->norders)
				s->norders = k;
		}
		if (!e)
			break;
		l = e + 1;
	}
}

static void rep_step(void *ctx, struct mm_machine *m, const struct sc_sample *smp)
{
	struct demo *d = ctx;
	if (d->nsamples == d->capsamples) {
		size_t cap = d->capsamples ? d->capsamples * 2 : 64;
		struct sc_sample *n = realloc(d->samples, cap * sizeof(*n));
		if (!n) {
			d->nomem = true;
			return;
		}
		d->samples = n;
		d->capsamples = cap;
	}
	d->samples[d->nsamples++] = *smp;
	d->swap_seen |= smp->swap_used;
	char buf[4096];
	size_t n = mm_show_buddyinfo(m, buf, sizeof(buf));
	if (n >= sizeof(buf))
		return;
	parse_buddy(buf, &d->last);
	d->have_last = true;
	if (d->want_snap && d->nsnaps < DEMO_MAX_SNAPS - 1) {
		struct snap *sn = &d->snaps[d->nsnaps++];
		*sn = d->last;
		/* "7. Memory pressure: kswapd, ..." -> "7. Memory pressure" */
		size_t len = strcspn(d->pending, ":");
		if (len >= DEMO_LABEL - 4)
			snprintf(sn->label, DEMO_LABEL, "%.*s...", DEMO_LABEL - 4, d->pending);
		else
			snprintf(sn->label, DEMO_LABEL, "%.*s", (int)len, d->pending);
		sn->step = (double)(smp->step ? smp->step - 1 : 0);
	}
	d->want_snap = false;
}

/* ---- Plots -------------------------------------------------------------- */

/* p's gnuplot script with `extra` commands (the key's place, the sections'
 * marks) before its plot command. NULL when out of memory. */
static char *demo_script(const struct plot *p, const char *png, const char *extra, size_t *len)
{
	char *buf = NULL, *out = NULL;
	size_t n = 0, outlen = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return NULL;
	plot_write_script(m, p, png);
	if (fclose(m))
		return NULL;
	const char *at = strstr(buf, "\nplot ");
	size_t head = at ? (size_t)(at - buf) + 1 : n;
	m = open_memstream(&out, &outlen);
	if (m) {
		fwrite(buf, 1, head, m);
		fputs(extra, m);
		fwrite(buf + head, 1, n - head, m);
		if (fclose(m))
			out = NULL;
	}
	free(buf);
	*len = outlen;
	return out;
}

/* Write DIR/NAME.gp and, with gnuplot, DIR/NAME.png. 0, EXIT_IO or
 * EXIT_NOMEM after a message; *drawn says whether the PNG was made. */
static int one_plot(const char *dir, const char *name, const struct plot *p, const char *extra,
		    bool gnuplot, bool *drawn)
{
	char png[4096], gp[4096];
	snprintf(png, sizeof(png), "%s/%s.png", dir, name);
	snprintf(gp, sizeof(gp), "%s/%s.gp", dir, name);
	size_t len;
	char *script = demo_script(p, png, extra, &len);
	if (!script)
		return EXIT_NOMEM;
	FILE *f = fopen(gp, "w");
	if (!f) {
		mmsim_err("demo", "cannot write %s: %s", gp, strerror(errno));
		free(script);
		return EXIT_IO;
	}
	fwrite(script, 1, len, f);
	if (ferror(f) | fclose(f)) {
		mmsim_err("demo", "error writing %s: %s", gp, strerror(errno ? errno : EIO));
		free(script);
		return EXIT_IO;
	}
	*drawn = false;
	if (gnuplot) {
		fflush(stdout);
		FILE *g = popen("gnuplot", "w");
		int st = -1;
		if (g) {
			fwrite(script, 1, len, g);
			st = pclose(g);
		}
		if (st == 0)
			*drawn = true;
		else /* the report says the plot is missing */
			mmsim_err("demo", "gnuplot failed: the plot %s was not drawn (its script: %s)",
				  png, gp);
	}
	free(script);
	return 0;
}

static int plots(struct demo *d, const char *dir, bool *mem_drawn, bool *buddy_drawn)
{
	bool gnuplot = plot_gnuplot_in_path();
	size_t n = d->nsamples;
	if (n == 0) /* the machine never ran: nothing to draw */
		return 0;
	double *x = calloc(n ? n : 1, sizeof(double));
	double *y[6];
	for (int i = 0; i < 6; i++)
		y[i] = calloc(n ? n : 1, sizeof(double));
	int rc = 0;
	if (!x || !y[0] || !y[1] || !y[2] || !y[3] || !y[4] || !y[5]) {
		rc = EXIT_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sc_sample *s = &d->samples[i];
		double mib = 4096.0 / (1 << 20);
		x[i] = (double)s->step;
		y[0][i] = (double)s->free * mib;
		y[1][i] = (double)s->anon * mib;
		y[2][i] = (double)(s->cached - (s->shmem < s->cached ? s->shmem : s->cached)) * mib;
		y[3][i] = (double)s->shmem * mib;
		y[4][i] = (double)(s->slab + s->pagetables) * mib;
		y[5][i] = (double)s->swap_used * mib;
	}
	static const char *const names[6] = {
		"free",     "anonymous", "page cache", "shmem", "kernel (slab + page tables)",
		"swap used"
	};
	struct plot_series ms[6];
	size_t nms = 0;
	for (int i = 0; i < 6; i++) {
		if (i == 5 && !d->swap_seen)
			continue;
		ms[nms++] = (struct plot_series){ .name = names[i], .n = n, .x = x, .y = y[i] };
	}
	struct plot mp = { .title = "Memory over time (sampled after every statement)",
			   .xlabel = "statements run",
			   .ylabel = "MiB",
			   .nseries = nms,
			   .series = ms };
	/* the key below the plot, clear of the curves; a dotted line and the
	 * number where each section starts */
	char *extra = NULL;
	size_t extralen = 0;
	FILE *ex = open_memstream(&extra, &extralen);
	if (!ex) {
		rc = EXIT_NOMEM;
		goto out;
	}
	fputs("set key outside below center horizontal\n", ex);
	for (size_t i = 0; i < d->nsnaps; i++) {
		const struct snap *sn = &d->snaps[i];
		fprintf(ex, "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead dt 3 "
			    "lc rgb 'gray50'\n", sn->step, sn->step);
		char num[8];
		snprintf(num, sizeof(num), "%.*s", (int)strspn(sn->label, "0123456789"),
			 sn->label);
		fprintf(ex, "set label '%s' at %.10g, graph 0.97 offset 0.4,0 left\n",
			num[0] ? num : "|", sn->step);
	}
	if (fclose(ex)) {
		rc = EXIT_NOMEM;
		goto out;
	}
	rc = one_plot(dir, "memory", &mp, extra, gnuplot, mem_drawn);
	free(extra);
	if (rc)
		goto out;

	/* buddy free areas: the snapshots plus the end */
	struct snap *snaps = d->snaps;
	size_t ns = d->nsnaps;
	if (d->have_last) {
		snaps[ns] = d->last;
		snprintf(snaps[ns].label, DEMO_LABEL, "end");
		ns++;
	}
	double orders[DEMO_MAX_ORDERS];
	for (int k = 0; k < DEMO_MAX_ORDERS; k++)
		orders[k] = k;
	struct plot_series bs[DEMO_MAX_SNAPS];
	for (size_t i = 0; i < ns; i++)
		bs[i] = (struct plot_series){ .name = snaps[i].label,
					      .n = (size_t)snaps[i].norders,
					      .x = orders,
					      .y = snaps[i].free };
	struct plot bp = { .title = "Buddy allocator: free blocks per order (all zones)",
			   .xlabel = "order (block of 2^order pages)",
			   .ylabel = "free blocks",
			   .nseries = ns,
			   .series = bs };
	/* gnuplot has 8 line colours: the ninth line (the end) gets its own */
	rc = one_plot(dir, "buddy", &bp,
		      "set linetype 9 lc rgb '#8b4513' dt 2\n",
		      gnuplot, buddy_drawn);
out:
	free(x);
	for (int i = 0; i < 6; i++)
		free(y[i]);
	return rc;
}

/* ---- The report file ---------------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(buf, &st) || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static void put_plot(FILE *f, bool html, const char *name, const char *alt, bool drawn,
		     bool nodata)
{
	if (nodata) {
		fputs(html ? "<p><em>No plot: the scenario never started the machine.</em></p>\n"
			   : "*No plot: the scenario never started the machine.*\n\n",
		      f);
	} else if (drawn) {
		if (html)
			fprintf(f, "<p><img src=\"%s.png\" alt=\"%s\"></p>\n", name, alt);
		else
			fprintf(f, "![%s](%s.png)\n\n", alt, name);
	} else if (html) {
		fprintf(f,
			"<p><em>gnuplot was not found (or failed): this plot was not drawn. "
			"Its script is <code>%s.gp</code>; run <code>gnuplot %s.gp</code> "
			"once gnuplot is installed.</em></p>\n",
			name, name);
	} else {
		fprintf(f,
			"*gnuplot was not found (or failed): this plot was not drawn. Its "
			"script is `%s.gp`; run `gnuplot %s.gp` once gnuplot is installed.*\n\n",
			name, name);
	}
}

static int write_report(struct demo *d, const char *dir, const char *scenario, const char *src,
			size_t srclen, const struct sc_result *res, bool mem_drawn,
			bool buddy_drawn, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/report.%s", dir, d->html ? "html" : "md");
	FILE *f = fopen(path, "w");
	if (!f) {
		mmsim_err("demo", "cannot write %s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	const bool h = d->html;
	if (h)
		fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
		      "<title>mmsim "
		      "demo</title>\n<style>body{font-family:sans-serif;max-width:60em;"
		      "margin:auto} pre{background:#f4f4f4;padding:.5em;overflow-x:auto}</style>\n"
		      "</head><body>\n<h1>mmsim demo: the memory of a process, step by step</h1>\n",
		      f);
	else
		fputs("# mmsim demo: the memory of a process, step by step\n\n", f);
	fprintf(f,
		h ? "<p>The scenario <code>%s</code> run on mmkit's simulated machine by "
		    "<code>mmsim demo</code> (mmsim %s). Each section shows the views that tell "
		    "its part of the story and checks it with <code>expect</code>; the plots "
		    "and the scenario itself are at the end.</p>\n"
		  : "The scenario `%s` run on mmkit's simulated machine by `mmsim demo` "
		    "(mmsim %s). Each section shows the views that tell its part of the story "
		    "and checks it with `expect`; the plots and the scenario itself are at the "
		    "end.\n\n",
		scenario, MMSIM_VERSION);
	fwrite(d->body_buf, 1, d->body_len, f);
	fputs(h ? "<h2>Memory over time</h2>\n" : "## Memory over time\n\n", f);
	fputs(h ? "<p>Sampled after every statement of the scenario (and of its first-level repeat "
		  "loops). Dotted lines mark where each section starts, numbered as above.</p>\n"
		: "Sampled after every statement of the scenario (and of its first-level repeat "
		  "loops). Dotted lines mark where each section starts, numbered as above.\n\n",
	      f);
	put_plot(f, h, "memory", "memory over time", mem_drawn, !d->nsamples);
	fputs(h ? "<h2>Buddy allocator: free areas</h2>\n" : "## Buddy allocator: free areas\n\n",
	      f);
	fputs(h ? "<p>Free blocks of each order (all zones, as /proc/buddyinfo counts them) at "
		  "the start of each section and at the end. A block of order n is 2^n pages: a "
		  "fresh machine keeps its free memory in a few large blocks (order 10: 4 MiB); "
		  "once memory has been filled and freed page by page it is split into many "
		  "small ones (external fragmentation), which merge again only when both "
		  "buddies are free.</p>\n"
		: "Free blocks of each order (all zones, as /proc/buddyinfo counts them) at the "
		  "start of each section and at the end. A block of order n is 2^n pages: a "
		  "fresh machine keeps its free memory in a few large blocks (order 10: 4 MiB); "
		  "once memory has been filled and freed page by page it is split into many "
		  "small ones (external fragmentation), which merge again only when both "
		  "buddies are free.\n\n",
	      f);
	put_plot(f, h, "buddy", "buddy free areas per order", buddy_drawn, !d->nsamples);
	fputs(h ? "<h2>Result</h2>\n<p>" : "## Result\n\n", f);
	fprintf(f, "%llu expects: %llu passed, %llu failed; %llu steps.",
		(unsigned long long)res->expects,
		(unsigned long long)(res->expects - res->expects_failed),
		(unsigned long long)res->expects_failed, (unsigned long long)res->steps);
	if (res->msg[0]) {
		fputs(h ? " The run stopped: " : " The run stopped: `", f);
		struct demo tmp = *d;
		tmp.body = f;
		esc(&tmp, res->msg);
		fputs(h ? "" : "`", f);
	}
	fputs(h ? "</p>\n<h2>The scenario</h2>\n<pre>" : "\n\n## The scenario\n\n```text\n", f);
	struct demo tmp = *d;
	tmp.body = f;
	char *copy = malloc(srclen + 1);
	if (copy) {
		memcpy(copy, src, srclen);
		copy[srclen] = 0;
		esc(&tmp, copy);
		free(copy);
	}
	if (srclen && src[srclen - 1] != '\n')
		fputc('\n', f);
	fputs(h ? "</pre>\n</body></html>\n" : "```\n", f);
	if (ferror(f) | fclose(f)) {
		mmsim_err("demo", "error writing %s: %s", path, strerror(errno ? errno : EIO));
		return EXIT_IO;
	}
	return 0;
}

/* ---- The command -------------------------------------------------------- */

static int read_whole(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		mmsim_err("demo", "%s: %s", path, strerror(errno));
		return EXIT_IO;
	}
	errno = 0;
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	while (b) {
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
		if (n == cap) {
			if (cap >= (64u << 20)) {
				free(b);
				fclose(f);
				mmsim_err("demo", "%s: larger than 64 MiB", path);
				return EXIT_INPUT;
			}
			char *nb = realloc(b, cap * 2);
			if (!nb)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	int err = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	if (!b) {
		mmsim_err("demo", "out of memory");
		return EXIT_NOMEM;
	}
	if (err) {
		free(b);
		mmsim_err("demo", "%s: %s", path, strerror(err));
		return EXIT_IO;
	}
	*out = b;
	*len = n;
	return 0;
}

static int run_demo(int argc, char **argv)
{
	struct cli c;
	const char *arg, *dir = "out", *scenario = NULL;
	bool html = false, quiet = false;
	int id;
	cli_init(&c, "demo", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	while ((id = cli_next(&c, &arg)) != CLI_END) {
		switch (id) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_POSITIONAL:
			return mmsim_usage_err("demo", "unexpected argument '%s'", arg);
		case OPT_OUT:
			if (!*arg)
				return mmsim_usage_err("demo", "--out: empty directory name");
			dir = arg;
			break;
		case OPT_FORMAT:
			if (strcmp(arg, "md") == 0 || strcmp(arg, "markdown") == 0)
				html = false;
			else if (strcmp(arg, "html") == 0)
				html = true;
			else
				return mmsim_usage_err(
					"demo", "--format: expected md or html, not '%s'", arg);
			break;
		case OPT_SCENARIO:
			scenario = arg;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_HELP:
			mmsim_print_help(&mmsim_cmd_demo, stdout);
			return EXIT_OK;
		}
	}
	char *src = NULL;
	size_t srclen = 0;
	const char *name = "examples/scenarios/demo.mms";
	if (scenario) {
		int rc = read_whole(scenario, &src, &srclen);
		if (rc)
			return rc;
		name = scenario;
	}
	struct sc_limits lim;
	sc_limits_default(&lim);
	struct sc_script *s;
	struct sc_result res;
	if (scenario)
		sc_parse_buffer(name, src, srclen, &lim, &s, &res);
	else
		sc_parse_buffer(name, mmsim_demo_scenario, mmsim_demo_scenario_len, &lim, &s, &res);
	if (res.status) {
		free(src);
		mmsim_err("demo", "%s", res.msg);
		return res.status;
	}
	if (mkdir_p(dir)) {
		mmsim_err("demo", "cannot create the directory %s: %s", dir, strerror(errno));
		sc_script_free(s);
		free(src);
		return EXIT_IO;
	}
	struct demo d;
	memset(&d, 0, sizeof(d));
	d.html = html;
	d.body = open_memstream(&d.body_buf, &d.body_len);
	if (!d.body) {
		sc_script_free(s);
		free(src);
		mmsim_err("demo", "out of memory");
		return EXIT_NOMEM;
	}
	struct sc_sink sink;
	sc_out_init(&d.out, &sink, "demo", name, false, quiet);
	sink.echo = rep_echo;
	sink.section = rep_section;
	sink.view = rep_view;
	sink.strace = rep_strace;
	sink.expect = rep_expect;
	sink.step = rep_step;
	sink.ctx = &d;
	struct sc_run_opts ro = { .lim = &lim };
	sc_run(s, &ro, &sink, &res);
	sc_script_free(s);
	set_mode(&d, M_NONE);
	int rc = fclose(d.body) ? EXIT_NOMEM : 0;
	bool mem_drawn = false, buddy_drawn = false;
	char path[4200];
	if (!rc && d.nomem)
		rc = EXIT_NOMEM;
	if (!rc)
		rc = plots(&d, dir, &mem_drawn, &buddy_drawn);
	if (!rc)
		rc = write_report(&d, dir, name, scenario ? src : mmsim_demo_scenario,
				  scenario ? srclen : mmsim_demo_scenario_len, &res, mem_drawn,
				  buddy_drawn, path, sizeof(path));
	free(d.body_buf);
	free(d.samples);
	free(src);
	int out = sc_out_finish(&d.out, &res);
	if (rc == EXIT_NOMEM)
		mmsim_err("demo", "out of memory");
	if (rc)
		return rc;
	fflush(stdout);
	fprintf(stderr, "mmsim demo: report written to %s", path);
	if (mem_drawn && buddy_drawn)
		fprintf(stderr, " with plots %s/memory.png and %s/buddy.png\n", dir, dir);
	else if (!d.nsamples)
		fprintf(stderr, " (no plots: the scenario never started the machine)\n");
	else
		fprintf(stderr,
			" (%s: no plots; scripts %s/memory.gp and %s/buddy.gp)\n",
			plot_gnuplot_in_path() ? "gnuplot failed" : "gnuplot not found", dir, dir);
	return out;
}

const struct mmsim_cmd mmsim_cmd_demo = {
	.name = "demo",
	.summary = "the whole story on a bundled scenario, with a report and plots",
	.help = "Usage: mmsim demo [--out DIR] [--format md|html] [--scenario FILE] [--quiet]\n"
		"\n"
		"Run the bundled scenario (examples/scenarios/demo.mms, built in): a\n"
		"process starts and is laid out, grows its heap with brk and maps memory,\n"
		"touches it (demand paging, the TLB), forks (copy-on-write), shares\n"
		"memory, maps a file, comes under memory pressure (kswapd, swap, page\n"
		"replacement) and runs out of memory (the OOM killer). The views\n"
		"of each step are printed as 'mmsim run' prints them, and a report is\n"
		"written into DIR: report.md (or report.html) with every step, check and\n"
		"view, a plot of memory over time and one of the buddy allocator's free\n"
		"areas per order (PNG, drawn by gnuplot; without gnuplot the report says\n"
		"so and the run still succeeds; the gnuplot scripts are always written).\n"
		"\n"
		"Options:\n"
		"  -o, --out DIR          where the report goes (default out; created)\n"
		"  -f, --format FMT       md (default) or html\n"
		"  -s, --scenario FILE    run FILE instead of the bundled scenario\n"
		"  -q, --quiet            print nothing on stdout but the failures\n"
		"  -h, --help             this help\n",
	.run = run_demo,
};
