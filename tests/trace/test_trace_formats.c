/* Each trace format read from small inputs written here: every record kind,
 * comments and blank lines, CRLF, long lines, numbers at the limits, options,
 * and format auto-detection. */
#include <stdio.h>

#include "trace_test.h"

#define U64MAX 18446744073709551615ULL

static void expect_acc(const struct mm_trace_rec *r, enum mm_trace_kind k, uint64_t addr,
		       uint64_t size, uint32_t flags, uint64_t line)
{
	assert_int_equal(r->kind, k);
	assert_true(r->addr == addr);
	assert_true(r->size == size);
	assert_int_equal(r->flags, flags);
	assert_true(r->line == line);
}

/* ---- lackey ------------------------------------------------------------- */

static const char lackey_log[] =
	"==123== Lackey, an example Valgrind tool\n"
	"==123== Command: ./t\n"
	"==123== \n"
	"I  0400d7d4,8\n"
	" L 1ffefffe88,8\n"
	" S 1ffefffe80,8\n"
	" M 0421f8e8,4\n"
	"SB 0400d7d4\n"
	"SYSCALL[7572,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] "
	"Success(0x4835000) \n"
	"SYSCALL[7572,1](11) sys_munmap ( 0x483c000, 44675 )[sync] --> Success(0x0) \n"
	"SYSCALL[7572,1](10) sys_mprotect ( 0x4a16000, 16384, 1 )[sync] --> Success(0x0) \n"
	"SYSCALL[7572,1](12) sys_brk ( 0x4056000 ) --> [pre-success] Success(0x4056000) \n"
	"SYSCALL[8686,1](25) sys_mremap ( 0x483c000, 8192, 16384, 0x1 ) --> [pre-success] "
	"Success(0x483c000) \n"
	"SYSCALL[8686,1](9) sys_mmap ( 0x1, 4096, 1, 50, 4294967295, 0 ) --> [pre-fail] "
	"Failure(0x16) \n"
	"SYSCALL[7572,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/lib/x (1).so), 524288 ) "
	"--> [async] ... \n"
	"SYSCALL[7572,1](257) ... [async] --> Success(0x4) \n"
	"SYSCALL[7572,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)\n"
	" --> [pre-fail] Failure(0x26) \n"
	"SYSCALL[7572,2](9) sys_mmap ( 0x0, 4096, 1, 34, -1, 0 ) --> [async] ... \n"
	"I  0400d7d8,3\n"
	"SYSCALL[7572,2](9) ... [async] --> Success(0x4840000) \n"
	"--7572-- a warning\n"
	"# a comment\n"
	"\n"
	"\tL\t0x10,1\t\n"
	"==123== Exit code: 0\n";

