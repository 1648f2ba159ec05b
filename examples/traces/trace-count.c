/* trace-count.c — read a trace with mmkit's trace API and count its records.
 *
 *   trace-count TRACE [PARAMS]      e.g. trace-count cache.csv "obj-id-col=2"
 *
 * Prints the format, the compression, the records of each kind and the read
 * time. It is the loop docs/traces.md measures ("Speed"), and an example of
 * the API. Build from the top of the tree after `make`:
 *
 *   cc -O2 -Iinclude examples/traces/trace-count.c build/libmmkit_trace_a.a \
 *      -lz -lzstd -o trace-count
 */
#include <stdio.h>
#include <time.h>

#include "mmkit/trace.h"

int main(int argc, char **argv)
{
	struct mm_trace_opts o;
	struct mm_trace_rec r;
	struct timespec t0, t1;
	unsigned long long n[MM_TRACE_SYSCALL + 1] = { 0 }, total = 0;
	char err[512];
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: trace-count TRACE [PARAMS]\n");
		return 2;
	}
	mm_trace_opts_init(&o);
	if (argc == 3 && mm_trace_opts_parse(&o, argv[2], err, sizeof(err)) != 0) {
		fprintf(stderr, "trace-count: %s\n", err);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct mm_trace *t = mm_trace_open(argv[1], &o, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "trace-count: %s\n", err);
		return 1;
	}
	while ((rc = mm_trace_next(t, &r)) == 1)
		n[r.kind]++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("%s: %s, %s\n", argv[1], mm_trace_fmt_name(mm_trace_format(t)),
	       mm_trace_compression(t));
	for (int k = 0; k <= MM_TRACE_SYSCALL; k++) {
		if (n[k])
			printf("  %-8s %llu\n", mm_trace_kind_name(k), n[k]);
		total += n[k];
	}
	printf("  records  %llu in %.3f s (%.1f M/s)\n", total, s, s > 0 ? total / s / 1e6 : 0.0);
	if (mm_trace_skipped(t))
		printf("  skipped  %llu bad lines; last: %s\n",
		       (unsigned long long)mm_trace_skipped(t), mm_trace_error(t));
	if (rc < 0)
		fprintf(stderr, "trace-count: %s\n", mm_trace_error(t));
	mm_trace_close(t);
	return rc < 0;
}
