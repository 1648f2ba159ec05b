/* sweep_out.c — the results of `mmsim sweep`: each curve's misses from the
 * stack algorithm or the replayed runs, Belady's anomalies, and the outputs
 * (text table, JSON, CSV, gnuplot plot and script). cmd_sweep.c computes.
 *
 * An anomaly is a sampled size whose misses exceed those of the previous
 * sampled size: more frames, more faults. Only sizes that were sampled can
 * show one.
 */
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

/* ---- Results ------------------------------------------------------------ */

int sweep_collect(struct sweep *sw)
{
	for (size_t i = 0; i < sw->ncurves; i++) {
		struct curve *c = &sw->curves[i];
		c->misses = calloc(sw->nsizes, sizeof(*c->misses));
		c->anomaly = calloc(sw->nsizes, sizeof(*c->anomaly));
		if (!c->misses || !c->anomaly)
			return EXIT_NOMEM;
		for (size_t j = 0; j < sw->nsizes; j++) {
			if (c->stack) {
				c->misses[j] = mm_lru_stack_misses(sw->stack, sw->sizes[j]);
			} else {
				c->misses[j] = sw->run_misses[c->run0 + j];
			}
			if (j > 0 && c->misses[j] > c->misses[j - 1]) {
				c->anomaly[j] = true;
				c->nanomalies++;
			}
		}
	}
	return 0;
}

int sweep_check(const struct sweep *sw)
{
	int bad = 0;
	if (sw->engine_bad) {
		mmsim_err("sweep", "check failed: a run's counters or policy state are inconsistent");
		bad = 1;
	}
	if (mm_lru_stack_check(sw->stack)) {
		mmsim_err("sweep", "check failed: the stack algorithm's state is inconsistent");
		bad = 1;
	}
	for (size_t j = 0; j < sw->nsizes; j++) {
		uint64_t got = sw->run_misses[sw->check_run0 + j];
		uint64_t m = mm_lru_stack_misses(sw->stack, sw->sizes[j]);
		if (got != m) {
			mmsim_err("sweep", "check failed: lru at %zu frames: %llu misses replayed, "
				  "%llu by the stack algorithm", sw->sizes[j],
				  (unsigned long long)got, (unsigned long long)m);
			bad = 1;
		}
	}
	if (!bad)
		mmsim_err("sweep", "check passed: lru replayed at %zu sizes agrees with the stack "
			  "algorithm", sw->nsizes);
	return bad ? EXIT_CHECK : 0;
}

static double ratio(const struct sweep *sw, uint64_t misses)
{
	return sw->requests ? (double)misses / (double)sw->requests : 0.0;
}

static void print_text(const struct sweep *sw, FILE *f)
{
	fprintf(f, "# %s: %llu requests, %llu distinct ids; fault rate = misses / requests\n",
		sw->a->run.trace, (unsigned long long)sw->requests,
		(unsigned long long)mm_lru_stack_distinct(sw->stack));
	const char **heads = calloc(sw->ncurves + 1, sizeof(*heads));
	bool *right = calloc(sw->ncurves + 1, sizeof(*right));
	const char **row = calloc(sw->ncurves + 1, sizeof(*row));
	char (*cells)[24] = calloc(sw->ncurves + 1, sizeof(*cells));
	struct table t;
	if (!heads || !right || !row || !cells)
		goto out;
	heads[0] = "frames";
	for (size_t i = 0; i <= sw->ncurves; i++) {
		right[i] = true;
		if (i)
			heads[i] = sw->curves[i - 1].spec;
		row[i] = cells[i];
	}
	if (table_init(&t, sw->ncurves + 1, heads, right))
		goto out;
	for (size_t j = 0; j < sw->nsizes; j++) {
		snprintf(cells[0], sizeof(cells[0]), "%zu", sw->sizes[j]);
		for (size_t i = 0; i < sw->ncurves; i++) {
			fmt_ratio(cells[i + 1], sizeof(cells[0]), ratio(sw, sw->curves[i].misses[j]));
			/* in a curve with marks, unmarked cells end in a blank:
			 * the decimal points stay in one column */
			if (sw->curves[i].anomaly[j])
				strcat(cells[i + 1], "*");
			else if (sw->curves[i].nanomalies)
				strcat(cells[i + 1], " ");
		}
		if (table_add(&t, row))
			break;
	}
	table_print(&t, f);
	table_free(&t);
	size_t total = 0;
	for (size_t i = 0; i < sw->ncurves; i++)
		total += sw->curves[i].nanomalies;
	if (!total) {
		fputs("No Belady anomaly at these sizes.\n", f);
		goto out;
	}
	fputs("Belady's anomaly (*: more frames, more faults):\n", f);
	for (size_t i = 0; i < sw->ncurves; i++) {
		const struct curve *c = &sw->curves[i];
		for (size_t j = 1; j < sw->nsizes; j++)
			if (c->anomaly[j])
				fprintf(f, "  %s: %zu frames give %llu faults, %zu frames gave %llu\n",
					c->spec, sw->sizes[j], (unsigned long long)c->misses[j],
					sw->sizes[j - 1], (unsigned long long)c->misses[j - 1]);
	}
out:
	free(heads);
	free(right);
	free(row);
	free(cells);
}

