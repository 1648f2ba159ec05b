/* klog.c — the kernel log ring (Linux's printk buffer) and dmesg.
 *
 * mm_klog() appends one line, prefixed with the time as dmesg prints it
 * ("[%5lu.%06lu] "), to a ring of SIM_KLOG_BYTES bytes. When a new line does
 * not fit, the oldest whole lines are dropped (as the printk ring overwrites
 * its oldest records); a single line longer than the ring is cut to fit.
 * The ring is host memory beside the machine, as Linux's __log_buf is a
 * static array in the kernel image (not in MemTotal, never freed): it is
 * allocated on the first message and freed with the machine.
 *
 * Time: a line is stamped with the simulated uptime: the clock's ticks
 * (mm_machine_tick, 1/hz s each: time passing) plus the time the CPU has
 * spent by the cost model (every access, page walk, fault and disk
 * transfer of live and exited processes at the configured latencies: the
 * numerator of the effective access time). Both only grow, so lines are
 * ordered as dmesg orders them.
 *
 * Cost: O(line length) per message (plus the lines dropped); O(tasks) for
 * the timestamp. Reference: kernel/printk/printk.c (vprintk_store,
 * log_buf_len default 1 << CONFIG_LOG_BUF_SHIFT), util-linux dmesg.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_internal.h"

/* Simulated nanoseconds since boot (see above). */
uint64_t sim_klog_clock_ns(const struct mm_machine *m)
{
	struct mm_counters c;
	mm_machine_counters(m, &c);
	const struct mm_latency *l = &m->cfg.lat;
	double ns = (double)c.accesses * (l->tlb_ns + l->mem_ns) + (double)c.walk_refs * l->mem_ns +
		    (double)(c.min_flt + c.maj_flt) * l->fault_ns + (double)c.maj_flt * l->disk_ns;
	if (m->cfg.hz)
		ns += (double)mm_machine_jiffies(m) * 1e9 / m->cfg.hz;
	return ns > 0 ? (uint64_t)ns : 0;
}

/* Copy n bytes into the ring at its tail (the caller made room). */
static void ring_put(struct sim_klog *k, const char *s, size_t n)
{
	size_t tail = (k->head + k->len) % SIM_KLOG_BYTES;
	size_t first = MM_MIN(n, SIM_KLOG_BYTES - tail);
	memcpy(k->buf + tail, s, first);
	memcpy(k->buf, s + first, n - first);
	k->len += n;
}

/* Drop the oldest line. */
static void ring_drop_line(struct sim_klog *k)
{
	while (k->len) {
		char c = k->buf[k->head];
		k->head = (k->head + 1) % SIM_KLOG_BYTES;
		k->len--;
		if (c == '\n')
			break;
	}
}

void mm_klog(struct mm_machine *m, const char *fmt, ...)
{
	struct sim_klog *k = &m->klog;
	if (!k->buf) {
		k->buf = malloc(SIM_KLOG_BYTES);
		if (!k->buf)
			return;   /* no log: messages are lost, nothing else is */
	}
	char line[1024];
	uint64_t ns = sim_klog_clock_ns(m);
	int n = snprintf(line, sizeof(line), "[%5llu.%06llu] ", (unsigned long long)(ns / 1000000000),
			 (unsigned long long)(ns % 1000000000 / 1000));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	if (len && line[len - 1] == '\n')
		len--;   /* printk's trailing newline is optional */
	line[len++] = '\n';
	len = MM_MIN(len, (size_t)SIM_KLOG_BYTES);
	while (k->len + len > SIM_KLOG_BYTES)
		ring_drop_line(k);
	ring_put(k, line, len);
}

size_t mm_show_dmesg(struct mm_machine *m, char *buf, size_t size)
{
	const struct sim_klog *k = &m->klog;
	if (size) {
		size_t n = MM_MIN(k->len, size - 1);
		size_t first = MM_MIN(n, SIM_KLOG_BYTES - k->head);
		if (n) {
			memcpy(buf, k->buf + k->head, first);
			memcpy(buf + first, k->buf, n - first);
		}
		buf[n] = '\0';
	}
	return k->len;
}

void sim_klog_destroy(struct mm_machine *m)
{
	free(m->klog.buf);
	m->klog.buf = NULL;
	m->klog.head = m->klog.len = 0;
}