static void check_lackey(const struct tt_run *run, int crlf)
{
	(void)crlf;
	assert_int_equal(run->rc, 0);
	assert_string_equal(run->err, "");
	assert_int_equal(run->fmt, MM_TRACE_FMT_LACKEY);
	assert_int_equal(run->n, 13);
	const struct mm_trace_rec *r = run->r;
	expect_acc(&r[0], MM_TRACE_IFETCH, 0x400d7d4, 8, MM_TREC_SIZE, 4);
	expect_acc(&r[1], MM_TRACE_READ, 0x1ffefffe88, 8, MM_TREC_SIZE, 5);
	expect_acc(&r[2], MM_TRACE_WRITE, 0x1ffefffe80, 8, MM_TREC_SIZE, 6);
	expect_acc(&r[3], MM_TRACE_MODIFY, 0x421f8e8, 4, MM_TREC_SIZE, 7);
	for (int i = 0; i < 4; i++)
		assert_true(r[i].time == (uint64_t)i);

	/* mmap */
	assert_int_equal(r[4].kind, MM_TRACE_SYSCALL);
	assert_int_equal(r[4].sys.which, MM_SYS_MMAP);
	assert_string_equal(r[4].sys.name, "sys_mmap");
	assert_int_equal(r[4].sys.nr, 9);
	assert_int_equal(r[4].sys.pid, 7572);
	assert_int_equal(r[4].sys.tid, 1);
	assert_int_equal(r[4].sys.nargs, 6);
	assert_int_equal(r[4].sys.failed, 0);
	assert_true(r[4].sys.args[0] == 0 && r[4].sys.args[1] == 8192 && r[4].sys.args[2] == 3 &&
		    r[4].sys.args[3] == 34 && (int32_t)r[4].sys.args[4] == -1 &&
		    r[4].sys.args[5] == 0);
	assert_true(r[4].sys.ret == 0x4835000);
	assert_true(r[4].addr == 0x4835000 && r[4].size == 8192);
	assert_true(r[4].line == 9);
	/* munmap, mprotect, brk, mremap */
	assert_int_equal(r[5].sys.which, MM_SYS_MUNMAP);
	assert_true(r[5].addr == 0x483c000 && r[5].size == 44675 && r[5].sys.nargs == 2);
	assert_int_equal(r[6].sys.which, MM_SYS_MPROTECT);
	assert_true(r[6].sys.args[2] == 1 && r[6].size == 16384);
	assert_int_equal(r[7].sys.which, MM_SYS_BRK);
	assert_true(r[7].sys.args[0] == 0x4056000 && r[7].sys.ret == 0x4056000 && r[7].size == 0);
	assert_int_equal(r[8].sys.which, MM_SYS_MREMAP);
	assert_true(r[8].sys.nargs == 4 && r[8].sys.args[2] == 16384 && r[8].sys.args[3] == 1);
	assert_true(r[8].addr == 0x483c000 && r[8].size == 16384 && r[8].sys.pid == 8686);
	/* a failed mmap: errno 22, addr falls back to the hint */
	assert_int_equal(r[9].sys.which, MM_SYS_MMAP);
	assert_int_equal(r[9].sys.failed, 1);
	assert_true(r[9].sys.ret == 22 && r[9].addr == 1);
	/* openat skipped; the [async] mmap completes after an access line */
	expect_acc(&r[10], MM_TRACE_IFETCH, 0x400d7d8, 3, MM_TREC_SIZE, 20);
	assert_int_equal(r[11].kind, MM_TRACE_SYSCALL);
	assert_int_equal(r[11].sys.tid, 2);
	assert_true(r[11].sys.ret == 0x4840000 && r[11].addr == 0x4840000 && r[11].line == 21);
	assert_true(r[11].sys.args[4] == U64MAX); /* -1 printed as -1 */
	expect_acc(&r[12], MM_TRACE_READ, 0x10, 1, MM_TREC_SIZE, 25);
}

static void test_lackey(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run, lackey_log, NULL);
	check_lackey(&run, 0);
	tt_free(&run);
	tt_reads(&run, lackey_log, "format=lackey");
	check_lackey(&run, 0);
	tt_free(&run);

	/* the same with CRLF line ends */
	size_t n = strlen(lackey_log);
	char *crlf = malloc(2 * n + 1), *q = crlf;
	for (size_t i = 0; i < n; i++) {
		if (lackey_log[i] == '\n')
			*q++ = '\r';
		*q++ = lackey_log[i];
	}
	tt_read(&run, crlf, (size_t)(q - crlf), NULL);
	check_lackey(&run, 1);
	tt_free(&run);
	free(crlf);
}

static void test_lackey_all_syscalls(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run, lackey_log, "all-syscalls=true");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 14); /* + openat; "unimplemented" has no result on its line */
	const struct mm_trace_rec *r = &run.r[10];
	assert_int_equal(r->kind, MM_TRACE_SYSCALL);
	assert_int_equal(r->sys.which, MM_SYS_OTHER);
	assert_string_equal(r->sys.name, "sys_openat");
	assert_int_equal(r->sys.nr, 257);
	assert_int_equal(r->sys.nargs, 3);
	assert_true(r->sys.args[0] == 4294967196ULL && r->sys.args[1] == 0x4034bb0 &&
		    r->sys.args[2] == 524288 && r->sys.ret == 4 && !r->sys.failed);
	assert_true(r->line == 16);
	tt_free(&run);
}

