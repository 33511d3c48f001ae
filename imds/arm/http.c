/* SPDX-License-Identifier: Apache-2.0 */
/* One libcurl GET for the token and ARM clients: deadline, size cap,
 * Retry-After, proxy policy per caller, and secret-safe body buffers. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#include "imds/arm/http.h"
#include "imds/http-util.h"
#include "lib/timeutil.h"
#include "imds/arm/arm-internal.h"
#include "lib/log.h"

#define ARM_CONNECT_TIMEOUT 5.0

void arm_reply_done(struct arm_reply *r)
{
	strbuf_done(&r->body);
	*r = (struct arm_reply){ .retry_after = -1 };
}

struct sink {
	const struct arm_http_req *req;
	struct arm_reply *reply;
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	struct arm_reply *r = s->reply;
	size_t n = size * nmemb;

	if (s->req->secret) {
		if (n >= s->req->secret_size - r->secret_len) {
			r->too_big = true;
			return 0;
		}
		memcpy(s->req->secret + r->secret_len, data, n);
		r->secret_len += n;
		s->req->secret[r->secret_len] = '\0';
		return n;
	}
	if (n > s->req->max_body || r->body.len > s->req->max_body - n) {
		r->too_big = true;
		return 0;
	}
	strbuf_append_n(&r->body, data, n);
	return strbuf_failed(&r->body) ? 0 : n;
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *userdata)
{
	struct arm_reply *r = ((struct sink *)userdata)->reply;
	size_t n = size * nitems;
	char value[128];
	double ra;

	if (n > 12 && n < sizeof(value) + 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		memcpy(value, data + 12, n - 12);
		value[n - 12] = '\0';
		if (arm_parse_retry_after(strstrip(value), (int64_t)time(NULL), &ra) == 0)
			r->retry_after = ra;
	}
	return n;
}

static CURLcode setup(CURL *c, const struct arm_http_req *req, struct sink *sink)
{
	CURLcode cc = http_easy_setup(c, &(struct http_easy_opts){
						 .url = req->url,
						 .headers = req->headers,
						 .no_proxy = req->no_proxy,
						 .deadline = req->deadline,
						 .connect_timeout = ARM_CONNECT_TIMEOUT,
						 .write_cb = write_cb,
						 .write_data = sink,
					 });

	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_HEADERDATA, sink);
	return cc;
}

void arm_http_get(const struct arm_http_req *req, struct arm_reply *reply)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	struct sink sink = { req, reply };
	long os_errno = 0;

	arm_reply_done(reply);
	reply->cc = CURLE_OUT_OF_MEMORY;
	if (req->secret) {
		if (req->secret_size == 0)
			return;
		req->secret[0] = '\0';
	}
	if (req->deadline - now_monotonic() <= 0.01) {
		reply->cc = CURLE_OPERATION_TIMEDOUT;
		return;
	}
	c = curl_easy_init();
	if (!c)
		return;
	reply->cc = setup(c, req, &sink);
	if (reply->cc != CURLE_OK)
		return;
	reply->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	reply->os_errno = (int)os_errno;
}

const char *arm_transport_reason(const struct arm_reply *r, char *buf, size_t n)
{
	if (r->too_big)
		return "the answer was too large";
	return http_transport_reason(r->cc, r->os_errno, buf, n);
}

void *arm_secret_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Best effort: a core dump or swap must not carry the token. */
	(void)madvise(p, size, MADV_DONTDUMP);
	(void)mlock(p, size);
	return p;
}

void arm_secret_free(void *p, size_t size)
{
	if (!p)
		return;
	explicit_bzero(p, size);
	(void)munlock(p, size);
	munmap(p, size);
}
