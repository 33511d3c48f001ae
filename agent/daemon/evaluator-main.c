/* SPDX-License-Identifier: Apache-2.0 */
/* atrest-evaluator: the daemon's long-lived evaluator (roles both and
 * evaluator), exec'd by `atrest daemon` as
 *   atrest-evaluator ATREST SERVER atrest daemon [OPTION...]
 * It parses the same command line and configuration as atrest did, and
 * again on SIGHUP; it runs ATREST for each job and, in role both, SERVER.
 * It links libc, json-c, inih and libsystemd only. */
#include "config.h"

#include <locale.h>
#include <signal.h>

#include "agent/cmd/cli.h"
#include "agent/daemon/daemon.h"
#include "lib/log.h"

struct evaluator {
	int argc;
	char **argv; /* atrest daemon [OPTION...] */
	char *job_command[3];
	char *server_command[2];
};

static struct evaluator ev;

static int reload_config(void *userdata, struct config **ret, char **ret_error)
{
	struct config *conf;
	struct cli c;

	/* Re-parse everything, so command-line options keep winning. Errors
	 * are printed by the parser as one line on stderr. */
	if (cli_parse(ev.argc, ev.argv, &c) != 0) {
		cli_done(&c);
		*ret_error = strdup("the configuration could not be loaded (see the previous message)");
		return -EINVAL;
	}
	conf = malloc(sizeof(*conf));
	if (!conf) {
		cli_done(&c);
		return -ENOMEM;
	}
	*conf = c.conf;
	c.conf = (struct config){ 0 };
	cli_done(&c);
	*ret = conf;
	return 0;
}

static int run(struct cli *c)
{
	_cleanup_strv_free_ char **wrapper = NULL;
	const char *w = getenv("ATREST_EXEC_WRAPPER");
	struct daemon_options o = {
		.conf = &c->conf,
		.argv = ev.argv,
		.job_command = ev.job_command,
		.server_command = ev.server_command,
		.version = PACKAGE_VERSION,
		.no_bench = c->no_bench,
		.reload = reload_config,
	};

	if (daemon_role_from_string(c->role, &o.role) < 0 || o.role == DAEMON_ROLE_SERVER)
		return EXIT_USAGE;
	if (w && *w && strv_split_ws(w, &wrapper) < 0)
		return EXIT_USAGE;
	o.exec_wrapper = wrapper;
	return daemon_run(&o) < 0 ? EXIT_USAGE : 0;
}

/* This program's commands: the daemon's only. */
const struct command commands[] = {
	{ "daemon", "the daemon's evaluator", "", 1u << FORMAT_TEXT, run },
};
const size_t n_commands = ARRAY_SIZE(commands);

int main(int argc, char **argv)
{
	struct cli c;
	int r;

	setlocale(LC_ALL, "C");
	signal(SIGPIPE, SIG_IGN);
	if (argc < 5 || !streq(argv[4], "daemon")) {
		fprintf(stderr, "atrest-evaluator: this program is started by 'atrest daemon'\n");
		return EXIT_USAGE;
	}
	ev = (struct evaluator){
		.argc = argc - 3,
		.argv = argv + 3,
		.job_command = { argv[1], (char *)"job", NULL },
		.server_command = { argv[2], NULL },
	};
	r = cli_parse(ev.argc, ev.argv, &c);
	if (r != 0) {
		cli_done(&c);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	r = c.cmd->run(&c);
	cli_done(&c);
	return r;
}
