/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the managed-identity token answer (arm_parse_token). The
 * token, when taken, must be NUL-terminated inside its buffer and free of
 * bytes that could split an HTTP header. */
#include "config.h"

#include "imds/arm/arm-internal.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[ARM_TOKEN_MAX];
	int64_t expires = -1;
	char *err = NULL;

	memset(tok, 'X', sizeof(tok));
	if (arm_parse_token((const char *)data, size, NOW, tok, sizeof(tok), &expires, &err) >= 0) {
		size_t n = strnlen(tok, sizeof(tok));

		if (n == sizeof(tok) || strpbrk(tok, "\r\n") || expires < 0)
			abort();
	}
	free(err);
	return 0;
}
