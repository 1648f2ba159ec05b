/* Malformed traces: the exact message (file:line:col: cause) for each, the
 * stop-at-first-error default, skipping with a count, and opening errors. */
#include <stdio.h>
#include <unistd.h>

#include "trace_test.h"

static const struct {
	const char *params;
	const char *in;
	size_t good;             /* records before the error */
	const char *msg;
} cases[] = {
	/* lackey */
	{ "format=lackey", "I  0400d7d4,8\n L xyz,8\n", 1,
	  "t:2:4: expected hex address after 'L', found 'x'" },
	{ "format=lackey", " L 10 8\n", 0, "t:1:6: expected ',' after the address, found ' '" },
	{ "format=lackey", " S 10,\n", 0, "t:1:7: expected decimal size after ',', found end of line" },
	{ "format=lackey", " M 10,8x\n", 0, "t:1:8: unexpected 'x' after the size" },
	{ "format=lackey", "X 10,8\n", 0,
	  "t:1:1: unrecognised line: expected I, L, S or M, a valgrind ==PID== line or "
	  "SYSCALL[...], found 'X'" },
	{ "format=lackey", "I10,8\n", 0, "t:1:2: expected a space after 'I', found '1'" },
	{ "format=lackey", "I  10,8\r\nI  10,8\r\n\r\n L 5;8\r\n", 2,
	  "t:4:5: expected ',' after the address, found ';'" },
	{ "format=lackey", "SYSCALL[1,1](9) sys_mmap ( 0x0, 8192 ) --> Success(0x1000)\n", 0,
	  "t:1:17: sys_mmap takes 6 arguments, found 2" },
	{ "format=lackey", "SYSCALL[1,1](11) sys_munmap ( 0x10, zz ) --> Success(0x0)\n", 0,
	  "t:1:37: expected a number as argument 2, found 'z'" },
	{ "format=lackey", "SYSCALL[1,1](12) sys_brk ( 0x0 ) --> Maybe(0)\n", 0,
	  "t:1:38: expected Success(...) or Failure(...), found 'M'" },
	{ "format=lackey", "SYSCALL[x", 0, "t:1:9: expected a process id after 'SYSCALL['" },
	{ "format=lackey", "SYSCALL[1,1](12) sys_brk ( 0x0 )\n", 0,
	  "t:1:33: expected '-->' after the arguments, found end of line" },
	{ "format=lackey", "SYSCALL[1,1](12) sys_brk ( 99999999999999999999 ) --> Success(0x0)\n", 0,
	  "t:1:28: argument 1 does not fit in 64 bits" },
	{ "format=lackey", "SYSCALL[1,1](12) sys_brk ( 1 ) --> Success(0x0) junk\n", 0,
	  "t:1:49: unexpected 'j' after the result" },
	/* txt */
	{ "format=txt", "1\n2x\n", 1, "t:2:2: unexpected 'x' after the object id" },
	{ "format=txt", "1\n0xg\n", 1, "t:2:3: expected hex digits after '0x'" },
	{ "format=txt", "1\n-5\n", 1, "t:2:1: expected a decimal or 0x hex object id, found '-'" },
	{ "format=txt", "1\n\n\n18446744073709551616\n", 1, "t:4:1: object id does not fit in 64 bits" },
	/* addr */
	{ "format=addr", "0x10,\n", 1, "t:1:6: expected an address after ',', found end of line" },
	{ "format=addr", "W\n", 0, "t:1:2: expected an address after 'W', found end of line" },
	{ "format=addr", "R 10 W\n", 0, "t:1:6: second R/W mark on one address" },
	{ "format=addr", "10 20\n", 0, "t:1:4: unexpected '2' after the address" },
	{ "format=addr", "0x1ffffffffffffffff\n", 0, "t:1:1: address does not fit in 64 bits" },
	{ "format=addr", "10;20", 0, "t:1:3: unexpected ';' after the address" },
	{ "format=addr", "\x01", 0, "t:1:1: expected an address, found '\\x01'" },
	{ "format=addr", "5,6,'7\n", 2, "t:1:5: expected an address after ',', found '\\x27'" },
	/* csv */
	{ "format=csv", "id,time\n1,2\nx,3\n", 1,
	  "t:3:1: expected a numeric object id in field 1, found 'x' (obj-id-is-num=false "
	  "hashes string ids)" },
	{ "format=csv", "id,time\n1,abc\n", 0, "t:2:3: expected a decimal time in field 2, found 'a'" },
	{ "format=csv", "id,time\n1,0x10\n", 0, "t:2:4: expected a decimal time in field 2, found 'x'" },
	{ "format=csv", "id,size\n1,99999999999999999999\n", 0, "t:2:3: size does not fit in 64 bits" },
	{ "format=csv", "id,op\n1,frob\n", 0,
	  "t:2:3: unknown op 'frob' in field 2 (expected get, set, delete, read, write, ...)" },
	{ "format=csv", "id,time\n1\n", 0, "t:2:2: row has 1 field, expected at least 2" },
	{ "format=csv", "id,time\n\"1,2\n", 0, "t:2:1: unterminated quoted field" },
	{ "format=csv", "id,time\n\"1\"x,2\n", 0, "t:2:4: unexpected 'x' after the closing quote" },
	{ "format=csv", "id,size\n1,\n", 0, "t:2:3: expected a decimal size in field 2, found end of line" },
};

