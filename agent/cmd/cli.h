/* SPDX-License-Identifier: Apache-2.0 */
/* The command line: one option table shared by every subcommand
 * (CONTRACT.md), merged over the configuration file. */
#pragma once

#include "agent/conf.h"
#include "lib/sysroot.h"

enum output_format {
	FORMAT_TEXT = 0,
	FORMAT_JSON,
	FORMAT_PROM,
	FORMAT_NPD, /* node-problem-detector custom plugin (check) */
};

struct cli {
	const struct command *cmd;
	char *config_path; /* explicit --config, else NULL */
	enum output_format format;
	char *sysroot;
	bool no_bench;
	int verbosity;        /* -1 quiet, 0 default, 1.. verbose */
	double bench_seconds; /* --seconds, 0 = default */
	char *report_from;    /* --report-from: a published report (check --format npd) */
	char *role;           /* daemon --role: NULL (both), "evaluator", "server" */
	struct config conf;   /* file + command line */
	char **args;          /* positional arguments (NULL-terminated) */
};

struct command {
	const char *name;
	const char *summary;
	const char *usage; /* extra usage text for --help */
	unsigned formats;  /* bit mask of enum output_format accepted */
	int (*run)(struct cli *c);
	unsigned max_args; /* positional arguments accepted */
	bool hidden;       /* not listed by `atrest help` */
	bool own_config;   /* does not load the default config file */
};

/* Parses argv (argv[0] = program, argv[1] = command). Returns 0 to run,
 * 1 when help was printed, or a negative errno after printing a one-line
 * error on stderr. */
int cli_parse(int argc, char **argv, struct cli *ret);
/* As cli_parse, with the configuration file's text given instead of read
 * (text NULL: no file), as the daemon passes it to its evaluation jobs. */
struct cli_config_text {
	const char *text;
	size_t len;
	const char *name;
};
int cli_parse_with_config(int argc, char **argv, const struct cli_config_text *given,
			  struct cli *ret);
#define CLI_CONFIG_MAX_BYTES (1u << 20)
void cli_done(struct cli *c);
void cli_print_help(FILE *out, const struct command *cmd);

/* The subcommands (agent/cmd-*.c). */
int cmd_check(struct cli *c);
/* check --format npd (agent/cmd/npd.c): exit 0 OK, 1 NonOK, 2 Unknown. */
int cmd_check_npd(struct cli *c);
int cmd_daemon(struct cli *c);
int cmd_bench(struct cli *c);
int cmd_devices(struct cli *c);
int cmd_imds(struct cli *c);
int cmd_version(struct cli *c);
int cmd_help(struct cli *c);
int cmd_vmss_extension(struct cli *c);
/* Internal: one job of the daemon's evaluator (agent/daemon/job.h). */
int cmd_job(struct cli *c);
/* The command ATREST_EXEC_WRAPPER names, split (NULL: none). */
int cmd_daemon_exec_wrapper(char ***ret);
/* The daemon re-parses the command line on SIGHUP. */
void cmd_daemon_set_argv(int argc, char **argv);

extern const struct command commands[];
extern const size_t n_commands;

/* Opens the sysroot named on the command line (or the host). */
int cli_open_sysroot(const struct cli *c, struct sysroot **ret);

/* Exit code for a usage or runtime error (CONTRACT.md). */
#define EXIT_USAGE 3
