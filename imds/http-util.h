/* libcurl's global state, initialised once for the IMDS and ARM clients. */
#pragma once

#include <curl/curl.h>

/* curl_global_init() exactly once per process; its result every time. */
CURLcode http_global_init(void);
