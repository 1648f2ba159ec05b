/* scenario_parse.c — the parser of the scenario language: lines, blocks,
 * includes and files.
 *
 * Line-oriented recursive descent: each line is one statement (or a comment,
 * or the `}` that closes a `repeat`), read through a cursor over a NUL-ended
 * copy of the line (scenario_lex.c), its operands parsed by scenario_expr.c
 * and scenario_stmt.c. Includes are read and parsed in place (relative to
 * the including file). Everything is checked here that can be without
 * running: keywords, options, view names, counter names, nesting, sizes of
 * the input. The first error stops the parse with "FILE:LINE:COL: reason".
 *
 * Bounds (struct sc_limits): the size of each file read, the include depth,
 * repeat nesting (SC_MAX_NEST) and the arena (SC_MAX_ARENA), so no input can
 * make the parser use unbounded memory or recurse without end.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/sim.h"
#include "scenario_parser.h"

static bool parse_body(struct parser *ps, struct sc_stmt ***tail, const char *open_at_file,
		       int open_line);
static int parse_src(struct parser *ps, const char *name, char *buf, size_t len,
		     struct sc_stmt ***tail);
static int read_file(struct parser *ps, const char *path, char **buf, size_t *len, const char *at);

/* Is `path` one of the files being read (the current one or an includer)? */
static bool being_read(const struct parser *ps, const char *path)
{
	struct stat a, b;
	if (stat(path, &a))
		return false;
	int n = ps->depth < SC_INCLUDE_CHAIN ? ps->depth : SC_INCLUDE_CHAIN;
	for (int i = 0; i <= n; i++) {
		const char *name = i == n ? ps->src->name : ps->chain[i];
		if (stat(name, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	}
	return false;
}

/* Statements that produce a value (NAME = ...). */
static bool gives_value(enum sc_kind k)
{
	return k == ST_MMAP || k == ST_BRK || k == ST_SBRK || k == ST_SHMGET || k == ST_SHMAT ||
	       k == ST_OPEN;
}

struct sc_keyword {
	const char *w;
	enum sc_kind k;
};

static const struct sc_keyword keywords[] = {
	{ "machine", ST_MACHINE },
	{ "process", ST_PROCESS },
	{ "spawn", ST_SPAWN },
	{ "switch", ST_SWITCH },
	{ "fork", ST_FORK },
	{ "exec", ST_EXEC },
	{ "exit", ST_EXIT },
	{ "mmap", ST_MMAP },
	{ "munmap", ST_MUNMAP },
	{ "mprotect", ST_MPROTECT },
	{ "brk", ST_BRK },
	{ "sbrk", ST_SBRK },
	{ "madvise", ST_MADVISE },
	{ "msync", ST_MSYNC },
	{ "open", ST_OPEN },
	{ "close", ST_CLOSE },
	{ "shmget", ST_SHMGET },
	{ "shmat", ST_SHMAT },
	{ "shmdt", ST_SHMDT },
	{ "shmrm", ST_SHMRM },
	{ "drop_caches", ST_DROP_CACHES },
	{ "tmpfile", ST_TMPFILE },
	{ "read", ST_ACCESS },
	{ "write", ST_ACCESS },
	{ "fetch", ST_ACCESS },
	{ "fill", ST_FILL },
	{ "repeat", ST_REPEAT },
	{ "tick", ST_TICK },
	{ "show", ST_SHOW },
	{ "expect", ST_EXPECT },
	{ "check", ST_CHECK },
	{ "let", ST_LET },
	{ "param", ST_PARAM },
	{ "echo", ST_ECHO },
	{ "section", ST_SECTION },
	{ "strace", ST_STRACE },
	{ "oom_score_adj", ST_OOM_ADJ },
	{ "reclaim", ST_RECLAIM },
	{ "sync", ST_SYNC },
	{ "frame_limit", ST_FRAME_LIMIT },
	{ "swap_fail_after", ST_SWAP_FAIL },
	{ "include", ST_REPEAT /* handled apart */ },
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* Is this `exec` an instruction fetch (an address) rather than execve (a path)? */
static bool exec_is_fetch(struct parser *ps)
{
	scp_skip_ws(ps);
	const char *p = ps->p;
	if (*p == '"' || *p == '/' || *p == '.' || *p == '~')
		return false;
	for (const char *q = p; *q && *q != ' ' && *q != '\t'; q++)
		if (*q == '/')
			return false;
	return true;
}

/* One line: NULL statement for blank lines and comments. Returns false on
 * error; *close set for a `}`. */
static bool parse_line(struct parser *ps, struct sc_stmt ***tail, bool *close)
{
	*close = false;
	if (scp_at_eol(ps))
		return true;
	if (*ps->p == '}') {
		ps->p++;
		*close = true;
		return scp_end_of_line(ps);
	}
	const char *start = ps->p;
	const char *proc = NULL, *var = NULL;
	int var_col = 0;
	bool try_ = false;
	if (*ps->p == '@') {
		ps->p++;
		if (!(proc = scp_need_name(ps, "a process name after '@'")))
			return false;
	}
	if (scp_keyword(ps, "try"))
		try_ = true;
	char w[64];
	const char *at;
	if (!scp_ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected a statement");
		return false;
	}
	scp_skip_ws(ps);
	if (*ps->p == '=' && ps->p[1] != '=') {
		var = scp_pstrndup(ps, w, strlen(w));
		var_col = scp_col_of(ps, at);
		ps->p++;
		if (!scp_ident(ps, w, sizeof(w), &at)) {
			if (!ps->failed)
				perr(ps, ps->p, "expected a system call after '='");
			return false;
		}
	}
	const struct sc_keyword *kw = NULL;
	for (size_t i = 0; i < NKEYWORDS; i++)
		if (strcmp(keywords[i].w, w) == 0)
			kw = &keywords[i];
	if (!kw) {
		const char *names[NKEYWORDS];
		for (size_t i = 0; i < NKEYWORDS; i++)
			names[i] = keywords[i].w;
		scp_unknown(ps, at, "statement", w, names, NKEYWORDS);
		return false;
	}
	if (strcmp(w, "include") == 0) {
		if (proc || var || try_) {
			perr(ps, start, "include takes no '@', '=' or 'try'");
			return false;
		}
		if (!ps->s->lim.allow_files) {
			perr(ps, at, "include: host files are disabled here");
			return false;
		}
		scp_skip_ws(ps);
		const char *path_at = ps->p;
		const char *path = scp_raw_word(ps, "a file name", NULL);
		if (!path || !scp_end_of_line(ps))
			return false;
		/* relative to the including file */
		char full[4096];
		const char *slash = strrchr(ps->src->name, '/');
		if (path[0] != '/' && slash)
			snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - ps->src->name),
				 ps->src->name, path);
		else
			snprintf(full, sizeof(full), "%s", path);
		if (being_read(ps, full)) {
			perr(ps, path_at, "include cycle: %s is already being read", full);
			return false;
		}
		if (ps->depth >= (int)ps->s->lim.max_include_depth) {
			perr(ps, at, "includes nested more than %u deep",
			     ps->s->lim.max_include_depth);
			return false;
		}
		char *buf;
		size_t len;
		if (read_file(ps, full, &buf, &len, path_at))
			return false;
		/* the include is parsed with its own line buffer and cursor */
		struct src *outer = ps->src;
		char *olbuf = ps->lbuf;
		size_t olcap = ps->lcap;
		ps->lbuf = NULL;
		ps->lcap = 0;
		if (ps->depth < SC_INCLUDE_CHAIN)
			ps->chain[ps->depth] = ps->src->name;
		ps->depth++;
		int rc = parse_src(ps, full, buf, len, tail);
		ps->depth--;
		free(ps->lbuf);
		ps->lbuf = olbuf;
		ps->lcap = olcap;
		ps->src = outer;
		return rc == 0;
	}
	enum sc_kind k = kw->k;
	if (k == ST_EXEC && exec_is_fetch(ps))
		k = ST_ACCESS;
	if (var && !gives_value(k)) {
		perr(ps, at, "'%s' gives no value to assign (use 'let NAME = EXPR')", w);
		return false;
	}
	struct sc_stmt *st = scp_new_stmt(ps, k, start);
	if (!st)
		return false;
	st->proc = proc;
	st->var = var;
	st->var_col = var_col;
	st->try_ = try_;
	bool ok = true;
	switch (k) {
	case ST_MACHINE:
		ok = scp_parse_machine(ps, st);
		break;
	case ST_PROCESS:
		ok = scp_parse_process(ps, st);
		break;
	case ST_SPAWN:
		ok = (st->name = scp_need_name(ps, "a process name")) && scp_parse_argv(ps, st);
		break;
	case ST_EXEC:
		ok = scp_parse_argv(ps, st);
		break;
	case ST_SWITCH:
	case ST_FORK:
		ok = (st->name = scp_need_name(ps, "a process name")) != NULL;
		break;
	case ST_EXIT:
		if (!scp_at_eol(ps))
			ok = (st->name = scp_need_name(ps, "a process name")) != NULL;
		break;
	case ST_MMAP:
		ok = scp_parse_mmap(ps, st);
		break;
	case ST_MUNMAP:
		ok = scp_need_expr(ps, &st->a[0]) && scp_need_expr(ps, &st->a[1]);
		break;
	case ST_MPROTECT: {
		ok = scp_need_expr(ps, &st->a[0]) && scp_need_expr(ps, &st->a[1]);
		if (ok) {
			const char *s = ps->p;
			if ((st->prot = scp_try_prot(ps)) < 0) {
				perr(ps, s,
				     "expected a protection (r, w, x letters as in rw-, or none)");
				ok = false;
			}
		}
		break;
	}
	case ST_BRK:
		if (!scp_at_eol(ps))
			ok = scp_need_expr(ps, &st->a[0]);
		break;
	case ST_SBRK:
	case ST_CLOSE:
	case ST_SHMDT:
	case ST_SHMRM:
		ok = scp_need_expr(ps, &st->a[0]);
		break;
	case ST_MADVISE:
		ok = scp_need_expr(ps, &st->a[0]) && scp_need_expr(ps, &st->a[1]);
		if (ok) {
			char f[64];
			const char *fat;
			if (!scp_ident(ps, f, sizeof(f), &fat)) {
				perr(ps, ps->p,
				     "expected an advice (dontneed, normal, random, "
				     "sequential, willneed)");
				ok = false;
			} else if ((st->advice = scp_flag_lookup(scp_advices, 5, f)) < 0) {
				scp_flag_unknown(ps, fat, "advice", f, scp_advices, 5);
				ok = false;
			}
		}
		break;
	case ST_MSYNC:
		ok = scp_need_expr(ps, &st->a[0]) && scp_need_expr(ps, &st->a[1]) &&
		     scp_flag_words(ps, scp_msync_flags, 3, "msync flag", &st->flags);
		if (ok && !st->flags)
			st->flags = MM_MS_SYNC;
		break;
	case ST_OPEN:
		ok = (st->path = scp_raw_word(ps, "a file", NULL)) != NULL;
		if (ok && scp_keyword(ps, "rw"))
			st->flags = MM_O_RDWR;
		break;
	case ST_SHMGET:
		if (scp_keyword(ps, "private"))
			st->on = true;
		else
			ok = scp_need_expr(ps, &st->a[0]);
		ok = ok && scp_need_expr(ps, &st->a[1]) &&
		     scp_flag_words(ps, scp_shm_flags, 2, "shmget flag (create, excl)",
				    &st->shmflg);
		break;
	case ST_SHMAT:
		ok = scp_need_expr(ps, &st->a[0]);
		scp_skip_ws(ps);
		if (ok && !scp_at_eol(ps) && !isalpha((unsigned char)*ps->p))
			ok = scp_need_expr(ps, &st->a[1]);
		ok = ok && scp_flag_words(ps, scp_shm_flags + 2, 2, "shmat flag (rdonly, rnd)",
					  &st->shmflg);
		break;
	case ST_DROP_CACHES:
	case ST_CHECK:
		break;
	case ST_TMPFILE:
		ok = (st->name = scp_need_name(ps, "a file name")) && scp_need_expr(ps, &st->a[0]);
		while (ok && !scp_at_eol(ps)) {
			char key[64];
			const char *kat;
			if (!scp_option_key(ps, key, sizeof(key), &kat)) {
				perr(ps, ps->p, "expected fill=BYTE");
				ok = false;
			} else if (strcmp(key, "fill") == 0) {
				ok = scp_need_expr(ps, &st->fill);
			} else {
				perr(ps, kat, "unknown tmpfile option '%s' (fill=BYTE)", key);
				ok = false;
			}
		}
		break;
	case ST_ACCESS:
		st->access = strcmp(w, "write") == 0  ? MM_ACCESS_WRITE
			     : strcmp(w, "read") == 0 ? MM_ACCESS_READ
						      : MM_ACCESS_EXEC;
		ok = scp_parse_access(ps, st);
		break;
	case ST_FILL:
		ok = scp_need_expr(ps, &st->a[0]) && scp_need_expr(ps, &st->a[1]) &&
		     scp_need_expr(ps, &st->value);
		break;
	case ST_REPEAT: {
		ok = scp_need_expr(ps, &st->a[0]);
		if (!ok)
			break;
		scp_skip_ws(ps);
		if (*ps->p != '{') {
			perr(ps, ps->p, "expected '{' after the repeat count");
			return false;
		}
		ps->p++;
		if (!scp_end_of_line(ps))
			return false;
		if (ps->nest >= SC_MAX_NEST) {
			perr(ps, start, "repeat nested more than %d deep", SC_MAX_NEST);
			return false;
		}
		**tail = st;
		*tail = &st->next;
		struct sc_stmt **btail = &st->body;
		ps->nest++;
		ok = parse_body(ps, &btail, ps->src->name, st->line);
		ps->nest--;
		return ok;
	}
	case ST_OOM_ADJ:
	case ST_RECLAIM:
	case ST_FRAME_LIMIT:
		ok = scp_need_expr(ps, &st->a[0]);
		break;
	case ST_SYNC:
		break;
	case ST_SWAP_FAIL:
		if (scp_keyword(ps, "never"))
			st->on = true;
		else
			ok = scp_need_expr(ps, &st->a[0]);
		break;
	case ST_TICK:
		if (!scp_at_eol(ps))
			ok = scp_need_expr(ps, &st->a[0]);
		break;
	case ST_SHOW:
		ok = scp_parse_show(ps, st);
		break;
	case ST_EXPECT:
		ok = scp_parse_expect(ps, st);
		break;
	case ST_LET:
	case ST_PARAM: {
		ok = (st->name = scp_need_name(ps, "a variable name")) != NULL;
		scp_skip_ws(ps);
		if (ok && (*ps->p != '=' || ps->p[1] == '=')) {
			perr(ps, ps->p, "expected '=' after the variable name");
			ok = false;
		}
		if (ok) {
			ps->p++;
			ok = scp_need_expr(ps, &st->a[0]);
		}
		break;
	}
	case ST_ECHO:
		ok = scp_parse_text(ps, st);
		break;
	case ST_SECTION:
		ok = (st->text = scp_rest_of_line(ps)) != NULL;
		break;
	case ST_STRACE:
		if (scp_keyword(ps, "on")) {
			st->on = true;
		} else if (!scp_keyword(ps, "off")) {
			perr(ps, ps->p, "expected 'on' or 'off'");
			ok = false;
		}
		break;
	}
	if (!ok || !scp_end_of_line(ps))
		return false;
	if (try_ &&
	    (k == ST_MACHINE || k == ST_REPEAT || k == ST_SHOW || k == ST_EXPECT || k == ST_LET ||
	     k == ST_PARAM || k == ST_ECHO || k == ST_SECTION || k == ST_STRACE || k == ST_CHECK)) {
		perr(ps, start, "'try' goes before a system call or an access");
		return false;
	}
	**tail = st;
	*tail = &st->next;
	return true;
}

/* ---- Files and lines ---------------------------------------------------- */

/* The next line of the source into ps->lbuf; false at the end. */
static bool next_line(struct parser *ps)
{
	struct src *s = ps->src;
	if (s->pos >= s->len)
		return false;
	const char *b = s->buf + s->pos;
	const char *nl = memchr(b, '\n', s->len - s->pos);
	size_t n = nl ? (size_t)(nl - b) : s->len - s->pos;
	s->pos += n + (nl ? 1 : 0);
	s->line++;
	if (n && b[n - 1] == '\r')
		n--;
	if (n + 1 > ps->lcap) {
		char *nb = realloc(ps->lbuf, n + 1);
		if (!nb) {
			scp_fail_status(ps, SC_NOMEM, NULL, "out of memory");
			return false;
		}
		ps->lbuf = nb;
		ps->lcap = n + 1;
	}
	memcpy(ps->lbuf, b, n);
	ps->lbuf[n] = 0;
	ps->p = ps->lbuf;
	const char *z = memchr(b, 0, n);
	if (z) {
		ps->lbuf[z - b] = 0;
		perr(ps, ps->lbuf + (z - b), "NUL byte in the line");
		return false;
	}
	return true;
}

static bool parse_body(struct parser *ps, struct sc_stmt ***tail, const char *open_file,
		       int open_line)
{
	while (next_line(ps)) {
		bool close;
		if (!parse_line(ps, tail, &close))
			return false;
		if (close) {
			if (!open_file) {
				perr(ps, ps->lbuf, "'}' without a repeat");
				return false;
			}
			return true;
		}
	}
	if (ps->failed)
		return false;
	if (open_file) {
		perr(ps, NULL, "end of file inside the repeat opened at %s:%d", open_file,
		     open_line);
		return false;
	}
	return true;
}

static int add_file(struct parser *ps, const char *name)
{
	struct sc_script *s = ps->s;
	if (s->nfiles == s->capfiles) {
		int cap = s->capfiles ? s->capfiles * 2 : 8;
		const char **f = sc_alloc(&s->arena, sizeof(*f) * (size_t)cap);
		if (!f)
			return -1;
		if (s->nfiles)
			memcpy(f, s->files, sizeof(*f) * (size_t)s->nfiles);
		s->files = f;
		s->capfiles = cap;
	}
	const char *d = sc_strndup(&s->arena, name, strlen(name));
	if (!d)
		return -1;
	s->files[s->nfiles] = d;
	return s->nfiles++;
}

/* Parse buf (owned: freed here) as file `name`. */
static int parse_src(struct parser *ps, const char *name, char *buf, size_t len,
		     struct sc_stmt ***tail)
{
	struct src src = { .buf = buf, .len = len };
	int f = add_file(ps, name);
	if (f < 0) {
		free(buf);
		scp_fail_status(ps, SC_NOMEM, NULL, "out of memory");
		return -1;
	}
	src.name = ps->s->files[f];
	src.file = f;
	struct src *outer = ps->src;
	ps->src = &src;
	int outer_nest = ps->nest;
	ps->nest = 0;
	bool ok = parse_body(ps, tail, NULL, 0);
	ps->nest = outer_nest;
	if (!ok && !ps->failed)
		perr(ps, NULL, "parse error");
	/* an error message names the file it is in: keep ps->src until then */
	ps->src = outer;
	free(buf);
	return ok ? 0 : -1;
}

static int read_file(struct parser *ps, const char *path, char **out, size_t *len, const char *at)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		scp_fail_status(ps, SC_IO, at, "%s: %s", path, strerror(errno));
		return -1;
	}
	errno = 0; /* what a read error leaves in it says why */
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	while (b) {
		if (n == cap) {
			if (cap >= ps->s->lim.max_file_bytes) {
				fclose(f);
				free(b);
				scp_fail_status(ps, SC_BADINPUT, at, "%s: larger than %llu bytes",
						path,
						(unsigned long long)ps->s->lim.max_file_bytes);
				return -1;
			}
			cap *= 2;
			char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
		}
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (!b) {
		fclose(f);
		scp_fail_status(ps, SC_NOMEM, NULL, "out of memory");
		return -1;
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		free(b);
		scp_fail_status(ps, SC_IO, at, "%s: %s", path, e ? strerror(e) : "read error");
		return -1;
	}
	fclose(f);
	if (n > ps->s->lim.max_file_bytes) {
		free(b);
		scp_fail_status(ps, SC_BADINPUT, at, "%s: larger than %llu bytes", path,
				(unsigned long long)ps->s->lim.max_file_bytes);
		return -1;
	}
	*out = b;
	*len = n;
	return 0;
}

