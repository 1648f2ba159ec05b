/* Error messages and the fatal-error reporter. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"

struct err_desc {
	int code;
	const char *name;
	const char *msg;
};

static const struct err_desc err_table[] = {
	{ MM_OK,        "OK",        "success" },
	{ MM_EPERM,     "EPERM",     "operation not permitted" },
	{ MM_ENOENT,    "ENOENT",    "no such entry" },
	{ MM_ESRCH,     "ESRCH",     "no such process" },
	{ MM_EINTR,     "EINTR",     "interrupted" },
	{ MM_EIO,       "EIO",       "input/output error" },
	{ MM_E2BIG,     "E2BIG",     "argument list too long" },
	{ MM_ENOEXEC,   "ENOEXEC",   "exec format error" },
	{ MM_EBADF,     "EBADF",     "bad file descriptor" },
	{ MM_EAGAIN,    "EAGAIN",    "resource temporarily unavailable" },
	{ MM_ENOMEM,    "ENOMEM",    "out of memory" },
	{ MM_EACCES,    "EACCES",    "permission denied" },
	{ MM_EFAULT,    "EFAULT",    "bad address" },
	{ MM_EBUSY,     "EBUSY",     "resource busy" },
	{ MM_EEXIST,    "EEXIST",    "already exists" },
	{ MM_ENODEV,    "ENODEV",    "no such device" },
	{ MM_EINVAL,    "EINVAL",    "invalid argument" },
	{ MM_EMFILE,    "EMFILE",    "too many open files" },
	{ MM_EFBIG,     "EFBIG",     "file too large" },
	{ MM_ENOSPC,    "ENOSPC",    "no space left on device" },
	{ MM_ERANGE,    "ERANGE",    "result out of range" },
	{ MM_ENOSYS,    "ENOSYS",    "function not implemented" },
	{ MM_EOVERFLOW, "EOVERFLOW", "value too large for defined data type" },
	{ MM_EPARSE,    "EPARSE",    "malformed input" },
	{ MM_ECORRUPT,  "ECORRUPT",  "corrupted structure" },
	{ MM_EFAULTINJ, "EFAULTINJ", "injected failure" },
};

static const struct err_desc *err_lookup(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < MM_ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return NULL;
}

const char *mm_strerror(int err)
{
	const struct err_desc *d = err_lookup(err);
	return d ? d->msg : "unknown error";
}

const char *mm_errname(int err)
{
	const struct err_desc *d = err_lookup(err);
	return d ? d->name : "E?";
}

void mm_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mmkit: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}