/* 17 calls waiting at once: the table holds 16, the oldest is dropped */
static void test_lackey_async_table(void **state)
{
	(void)state;
	char *s = malloc(17 * 2 * 120), *p = s;
	for (int i = 0; i < 17; i++)
		p += sprintf(p, "SYSCALL[9,%d](9) sys_mmap ( 0x0, %d, 3, 34, -1, 0 ) --> [async] ... \n",
			     i + 1, (i + 1) * 4096);
	for (int i = 0; i < 17; i++)
		p += sprintf(p, "SYSCALL[9,%d](9) ... [async] --> Success(0x%x) \n", i + 1,
			     (i + 1) << 20);
	struct tt_run run;
	tt_read(&run, s, (size_t)(p - s), "format=lackey");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(run.r[i].sys.tid, i + 2);
		assert_true(run.r[i].addr == (uint64_t)(i + 2) << 20);
		assert_true(run.r[i].size == (uint64_t)(i + 2) * 4096);
		assert_true(run.r[i].line == (uint64_t)19 + i);
	}
	tt_free(&run);
	free(s);
}

static void test_lackey_limits(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run, "I  ffffffffffffffff,18446744073709551615\n"
		       " L 0000000000000000000000001,0\n", "format=lackey");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 2);
	expect_acc(&run.r[0], MM_TRACE_IFETCH, U64MAX, U64MAX, MM_TREC_SIZE, 1);
	expect_acc(&run.r[1], MM_TRACE_READ, 1, 0, MM_TREC_SIZE, 2);
	tt_free(&run);

	tt_reads(&run, "I  10000000000000000,8\n", "format=lackey");
	assert_int_equal(run.rc, -MM_EPARSE);
	assert_string_equal(run.err, "t:1:4: address does not fit in 64 bits");
	tt_free(&run);
	tt_reads(&run, "I  0,18446744073709551616\n", "format=lackey");
	assert_string_equal(run.err, "t:1:6: size does not fit in 64 bits");
	tt_free(&run);
}

/* ---- txt ---------------------------------------------------------------- */

static void test_txt(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run, "# ids\n1\n\n  42  \r\n0x1f\n18446744073709551615\n0xFFFFFFFFFFFFFFFF\n010\n7",
		 "format=txt");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.fmt, MM_TRACE_FMT_TXT);
	assert_int_equal(run.n, 7);
	uint64_t want[] = { 1, 42, 0x1f, U64MAX, U64MAX, 10, 7 };
	uint64_t lines[] = { 2, 4, 5, 6, 7, 8, 9 };
	for (int i = 0; i < 7; i++) {
		expect_acc(&run.r[i], MM_TRACE_READ, want[i], 0, MM_TREC_ID, lines[i]);
		assert_true(run.r[i].time == (uint64_t)i);
	}
	tt_free(&run);

	tt_reads(&run, "1\n18446744073709551616\n", "format=txt");
	assert_int_equal(run.rc, -MM_EPARSE);
	assert_int_equal(run.n, 1);
	assert_string_equal(run.err, "t:2:1: object id does not fit in 64 bits");
	tt_free(&run);
}

