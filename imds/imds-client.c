/* SPDX-License-Identifier: Apache-2.0 */
/* The IMDS client: libcurl with a deadline for the whole step, retries with
 * backoff, api-version fallback, a size cap and a process-wide rate limit. */
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include "imds/http-util.h"
#include "lib/json-util.h"
#include "imds/imds.h"
#include "lib/timeutil.h"
#include "lib/log.h"

#define IMDS_DEFAULT_URL "http://169.254.169.254"
#define IMDS_DEFAULT_TIMEOUT 10.0
#define IMDS_DEFAULT_CONNECT_TIMEOUT 2.0
#define IMDS_DEFAULT_MAX_BODY (1024 * 1024)
#define IMDS_BACKOFF_FIRST 0.2
#define IMDS_BACKOFF_MAX 2.0
/* No attempt is started with less time than this left. */
#define IMDS_MIN_ATTEMPT 0.05
/* IMDS allows 5 requests/s per VM; stay under it process-wide. */
#define IMDS_RATE_PER_SECOND 5.0

static const char remedy_unreachable[] = "is this an Azure VM? On AKS the pod needs hostNetwork";
static const char remedy_not_imds[] = "is something other than Azure IMDS answering at this address?";

struct http_reply {
	CURLcode cc;
	long status; /* 0 when no HTTP status line arrived */
	int os_errno;
	bool too_big;
	bool rate_limited; /* the rate limit left no time to ask */
	double retry_after;  /* seconds from a Retry-After header; < 0 when none */
	bool retry_too_late; /* Retry-After points past the deadline: not retried */
	struct strbuf body;
};

struct fetch {
	char *base; /* without trailing slash */
	double timeout;
	double connect_timeout;
	double deadline; /* monotonic */
	size_t max_body;
	bool single_attempt;
	unsigned attempts;
};

/* Token bucket shared by every thread. A caller reserves a token (the
 * balance may go negative) and sleeps outside the lock until it is due. */
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static double rate_tokens = IMDS_RATE_PER_SECOND;
static double rate_stamp;

static int ratelimit_acquire(double deadline)
{
	double now, wait;

	pthread_mutex_lock(&rate_lock);
	now = now_monotonic();
	if (rate_stamp > 0)
		rate_tokens = MIN(IMDS_RATE_PER_SECOND,
				  rate_tokens + (now - rate_stamp) * IMDS_RATE_PER_SECOND);
	rate_stamp = now;
	wait = rate_tokens >= 1 ? 0 : (1 - rate_tokens) / IMDS_RATE_PER_SECOND;
	if (now + wait + IMDS_MIN_ATTEMPT > deadline) {
		pthread_mutex_unlock(&rate_lock);
		return -ETIMEDOUT;
	}
	rate_tokens -= 1;
	pthread_mutex_unlock(&rate_lock);
	sleep_seconds(wait);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct http_reply *reply = ((void **)userdata)[0];
	const struct fetch *f = ((void **)userdata)[1];
	size_t n = size * nmemb;

	if (n > f->max_body || reply->body.len > f->max_body - n) {
		reply->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	strbuf_append_n(&reply->body, data, n);
	return strbuf_failed(&reply->body) ? 0 : n;
}

static void curl_slist_free_allp(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}

static CURLcode setup_easy(CURL *c, const struct fetch *f, const char *url,
			   struct curl_slist *headers, void **cb_data)
{
	CURLcode cc = http_easy_setup(c, &(struct http_easy_opts){
						 .url = url,
						 .headers = headers,
						 .no_proxy = true, /* IMDS is link-local: a proxy must never see these requests */
						 .deadline = f->deadline,
						 .connect_timeout = f->connect_timeout,
						 .write_cb = write_cb,
						 .write_data = cb_data,
					 });

	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_body);
	return cc;
}

