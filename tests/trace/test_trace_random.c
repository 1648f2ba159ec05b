/* Randomized round trip: generate random valid traces in every format, with
 * the syntax varied every way the formats allow (spacing, hex/decimal, marks
 * before/after, comments, blank lines, CRLF, quoting, column order, async
 * syscalls, ...), store them plain, gzip'd or zstd'd, read them back and
 * compare every record with the one the generator meant. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "mmkit/compiler.h"
#include "mmkit/rng.h"
#include "trace_test.h"

struct gen {
	struct mm_rng *rng;
	char *buf;
	size_t len, cap;
	uint64_t line;               /* lines written so far */
	struct tt_run want;          /* expected records */
};

static uint64_t rnd(struct gen *g, uint64_t n)
{
	return mm_rng_below(g->rng, n);
}

MM_PRINTF(2, 3)
static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < g->cap - g->len) {
			g->len += (size_t)n;
			return;
		}
		g->cap = g->cap * 2 + (size_t)n + 64;
		g->buf = realloc(g->buf, g->cap);
		assert_non_null(g->buf);
	}
}

static void endl(struct gen *g)
{
	put(g, rnd(g, 4) ? "\n" : "\r\n");
	g->line++;
}

static void spaces(struct gen *g, int min)
{
	int n = min + (int)rnd(g, 3);
	for (int i = 0; i < n; i++)
		put(g, rnd(g, 3) ? " " : "\t");
}

/* numbers with the edges well represented */
static uint64_t value(struct gen *g)
{
	switch (rnd(g, 6)) {
	case 0: return rnd(g, 3) ? 0 : UINT64_MAX;
	case 1: return rnd(g, 1000);
	case 2: return (uint64_t)1 << rnd(g, 64);
	default: {
		uint64_t v = mm_rng_next(g->rng);
		return v >> rnd(g, 64); /* draws in a fixed order, for replay */
	}
	}
}

static void num(struct gen *g, uint64_t v)
{
	if (rnd(g, 2))
		put(g, "%s%llx", rnd(g, 2) ? "0x" : "0X", (unsigned long long)v);
	else
		put(g, "%llu", (unsigned long long)v);
}

static struct mm_trace_rec *expect(struct gen *g, enum mm_trace_kind k, uint64_t addr,
				   uint64_t size, uint32_t flags)
{
	struct mm_trace_rec r;
	memset(&r, 0, sizeof(r));
	r.kind = k;
	r.addr = addr;
	r.size = size;
	r.flags = flags;
	r.line = g->line + 1; /* the line being written */
	r.time = g->want.n;
	tt_push(&g->want, &r);
	return &g->want.r[g->want.n - 1];
}

static void filler(struct gen *g)
{
	if (rnd(g, 2))
		put(g, "# %llu", (unsigned long long)value(g));
	else if (rnd(g, 2))
		spaces(g, 0);
	endl(g);
}

/* ---- lackey ------------------------------------------------------------- */

static void gen_syscall(struct gen *g, uint32_t tid, int async)
{
	static const struct { const char *name; enum mm_trace_sysno w; int nr, nargs; } calls[] = {
		{ "sys_mmap", MM_SYS_MMAP, 9, 6 },     { "sys_munmap", MM_SYS_MUNMAP, 11, 2 },
		{ "sys_mprotect", MM_SYS_MPROTECT, 10, 3 }, { "sys_brk", MM_SYS_BRK, 12, 1 },
		{ "sys_mremap", MM_SYS_MREMAP, 25, 4 }, { "sys_mremap", MM_SYS_MREMAP, 25, 5 },
	};
	int c = (int)rnd(g, MM_ARRAY_SIZE(calls));
	struct mm_trace_syscall sc;
	memset(&sc, 0, sizeof(sc));
	sc.which = calls[c].w;
	sc.nr = calls[c].nr;
	sc.pid = 4242;
	sc.tid = tid;
	sc.nargs = (uint32_t)calls[c].nargs;
	strcpy(sc.name, calls[c].name);
	sc.failed = !rnd(g, 5);
	sc.ret = sc.failed ? rnd(g, 40) : value(g);
	put(g, "SYSCALL[%u,%u](%d) %s (", sc.pid, sc.tid, sc.nr, sc.name);
	for (uint32_t i = 0; i < sc.nargs; i++) {
		sc.args[i] = value(g);
		put(g, "%s ", i ? "," : "");
		num(g, sc.args[i]);
	}
	put(g, " )%s --> ", rnd(g, 2) ? "[sync]" : "");
	struct mm_trace_rec rec;
	memset(&rec, 0, sizeof(rec));
	if (async) {
		put(g, "[async] ... ");
		endl(g);
		/* a few access lines, then the completion */
		for (int k = (int)rnd(g, 3); k > 0; k--) {
			uint64_t a = value(g), s = value(g);
			expect(g, MM_TRACE_READ, a, s, MM_TREC_SIZE);
			put(g, " L %llx,%llu", (unsigned long long)a, (unsigned long long)s);
			endl(g);
		}
		put(g, "SYSCALL[%u,%u](%d) ... [async] --> ", sc.pid, sc.tid, sc.nr);
	} else if (rnd(g, 2)) {
		put(g, sc.failed ? "[pre-fail] " : "[pre-success] ");
	}
	put(g, "%s(0x%llx) ", sc.failed ? "Failure" : "Success", (unsigned long long)sc.ret);
	struct mm_trace_rec *r = expect(g, MM_TRACE_SYSCALL, sc.args[0], 0, 0);
	r->sys = sc;
	if (sc.which == MM_SYS_MMAP || sc.which == MM_SYS_MREMAP) {
		if (!sc.failed)
			r->addr = sc.ret;
		r->size = sc.args[sc.which == MM_SYS_MMAP ? 1 : 2];
	} else if (sc.which != MM_SYS_BRK) {
		r->size = sc.args[1];
	}
	endl(g);
}

