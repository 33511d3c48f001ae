/* libcurl's global state, initialised once for the IMDS and ARM clients. */
#pragma once

#include <curl/curl.h>

/* curl_global_init() exactly once per process; its result every time. */
CURLcode http_global_init(void);

/* One lower-case phrase for a transfer that got no usable answer: a
 * timeout, a closed connection, the connect errno, else curl's own text.
 * May write into buf (n bytes). */
const char *http_transport_reason(CURLcode cc, int os_errno, char *buf, size_t n);
