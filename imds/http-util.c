/* SPDX-License-Identifier: Apache-2.0 */
/* Once-only libcurl initialisation shared by the HTTP clients. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "imds/ca-bundle.h"
#include "imds/http-util.h"
#include "lib/macro.h"
#include "lib/timeutil.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

#ifdef ATREST_PORTABLE
/* The portable build's libcurl knows no CA bundle of its own: the
 * distribution's, unless SSL_CERT_FILE names one (OpenSSL's defaults,
 * which libcurl falls back to, honour it). */
static const char *ca_bundle;
#endif

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
#ifdef ATREST_PORTABLE
	if (!getenv("SSL_CERT_FILE"))
		ca_bundle = ca_bundle_find("");
#endif
}

CURLcode http_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_result;
}

const char *http_transport_reason(CURLcode cc, int os_errno, char *buf, size_t n)
{
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return "timed out";
	if (cc == CURLE_GOT_NOTHING)
		return "connection closed without an answer";
	if (cc == CURLE_COULDNT_CONNECT && os_errno > 0 && n > 0) {
		snprintf(buf, n, "%s", strerror(os_errno));
		buf[0] = (char)tolower((unsigned char)buf[0]);
		return buf;
	}
	return curl_easy_strerror(cc);
}

static long ms_of(double s)
{
	return MAX(1L, (long)ceil(s * 1000));
}

CURLcode http_easy_setup(CURL *c, const struct http_easy_opts *o)
{
	double left = o->deadline - now_monotonic();
	CURLcode cc = CURLE_OK;

#define SET(opt, val)       \
	if (cc == CURLE_OK) \
	cc = curl_easy_setopt(c, opt, val)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_HTTPHEADER, o->headers);
	SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (o->no_proxy) {
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "*");
	}
	SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, ms_of(left));
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms_of(MIN(left, o->connect_timeout)));
	SET(CURLOPT_WRITEFUNCTION, o->write_cb);
	SET(CURLOPT_WRITEDATA, o->write_data);
#ifdef ATREST_PORTABLE
	http_global_init();
	if (ca_bundle)
		SET(CURLOPT_CAINFO, ca_bundle);
#endif
#undef SET
	return cc;
}

void curl_easy_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}
