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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmsim.h"

#define PLOT_WIDTH  960
#define PLOT_HEIGHT 600
#define SMALL_X_RANGE 20    /* integer x ranges up to this get a tick per integer */
#define PLOT_COLOURS  8     /* gnuplot's default line colours; then dashed lines */
#define KEY_CHAR_PX   10    /* legend layout estimate: a character of the title, */
#define KEY_SAMPLE_PX 80    /* the line sample and gaps of an entry, */
#define KEY_ROW_PX    20    /* a row of entries */

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

/* Are all x values integers within a range of at most SMALL_X_RANGE (frame
 * counts, orders)? Then every integer gets its tick, never 1.5 frames. */
static bool small_integer_x(const struct plot *p)
{
	double lo = 0, hi = 0;
	bool any = false;
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		for (size_t k = 0; k < s->n; k++) {
			double x = s->x[k];
			if (!(x > -1e15 && x < 1e15) || x != (double)(long long)x)
				return false;
			if (!any || x < lo)
				lo = x;
			if (!any || x > hi)
				hi = x;
			any = true;
		}
	}
	return any && hi - lo <= SMALL_X_RANGE;
}

/* The legend goes below the plot, as many entries a row as fit: the image
 * grows by the rows past the first, so the plot area keeps its size with
 * many series or long titles. */
static int plot_height(const struct plot *p)
{
	size_t entries = 0, longest = 0;
	bool marks = false;
	for (size_t i = 0; i < p->nseries; i++) {
		size_t len = strlen(p->series[i].name);
		entries++;
		longest = len > longest ? len : longest;
		marks |= p->series[i].nmarks > 0;
	}
	if (marks && p->marks_label) {
		size_t len = strlen(p->marks_label);
		entries++;
		longest = len > longest ? len : longest;
	}
	size_t cols = PLOT_WIDTH / (longest * KEY_CHAR_PX + KEY_SAMPLE_PX);
	if (!cols)
		cols = 1;
	size_t rows = (entries + cols - 1) / cols;
	return PLOT_HEIGHT + (rows > 1 ? (int)(rows - 1) * KEY_ROW_PX : 0);
}

/* One x value, or y all 0 (an empty or one-size sweep): ranges of their
 * own, since gnuplot would widen them itself with a warning on stderr. */
static void degenerate_ranges(FILE *f, const struct plot *p)
{
	double lo = 0, hi = 0, ymax = 0;
	bool any = false;
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		for (size_t k = 0; k < s->n; k++) {
			if (!any || s->x[k] < lo)
				lo = s->x[k];
			if (!any || s->x[k] > hi)
				hi = s->x[k];
			if (s->y[k] > ymax)
				ymax = s->y[k];
			any = true;
		}
	}
	if (any && lo == hi)
		fprintf(f, "set xrange [%.10g:%.10g]\n", lo - 1, hi + 1);
	if (!(ymax > 0))
		fputs("set yrange [0:1]\n", f);
}

void plot_write_script(FILE *f, const struct plot *p, const char *output)
{
	const char *kind = plot_kind(output);
	int height = plot_height(p);
	fputs("# written by mmsim; run with: gnuplot THIS-FILE\n", f);
	if (kind && strcmp(kind, "svg") == 0) {
		fprintf(f, "set terminal svg size %d,%d dynamic\n", PLOT_WIDTH, height);
	} else {
		fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
			   "  set terminal pngcairo size %d,%d\n"
			   "} else {\n"
			   "  set terminal png size %d,%d\n"
			   "}\n", PLOT_WIDTH, height, PLOT_WIDTH, height);
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
	/* the legend below the plot, where it covers no curve or label, a
	 * line apart from the x label */
	fputs("\nset yrange [0:*]\nset grid\nset key below height 1\n", f);
	if (small_integer_x(p))
		fputs("set xtics 1\n", f);
	degenerate_ranges(f, p);

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
		/* the colours cycle after PLOT_COLOURS: the later series are
		 * dashed, so no two lines look the same */
		fprintf(f, "%s $s%zu with %s%s title ", first ? "" : ", \\\n    ", i,
			p->with ? p->with : "linespoints lw 2 pt 7 ps 0.6",
			i >= PLOT_COLOURS ? " dt 2" : "");
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

bool plot_gnuplot_in_path(void)
{
	return in_path("gnuplot");
}

int plot_render(const char *cmd, const struct plot *p, const char *output)
{
	if (!in_path("gnuplot")) {
		mmsim_err(cmd, "gnuplot not found in PATH: the plot %s was not drawn (install "
			  "gnuplot, e.g. apt-get install gnuplot-nox; --plot-script FILE saves the "
			  "script to run later)", output);
		return EXIT_IO;
	}
	/* an output gnuplot cannot open is told as every other output is
	 * (gnuplot's own message would say "output not changed") */
	int fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		mmsim_err(cmd, "cannot write %s: %s", output, strerror(errno));
		return EXIT_IO;
	}
	close(fd);
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