static void gen_lackey(struct gen *g, int n)
{
	put(g, "==4242== Lackey, an example Valgrind tool");
	endl(g);
	for (int i = 0; i < n; i++) {
		int c = (int)rnd(g, 12);
		if (c < 8) {
			static const char letters[] = "ILSM";
			static const enum mm_trace_kind kinds[] = { MM_TRACE_IFETCH, MM_TRACE_READ,
								    MM_TRACE_WRITE, MM_TRACE_MODIFY };
			int k = (int)rnd(g, 4);
			uint64_t a = value(g), s = rnd(g, 4) ? 1u << rnd(g, 5) : value(g);
			expect(g, kinds[k], a, s, MM_TREC_SIZE);
			if (rnd(g, 3) && k == 0)
				put(g, "I  ");
			else if (rnd(g, 2))
				put(g, " %c ", letters[k]);
			else {
				spaces(g, 0);
				put(g, "%c", letters[k]);
				spaces(g, 1);
			}
			put(g, rnd(g, 2) ? "%08llx,%llu" : "0x%llx,%llu", (unsigned long long)a,
			    (unsigned long long)s);
			if (!rnd(g, 5))
				spaces(g, 1);
			endl(g);
		} else if (c == 8) {
			gen_syscall(g, 1 + (uint32_t)rnd(g, 3), !rnd(g, 3));
		} else if (c == 9) {
			put(g, "SYSCALL[4242,1](0) sys_read ( 4, 0x1ffe(x), 832 ) --> [async] ... ");
			endl(g);
			put(g, "SYSCALL[4242,1](0) ... [async] --> Success(0x340) ");
			endl(g);
		} else if (c == 10) {
			put(g, rnd(g, 2) ? "==4242== note %d" : "SB %08x", (int)rnd(g, 1000));
			endl(g);
		} else {
			filler(g);
		}
	}
}

/* ---- txt, addr ------------------------------------------------------------ */

static void gen_txt(struct gen *g, int n)
{
	for (int i = 0; i < n; i++) {
		if (!rnd(g, 6)) {
			filler(g);
			continue;
		}
		uint64_t v = value(g);
		expect(g, MM_TRACE_READ, v, 0, MM_TREC_ID);
		if (rnd(g, 4) == 0)
			spaces(g, 0);
		num(g, v);
		if (rnd(g, 4) == 0)
			spaces(g, 0);
		endl(g);
	}
}

static void gen_addr(struct gen *g, int n)
{
	for (int i = 0; i < n; i++) {
		if (!rnd(g, 6)) {
			filler(g);
			continue;
		}
		int k = 1 + (int)rnd(g, 4);
		for (int j = 0; j < k; j++) {
			uint64_t v = value(g);
			int mark = (int)rnd(g, 3); /* none, R, W */
			int before = (int)rnd(g, 2);
			expect(g, mark == 2 ? MM_TRACE_WRITE : MM_TRACE_READ, v, 0, 0);
			if (j)
				put(g, ",");
			if (rnd(g, 2))
				spaces(g, 0);
			if (mark && before) {
				put(g, "%c", "rRwW"[(mark - 1) * 2 + (int)rnd(g, 2)]);
				if (rnd(g, 2))
					spaces(g, 0);
			}
			num(g, v);
			if (mark && !before) {
				if (rnd(g, 2))
					spaces(g, 0);
				put(g, "%c", "rRwW"[(mark - 1) * 2 + (int)rnd(g, 2)]);
			}
			if (rnd(g, 2))
				spaces(g, 0);
		}
		if (!rnd(g, 5))
			put(g, "# comment, with comma");
		endl(g);
	}
}