static void test_txt_strings(void **state)
{
	(void)state;
	struct tt_run run;
	/* the first id decides: strings; equal strings give equal ids */
	tt_reads(&run, "alpha\nbeta \n  alpha\n12\n", "format=txt");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 4);
	assert_true(run.r[0].addr == run.r[2].addr);
	assert_true(run.r[0].addr != run.r[1].addr);
	assert_true(run.r[3].addr != 12);
	tt_free(&run);
	/* forced numeric: a string is an error */
	tt_reads(&run, "alpha\n", "format=txt,obj-id-is-num=true");
	assert_string_equal(run.err, "t:1:1: expected a decimal or 0x hex object id, found 'a'");
	tt_free(&run);
	/* forced strings: numbers are hashed too */
	tt_reads(&run, "12\n12\n", "format=txt,obj-id-is-num=false");
	assert_int_equal(run.n, 2);
	assert_true(run.r[0].addr == run.r[1].addr && run.r[0].addr != 12);
	tt_free(&run);
}

/* ---- addr --------------------------------------------------------------- */

static void test_addr(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run,
		 "# reference string\n"
		 "0x1000\n"
		 "W 0x2000, R 4096, 8192w ,r0x10,0X20 W # trailing comment, with a comma\n"
		 "\n"
		 "\t18446744073709551615\tR\r\n"
		 "W0xffffffffffffffff\n",
		 NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.fmt, MM_TRACE_FMT_ADDR);
	assert_int_equal(run.n, 8);
	expect_acc(&run.r[0], MM_TRACE_READ, 0x1000, 0, 0, 2);
	expect_acc(&run.r[1], MM_TRACE_WRITE, 0x2000, 0, 0, 3);
	expect_acc(&run.r[2], MM_TRACE_READ, 4096, 0, 0, 3);
	expect_acc(&run.r[3], MM_TRACE_WRITE, 8192, 0, 0, 3);
	expect_acc(&run.r[4], MM_TRACE_READ, 0x10, 0, 0, 3);
	expect_acc(&run.r[5], MM_TRACE_WRITE, 0x20, 0, 0, 3);
	expect_acc(&run.r[6], MM_TRACE_READ, U64MAX, 0, 0, 5);
	expect_acc(&run.r[7], MM_TRACE_WRITE, U64MAX, 0, 0, 6);
	for (int i = 0; i < 8; i++)
		assert_true(run.r[i].time == (uint64_t)i);
	tt_free(&run);
}

/* ---- csv ---------------------------------------------------------------- */

static void test_csv_header(void **state)
{
	(void)state;
	struct tt_run run;
	tt_reads(&run,
		 "timestamp,obj_id,size,op\n"
		 "1,4096,512,get\n"
		 "2, 8192 ,1024,SET\r\n"
		 "# comment\n"
		 "\n"
		 "3,\"4096\",0,delete,extra,fields\n"
		 "18446744073709551615,0x10,18446744073709551615,write\n",
		 NULL);
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(run.n, 4);
	const uint32_t f = MM_TREC_ID | MM_TREC_TIME | MM_TREC_SIZE;
	expect_acc(&run.r[0], MM_TRACE_READ, 4096, 512, f, 2);
	expect_acc(&run.r[1], MM_TRACE_WRITE, 8192, 1024, f, 3);
	expect_acc(&run.r[2], MM_TRACE_DELETE, 4096, 0, f, 6);
	expect_acc(&run.r[3], MM_TRACE_WRITE, 0x10, U64MAX, f, 7);
	assert_true(run.r[0].time == 1 && run.r[1].time == 2 && run.r[2].time == 3 &&
		    run.r[3].time == U64MAX);
	tt_free(&run);
}

