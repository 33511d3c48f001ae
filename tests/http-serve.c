/* SPDX-License-Identifier: Apache-2.0 */
/* Serves a hand-built report with the daemon's HTTP server, for the HTTP,
 * Prometheus, Chromium tests and the bench: prints one bound port per line,
 * then serves until SIGTERM/SIGINT.
 *   http-serve [--listen ADDR]... [--limit N] [--timeout S] [--threads N]
 *              [--variant N] [--stale] [--empty] */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <time.h>

#include "agent/daemon/http.h"
#include "lib/log.h"
#include "tests/daemon-fixture.h"

struct args {
	char **listen;
	unsigned limit, timeout, threads;
	int variant;
	bool stale, empty;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "limit", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "variant", required_argument, NULL, 'v' },
		{ "stale", no_argument, NULL, 's' },
		{ "empty", no_argument, NULL, 'e' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 'l':
			strv_extend(&a->listen, optarg);
			break;
		case 'n':
			a->limit = atoi(optarg);
			break;
		case 't':
			a->timeout = atoi(optarg);
			break;
		case 'T':
			a->threads = atoi(optarg);
			break;
		case 'v':
			a->variant = atoi(optarg);
			break;
		case 's':
			a->stale = true;
			break;
		case 'e':
			a->empty = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!a->listen)
		strv_extend(&a->listen, "127.0.0.1:0");
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {};
	struct http_server *s = NULL;
	struct http_snapshot *snap = NULL;
	struct evaluation *ev = NULL;
	struct prom_self self = { .evaluations_total = 1, .start_time_seconds = (double)time(NULL) };
	_cleanup_free_ char *err = NULL;
	sigset_t mask;
	int r, sig;

	if (getenv("ATREST_DEBUG"))
		log_set_max_level(LOG_LEVEL_DEBUG);
	if (parse_args(argc, argv, &a) < 0)
		return 2;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	struct http_options o = { .listen = a.listen,
				  .connection_limit = a.limit,
				  .connection_timeout = a.timeout,
				  .threads = a.threads,
				  .health_max_age = 2 };
	r = http_server_start(&o, &s, &err);
	if (r < 0) {
		fprintf(stderr, "http-serve: %s\n", err);
		strv_free(a.listen);
		return 1;
	}
	if (!a.empty) {
		ev = fixture_evaluation(a.variant);
		if (!ev || http_snapshot_new(&ev->report, FIXTURE_VERSION, &snap) < 0)
			return 1;
		http_server_publish(s, snap);
	}
	http_server_set_self(s, &self);
	http_server_tick(s);
	for (size_t i = 0; i < http_server_n_sockets(s); i++)
		printf("%u\n", http_server_port(s, i));
	fflush(stdout);

	for (;;) {
		struct timespec one = { 1, 0 };

		sig = sigtimedwait(&mask, NULL, &one);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (!a.stale)
			http_server_tick(s);
	}
	http_server_free(s);
	fixture_evaluation_free(ev);
	strv_free(a.listen);
	return 0;
}
