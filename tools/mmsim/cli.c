/* cli.c — option parsing, value parsing and messages for every subcommand.
 *
 * A small getopt_long without getopt's hidden globals: the parse state is a
 * `struct cli` on the caller's stack. Long options take "--name=value" or
 * "--name value", short ones "-x value" or "-xvalue", flags cluster ("-jq"),
 * "--" ends the options and "-" is a positional (stdin). Unknown options get
 * a "did you mean" hint from the option table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "mmkit/policy.h"
#include "mmsim.h"

/* ---- Messages ----------------------------------------------------------- */

static void vmsg(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "mmsim%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mmsim_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
}

int mmsim_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'mmsim %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/* Levenshtein distance, capped: strings here are short option names. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 64;
	size_t prev[64], cur[64];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *mmsim_suggest(const char *word, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3, wl = strlen(word);
	for (size_t i = 0; i < n; i++) {
		if (wl >= 2 && strncmp(words[i], word, wl) == 0)
			return words[i]; /* an unambiguous-enough prefix */
		size_t d = edit_distance(word, words[i]);
		if (d < best_d) {
			best_d = d;
			best = words[i];
		}
	}
	return best;
}

/* ---- Options ------------------------------------------------------------ */

void cli_init(struct cli *c, const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts, size_t nopts)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->argc = argc;
	c->argv = argv;
	c->i = 1;
	c->opts = opts;
	c->nopts = nopts;
}

static int unknown_long(struct cli *c, const char *name, size_t len)
{
	char word[64];
	snprintf(word, sizeof(word), "%.*s", (int)(len < 63 ? len : 63), name);
	const char *names[128];
	size_t n = 0;
	for (size_t i = 0; i < c->nopts && n < 128; i++)
		names[n++] = c->opts[i].name;
	const char *hint = mmsim_suggest(word, names, n);
	if (hint)
		return mmsim_usage_err(c->cmd, "unknown option '--%s' (did you mean '--%s'?)",
				       word, hint), CLI_ERROR;
	return mmsim_usage_err(c->cmd, "unknown option '--%s'", word), CLI_ERROR;
}

static int take_value(struct cli *c, const struct cli_opt *o, const char *inline_val,
		      const char **arg, bool is_long)
{
	if (o->has_arg == CLI_ARG_NONE) {
		if (inline_val)
			return mmsim_usage_err(c->cmd, "option '--%s' takes no value", o->name),
			       CLI_ERROR;
		*arg = NULL;
		return o->id;
	}
	if (inline_val) {
		*arg = inline_val;
		return o->id;
	}
	if (c->i >= c->argc) {
		if (is_long)
			mmsim_usage_err(c->cmd, "option '--%s' needs a value", o->name);
		else
			mmsim_usage_err(c->cmd, "option '-%c' needs a value", o->shortname);
		return CLI_ERROR;
	}
	*arg = c->argv[c->i++];
	return o->id;
}

int cli_next(struct cli *c, const char **arg)
{
	if (c->rest && *c->rest) {
		char ch = *c->rest++;
		for (size_t i = 0; i < c->nopts; i++) {
			const struct cli_opt *o = &c->opts[i];
			if (o->shortname != ch)
				continue;
			if (o->has_arg == CLI_ARG_REQUIRED && *c->rest) {
				const char *v = c->rest;
				c->rest = NULL;
				return take_value(c, o, v, arg, false);
			}
			return take_value(c, o, NULL, arg, false);
		}
		return mmsim_usage_err(c->cmd, "unknown option '-%c'", ch), CLI_ERROR;
	}
	c->rest = NULL;
	if (c->i >= c->argc)
		return CLI_END;
	const char *a = c->argv[c->i++];
	if (c->only_positional || a[0] != '-' || a[1] == '\0') {
		*arg = a;
		return CLI_POSITIONAL;
	}
	if (a[1] == '-') {
		if (a[2] == '\0') {
			c->only_positional = true;
			return cli_next(c, arg);
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		for (size_t i = 0; i < c->nopts; i++) {
			const struct cli_opt *o = &c->opts[i];
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return take_value(c, o, eq ? eq + 1 : NULL, arg, true);
		}
		return unknown_long(c, name, len);
	}
	c->rest = a + 1;
	return cli_next(c, arg);
}

/* ---- Values ------------------------------------------------------------- */

int cli_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default: break;
	}
	if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static int push_size(size_t **v, size_t *n, size_t *cap, size_t max_count, uint64_t s,
		     char *err, size_t errlen)
{
	if (*n >= max_count) {
		snprintf(err, errlen, "too many sizes (at most %zu)", max_count);
		return -1;
	}
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		size_t *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = (size_t)s;
	return 0;
}

