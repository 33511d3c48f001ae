/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the /metrics content negotiation headers (agent/daemon/accept.h).
 * Input: the Accept value, a newline, the Accept-Encoding value; the whole
 * input is also taken as a quality value. */
#include "config.h"

#include "agent/daemon/accept.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int q = accept_parse_q((const char *)data, size);
	char *accept, *encoding;

	if (q < -1 || q > 1000)
		abort();
	accept = fuzz_field(&data, &size, '\n');
	encoding = fuzz_field(&data, &size, '\n');
	(void)accept_openmetrics(accept);
	(void)accept_gzip(encoding);
	free(accept);
	free(encoding);
	return 0;
}
