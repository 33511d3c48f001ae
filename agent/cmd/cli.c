/* SPDX-License-Identifier: Apache-2.0 */
/* Option parsing shared by every subcommand. A bad option, file or value
 * is a one-line error and exit 3; nothing half-runs. */
#include "config.h"

#include <getopt.h>
#include <sys/stat.h>

#include "agent/cmd/cli.h"
#include "lib/log.h"
#include "lib/strutil.h"

#define F(x) (1u << (x))

enum {
	OPT_CONFIG = 0x100,
	OPT_FORMAT,
	OPT_SYSROOT,
	OPT_IMDS_URL,
	OPT_IMDS_TIMEOUT,
	OPT_ARM,
	OPT_ARM_URL,
	OPT_NO_BENCH,
	OPT_LISTEN,
	OPT_INTERVAL,
	OPT_REQUIRE_PATH,
	OPT_SECONDS,
	OPT_REPORT_FROM,
	OPT_ROLE,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "imds-url", required_argument, NULL, OPT_IMDS_URL },
	{ "imds-timeout", required_argument, NULL, OPT_IMDS_TIMEOUT },
	{ "arm", required_argument, NULL, OPT_ARM },
	{ "arm-url", required_argument, NULL, OPT_ARM_URL },
	{ "no-bench", no_argument, NULL, OPT_NO_BENCH },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "require-path", required_argument, NULL, OPT_REQUIRE_PATH },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "report-from", required_argument, NULL, OPT_REPORT_FROM },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static const char common_usage[] =
	"  --config FILE          configuration and policy (default " ATREST_DEFAULT_CONFIG
	" if present)\n"
	"  --format text|json     output for people or programs (check also: prom, npd)\n"
	"  --sysroot DIR          read every local fact under DIR\n"
	"  --imds-url URL         IMDS base URL (default " ATREST_DEFAULT_IMDS_URL ")\n"
	"  --imds-timeout S       seconds for the whole IMDS step (default 10)\n"
	"  --arm auto|on|off      look disks up in ARM with the managed identity (default auto)\n"
	"  --arm-url URL          ARM base URL (default " ATREST_DEFAULT_ARM_URL ")\n"
	"  --no-bench             skip the benchmark\n"
	"  --listen ADDR:PORT     where the daemon serves HTTP, repeatable (default " ATREST_DEFAULT_LISTEN
	")\n"
	"  --interval SECONDS     daemon evaluation period (default 60)\n"
	"  --require-path PATH    PATH must sit on dm-crypt, repeatable\n"
	"  -v, -q                 more / less logging on stderr (-vvv: library debug output)\n"
	"  -h, --help             this help\n";