static void test_csv_columns(void **state)
{
	(void)state;
	struct tt_run run;
	/* numbered columns, tab delimiter, no header */
	tt_reads(&run, "x\t5\t100\n y \t6\t200\n",
		 "format=csv,obj-id-col=2,size-col=3,delimiter=\\t,has-header=false");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 2);
	expect_acc(&run.r[0], MM_TRACE_READ, 5, 100, MM_TREC_ID | MM_TREC_SIZE, 1);
	expect_acc(&run.r[1], MM_TRACE_READ, 6, 200, MM_TREC_ID | MM_TREC_SIZE, 2);
	tt_free(&run);

	/* named columns, ';' detected, quoted string ids with the delimiter inside */
	tt_reads(&run, "when;who;what\n5;\"a;b\";r\n6;c;w\n7;\"a;b\";del\n",
		 "obj-id-col=who,time-col=when,op-col=what");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(run.n, 3);
	assert_true(run.r[0].addr == run.r[2].addr && run.r[0].addr != run.r[1].addr);
	assert_int_equal(run.r[0].kind, MM_TRACE_READ);
	assert_int_equal(run.r[1].kind, MM_TRACE_WRITE);
	assert_int_equal(run.r[2].kind, MM_TRACE_DELETE);
	assert_true(run.r[2].time == 7 && (run.r[2].flags & MM_TREC_TIME));
	tt_free(&run);

	/* libCacheSim's comma spelling and a header it names by number */
	tt_reads(&run, "a,b,c\n1,2,3\n4,5,6\n",
		 "format=csv, obj_id_col=3, time-col=1, delimiter=,, has-header=true");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 2);
	assert_true(run.r[0].addr == 3 && run.r[0].time == 1 && run.r[1].addr == 6);
	tt_free(&run);

	/* a UTF-8 byte-order mark before the header is ignored */
	tt_reads(&run, "\xef\xbb\xbftime,key\n5,7\n", NULL);
	assert_int_equal(run.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(run.n, 1);
	assert_true(run.r[0].addr == 7 && run.r[0].time == 5);
	tt_free(&run);

	/* a header-less numeric csv with columns given: csv is tried first */
	tt_reads(&run, "1,2,3\n4,5,6\n", "obj-id-col=2");
	assert_int_equal(run.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(run.n, 2);
	assert_true(run.r[0].addr == 2 && run.r[1].addr == 5);
	tt_free(&run);

	/* no id column anywhere: open fails and says what to do */
	tt_reads(&run, "1;2\n3;4\n", "format=csv");
	assert_int_equal(run.rc, TT_OPEN_FAILED);
	assert_string_equal(run.err,
			    "t: csv: which column holds the object id? give obj-id-col=N (from 1) "
			    "or a header naming it (obj_id, id, key, addr, ...)");
	tt_free(&run);
	tt_reads(&run, "a,b\n1,2\n", "format=csv,obj-id-col=zz");
	assert_string_equal(run.err, "t: csv: no column named 'zz' in the header");
	tt_free(&run);
}

/* ---- Lines longer than the buffer; max_line -------------------------------- */

static void test_long_lines(void **state)
{
	(void)state;
	struct tt_run run;
	/* a 600 KB comment (more than the 256 KiB buffer) between two records */
	size_t big = 600 * 1024;
	char *s = malloc(big + 64), *p = s;
	p += sprintf(p, "1\n#");
	memset(p, 'x', big);
	p += big;
	p += sprintf(p, "\n2\n");
	tt_read(&run, s, (size_t)(p - s), "format=txt");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 2);
	assert_true(run.r[1].addr == 2 && run.r[1].line == 3);
	tt_free(&run);

	/* one addr line of 40000 entries (~400 KB) */
	p = s;
	for (int i = 0; i < 40000; i++)
		p += sprintf(p, "%s%d", i ? "," : "", i * 3);
	tt_read(&run, s, (size_t)(p - s), "format=addr");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 40000);
	assert_true(run.r[39999].addr == 119997 && run.r[39999].line == 1);
	tt_free(&run);

	/* longer than max_line: an error, or skipped */
	p = s;
	p += sprintf(p, "1\n");
	memset(p, '7', 2000);
	p += 2000;
	p += sprintf(p, "\n3\n");
	tt_read(&run, s, (size_t)(p - s), "format=txt,max-line=1000");
	assert_int_equal(run.rc, -MM_EPARSE);
	assert_int_equal(run.n, 1);
	assert_string_equal(run.err, "t:2:1001: line longer than 1000 bytes");
	tt_free(&run);
	tt_read(&run, s, (size_t)(p - s), "format=txt,max-line=1000,skip-bad=1");
	assert_int_equal(run.rc, 0);
	assert_int_equal(run.n, 2);
	assert_int_equal(run.skipped, 1);
	assert_true(run.r[1].addr == 3 && run.r[1].line == 3);
	tt_free(&run);

	/* exactly max_line bytes is fine, with or without "\r"; one more is not,
	 * wherever the line falls in the buffer */
	for (int shift = 0; shift < 40; shift += 13) {
		for (int crlf = 0; crlf < 2; crlf++) {
			for (int extra = 0; extra < 2; extra++) {
				p = s;
				for (int k = 0; k < shift; k++)
					p += sprintf(p, "%d\n", k % 10);
				*p++ = '#';
				memset(p, 'y', 99 + (size_t)extra);
				p += 99 + extra;
				p += sprintf(p, crlf ? "\r\n5\n" : "\n5\n");
				tt_read(&run, s, (size_t)(p - s), "format=txt,max-line=100");
				if (extra) {
					char want[64];
					snprintf(want, sizeof(want), "t:%d:101: line longer than 100 bytes",
						 shift + 1);
					assert_int_equal(run.rc, -MM_EPARSE);
					assert_string_equal(run.err, want);
				} else {
					assert_int_equal(run.rc, 0);
					assert_int_equal(run.n, (size_t)shift + 1);
				}
				tt_free(&run);
			}
		}
	}
	free(s);
}

