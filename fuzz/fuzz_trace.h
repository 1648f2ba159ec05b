/* fuzz_trace.h — the checks every trace fuzz target runs on one input.
 *
 * Each fuzz/fuzz_trace_<fmt>.c picks reader options and calls fuzz_trace_run,
 * which reads the input twice, stopping at the first error and skipping bad
 * lines, and traps (crashing the fuzzer with the input saved) when any of
 * these breaks:
 *   - a stop is -MM_EPARSE, -MM_EIO or -MM_ENOMEM, with a "fuzz:LINE" message;
 *   - records come out with line numbers that never go down, a valid kind,
 *     time = the record's index unless the trace gave one, syscall fields in
 *     range;
 *   - skipping never stops on a parse error, yields at least the records the
 *     stopping read did, the same ones first, and skips nothing exactly when
 *     the stopping read found no bad line.
 * Sanitizers (ASan, UBSan) catch the rest: overflows, leaks, undefined
 * behaviour. The same entry points run without libFuzzer in the corpus replay
 * (fuzz/replay.c) that `make test` runs.
 */
#ifndef MMKIT_FUZZ_TRACE_H
#define MMKIT_FUZZ_TRACE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmkit/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_KEEP 512            /* records compared between the two reads */
#define FUZZ_OPEN_FAILED (-100000)   /* fuzz_read.rc when the open failed */

#define fuzz_check(c)                                                                   \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "fuzz_trace: check failed: %s (%s:%d)\n", #c,   \
				__FILE__, __LINE__);                                    \
			__builtin_trap();                                               \
		}                                                                       \
	} while (0)

struct fuzz_read {
	int rc;
	uint64_t n, skipped;
	struct mm_trace_rec keep[FUZZ_MAX_KEEP]; /* the first records */
};

static inline void fuzz_check_rec(const struct mm_trace_rec *r, uint64_t idx, uint64_t *line)
{
	fuzz_check(r->line >= 1 && r->line >= *line);
	*line = r->line;
	fuzz_check((unsigned)r->kind <= MM_TRACE_SYSCALL);
	if (!(r->flags & MM_TREC_TIME))
		fuzz_check(r->time == idx);
	if (!(r->flags & MM_TREC_SIZE) && r->kind != MM_TRACE_SYSCALL)
		fuzz_check(r->size == 0);
	if (r->kind == MM_TRACE_SYSCALL) {
		fuzz_check(r->sys.nargs <= MM_TRACE_SYS_MAXARGS);
		fuzz_check((unsigned)r->sys.which <= MM_SYS_MREMAP);
		fuzz_check(memchr(r->sys.name, 0, sizeof(r->sys.name)) != NULL);
		fuzz_check(r->sys.failed == 0 || r->sys.failed == 1);
	}
}

static inline void fuzz_read_once(const uint8_t *data, size_t size, const struct mm_trace_opts *o,
				  struct fuzz_read *out)
{
	char err[600];
	struct mm_trace_rec r;
	uint64_t line = 0;
	out->rc = 0;
	out->n = out->skipped = 0;
	struct mm_trace *t = mm_trace_open_mem(data, size, "fuzz", o, err, sizeof(err));
	if (!t) {
		out->rc = FUZZ_OPEN_FAILED;
		fuzz_check(strncmp(err, "fuzz", 4) == 0);
		return;
	}
	fuzz_check(mm_trace_format(t) != MM_TRACE_FMT_AUTO);
	while ((out->rc = mm_trace_next(t, &r)) == 1) {
		fuzz_check_rec(&r, out->n, &line);
		if (out->n < FUZZ_MAX_KEEP)
			out->keep[out->n] = r;
		out->n++;
	}
	fuzz_check(mm_trace_next(t, &r) == out->rc); /* the end sticks */
	fuzz_check(mm_trace_count(t) == out->n);
	out->skipped = mm_trace_skipped(t);
	const char *m = mm_trace_error(t);
	if (out->rc < 0) {
		fuzz_check(out->rc == -MM_EPARSE || out->rc == -MM_EIO || out->rc == -MM_ENOMEM);
		fuzz_check(m && strncmp(m, "fuzz:", 5) == 0 && m[5] >= '1' && m[5] <= '9');
	} else {
		fuzz_check(out->rc == 0);
	}
	if (out->skipped)
		fuzz_check(m != NULL);
	mm_trace_close(t);
}

static inline int fuzz_same(const struct mm_trace_rec *a, const struct mm_trace_rec *b)
{
	if (a->kind != b->kind || a->addr != b->addr || a->size != b->size ||
	    a->time != b->time || a->line != b->line || a->flags != b->flags)
		return 0;
	return a->kind != MM_TRACE_SYSCALL || memcmp(&a->sys, &b->sys, sizeof(a->sys)) == 0;
}

static inline void fuzz_trace_run(const uint8_t *data, size_t size, struct mm_trace_opts *o)
{
	static struct fuzz_read stop, skip; /* big: kept off the stack */
	o->flags &= ~MM_TRACE_SKIP_BAD;
	fuzz_read_once(data, size, o, &stop);
	o->flags |= MM_TRACE_SKIP_BAD;
	fuzz_read_once(data, size, o, &skip);
	fuzz_check((stop.rc == FUZZ_OPEN_FAILED) == (skip.rc == FUZZ_OPEN_FAILED));
	if (stop.rc != FUZZ_OPEN_FAILED) {
		fuzz_check(skip.rc != -MM_EPARSE);
		fuzz_check(stop.skipped == 0);
		fuzz_check(skip.n >= stop.n);
		uint64_t k = stop.n < FUZZ_MAX_KEEP ? stop.n : FUZZ_MAX_KEEP;
		for (uint64_t i = 0; i < k; i++)
			fuzz_check(fuzz_same(&stop.keep[i], &skip.keep[i]));
		if (stop.rc == 0)
			fuzz_check(skip.rc == 0 && skip.skipped == 0 && skip.n == stop.n);
		if (stop.rc == -MM_EPARSE)
			fuzz_check(skip.skipped >= 1);
		if (skip.rc == 0 && skip.skipped == 0)
			fuzz_check(stop.rc == 0);
	}
}

/* Take one byte of the input for option choices (0 when empty). */
static inline unsigned fuzz_take(const uint8_t **data, size_t *size)
{
	if (*size == 0)
		return 0;
	unsigned b = **data;
	(*data)++;
	(*size)--;
	return b;
}

#endif