/* ---- Entry points ------------------------------------------------------- */

void sc_limits_default(struct sc_limits *l)
{
	l->max_ram = (uint64_t)16 << 30;
	l->max_swap = (uint64_t)16 << 30;
	l->max_steps = (uint64_t)1 << 34;
	l->max_file_bytes = (uint64_t)64 << 20;
	l->max_include_depth = 16;
	l->max_hugepages = 1 << 16;
	l->allow_files = true;
}

static int parse_common(const char *name, char *buf, size_t len, const struct sc_limits *lim,
			struct sc_script **out, struct sc_result *res)
{
	memset(res, 0, sizeof(*res));
	*out = NULL;
	struct sc_script *s = calloc(1, sizeof(*s));
	if (!s) {
		free(buf);
		res->status = SC_NOMEM;
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		return SC_NOMEM;
	}
	if (lim)
		s->lim = *lim;
	else
		sc_limits_default(&s->lim);
	struct parser ps = { .s = s, .res = res };
	struct sc_stmt **tail = &s->first;
	int rc = parse_src(&ps, name, buf, len, &tail);
	free(ps.lbuf);
	if (rc) {
		sc_script_free(s);
		return res->status;
	}
	*out = s;
	return 0;
}

int sc_parse_buffer(const char *name, const char *buf, size_t len, const struct sc_limits *lim,
		    struct sc_script **out, struct sc_result *res)
{
	char *copy = malloc(len ? len : 1);
	if (!copy) {
		memset(res, 0, sizeof(*res));
		res->status = SC_NOMEM;
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		return SC_NOMEM;
	}
	memcpy(copy, buf, len);
	return parse_common(name, copy, len, lim, out, res);
}

int sc_parse_file(const char *path, const struct sc_limits *lim, struct sc_script **out,
		  struct sc_result *res)
{
	memset(res, 0, sizeof(*res));
	*out = NULL;
	struct sc_limits def;
	if (!lim) {
		sc_limits_default(&def);
		lim = &def;
	}
	struct sc_script tmp = { .lim = *lim };
	struct parser ps = { .s = &tmp, .res = res };
	char *buf;
	size_t len;
	if (read_file(&ps, path, &buf, &len, NULL))
		return res->status;
	return parse_common(path, buf, len, lim, out, res);
}

void sc_script_free(struct sc_script *s)
{
	if (!s)
		return;
	sc_arena_free(&s->arena);
	free(s);
}