/* ---- Detection ------------------------------------------------------------ */

static void test_detect(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int fmt;         /* -1: cannot detect */
		const char *why; /* then: the hint after the message, if any */
	} cases[] = {
		{ "==1== Lackey\nI  10,4\n", MM_TRACE_FMT_LACKEY, NULL },
		{ "SYSCALL[1,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x1000)\n",
		  MM_TRACE_FMT_LACKEY, NULL },
		{ " L 7ff0,8\n S 7ff8,8\n", MM_TRACE_FMT_LACKEY, NULL },
		{ "1\n2\n3\n", MM_TRACE_FMT_TXT, NULL },
		{ "# only comments\n\n", MM_TRACE_FMT_TXT, NULL },
		{ "", MM_TRACE_FMT_TXT, NULL },
		{ "0x10\n0x20\n", MM_TRACE_FMT_ADDR, NULL },
		{ "1\n0x20\n", MM_TRACE_FMT_ADDR, NULL },
		{ "1,2,3\n", MM_TRACE_FMT_ADDR, NULL },
		{ "W 10\nR 20\n", MM_TRACE_FMT_ADDR, NULL },
		{ "id,size\n1,2\n", MM_TRACE_FMT_CSV, NULL },
		{ "key\tsize\nfoo\t2\n", MM_TRACE_FMT_CSV, NULL },
		{ "obj\n5\n", MM_TRACE_FMT_CSV, NULL },
		{ "1;2\n3;4\n", -1, NULL },
		{ "hello world\n", -1, NULL },
		{ "I  zz,4\n", -1, NULL },
		/* a format up to a bad line: the closest one's error is named */
		{ "1\n2\nx3\n", -1,
		  " (read as txt: t:3:1: expected a decimal or 0x hex object id, found 'x')" },
		{ "0x10\n\nW 0x20, R\n", -1,
		  " (read as addr: t:3:10: expected an address after 'R', found end of line)" },
		{ "time,obj_id\n1,5\n2,abc\n", -1,
		  " (read as csv: t:3:3: expected a numeric object id in field 2, found 'a' "
		  "(obj-id-is-num=false hashes string ids))" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_run run;
		tt_reads(&run, cases[i].in, NULL);
		if (cases[i].fmt < 0) {
			char want[400];
			if (run.rc != TT_OPEN_FAILED)
				fail_msg("case %zu detected as %s", i, mm_trace_fmt_name(run.fmt));
			snprintf(want, sizeof(want), "t: cannot detect the trace format (not lackey, "
				 "txt, addr or csv by the rules of docs/traces.md); name the format%s",
				 cases[i].why ? cases[i].why : "");
			assert_string_equal(run.err, want);
		} else if (run.rc == TT_OPEN_FAILED || (int)run.fmt != cases[i].fmt) {
			fail_msg("case %zu: want %s, got %s (%s)", i,
				 mm_trace_fmt_name(cases[i].fmt), mm_trace_fmt_name(run.fmt), run.err);
		} else {
			assert_int_equal(run.rc, 0);
		}
		tt_free(&run);
	}
}