static void test_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_run run;
		tt_reads(&run, cases[i].in, cases[i].params);
		if (run.rc != -MM_EPARSE || run.n != cases[i].good ||
		    strcmp(run.err, cases[i].msg) != 0)
			fail_msg("case %zu (%s): rc %d, %zu records, message\n  got:  %s\n  want: %s",
				 i, cases[i].in, run.rc, run.n, run.err, cases[i].msg);
		tt_free(&run);
	}
}

/* With skip-bad every case above reads to the end, skipping exactly one line. */
static void test_skip_each(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char params[64];
		struct tt_run run;
		snprintf(params, sizeof(params), "%s,skip-bad=1", cases[i].params);
		tt_reads(&run, cases[i].in, params);
		if (run.rc != 0 || run.skipped != 1 || strcmp(run.err, cases[i].msg) != 0)
			fail_msg("case %zu: rc %d skipped %llu message %s", i, run.rc,
				 (unsigned long long)run.skipped, run.err);
		assert_true(run.n >= cases[i].good);
		tt_free(&run);
	}
}

static void test_skip_count(void **state)
{
	(void)state;
	struct tt_run run;
	/* three bad lines among good ones; an error in an addr list drops the rest */
	tt_reads(&run, "1\n2,zz,3\n4\nW\n5\n6 7\n8\n", "format=addr,skip-bad=yes");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.skipped, 3);
	assert_string_equal(run.err, "t:6:3: unexpected '7' after the address");
	uint64_t want[] = { 1, 2, 4, 5, 8 };
	uint64_t lines[] = { 1, 2, 3, 5, 7 };
	assert_int_equal(run.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_true(run.r[i].addr == want[i]);
		assert_true(run.r[i].line == lines[i]);
		assert_true(run.r[i].time == (uint64_t)i);
	}
	tt_free(&run);

	/* without skipping the first one stops the reader */
	tt_reads(&run, "1\n2,zz,3\n4\n", "format=addr");
	assert_int_equal(run.rc, -MM_EPARSE);
	assert_int_equal(run.n, 2);
	assert_string_equal(run.err, "t:2:3: expected an address after ',', found 'z'");
	tt_free(&run);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[300];
	struct mm_trace *t = mm_trace_open("/nonexistent/trace.lk", NULL, err, sizeof(err));
	assert_null(t);
	assert_string_equal(err, "/nonexistent/trace.lk: No such file or directory");

	/* a real file: the path names the errors */
	char path[] = "/tmp/mmkit-trace-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char body[] = "0x10\n0x20 X\n";
	assert_int_equal(write(fd, body, sizeof(body) - 1), (ssize_t)(sizeof(body) - 1));
	close(fd);
	/* auto-detection needs every sampled line valid: not addr, nor anything */
	t = mm_trace_open(path, NULL, err, sizeof(err));
	assert_null(t);
	struct mm_trace_opts o;
	mm_trace_opts_init(&o);
	o.fmt = MM_TRACE_FMT_ADDR;
	t = mm_trace_open(path, &o, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(mm_trace_format(t), MM_TRACE_FMT_ADDR);
	assert_string_equal(mm_trace_compression(t), "plain");
	struct mm_trace_rec rec;
	assert_int_equal(mm_trace_next(t, &rec), 1);
	assert_int_equal(mm_trace_next(t, &rec), -MM_EPARSE);
	char want[128];
	snprintf(want, sizeof(want), "%s:2:6: unexpected 'X' after the address", path);
	assert_string_equal(mm_trace_error(t), want);
	mm_trace_close(t);
	unlink(path);

	/* a pipe through open_fd, as stdin would be */
	int p[2];
	assert_int_equal(pipe(p), 0);
	const char txt[] = "3\n4\n";
	assert_int_equal(write(p[1], txt, 4), 4);
	close(p[1]);
	t = mm_trace_open_fd(p[0], "<stdin>", NULL, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(mm_trace_next(t, &rec), 1);
	assert_true(rec.addr == 3);
	assert_int_equal(mm_trace_next(t, &rec), 1);
	assert_true(rec.addr == 4);
	assert_int_equal(mm_trace_next(t, &rec), 0);
	assert_null(mm_trace_error(t));
	mm_trace_close(t);
	close(p[0]);

	/* "-" is stdin, named <stdin> in messages */
	int saved = dup(0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "5\n6\n", 4), 4);
	close(p[1]);
	assert_int_equal(dup2(p[0], 0), 0);
	close(p[0]);
	t = mm_trace_open("-", NULL, err, sizeof(err));
	if (!t)
		fail_msg("%s", err);
	assert_int_equal(mm_trace_next(t, &rec), 1);
	assert_true(rec.addr == 5);
	mm_trace_close(t);
	o.fmt = MM_TRACE_FMT_TXT;
	t = mm_trace_open("-", &o, err, sizeof(err)); /* at the end of stdin: empty */
	assert_non_null(t);
	assert_int_equal(mm_trace_next(t, &rec), 0);
	mm_trace_close(t);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	mm_trace_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_skip_each),
		cmocka_unit_test(test_skip_count),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