/* One item "N", "A:B", "A:B:S" or "A:B:*F", already cut out of the list. */
static int parse_size_item(char *item, uint64_t max, size_t **v, size_t *n, size_t *cap,
			   size_t max_count, char *err, size_t errlen)
{
	char *parts[3] = { item, NULL, NULL };
	int np = 1;
	for (char *p = item; *p; p++) {
		if (*p == ':') {
			if (np == 3) {
				snprintf(err, errlen, "bad size range '%s': at most A:B:STEP", item);
				return -1;
			}
			*p = '\0';
			parts[np++] = p + 1;
		}
	}
	uint64_t a, b = 0, step = 1;
	bool mul = false;
	if (cli_parse_u64(parts[0], &a) || (np > 1 && cli_parse_u64(parts[1], &b))) {
		snprintf(err, errlen, "bad size '%s': expected a number (suffix k, m or g allowed)",
			 cli_parse_u64(parts[0], &a) ? parts[0] : parts[1]);
		return -1;
	}
	if (np == 3) {
		const char *st = parts[2];
		if (*st == '*') {
			mul = true;
			st++;
		}
		if (cli_parse_u64(st, &step) || step < (mul ? 2u : 1u)) {
			snprintf(err, errlen, "bad step '%s' in a size range: expected %s", parts[2],
				 mul ? "*F with a factor F >= 2" : "a step >= 1");
			return -1;
		}
	}
	if (np == 1)
		b = a;
	if (a < 1 || b > max || a > b) {
		if (a > b)
			snprintf(err, errlen, "bad size range %llu:%llu: the start is above the end",
				 (unsigned long long)a, (unsigned long long)b);
		else
			snprintf(err, errlen, "size %llu out of range (1 .. %llu)",
				 (unsigned long long)(a < 1 ? a : b), (unsigned long long)max);
		return -1;
	}
	for (uint64_t s = a; s <= b;) {
		if (push_size(v, n, cap, max_count, s, err, errlen))
			return -1;
		uint64_t next = mul ? s * step : s + step;
		if (next <= s || (mul && next / step != s))
			break; /* overflow */
		s = next;
	}
	return 0;
}

long cli_parse_sizes(const char *s, uint64_t max, size_t max_count, size_t **out, char *err,
		     size_t errlen)
{
	char *copy = strdup(s);
	size_t *v = NULL, n = 0, cap = 0;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *save = NULL, *item;
	bool any = false;
	/* empty items (",,", a trailing ",") are errors, so split by hand */
	for (char *p = copy;; p = NULL) {
		item = strtok_r(p, ",", &save);
		if (!item)
			break;
		any = true;
		while (*item == ' ')
			item++;
		size_t l = strlen(item);
		while (l && item[l - 1] == ' ')
			item[--l] = '\0';
		if (parse_size_item(item, max, &v, &n, &cap, max_count, err, errlen)) {
			free(copy);
			free(v);
			return -1;
		}
	}
	bool empty_item = s[0] == ',' || strstr(s, ",,") || (s[0] && s[strlen(s) - 1] == ',');
	free(copy);
	if (!any || empty_item) {
		snprintf(err, errlen, "bad size list '%s': expected N, A:B, A:B:STEP or A:B:*F, "
			 "comma-separated", s);
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_size);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	*out = v;
	return (long)m;
}

void cli_free_list(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int cli_list_append(char ***list, size_t *n, const char *s)
{
	char **nl = realloc(*list, (*n + 1) * sizeof(*nl));
	if (!nl)
		return -1;
	*list = nl;
	nl[*n] = strdup(s);
	if (!nl[*n])
		return -1;
	(*n)++;
	return 0;
}

long cli_split_list(const char *s, char ***out, char *err, size_t errlen)
{
	char **list = NULL;
	size_t n = 0;
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len == 0) {
			snprintf(err, errlen, "empty item in the list '%s'", s);
			cli_free_list(list, n);
			return -1;
		}
		char *item = strndup(p, len);
		if (!item || cli_list_append(&list, &n, item)) {
			free(item);
			snprintf(err, errlen, "out of memory");
			cli_free_list(list, n);
			return -1;
		}
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = list;
	return (long)n;
}

int cli_add_sizes(const char *cmd, size_t **sizes, size_t *nsizes, const char *arg,
		  uint64_t max, size_t max_count)
{
	char err[256];
	size_t *v;
	long n = cli_parse_sizes(arg, max, max_count, &v, err, sizeof(err));
	if (n < 0)
		return mmsim_usage_err(cmd, "--size: %s", err);
	/* merge with earlier --size options: sorted, no duplicates */
	size_t *m = realloc((*sizes), ((*nsizes) + (size_t)n) * sizeof(*m));
	if (!m) {
		free(v);
		mmsim_err(cmd, "out of memory");
		return EXIT_NOMEM;
	}
	memcpy(m + (*nsizes), v, (size_t)n * sizeof(*v));
	free(v);
	*sizes = m;
	(*nsizes) += (size_t)n;
	qsort(m, *nsizes, sizeof(*m), cmp_size);
	size_t k = 0;
	for (size_t i = 0; i < *nsizes; i++)
		if (k == 0 || m[k - 1] != m[i])
			m[k++] = m[i];
	(*nsizes) = k;
	if (k > max_count)
		return mmsim_usage_err(cmd, "--size: too many sizes (at most %zu)", max_count);
	return 0;
}

