/* scenario_out.h — how mmsim run and mmsim demo print a scenario run: as
 * text (views after their shell prompt, echo and section lines, strace
 * lines) or as one JSON document (--json), and the failures of expect on
 * stderr either way.
 */
#ifndef MMSIM_SCENARIO_OUT_H
#define MMSIM_SCENARIO_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "mmsim.h"
#include "scenario.h"

struct sc_out {
	const char *cmd;   /* for messages: "run", "demo" */
	FILE *f;           /* stdout */
	bool quiet;        /* text: only failures and errors */
	bool json;
	struct jw w;       /* json: the writer */
	bool started;      /* text: something printed (a blank line goes before a section) */
};

/* Fill sink with the callbacks that print to o (text or JSON). For JSON the
 * document is opened here and closed by sc_out_finish. */
void sc_out_init(struct sc_out *o, struct sc_sink *sink, const char *cmd, const char *scenario,
		 bool json, bool quiet);

/* The end of the run: the JSON document's summary, or the text summary
 * line; the error message (res->msg) on stderr. Returns the exit code. */
int sc_out_finish(struct sc_out *o, const struct sc_result *res);

/* The text callbacks, for a sink that wraps them (demo): ctx is a
 * struct sc_out. */
void sc_out_echo(void *ctx, const struct sc_where *w, const char *text);
void sc_out_section(void *ctx, const struct sc_where *w, const char *title);
void sc_out_view(void *ctx, const struct sc_where *w, const char *prompt, const char *view,
		 int pid, const char *text);
void sc_out_strace(void *ctx, const struct sc_where *w, const char *line);
void sc_out_expect(void *ctx, const struct sc_where *w, const char *src, bool ok, int64_t got,
		   int64_t want, const char *msg);

#endif /* MMSIM_SCENARIO_OUT_H */
