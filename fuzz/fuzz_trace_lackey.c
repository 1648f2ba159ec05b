/* libFuzzer target: the valgrind lackey reader (fuzz_trace.h has the checks).
 * Each input is read with and without MM_TRACE_ALL_SYSCALLS, and with a
 * 64-byte max_line so the overlong-line path runs too. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int v = 0; v < 3; v++) {
		struct mm_trace_opts o;
		mm_trace_opts_init(&o);
		o.fmt = MM_TRACE_FMT_LACKEY;
		if (v == 1)
			o.flags |= MM_TRACE_ALL_SYSCALLS;
		if (v == 2)
			o.max_line = 64;
		fuzz_trace_run(data, size, &o);
	}
	return 0;
}
