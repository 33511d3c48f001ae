/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded default policy (CONTRACT.md) and severity names. */
#include "config.h"

#include "agent/checks/checks.h"
#include "agent/policy.h"
#include "lib/strutil.h"

#define DEFAULT_ALLOWED_CIPHER "aes-xts-plain64"
#define DEFAULT_MIN_KEY_BITS 512

int policy_init_default(struct policy *p)
{
	*p = (struct policy){ 0 };
	p->min_key_bits = DEFAULT_MIN_KEY_BITS;
	p->trust_platform_temp_encryption = true;
	for (size_t i = 0; i < _CHECK_MAX; i++)
		p->severity[i] = check_catalogue[i].default_severity;
	if (strv_extend(&p->allowed_ciphers, DEFAULT_ALLOWED_CIPHER) < 0 ||
	    strv_split_ws("", &p->required_paths) < 0 || strv_split_ws("", &p->expected_des) < 0) {
		policy_done(p);
		return -ENOMEM;
	}
	return 0;
}

void policy_done(struct policy *p)
{
	strv_free(p->allowed_ciphers);
	strv_free(p->required_paths);
	strv_free(p->expected_des);
	*p = (struct policy){ 0 };
}

int policy_copy(struct policy *dst, const struct policy *src)
{
	struct policy p = *src;

	p.allowed_ciphers = strv_copy_or_null(src->allowed_ciphers);
	p.required_paths = strv_copy_or_null(src->required_paths);
	p.expected_des = strv_copy_or_null(src->expected_des);
	if (!p.allowed_ciphers || !p.required_paths || !p.expected_des) {
		policy_done(&p);
		return -ENOMEM;
	}
	*dst = p;
	return 0;
}

static const char *const severity_names[] = {
	[SEV_CRITICAL] = "critical",
	[SEV_WARNING] = "warning",
	[SEV_INFO] = "info",
	[SEV_IGNORE] = "ignore",
};

const char *severity_to_string(enum severity s)
{
	return (size_t)s < ARRAY_SIZE(severity_names) ? severity_names[s] : "critical";
}

int severity_from_string(const char *s, enum severity *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(severity_names); i++)
		if (streq(s, severity_names[i])) {
			*ret = (enum severity)i;
			return 0;
		}
	return -EINVAL;
}
