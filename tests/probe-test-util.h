/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the probe tests: reading a fixture of
 * tests/probe-data/ from $top_srcdir. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static inline char *probe_test_read_data(const char *name, size_t *ret_len)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *buf;
	size_t n;
	long sz;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/probe-data/%s", top ? top : "..", name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)sz + 1);
	n = buf ? fread(buf, 1, (size_t)sz, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}
