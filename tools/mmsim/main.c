/* main.c — mmsim: the command line of mmkit.
 *
 * `mmsim COMMAND [OPTIONS] [ARGS]`. The commands are entries of one table
 * (name, summary, help text, run function); adding a command is writing its
 * cmd_*.c and adding its entry below. main() only handles what comes before
 * the command name (--help, --version) and dispatches; every command parses
 * its own options, including --help.
 */
#include <string.h>

#include "mmsim.h"

const struct mmsim_cmd *const mmsim_cmds[] = {
	&mmsim_cmd_demo,
	&mmsim_cmd_run,
	&mmsim_cmd_trace,
	&mmsim_cmd_cache,
	&mmsim_cmd_sweep,
	&mmsim_cmd_policies,
	&mmsim_cmd_help,
};
const size_t mmsim_ncmds = sizeof(mmsim_cmds) / sizeof(mmsim_cmds[0]);

const struct mmsim_cmd *mmsim_find_cmd(const char *name)
{
	for (size_t i = 0; i < mmsim_ncmds; i++)
		if (strcmp(mmsim_cmds[i]->name, name) == 0)
			return mmsim_cmds[i];
	return NULL;
}

void mmsim_usage(FILE *f)
{
	fputs("Usage: mmsim COMMAND [OPTIONS] [ARGS]\n"
	      "       mmsim help COMMAND     (or mmsim COMMAND --help)\n"
	      "       mmsim --version\n"
	      "\n"
	      "mmsim runs scenarios and replays memory and cache traces on mmkit's\n"
	      "simulated machine, and replays traces through its page replacement\n"
	      "policies.\n"
	      "\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < mmsim_ncmds; i++)
		fprintf(f, "  %-10s %s\n", mmsim_cmds[i]->name, mmsim_cmds[i]->summary);
	fputs("\n"
	      "Exit status:\n"
	      "  0  success\n"
	      "  1  a check failed: results differ (--check)\n"
	      "  2  usage error: unknown command or option, bad option value\n"
	      "  3  bad input: a malformed trace line (FILE:LINE:COL: reason), a trace\n"
	      "     whose format cannot be detected, corrupt or truncated gzip/zstd data\n"
	      "  4  I/O error: a file cannot be opened, read or written; gnuplot is\n"
	      "     missing or failed\n"
	      "  5  out of memory\n"
	      "\n"
	      "Documentation: docs/mmsim.md, man -l docs/mmsim.1\n", f);
}

static const char *const *cmd_names(const char **buf, size_t cap, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < mmsim_ncmds && *n < cap; i++)
		buf[(*n)++] = mmsim_cmds[i]->name;
	return buf;
}

static int unknown_command(const char *name)
{
	const char *buf[32];
	size_t n;
	const char *const *names = cmd_names(buf, 32, &n);
	const char *hint = mmsim_suggest(name, names, n);
	if (hint)
		mmsim_err(NULL, "unknown command '%s' (did you mean '%s'?)", name, hint);
	else
		mmsim_err(NULL, "unknown command '%s'", name);
	fputs("Try 'mmsim --help'.\n", stderr);
	return EXIT_USAGE;
}

void mmsim_print_help(const struct mmsim_cmd *c, FILE *f)
{
	static const char marker[] = "%TRACE_OPTS%";
	const char *m = strstr(c->help, marker);
	if (!m) {
		fputs(c->help, f);
		return;
	}
	fwrite(c->help, 1, (size_t)(m - c->help), f);
	fputs(trace_opts_help, f);
	fputs(m + sizeof(marker) - 1, f);
}

/* ---- help --------------------------------------------------------------- */

static int run_help(int argc, char **argv)
{
	if (argc < 2) {
		mmsim_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return mmsim_usage_err("help", "expected one command name, got %d words", argc - 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		mmsim_print_help(&mmsim_cmd_help, stdout);
		return EXIT_OK;
	}
	const struct mmsim_cmd *c = mmsim_find_cmd(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	mmsim_print_help(c, stdout);
	return EXIT_OK;
}

const struct mmsim_cmd mmsim_cmd_help = {
	.name = "help",
	.summary = "show the help of a command",
	.help = "Usage: mmsim help [COMMAND]\n"
		"\n"
		"Show the help of COMMAND, or the list of commands.\n",
	.run = run_help,
};

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
	if (argc < 2) {
		mmsim_usage(stderr);
		return EXIT_USAGE;
	}
	const char *a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		mmsim_usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		printf("mmsim (mmkit) %s\n", MMSIM_VERSION);
		return EXIT_OK;
	}
	if (a[0] == '-') {
		mmsim_err(NULL, "unknown option '%s' (options go after the command)", a);
		fputs("Try 'mmsim --help'.\n", stderr);
		return EXIT_USAGE;
	}
	const struct mmsim_cmd *c = mmsim_find_cmd(a);
	if (!c)
		return unknown_command(a);
	return c->run(argc - 1, argv + 1);
}
