/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: /proc/swaps (swaps_parse). */
#include "config.h"

#include "probes/probes.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct swap_table t = { 0 };
	size_t skipped = 0;

	if (swaps_parse((const char *)data, size, &t, &skipped) < 0)
		return 0;
	for (size_t i = 0; i < t.n; i++)
		if (!t.v[i].filename || strlen(t.v[i].filename) > size)
			abort();
	swap_table_done(&t);
	return 0;
}