/* One request, no retry. Fills reply; never fails otherwise. */
static void http_get_once(struct fetch *f, const char *path, struct http_reply *reply)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	_cleanup_free_ char *url = NULL;
	void *cb_data[2] = { reply, f };
	long os_errno = 0;

	strbuf_done(&reply->body);
	*reply = (struct http_reply){ .cc = CURLE_OUT_OF_MEMORY, .retry_after = -1 };
	url = strprintf("%s%s", f->base, path);
	headers = curl_slist_append(NULL, "Metadata: true");
	c = curl_easy_init();
	if (!url || !headers || !c)
		return;
	reply->cc = setup_easy(c, f, url, headers, cb_data);
	if (reply->cc != CURLE_OK)
		return;
	f->attempts++;
	log_debug("imds: GET %s (attempt %u)", url, f->attempts);
	reply->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	reply->os_errno = (int)os_errno;
	if (reply->status == 429 || reply->status == 503) {
		/* delta-seconds or an HTTP date, as libcurl reads it; 0 when
		 * absent or unreadable, which leaves our own backoff. */
		curl_off_t ra = 0;

		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			reply->retry_after = (double)MIN(ra, (curl_off_t)(7 * 86400));
	}
	if (reply->cc == CURLE_FILESIZE_EXCEEDED)
		reply->too_big = true;
}

/* Worth asking again: no answer, or IMDS said it is busy or updating. */
static bool reply_transient(const struct http_reply *r)
{
	if (r->too_big || r->rate_limited)
		return false;
	if (r->cc != CURLE_OK)
		return true;
	return r->status == 410 || r->status == 429 || r->status >= 500;
}

/* One request with retries and backoff, all inside the deadline. */
static void http_get(struct fetch *f, const char *path, struct http_reply *reply)
{
	double backoff = IMDS_BACKOFF_FIRST;

	for (bool first = true;; first = false) {
		/* When the limit leaves no time for a retry, the failure
		 * worth reporting is the previous answer, so keep it. */
		if (ratelimit_acquire(f->deadline) < 0) {
			if (first) {
				strbuf_done(&reply->body);
				*reply = (struct http_reply){ .cc = CURLE_OPERATION_TIMEDOUT,
							      .rate_limited = true };
			}
			return;
		}
		double wait;

		http_get_once(f, path, reply);
		if (f->single_attempt || !reply_transient(reply))
			return;
		/* IMDS's Retry-After is honoured: never asked sooner, and not
		 * at all when it points past the step's deadline. */
		wait = MAX(backoff, reply->retry_after);
		if (now_monotonic() + wait + IMDS_MIN_ATTEMPT > f->deadline) {
			reply->retry_too_late = reply->retry_after > backoff;
			return;
		}
		log_debug("imds: transient failure (curl %d, HTTP %ld), retrying in %.1f s%s",
			  (int)reply->cc, reply->status, wait,
			  reply->retry_after > backoff ? " (Retry-After)" : "");
		sleep_seconds(wait);
		backoff = MIN(backoff * 2, IMDS_BACKOFF_MAX);
	}
}

/* Newest listed version >= the minimum atrest wants, else the newest at
 * all; never the one that was just refused. */
static char *pick_version(char **versions, const char *refused)
{
	const char *best = NULL, *newest = NULL;

	for (char **v = versions; v && *v; v++) {
		/* "YYYY-MM-DD" (checked by the parser) sorts as text. */
		if (streq(*v, refused))
			continue;
		if (!newest || strcmp(*v, newest) > 0)
			newest = *v;
		if (strcmp(*v, IMDS_API_VERSION_MIN_PREFERRED) >= 0 && (!best || strcmp(*v, best) > 0))
			best = *v;
	}
	return strdup_or_null(best ? best : newest);
}

static int fallback_version(struct fetch *f, const char *refused, char **ret)
{
	_cleanup_strv_free_ char **versions = NULL;
	_cleanup_free_ char *err = NULL;
	struct http_reply reply = { 0 };
	int r;

	http_get(f, "/metadata/versions", &reply);
	if (reply.cc != CURLE_OK || reply.status != 200) {
		strbuf_done(&reply.body);
		return -EPROTO;
	}
	r = imds_parse_versions(reply.body.buf, reply.body.len, &versions, &err);
	strbuf_done(&reply.body);
	if (r < 0)
		return r;
	*ret = pick_version(versions, refused);
	return *ret ? 0 : -ENOENT;
}

