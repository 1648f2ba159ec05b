/* Trace reader options, and libCacheSim-style "key=value, key=value" strings.
 *
 * The keys follow libCacheSim's cachesim -t parameters (bin/cli_reader_utils.c
 * in libCacheSim): obj-id-col, time-col, obj-size-col (size-col), has-header
 * (header), delimiter, obj-id-is-num; '_' may stand for '-' and case does not
 * matter. mmkit adds op-col (op-type-col), format, skip-bad, all-syscalls and
 * max-line. As in libCacheSim, a comma delimiter is written "delimiter=,,".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mmkit/error.h"
#include "trace_internal.h"

void mm_trace_opts_init(struct mm_trace_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fmt = MM_TRACE_FMT_AUTO;
	o->max_line = TR_MAX_LINE_DEF;
	o->id_is_num = -1;
	o->csv.has_header = -1;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "1", "yes", "y", "on" };
	static const char *const no[] = { "false", "0", "no", "n", "off" };
	for (size_t i = 0; i < MM_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int parse_delim(const char *v, char *out)
{
	static const struct { const char *name; char c; } names[] = {
		{ "\\t", '\t' }, { "tab", '\t' }, { "\\,", ',' }, { "comma", ',' },
		{ "\\", ',' },
		{ "semicolon", ';' }, { "pipe", '|' }, { "space", ' ' }, { "auto", 0 },
	};
	for (size_t i = 0; i < MM_ARRAY_SIZE(names); i++)
		if (strcasecmp(v, names[i].name) == 0)
			return *out = names[i].c, 0;
	if (strlen(v) == 1 && v[0] != '"' && v[0] != '#' && v[0] != '\n' && v[0] != '\r')
		return *out = v[0], 0;
	return -1;
}

/* Column spec: a number from 1, or a header name of printable characters. */
static int set_col(char *dst, const char *v, char *err, size_t errlen, const char *key)
{
	size_t n = strlen(v);
	if (n == 0 || n >= MM_TRACE_COL_MAX) {
		snprintf(err, errlen, "%s: expected a column number or name of 1 to %d characters",
			 key, MM_TRACE_COL_MAX - 1);
		return -1;
	}
	int digits = 1;
	for (size_t i = 0; i < n; i++)
		digits &= tr_isdigit(v[i]);
	if (digits && strspn(v, "0") == n) {
		snprintf(err, errlen, "%s: columns are counted from 1", key);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int apply(struct mm_trace_opts *o, const char *key, const char *v, char *err, size_t errlen)
{
	int b;
	if (strcmp(key, "format") == 0 || strcmp(key, "trace-type") == 0) {
		int f = mm_trace_fmt_parse(v);
		if (f < 0) {
			snprintf(err, errlen, "format: unknown format '%s' (auto, lackey, txt, addr, csv)",
				 v);
			return -1;
		}
		o->fmt = (enum mm_trace_fmt)f;
	} else if (strcmp(key, "obj-id-col") == 0 || strcmp(key, "obj-id-field") == 0) {
		return set_col(o->csv.obj_id_col, v, err, errlen, key);
	} else if (strcmp(key, "time-col") == 0 || strcmp(key, "time-field") == 0) {
		return set_col(o->csv.time_col, v, err, errlen, key);
	} else if (strcmp(key, "obj-size-col") == 0 || strcmp(key, "size-col") == 0 ||
		   strcmp(key, "obj-size-field") == 0 || strcmp(key, "size-field") == 0) {
		return set_col(o->csv.size_col, v, err, errlen, key);
	} else if (strcmp(key, "op-col") == 0 || strcmp(key, "op-type-col") == 0 ||
		   strcmp(key, "op-field") == 0) {
		return set_col(o->csv.op_col, v, err, errlen, key);
	} else if (strcmp(key, "delimiter") == 0) {
		if (parse_delim(v, &o->csv.delimiter) < 0) {
			snprintf(err, errlen, "delimiter: unsupported delimiter '%s'", v);
			return -1;
		}
	} else if (strcmp(key, "has-header") == 0 || strcmp(key, "header") == 0) {
		if (strcasecmp(v, "auto") == 0)
			o->csv.has_header = -1;
		else if (parse_bool(v, &o->csv.has_header) < 0)
			goto bad_bool;
	} else if (strcmp(key, "obj-id-is-num") == 0) {
		if (strcasecmp(v, "auto") == 0)
			o->id_is_num = -1;
		else if (parse_bool(v, &o->id_is_num) < 0)
			goto bad_bool;
	} else if (strcmp(key, "skip-bad") == 0 || strcmp(key, "all-syscalls") == 0) {
		unsigned f = key[0] == 's' ? MM_TRACE_SKIP_BAD : MM_TRACE_ALL_SYSCALLS;
		if (parse_bool(v, &b) < 0)
			goto bad_bool;
		o->flags = b ? o->flags | f : o->flags & ~f;
	} else if (strcmp(key, "max-line") == 0) {
		uint64_t n;
		if (tr_num_field(v, v + strlen(v), &n) != TR_NUM_OK || n < 16 || n > (1ULL << 30)) {
			snprintf(err, errlen, "max-line: expected a byte count from 16 to 2^30");
			return -1;
		}
		o->max_line = (size_t)n;
	} else {
		snprintf(err, errlen, "unknown trace parameter '%s'", key);
		return -1;
	}
	return 0;
bad_bool:
	snprintf(err, errlen, "%s: expected true or false, not '%s'", key, v);
	return -1;
}

/* Copy [p, q) trimmed of spaces into dst (size n); -1 if it does not fit. */
static int copy_trim(char *dst, size_t n, const char *p, const char *q)
{
	p = tr_skip_space(p, q);
	while (q > p && tr_isspace(q[-1]))
		q--;
	if ((size_t)(q - p) >= n)
		return -1;
	memcpy(dst, p, (size_t)(q - p));
	dst[q - p] = 0;
	return 0;
}

int mm_trace_opts_parse(struct mm_trace_opts *o, const char *params, char *err, size_t errlen)
{
	struct mm_trace_opts n = *o;
	const char *p = params ? params : "";
	char key[32], val[64];
	while (*p) {
		while (*p == ',' || tr_isspace(*p))
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (copy_trim(key, sizeof(key), k, p) < 0) {
			snprintf(err, errlen, "trace parameter name too long");
			return -MM_EINVAL;
		}
		if (*p != '=') {
			snprintf(err, errlen, "trace parameter '%s' needs a value (%s=...)", key, key);
			return -MM_EINVAL;
		}
		p++;
		for (char *c = key; *c; c++)
			*c = *c == '_' ? '-' : (char)(*c | ((*c >= 'A' && *c <= 'Z') ? 0x20 : 0));
		const char *v = tr_skip_space(p, p + strlen(p));
		if (strcmp(key, "delimiter") == 0 && *v == ',') {
			/* "delimiter=,," as libCacheSim writes a comma */
			strcpy(val, ",");
			p = v + 1;
		} else {
			p = v;
			while (*p && *p != ',')
				p++;
			if (copy_trim(val, sizeof(val), v, p) < 0) {
				snprintf(err, errlen, "%s: value too long", key);
				return -MM_EINVAL;
			}
		}
		if (apply(&n, key, val, err, errlen) < 0)
			return -MM_EINVAL;
	}
	*o = n;
	return 0;
}
