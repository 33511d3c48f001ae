/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the IMDS /metadata/versions body (imds_parse_versions). */
#include "config.h"

#include "imds/imds.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **v = NULL, *err = NULL;

	if (imds_parse_versions((const char *)data, size, &v, &err) >= 0) {
		if (!v)
			abort();
		for (char **p = v; *p; p++)
			if (strlen(*p) > size)
				abort(); /* cannot have grown out of the body */
	} else if (!err) {
		abort();
	}
	strv_free(v);
	free(err);
	return 0;
}
