/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON for untrusted bodies (IMDS, token, ARM): a depth limit, no
 * NUL bytes, valid UTF-8, one document and nothing after it; and the test
 * a value must pass before atrest keeps it as a fact. */
#pragma once

#include "lib/json-util.h"

/* Deep enough for any IMDS or ARM document, shallow enough that a nesting
 * bomb is refused early. */
#define JSON_STRICT_MAX_DEPTH 64
/* Longest value atrest keeps from a document; longer ones are not facts. */
#define JSON_MAX_VALUE_LEN 4096

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* Valid UTF-8, no control characters, at most JSON_MAX_VALUE_LEN bytes. */
bool json_value_printable(const char *s, size_t len);
/* Parses one JSON document (any type, possibly the literal null: *ret NULL).
 * On failure -EBADMSG (or -ENOMEM) and a one-line reason that never quotes
 * the body. */
int json_parse_strict(const char *body, size_t len, json_object **ret, char **ret_error);
