/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the configuration file (config_load_string, the same parse
 * as config_load_file). A failure must come with a "NAME:..." reason. */
#include "config.h"

#include "agent/conf.h"
#include "lib/strutil.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char *err = NULL;
	int r;

	if (config_init_default(&c) < 0)
		return 0;
	r = config_load_string(&c, (const char *)data, size, "fuzz.conf", &err);
	if (r < 0 && (!err || !startswith(err, "fuzz.conf:")))
		abort();
	if (r >= 0 && err)
		abort();
	free(err);
	config_done(&c);
	return 0;
}
