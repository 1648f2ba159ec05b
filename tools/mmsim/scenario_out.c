/* scenario_out.c — printing a scenario run as text or JSON (scenario_out.h).
 *
 * Text: a view is its shell prompt ("$ cat /proc/meminfo"), its text and a
 * blank line; `section` is a "==== TITLE ====" line; echo and strace lines
 * as they are; failed expects go to stderr as "mmsim CMD: FILE:LINE: expect
 * failed: ... (got X)", and the summary line ends the output.
 * JSON: one object {"scenario", "events": [...], "expects", "failed",
 * "status", "error"}; each event has a "type" (view, echo, section, strace,
 * expect), its "file" and "line"; views of rows (meminfo, vmstat, status)
 * also carry their numbers as "fields".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_out.h"

static void where(struct sc_out *o, const char *type, const struct sc_where *w)
{
	jw_begin_object(&o->w);
	jw_key(&o->w, "type");
	jw_str(&o->w, type);
	jw_key(&o->w, "file");
	jw_str(&o->w, w->file);
	jw_key(&o->w, "line");
	jw_u64(&o->w, (uint64_t)w->line);
}

static void jw_i64(struct jw *w, int64_t v)
{
	if (v >= 0)
		jw_u64(w, (uint64_t)v);
	else
		jw_double(w, (double)v);
}

void sc_out_echo(void *ctx, const struct sc_where *w, const char *text)
{
	struct sc_out *o = ctx;
	if (o->json) {
		where(o, "echo", w);
		jw_key(&o->w, "text");
		jw_str(&o->w, text);
		jw_end_object(&o->w);
		return;
	}
	if (!o->quiet) {
		fprintf(o->f, "%s\n", text);
		o->started = true;
	}
}

void sc_out_section(void *ctx, const struct sc_where *w, const char *title)
{
	struct sc_out *o = ctx;
	if (o->json) {
		where(o, "section", w);
		jw_key(&o->w, "title");
		jw_str(&o->w, title);
		jw_end_object(&o->w);
		return;
	}
	if (!o->quiet) {
		fprintf(o->f, "%s==== %s ====\n", o->started ? "\n" : "", title);
		o->started = true;
	}
}

/* "Key:   123 kB" / "key 123" rows as fields */
static void fields(struct jw *w, const char *text)
{
	jw_key(w, "fields");
	jw_begin_object(w);
	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		size_t k = 0;
		while (k < n && l[k] != ':' && l[k] != ' ' && l[k] != '\t')
			k++;
		size_t v = k;
		while (v < n && (l[v] == ':' || l[v] == ' ' || l[v] == '\t'))
			v++;
		if (k > 0 && k < 64 && v < n && isdigit((unsigned char)l[v])) {
			char key[64];
			memcpy(key, l, k);
			key[k] = 0;
			jw_key(w, key);
			jw_u64(w, strtoull(l + v, NULL, 10));
		}
		l += n + (e ? 1 : 0);
	}
	jw_end_object(w);
}

void sc_out_view(void *ctx, const struct sc_where *w, const char *prompt, const char *view, int pid,
		 const char *text)
{
	struct sc_out *o = ctx;
	if (o->json) {
		where(o, "view", w);
		jw_key(&o->w, "view");
		jw_str(&o->w, view);
		jw_key(&o->w, "pid");
		jw_u64(&o->w, (uint64_t)pid);
		jw_key(&o->w, "prompt");
		jw_str(&o->w, prompt);
		jw_key(&o->w, "text");
		jw_str(&o->w, text);
		if (strcmp(view, "meminfo") == 0 || strcmp(view, "vmstat") == 0 ||
		    strcmp(view, "status") == 0 || strcmp(view, "counters") == 0)
			fields(&o->w, text);
		jw_end_object(&o->w);
		return;
	}
	if (!o->quiet) {
		size_t n = strlen(text);
		fprintf(o->f, "%s\n%s%s\n", prompt, text, n && text[n - 1] != '\n' ? "\n" : "");
		o->started = true;
	}
}

void sc_out_strace(void *ctx, const struct sc_where *w, const char *line)
{
	struct sc_out *o = ctx;
	if (o->json) {
		where(o, "strace", w);
		jw_key(&o->w, "text");
		jw_str(&o->w, line);
		jw_end_object(&o->w);
		return;
	}
	if (!o->quiet) {
		fprintf(o->f, "%s\n", line);
		o->started = true;
	}
}

void sc_out_expect(void *ctx, const struct sc_where *w, const char *src, bool ok, int64_t got,
		   int64_t want, const char *msg)
{
	struct sc_out *o = ctx;
	if (!ok) {
		fflush(o->f);
		fprintf(stderr, "mmsim %s: %s:%d: %s\n", o->cmd, w->file, w->line, msg);
	}
	if (o->json) {
		where(o, "expect", w);
		jw_key(&o->w, "expect");
		jw_str(&o->w, src);
		jw_key(&o->w, "ok");
		jw_bool(&o->w, ok);
		jw_key(&o->w, "got");
		jw_i64(&o->w, got);
		jw_key(&o->w, "right");
		jw_i64(&o->w, want);
		jw_end_object(&o->w);
	}
}

void sc_out_init(struct sc_out *o, struct sc_sink *sink, const char *cmd, const char *scenario,
		 bool json, bool quiet)
{
	memset(o, 0, sizeof(*o));
	memset(sink, 0, sizeof(*sink));
	o->cmd = cmd;
	o->f = stdout;
	o->quiet = quiet;
	o->json = json;
	sink->echo = sc_out_echo;
	sink->section = sc_out_section;
	sink->view = sc_out_view;
	sink->strace = sc_out_strace;
	sink->expect = sc_out_expect;
	sink->ctx = o;
	if (json) {
		jw_init(&o->w, stdout);
		jw_begin_object(&o->w);
		jw_key(&o->w, "scenario");
		jw_str(&o->w, scenario);
		jw_key(&o->w, "events");
		jw_begin_array(&o->w);
		o->w.compact = false;
	}
}

static const char *status_word(int st)
{
	switch (st) {
	case SC_OK:
		return "ok";
	case SC_FAILED:
		return "failed";
	case SC_BADINPUT:
		return "bad input";
	case SC_IO:
		return "I/O error";
	default:
		return "out of memory";
	}
}

int sc_out_finish(struct sc_out *o, const struct sc_result *res)
{
	if (o->json) {
		jw_end_array(&o->w);
		jw_key(&o->w, "expects");
		jw_u64(&o->w, res->expects);
		jw_key(&o->w, "failed");
		jw_u64(&o->w, res->expects_failed);
		jw_key(&o->w, "steps");
		jw_u64(&o->w, res->steps);
		jw_key(&o->w, "status");
		jw_str(&o->w, status_word(res->status));
		jw_key(&o->w, "error");
		jw_str(&o->w, res->msg);
		jw_end_object(&o->w);
		jw_finish(&o->w);
	} else if (!o->quiet && res->expects) {
		fprintf(o->f, "%s%llu expects: %llu passed, %llu failed\n", o->started ? "\n" : "",
			(unsigned long long)res->expects,
			(unsigned long long)(res->expects - res->expects_failed),
			(unsigned long long)res->expects_failed);
	}
	if (res->msg[0]) {
		fflush(o->f);
		mmsim_err(o->cmd, "%s", res->msg);
	}
	int rc = out_close(o->cmd, "-", stdout);
	return rc ? rc : res->status;
}
