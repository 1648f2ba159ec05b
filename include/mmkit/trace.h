/* mmkit/trace.h — streaming readers for memory and cache traces.
 *
 * A reader yields one record at a time from a trace file in constant memory:
 * the file is never loaded whole, records are decoded from a fixed line
 * buffer (it grows only for a line longer than itself, up to max_line), and
 * nothing is allocated per line. Formats (docs/traces.md has each exactly):
 *
 *   lackey  valgrind --tool=lackey --trace-mem=yes [--trace-syscalls=yes]
 *   txt     libCacheSim's txt: one page or object id per line
 *   addr    addresses, hex (0x..) or decimal, one per line or comma-separated,
 *           each with an optional R/W mark before or after it
 *   csv     libCacheSim's csv: columns for obj-id, time, size, op
 *
 * Gzip and zstd input is decompressed on the fly (recognised by its magic
 * bytes, never by the file name); the path "-" reads stdin.
 *
 * Errors name the place: "trace.lk:1234:7: expected hex address after 'L'".
 * By default the first bad line stops the reader; with MM_TRACE_SKIP_BAD bad
 * lines are skipped and counted instead. Input problems that are not one
 * line's fault (read errors, truncated or corrupt compressed data) always
 * stop the reader. No input makes a reader crash, loop or leak: the parsers
 * are fuzzed (fuzz/).
 *
 * A reader is one `struct mm_trace`; readers share nothing, so several may be
 * used at once, each by one thread at a time.
 */
#ifndef MMKIT_TRACE_H
#define MMKIT_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* ---- Formats and records ------------------------------------------------ */

enum mm_trace_fmt {
	MM_TRACE_FMT_AUTO = 0, /* detect from the first lines (docs/traces.md) */
	MM_TRACE_FMT_LACKEY,
	MM_TRACE_FMT_TXT,
	MM_TRACE_FMT_ADDR,
	MM_TRACE_FMT_CSV,
	MM_TRACE_FMT_COUNT
};

enum mm_trace_kind {
	MM_TRACE_READ,    /* data load (lackey L, addr R or unmarked, csv get/read); also a
			   * txt id or a csv row without an op column */
	MM_TRACE_WRITE,   /* data store (lackey S, addr W, csv set/write/...) */
	MM_TRACE_MODIFY,  /* load then store of the same bytes (lackey M) */
	MM_TRACE_IFETCH,  /* instruction fetch (lackey I) */
	MM_TRACE_DELETE,  /* csv op delete: the object leaves the cache */
	MM_TRACE_SYSCALL, /* a system call from valgrind's --trace-syscalls=yes log */
};

/* The system calls that change a process's mappings, recognised by name. */
enum mm_trace_sysno {
	MM_SYS_OTHER = 0, /* any other call (only with MM_TRACE_ALL_SYSCALLS) */
	MM_SYS_MMAP,      /* args: addr, len, prot, flags, fd, offset; ret: address */
	MM_SYS_MUNMAP,    /* args: addr, len */
	MM_SYS_MPROTECT,  /* args: addr, len, prot */
	MM_SYS_BRK,       /* args: requested break (0 asks); ret: the new break */
	MM_SYS_MREMAP,    /* args: old addr, old len, new len, flags [, new addr]; ret: address */
};

#define MM_TRACE_SYS_MAXARGS 6

/* One system call, as valgrind printed it. Arguments are kept as printed and
 * reduced to 64 bits: valgrind 3.19 prints mmap's fd -1 as 4294967295, so read
 * the fd as (int32_t)args[4]. mmap2's offset (in 4096-byte units) is converted
 * to bytes. */
struct mm_trace_syscall {
	enum mm_trace_sysno which;
	int32_t nr;                /* syscall number as printed (x86-64 mmap = 9) */
	uint32_t pid;              /* process id from SYSCALL[pid,tid] */
	uint32_t tid;              /* valgrind thread id (1 = main thread) */
	uint32_t nargs;            /* how many of args[] were printed */
	int failed;                /* 1: Failure(errno); 0: Success(ret) */
	uint64_t args[MM_TRACE_SYS_MAXARGS];
	uint64_t ret;              /* Success value, or the errno when failed */
	char name[24];             /* the printed name, "sys_mmap"; truncated if longer */
};

/* mm_trace_rec.flags */
#define MM_TREC_ID   (1u << 0) /* addr holds a page or object id, not a byte address */
#define MM_TREC_TIME (1u << 1) /* time was read from the trace (else: record number) */
#define MM_TREC_SIZE (1u << 2) /* size was read from the trace (else: 0) */

struct mm_trace_rec {
	enum mm_trace_kind kind;
	uint32_t flags;            /* MM_TREC_* */
	uint64_t addr;             /* byte address, or the id when MM_TREC_ID */
	uint64_t size;             /* access or object size in bytes, 0 if none */
	uint64_t time;             /* time column, else the record's index from 0 */
	uint64_t line;             /* line of the trace the record came from, from 1 */
	struct mm_trace_syscall sys; /* valid when kind == MM_TRACE_SYSCALL only */
};

/* ---- Options ------------------------------------------------------------ */

