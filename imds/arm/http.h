/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP GET under the token and ARM clients: one libcurl request with a
 * deadline, a size cap, Retry-After capture, and an optional body buffer
 * that is never reallocated (secrets), plus memory for secrets. */
#pragma once

#include <curl/curl.h>

#include "lib/strutil.h"

struct arm_http_req {
	const char *url;
	struct curl_slist *headers;
	bool no_proxy;   /* IMDS: never through a proxy */
	double deadline; /* monotonic seconds */
	size_t max_body;
	char *secret;       /* when set, the body goes here ... */
	size_t secret_size; /* ... up to this many bytes (NUL kept) */
};

struct arm_reply {
	CURLcode cc;
	long status; /* 0 when no HTTP status line arrived */
	int os_errno;
	bool too_big;
	double retry_after; /* seconds; -1 when absent */
	struct strbuf body; /* unused for secret requests */
	size_t secret_len;
};

void arm_reply_done(struct arm_reply *r);
void arm_http_get(const struct arm_http_req *req, struct arm_reply *reply);
/* "timed out", "connection refused", ...: one short line for a failure
 * without an HTTP status. */
const char *arm_transport_reason(const struct arm_reply *r, char *buf, size_t n);

/* Page-backed memory kept out of core dumps, locked when allowed, wiped
 * on free. */
void *arm_secret_alloc(size_t size);
void arm_secret_free(void *p, size_t size);
