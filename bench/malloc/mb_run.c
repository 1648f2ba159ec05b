/* mb-run: run one program, optionally with an allocator preloaded, and report
 * its wall time and peak resident set size.
 *
 * usage: mb-run [-p LIB] [-o FILE] [-t SECONDS] -- PROGRAM [ARGS...]
 *
 * The child gets LD_PRELOAD=LIB (only the child: mb-run itself runs on the
 * system malloc). When it ends, one line "WALL_SECONDS MAXRSS_KIB STATUS" goes
 * to FILE (default stdout); STATUS is the exit code, or 128+signal if the
 * child was killed by a signal (124 on timeout, as timeout(1) does).
 * The peak RSS is the child's ru_maxrss from wait4(), so it covers exactly
 * the measured program and nothing else. mb-run's own exit status is 0 when
 * the measurement was taken, whatever the child did, and 2 on usage errors.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	if (child > 0)
		kill(child, SIGKILL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
	fprintf(stderr, "usage: mb-run [-p LIB] [-o FILE] [-t SECONDS] -- PROGRAM [ARGS...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *preload = NULL, *out = NULL;
	unsigned timeout = 0;
	int opt;
	while ((opt = getopt(argc, argv, "+p:o:t:")) != -1) {
		switch (opt) {
		case 'p': preload = optarg; break;
		case 'o': out = optarg; break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	double t0 = now();
	child = fork();
	if (child < 0) {
		perror("mb-run: fork");
		return 2;
	}
	if (child == 0) {
		if (preload != NULL && preload[0] != '\0')
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		execvp(argv[optind], &argv[optind]);
		fprintf(stderr, "mb-run: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	if (timeout > 0)
		alarm(timeout);

	int status;
	struct rusage ru;
	pid_t r;
	while ((r = wait4(child, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	double t1 = now();
	if (r < 0) {
		perror("mb-run: wait4");
		return 2;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (timed_out)
		code = 124;

	FILE *f = out != NULL ? fopen(out, "w") : stdout;
	if (f == NULL) {
		perror("mb-run: output file");
		return 2;
	}
	fprintf(f, "%.4f %ld %d\n", t1 - t0, ru.ru_maxrss, code);
	if (f != stdout)
		fclose(f);
	return 0;
}
