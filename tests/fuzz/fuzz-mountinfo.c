/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: /proc/self/mountinfo (mountinfo_parse) and the path lookup
 * over the table. Bytes after a first NUL are the path looked up; without
 * one, a few fixed paths and the first parsed mountpoints are. */
#include "config.h"

#include "probes/probes.h"
#include "tests/fuzz/fuzz.h"

static void lookup(const struct mount_table *t, const char *path)
{
	int i = mount_table_find_path(t, path);

	if (i < -1 || i >= (int)t->n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = size > 0 ? memchr(data, '\0', size) : NULL;
	size_t len = nul ? (size_t)(nul - data) : size;
	struct mount_table t = { 0 };
	size_t skipped = 0;

	if (mountinfo_parse((const char *)data, len, &t, &skipped) < 0)
		return 0;
	if (nul) {
		char *path = fuzz_strndup(nul + 1, size - len - 1);

		lookup(&t, path);
		free(path);
	} else {
		lookup(&t, "/");
		lookup(&t, "/var/lib/kubelet/pods");
		lookup(&t, "relative");
		/* A few are enough: every lookup walks the whole table. */
		for (size_t i = 0; i < t.n && i < 8; i++)
			if (t.v[i].mountpoint)
				lookup(&t, t.v[i].mountpoint);
	}
	mount_table_done(&t);
	return 0;
}