/* ---- csv -------------------------------------------------------------------- */

static void gen_csv(struct gen *g, int n, char *params, size_t plen)
{
	static const char delims[] = ",\t;|";
	static const char *const ops[] = { "get", "SET", "delete", "read", "Write", "del", "add" };
	static const enum mm_trace_kind opk[] = { MM_TRACE_READ, MM_TRACE_WRITE, MM_TRACE_DELETE,
						  MM_TRACE_READ, MM_TRACE_WRITE, MM_TRACE_DELETE,
						  MM_TRACE_WRITE };
	char d = delims[rnd(g, 4)];
	int ncols = 1 + (int)rnd(g, 6);
	int col[4] = { -1, -1, -1, -1 }; /* id, time, size, op */
	int perm[8];
	for (int i = 0; i < ncols; i++)
		perm[i] = i;
	for (int i = ncols - 1; i > 0; i--) {
		int j = (int)rnd(g, (uint64_t)i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int c = 0, i = 0; c < 4 && i < ncols; c++)
		if (c == 0 || rnd(g, 3))
			col[c] = perm[i++];
	int header = (int)rnd(g, 2);
	static const char *const names[] = { "obj_id", "timestamp", "size", "op" };
	size_t pl = (size_t)snprintf(params, plen, "format=csv,delimiter=%s,has-header=%s",
				     d == '\t' ? "tab" : d == ',' ? ",," : (char[]){ d, 0 },
				     header ? "true" : "false");
	for (int c = 0; c < 4; c++)
		if (col[c] >= 0 && (!header || rnd(g, 2))) {
			static const char *const keys[] = { "obj-id-col", "time-col", "size-col",
							    "op-col" };
			if (header && rnd(g, 2))
				pl += (size_t)snprintf(params + pl, plen - pl, ",%s=%s", keys[c],
						       names[c]);
			else
				pl += (size_t)snprintf(params + pl, plen - pl, ",%s=%d", keys[c],
						       col[c] + 1);
		}
	if (header) {
		for (int i = 0; i < ncols; i++) {
			const char *nm = "filler";
			for (int c = 0; c < 4; c++)
				if (col[c] == i)
					nm = names[c];
			put(g, "%s%s", i ? (char[]){ d, 0 } : "", nm);
		}
		endl(g);
	}
	for (int r = 0; r < n; r++) {
		if (!rnd(g, 8)) {
			filler(g);
			continue;
		}
		uint64_t v[4];
		for (int k = 0; k < 3; k++) /* one draw per statement: a fixed order */
			v[k] = value(g);
		v[3] = rnd(g, MM_ARRAY_SIZE(ops));
		uint32_t flags = MM_TREC_ID | (col[1] >= 0 ? MM_TREC_TIME : 0) |
				 (col[2] >= 0 ? MM_TREC_SIZE : 0);
		struct mm_trace_rec *e = expect(g, col[3] >= 0 ? opk[v[3]] : MM_TRACE_READ, v[0],
						col[2] >= 0 ? v[2] : 0, flags);
		if (col[1] >= 0)
			e->time = v[1];
		for (int i = 0; i < ncols; i++) {
			if (i)
				put(g, "%c", d);
			int q = !rnd(g, 5);
			if (d != ' ' && !rnd(g, 4))
				put(g, " ");
			put(g, q ? "\"" : "");
			int c = -1;
			for (int k = 0; k < 4; k++)
				if (col[k] == i)
					c = k;
			if (c == 0)
				num(g, v[0]);
			else if (c == 1 || c == 2)
				put(g, "%llu", (unsigned long long)v[c]);
			else if (c == 3)
				put(g, "%s", ops[v[3]]);
			else if (q)
				put(g, "x%c\"\"y", d); /* the delimiter and a quote, quoted */
			else
				put(g, "xzqy");
			if (q)
				put(g, "\"");
		}
		endl(g);
	}
}

/* ---- Compression and the comparison ----------------------------------------- */

static unsigned char *pack(int how, const char *in, size_t n, size_t *outn)
{
	if (how == 1) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
		size_t cap = deflateBound(&z, n) + 64;
		unsigned char *out = malloc(cap);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		*outn = cap - z.avail_out;
		deflateEnd(&z);
		return out;
	}
	size_t cap = ZSTD_compressBound(n);
	unsigned char *out = malloc(cap);
	*outn = ZSTD_compress(out, cap, in, n, 1);
	assert_false(ZSTD_isError(*outn));
	return out;
}

