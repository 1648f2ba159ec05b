/* libFuzzer target: format detection and the gzip/zstd input layer. The
 * input is read with MM_TRACE_FMT_AUTO, so it may be any format, compressed
 * or not (the seed corpus holds gzip and zstd files); fuzz_trace.h has the
 * checks. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_trace_opts o;
	mm_trace_opts_init(&o);
	fuzz_trace_run(data, size, &o);
	o.flags |= MM_TRACE_ALL_SYSCALLS;
	o.max_line = 128;
	fuzz_trace_run(data, size, &o);
	return 0;
}
