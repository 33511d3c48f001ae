/* Once-only libcurl initialisation shared by the HTTP clients. */
#include "config.h"

#include <pthread.h>

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