static void print_json(const struct sweep *sw, FILE *f)
{
	struct jw w;
	jw_init(&w, f);
	w.compact = true;
	jw_begin_array(&w);
	for (size_t i = 0; i < sw->ncurves; i++) {
		const struct curve *c = &sw->curves[i];
		for (size_t j = 0; j < sw->nsizes; j++) {
			jw_begin_object(&w);
			jw_key(&w, "policy");     jw_str(&w, c->spec);
			jw_key(&w, "size");       jw_u64(&w, sw->sizes[j]);
			jw_key(&w, "requests");   jw_u64(&w, sw->requests);
			jw_key(&w, "misses");     jw_u64(&w, c->misses[j]);
			jw_key(&w, "miss_ratio"); jw_double(&w, ratio(sw, c->misses[j]));
			jw_key(&w, "anomaly");    jw_bool(&w, c->anomaly[j]);
			jw_key(&w, "method");     jw_str(&w, c->stack ? "stack" : "replay");
			jw_end_object(&w);
		}
	}
	jw_end_array(&w);
	jw_finish(&w);
}

static void print_csv(const struct sweep *sw, FILE *f)
{
	fputs("policy,size,requests,misses,miss_ratio,anomaly,method\n", f);
	for (size_t i = 0; i < sw->ncurves; i++) {
		const struct curve *c = &sw->curves[i];
		for (size_t j = 0; j < sw->nsizes; j++) {
			csv_field(f, c->spec, false);
			csv_u64(f, sw->sizes[j], false);
			csv_u64(f, sw->requests, false);
			csv_u64(f, c->misses[j], false);
			csv_double(f, ratio(sw, c->misses[j]), false);
			csv_u64(f, c->anomaly[j], false);
			csv_field(f, c->stack ? "stack" : "replay", true);
		}
	}
}

/* The plot and/or its script. */
static int do_plot(const struct sweep *sw)
{
	const struct sweep_args *a = sw->a;
	size_t n = sw->nsizes, nc = sw->ncurves;
	struct plot_series *series = calloc(nc, sizeof(*series));
	double *buf = calloc(n * 4 * nc + 1, sizeof(*buf));
	char title[512];
	int rc = 0;
	if (!series || !buf) {
		rc = EXIT_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nc; i++) {
		const struct curve *c = &sw->curves[i];
		double *x = buf + i * 4 * n, *y = x + n, *mx = y + n, *my = mx + n;
		size_t m = 0;
		for (size_t j = 0; j < n; j++) {
			x[j] = (double)sw->sizes[j];
			y[j] = ratio(sw, c->misses[j]);
			if (c->anomaly[j]) {
				mx[m] = x[j];
				my[m++] = y[j];
			}
		}
		series[i] = (struct plot_series){ .name = c->spec, .n = n, .x = x, .y = y,
						  .nmarks = m, .mx = mx, .my = my };
	}
	const char *base = strrchr(a->run.trace, '/');
	snprintf(title, sizeof(title), "Fault rate against frames: %s (%llu requests)",
		 base ? base + 1 : a->run.trace, (unsigned long long)sw->requests);
	struct plot p = {
		.title = title, .xlabel = "frames", .ylabel = "fault rate (misses / requests)",
		.marks_label = "Belady's anomaly", .nseries = nc, .series = series,
	};
	if (a->plot_script) {
		FILE *f = out_open("sweep", a->plot_script);
		if (!f) {
			rc = EXIT_IO;
			goto out;
		}
		plot_write_script(f, &p, a->plot);
		if ((rc = out_close("sweep", a->plot_script, f)))
			goto out;
	}
	rc = plot_render("sweep", &p, a->plot);
out:
	free(series);
	free(buf);
	return rc;
}

int sweep_write_outputs(struct sweep *sw)
{
	struct sweep_args *a = sw->a;
	int rc = 0;
	if (a->csv) {
		FILE *f = out_open("sweep", a->csv);
		if (!f)
			return EXIT_IO;
		print_csv(sw, f);
		if ((rc = out_close("sweep", a->csv, f)))
			return rc;
	}
	if (!a->csv || strcmp(a->csv, "-") != 0) {
		if (a->json)
			print_json(sw, stdout);
		else
			print_text(sw, stdout);
		if ((rc = out_close("sweep", "-", stdout)))
			return rc;
	}
	if (a->plot)
		rc = do_plot(sw);
	return rc;
}
