/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's HTTP endpoint (libmicrohttpd, internal threads): /metrics,
 * /report, /healthz and a landing page, all served from the last published
 * snapshot. A request never triggers probing. */
#pragma once

#include <stdint.h>

#include "agent/report/prom.h"
#include "agent/report/report.h"

/* Everything a request may return, rendered once per evaluation; shared
 * read-only by the HTTP threads and freed with its last reference. */
struct http_snapshot;

/* Renders both exposition formats (open: the self metrics are appended per
 * scrape), their gzip prefixes, the JSON report and the landing page. */
int http_snapshot_new(const struct report *r, const char *version, struct http_snapshot **ret);
/* From bodies rendered elsewhere (the bodies are taken; b is left empty)
 * and the snapshot file's times (m may be NULL). */
struct snapshot_bodies;
struct snapshot_meta;
int http_snapshot_from_bodies(struct snapshot_bodies *b, const struct snapshot_meta *m,
			      struct http_snapshot **ret);
struct http_snapshot *http_snapshot_ref(struct http_snapshot *s);
void http_snapshot_unref(struct http_snapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct http_snapshot *, http_snapshot_unref)

/* The landing page: version, verdict, the table of checks; plain HTML. */
char *http_render_landing(const struct report *r, const char *version);
/* Appends s with & < > " ' escaped. */
void html_escape(struct strbuf *sb, const char *s);

/* Splits "HOST:PORT" or "[V6]:PORT" (port 0..65535, host non-empty). */
int http_parse_listen(const char *addr, char **ret_host, char **ret_port);

/* The connection budget: epoll, many connections, a small memory pool
 * each (bounded: limit x (pool + MHD's own ~1 KiB)), few per address, and
 * idle connections closed soon. */
#define HTTP_DEFAULT_CONNECTION_LIMIT 1024
#define HTTP_DEFAULT_PER_IP_LIMIT 16
#define HTTP_DEFAULT_CONNECTION_TIMEOUT 5
#define HTTP_CONNECTION_MEMORY 8192
/* Evidence past its maximum age by this much that the evaluator did not
 * re-render as unknown is not served at all (503). */
#define HTTP_STALE_GRACE 30.0

struct http_options {
	char *const *listen;         /* addresses; each may resolve to several */
	unsigned connection_limit;   /* per listener; 0 = HTTP_DEFAULT_CONNECTION_LIMIT */
	unsigned per_ip_limit;       /* per listener and address; 0 = HTTP_DEFAULT_PER_IP_LIMIT */
	unsigned connection_timeout; /* seconds idle before a connection is closed; 0 = 5 */
	unsigned threads;            /* per listener; 0 = 2 */
	double health_max_age; /* /healthz is 503 when the loop has not ticked for this long; 0 = 5 */
};

struct http_server;

/* Binds every address before returning; on failure *ret_error names it. */
int http_server_start(const struct http_options *o, struct http_server **ret, char **ret_error);
void http_server_free(struct http_server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct http_server *, http_server_free)

/* Number of bound sockets and the port of each (for ":0" listeners). */
size_t http_server_n_sockets(const struct http_server *s);
uint16_t http_server_port(const struct http_server *s, size_t i);

/* Swaps in a new snapshot (takes the reference); requests in flight keep
 * the old one until they finish. */
void http_server_publish(struct http_server *s, struct http_snapshot *snap);
/* Why the last snapshot file was refused or cannot be read (said on
 * /healthz; a refused file is counted), or NULL once a good one was read. */
void http_server_set_refusal(struct http_server *s, const char *why, bool count);
/* The main loop is alive (feeds /healthz). */
void http_server_tick(struct http_server *s);
/* Daemon counters rendered into every scrape; scrapes_total is the
 * server's own and ignored here. */
void http_server_set_self(struct http_server *s, const struct prom_self *self);
uint64_t http_server_scrapes(const struct http_server *s);