/* ---- Options ---------------------------------------------------------------- */

static void test_opts(void **state)
{
	(void)state;
	struct mm_trace_opts o;
	char err[200];
	mm_trace_opts_init(&o);
	assert_int_equal(o.fmt, MM_TRACE_FMT_AUTO);
	assert_int_equal(o.id_is_num, -1);
	assert_int_equal(o.csv.has_header, -1);
	assert_int_equal(mm_trace_opts_parse(&o, " Obj_Id_Col = 2 ,time-col=key, delimiter=\\t, "
					     "HEADER=yes, obj-id-is-num=0, skip-bad=true, "
					     "max-line=4096, format=CSV", err, sizeof(err)), 0);
	assert_string_equal(o.csv.obj_id_col, "2");
	assert_string_equal(o.csv.time_col, "key");
	assert_int_equal(o.csv.delimiter, '\t');
	assert_int_equal(o.csv.has_header, 1);
	assert_int_equal(o.id_is_num, 0);
	assert_true(o.flags & MM_TRACE_SKIP_BAD);
	assert_int_equal(o.max_line, 4096);
	assert_int_equal(o.fmt, MM_TRACE_FMT_CSV);
	assert_int_equal(mm_trace_opts_parse(&o, "delimiter=,,size-col=3", err, sizeof(err)), 0);
	assert_int_equal(o.csv.delimiter, ',');
	assert_string_equal(o.csv.size_col, "3");
	assert_int_equal(mm_trace_opts_parse(&o, "delimiter=;", err, sizeof(err)), 0);
	assert_int_equal(o.csv.delimiter, ';');

	/* failures leave *o alone */
	struct mm_trace_opts before = o;
	static const struct { const char *in, *msg; } bad[] = {
		{ "obj-id-col=0", "obj-id-col: columns are counted from 1" },
		{ "bogus=1", "unknown trace parameter 'bogus'" },
		{ "has-header=maybe", "has-header: expected true or false, not 'maybe'" },
		{ "format=pcap", "format: unknown format 'pcap' (auto, lackey, txt, addr, csv)" },
		{ "time-col", "trace parameter 'time-col' needs a value (time-col=...)" },
		{ "max-line=3", "max-line: expected a byte count from 16 to 2^30" },
		{ "delimiter=ab", "delimiter: unsupported delimiter 'ab'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mm_trace_opts_parse(&o, bad[i].in, err, sizeof(err)), -MM_EINVAL);
		assert_string_equal(err, bad[i].msg);
		assert_memory_equal(&o, &before, sizeof(o));
	}

	assert_int_equal(mm_trace_fmt_parse("LACKEY"), MM_TRACE_FMT_LACKEY);
	assert_int_equal(mm_trace_fmt_parse("nope"), -MM_EINVAL);
	assert_string_equal(mm_trace_fmt_name(MM_TRACE_FMT_ADDR), "addr");
	assert_string_equal(mm_trace_kind_name(MM_TRACE_MODIFY), "modify");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lackey),
		cmocka_unit_test(test_lackey_all_syscalls),
		cmocka_unit_test(test_lackey_async_table),
		cmocka_unit_test(test_lackey_limits),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_txt_strings),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_csv_header),
		cmocka_unit_test(test_csv_columns),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