static void compare(const struct tt_run *want, const struct tt_run *got, const char *what,
		    const char *text)
{
	if (got->rc != 0)
		mm_test_fail_seed("%s: rc %d: %s\n--- trace ---\n%.2000s\n", what, got->rc, got->err,
				  text);
	if (got->n != want->n)
		mm_test_fail_seed("%s: %zu records, expected %zu\n%.2000s\n", what, got->n, want->n,
				  text);
	for (size_t i = 0; i < want->n; i++) {
		const struct mm_trace_rec *x = &want->r[i], *y = &got->r[i];
		int same = x->kind == y->kind && x->addr == y->addr && x->size == y->size &&
			   x->time == y->time && x->line == y->line && x->flags == y->flags;
		if (same && x->kind == MM_TRACE_SYSCALL)
			same = memcmp(&x->sys, &y->sys, sizeof(x->sys)) == 0;
		if (!same)
			mm_test_fail_seed("%s: record %zu (line %llu) differs: kind %d/%d addr %llx/%llx "
					  "size %llu/%llu time %llu/%llu line %llu flags %x/%x\n",
					  what, i, (unsigned long long)x->line, x->kind, y->kind,
					  (unsigned long long)x->addr, (unsigned long long)y->addr,
					  (unsigned long long)x->size, (unsigned long long)y->size,
					  (unsigned long long)x->time, (unsigned long long)y->time,
					  (unsigned long long)y->line, x->flags, y->flags);
	}
}

static void read_file(struct gen *g, const char *data, size_t n, const char *params,
		      const char *what)
{
	char path[] = "/tmp/mmkit-trace-rand-XXXXXX", err[600];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	struct mm_trace_opts o;
	mm_trace_opts_init(&o);
	assert_int_equal(mm_trace_opts_parse(&o, params, err, sizeof(err)), 0);
	struct mm_trace *t = mm_trace_open(path, &o, err, sizeof(err));
	if (!t)
		mm_test_fail_seed("%s: %s\n", what, err);
	struct mm_trace_rec rec;
	struct tt_run got;
	memset(&got, 0, sizeof(got));
	while ((got.rc = mm_trace_next(t, &rec)) == 1)
		tt_push(&got, &rec);
	if (got.rc < 0)
		snprintf(got.err, sizeof(got.err), "%s", mm_trace_error(t));
	mm_trace_close(t);
	unlink(path);
	compare(&g->want, &got, what, g->buf);
	tt_free(&got);
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	uint64_t iters = mm_test_iters(400);
	for (uint64_t it = 0; it < iters; it++) {
		struct gen g;
		char params[256] = "";
		memset(&g, 0, sizeof(g));
		g.rng = &rng;
		int fmt = 1 + (int)(it % 4), n = (int)rnd(&g, 300);
		static const char *const fnames[] = { "", "format=lackey", "format=txt",
						      "format=addr" };
		switch (fmt) {
		case MM_TRACE_FMT_LACKEY: gen_lackey(&g, n); break;
		case MM_TRACE_FMT_TXT: gen_txt(&g, n); break;
		case MM_TRACE_FMT_ADDR: gen_addr(&g, n); break;
		default: gen_csv(&g, n, params, sizeof(params)); break;
		}
		if (fmt != MM_TRACE_FMT_CSV)
			strcpy(params, fnames[fmt]);
		if (!g.buf)
			put(&g, "%s", "");
		int how = (int)rnd(&g, 3); /* plain, gzip, zstd */
		size_t dn = g.len;
		unsigned char *d = how ? pack(how, g.buf, g.len, &dn) : NULL;
		struct tt_run got;
		char what[300];
		snprintf(what, sizeof(what), "iteration %llu, %s, %s", (unsigned long long)it,
			 params, how == 0 ? "plain" : how == 1 ? "gzip" : "zstd");
		tt_read(&got, d ? (const char *)d : g.buf, dn, params);
		compare(&g.want, &got, what, g.buf);
		tt_free(&got);
		if (it % 8 == 0) /* through a file too */
			read_file(&g, d ? (const char *)d : g.buf, dn, params, what);
		if (fmt == MM_TRACE_FMT_LACKEY) { /* the banner makes detection certain */
			tt_read(&got, d ? (const char *)d : g.buf, dn, NULL);
			assert_int_equal(got.fmt, MM_TRACE_FMT_LACKEY);
			compare(&g.want, &got, what, g.buf);
			tt_free(&got);
		}
		free(d);
		free(g.buf);
		tt_free(&g.want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
