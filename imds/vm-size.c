/* SPDX-License-Identifier: Apache-2.0 */
/* compute.vmSize parsed for its size version (DOMAIN.md §1a): the _vN
 * suffix, 1 when there is none. Strict: anything not shaped like an Azure
 * size name does not parse, and then no evidence is drawn from it. Pure. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "imds/imds.h"

static bool is_version_token(const char *t, size_t n, unsigned *ret)
{
	unsigned v = 0;

	if (n < 2 || n > 3 || (t[0] != 'v' && t[0] != 'V'))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!isdigit((unsigned char)t[i]))
			return false;
		v = v * 10 + (unsigned)(t[i] - '0');
	}
	*ret = v;
	return true;
}

/* "D4ds", "NC24ads", "E64-32s", "M416ms", "DS2", "A1", "B2pts":
 * family letters, vCPUs, an optional constrained count, feature letters. */
static bool is_family_token(const char *t, size_t n)
{
	size_t i = 0, start;

	while (i < n && isalpha((unsigned char)t[i]))
		i++;
	if (i == 0 || i > 4)
		return false;
	start = i;
	while (i < n && isdigit((unsigned char)t[i]))
		i++;
	if (i == start || i - start > 4)
		return false;
	if (i < n && t[i] == '-') {
		start = ++i;
		while (i < n && isdigit((unsigned char)t[i]))
			i++;
		if (i == start || i - start > 4)
			return false;
	}
	start = i;
	while (i < n && isalpha((unsigned char)t[i]))
		i++;
	return i == n && i - start <= 8;
}

/* A word after the family: letters only ("cc", "Promo"), or an accelerator
 * name, upper-case letters, digits, upper-case letters ("A100", "H100",
 * "MI300X", "T4", "V620"). Anything else ("v5x", "v", "5") makes the name
 * unclear rather than be read as something it may not be. */
static bool is_word_token(const char *t, size_t n)
{
	size_t i = 0, start;

	if (n == 0 || n > 16)
		return false;
	while (i < n && isalpha((unsigned char)t[i]))
		i++;
	if (i == n)
		return !(n == 1 && (t[0] == 'v' || t[0] == 'V'));
	for (size_t k = 0; k < i; k++)
		if (!isupper((unsigned char)t[k]))
			return false;
	if (i == 0)
		return false;
	start = i;
	while (i < n && isdigit((unsigned char)t[i]))
		i++;
	if (i == start)
		return false;
	while (i < n && isupper((unsigned char)t[i]))
		i++;
	return i == n;
}

int vm_size_parse(const char *s, struct vm_size *ret)
{
	struct vm_size v = { 0 };
	const char *p, *tok;
	size_t len, n, idx = 0;
	bool have_version = false;

	if (!s)
		return -EINVAL;
	len = strnlen(s, VM_SIZE_MAX + 1);
	if (len == 0)
		return -EINVAL;
	if (len > VM_SIZE_MAX)
		return -E2BIG;
	for (p = s; *p; p = tok + n + (tok[n] == '_')) {
		tok = p;
		n = strcspn(tok, "_");
		if (idx == 0) {
			if (!((n == 8 && strncasecmp(tok, "Standard", 8) == 0) ||
			      (n == 5 && strncasecmp(tok, "Basic", 5) == 0)))
				return -EINVAL;
		} else if (idx == 1) {
			if (!is_family_token(tok, n))
				return -EINVAL;
			memcpy(v.family, tok, n);
			v.family[n] = '\0';
		} else if (is_version_token(tok, n, &v.version)) {
			if (have_version || v.version == 0)
				return -EINVAL;
			have_version = true;
		} else if (!is_word_token(tok, n)) {
			return -EINVAL;
		}
		idx++;
		if (tok[n] == '_' && tok[n + 1] == '\0')
			return -EINVAL; /* trailing '_' */
	}
	if (idx < 2)
		return -EINVAL;
	if (!have_version)
		v.version = 1;
	*ret = v;
	return 0;
}
