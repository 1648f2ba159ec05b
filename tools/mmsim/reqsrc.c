/* reqsrc.c — cache requests from a trace: the trace options every replaying
 * command shares, and the conversion of trace records into (id, kind)
 * requests.
 *
 * Ids: a record that carries an id (txt, csv: MM_TREC_ID) is used as it is;
 * a byte address (lackey, addr) becomes the page id addr >> page_shift. An
 * access whose last byte lies on a later page (a lackey access straddling a
 * page boundary) also requests that page, as the MMU would translate both.
 * Kinds: reads stay reads, stores and lackey's modify (load + store) are one
 * write, instruction fetches are exec. Records that are not requests are
 * counted and passed over: csv deletes (the replay engine has no removal)
 * and lackey system calls (they shape VMAs, which cache replay has none of).
 *
 * The file is opened here, not by the trace layer, so that "cannot open" is
 * told apart from "cannot read as a trace" (exit codes 4 and 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "mmsim.h"

/* ---- Trace options ------------------------------------------------------ */

enum {
	TOPT_FORMAT = TRACE_OPT_BASE,
	TOPT_PARAMS,
	TOPT_OBJ_ID_COL,
	TOPT_TIME_COL,
	TOPT_SIZE_COL,
	TOPT_OP_COL,
	TOPT_DELIM,
	TOPT_HEADER,
	TOPT_ID_IS_NUM,
	TOPT_PAGE_SIZE,
	TOPT_SKIP_BAD,
};

const struct cli_opt trace_cli_opts[] = {
	{ "format", 'f', CLI_ARG_REQUIRED, TOPT_FORMAT },
	{ "trace-params", 't', CLI_ARG_REQUIRED, TOPT_PARAMS },
	{ "obj-id-col", 0, CLI_ARG_REQUIRED, TOPT_OBJ_ID_COL },
	{ "time-col", 0, CLI_ARG_REQUIRED, TOPT_TIME_COL },
	{ "obj-size-col", 0, CLI_ARG_REQUIRED, TOPT_SIZE_COL },
	{ "op-col", 0, CLI_ARG_REQUIRED, TOPT_OP_COL },
	{ "delimiter", 0, CLI_ARG_REQUIRED, TOPT_DELIM },
	{ "has-header", 0, CLI_ARG_REQUIRED, TOPT_HEADER },
	{ "obj-id-is-num", 0, CLI_ARG_REQUIRED, TOPT_ID_IS_NUM },
	{ "page-size", 0, CLI_ARG_REQUIRED, TOPT_PAGE_SIZE },
	{ "skip-bad", 0, CLI_ARG_NONE, TOPT_SKIP_BAD },
};
const size_t trace_cli_nopts = sizeof(trace_cli_opts) / sizeof(trace_cli_opts[0]);

const char trace_opts_help[] =
	"Trace options:\n"
	"  -f, --format FMT        auto (default), lackey, txt, addr or csv\n"
	"  -t, --trace-params P    libCacheSim-style parameters, comma-separated:\n"
	"                          \"obj-id-col=2, time-col=1, has-header=true\"\n"
	"      --obj-id-col C      csv: the object id column (a number from 1 or a\n"
	"                          header name)\n"
	"      --time-col C        csv: the time column\n"
	"      --obj-size-col C    csv: the size column (sizes are ignored: every\n"
	"                          object counts as one)\n"
	"      --op-col C          csv: the operation column (get, set, delete...)\n"
	"      --delimiter D       csv: one character (a blank or a tab too), or tab,\n"
	"                          space, comma, semicolon, pipe\n"
	"      --has-header B      csv: true, false or auto\n"
	"      --obj-id-is-num B   txt, csv: true (numbers), false (hashed strings), auto\n"
	"      --page-size N       lackey, addr: page id = address / N (a power of two;\n"
	"                          default 4096; suffix k, m allowed)\n"
	"      --skip-bad          skip malformed lines (counted) instead of stopping\n"
	"  TRACE is a file or - for stdin; gzip and zstd input is read directly.\n";

void trace_args_init(struct trace_args *ta)
{
	mm_trace_opts_init(&ta->opts);
	ta->page_shift = 12;
}

