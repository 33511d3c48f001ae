/* Once-only libcurl initialisation shared by the HTTP clients. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "imds/http-util.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
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
