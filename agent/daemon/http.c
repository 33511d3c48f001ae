/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's HTTP endpoint: a thin libmicrohttpd shell around snapshots
 * rendered after each evaluation. Each listener runs its own MHD internal
 * epoll thread pool; requests only read the current snapshot. */
#include "config.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>

#include "agent/daemon/accept.h"
#include "agent/daemon/http.h"
#include "agent/daemon/snapshot.h"
#include "lib/log.h"

/* The body of one /metrics format: the report part, and the same part
 * deflated as the start of a gzip member (byte-aligned by a sync flush, so
 * the per-scrape tail can follow as a final stored block). */
struct prom_body {
	char *text;
	size_t len;
	unsigned char *gz;
	size_t gz_len;
	uint32_t crc;
};

struct http_snapshot {
	unsigned refs;
	double published_at; /* Unix times from the snapshot file; 0 = unknown */
	double evaluated_at;
	double max_age;
	bool stale; /* the bodies are the fail-closed "unknown" rendering */
	struct prom_body prom[_PROM_FORMAT_MAX];
	char *json;
	char *html;
};

struct http_server {
	struct MHD_Daemon **daemons;
	uint16_t *ports;
	size_t n;
	pthread_mutex_t lock; /* guards snap */
	struct http_snapshot *snap;
	struct prom_self self;   /* fields read and written atomically */
	uint64_t last_tick_usec; /* CLOCK_MONOTONIC, atomic */
	char *refusal;           /* why the last snapshot file was refused; guarded by lock */
	double health_max_age;
};

#define GZIP_HEADER_LEN 10
#define TAIL_MAX 4096

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000;
}

/* gzip header (RFC 1952, no name, mtime 0, Unix) + raw deflate, sync flushed. */
static int gzip_prefix(const char *text, size_t len, struct prom_body *b)
{
	z_stream z = {};
	size_t cap;
	static const unsigned char header[GZIP_HEADER_LEN] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	int r;

	if (deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = GZIP_HEADER_LEN + deflateBound(&z, len) + 64;
	b->gz = malloc(cap);
	if (!b->gz) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	memcpy(b->gz, header, GZIP_HEADER_LEN);
	z.next_in = (unsigned char *)text;
	z.avail_in = len;
	z.next_out = b->gz + GZIP_HEADER_LEN;
	z.avail_out = cap - GZIP_HEADER_LEN;
	r = deflate(&z, Z_SYNC_FLUSH);
	b->gz_len = cap - z.avail_out;
	deflateEnd(&z);
	if (r != Z_OK || z.avail_in != 0 || z.avail_out == 0)
		return -ENOBUFS;
	b->crc = crc32(crc32(0, NULL, 0), (const unsigned char *)text, len);
	return 0;
}

static void prom_body_done(struct prom_body *b)
{
	free(b->text);
	free(b->gz);
}

void http_snapshot_unref(struct http_snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < _PROM_FORMAT_MAX; i++)
		prom_body_done(&s->prom[i]);
	free(s->json);
	free(s->html);
	free(s);
}

struct http_snapshot *http_snapshot_ref(struct http_snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

int http_snapshot_from_bodies(struct snapshot_bodies *b, const struct snapshot_meta *m,
			      struct http_snapshot **ret)
{
	_cleanup_(http_snapshot_unrefp) struct http_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->refs = 1;
	if (m) {
		s->published_at = m->published_at;
		s->evaluated_at = m->evaluated_at;
		s->max_age = m->max_age;
		s->stale = m->stale;
	}
	for (enum prom_format f = 0; f < _PROM_FORMAT_MAX; f++) {
		int k;

		s->prom[f].text = TAKE_PTR(b->prom[f]);
		s->prom[f].len = strlen(s->prom[f].text);
		k = gzip_prefix(s->prom[f].text, s->prom[f].len, &s->prom[f]);
		if (k < 0)
			return k;
	}
	s->json = TAKE_PTR(b->report);
	s->html = TAKE_PTR(b->html);
	*ret = TAKE_PTR(s);
	return 0;
}

int http_parse_listen(const char *addr, char **ret_host, char **ret_port)
{
	const char *colon, *host = addr;
	size_t host_len;
	unsigned port;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':' || end == addr + 1)
			return -EINVAL;
		host = addr + 1;
		host_len = end - host;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || colon == addr || memchr(addr, ':', colon - addr))
			return -EINVAL;
		host_len = colon - addr;
	}
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    safe_atou(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;

	char *h = strndup(host, host_len), *p = strdup(colon + 1);
	if (!h || !p) {
		free(h);
		free(p);
		return -ENOMEM;
	}
	*ret_host = h;
	*ret_port = p;
	return 0;
}