void cli_print_help(FILE *out, const struct command *cmd)
{
	if (!cmd) {
		fputs("Usage: atrest COMMAND [OPTIONS]\n\n"
		      "Verify, from inside an Azure node, that data at rest is encrypted as policy demands.\n\n"
		      "Commands:\n",
		      out);
		for (size_t i = 0; i < n_commands; i++)
			if (!commands[i].hidden)
				fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
		fputs("\nOptions (every command):\n", out);
		fputs(common_usage, out);
		fputs("\nExit codes of check: 0 compliant, 1 warning, 2 noncompliant, 3 indeterminate or error.\n"
		      "Run 'atrest COMMAND --help' for a command's help.\n",
		      out);
		return;
	}
	fprintf(out, "Usage: atrest %s%s [OPTIONS]\n\n%s.\n\nOptions:\n", cmd->name,
		cmd->max_args ? " ACTION" : "", cmd->summary);
	fputs(cmd->usage, out);
	fputs(common_usage, out);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < n_commands; i++)
		if (streq(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Prints "atrest CMD: message" and returns -EINVAL. */
static int usage_error(const struct cli *c, const char *fmt, ...) _printf_(2, 3);
static int usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "atrest%s%s: ", c->cmd ? " " : "", c->cmd ? c->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static bool is_url(const char *v)
{
	return (startswith(v, "http://") || startswith(v, "https://")) && !strpbrk(v, " \t\r\n?#");
}

static int set_str(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int parse_format(struct cli *c, const char *v)
{
	static const char *const names[] = { "text", "json", "prom", "npd" };

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(v, names[i])) {
			if (!(c->cmd->formats & F(i)))
				return usage_error(c, "--format %s is not available for this command",
						   v);
			c->format = (enum output_format)i;
			return 0;
		}
	return usage_error(c, "--format: '%s' is not one of text, json%s", v,
			   c->cmd->formats & F(FORMAT_NPD) ? ", prom, npd" : "");
}

/* Options collected in a first pass, applied after the config file. */
struct overrides {
	const char *imds_url, *arm_url, *arm, *imds_timeout, *interval;
	char **listen;
	char **require;
};

static int collect(struct cli *c, struct overrides *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONFIG:
		return set_str(&c->config_path, arg);
	case OPT_FORMAT:
		return parse_format(c, arg);
	case OPT_SYSROOT:
		return set_str(&c->sysroot, arg);
	case OPT_IMDS_URL:
		o->imds_url = arg;
		return 0;
	case OPT_IMDS_TIMEOUT:
		o->imds_timeout = arg;
		return 0;
	case OPT_ARM:
		o->arm = arg;
		return 0;
	case OPT_ARM_URL:
		o->arm_url = arg;
		return 0;
	case OPT_NO_BENCH:
		c->no_bench = true;
		return 0;
	case OPT_LISTEN:
		return strv_extend(&o->listen, arg);
	case OPT_INTERVAL:
		o->interval = arg;
		return 0;
	case OPT_REQUIRE_PATH:
		if (arg[0] != '/')
			return usage_error(c, "--require-path: '%s' is not an absolute path", arg);
		return strv_extend(&o->require, arg);
	case OPT_REPORT_FROM:
		if (!streq(c->cmd->name, "check"))
			return usage_error(c, "--report-from is an option of check --format npd");
		if (!is_url(arg) && arg[0] != '/')
			return usage_error(c, "--report-from: '%s' is neither an http(s) URL nor an absolute path",
					   arg);
		return set_str(&c->report_from, arg);
	case OPT_ROLE:
		if (!streq(c->cmd->name, "daemon"))
			return usage_error(c, "--role is an option of daemon");
		if (!streq(arg, "both") && !streq(arg, "evaluator") && !streq(arg, "server"))
			return usage_error(c, "--role: '%s' is not one of both, evaluator, server",
					   arg);
		return set_str(&c->role, arg);
	case OPT_SECONDS:
		if (safe_atod_seconds(arg, &c->bench_seconds) < 0 || c->bench_seconds <= 0 ||
		    c->bench_seconds > 600)
			return usage_error(c, "--seconds: '%s' is not a number of seconds in (0, 600]",
					   arg);
		return 0;
	case 'v':
		c->verbosity = c->verbosity < 0 ? 1 : c->verbosity + 1;
		return 0;
	case 'q':
		c->verbosity = -1;
		return 0;
	}
	return -EINVAL;
}

/* The whole file, kept: the daemon hands its evaluation jobs the text it
 * loaded, so that a job never reads a file changed since. */
static int read_text(const char *path, char **ret, size_t *ret_len, char **ret_error)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct strbuf sb = { 0 };
	char buf[4096];
	size_t k;

	if (!f) {
		*ret_error = strprintf("%s: cannot read: %s", path, strerror(errno));
		return -errno;
	}
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb.len + k > CLI_CONFIG_MAX_BYTES) {
			strbuf_done(&sb);
			*ret_error = strprintf("%s: larger than %u bytes", path, CLI_CONFIG_MAX_BYTES);
			return -EFBIG;
		}
		strbuf_append_n(&sb, buf, k);
	}
	if (ferror(f) || strbuf_failed(&sb)) {
		int r = ferror(f) ? -EIO : -ENOMEM;

		strbuf_done(&sb);
		*ret_error = strprintf("%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	*ret_len = sb.len;
	*ret = sb.buf ? strbuf_steal(&sb) : strdup("");
	return *ret ? 0 : -ENOMEM;
}

static int load_config(struct cli *c, const struct cli_config_text *given)
{
	const char *path = c->config_path;
	char *err = NULL;
	int r;

	if (given) {
		/* A daemon job: exactly what the daemon loaded, no file. */
		if (!given->text)
			return 0;
		path = given->name ? given->name : "configuration";
		r = config_load_string(&c->conf, given->text, given->len, path, &err);
		goto done;
	}
	if (!path) {
		if (c->cmd->own_config || access(ATREST_DEFAULT_CONFIG, F_OK) < 0)
			return 0;
		path = ATREST_DEFAULT_CONFIG;
	}
	r = read_text(path, &c->conf.text, &c->conf.text_len, &err);
	if (r >= 0) {
		c->conf.text_name = strdup(path);
		r = c->conf.text_name ?
			    config_load_string(&c->conf, c->conf.text, c->conf.text_len, path, &err) :
			    -ENOMEM;
	}
done:
	if (r < 0) {
		usage_error(c, "%s", err ? err : "cannot load the configuration");
		free(err);
		return -EINVAL;
	}
	return 0;
}

static int apply_overrides(struct cli *c, const struct overrides *o)
{
	struct config *conf = &c->conf;
	char *err = NULL;

	if (o->imds_url) {
		if (!is_url(o->imds_url))
			return usage_error(c, "--imds-url: '%s' is not an http(s) URL", o->imds_url);
		if (set_str(&conf->imds_url, o->imds_url) < 0)
			return -ENOMEM;
	}
	if (o->imds_timeout && (safe_atod_seconds(o->imds_timeout, &conf->imds_timeout) < 0 ||
				conf->imds_timeout <= 0 || conf->imds_timeout > 300))
		return usage_error(c, "--imds-timeout: '%s' is not a number of seconds in (0, 300]",
				   o->imds_timeout);
	if (o->arm && arm_mode_from_string(o->arm, &conf->arm_mode) < 0)
		return usage_error(c, "--arm: '%s' is not one of auto, on, off", o->arm);
	if (o->arm_url) {
		if (!is_url(o->arm_url))
			return usage_error(c, "--arm-url: '%s' is not an http(s) URL", o->arm_url);
		if (set_str(&conf->arm_url, o->arm_url) < 0)
			return -ENOMEM;
	}
	if (o->interval && (safe_atou(o->interval, &conf->interval) < 0 || conf->interval < 5 ||
			    conf->interval > 86400))
		return usage_error(c, "--interval: '%s' is not a number of seconds in [5, 86400]",
				   o->interval);
	for (char **l = o->listen; l && *l; l++)
		if (config_check_listen(*l, &err) < 0) {
			usage_error(c, "--listen: %s", err ? err : "invalid");
			free(err);
			return -EINVAL;
		}
	if (o->listen) {
		strv_free(conf->listen);
		conf->listen = strv_copy_or_null(o->listen);
	}
	for (char **p = o->require; p && *p; p++)
		if (!strv_contains(conf->policy.required_paths, *p) &&
		    strv_extend(&conf->policy.required_paths, *p) < 0)
			return -ENOMEM;
	return 0;
}

static int check_sysroot(struct cli *c)
{
	struct stat st;

	if (!c->sysroot)
		return 0;
	if (stat(c->sysroot, &st) < 0)
		return usage_error(c, "--sysroot: %s: %s", c->sysroot, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return usage_error(c, "--sysroot: %s is not a directory", c->sysroot);
	return 0;
}

static int parse_options(int argc, char **argv, struct cli *c, struct overrides *o)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vqh", long_options, NULL)) != -1) {
		int r;

		if (opt == 'h') {
			cli_print_help(stdout, c->cmd);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			if (optopt > 0 && optopt < 0x100)
				return usage_error(c, "unknown option '-%c' (see 'atrest %s --help')",
						   optopt, c->cmd->name);
			return usage_error(c, "unknown or incomplete option '%s' (see 'atrest %s --help')",
					   argv[optind - 1], c->cmd->name);
		}
		r = collect(c, o, opt, optarg);
		if (r < 0)
			return r == -ENOMEM ? usage_error(c, "out of memory") : r;
	}
	if ((unsigned)(argc - optind) > c->cmd->max_args)
		return usage_error(c, "unexpected argument '%s' (see 'atrest %s --help')",
				   argv[optind + c->cmd->max_args], c->cmd->name);
	c->args = calloc((size_t)(argc - optind) + 1, sizeof(char *));
	if (!c->args)
		return usage_error(c, "out of memory");
	for (int i = optind; i < argc; i++)
		c->args[i - optind] = argv[i];
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *c)
{
	return cli_parse_with_config(argc, argv, NULL, c);
}

