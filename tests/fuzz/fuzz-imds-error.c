/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an IMDS error body (imds_describe_error_body) must come
 * back as one short printable line whatever was sent. */
#include "config.h"

#include <ctype.h>

#include "imds/imds.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = imds_describe_error_body((const char *)data, size);

	if (!s)
		return 0; /* out of memory only */
	for (const char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			abort();
	free(s);
	return 0;
}