int cli_add_policies(const char *cmd, char ***specs, size_t *nspecs, const char *arg)
{
	char err[256], **list;
	long n = cli_split_list(arg, &list, err, sizeof(err));
	if (n < 0)
		return mmsim_usage_err(cmd, "--policy: %s", err);
	int rc = 0;
	for (long i = 0; i < n && !rc; i++)
		if (cli_list_append(specs, nspecs, list[i]))
			rc = EXIT_NOMEM;
	cli_free_list(list, (size_t)n);
	if (rc)
		mmsim_err(cmd, "out of memory");
	return rc;
}

int cli_check_output(const char *cmd, const char *opt, const char *out, const char *trace)
{
	struct stat so, st;
	if (!out || !trace || strcmp(out, "-") == 0 || stat(out, &so) != 0)
		return 0; /* stdout, or a file that does not exist yet */
	if (strcmp(trace, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(trace, &st))
		return 0;
	if (so.st_dev != st.st_dev || so.st_ino != st.st_ino)
		return 0;
	return mmsim_usage_err(cmd, "%s %s: that is the trace itself (it would be overwritten)",
			       opt, out);
}

int cli_check_policies(const char *cmd, char *const *specs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mm_policy *p;
		struct mm_policy_config cfg = { .capacity = 1 };
		int err = mm_policy_create(specs[i], &cfg, &p);
		if (err == 0) {
			mm_policy_destroy(p);
			continue;
		}
		if (err == -MM_ENOMEM) {
			mmsim_err(cmd, "out of memory");
			return -1;
		}
		/* name or option? */
		char name[64];
		size_t len = strcspn(specs[i], ":");
		snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), specs[i]);
		if (!mm_policy_find(name)) {
			const char *names[64];
			size_t k = 0;
			for (size_t j = 0; j < mm_policy_count() && k < 64; j++)
				names[k++] = mm_policy_info(j)->name;
			const char *hint = mmsim_suggest(name, names, k);
			if (hint)
				mmsim_usage_err(cmd, "unknown policy '%s' (did you mean '%s'? "
						"'mmsim policies' lists them)", name, hint);
			else
				mmsim_usage_err(cmd, "unknown policy '%s' ('mmsim policies' lists "
						"them)", name);
		} else {
			const struct mm_policy_info *in = mm_policy_find(name);
			mmsim_usage_err(cmd, "bad options in policy spec '%s' (%s takes: %s)",
					specs[i], in->name, in->options[0] ? in->options : "no options");
		}
		return -1;
	}
	return 0;
}

/* ---- Options of the replaying commands ---------------------------------- */

int replay_parse(const struct replay_cli *rc, struct replay_args *r, int argc, char **argv,
		 bool *help)
{
	struct cli_opt opts[64];
	size_t nopts = 0;
	for (size_t i = 0; i < rc->nopts; i++)
		opts[nopts++] = rc->opts[i];
	for (size_t i = 0; i < trace_cli_nopts; i++)
		opts[nopts++] = trace_cli_opts[i];

	const char *cmd = rc->cmd;
	struct cli c;
	const char *arg;
	int id, err;
	uint64_t v;
	cli_init(&c, cmd, argc, argv, opts, nopts);
	while ((id = cli_next(&c, &arg)) != CLI_END) {
		switch (id) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_POSITIONAL:
			if (r->trace)
				return mmsim_usage_err(cmd, "one trace at a time ('%s' and '%s')",
						       r->trace, arg);
			r->trace = arg;
			break;
		case ROPT_POLICY:
			if ((err = cli_add_policies(cmd, &r->specs, &r->nspecs, arg)))
				return err;
			break;
		case ROPT_SIZE:
			if ((err = cli_add_sizes(cmd, &r->sizes, &r->nsizes, arg, rc->max_size,
						 rc->max_sizes)))
				return err;
			break;
		case ROPT_SEED:
			if (cli_parse_u64(arg, &r->cfg.seed))
				return mmsim_usage_err(cmd, "--seed: expected a number, got '%s'", arg);
			break;
		case ROPT_TICK:
			if (cli_parse_u64(arg, &r->cfg.tick_interval))
				return mmsim_usage_err(cmd, "--tick: expected %s, got '%s'",
						       rc->tick_expect, arg);
			break;
		case ROPT_CHECK:
			r->check = true;
			break;
		case ROPT_PROGRESS:
			r->progress = PROGRESS_ON;
			break;
		case ROPT_NO_PROGRESS:
			r->progress = PROGRESS_OFF;
			break;
		case ROPT_NUM_REQ:
			if (cli_parse_u64(arg, &v) || v == 0)
				return mmsim_usage_err(cmd, "--num-req: expected a number >= 1, "
						       "got '%s'", arg);
			r->num_req = v;
			break;
		case ROPT_HELP:
			*help = true;
			return 0;
		default:
			if (id < REPLAY_OPT_BASE) {
				if ((err = rc->own(rc->ctx, id, arg)))
					return err;
			} else if (trace_args_apply(&r->ta, cmd, id, arg) < 0) {
				return EXIT_USAGE;
			}
		}
	}
	if (!r->trace)
		return mmsim_usage_err(cmd, "no trace given (a file, or - for stdin)");
	return 0;
}
