/* libFuzzer target: the scenario parser and interpreter (tools/mmsim/
 * scenario_*.c), as `mmsim run` uses them but with host files off (no
 * include, tmpfile, file=, open, spawn, exec PATH), a 16 MiB machine at most
 * and a budget of 4000 steps, so every input ends quickly.
 *
 * Traps (a crash libFuzzer saves) when:
 *   - a parse or run status is not one of the statuses the API documents,
 *     or an error comes without a message naming the place ("fuzz:LINE");
 *   - a parse error is not bad input or out of memory (no I/O: no files);
 *   - parsing the same bytes twice gives a different answer;
 *   - the expect counts are inconsistent.
 * ASan and UBSan catch the rest (overflows, leaks, undefined behaviour);
 * libFuzzer's -timeout catches hangs. fuzz/replay.c runs the same entry
 * point over fuzz/corpus/scenario in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(c)                                                                   \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "fuzz_scenario: check failed: %s (%s:%d)\n", #c, \
				__FILE__, __LINE__);                                    \
			__builtin_trap();                                               \
		}                                                                       \
	} while (0)

static void fuzz_limits(struct sc_limits *l)
{
	sc_limits_default(l);
	l->max_ram = 16 << 20;
	l->max_swap = 1 << 20;
	l->max_steps = 4000;
	l->max_file_bytes = 1 << 20;
	l->max_include_depth = 4;
	l->max_hugepages = 2;
	l->allow_files = false;
}

/* The sink checks what the interpreter reports. */
struct seen {
	uint64_t expects, failed;
};

static void on_expect(void *ctx, const struct sc_where *w, const char *src, bool ok, int64_t got,
		      int64_t want, const char *msg)
{
	struct seen *s = ctx;
	(void)got;
	(void)want;
	fuzz_check(w->line >= 1 && strcmp(w->file, "fuzz") == 0);
	fuzz_check(src != NULL);
	fuzz_check(ok == (msg == NULL));
	if (msg)
		fuzz_check(strncmp(msg, "expect failed: ", 15) == 0);
	s->expects++;
	s->failed += !ok;
}

static void on_view(void *ctx, const struct sc_where *w, const char *prompt, const char *view,
		    int pid, const char *text)
{
	(void)ctx;
	(void)pid;
	fuzz_check(w->line >= 1);
	fuzz_check(prompt[0] == '$' && view[0] && text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_limits lim;
	fuzz_limits(&lim);
	struct sc_script *s, *s2;
	struct sc_result res, res2;
	int rc = sc_parse_buffer("fuzz", (const char *)data, size, &lim, &s, &res);
	int rc2 = sc_parse_buffer("fuzz", (const char *)data, size, &lim, &s2, &res2);
	fuzz_check(rc == rc2 && strcmp(res.msg, res2.msg) == 0);
	sc_script_free(s2);
	if (rc) {
		fuzz_check(rc == SC_BADINPUT || rc == SC_NOMEM);
		fuzz_check(s == NULL);
		fuzz_check(rc == SC_NOMEM || strncmp(res.msg, "fuzz:", 5) == 0);
		return 0;
	}
	fuzz_check(s != NULL);
	struct seen seen = { 0, 0 };
	struct sc_sink sink = { .expect = on_expect, .view = on_view, .ctx = &seen };
	struct sc_run_opts o = { .lim = &lim };
	rc = sc_run(s, &o, &sink, &res);
	sc_script_free(s);
	fuzz_check(rc == SC_OK || rc == SC_FAILED || rc == SC_BADINPUT || rc == SC_NOMEM);
	fuzz_check(rc == res.status);
	fuzz_check(res.expects == seen.expects && res.expects_failed == seen.failed);
	fuzz_check(res.expects_failed <= res.expects);
	if (res.expects_failed)
		fuzz_check(rc != SC_OK);
	if (rc == SC_BADINPUT || (rc == SC_FAILED && res.msg[0]))
		fuzz_check(strncmp(res.msg, "fuzz:", 5) == 0);
	fuzz_check(res.steps <= lim.max_steps + 1);
	return 0;
}