/* mm_trace_opts.flags */
#define MM_TRACE_SKIP_BAD     (1u << 0) /* skip and count bad lines instead of stopping */
#define MM_TRACE_ALL_SYSCALLS (1u << 1) /* lackey: yield every syscall, not only mapping ones */

#define MM_TRACE_COL_MAX 32

/* Column choices for csv. A column is "" (not given), a number counted from 1,
 * or the name of a header field. */
struct mm_trace_csv_opts {
	char obj_id_col[MM_TRACE_COL_MAX];
	char time_col[MM_TRACE_COL_MAX];
	char size_col[MM_TRACE_COL_MAX];
	char op_col[MM_TRACE_COL_MAX];
	char delimiter;            /* 0: detect among , TAB ; | */
	int has_header;            /* -1: detect, 0: no, 1: yes */
};

struct mm_trace_opts {
	enum mm_trace_fmt fmt;     /* MM_TRACE_FMT_AUTO by default */
	unsigned flags;            /* MM_TRACE_SKIP_BAD | MM_TRACE_ALL_SYSCALLS */
	size_t max_line;           /* longest accepted line in bytes; 0 = 1 MiB */
	int id_is_num;             /* txt, csv: -1 detect from the first record, 1 numeric
				    * ids, 0 ids are strings hashed to 64 bits */
	struct mm_trace_csv_opts csv;
};

/* Fill *o with the defaults: auto format, stop at the first error, 1 MiB lines,
 * detected id type, detected csv delimiter and header, no csv columns. */
void mm_trace_opts_init(struct mm_trace_opts *o);

/* Apply libCacheSim-style "key=value" parameters separated by commas, e.g.
 * "obj-id-col=2, time-col=1, delimiter=\t, has-header=true". Keys (case
 * insensitive, '_' same as '-'): format, obj-id-col, time-col, obj-size-col
 * (size-col), op-col (op-type-col), delimiter ("delimiter=," is written
 * "delimiter=,," as in libCacheSim, or "\t", "tab", "comma", ...), has-header
 * (header), obj-id-is-num, skip-bad, all-syscalls, max-line. Returns 0, or
 * -MM_EINVAL with a message in err (NUL-terminated, truncated to errlen) and
 * *o unchanged. */
int mm_trace_opts_parse(struct mm_trace_opts *o, const char *params, char *err, size_t errlen);

/* "lackey", "txt", "addr", "csv", "auto". */
const char *mm_trace_fmt_name(enum mm_trace_fmt fmt);

/* The format named name (case insensitive, as mm_trace_fmt_name prints it),
 * or -MM_EINVAL. */
int mm_trace_fmt_parse(const char *name);

/* "read", "write", "modify", "ifetch", "delete", "syscall". */
const char *mm_trace_kind_name(enum mm_trace_kind kind);

/* ---- Readers ------------------------------------------------------------ */

struct mm_trace;

/* Open the trace at path ("-" is stdin) with options o (NULL = defaults).
 * With MM_TRACE_FMT_AUTO the format is detected here from the first 64 KiB.
 * Returns the reader, or NULL with a message in err ("trace.csv: cannot
 * detect the trace format ...", "x.lk: No such file or directory") and
 * nothing left open. */
struct mm_trace *mm_trace_open(const char *path, const struct mm_trace_opts *o, char *err,
			       size_t errlen);

/* As mm_trace_open, reading from the open descriptor fd, which the reader does
 * not close; name is used in messages. */
struct mm_trace *mm_trace_open_fd(int fd, const char *name, const struct mm_trace_opts *o,
				  char *err, size_t errlen);

/* As mm_trace_open, reading len bytes at data, which must stay valid and
 * unchanged until mm_trace_close. Compressed data is recognised as in files. */
struct mm_trace *mm_trace_open_mem(const void *data, size_t len, const char *name,
				   const struct mm_trace_opts *o, char *err, size_t errlen);

/* Read the next record into *rec. Returns 1 with a record, 0 at the end of the
 * trace, or a negative mm_err when the reader stops: -MM_EPARSE (bad line,
 * not skipping), -MM_EIO (read error, truncated or corrupt compressed data),
 * -MM_ENOMEM. After 0 or an error every further call returns the same value
 * and *rec is not written. */
int mm_trace_next(struct mm_trace *t, struct mm_trace_rec *rec);

/* The message of the error that stopped the reader, or with MM_TRACE_SKIP_BAD
 * of the last line skipped; NULL if there was none. Valid until the next call
 * on t. */
const char *mm_trace_error(const struct mm_trace *t);

/* Bad lines skipped so far (MM_TRACE_SKIP_BAD). */
uint64_t mm_trace_skipped(const struct mm_trace *t);

/* Records returned so far. */
uint64_t mm_trace_count(const struct mm_trace *t);

/* The format being read (never MM_TRACE_FMT_AUTO after a successful open). */
enum mm_trace_fmt mm_trace_format(const struct mm_trace *t);

/* "plain", "gzip" or "zstd". */
const char *mm_trace_compression(const struct mm_trace *t);

/* Close the reader and free everything it holds; NULL is a no-op. */
void mm_trace_close(struct mm_trace *t);

#endif /* MMKIT_TRACE_H */