static int apply_param(struct trace_args *ta, const char *cmd, const char *key, const char *val)
{
	char buf[256], err[256];
	snprintf(buf, sizeof(buf), "%s=%s", key, val);
	if (mm_trace_opts_parse(&ta->opts, buf, err, sizeof(err)) < 0)
		return mmsim_usage_err(cmd, "--%s: %s", key, err), -1;
	return 1;
}

int trace_args_apply(struct trace_args *ta, const char *cmd, int id, const char *arg)
{
	char err[256];
	uint64_t v;
	switch (id) {
	case TOPT_FORMAT: {
		int f = mm_trace_fmt_parse(arg);
		if (f < 0)
			return mmsim_usage_err(cmd, "unknown trace format '%s' (auto, lackey, "
					       "txt, addr or csv)", arg), -1;
		ta->opts.fmt = (enum mm_trace_fmt)f;
		return 1;
	}
	case TOPT_PARAMS:
		if (mm_trace_opts_parse(&ta->opts, arg, err, sizeof(err)) < 0)
			return mmsim_usage_err(cmd, "--trace-params: %s", err), -1;
		return 1;
	case TOPT_OBJ_ID_COL: return apply_param(ta, cmd, "obj-id-col", arg);
	case TOPT_TIME_COL:   return apply_param(ta, cmd, "time-col", arg);
	case TOPT_SIZE_COL:   return apply_param(ta, cmd, "obj-size-col", arg);
	case TOPT_OP_COL:     return apply_param(ta, cmd, "op-col", arg);
	case TOPT_HEADER:     return apply_param(ta, cmd, "has-header", arg);
	case TOPT_ID_IS_NUM:  return apply_param(ta, cmd, "obj-id-is-num", arg);
	case TOPT_DELIM:
		/* by name: a bare comma would be read as the parameter separator,
		 * a blank or a tab trimmed away */
		return apply_param(ta, cmd, "delimiter", strcmp(arg, ",") == 0 ? "comma" :
					 strcmp(arg, " ") == 0 ? "space" :
					 strcmp(arg, "\t") == 0 ? "tab" : arg);
	case TOPT_PAGE_SIZE:
		if (cli_parse_u64(arg, &v) || v == 0 || (v & (v - 1)) || v > (1ull << 40))
			return mmsim_usage_err(cmd, "--page-size: expected a power of two from "
					       "1 to 1T, got '%s'", arg), -1;
		ta->page_shift = (unsigned)__builtin_ctzll(v);
		return 1;
	case TOPT_SKIP_BAD:
		ta->opts.flags |= MM_TRACE_SKIP_BAD;
		return 1;
	default:
		return 0;
	}
}

/* ---- Sources ------------------------------------------------------------ */

int reqsrc_open(struct reqsrc *s, const char *cmd, const char *path, const struct trace_args *ta)
{
	char err[512];
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->path = path;
	s->fd = -1;
	s->in_fd = -1;
	s->page_shift = ta->page_shift;
	int fd = 0;
	const char *name = path;
	if (strcmp(path, "-") == 0) {
		name = "<stdin>";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			mmsim_err(cmd, "%s: %s", path, strerror(errno));
			return EXIT_IO;
		}
		s->fd = fd;
	}
	s->in_fd = fd;
	s->t = mm_trace_open_fd(fd, name, &ta->opts, err, sizeof(err));
	if (!s->t) {
		mmsim_err(cmd, "%s", err);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return EXIT_INPUT;
	}
	return 0;
}

void reqsrc_open_mem(struct reqsrc *s, const char *cmd, const struct mm_cache_request *r,
		     size_t n)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->fd = -1;
	s->in_fd = -1;
	s->mem = r;
	s->mem_n = n;
}

static const uint8_t kind_of[MM_TRACE_SYSCALL + 1] = { /* delete, syscall: never used */
	[MM_TRACE_READ] = MM_ACCESS_READ,
	[MM_TRACE_WRITE] = MM_ACCESS_WRITE,
	[MM_TRACE_MODIFY] = MM_ACCESS_WRITE,
	[MM_TRACE_IFETCH] = MM_ACCESS_EXEC,
};

