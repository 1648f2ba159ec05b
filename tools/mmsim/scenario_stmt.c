/* scenario_stmt.c — the syntax of the statements that have their own:
 * machine options, process layouts, exec arguments, mmap's protections,
 * flags and options, access patterns, expect, show, echo text. Each
 * function parses the rest of the line after its keyword into a statement.
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

static const struct sc_flag map_flags[] = {
	{ "private", MM_MAP_PRIVATE },
	{ "shared", MM_MAP_SHARED },
	{ "shared_validate", MM_MAP_SHARED_VALIDATE },
	{ "anonymous", MM_MAP_ANONYMOUS },
	{ "anon", MM_MAP_ANONYMOUS },
	{ "fixed", MM_MAP_FIXED },
	{ "fixed_noreplace", MM_MAP_FIXED_NOREPLACE },
	{ "populate", MM_MAP_POPULATE },
	{ "hugetlb", MM_MAP_HUGETLB },
	{ "noreserve", MM_MAP_NORESERVE },
	{ "growsdown", MM_MAP_GROWSDOWN },
	{ "stack", MM_MAP_STACK },
	{ "locked", MM_MAP_LOCKED },
	{ "nonblock", MM_MAP_NONBLOCK },
	{ "denywrite", MM_MAP_DENYWRITE },
	{ "executable", MM_MAP_EXECUTABLE },
};
#define NMAP_FLAGS (sizeof(map_flags) / sizeof(map_flags[0]))

/* ---- Statements --------------------------------------------------------- */

struct sc_stmt *scp_new_stmt(struct parser *ps, enum sc_kind k, const char *at)
{
	struct sc_stmt *st = scp_palloc(ps, sizeof(*st));
	if (st) {
		st->kind = k;
		st->file = ps->src->file;
		st->line = ps->src->line;
		st->col = scp_col_of(ps, at);
	}
	return st;
}

bool scp_need_expr(struct parser *ps, struct sc_expr **slot)
{
	*slot = scp_expr(ps);
	return *slot != NULL;
}

/* The end of a statement: nothing but a comment may follow. */
bool scp_end_of_line(struct parser *ps)
{
	if (ps->failed)
		return false;
	if (!scp_at_eol(ps)) {
		perr(ps, ps->p, "unexpected '%.20s' at the end of the statement", ps->p);
		return false;
	}
	return true;
}

static const char *const machine_keys[] = {
	"ram",
	"paging",
	"pcid",
	"zones",
	"gbpages",
	"dtlb",
	"dtlb_large",
	"dtlb_1g",
	"itlb",
	"itlb_large",
	"stlb",
	"tlb_ns",
	"mem_ns",
	"disk_ns",
	"fault_ns",
	"stack_rlimit",
	"stack_guard_gap",
	"mmap_min_addr",
	"reserve",
	"nr_hugepages",
	"swap",
	"swap_file",
	"reclaim",
	"policy",
	"local",
	"frame_limit",
	"hz",
	"dirty_writeback",
	"dirty_expire",
	"policy_tick",
};
#define NMACHINE_KEYS (sizeof(machine_keys) / sizeof(machine_keys[0]))

/* Keys whose value is a word, not an expression. */
static bool word_key(const char *k)
{
	return strcmp(k, "pcid") == 0 || strcmp(k, "zones") == 0 || strcmp(k, "gbpages") == 0 ||
	       strcmp(k, "dtlb") == 0 || strcmp(k, "dtlb_large") == 0 ||
	       strcmp(k, "dtlb_1g") == 0 || strcmp(k, "itlb") == 0 ||
	       strcmp(k, "itlb_large") == 0 || strcmp(k, "stlb") == 0 ||
	       strcmp(k, "swap_file") == 0 || strcmp(k, "reclaim") == 0 ||
	       strcmp(k, "policy") == 0 || strcmp(k, "local") == 0;
}

