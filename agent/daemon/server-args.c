/* SPDX-License-Identifier: Apache-2.0 */
/* The server program's command line (server.h): what the evaluator (role
 * both) and `atrest daemon --role server` exec it with, and its parser.
 * Internal: only atrest's own programs write it. */
#include "config.h"

#include <getopt.h>

#include "agent/daemon/server.h"
#include "lib/log.h"
#include "lib/strutil.h"

enum {
	OPT_LISTEN = 0x100,
	OPT_CONNECTION_LIMIT,
	OPT_PER_IP_LIMIT,
	OPT_CONNECTION_TIMEOUT,
	OPT_RUNTIME_DIR,
	OPT_SNAPSHOT_MAX_BYTES,
	OPT_USER,
	OPT_PORTS_FD,
	OPT_POLL_INTERVAL,
	OPT_LOG_LEVEL,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "connection-limit", required_argument, NULL, OPT_CONNECTION_LIMIT },
	{ "per-ip-limit", required_argument, NULL, OPT_PER_IP_LIMIT },
	{ "connection-timeout", required_argument, NULL, OPT_CONNECTION_TIMEOUT },
	{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
	{ "snapshot-max-bytes", required_argument, NULL, OPT_SNAPSHOT_MAX_BYTES },
	{ "user", required_argument, NULL, OPT_USER },
	{ "ports-fd", required_argument, NULL, OPT_PORTS_FD },
	{ "poll-interval", required_argument, NULL, OPT_POLL_INTERVAL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{},
};

static void add(char ***v, const char *opt, const char *val)
{
	strv_extend(v, opt);
	strv_extend(v, val);
}

static void add_uint(char ***v, const char *opt, unsigned long long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", n);
	add(v, opt, buf);
}

char **server_command_line(char *const *program, const struct server_options *o)
{
	char **v = strv_copy_or_null(program);
	char buf[64];

	if (!v)
		return NULL;
	for (char *const *l = o->listen; l && *l; l++)
		add(&v, "--listen", *l);
	add_uint(&v, "--connection-limit", o->connection_limit);
	add_uint(&v, "--per-ip-limit", o->per_ip_limit);
	add_uint(&v, "--connection-timeout", o->connection_timeout);
	add(&v, "--runtime-dir", o->runtime_dir);
	add_uint(&v, "--snapshot-max-bytes", o->snapshot_max_bytes);
	if (o->user)
		add(&v, "--user", o->user);
	if (o->ports_fd >= 0)
		add_uint(&v, "--ports-fd", (unsigned)o->ports_fd);
	snprintf(buf, sizeof(buf), "%.17g", o->poll_interval);
	add(&v, "--poll-interval", buf);
	add_uint(&v, "--log-level", (unsigned)log_get_max_level());
	/* strv_extend leaves the vector as it was when it runs out of memory:
	 * count what must be there. */
	if (strv_length(v) < strv_length(program) + 2 * (strv_length(o->listen) + 7)) {
		strv_free(v);
		return NULL;
	}
	return v;
}

static int bad(const char *opt, const char *val)
{
	log_error("atrest-server: --%s: bad value '%s'", opt, val);
	return -EINVAL;
}

int server_options_parse(int argc, char **argv, struct server_options *o, char ***ret_listen)
{
	char **listen = NULL;
	unsigned u;
	double d;
	int opt, idx;

	*o = (struct server_options){ .ports_fd = -1 };
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, &idx)) != -1) {
		const char *name = opt >= OPT_LISTEN ? options[opt - OPT_LISTEN].name : "?";

		switch (opt) {
		case OPT_LISTEN:
			if (strv_extend(&listen, optarg) < 0)
				goto nomem;
			break;
		case OPT_CONNECTION_LIMIT:
		case OPT_PER_IP_LIMIT:
		case OPT_CONNECTION_TIMEOUT:
		case OPT_SNAPSHOT_MAX_BYTES:
		case OPT_PORTS_FD:
		case OPT_LOG_LEVEL:
			if (safe_atou(optarg, &u) < 0 || (opt == OPT_LOG_LEVEL && u > LOG_LEVEL_DEBUG) ||
			    (opt == OPT_PORTS_FD && u > 1024)) {
				strv_free(listen);
				return bad(name, optarg);
			}
			if (opt == OPT_CONNECTION_LIMIT)
				o->connection_limit = u;
			else if (opt == OPT_PER_IP_LIMIT)
				o->per_ip_limit = u;
			else if (opt == OPT_CONNECTION_TIMEOUT)
				o->connection_timeout = u;
			else if (opt == OPT_SNAPSHOT_MAX_BYTES)
				o->snapshot_max_bytes = u;
			else if (opt == OPT_PORTS_FD)
				o->ports_fd = (int)u;
			else
				log_set_max_level((enum log_level)u);
			break;
		case OPT_RUNTIME_DIR:
			o->runtime_dir = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_POLL_INTERVAL:
			if (safe_atod_seconds(optarg, &d) < 0 || d > 3600) {
				strv_free(listen);
				return bad(name, optarg);
			}
			o->poll_interval = d;
			break;
		default:
			strv_free(listen);
			log_error("atrest-server: unknown option '%s' (this program is started by "
				  "'atrest daemon')",
				  argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc || !listen || !o->runtime_dir) {
		strv_free(listen);
		log_error("atrest-server: needs --listen and --runtime-dir (this program is "
			  "started by 'atrest daemon')");
		return -EINVAL;
	}
	o->listen = listen;
	*ret_listen = listen;
	return 0;
nomem:
	strv_free(listen);
	return log_error_errno(ENOMEM, "atrest-server: out of memory");
}
