/* scenario_lex.c — the scenario parser's groundwork: the arena every node
 * lives in, the parser's state and its error messages (the first error,
 * "FILE:LINE:COL: reason", with a "did you mean" hint from the closest
 * word), lexing on the current line (names, keywords, raw words and quoted
 * strings, KEY= options), protections and flag words.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmkit/sim.h"
#include "scenario_parser.h"

/* ---- Arena -------------------------------------------------------------- */

void *sc_alloc(struct sc_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (n == 0)
		n = sizeof(max_align_t);
	struct sc_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		if (a->total + cap > SC_MAX_ARENA)
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
		a->total += cap;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *sc_strndup(struct sc_arena *a, const char *s, size_t n)
{
	char *d = sc_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

void sc_arena_free(struct sc_arena *a)
{
	struct sc_chunk *c = a->head;
	while (c) {
		struct sc_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->total = 0;
}

/* ---- Parser state ------------------------------------------------------- */

int scp_col_of(const struct parser *ps, const char *at)
{
	return (int)(at - ps->lbuf) + 1;
}

void scp_fail_status(struct parser *ps, int status, const char *at, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = true;
	ps->res->status = status;
	char *m = ps->res->msg;
	size_t cap = sizeof(ps->res->msg);
	int n;
	if (ps->src && at)
		n = snprintf(m, cap, "%s:%d:%d: ", ps->src->name, ps->src->line,
			     scp_col_of(ps, at));
	else if (ps->src)
		n = snprintf(m, cap, "%s:%d: ", ps->src->name, ps->src->line);
	else
		n = 0;
	if (n < 0 || (size_t)n >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

void *scp_palloc(struct parser *ps, size_t n)
{
	void *p = sc_alloc(&ps->s->arena, n);
	if (!p)
		scp_fail_status(ps, SC_NOMEM, NULL, "out of memory (the scenario is too large)");
	return p;
}

const char *scp_pstrndup(struct parser *ps, const char *s, size_t n)
{
	char *d = sc_strndup(&ps->s->arena, s, n);
	if (!d)
		scp_fail_status(ps, SC_NOMEM, NULL, "out of memory (the scenario is too large)");
	return d;
}

/* The closest word, for hints (edit distance <= 2 or a prefix). */
static size_t edit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t prev[41], cur[41];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *scp_closest(const char *w, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t bd = 3;
	for (size_t i = 0; i < n; i++) {
		if (!words[i])
			continue;
		size_t d = edit(w, words[i]);
		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* "unknown X 'w'" with a hint */
void scp_unknown(struct parser *ps, const char *at, const char *what, const char *w,
		 const char *const *words, size_t n)
{
	const char *h = scp_closest(w, words, n);
	if (h)
		perr(ps, at, "unknown %s '%s' (did you mean '%s'?)", what, w, h);
	else
		perr(ps, at, "unknown %s '%s'", what, w);
}

/* ---- Lexing on the current line ----------------------------------------- */

void scp_skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

bool scp_at_eol(struct parser *ps)
{
	scp_skip_ws(ps);
	return *ps->p == 0 || *ps->p == '#';
}

bool scp_is_id0(int c)
{
	return isalpha(c) || c == '_';
}

bool scp_is_id(int c)
{
	return isalnum(c) || c == '_';
}

/* An identifier at the cursor into buf (up to 63 characters); its start in
 * *at. false (cursor unchanged) if there is none. */
bool scp_ident(struct parser *ps, char *buf, size_t cap, const char **at)
{
	scp_skip_ws(ps);
	const char *s = ps->p;
	if (!scp_is_id0((unsigned char)*s))
		return false;
	const char *e = s;
	while (scp_is_id((unsigned char)*e))
		e++;
	if ((size_t)(e - s) >= cap) {
		perr(ps, s, "name too long (at most %zu characters)", cap - 1);
		return false;
	}
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = 0;
	if (at)
		*at = s;
	ps->p = e;
	return true;
}

/* The next word must be an identifier: the name of a process, variable... */
const char *scp_need_name(struct parser *ps, const char *what)
{
	char w[64];
	const char *at;
	if (!scp_ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected %s (a name: letters, digits, _)", what);
		return NULL;
	}
	return scp_pstrndup(ps, w, strlen(w));
}

/* Is the word at the cursor `w` followed by a delimiter? Consumes it if so. */
bool scp_keyword(struct parser *ps, const char *w)
{
	scp_skip_ws(ps);
	size_t n = strlen(w);
	if (strncmp(ps->p, w, n) != 0 || scp_is_id((unsigned char)ps->p[n]))
		return false;
	ps->p += n;
	return true;
}

/* A word up to whitespace, or a "quoted string" (\" \\ \n \t \xHH escapes):
 * paths, echo text, exec arguments. */
const char *scp_raw_word(struct parser *ps, const char *what, size_t *len)
{
	scp_skip_ws(ps);
	const char *s = ps->p;
	if (*s == '"') {
		size_t cap = strlen(s) + 1, n = 0;
		char *d = scp_palloc(ps, cap);
		if (!d)
			return NULL;
		const char *q = s + 1;
		for (;;) {
			char c = *q;
			if (c == 0) {
				perr(ps, s, "unterminated string");
				return NULL;
			}
			q++;
			if (c == '"')
				break;
			if (c == '\\') {
				char e = *q++;
				switch (e) {
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case '0':
					c = 0;
					break;
				case '\\':
				case '"':
					c = e;
					break;
				case 'x':
					if (isxdigit((unsigned char)q[0]) &&
					    isxdigit((unsigned char)q[1])) {
						char hex[3] = { q[0], q[1], 0 };
						c = (char)strtol(hex, NULL, 16);
						q += 2;
						break;
					}
					perr(ps, q - 2, "bad escape: \\x needs two hex digits");
					return NULL;
				default:
					perr(ps, q - 2, "unknown escape '\\%c'", e ? e : '0');
					return NULL;
				}
			}
			d[n++] = c;
		}
		ps->p = q;
		if (len)
			*len = n;
		return d;
	}
	const char *e = s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (e == s) {
		perr(ps, s, "expected %s", what);
		return NULL;
	}
	ps->p = e;
	if (len)
		*len = (size_t)(e - s);
	return scp_pstrndup(ps, s, (size_t)(e - s));
}

/* ---- Protection, flags, options ----------------------------------------- */

/* A protection: "rw-" style (r, w, x or - in their places), letters in any
 * order ("rw", "rx"), or "none". -1 if s is not one. */
static int parse_prot(const char *s, size_t n)
{
	if (n == 4 && strncmp(s, "none", 4) == 0)
		return MM_PROT_NONE;
	if (n == 0 || n > 3)
		return -1;
	int prot = 0;
	if (n == 3 && (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') &&
	    (s[2] == 'x' || s[2] == '-')) {
		return (s[0] == 'r' ? MM_PROT_READ : 0) | (s[1] == 'w' ? MM_PROT_WRITE : 0) |
		       (s[2] == 'x' ? MM_PROT_EXEC : 0);
	}
	for (size_t i = 0; i < n; i++) {
		int bit = s[i] == 'r'   ? MM_PROT_READ
			  : s[i] == 'w' ? MM_PROT_WRITE
			  : s[i] == 'x' ? MM_PROT_EXEC
					: -1;
		if (bit < 0 || (prot & bit))
			return -1;
		prot |= bit;
	}
	return prot;
}

/* A bare protection word at the cursor (rw-, r--, ---, rwx, none): consumed
 * if present. */
int scp_try_prot(struct parser *ps)
{
	scp_skip_ws(ps);
	const char *s = ps->p, *e = s;
	while (*e && *e != ' ' && *e != '\t' && *e != '#')
		e++;
	int prot = parse_prot(s, (size_t)(e - s));
	if (prot >= 0)
		ps->p = e;
	return prot;
}

int scp_flag_lookup(const struct sc_flag *t, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, w) == 0)
			return t[i].v;
	return -1;
}

void scp_flag_unknown(struct parser *ps, const char *at, const char *what, const char *w,
		      const struct sc_flag *t, size_t n)
{
	const char *names[32];
	for (size_t i = 0; i < n && i < 32; i++)
		names[i] = t[i].name;
	scp_unknown(ps, at, what, w, names, n < 32 ? n : 32);
}

/* key= at the cursor: the key in buf, the cursor after '='. */
bool scp_option_key(struct parser *ps, char *buf, size_t cap, const char **at)
{
	scp_skip_ws(ps);
	const char *save = ps->p;
	if (!scp_ident(ps, buf, cap, at)) {
		ps->p = save;
		return false;
	}
	if (*ps->p == '.' && scp_is_id0((unsigned char)ps->p[1])) { /* dotted keys: tlb.ns */
		const char *s = ps->p + 1, *e = s;
		while (scp_is_id((unsigned char)*e))
			e++;
		size_t l = strlen(buf);
		if (l + 1 + (size_t)(e - s) < cap) {
			buf[l] = '.';
			memcpy(buf + l + 1, s, (size_t)(e - s));
			buf[l + 1 + (size_t)(e - s)] = 0;
			ps->p = e;
		}
	}
	if (*ps->p != '=' || ps->p[1] == '=') {
		ps->p = save;
		return false;
	}
	ps->p++;
	return true;
}

/* A decimal fraction (alpha=0.9). */
bool scp_decimal(struct parser *ps, double *out)
{
	scp_skip_ws(ps);
	char *end;
	errno = 0;
	double v = strtod(ps->p, &end);
	if (end == ps->p || errno || !(v > 0 && v < 100)) {
		perr(ps, ps->p, "expected a number between 0 and 100 (e.g. 0.9)");
		return false;
	}
	ps->p = end;
	*out = v;
	return true;
}