bool scp_parse_machine(struct parser *ps, struct sc_stmt *st)
{
	struct sc_kv **tail = &st->kv;
	while (!scp_at_eol(ps)) {
		char k[64];
		const char *at;
		if (!scp_option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p,
			     "expected KEY=VALUE (keys: ram paging pcid zones gbpages dtlb "
			     "dtlb_large dtlb_1g itlb itlb_large stlb tlb_ns mem_ns disk_ns "
			     "fault_ns "
			     "stack_rlimit stack_guard_gap mmap_min_addr reserve nr_hugepages swap "
			     "swap_file reclaim policy local frame_limit hz dirty_writeback "
			     "dirty_expire policy_tick)");
			return false;
		}
		if (scp_find_name(k, machine_keys, NMACHINE_KEYS) < 0) {
			scp_unknown(ps, at, "machine option", k, machine_keys, NMACHINE_KEYS);
			return false;
		}
		struct sc_kv *kv = scp_palloc(ps, sizeof(*kv));
		if (!kv)
			return false;
		kv->key = scp_pstrndup(ps, k, strlen(k));
		kv->col = scp_col_of(ps, at);
		if (word_key(k)) {
			scp_skip_ws(ps);
			const char *s = ps->p;
			while (*ps->p && *ps->p != ' ' && *ps->p != '\t' && *ps->p != '#')
				ps->p++;
			if (ps->p == s) {
				perr(ps, s, "expected a value for %s=", k);
				return false;
			}
			kv->word = scp_pstrndup(ps, s, (size_t)(ps->p - s));
		} else if (!scp_need_expr(ps, &kv->e)) {
			return false;
		}
		*tail = kv;
		tail = &kv->next;
	}
	return true;
}

bool scp_parse_process(struct parser *ps, struct sc_stmt *st)
{
	if (!(st->name = scp_need_name(ps, "a process name")))
		return false;
	while (!scp_at_eol(ps)) {
		char k[64];
		const char *at;
		if (scp_keyword(ps, "empty")) {
			st->on = true;
			continue;
		}
		if (!scp_option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p, "expected text=SIZE, data=SIZE, bss=SIZE or 'empty'");
			return false;
		}
		int i = strcmp(k, "text") == 0   ? 0
			: strcmp(k, "data") == 0 ? 1
			: strcmp(k, "bss") == 0  ? 2
						 : -1;
		if (i < 0) {
			static const char *const keys[] = { "text", "data", "bss" };
			scp_unknown(ps, at, "process option", k, keys, 3);
			return false;
		}
		if (!scp_need_expr(ps, &st->a[i]))
			return false;
	}
	return true;
}

/* exec arguments: PATH [ARG...] */
bool scp_parse_argv(struct parser *ps, struct sc_stmt *st)
{
	const char *args[SC_MAX_ARGS];
	int n = 0;
	while (!scp_at_eol(ps)) {
		if (n == SC_MAX_ARGS) {
			perr(ps, ps->p, "too many arguments (at most %d)", SC_MAX_ARGS);
			return false;
		}
		size_t len;
		const char *w = scp_raw_word(ps, "an argument", &len);
		if (!w)
			return false;
		if (strlen(w) != len) {
			perr(ps, ps->p, "an argument cannot hold a NUL byte");
			return false;
		}
		args[n++] = w;
	}
	if (n == 0) {
		perr(ps, ps->p, "expected the path of a program");
		return false;
	}
	st->argv = scp_palloc(ps, sizeof(*st->argv) * (size_t)(n + 1));
	if (!st->argv)
		return false;
	memcpy(st->argv, args, sizeof(*args) * (size_t)n);
	st->argc = n;
	st->path = args[0];
	return true;
}

bool scp_parse_mmap(struct parser *ps, struct sc_stmt *st)
{
	if (!scp_need_expr(ps, &st->a[0]))
		return false;
	st->prot = -1;
	st->flags = 0;
	while (!scp_at_eol(ps)) {
		char k[64];
		const char *at;
		if (scp_option_key(ps, k, sizeof(k), &at)) {
			if (strcmp(k, "addr") == 0) {
				if (!scp_need_expr(ps, &st->addr))
					return false;
			} else if (strcmp(k, "offset") == 0) {
				if (!scp_need_expr(ps, &st->offset))
					return false;
			} else if (strcmp(k, "file") == 0) {
				if (!(st->path = scp_raw_word(ps, "a file", NULL)))
					return false;
			} else if (strcmp(k, "fd") == 0) {
				if (!scp_need_expr(ps, &st->a[1]))
					return false;
			} else if (strcmp(k, "prot") == 0) {
				const char *s = ps->p;
				if ((st->prot = scp_try_prot(ps)) < 0) {
					perr(ps, s,
					     "bad protection (r, w, x letters as in rw-, or none)");
					return false;
				}
			} else if (strcmp(k, "flags") == 0) {
				for (;;) {
					char f[64];
					const char *fat;
					if (!scp_ident(ps, f, sizeof(f), &fat)) {
						perr(ps, ps->p, "expected a mapping flag");
						return false;
					}
					int v = scp_flag_lookup(map_flags, NMAP_FLAGS, f);
					if (v < 0) {
						scp_flag_unknown(ps, fat, "mmap flag", f, map_flags,
								 NMAP_FLAGS);
						return false;
					}
					st->flags |= v;
					if (*ps->p != '|' && *ps->p != ',')
						break;
					ps->p++;
				}
			} else {
				static const char *const keys[] = { "addr", "offset", "file",
								    "fd",   "prot",   "flags" };
				scp_unknown(ps, at, "mmap option", k, keys, 6);
				return false;
			}
			continue;
		}
		int prot = scp_try_prot(ps);
		if (prot >= 0) {
			st->prot = prot;
			continue;
		}
		char f[64];
		const char *fat;
		if (!scp_ident(ps, f, sizeof(f), &fat)) {
			perr(ps, ps->p,
			     "expected a protection (rw-), a flag (private, shared, anon, "
			     "fixed, populate...) or KEY=VALUE");
			return false;
		}
		int v = scp_flag_lookup(map_flags, NMAP_FLAGS, f);
		if (v < 0) {
			scp_flag_unknown(ps, fat, "mmap flag", f, map_flags, NMAP_FLAGS);
			return false;
		}
		st->flags |= v;
	}
	if (ps->failed)
		return false;
	if (st->prot < 0)
		st->prot = MM_PROT_READ | MM_PROT_WRITE;
	if (!(st->flags & MM_MAP_TYPE))
		st->flags |= MM_MAP_PRIVATE;
	if (!st->path && !st->a[1])
		st->flags |= MM_MAP_ANONYMOUS;
	return true;
}

