/* plot.c — line plots through gnuplot (PNG or SVG).
 *
 * The data travel inside the script as gnuplot data blocks ($s0 << EOD), so
 * one script is the whole plot: no temporary files, and `--plot-script` can
 * save exactly what is run. The script picks pngcairo when this gnuplot has
 * it and falls back to the libgd png terminal. Strings are written in single
 * quotes, where gnuplot takes '' for a quote and nothing else is special.
 *
 * gnuplot is found in PATH and run with popen(); when it is missing the
 * caller is told (EXIT_IO) and may still have written its other outputs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmsim.h"

#define PLOT_WIDTH  960
#define PLOT_HEIGHT 600

const char *plot_kind(const char *output)
{
	const char *dot = strrchr(output, '.');
	if (!dot)
		return NULL;
	if (strcasecmp(dot, ".png") == 0)
		return "png";
	if (strcasecmp(dot, ".svg") == 0)
		return "svg";
	return NULL;
}

/* A gnuplot single-quoted string. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if (*s != '\n')
			fputc(*s, f);
	}
	fputc('\'', f);
}

void plot_write_script(FILE *f, const struct plot *p, const char *output)
{
	const char *kind = plot_kind(output);
	fputs("# written by mmsim; run with: gnuplot THIS-FILE\n", f);
	if (kind && strcmp(kind, "svg") == 0) {
		fprintf(f, "set terminal svg size %d,%d dynamic\n", PLOT_WIDTH, PLOT_HEIGHT);
	} else {
		fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
			   "  set terminal pngcairo size %d,%d\n"
			   "} else {\n"
			   "  set terminal png size %d,%d\n"
			   "}\n", PLOT_WIDTH, PLOT_HEIGHT, PLOT_WIDTH, PLOT_HEIGHT);
	}
	fputs("set termoption noenhanced\n", f);
	fputs("set output ", f);
	put_quoted(f, output);
	fputs("\nset title ", f);
	put_quoted(f, p->title);
	fputs("\nset xlabel ", f);
	put_quoted(f, p->xlabel);
	fputs("\nset ylabel ", f);
	put_quoted(f, p->ylabel);
	fputs("\nset yrange [0:*]\nset grid\nset key top right\n", f);

	/* the anomaly sizes, written on the plot next to their points */
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		for (size_t k = 0; k < s->nmarks; k++) {
			char text[160];
			snprintf(text, sizeof(text), "%s: %g frames", s->name, s->mx[k]);
			fputs("set label ", f);
			put_quoted(f, text);
			fprintf(f, " at %.10g,%.10g offset 1,1\n", s->mx[k], s->my[k]);
		}
	}
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		fprintf(f, "$s%zu << EOD\n", i);
		for (size_t k = 0; k < s->n; k++)
			fprintf(f, "%.10g %.10g\n", s->x[k], s->y[k]);
		fputs("EOD\n", f);
		if (s->nmarks) {
			fprintf(f, "$m%zu << EOD\n", i);
			for (size_t k = 0; k < s->nmarks; k++)
				fprintf(f, "%.10g %.10g\n", s->mx[k], s->my[k]);
			fputs("EOD\n", f);
		}
	}
	fputs("plot", f);
	bool first = true, marks_titled = false;
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		fprintf(f, "%s $s%zu with %s title ", first ? "" : ", \\\n    ", i,
			p->with ? p->with : "linespoints lw 2 pt 7 ps 0.6");
		put_quoted(f, s->name);
		first = false;
	}
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		if (!s->nmarks)
			continue;
		fprintf(f, ", \\\n     $m%zu with points pt 6 ps 2.5 lw 2 lc rgb 'red' ", i);
		if (marks_titled || !p->marks_label) {
			fputs("notitle", f);
		} else {
			fputs("title ", f);
			put_quoted(f, p->marks_label);
			marks_titled = true;
		}
	}
	fputs("\n", f);
}

/* Is there an executable `name` in PATH? */
static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		return false;
	char buf[4096];
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && len + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

int plot_render(const char *cmd, const struct plot *p, const char *output)
{
	if (!in_path("gnuplot")) {
		mmsim_err(cmd, "gnuplot not found in PATH: the plot %s was not drawn (install "
			  "gnuplot, e.g. apt-get install gnuplot-nox; --plot-script FILE saves the "
			  "script to run later)", output);
		return EXIT_IO;
	}
	fflush(stdout);
	FILE *g = popen("gnuplot", "w");
	if (!g) {
		mmsim_err(cmd, "cannot run gnuplot: %s", strerror(errno));
		return EXIT_IO;
	}
	plot_write_script(g, p, output);
	int st = pclose(g);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		mmsim_err(cmd, "gnuplot failed (status %d): the plot %s may be missing or incomplete",
			  st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), output);
		return EXIT_IO;
	}
	return 0;
}
