/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: the long-running agent (agent/daemon/loop.c). On SIGHUP the
 * configuration is read again with the same command line on top. */
#include "config.h"

#include "agent/cmd/cli.h"
#include "agent/daemon/daemon.h"
#include "lib/log.h"

struct reload_ctx {
	int argc;
	char **argv;
};

static int reload_config(void *userdata, struct config **ret, char **ret_error)
{
	const struct reload_ctx *ctx = userdata;
	struct config *conf;
	struct cli c;
	int r;

	/* Re-parse everything, so command-line options keep winning. Errors
	 * are printed by the parser as one line on stderr. */
	r = cli_parse(ctx->argc, ctx->argv, &c);
	if (r != 0) {
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

static struct reload_ctx reload_args;

void cmd_daemon_set_argv(int argc, char **argv)
{
	reload_args = (struct reload_ctx){ argc, argv };
}

int cmd_daemon(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct daemon_options o = {
		.conf = &c->conf,
		.version = PACKAGE_VERSION,
		.no_bench = c->no_bench,
		.reload = reload_config,
		.userdata = &reload_args,
	};
	int r;

	if (daemon_role_from_string(c->role, &o.role) < 0)
		return EXIT_USAGE;
	if (cli_open_sysroot(c, &sr) < 0)
		return EXIT_USAGE;
	o.sr = sr;
	r = daemon_run(&o);
	return r < 0 ? EXIT_USAGE : 0;
}