const struct sc_flag scp_advices[] = {
	{ "normal", MM_MADV_NORMAL },         { "random", MM_MADV_RANDOM },
	{ "sequential", MM_MADV_SEQUENTIAL }, { "willneed", MM_MADV_WILLNEED },
	{ "dontneed", MM_MADV_DONTNEED },
};

const struct sc_flag scp_msync_flags[] = {
	{ "sync", MM_MS_SYNC },
	{ "async", MM_MS_ASYNC },
	{ "invalidate", MM_MS_INVALIDATE },
};

const struct sc_flag scp_shm_flags[] = {
	{ "create", MM_IPC_CREAT },
	{ "excl", MM_IPC_EXCL },
	{ "rdonly", MM_SHM_RDONLY },
	{ "rnd", MM_SHM_RND },
};

/* flag words from a table until the end of the line */
bool scp_flag_words(struct parser *ps, const struct sc_flag *t, size_t n, const char *what,
		    int *out)
{
	while (!scp_at_eol(ps)) {
		char f[64];
		const char *at;
		if (!scp_ident(ps, f, sizeof(f), &at)) {
			perr(ps, ps->p, "expected %s", what);
			return false;
		}
		int v = scp_flag_lookup(t, n, f);
		if (v < 0) {
			scp_flag_unknown(ps, at, what, f, t, n);
			return false;
		}
		*out |= v;
	}
	return !ps->failed;
}

static const char *const patterns[] = { "seq", "random", "zipf" };

/* read/write/fetch: ADDR [LEN] | ADDR VALUE | PATTERN ADDR LEN [options] */
bool scp_parse_access(struct parser *ps, struct sc_stmt *st)
{
	st->pattern = PAT_ONE;
	for (int i = 0; i < 3; i++) {
		if (scp_keyword(ps, patterns[i])) {
			st->pattern = PAT_SEQ + i;
			break;
		}
	}
	if (scp_keyword(ps, "stride"))
		st->pattern = PAT_SEQ;
	if (!scp_need_expr(ps, &st->a[0]))
		return false;
	if (st->pattern == PAT_ONE) {
		if (st->access == MM_ACCESS_WRITE) {
			scp_skip_ws(ps);
			if (*ps->p == '"') {
				size_t len;
				const char *s = scp_raw_word(ps, "a string", &len);
				if (!s)
					return false;
				if (len == 0) {
					perr(ps, ps->p, "empty string");
					return false;
				}
				st->data = (const uint8_t *)s;
				st->datalen = len;
			} else if (!scp_need_expr(ps, &st->value)) {
				return false;
			}
		} else if (!scp_at_eol(ps) &&
			   !(ps->p[0] == 's' && strncmp(ps->p, "size=", 5) == 0)) {
			if (!scp_need_expr(ps, &st->a[1]))
				return false;
		}
	} else if (!scp_need_expr(ps, &st->a[1])) {
		return false;
	}
	while (!scp_at_eol(ps)) {
		char k[64];
		const char *at;
		if (!scp_option_key(ps, k, sizeof(k), &at)) {
			perr(ps, ps->p,
			     "expected KEY=VALUE (step, size, count, seed, alpha, value)");
			return false;
		}
		struct sc_expr **slot = NULL;
		if (strcmp(k, "size") == 0)
			slot = &st->size;
		else if (st->pattern != PAT_ONE && strcmp(k, "step") == 0)
			slot = &st->step;
		else if (st->pattern >= PAT_RANDOM && strcmp(k, "count") == 0)
			slot = &st->count;
		else if (st->pattern >= PAT_RANDOM && strcmp(k, "seed") == 0)
			slot = &st->seed;
		else if (st->pattern != PAT_ONE && st->access == MM_ACCESS_WRITE &&
			 strcmp(k, "value") == 0)
			slot = &st->value;
		if (slot) {
			if (!scp_need_expr(ps, slot))
				return false;
			continue;
		}
		if (st->pattern == PAT_ZIPF && strcmp(k, "alpha") == 0) {
			if (!scp_decimal(ps, &st->alpha))
				return false;
			continue;
		}
		perr(ps, at,
		     "option '%s' does not apply here (seq: step size%s; random: count "
		     "step size seed%s; zipf: count step size seed alpha%s; one access: size)",
		     k, st->access == MM_ACCESS_WRITE ? " value" : "",
		     st->access == MM_ACCESS_WRITE ? " value" : "",
		     st->access == MM_ACCESS_WRITE ? " value" : "");
		return false;
	}
	if (st->pattern >= PAT_RANDOM && !st->count) {
		perr(ps, ps->p, "%s needs count=N", patterns[st->pattern - PAT_SEQ]);
		return false;
	}
	if (st->pattern == PAT_ZIPF && st->alpha == 0)
		st->alpha = 1.0;
	return true;
}

