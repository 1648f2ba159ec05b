/* report.c — fatal-error messages and number formatting without stdio.
 *
 * The allocator must not call printf while it may hold its locks or while
 * stdio itself is allocating, so messages are built in stack buffers and
 * written with one write(2).
 */
#include <stdlib.h>
#include <string.h>

#include "malloc_internal.h"

void mm_fmt_str(char *buf, size_t cap, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < cap)
		buf[(*pos)++] = *s++;
	buf[*pos < cap ? *pos : cap - 1] = '\0';
}

void mm_fmt_upad(char *buf, size_t cap, size_t *pos, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (width-- > n && *pos + 1 < cap)
		buf[(*pos)++] = ' ';
	while (n > 0 && *pos + 1 < cap)
		buf[(*pos)++] = tmp[--n];
	buf[*pos < cap ? *pos : cap - 1] = '\0';
}

void mm_fmt_u(char *buf, size_t cap, size_t *pos, uint64_t v)
{
	mm_fmt_upad(buf, cap, pos, v, 0);
}

void mm_fmt_hex(char *buf, size_t cap, size_t *pos, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	mm_fmt_str(buf, cap, pos, "0x");
	while (n > 0 && *pos + 1 < cap)
		buf[(*pos)++] = tmp[--n];
	buf[*pos < cap ? *pos : cap - 1] = '\0';
}

/* "<msg>" or "<msg> (0x...)" then abort: the heap is damaged or the caller
 * passed a pointer that is not ours; going on would corrupt memory. */
void mm_fatal(const char *msg, const void *addr)
{
	char buf[256];
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, "mmalloc: ");
	mm_fmt_str(buf, sizeof(buf), &pos, msg);
	if (addr) {
		mm_fmt_str(buf, sizeof(buf), &pos, " (");
		mm_fmt_hex(buf, sizeof(buf), &pos, (uintptr_t)addr);
		mm_fmt_str(buf, sizeof(buf), &pos, ")");
	}
	mm_fmt_str(buf, sizeof(buf), &pos, "\n");
	mm_os_write_err(buf, pos);
	abort();
}
