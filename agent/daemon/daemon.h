/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: the evaluator (the program atrest-evaluator) evaluates
 * every interval (jittered) in a job process, publishes each report to the
 * server (atrest-server) and the journal, runs the benchmark on its own
 * slow timer, and speaks sd_notify. */
#pragma once

#include "agent/conf.h"
#include "agent/daemon/job.h"
#include "agent/daemon/server.h"

#define DAEMON_DEFAULT_BENCH_INTERVAL (6 * 3600.0)
#define DAEMON_BENCH_MAX_WALL 30.0          /* a run's wall time; evaluations wait for it */
#define DAEMON_BENCH_BUSY_RETRY (30 * 60.0) /* after a run a busy node cut short */

enum daemon_role {
	DAEMON_ROLE_BOTH = 0, /* the evaluator, which forks the server */
	DAEMON_ROLE_EVALUATOR,
	DAEMON_ROLE_SERVER,
};

int daemon_role_from_string(const char *s, enum daemon_role *ret);

struct daemon_options {
	enum daemon_role role;
	const struct config *conf; /* initial configuration; not owned */
	/* The daemon's command line, which each job parses again over the
	 * configuration text conf carries; NULL: "atrest daemon". */
	char *const *argv;
	/* What runs a job (atrest job) and, in role both, the server
	 * (atrest-server); exec_wrapper, when set, goes before either (an
	 * emulator, in a cross build's tests). */
	char *const *job_command;
	char *const *server_command;
	char *const *exec_wrapper;
	const char *version; /* NULL: PACKAGE_VERSION */
	bool no_bench;
	double bench_interval;       /* seconds; 0 = DAEMON_DEFAULT_BENCH_INTERVAL */
	double interval;             /* seconds; 0 = conf->interval (tests use fractions) */
	unsigned connection_limit;   /* 0 = conf, else HTTP_DEFAULT_CONNECTION_LIMIT */
	unsigned connection_timeout; /* seconds; 0 = conf, else HTTP_DEFAULT_CONNECTION_TIMEOUT */
	const char *journal_socket;  /* NULL = JOURNAL_SOCKET */
	double deadline;             /* seconds; 0 = conf, else 120 (tests use fractions) */
	double max_age;              /* seconds; 0 = conf, else 3 intervals + the deadline */
	const char *runtime_dir;     /* NULL = conf, $RUNTIME_DIRECTORY, /run/atrest */
	const char *server_user;     /* NULL = conf, else "nobody" */
	double server_poll;          /* seconds; 0 = 1 (the server's fallback file check) */

	/* SIGHUP: a freshly loaded configuration (malloc'ed; the daemon releases
	 * it with config_done() and free()), or a negative errno and a one-line
	 * *ret_error, in which case the running configuration stays. */
	int (*reload)(void *userdata, struct config **ret, char **ret_error);
	/* Called once the server bound every listener (tests learn the ports
	 * here); also the server's pid. */
	void (*listening)(void *userdata, const uint16_t *ports, size_t n, pid_t server);
	void *userdata;
};

/* Runs roles both and evaluator until SIGTERM or SIGINT (returns 0 within
 * a second) or a startup failure (negative errno, logged). Blocks SIGHUP,
 * SIGTERM, SIGINT and SIGCHLD; call it before starting any thread (it
 * forks). Each job runs in a child process killed at its deadline; in role
 * both the server runs in a child that drops every privilege. */
int daemon_run(const struct daemon_options *o);

/* The runtime directory for o (options, configuration, systemd's
 * $RUNTIME_DIRECTORY, else the default), malloc'ed. */
char *daemon_runtime_dir(const struct daemon_options *o);
/* The server's options for o, serving dir; ports_fd as server_options. */
struct server_options daemon_server_options(const struct daemon_options *o, const char *dir,
					    int ports_fd);

/* STATUS= text, e.g. "compliant, 9 checks, last evaluation 12 s ago". */
char *daemon_status_text(const struct report *r, double age_seconds);
/* interval scaled by a uniform factor in [0.9, 1.1); u in [0, 1). */
double daemon_jitter(double interval, double u);