bool scp_parse_expect(struct parser *ps, struct sc_stmt *st)
{
	scp_skip_ws(ps);
	const char *src = ps->p;
	if (!scp_need_expr(ps, &st->a[0]))
		return false;
	scp_skip_ws(ps);
	static const struct {
		const char *op;
		int cmp;
	} ops[] = {
		{ "==", CMP_EQ }, { "!=", CMP_NE }, { "<=", CMP_LE },
		{ ">=", CMP_GE }, { "<", CMP_LT },  { ">", CMP_GT },
	};
	size_t i;
	for (i = 0; i < 6; i++)
		if (strncmp(ps->p, ops[i].op, strlen(ops[i].op)) == 0)
			break;
	if (i == 6) {
		perr(ps, ps->p, "expected a comparison (== != < <= > >=)");
		return false;
	}
	st->cmp = ops[i].cmp;
	ps->p += strlen(ops[i].op);
	if (!scp_need_expr(ps, &st->a[1]))
		return false;
	const char *e = ps->p;
	while (e > src && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	st->text = scp_pstrndup(ps, src, (size_t)(e - src));
	return st->text != NULL;
}

bool scp_parse_show(struct parser *ps, struct sc_stmt *st)
{
	char w[64];
	const char *at;
	if (!scp_ident(ps, w, sizeof(w), &at)) {
		if (!ps->failed)
			perr(ps, ps->p, "expected a view name");
		return false;
	}
	bool per, takes;
	if (!sc_view_known(w, &per, &takes)) {
		scp_unknown(ps, at, "view", w, sc_view_names, sc_nviews);
		return false;
	}
	st->name = scp_pstrndup(ps, w, strlen(w));
	if (takes && !scp_need_expr(ps, &st->a[0]))
		return false;
	if (per && !scp_at_eol(ps) && !(st->path = scp_need_name(ps, "a process name")))
		return false;
	return true;
}

/* The text of echo/section: the rest of the line, verbatim, trimmed. */
const char *scp_rest_of_line(struct parser *ps)
{
	scp_skip_ws(ps);
	const char *s = ps->p, *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	ps->p = s + strlen(s);
	return scp_pstrndup(ps, s, (size_t)(e - s));
}

/* echo text: literal pieces and $(EXPR) */
bool scp_parse_text(struct parser *ps, struct sc_stmt *st)
{
	scp_skip_ws(ps);
	struct sc_seg **tail = &st->segs;
	while (*ps->p) {
		const char *s = ps->p, *e = strstr(s, "$(");
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (!e)
			while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
		if (n) {
			struct sc_seg *g = scp_palloc(ps, sizeof(*g));
			if (!g || !(g->text = scp_pstrndup(ps, s, n)))
				return false;
			g->col = scp_col_of(ps, s);
			*tail = g;
			tail = &g->next;
		}
		if (!e) {
			ps->p = s + strlen(s);
			break;
		}
		ps->p = e + 2;
		struct sc_seg *g = scp_palloc(ps, sizeof(*g));
		if (!g || !(g->e = scp_expr(ps)))
			return false;
		scp_skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, ps->p, "expected ')' to close the '$(' at column %d",
			     scp_col_of(ps, e));
			return false;
		}
		ps->p++;
		*tail = g;
		tail = &g->next;
	}
	return true;
}
