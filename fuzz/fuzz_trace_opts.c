/* libFuzzer target: mm_trace_opts_parse, the libCacheSim-style parameter
 * strings the command line passes through (--trace-params). The input is the
 * string. On success the options must be well formed; on failure they must be
 * unchanged and the message non-empty. A good result then opens a tiny csv. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char params[512], err[256];
	struct mm_trace_opts o, before;
	if (size >= sizeof(params))
		size = sizeof(params) - 1;
	memcpy(params, data, size);
	params[size] = 0;
	mm_trace_opts_init(&o);
	before = o;
	err[0] = 0;
	if (mm_trace_opts_parse(&o, params, err, sizeof(err)) != 0) {
		fuzz_check(memcmp(&o, &before, sizeof(o)) == 0);
		fuzz_check(err[0] != 0 && memchr(err, 0, sizeof(err)) != NULL);
		return 0;
	}
	fuzz_check((unsigned)o.fmt < MM_TRACE_FMT_COUNT);
	fuzz_check(o.max_line >= 16 && o.max_line <= (1u << 30));
	fuzz_check(o.id_is_num >= -1 && o.id_is_num <= 1);
	fuzz_check(o.csv.has_header >= -1 && o.csv.has_header <= 1);
	fuzz_check(memchr(o.csv.obj_id_col, 0, MM_TRACE_COL_MAX) && memchr(o.csv.time_col, 0,
		   MM_TRACE_COL_MAX) && memchr(o.csv.size_col, 0, MM_TRACE_COL_MAX) &&
		   memchr(o.csv.op_col, 0, MM_TRACE_COL_MAX));
	static const char csv[] = "time,obj_id,size,op\n1,2,3,get\n";
	fuzz_trace_run((const uint8_t *)csv, sizeof(csv) - 1, &o);
	return 0;
}
