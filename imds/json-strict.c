/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON parsing shared by the IMDS, token and ARM parsers. */
#include "config.h"

#include <ctype.h>
#include <limits.h>

#include "imds/json-strict.h"
#include "lib/strutil.h"

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* A value fit to be printed anywhere: valid UTF-8, no control characters,
 * bounded. Anything else is not a usable fact. */
bool json_value_printable(const char *s, size_t len)
{
	if (len > JSON_MAX_VALUE_LEN || !utf8_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* What json-c would let through or misread: refused before tokenizing. */
static const char *body_precheck(const char *body, size_t len)
{
	if (len == 0)
		return "empty body";
	if (len > INT_MAX)
		return "body too large";
	if (memchr(body, '\0', len))
		return "body contains a NUL byte";
	if (!utf8_valid(body, len))
		return "body is not valid UTF-8";
	return NULL;
}

int json_parse_strict(const char *body, size_t len, json_object **ret, char **ret_error)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	enum json_tokener_error jerr;
	const char *bad = body_precheck(body, len);
	json_object *o;
	size_t end;

	if (bad) {
		*ret_error = strdup(bad);
		return -EBADMSG;
	}
	tok = json_tokener_new_ex(JSON_STRICT_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
#ifdef JSON_TOKENER_VALIDATE_UTF8
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
#else
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
#endif
	o = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	/* A bare number or literal ends only at a terminator: feed the NUL
	 * json_tokener_parse() would have passed (the body has none). */
	if (!o && jerr == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len; /* all of the body was taken */
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	/* A NULL object with success is the literal null: the caller's
	 * type checks refuse it. */
	if (jerr != json_tokener_success) {
		json_object_put(o);
		if (jerr == json_tokener_continue || end == len)
			*ret_error = strdup("not JSON: document ends too early");
		else
			*ret_error = strprintf("not JSON: %s at byte %zu",
					       json_tokener_error_desc(jerr), end);
		return -EBADMSG;
	}
	/* Strict mode stops at the first value: anything after it but white
	 * space means the body is not one JSON document. */
	for (; end < len; end++)
		if (!isspace((unsigned char)body[end])) {
			json_object_put(o);
			*ret_error = strprintf("not JSON: trailing data at byte %zu", end);
			return -EBADMSG;
		}
	*ret = o;
	return 0;
}
