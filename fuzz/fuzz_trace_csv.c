/* libFuzzer target: the csv reader under several column, delimiter, header
 * and id choices (fuzz_trace.h has the checks). */
#include "fuzz_trace.h"

static const char *const params[] = {
	"",                                              /* all detected */
	"obj-id-col=1, time-col=2, size-col=3, op-col=4",
	"obj-id-col=2, has-header=false, delimiter=\\t, obj-id-is-num=false",
	"obj-id-col=id, time-col=time, has-header=true",
	"obj-id-col=3, size-col=1, delimiter=;, obj-id-is-num=true, max-line=64",
	"obj-id-col=1, op-col=2, delimiter=|, has-header=auto",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t v = 0; v < sizeof(params) / sizeof(params[0]); v++) {
		struct mm_trace_opts o;
		char err[200];
		mm_trace_opts_init(&o);
		fuzz_check(mm_trace_opts_parse(&o, params[v], err, sizeof(err)) == 0);
		o.fmt = MM_TRACE_FMT_CSV;
		fuzz_trace_run(data, size, &o);
	}
	return 0;
}
