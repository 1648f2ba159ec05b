/* os.h — the only door from libmmalloc to the operating system.
 *
 * Contract: every function returns NULL / -1 on failure and leaves nothing
 * half-done; none of them allocates, takes an allocator lock or calls back
 * into the allocator, so they are safe during initialisation and in a
 * fork child. Counters and fault injection (tests) live here too.
 */
#ifndef MMALLOC_OS_H
#define MMALLOC_OS_H

#include <stddef.h>
#include <stdint.h>

/* Fresh zeroed read-write anonymous memory, or NULL. */
void *mm_os_map(size_t len);
/* Address space only (PROT_NONE, not counted as committed), or NULL. */
void *mm_os_reserve(size_t len);
/* Make [p, p+len) of a reservation read-write; 0 or -1. */
int mm_os_commit(void *p, size_t len);
int mm_os_unmap(void *p, size_t len);
/* Resize a mapping, possibly moving it; NULL on failure (old one intact). */
void *mm_os_remap(void *p, size_t old_len, size_t new_len);
/* Move the program break by inc bytes; the old break, or NULL. */
void *mm_os_sbrk(intptr_t inc);
/* The current program break. */
void *mm_os_brk_now(void);
/* Tell the kernel the pages are free (they read back as zeros). */
int mm_os_dontneed(void *p, size_t len);
size_t mm_os_pagesize(void);
/* A coarse monotonic clock in milliseconds (0 if unavailable). */
uint64_t mm_os_now_ms(void);
int mm_os_ncpus(void);
/* Write a message to the standard error without stdio: fd 2, or the
 * duplicate mm_os_keep_err made of it. */
void mm_os_write_err(const char *s, size_t len);
/* Keep a duplicate of fd 2 (close-on-exec, numbered 10 or above) and write
 * messages there from now on, so that reports at exit still reach the
 * original standard error after the program has closed fd 2 (or opened
 * another file as fd 2). Nothing happens if fd 2 is not open. */
void mm_os_keep_err(void);
/* The descriptor messages go to: the duplicate while it still refers to
 * the file it was made from, else 2. */
int mm_os_err_fd(void);
/* The process's initial environment read from /proc/self/environ, for
 * an initialisation that runs before libc has set `environ` (from a
 * .preinit_array function): "NAME=VALUE" strings, each ended by a NUL,
 * then an empty one. Read once, in memory kept for the whole run; NULL if
 * it cannot be read. Not thread-safe: for start-up. */
const char *mm_os_initial_environ(void);
/* Bytes given back to the system, for the counters (trim paths). */
void mm_os_note_trimmed(size_t bytes);

#endif
