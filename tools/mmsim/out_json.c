/* out_json.c — a streaming JSON writer for --json.
 *
 * Values are written as they come, with commas and two-space indentation
 * handled here; `compact` keeps each object on one line, which suits the
 * lists of flat records the commands print (one record per line, still one
 * valid JSON document). Strings are escaped per RFC 8259; bytes >= 0x80 pass
 * through (the inputs here are ASCII names and paths).
 */
#include <math.h>
#include <string.h>

#include "mmsim.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

static void indent(struct jw *w)
{
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Before any value: the comma and the line break, unless it follows a key. */
static void before_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (w->compact && w->depth >= 2)
		fputc(' ', w->f);
	else
		indent(w);
}

static void open_(struct jw *w, char c)
{
	before_value(w);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct jw *w, char c)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty) {
		if (w->compact && w->depth >= 1)
			fputc(' ', w->f);
		else
			indent(w);
	}
	fputc(c, w->f);
}

void jw_begin_array(struct jw *w)  { open_(w, '['); }
void jw_end_array(struct jw *w)    { close_(w, ']'); }
void jw_begin_object(struct jw *w) { open_(w, '{'); }
void jw_end_object(struct jw *w)   { close_(w, '}'); }

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void jw_key(struct jw *w, const char *key)
{
	before_value(w);
	put_string(w->f, key);
	fputs(": ", w->f);
	w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
	before_value(w);
	put_string(w->f, s);
}

void jw_u64(struct jw *w, uint64_t v)
{
	before_value(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_double(struct jw *w, double v)
{
	before_value(w);
	if (isfinite(v))
		fprintf(w->f, "%.10g", v);
	else
		fputs("null", w->f);
}

void jw_bool(struct jw *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_finish(struct jw *w)
{
	fputc('\n', w->f);
}
