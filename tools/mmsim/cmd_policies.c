/* cmd_policies.c — `mmsim policies`: the replacement policies, one a line.
 *
 * Everything printed comes from the policy registry (mm_policy_info()), so
 * the list cannot drift from the code: name, kind (idealised: needs to see
 * every access or the future; realistic: uses only what paging hardware
 * gives, the referenced and dirty bits), the one-line definition, and with
 * --long the aliases and options a spec may use.
 */
#include <string.h>

#include "mmkit/policy.h"
#include "mmsim.h"

enum { OPT_JSON = 1, OPT_LONG, OPT_HELP };

static const struct cli_opt opts[] = {
	{ "json", 'j', CLI_ARG_NONE, OPT_JSON },
	{ "long", 'l', CLI_ARG_NONE, OPT_LONG },
	{ "help", 'h', CLI_ARG_NONE, OPT_HELP },
};

static const char *kind_name(const struct mm_policy_info *in)
{
	return in->idealised ? "idealised" : "realistic";
}

static void json_words(struct jw *w, const char *words)
{
	jw_begin_array(w);
	const char *p = words;
	while (*p) {
		size_t len = strcspn(p, " ");
		if (len) {
			char buf[128];
			snprintf(buf, sizeof(buf), "%.*s", (int)(len < 127 ? len : 127), p);
			jw_str(w, buf);
		}
		p += len;
		p += strspn(p, " ");
	}
	jw_end_array(w);
}

static void print_json(void)
{
	struct jw w;
	jw_init(&w, stdout);
	w.compact = true;
	jw_begin_array(&w);
	for (size_t i = 0; i < mm_policy_count(); i++) {
		const struct mm_policy_info *in = mm_policy_info(i);
		jw_begin_object(&w);
		jw_key(&w, "name");
		jw_str(&w, in->name);
		jw_key(&w, "kind");
		jw_str(&w, kind_name(in));
		jw_key(&w, "idealised");
		jw_bool(&w, in->idealised);
		jw_key(&w, "summary");
		jw_str(&w, in->summary);
		jw_key(&w, "aliases");
		json_words(&w, in->aliases);
		jw_key(&w, "options");
		json_words(&w, in->options);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_finish(&w);
}

static int print_text(bool lng)
{
	static const char *const heads[] = { "name", "kind", "definition" };
	static const bool right[] = { false, false, false };
	struct table t;
	if (table_init(&t, 3, heads, right))
		goto nomem;
	for (size_t i = 0; i < mm_policy_count(); i++) {
		const struct mm_policy_info *in = mm_policy_info(i);
		const char *row[] = { in->name, kind_name(in), in->summary };
		if (table_add(&t, row))
			goto nomem;
		if (!lng)
			continue;
		char buf[256];
		if (in->aliases[0]) {
			snprintf(buf, sizeof(buf), "  aliases: %s", in->aliases);
			const char *r2[] = { "", "", buf };
			if (table_add(&t, r2))
				goto nomem;
		}
		snprintf(buf, sizeof(buf), "  options: %s", in->options[0] ? in->options : "none");
		const char *r3[] = { "", "", buf };
		if (table_add(&t, r3))
			goto nomem;
	}
	table_print(&t, stdout);
	table_free(&t);
	return EXIT_OK;
nomem:
	table_free(&t);
	mmsim_err("policies", "out of memory");
	return EXIT_NOMEM;
}

static int run_policies(int argc, char **argv)
{
	struct cli c;
	const char *arg;
	bool json = false, lng = false;
	int id;
	cli_init(&c, "policies", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	while ((id = cli_next(&c, &arg)) != CLI_END) {
		switch (id) {
		case CLI_ERROR:
			return EXIT_USAGE;
		case CLI_POSITIONAL:
			return mmsim_usage_err("policies", "unexpected argument '%s'", arg);
		case OPT_JSON:
			json = true;
			break;
		case OPT_LONG:
			lng = true;
			break;
		case OPT_HELP:
			mmsim_print_help(&mmsim_cmd_policies, stdout);
			return EXIT_OK;
		}
	}
	int rc = EXIT_OK;
	if (json)
		print_json();
	else
		rc = print_text(lng);
	if (rc == EXIT_OK)
		rc = out_close("policies", "-", stdout);
	return rc;
}

const struct mmsim_cmd mmsim_cmd_policies = {
	.name = "policies",
	.summary = "list the replacement policies",
	.help = "Usage: mmsim policies [--long] [--json]\n"
		"\n"
		"List the page replacement policies, one a line: the name to use in a\n"
		"policy spec, its kind, and its definition. \"idealised\" policies need\n"
		"information paging hardware cannot give (every access: lru, lfu; the\n"
		"future: opt); \"realistic\" ones use only the referenced and dirty bits.\n"
		"\n"
		"Options:\n"
		"  -l, --long   also the aliases and the options a spec may set,\n"
		"               as in clock:ref=1 or lfu:tie=fifo:perfect=1\n"
		"  -j, --json   a JSON list of objects: name, kind, idealised, summary,\n"
		"               aliases, options\n"
		"  -h, --help   this help\n",
	.run = run_policies,
};
