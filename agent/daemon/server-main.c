/* SPDX-License-Identifier: Apache-2.0 */
/* atrest-server: the daemon's HTTP server (server.h), exec'd by the
 * evaluator (role both) or by `atrest daemon --role server` with the
 * options of server-args.c. It links libc, json-c, zlib and libmicrohttpd
 * only, drops every privilege before it opens a socket, and serves the
 * snapshot files the evaluator publishes. */
#include "config.h"

#include <locale.h>
#include <signal.h>

#include "agent/daemon/server.h"
#include "lib/log.h"

int main(int argc, char **argv)
{
	struct server_options o;
	char **listen = NULL;
	int r;

	setlocale(LC_ALL, "C");
	signal(SIGPIPE, SIG_IGN);
	if (server_options_parse(argc, argv, &o, &listen) < 0)
		return 3;
	r = server_run(&o);
	strv_free(listen);
	return r < 0 ? 1 : 0;
}
