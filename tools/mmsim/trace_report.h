/* trace_report.h — the options of `mmsim trace` and its report: the
 * summary (text or JSON), the views, the plots (trace_report.c).
 */
#ifndef MMSIM_TRACE_REPORT_H
#define MMSIM_TRACE_REPORT_H

#include "mmsim.h"
#include "trace_replay.h"

struct trace_args_all {
	struct replay_args run;      /* trace, --check, --progress, --num-req, trace options */
	struct mm_machine_config cfg;
	enum vma_mode vma;
	bool json;
	unsigned views;              /* bit k: view_names[k] of cmd_trace.c */
	uint64_t every;              /* --timeline N, 0: none */
	const char *csv, *plot, *plot_buddy, *plot_script;
};

struct trace_report {
	const struct trace_args_all *a;
	const struct replay *r;
	struct mm_machine *m;
	struct mm_trace *t;
};

/* The views --show knows, in order (bit k of trace_args_all.views). */
extern const char *const trace_view_names[];
extern const size_t trace_nviews;

/* Print the summary and the views (unless --csv -), draw the plots. 0 or an
 * exit code after a message. */
int trace_report(const struct trace_report *rep);

#endif /* MMSIM_TRACE_REPORT_H */