static const char *transport_reason(const struct http_reply *r, char *buf, size_t n)
{
	if (r->rate_limited)
		return "the request rate limit left no time";
	return http_transport_reason(r->cc, r->os_errno, buf, n);
}

static const char *http_remedy(long status)
{
	if (status == 400)
		return "IMDS refused the request even after the api-version fallback: "
		       "check that no proxy or firewall rewrites traffic to IMDS";
	if (status == 401 || status == 403)
		return "IMDS refused access: check that no firewall or proxy answers for IMDS";
	if (status == 410 || status == 429 || status >= 500)
		return "IMDS is busy or updating and retries ran out: try again later or "
		       "raise [imds] timeout";
	return remedy_not_imds;
}

static char *describe_failure(const struct fetch *f, const struct http_reply *r, const char *version)
{
	_cleanup_free_ char *desc = NULL;
	char buf[128];

	if (r->too_big)
		return strprintf("IMDS at %s sent a response larger than %zu bytes: %s", f->base,
				 f->max_body, remedy_not_imds);
	if (r->cc != CURLE_OK && r->status == 0)
		return strprintf("IMDS at %s did not answer within %.1f s (%s, %u attempt%s): %s",
				 f->base, f->timeout, transport_reason(r, buf, sizeof(buf)),
				 f->attempts, f->attempts == 1 ? "" : "s", remedy_unreachable);
	if (r->cc != CURLE_OK)
		return strprintf("IMDS at %s answered HTTP %ld but the transfer failed (%s) "
				 "within %.1f s: %s",
				 f->base, r->status, transport_reason(r, buf, sizeof(buf)),
				 f->timeout, remedy_not_imds);
	desc = imds_describe_error_body(r->body.buf, r->body.len);
	if (r->retry_too_late)
		return strprintf("IMDS at %s answered HTTP %ld for api-version %s (%s) and asked "
				 "to retry after %.0f s, beyond the %.1f s IMDS step: %s",
				 f->base, r->status, version, strna(desc), r->retry_after,
				 f->timeout, http_remedy(r->status));
	return strprintf("IMDS at %s answered HTTP %ld for api-version %s (%s): %s", f->base,
			 r->status, version, strna(desc), http_remedy(r->status));
}

static int fetch_init(struct fetch *f, const struct imds_options *opts)
{
	const char *base = isempty(opts->base_url) ? IMDS_DEFAULT_URL : opts->base_url;
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	*f = (struct fetch){
		.base = strndup(base, len),
		.timeout = opts->timeout > 0 ? opts->timeout : IMDS_DEFAULT_TIMEOUT,
		.connect_timeout = opts->connect_timeout > 0 ? opts->connect_timeout :
							       IMDS_DEFAULT_CONNECT_TIMEOUT,
		.max_body = opts->max_body > 0 ? opts->max_body : IMDS_DEFAULT_MAX_BODY,
		.single_attempt = opts->single_attempt,
	};
	f->deadline = now_monotonic() + f->timeout;
	return f->base ? 0 : -ENOMEM;
}

static void get_instance(struct fetch *f, const char *version, struct http_reply *reply)
{
	_cleanup_free_ char *path = strprintf("/metadata/instance?api-version=%s", version);

	if (!path) {
		strbuf_done(&reply->body);
		*reply = (struct http_reply){ .cc = CURLE_OUT_OF_MEMORY };
		return;
	}
	http_get(f, path, reply);
}

/* Asks for the instance document, falling back to an older api-version on
 * 400. Returns the last reply and the version it answered for. */
static void fetch_document(struct fetch *f, const struct imds_options *opts,
			   struct http_reply *reply, char **ret_version)
{
	_cleanup_free_ char *version = strdup(opts->api_version ? opts->api_version :
								  IMDS_API_VERSION_PREFERRED);
	_cleanup_free_ char *older = NULL;

