/* mmkit/error.h — error codes shared by every component.
 *
 * The values equal Linux's errno numbers wherever Linux has the error, so the
 * simulated system calls can return exactly what Linux returns (-EINVAL ...).
 * Functions that can fail return 0 on success or a negative mm_err
 * (Linux's "return -ENOMEM" convention), or NULL for pointer results.
 */
#ifndef MMKIT_ERROR_H
#define MMKIT_ERROR_H

enum mm_err {
	MM_OK        = 0,
	MM_EPERM     = 1,
	MM_ENOENT    = 2,
	MM_ESRCH     = 3,
	MM_EINTR     = 4,
	MM_EIO       = 5,
	MM_E2BIG     = 7,
	MM_ENOEXEC   = 8,
	MM_EBADF     = 9,
	MM_EAGAIN    = 11,
	MM_ENOMEM    = 12,
	MM_EACCES    = 13,
	MM_EFAULT    = 14,
	MM_EBUSY     = 16,
	MM_EEXIST    = 17,
	MM_ENODEV    = 19,
	MM_EINVAL    = 22,
	MM_EMFILE    = 24,
	MM_EFBIG     = 27,
	MM_ENOSPC    = 28,
	MM_ERANGE    = 34,
	MM_ENOSYS    = 38,
	MM_EOVERFLOW = 75,
	/* mmkit's own, above Linux's range */
	MM_EPARSE    = 1000, /* malformed input (trace, scenario, config) */
	MM_ECORRUPT  = 1001, /* an invariant checker found a broken structure */
	MM_EFAULTINJ = 1002, /* failure injected on purpose by a test */
};

/* A short message for an error code (positive or negative). Never NULL;
 * unknown codes give "unknown error". */
const char *mm_strerror(int err);

/* The symbolic name ("ENOMEM") of an error code, or "E?" if unknown. */
const char *mm_errname(int err);

#endif /* MMKIT_ERROR_H */
