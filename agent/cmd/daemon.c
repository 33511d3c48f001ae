/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: checks the command line and the configuration, then
 * becomes one of the daemon's small programs: atrest-evaluator (roles both
 * and evaluator), which runs this program again for each job (`atrest
 * job`), or atrest-server (role server). The long-lived processes so map
 * none of the libraries an evaluation needs. Each program is looked for
 * next to this one (the build tree, the portable bundle), then in
 * ../libexec/atrest/ (installed), named after this program: atrest-portable
 * runs atrest-evaluator-portable. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <libgen.h>

#include "agent/cmd/cli.h"
#include "agent/daemon/daemon.h"
#include "lib/log.h"
#include "lib/strutil.h"

static int daemon_argc;
static char **daemon_argv;

void cmd_daemon_set_argv(int argc, char **argv)
{
	daemon_argc = argc;
	daemon_argv = argv;
}

/* This program's path, as exec() needs it. */
static int self_path(char **ret)
{
	char buf[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (k <= 0)
		return -errno;
	buf[k] = 0;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static int find_program(const char *self, const char *role, char **ret)
{
	_cleanup_free_ char *a = strdup(self), *b = strdup(self);
	const char *dir, *base, *suffix;
	char *p;

	if (!a || !b)
		return -ENOMEM;
	dir = dirname(a);
	base = basename(b);
	suffix = startswith(base, "atrest") ? base + strlen("atrest") : "";
	p = strprintf("%s/atrest-%s%s", dir, role, suffix);
	if (p && access(p, X_OK) == 0) {
		*ret = p;
		return 0;
	}
	free(p);
	p = strprintf("%s/../libexec/atrest/atrest-%s%s", dir, role, suffix);
	if (p && access(p, X_OK) == 0) {
		*ret = p;
		return 0;
	}
	free(p);
	log_error("atrest daemon: cannot find atrest-%s%s next to %s or in %s/../libexec/atrest",
		  role, suffix, self, dir);
	return -ENOENT;
}

/* ATREST_EXEC_WRAPPER: a command every program of the daemon runs under
 * (an emulator: a cross build's tests set it). */
int cmd_daemon_exec_wrapper(char ***ret)
{
	const char *w = getenv("ATREST_EXEC_WRAPPER");

	*ret = NULL;
	return w && *w ? strv_split_ws(w, ret) : 0;
}

static int exec_argv(char **wrapper, char **argv)
{
	char **v = NULL;
	int r;

	for (char **p = wrapper; p && *p; p++)
		if (strv_extend(&v, *p) < 0)
			return -ENOMEM;
	for (char **p = argv; p && *p; p++)
		if (strv_extend(&v, *p) < 0)
			return -ENOMEM;
	fflush(NULL);
	execv(v[0], v);
	r = -errno;
	log_error("atrest daemon: cannot run %s: %s", v[0], strerror(-r));
	strv_free(v);
	return r;
}

int cmd_daemon(struct cli *c)
{
	_cleanup_free_ char *self = NULL, *evaluator = NULL, *server = NULL, *dir = NULL;
	_cleanup_strv_free_ char **wrapper = NULL, **argv = NULL;
	struct daemon_options o = { .conf = &c->conf };
	int r;

	if (daemon_role_from_string(c->role, &o.role) < 0)
		return EXIT_USAGE;
	r = self_path(&self);
	if (r < 0) {
		log_error("atrest daemon: cannot find this program: %s", strerror(-r));
		return EXIT_USAGE;
	}
	if (find_program(self, "server", &server) < 0 ||
	    (o.role != DAEMON_ROLE_SERVER && find_program(self, "evaluator", &evaluator) < 0))
		return EXIT_USAGE;
	if (cmd_daemon_exec_wrapper(&wrapper) < 0)
		return EXIT_USAGE;
	if (o.role == DAEMON_ROLE_SERVER) {
		char *prog[] = { server, NULL };
		struct server_options so;

		dir = daemon_runtime_dir(&o);
		if (!dir)
			return EXIT_USAGE;
		so = daemon_server_options(&o, dir, -1);
		argv = server_command_line(prog, &so);
	} else {
		/* atrest-evaluator ATREST SERVER atrest daemon [OPTION...] */
		if (strv_extend(&argv, evaluator) < 0 || strv_extend(&argv, self) < 0 ||
		    strv_extend(&argv, server) < 0)
			return EXIT_USAGE;
		for (int i = 0; i < daemon_argc; i++)
			if (strv_extend(&argv, daemon_argv[i]) < 0)
				return EXIT_USAGE;
	}
	if (!argv)
		return EXIT_USAGE;
	exec_argv(wrapper, argv);
	return EXIT_USAGE;
}

int cmd_job(struct cli *c)
{
	/* The reply goes out on a descriptor of its own; standard output
	 * becomes standard error, so that nothing a library prints can
	 * corrupt it. */
	int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

	if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		log_error("atrest job: %s", strerror(errno));
		return 1;
	}
	return daemon_job_main(STDIN_FILENO, out, NULL) == 0 ? 0 : 1;
}