	if (!version) {
		*reply = (struct http_reply){ .cc = CURLE_OUT_OF_MEMORY };
		return;
	}
	get_instance(f, version, reply);
	if (reply->cc == CURLE_OK && reply->status == 400 && !f->single_attempt &&
	    fallback_version(f, version, &older) == 0) {
		struct http_reply second = { 0 };

		log_debug("imds: api-version %s refused, falling back to %s", version, older);
		get_instance(f, older, &second);
		/* A second failure without an answer says less than the 400. */
		if (second.status != 0) {
			strbuf_done(&reply->body);
			*reply = second;
			free(version);
			version = TAKE_PTR(older);
		} else {
			strbuf_done(&second.body);
		}
	}
	*ret_version = TAKE_PTR(version);
}

static void fill_result(struct fetch *f, struct http_reply *reply, char *version,
			struct imds_result *res)
{
	_cleanup_free_ char *err = NULL;
	int r;

	res->http_status = reply->status;
	res->attempts = f->attempts;
	if (reply->status != 0)
		res->api_version = strdup_or_null(version);
	if (reply->cc != CURLE_OK || reply->status != 200) {
		res->status = reply->status != 0 || reply->too_big ? SOURCE_ERROR : SOURCE_UNREACHABLE;
		res->error = describe_failure(f, reply, version);
		return;
	}
	r = imds_parse_instance(reply->body.buf, reply->body.len, &res->instance, &err);
	if (r < 0) {
		res->status = SOURCE_ERROR;
		res->error = strprintf("IMDS at %s answered with a document atrest cannot "
				       "read (%s): %s",
				       f->base, err ? err : strerror(-r), remedy_not_imds);
		return;
	}
	res->status = SOURCE_OK;
	res->have_instance = true;
}

/* The whole step; on success hands the raw body to keep_body if given. */
static void fetch_internal(const struct imds_options *opts, struct imds_result *res,
			   struct strbuf *keep_body)
{
	_cleanup_free_ char *version = NULL;
	struct http_reply reply = { 0 };
	struct fetch f;
	double start = now_monotonic();

	*res = (struct imds_result){ .status = SOURCE_ERROR };
	imds_instance_done(&res->instance);
	CURLcode init = http_global_init();

	if (init != CURLE_OK) {
		res->error = strprintf("libcurl could not initialise (%s): check the "
				       "installation of libcurl",
				       curl_easy_strerror(init));
		return;
	}
	if (fetch_init(&f, opts) < 0) {
		res->error = strdup("IMDS: out of memory");
		return;
	}
	fetch_document(&f, opts, &reply, &version);
	fill_result(&f, &reply, version, res);
	res->elapsed = now_monotonic() - start;
	if (res->status == SOURCE_OK && keep_body) {
		*keep_body = reply.body;
		reply.body = (struct strbuf){ 0 };
	}
	strbuf_done(&reply.body);
	free(f.base);
	if (res->status != SOURCE_OK && !res->error)
		res->error = strdup("IMDS: out of memory");
}

void imds_fetch(const struct imds_options *opts, struct imds_result *res)
{
	fetch_internal(opts, res, NULL);
}

void imds_result_done(struct imds_result *res)
{
	if (!res)
		return;
	free(res->error);
	free(res->api_version);
	imds_instance_done(&res->instance);
	*res = (struct imds_result){ .status = SOURCE_OFF };
	imds_instance_done(&res->instance);
}

/* The cache keeps the raw body, not the parsed instance: re-parsing is pure
 * and cheap, and every caller gets its own copy to free. */
struct imds_cache {
	pthread_mutex_t lock;
	double max_age;
	char *body;
	size_t len;
	char *api_version;
	char *url; /* the base URL it came from: a reload to another IMDS misses */
	double fetched_at;
};

struct imds_cache *imds_cache_new(double max_age_seconds)
{
	struct imds_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max_age = max_age_seconds;
	return c;
}

