/* libFuzzer target: the address-list reader (fuzz_trace.h has the checks),
 * also with a 32-byte max_line. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int v = 0; v < 2; v++) {
		struct mm_trace_opts o;
		mm_trace_opts_init(&o);
		o.fmt = MM_TRACE_FMT_ADDR;
		if (v == 1)
			o.max_line = 32;
		fuzz_trace_run(data, size, &o);
	}
	return 0;
}
