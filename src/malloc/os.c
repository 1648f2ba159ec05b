/* os.c — libmmalloc's operating-system layer: mmap, munmap, mremap,
 * mprotect, madvise and sbrk, with counters and fault injection; the
 * messages to standard error (through a duplicate of fd 2 when reports
 * at exit are wanted); the initial environment from /proc when `environ`
 * is not set yet.
 *
 * Nothing else in src/malloc talks to the kernel about memory. Each call is
 * one system call (cost: a kernel entry, plus page faults later when the
 * memory is first touched). Fault injection fails the Nth call of a kind so
 * tests can drive every out-of-memory path (STYLE.md 16).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmkit/mmalloc.h"
#include "os.h"

/* updated with relaxed atomics; a cache line of their own, so that
 * mmap-heavy threads do not slow down the read-mostly globals of the
 * fast paths */
static struct mmalloc_os_counters counters __attribute__((aligned(64)));

static unsigned fault_kinds;  /* MMALLOC_FAULT_* armed */
static long fault_skip;       /* calls still allowed to succeed */
static long fault_left;       /* failures still to inject (<0 forever) */

#define COUNT(f) __atomic_add_fetch(&counters.f, 1, __ATOMIC_RELAXED)

void mmalloc_fault_inject(unsigned kinds, long nth, long count)
{
	__atomic_store_n(&fault_kinds, 0, __ATOMIC_RELAXED);
	if (nth <= 0)
		return;
	__atomic_store_n(&fault_skip, nth - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_left, count, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_kinds, kinds, __ATOMIC_RELEASE);
}

/* True if this call of kind `k` must fail. */
static int fault(unsigned k)
{
	if (!(__atomic_load_n(&fault_kinds, __ATOMIC_ACQUIRE) & k))
		return 0;
	if (__atomic_sub_fetch(&fault_skip, 1, __ATOMIC_RELAXED) >= 0)
		return 0;
	long left = __atomic_load_n(&fault_left, __ATOMIC_RELAXED);
	if (left == 0)
		return 0;
	if (left > 0)
		__atomic_sub_fetch(&fault_left, 1, __ATOMIC_RELAXED);
	COUNT(failures);
	errno = ENOMEM;
	return 1;
}

void mmalloc_os_counters(struct mmalloc_os_counters *out)
{
	out->brk_calls = __atomic_load_n(&counters.brk_calls, __ATOMIC_RELAXED);
	out->mmap_calls = __atomic_load_n(&counters.mmap_calls, __ATOMIC_RELAXED);
	out->munmap_calls = __atomic_load_n(&counters.munmap_calls, __ATOMIC_RELAXED);
	out->mremap_calls = __atomic_load_n(&counters.mremap_calls, __ATOMIC_RELAXED);
	out->mprotect_calls = __atomic_load_n(&counters.mprotect_calls, __ATOMIC_RELAXED);
	out->madvise_calls = __atomic_load_n(&counters.madvise_calls, __ATOMIC_RELAXED);
	out->bytes_trimmed = __atomic_load_n(&counters.bytes_trimmed, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&counters.failures, __ATOMIC_RELAXED);
}

void mm_os_note_trimmed(size_t bytes)
{
	__atomic_add_fetch(&counters.bytes_trimmed, bytes, __ATOMIC_RELAXED);
}

void *mm_os_map(size_t len)
{
	if (fault(MMALLOC_FAULT_MMAP))
		return NULL;
	COUNT(mmap_calls);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		COUNT(failures);
		return NULL;
	}
	return p;
}

void *mm_os_reserve(size_t len)
{
	if (fault(MMALLOC_FAULT_MMAP))
		return NULL;
	COUNT(mmap_calls);
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		COUNT(failures);
		return NULL;
	}
	return p;
}

int mm_os_commit(void *p, size_t len)
{
	if (fault(MMALLOC_FAULT_MMAP))
		return -1;
	COUNT(mprotect_calls);
	if (mprotect(p, len, PROT_READ | PROT_WRITE) != 0) {
		COUNT(failures);
		return -1;
	}
	return 0;
}

int mm_os_unmap(void *p, size_t len)
{
	COUNT(munmap_calls);
	return munmap(p, len);
}

void *mm_os_remap(void *p, size_t old_len, size_t new_len)
{
	if (fault(MMALLOC_FAULT_MMAP))
		return NULL;
	COUNT(mremap_calls);
	void *q = mremap(p, old_len, new_len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		COUNT(failures);
		return NULL;
	}
	return q;
}

void *mm_os_sbrk(intptr_t inc)
{
	if (inc > 0 && fault(MMALLOC_FAULT_BRK))
		return NULL;
	COUNT(brk_calls);
	void *p = sbrk(inc);
	if (p == (void *)-1) {
		COUNT(failures);
		return NULL;
	}
	return p;
}

void *mm_os_brk_now(void)
{
	void *p = sbrk(0);
	return p == (void *)-1 ? NULL : p;
}

int mm_os_dontneed(void *p, size_t len)
{
	COUNT(madvise_calls);
	return madvise(p, len, MADV_DONTNEED);
}

size_t mm_os_pagesize(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (size_t)ps : 4096;
}

uint64_t mm_os_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int mm_os_ncpus(void)
{
	cpu_set_t set;	/* on the stack: get_nprocs() may read files */
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

const char *mm_os_initial_environ(void)
{
	static char *env;
	static int tried;
	if (tried)
		return env;
	tried = 1;
	int saved = errno;
	int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return NULL;
	}
	/* not mm_os_map: kept out of the counters (MMALLOC_STATS) */
	size_t cap = 64 << 10, len = 0;
	char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	while (buf != MAP_FAILED) {
		if (len + 2 > cap) {   /* room for the two closing NULs */
			char *nb = mremap(buf, cap, cap * 2, MREMAP_MAYMOVE);
			if (nb == MAP_FAILED) {
				munmap(buf, cap);
				buf = MAP_FAILED;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 2);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	errno = saved;
	if (buf == MAP_FAILED)
		return NULL;
	buf[len] = buf[len + 1] = '\0';   /* fresh pages: already zero */
	env = buf;
	return env;
}

/* The standard error the process had at initialisation, kept by
 * mm_os_keep_err: a duplicate, and what it referred to. */
static int err_fd = -1;
static dev_t err_dev;
static ino_t err_ino;

void mm_os_keep_err(void)
{
	if (err_fd >= 0)
		return;
	int saved = errno;
	struct stat st;
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		err_dev = st.st_dev;
		err_ino = st.st_ino;
		err_fd = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	errno = saved;
}

int mm_os_err_fd(void)
{
	if (err_fd < 0)
		return 2;
	/* the program may have closed our duplicate (closefrom()) and the
	 * number may name another file now: only write to the same file */
	int saved = errno;
	struct stat st;
	int ok = fstat(err_fd, &st) == 0 && st.st_dev == err_dev && st.st_ino == err_ino;
	errno = saved;
	return ok ? err_fd : 2;
}

void mm_os_write_err(const char *s, size_t len)
{
	int saved = errno;
	int fd = mm_os_err_fd();
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			break;
		}
		s += w;
		len -= (size_t)w;
	}
	errno = saved;
}
