/* progress.c — a one-line progress report on stderr for long runs.
 *
 * In automatic mode nothing is shown unless stderr is a terminal and the run
 * has lasted a second; then the line (requests so far, rate, elapsed time) is
 * redrawn in place with '\r' about four times a second. --progress forces it
 * on (one line per update, so it also works in a log), --no-progress off.
 * The clock is read only every 64 Ki requests: the hot loop pays a compare.
 * When the input is a regular file, the line also shows how far into it the
 * reader is (its file offset: compressed bytes for a compressed trace).
 */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmsim.h"

#define CHECK_EVERY  (1u << 16) /* requests between looks at the clock */
#define SHOW_AFTER   1.0        /* seconds before the first line (auto mode) */
#define REDRAW_EVERY 0.25       /* seconds between lines */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_init(struct progress *p, const char *cmd, int mode)
{
	p->cmd = cmd;
	p->phase = NULL;
	p->unit = "requests";
	p->fd = -1;
	p->total = 0;
	p->mode = mode;
	if (mode == PROGRESS_AUTO && !isatty(STDERR_FILENO))
		p->mode = PROGRESS_OFF;
	p->shown = false;
	p->next_check = CHECK_EVERY;
	p->start = p->last = now_s();
	if (p->mode == PROGRESS_ON)
		p->last = p->start - REDRAW_EVERY; /* the first update draws */
}

void progress_phase(struct progress *p, const char *phase, int fd)
{
	struct stat st;
	p->phase = phase;
	p->fd = -1;
	p->total = 0;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		p->fd = fd;
		p->total = (uint64_t)st.st_size;
	}
}

static void draw(struct progress *p, uint64_t done, double t, const char *end)
{
	double el = t - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	char share[32] = "";
	if (p->fd >= 0) {
		off_t pos = lseek(p->fd, 0, SEEK_CUR);
		if (pos >= 0)
			snprintf(share, sizeof(share), " (%.0f%% read)",
				 100.0 * (double)pos / (double)p->total);
	}
	fprintf(stderr, "%smmsim %s: %s%s%.1f M %s%s, %.1f M/s, %.1f s%s",
		p->mode == PROGRESS_AUTO ? "\r" : "", p->cmd, p->phase ? p->phase : "",
		p->phase ? ": " : "", (double)done / 1e6, p->unit, share, rate / 1e6, el, end);
	fflush(stderr);
	p->shown = true;
}

void progress_tick(struct progress *p, uint64_t done)
{
	p->next_check = done + CHECK_EVERY;
	double t = now_s();
	if (p->mode == PROGRESS_AUTO && !p->shown && t - p->start < SHOW_AFTER)
		return;
	if (t - p->last < REDRAW_EVERY)
		return;
	p->last = t;
	draw(p, done, t, p->mode == PROGRESS_AUTO ? "\033[K" : "\n");
}

void progress_done(struct progress *p, uint64_t done)
{
	if (p->mode == PROGRESS_ON || p->shown)
		draw(p, done, now_s(), p->mode == PROGRESS_AUTO ? "\033[K\n" : " (done)\n");
}
