/* libFuzzer target: the txt (one id per line) reader, with numeric, string
 * and detected ids (fuzz_trace.h has the checks). */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int v = 0; v < 4; v++) {
		struct mm_trace_opts o;
		mm_trace_opts_init(&o);
		o.fmt = MM_TRACE_FMT_TXT;
		o.id_is_num = v < 3 ? v - 1 : -1;
		if (v == 3)
			o.max_line = 16;
		fuzz_trace_run(data, size, &o);
	}
	return 0;
}