/* Per response: the snapshot it reads and the bytes built for it. */
struct reply {
	struct http_snapshot *snap;
	unsigned char gz_block[5];
	unsigned char gz_trailer[8];
	char tail[TAIL_MAX];
};

static void reply_free(void *cls)
{
	struct reply *r = cls;

	http_snapshot_unref(r->snap);
	free(r);
}

static struct http_snapshot *current_snapshot(struct http_server *s)
{
	struct http_snapshot *snap = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->snap)
		snap = http_snapshot_ref(s->snap);
	pthread_mutex_unlock(&s->lock);
	return snap;
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void self_load(struct http_server *s, struct prom_self *out)
{
	out->scrapes_total = __atomic_add_fetch(&s->self.scrapes_total, 1, __ATOMIC_RELAXED);
	out->evaluations_total = __atomic_load_n(&s->self.evaluations_total, __ATOMIC_RELAXED);
	out->evaluation_errors_total = __atomic_load_n(&s->self.evaluation_errors_total,
						       __ATOMIC_RELAXED);
	out->config_reloads_total = __atomic_load_n(&s->self.config_reloads_total, __ATOMIC_RELAXED);
	out->config_reload_errors_total = __atomic_load_n(&s->self.config_reload_errors_total,
							  __ATOMIC_RELAXED);
	__atomic_load(&s->self.start_time_seconds, &out->start_time_seconds, __ATOMIC_RELAXED);
	out->evaluation_timeouts_total = __atomic_load_n(&s->self.evaluation_timeouts_total,
							 __ATOMIC_RELAXED);
	out->snapshot_rejections_total = __atomic_load_n(&s->self.snapshot_rejections_total,
							 __ATOMIC_RELAXED);
	out->evaluation_max_rss_bytes = __atomic_load_n(&s->self.evaluation_max_rss_bytes,
							__ATOMIC_RELAXED);
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The snapshot's body plus this scrape's tail; with gzip the tail is a
 * final stored block and the member trailer covers body and tail. */
static struct MHD_Response *metrics_response(struct http_server *s, struct reply *rp,
					     enum prom_format f, bool gzip)
{
	const struct prom_body *b = &rp->snap->prom[f];
	struct prom_self self;
	size_t n;

	self_load(s, &self);
	self.evidence_age_seconds = rp->snap->evaluated_at > 0 ?
					    MAX(0.0, now_real() - rp->snap->evaluated_at) :
					    -1;
	n = prom_render_self(&self, f, rp->tail, sizeof(rp->tail));
	if (n >= sizeof(rp->tail))
		return NULL;
	if (!gzip) {
		struct MHD_IoVec iov[] = { { b->text, b->len }, { rp->tail, n } };

		return MHD_create_response_from_iovec(iov, 2, reply_free, rp);
	}
	rp->gz_block[0] = 1; /* BFINAL, stored */
	rp->gz_block[1] = n & 0xff;
	rp->gz_block[2] = n >> 8;
	rp->gz_block[3] = ~n & 0xff;
	rp->gz_block[4] = (~n >> 8) & 0xff;
	le32(rp->gz_trailer, crc32(b->crc, (const unsigned char *)rp->tail, n));
	le32(rp->gz_trailer + 4, (uint32_t)(b->len + n));

	struct MHD_IoVec iov[] = {
		{ b->gz, b->gz_len },
		{ rp->gz_block, 5 },
		{ rp->tail, n },
		{ rp->gz_trailer, 8 },
	};
	return MHD_create_response_from_iovec(iov, 4, reply_free, rp);
}

static enum MHD_Result queue_static(struct MHD_Connection *c, unsigned status, const char *type,
				    const char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
								    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result queue_copy(struct MHD_Connection *c, unsigned status, const char *type,
				  const char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
								    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result queue_reply(struct MHD_Connection *c, struct MHD_Response *resp, const char *type)
{
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c, struct reply *rp)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum prom_format f = accept_openmetrics(accept) ? PROM_FORMAT_OPENMETRICS : PROM_FORMAT_TEXT;
	bool gzip = accept_gzip(enc);
	struct MHD_Response *resp = metrics_response(s, rp, f, gzip);
	enum MHD_Result r;

	if (!resp) {
		reply_free(rp);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, prom_content_type(f));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	r = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

/* Fail closed at this end too: an evaluator that stopped publishing must
 * not leave an old answer served for ever, nor evidence that outlived its
 * maximum age without the evaluator rendering it as unknown (its job for
 * that keeps failing). Says why in msg. */
static bool too_old(const struct http_snapshot *snap, char *msg, size_t n)
{
	double now = now_real();

	if (snap->max_age <= 0)
		return false;
	if (snap->published_at > 0 && now - snap->published_at > snap->max_age) {
		snprintf(msg, n, "the evaluator has published nothing for %.0f s (more than %.0f s)\n",
			 now - snap->published_at, snap->max_age);
		return true;
	}
	if (!snap->stale && snap->evaluated_at > 0 &&
	    now - snap->evaluated_at > snap->max_age + HTTP_STALE_GRACE) {
		snprintf(msg, n,
			 "the evidence is %.0f s old (more than %.0f s) and was not marked stale\n",
			 now - snap->evaluated_at, snap->max_age);
		return true;
	}
	return false;
}

static enum MHD_Result serve_snapshot(struct http_server *s, struct MHD_Connection *c, const char *url)
{
	struct reply *rp;
	const char *type;
	char *body;
	char msg[160];

	rp = malloc(sizeof(*rp));
	if (!rp)
		return MHD_NO;
	rp->snap = current_snapshot(s);
	if (!rp->snap) {
		free(rp);
		return queue_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
				    "no evaluation has finished yet\n");
	}
	if (too_old(rp->snap, msg, sizeof(msg))) {
		reply_free(rp);
		return queue_copy(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", msg);
	}
	if (streq(url, "/metrics"))
		return serve_metrics(s, c, rp);
	if (streq(url, "/report")) {
		body = rp->snap->json;
		type = "application/json";
	} else {
		body = rp->snap->html;
		type = "text/html; charset=utf-8";
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer_with_free_callback_cls(strlen(body), body,
								       reply_free, rp);
	if (!resp)
		reply_free(rp);
	return queue_reply(c, resp, type);
}

static enum MHD_Result serve_health(struct http_server *s, struct MHD_Connection *c)
{
	uint64_t last = __atomic_load_n(&s->last_tick_usec, __ATOMIC_RELAXED);
	double age = (now_usec() - last) / 1e6;

	char msg[512] = "";

	pthread_mutex_lock(&s->lock);
	if (s->refusal)
		snprintf(msg, sizeof(msg),
			 "ok\nthe last snapshot was refused: %s; serving the previous one\n",
			 s->refusal);
	pthread_mutex_unlock(&s->lock);
	if (last != 0 && age <= s->health_max_age)
		return msg[0] ? queue_copy(c, MHD_HTTP_OK, "text/plain; charset=utf-8", msg) :
				queue_static(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
	return queue_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
			    "the main loop has stalled\n");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int seen;
	struct http_server *s = cls;

	/* A body-carrying method is refused at once (the connection closes). */
	if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
		return queue_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				    "method not allowed\n");
	/* Answering on the first call (headers only) would make MHD close the
	 * connection; answer on the second, once the request is complete. */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (streq(url, "/healthz"))
		return serve_health(s, c);
	if (streq(url, "/metrics") || streq(url, "/report") || streq(url, "/"))
		return serve_snapshot(s, c, url);
	return queue_static(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	if (log_get_max_level() < LOG_LEVEL_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_debug("http: %s", strstrip(buf));
}

static int listen_socket(const struct addrinfo *ai, int *ret_fd)
{
	_cleanup_close_ int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
					ai->ai_protocol);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	/* "[::]:P" and "0.0.0.0:P" are separate listeners, as written. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 256) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static uint16_t socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int add_listener(struct http_server *s, const struct http_options *o, int fd)
{
	struct MHD_Daemon **d = reallocarray(s->daemons, s->n + 1, sizeof(*d));
	uint16_t *p;

	if (!d)
		return -ENOMEM;
	s->daemons = d;
	p = reallocarray(s->ports, s->n + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->ports = p;
	s->ports[s->n] = socket_port(fd);
	s->daemons[s->n] =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
				 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
				 NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
				 o->connection_limit ? o->connection_limit :
						       (unsigned)HTTP_DEFAULT_CONNECTION_LIMIT,
				 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				 o->per_ip_limit ? o->per_ip_limit : (unsigned)HTTP_DEFAULT_PER_IP_LIMIT,
				 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
				 MHD_OPTION_CONNECTION_TIMEOUT,
				 o->connection_timeout ? o->connection_timeout :
							 (unsigned)HTTP_DEFAULT_CONNECTION_TIMEOUT,
				 MHD_OPTION_THREAD_POOL_SIZE, o->threads ? o->threads : 2u,
				 MHD_OPTION_END);
	if (!s->daemons[s->n])
		return -EADDRNOTAVAIL;
	s->n++;
	return 0;
}

static int bind_address(struct http_server *s, const struct http_options *o, const char *addr,
			char **ret_error)
{
	_cleanup_free_ char *host = NULL, *port = NULL;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int r;

	r = http_parse_listen(addr, &host, &port);
	if (r < 0) {
		*ret_error = strprintf("bad listen address \"%s\": expected HOST:PORT or [V6]:PORT",
				       addr);
		return r;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		*ret_error = strprintf("cannot resolve listen address %s: %s", addr, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = -1;

		r = listen_socket(ai, &fd);
		if (r >= 0) {
			r = add_listener(s, o, fd);
			if (r < 0)
				close(fd);
		}
		if (r < 0) {
			*ret_error = strprintf("cannot listen on %s: %s", addr, strerror(-r));
			break;
		}
	}
	freeaddrinfo(res);
	return r < 0 ? r : 0;
}

int http_server_start(const struct http_options *o, struct http_server **ret, char **ret_error)
{
	_cleanup_(http_server_freep) struct http_server *s = calloc(1, sizeof(*s));
	int r;

	*ret_error = NULL;
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->health_max_age = o->health_max_age > 0 ? o->health_max_age : 5;
	for (size_t i = 0; o->listen && o->listen[i]; i++) {
		r = bind_address(s, o, o->listen[i], ret_error);
		if (r < 0)
			return r;
	}
	if (s->n == 0) {
		*ret_error = strdup("no listen address");
		return -EINVAL;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		MHD_stop_daemon(s->daemons[i]);
	free(s->daemons);
	free(s->ports);
	http_snapshot_unref(s->snap);
	free(s->refusal);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

size_t http_server_n_sockets(const struct http_server *s)
{
	return s->n;
}

uint16_t http_server_port(const struct http_server *s, size_t i)
{
	return i < s->n ? s->ports[i] : 0;
}

void http_server_publish(struct http_server *s, struct http_snapshot *snap)
{
	struct http_snapshot *old;

	pthread_mutex_lock(&s->lock);
	old = s->snap;
	s->snap = snap;
	pthread_mutex_unlock(&s->lock);
	http_snapshot_unref(old);
}

void http_server_set_refusal(struct http_server *s, const char *why, bool count)
{
	char *copy = why ? strdup(why) : NULL;

	pthread_mutex_lock(&s->lock);
	free(s->refusal);
	s->refusal = copy;
	pthread_mutex_unlock(&s->lock);
	if (why && count)
		__atomic_add_fetch(&s->self.snapshot_rejections_total, 1, __ATOMIC_RELAXED);
}

void http_server_tick(struct http_server *s)
{
	__atomic_store_n(&s->last_tick_usec, now_usec(), __ATOMIC_RELAXED);
}

void http_server_set_self(struct http_server *s, const struct prom_self *self)
{
	__atomic_store_n(&s->self.evaluations_total, self->evaluations_total, __ATOMIC_RELAXED);
	__atomic_store_n(&s->self.evaluation_errors_total, self->evaluation_errors_total,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->self.config_reloads_total, self->config_reloads_total, __ATOMIC_RELAXED);
	__atomic_store_n(&s->self.config_reload_errors_total, self->config_reload_errors_total,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->self.evaluation_timeouts_total, self->evaluation_timeouts_total,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->self.evaluation_max_rss_bytes, self->evaluation_max_rss_bytes,
			 __ATOMIC_RELAXED);
	{
		double start = self->start_time_seconds;

		__atomic_store(&s->self.start_time_seconds, &start, __ATOMIC_RELAXED);
	}
}

uint64_t http_server_scrapes(const struct http_server *s)
{
	return __atomic_load_n(&s->self.scrapes_total, __ATOMIC_RELAXED);
}
