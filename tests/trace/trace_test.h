/* Helpers shared by the trace tests: read a whole in-memory trace into an
 * array of records, with the final status, message and skip count. */
#ifndef MMKIT_TRACE_TEST_H
#define MMKIT_TRACE_TEST_H

#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmkit/trace.h"
#include "testutil.h"

#define TT_OPEN_FAILED (-100000)     /* tt_run.rc when the open failed */

struct tt_run {
	struct mm_trace_rec *r;      /* records read */
	size_t n, cap;
	int rc;                      /* last mm_trace_next result; TT_OPEN_FAILED if open failed */
	enum mm_trace_fmt fmt;       /* detected or chosen format */
	uint64_t skipped;
	char err[600];               /* open error or mm_trace_error(), "" if none */
};

static inline void tt_push(struct tt_run *run, const struct mm_trace_rec *r)
{
	if (run->n == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 64;
		run->r = realloc(run->r, run->cap * sizeof(*run->r));
		assert_non_null(run->r);
	}
	run->r[run->n++] = *r;
}

/* Read data[0, len) named "t" with the given parameters (NULL: defaults). */
static inline void tt_read_opts(struct tt_run *run, const void *data, size_t len,
				const struct mm_trace_opts *o)
{
	char err[600];
	struct mm_trace_rec rec;
	memset(run, 0, sizeof(*run));
	struct mm_trace *t = mm_trace_open_mem(data, len, "t", o, err, sizeof(err));
	if (!t) {
		run->rc = TT_OPEN_FAILED;
		snprintf(run->err, sizeof(run->err), "%s", err);
		return;
	}
	run->fmt = mm_trace_format(t);
	while ((run->rc = mm_trace_next(t, &rec)) == 1)
		tt_push(run, &rec);
	/* the end, or the error, sticks */
	assert_int_equal(mm_trace_next(t, &rec), run->rc);
	run->skipped = mm_trace_skipped(t);
	const char *m = mm_trace_error(t);
	snprintf(run->err, sizeof(run->err), "%s", m ? m : "");
	assert_int_equal(mm_trace_count(t), run->n);
	mm_trace_close(t);
}

static inline void tt_read(struct tt_run *run, const char *data, size_t len, const char *params)
{
	struct mm_trace_opts o;
	char err[300];
	mm_trace_opts_init(&o);
	if (params && mm_trace_opts_parse(&o, params, err, sizeof(err)) != 0)
		fail_msg("bad test parameters '%s': %s", params, err);
	tt_read_opts(run, data, len, &o);
}

static inline void tt_reads(struct tt_run *run, const char *s, const char *params)
{
	tt_read(run, s, strlen(s), params);
}

static inline void tt_free(struct tt_run *run)
{
	free(run->r);
	run->r = NULL;
}

#endif
