/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target defines, and small helpers for turning fuzzer bytes
 * into the shapes the parsers take (NUL-terminated strings, fields). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of size bytes (a NUL inside ends the string early,
 * as it would for a C caller). Aborts on OOM: a fuzz run must not hide it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Splits *data at the next separator byte: returns the field as a new
 * string and moves data and size past the separator. Missing fields are "". */
static inline char *fuzz_field(const uint8_t **data, size_t *size, uint8_t sep)
{
	const uint8_t *end = *size > 0 ? memchr(*data, sep, *size) : NULL;
	size_t n = end ? (size_t)(end - *data) : *size;
	char *s = fuzz_strndup(*data, n);

	*data += end ? n + 1 : n;
	*size -= end ? n + 1 : n;
	return s;
}
