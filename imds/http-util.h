/* SPDX-License-Identifier: Apache-2.0 */
/* What the IMDS and ARM clients share about libcurl: its global state,
 * initialised once, the options of every request, and failure phrases. */
#pragma once

#include <stdbool.h>
#include <curl/curl.h>

/* curl_global_init() exactly once per process; its result every time. */
CURLcode http_global_init(void);

/* One lower-case phrase for a transfer that got no usable answer: a
 * timeout, a closed connection, the connect errno, else curl's own text.
 * May write into buf (n bytes). */
const char *http_transport_reason(CURLcode cc, int os_errno, char *buf, size_t n);

/* The options every request of atrest sets: no redirects, HTTP(S) only,
 * no signals, the time left to the deadline as the whole transfer's limit
 * (connecting within connect_timeout of it), and its own User-Agent. */
struct http_easy_opts {
	const char *url;
	struct curl_slist *headers;
	bool no_proxy;          /* never through a proxy (IMDS is link-local) */
	double deadline;        /* now_monotonic() seconds */
	double connect_timeout; /* seconds */
	curl_write_callback write_cb;
	void *write_data;
};

/* CURLE_OK, or the first option libcurl refused. */
CURLcode http_easy_setup(CURL *c, const struct http_easy_opts *o);
/* For _cleanup_(): curl_easy_cleanup() unless NULL. */
void curl_easy_cleanupp(CURL **c);
