/* out_table.c — aligned text tables, the default output of every command.
 *
 * Columns are as wide as their widest cell, separated by two spaces; numbers
 * are right-aligned and names left-aligned, as `free` and `vmstat` print.
 */
#include <stdlib.h>
#include <string.h>

#include "mmsim.h"

int table_init(struct table *t, size_t ncols, const char *const *heads, const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = calloc(ncols, sizeof(*t->heads));
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->heads || !t->right) {
		table_free(t);
		return -1;
	}
	for (size_t i = 0; i < ncols; i++) {
		t->heads[i] = heads[i];
		t->right[i] = right[i];
	}
	return 0;
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, nc * t->ncols * sizeof(*c));
		if (!c)
			return -1;
		t->cells = c;
		t->cap = nc;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i]);
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

static void print_row(const struct table *t, FILE *f, const char *const *cells, const size_t *w)
{
	for (size_t i = 0; i < t->ncols; i++) {
		bool last = i + 1 == t->ncols;
		int width = (int)w[i];
		if (t->right[i] && last) {
			/* aligned as the others, but no trailing blanks */
			int len = (int)strlen(cells[i]), n = len;
			while (n > 0 && cells[i][n - 1] == ' ')
				n--;
			fprintf(f, "%*s%.*s", width > len ? width - len : 0, "", n, cells[i]);
		} else if (t->right[i])
			fprintf(f, "%*s", width, cells[i]);
		else if (last)
			fputs(cells[i], f); /* no trailing blanks */
		else
			fprintf(f, "%-*s", width, cells[i]);
		fputs(last ? "\n" : "  ", f);
	}
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	if (!w)
		return;
	for (size_t i = 0; i < t->ncols; i++) {
		w[i] = strlen(t->heads[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = strlen(t->cells[r * t->ncols + i]);
			if (l > w[i])
				w[i] = l;
		}
	}
	print_row(t, f, t->heads, w);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, f, (const char *const *)(t->cells + r * t->ncols), w);
	free(w);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->heads);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

void fmt_ratio(char *buf, size_t len, double r)
{
	snprintf(buf, len, "%.4f", r);
}