int cli_parse_with_config(int argc, char **argv, const struct cli_config_text *given, struct cli *c)
{
	struct overrides o = { 0 };
	int r;

	*c = (struct cli){ 0 };
	if (config_init_default(&c->conf) < 0)
		return usage_error(c, "out of memory");
	if (argc < 2) {
		cli_print_help(stderr, NULL);
		return -EINVAL;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
		cli_print_help(stdout, NULL);
		return 1;
	}
	if (streq(argv[1], "--version"))
		argv[1] = (char *)"version";
	c->cmd = find_command(argv[1]);
	if (!c->cmd)
		return usage_error(c, "unknown command '%s' (see 'atrest help')", argv[1]);

	r = parse_options(argc - 1, argv + 1, c, &o);
	if (r == 0)
		r = load_config(c, given);
	if (r == 0)
		r = apply_overrides(c, &o);
	if (r == 0)
		r = check_sysroot(c);
	if (r == 0 && c->report_from && c->format != FORMAT_NPD)
		r = usage_error(c, "--report-from needs --format npd");
	strv_free(o.listen);
	strv_free(o.require);
	if (r == 0)
		log_set_max_level(c->verbosity < 0  ? LOG_LEVEL_ERROR :
				  c->verbosity == 0 ? LOG_LEVEL_WARNING :
				  c->verbosity == 1 ? LOG_LEVEL_INFO :
						      LOG_LEVEL_DEBUG);
	return r;
}

void cli_done(struct cli *c)
{
	free(c->config_path);
	free(c->sysroot);
	free(c->report_from);
	free(c->role);
	free(c->args);

	config_done(&c->conf);
	*c = (struct cli){ 0 };
}

int cli_open_sysroot(const struct cli *c, struct sysroot **ret)
{
	int r = sysroot_new(c->sysroot, ret);

	if (r < 0)
		fprintf(stderr, "atrest: --sysroot %s: %s\n", strna(c->sysroot), strerror(-r));
	return r;
}

int cmd_help(struct cli *c)
{
	cli_print_help(stdout, NULL);
	return 0;
}
