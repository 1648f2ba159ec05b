/* scenario_parser.h — what the files of the scenario parser share:
 * scenario_lex.c (the arena, the parser's state and messages, lexing on a
 * line, protections, flags and options), scenario_expr.c (names and
 * expressions), scenario_stmt.c (the statements' own syntax) and
 * scenario_parse.c (lines, blocks, includes, files and the entry points).
 * Private to the parser: scenario_internal.h is what it produces.
 */
#ifndef MMSIM_SCENARIO_PARSER_H
#define MMSIM_SCENARIO_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario_internal.h"

#define SC_MAX_NEST   32                 /* repeat inside repeat */
#define SC_MAX_EXPR   64                 /* parenthesis/unary depth */
#define SC_MAX_ARENA  ((size_t)256 << 20)
#define SC_MAX_ARGS   64                 /* spawn/exec arguments */

/* One file being read. */
struct src {
	const char *name;
	int file;
	char *buf;           /* the whole file, owned */
	size_t len, pos;
	int line;
};

#define SC_INCLUDE_CHAIN 64 /* includers remembered for the cycle check */

/* The state of one parse (a script and its includes). */
struct parser {
	struct sc_script *s;  /* what is being built */
	struct sc_result *res; /* where the first error goes */
	struct src *src;      /* the file being read */
	char *lbuf;          /* the current line, NUL-ended (malloc'ed) */
	size_t lcap;
	const char *p;       /* cursor in lbuf */
	int depth;           /* include depth */
	const char *chain[SC_INCLUDE_CHAIN]; /* the includers being read, outermost
					      * first (depth of them): cycles */
	int nest;            /* repeat depth */
	int edepth;          /* expression depth */
	bool failed;
};

/* A flag word and its value (mmap flags, advices, msync and shm flags). */
struct sc_flag {
	const char *name;
	int v;
};

/* A syntax error at `at` (a place in the current line, or NULL): the
 * first one is kept in ps->res as "FILE:LINE:COL: reason". */
#define perr(ps, at, ...) scp_fail_status(ps, SC_BADINPUT, at, __VA_ARGS__)

int scp_col_of(const struct parser *ps, const char *at);
void scp_fail_status(struct parser *ps, int status, const char *at, const char *fmt, ...)
		     __attribute__((format(printf, 4, 5)));
void *scp_palloc(struct parser *ps, size_t n);
const char *scp_pstrndup(struct parser *ps, const char *s, size_t n);
const char *scp_closest(const char *w, const char *const *words, size_t n);
void scp_unknown(struct parser *ps, const char *at, const char *what, const char *w,
		 const char *const *words, size_t n);
void scp_skip_ws(struct parser *ps);
bool scp_at_eol(struct parser *ps);
bool scp_is_id0(int c);
bool scp_is_id(int c);
bool scp_ident(struct parser *ps, char *buf, size_t cap, const char **at);
const char *scp_need_name(struct parser *ps, const char *what);
bool scp_keyword(struct parser *ps, const char *w);
const char *scp_raw_word(struct parser *ps, const char *what, size_t *len);
int scp_try_prot(struct parser *ps);
int scp_flag_lookup(const struct sc_flag *t, size_t n, const char *w);
void scp_flag_unknown(struct parser *ps, const char *at, const char *what, const char *w,
		      const struct sc_flag *t, size_t n);
bool scp_option_key(struct parser *ps, char *buf, size_t cap, const char **at);
bool scp_decimal(struct parser *ps, double *out);
int scp_find_name(const char *w, const char *const *names, size_t n);
struct sc_expr *scp_expr(struct parser *ps);
struct sc_stmt *scp_new_stmt(struct parser *ps, enum sc_kind k, const char *at);
bool scp_need_expr(struct parser *ps, struct sc_expr **slot);
bool scp_end_of_line(struct parser *ps);
bool scp_parse_machine(struct parser *ps, struct sc_stmt *st);
bool scp_parse_process(struct parser *ps, struct sc_stmt *st);
bool scp_parse_argv(struct parser *ps, struct sc_stmt *st);
bool scp_parse_mmap(struct parser *ps, struct sc_stmt *st);
bool scp_flag_words(struct parser *ps, const struct sc_flag *t, size_t n, const char *what,
		    int *out);
bool scp_parse_access(struct parser *ps, struct sc_stmt *st);
bool scp_parse_expect(struct parser *ps, struct sc_stmt *st);
bool scp_parse_show(struct parser *ps, struct sc_stmt *st);
const char *scp_rest_of_line(struct parser *ps);
bool scp_parse_text(struct parser *ps, struct sc_stmt *st);
extern const struct sc_flag scp_advices[];
extern const struct sc_flag scp_msync_flags[];
extern const struct sc_flag scp_shm_flags[];

#endif /* MMSIM_SCENARIO_PARSER_H */