/* The slow path: a record that is not a plain request (delete, syscall), an
 * address access spanning pages, or the end or an error of the reader. */
static long read_trace(struct reqsrc *s, struct mm_cache_request *buf, size_t cap)
{
	size_t n = 0;
	struct mm_trace_rec rec;
	if (s->have_pending) {
		/* the next page of a straddling access */
		buf[n++] = s->pending;
		s->have_pending = false;
	}
	while (n < cap) {
		int rc = mm_trace_next(s->t, &rec);
		if (rc != 1) {
			if (rc == 0)
				break;
			if (rc == -MM_ENOMEM)
				return -EXIT_NOMEM; /* the caller says it */
			const char *msg = mm_trace_error(s->t);
			mmsim_err(s->cmd, "%s", msg ? msg : mm_strerror(rc));
			return -EXIT_INPUT;
		}
		s->records++;
		if (mm_likely(rec.flags & MM_TREC_ID)) {
			if (mm_unlikely(rec.kind == MM_TRACE_DELETE)) {
				s->deletes++;
				continue;
			}
			buf[n].id = rec.addr;
			buf[n].kind = kind_of[rec.kind];
			n++;
			continue;
		}
		if (rec.kind == MM_TRACE_SYSCALL) {
			s->syscalls++;
			continue;
		}
		uint64_t first = rec.addr >> s->page_shift;
		buf[n].id = first;
		buf[n].kind = kind_of[rec.kind];
		n++;
		if (rec.size > 1) {
			uint64_t last_byte = rec.addr + rec.size - 1;
			uint64_t last = last_byte < rec.addr ? UINT64_MAX >> s->page_shift
							     : last_byte >> s->page_shift;
			if (last != first) {
				/* accesses are at most a few cache lines: the next page
				 * is the last one */
				s->split++;
				struct mm_cache_request r = { .id = first + 1, .kind = kind_of[rec.kind] };
				if (n < cap) {
					buf[n++] = r;
				} else {
					s->pending = r;
					s->have_pending = true;
				}
			}
		}
	}
	return (long)n;
}

long reqsrc_read(struct reqsrc *s, struct mm_cache_request *buf, size_t cap)
{
	long n;
	if (!s->t) {
		size_t left = s->mem_n - s->mem_pos;
		n = (long)(left < cap ? left : cap);
		memcpy(buf, s->mem + s->mem_pos, (size_t)n * sizeof(*buf));
		s->mem_pos += (size_t)n;
	} else {
		n = read_trace(s, buf, cap);
	}
	if (n > 0)
		s->requests += (uint64_t)n;
	return n;
}

void reqsrc_notes(const struct reqsrc *s)
{
	if (!s->t)
		return;
	if (s->deletes)
		mmsim_err(s->cmd, "note: %llu delete requests were not replayed",
			  (unsigned long long)s->deletes);
	if (s->syscalls)
		mmsim_err(s->cmd, "note: %llu system call records were passed over",
			  (unsigned long long)s->syscalls);
	uint64_t skipped = mm_trace_skipped(s->t);
	if (skipped)
		mmsim_err(s->cmd, "note: %llu malformed lines were skipped; the last: %s",
			  (unsigned long long)skipped, mm_trace_error(s->t));
}

void reqsrc_close(struct reqsrc *s)
{
	mm_trace_close(s->t);
	s->t = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int reqsrc_load(struct reqsrc *s, uint64_t limit, struct mm_cache_request **out, size_t *nout)
{
	size_t cap = 1 << 16, n = 0;
	struct mm_cache_request *v = malloc(cap * sizeof(*v));
	if (!v)
		goto nomem;
	while (n < limit) {
		if (cap - n < 4096) {
			size_t nc = cap * 2;
			struct mm_cache_request *nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				goto nomem;
			v = nv;
			cap = nc;
		}
		size_t want = cap - n;
		if (limit - n < want)
			want = (size_t)(limit - n);
		long got = reqsrc_read(s, v + n, want);
		if (got < 0) {
			free(v);
			return (int)-got;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = v;
	*nout = n;
	return 0;
nomem:
	free(v);
	return EXIT_NOMEM;
}
