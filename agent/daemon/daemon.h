/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: evaluates every interval (jittered) in a worker thread,
 * publishes each report to the HTTP endpoint and the journal, runs the
 * benchmark on its own slow timer, and speaks sd_notify. */
#pragma once

#include "agent/evaluate.h"
#include "agent/daemon/http.h"

#define DAEMON_DEFAULT_BENCH_INTERVAL (6 * 3600.0)
#define DAEMON_BENCH_MAX_WALL 30.0          /* a run's wall time; evaluations wait for it */
#define DAEMON_BENCH_BUSY_RETRY (30 * 60.0) /* after a run a busy node cut short */

struct daemon_options {
	const struct config *conf; /* initial configuration; not owned */
	const struct sysroot *sr;
	const char *version; /* NULL: PACKAGE_VERSION */
	bool no_bench;
	double bench_interval;       /* seconds; 0 = DAEMON_DEFAULT_BENCH_INTERVAL */
	double interval;             /* seconds; 0 = conf->interval (tests use fractions) */
	unsigned connection_limit;   /* 0 = default (64) */
	unsigned connection_timeout; /* seconds; 0 = default (10) */
	const char *journal_socket;  /* NULL = JOURNAL_SOCKET */

	/* SIGHUP: a freshly loaded configuration (malloc'ed; the daemon releases
	 * it with config_done() and free()), or a negative errno and a one-line
	 * *ret_error, in which case the running configuration stays. */
	int (*reload)(void *userdata, struct config **ret, char **ret_error);
	/* Replaceable for tests; NULL means evaluate() and bench_run(). */
	int (*evaluate)(const struct gather_options *o, struct evaluation **ret);
	void (*bench)(const struct bench_options *o, struct bench_result *res);
	/* Called once every listener is bound (tests learn the ports here). */
	void (*listening)(void *userdata, const struct http_server *s);
	void *userdata;
};

/* Runs until SIGTERM or SIGINT (returns 0 within a second) or a startup
 * failure (negative errno, logged). Blocks SIGHUP, SIGTERM and SIGINT in
 * the calling thread; call it before starting other threads. */
int daemon_run(const struct daemon_options *o);

/* STATUS= text, e.g. "compliant, 9 checks, last evaluation 12 s ago". */
char *daemon_status_text(const struct report *r, double age_seconds);
/* interval scaled by a uniform factor in [0.9, 1.1); u in [0, 1). */
double daemon_jitter(double interval, double u);
