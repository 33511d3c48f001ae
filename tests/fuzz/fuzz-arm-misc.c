/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the small ARM parsers: error bodies (arm_describe_error),
 * azure.json (arm_parse_azure_json) over the whole input; Retry-After,
 * resource paths, the token resource and query escaping over its first
 * line. */
#include "config.h"

#include <strings.h>

#include "imds/arm/arm-internal.h"
#include "tests/fuzz/fuzz.h"

static void line_parsers(const char *s)
{
	char *p;
	double secs;

	if (arm_parse_retry_after(s, 1700000000, &secs) >= 0 && !(secs >= 0))
		abort();
	p = arm_resource_path(s);
	/* Resource ids are case-insensitive: "/Subscriptions/" is one. */
	if (p && (strncasecmp(p, "/subscriptions/", 15) != 0 || strpbrk(p, " ?#\r\n")))
		abort();
	free(p);
	free(arm_token_resource(s));
	p = arm_query_escape(s);
	if (p && strpbrk(p, " &=?#\r\n"))
		abort();
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = arm_describe_error((const char *)data, size), *id = NULL, *line;

	if (s && strpbrk(s, "\r\n"))
		abort();
	free(s);
	if (arm_parse_azure_json((const char *)data, size, &id) >= 0)
		free(id);
	line = fuzz_field(&data, &size, '\n');
	line_parsers(line);
	free(line);
	return 0;
}