void imds_cache_free(struct imds_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->body);
	free(c->api_version);
	free(c->url);
	free(c);
}

static const char *base_url_of(const struct imds_options *opts)
{
	return isempty(opts->base_url) ? IMDS_DEFAULT_URL : opts->base_url;
}

static bool cache_answer(struct imds_cache *c, const struct imds_options *opts, struct imds_result *res)
{
	_cleanup_free_ char *err = NULL;
	double start = now_monotonic();

	if (!c->body || start - c->fetched_at > c->max_age || !streq_ptr(c->url, base_url_of(opts)))
		return false;
	*res = (struct imds_result){ 0 };
	if (imds_parse_instance(c->body, c->len, &res->instance, &err) < 0)
		return false; /* cannot happen: it parsed when stored */
	res->status = SOURCE_OK;
	res->have_instance = true;
	res->api_version = strdup_or_null(c->api_version);
	res->http_status = 200;
	res->elapsed = now_monotonic() - start;
	res->age = start - c->fetched_at;
	return true;
}

static void cache_store(struct imds_cache *c, const struct imds_options *opts, struct strbuf *body,
			const char *version)
{
	free(c->body);
	free(c->api_version);
	free(c->url);
	c->len = body->len;
	c->body = strbuf_steal(body);
	c->api_version = strdup_or_null(version);
	c->url = strdup(base_url_of(opts));
	c->fetched_at = now_monotonic();
	if (!c->body || !c->api_version || !c->url) {
		free(c->body);
		c->body = NULL;
	}
}

void imds_fetch_cached(struct imds_cache *c, const struct imds_options *opts, struct imds_result *res)
{
	struct strbuf body = { 0 };

	if (!c) {
		imds_fetch(opts, res);
		return;
	}
	/* Held across the fetch: concurrent callers wait for one request
	 * instead of each asking IMDS. */
	pthread_mutex_lock(&c->lock);
	if (!cache_answer(c, opts, res)) {
		fetch_internal(opts, res, &body);
		if (res->status == SOURCE_OK)
			cache_store(c, opts, &body, res->api_version);
		strbuf_done(&body);
	}
	pthread_mutex_unlock(&c->lock);
}

json_object *imds_cache_export(struct imds_cache *c)
{
	json_object *o;

	if (!c || !c->body)
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "body", json_object_new_string_len(c->body, (int)c->len));
	json_object_object_add(o, "api_version", json_string_or_null(c->api_version));
	json_object_object_add(o, "url", json_string_or_null(c->url));
	json_object_object_add(o, "fetched_at", json_object_new_double(c->fetched_at));
	return o;
}

void imds_cache_import(struct imds_cache *c, json_object *o)
{
	json_object *body, *ver, *at, *url;
	struct imds_instance inst = { 0 };
	_cleanup_free_ char *err = NULL;
	const char *b;
	size_t len;

	if (!c || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "body", &body) ||
	    !json_object_is_type(body, json_type_string) ||
	    !json_object_object_get_ex(o, "api_version", &ver) ||
	    !json_object_is_type(ver, json_type_string) ||
	    !json_object_object_get_ex(o, "url", &url) || !json_object_is_type(url, json_type_string) ||
	    !json_object_object_get_ex(o, "fetched_at", &at) ||
	    !json_object_is_type(at, json_type_double))
		return;
	b = json_object_get_string(body);
	len = (size_t)json_object_get_string_len(body);
	if (imds_parse_instance(b, len, &inst, &err) < 0)
		return;
	imds_instance_done(&inst);
	pthread_mutex_lock(&c->lock);
	free(c->body);
	free(c->api_version);
	free(c->url);
	c->body = strndup(b, len);
	c->len = len;
	c->api_version = strdup(json_object_get_string(ver));
	c->url = strdup(json_object_get_string(url));
	c->fetched_at = json_object_get_double(at);
	if (!c->body || !c->api_version || !c->url) {
		free(c->body);
		c->body = NULL;
	}
	pthread_mutex_unlock(&c->lock);
}
