/* cmd_run.c — `mmsim run SCENARIO`: parse a scenario script whole, then run
 * it on a fresh simulated machine, printing what it shows (scenario_out.c).
 * The language is docs/scenario.md; the engine is scenario_*.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_out.h"

enum { OPT_JSON = 1, OPT_CHECK, OPT_QUIET, OPT_DEFINE, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_HELP };

static const struct cli_opt opts[] = {
	{ "json", 'j', CLI_ARG_NONE, OPT_JSON },
	{ "check", 'c', CLI_ARG_NONE, OPT_CHECK },
	{ "quiet", 'q', CLI_ARG_NONE, OPT_QUIET },
	{ "define", 'D', CLI_ARG_REQUIRED, OPT_DEFINE },
	{ "progress", 0, CLI_ARG_NONE, OPT_PROGRESS },
	{ "no-progress", 0, CLI_ARG_NONE, OPT_NO_PROGRESS },
	{ "help", 'h', CLI_ARG_NONE, OPT_HELP },
};

#define MAX_DEFINES 256

/* NAME=VALUE into d (pointers into arg, which is split in place). */
static int parse_define(char *arg, struct sc_define *d)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return mmsim_usage_err("run", "-D %s: expected NAME=VALUE", arg);
	*eq = 0;
	if (!isalpha((unsigned char)arg[0]) && arg[0] != '_')
		return mmsim_usage_err("run", "-D %s: a name starts with a letter or _", arg);
	for (const char *p = arg; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return mmsim_usage_err("run",
					       "-D %s: a name has letters, digits and _ only", arg);
	if (strlen(arg) > 63)
		return mmsim_usage_err("run", "-D %s: name too long", arg);
	d->name = arg;
	d->value = eq + 1;
	return 0;
}

static void run_progress(void *ctx, uint64_t steps)
{
	progress_update(ctx, steps);
}

static int run_run(int argc, char **argv)
{
	struct cli c;
	const char *arg, *path = NULL;
	bool json = false, quiet = false, check = false;
	int progress = PROGRESS_AUTO;
	struct sc_define defs[MAX_DEFINES];
	size_t ndefs = 0;
	int id;
	cli_init(&c, "run", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	while ((id = cli_next(&c, &arg)) != CLI_END) {
		switch (id) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_POSITIONAL:
			if (path)
				return mmsim_usage_err(
					"run", "one scenario at a time ('%s' and '%s')", path, arg);
			path = arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_PROGRESS:
			progress = PROGRESS_ON;
			break;
		case OPT_NO_PROGRESS:
			progress = PROGRESS_OFF;
			break;
		case OPT_DEFINE: {
			if (ndefs == MAX_DEFINES)
				return mmsim_usage_err("run", "more than %d -D options",
						       MAX_DEFINES);
			int rc = parse_define((char *)(uintptr_t)arg, &defs[ndefs]);
			if (rc)
				return rc;
			ndefs++;
			break;
		}
		case OPT_HELP:
			mmsim_print_help(&mmsim_cmd_run, stdout);
			return EXIT_OK;
		}
	}
	if (!path)
		return mmsim_usage_err("run", "no scenario given");
	struct sc_limits lim;
	sc_limits_default(&lim);
	struct sc_script *s;
	struct sc_result res;
	if (strcmp(path, "-") == 0) {
		errno = 0;
		size_t cap = 65536, n = 0;
		char *buf = malloc(cap);
		while (buf) {
			size_t k = fread(buf + n, 1, cap - n, stdin);
			n += k;
			if (k == 0)
				break;
			if (n == cap) {
				if (cap >= lim.max_file_bytes) {
					free(buf);
					mmsim_err("run", "<stdin>: larger than %llu bytes",
						  (unsigned long long)lim.max_file_bytes);
					return EXIT_INPUT;
				}
				char *nb = realloc(buf, cap * 2);
				if (!nb)
					free(buf);
				buf = nb;
				cap *= 2;
			}
		}
		if (!buf) {
			mmsim_err("run", "out of memory");
			return EXIT_NOMEM;
		}
		if (ferror(stdin)) {
			int e = errno ? errno : EIO;
			free(buf);
			mmsim_err("run", "<stdin>: %s", strerror(e));
			return EXIT_IO;
		}
		sc_parse_buffer("<stdin>", buf, n, &lim, &s, &res);
		free(buf);
	} else {
		sc_parse_file(path, &lim, &s, &res);
	}
	struct sc_out o;
	struct sc_sink sink;
	if (res.status) {
		if (!json) {
			mmsim_err("run", "%s", res.msg);
			return res.status;
		}
		/* --json still prints its one document: no events, the error */
		sc_out_init(&o, &sink, "run", path, json, quiet);
		return sc_out_finish(&o, &res);
	}
	sc_out_init(&o, &sink, "run", path, json, quiet);
	/* a long run shows its steps on stderr when that is a terminal */
	struct progress pr;
	progress_init(&pr, "run", progress);
	pr.unit = "steps";
	struct sc_run_opts ro = { .lim = &lim,
				  .defs = defs,
				  .ndefs = ndefs,
				  .check = check,
				  .progress = run_progress,
				  .progress_ctx = &pr };
	sc_run(s, &ro, &sink, &res);
	sc_script_free(s);
	progress_done(&pr, res.steps);
	return sc_out_finish(&o, &res);
}

const struct mmsim_cmd mmsim_cmd_run = {
	.name = "run",
	.summary = "run a scenario script on the simulated machine",
	.help = "Usage: mmsim run SCENARIO [--json] [--check] [--quiet] [-D NAME=VALUE]...\n"
		"                 [--progress | --no-progress]\n"
		"\n"
		"Run a scenario (docs/scenario.md; examples in examples/scenarios/): boot\n"
		"a simulated machine, start processes, make their system calls and memory\n"
		"accesses, print the views it shows (free, meminfo, maps, ...) and check\n"
		"its expect lines. SCENARIO is a file, or - for standard input. The whole\n"
		"script is parsed before anything runs; a syntax error is reported as\n"
		"FILE:LINE:COL: reason (exit 3). A failed expect prints\n"
		"FILE:LINE: expect failed: ... (got X) and the run goes on (exit 1); a\n"
		"system call that fails or an access that faults outside 'try' stops it\n"
		"(exit 1).\n"
		"\n"
		"Options:\n"
		"  -j, --json          one JSON document: every view, echo, section,\n"
		"                      strace line and expect as an event, then the\n"
		"                      counts of expects and the status\n"
		"  -c, --check         check every invariant of the machine\n"
		"                      (mm_machine_check) after every statement\n"
		"  -q, --quiet         print nothing but failures and errors\n"
		"  -D, --define NAME=VALUE\n"
		"                      set $NAME before the run (an expression: 64M,\n"
		"                      0x1000, 3*4K); 'param NAME = ...' lines keep it\n"
		"      --progress, --no-progress\n"
		"                      force the progress line on stderr (steps so far)\n"
		"                      on or off (default: shown when stderr is a\n"
		"                      terminal and the run lasts over a second)\n"
		"  -h, --help          this help\n",
	.run = run_run,
};
