/* SPDX-License-Identifier: Apache-2.0 */
/* The policy: each check's severity and the parameters checks compare
 * against. The default is embedded here and documented in README. */
#pragma once

#include <stdint.h>

#include "lib/macro.h"

enum severity {
	SEV_CRITICAL = 0,
	SEV_WARNING,
	SEV_INFO,
	SEV_IGNORE,
};

enum check_id {
	CHECK_HOST_EAH = 0,
	CHECK_DISK_CMK,
	CHECK_DISK_TEMP,
	CHECK_DMCRYPT_CIPHER,
	CHECK_PATH_DMCRYPT,
	CHECK_SWAP,
	CHECK_ADE,
	CHECK_IMDS_DISKS,
	CHECK_BENCH,
	_CHECK_MAX,
};

struct policy {
	char **allowed_ciphers; /* cipher-mode strings, e.g. aes-xts-plain64 */
	unsigned min_key_bits;
	char **required_paths;
	char **expected_des;                 /* compared case-insensitively */
	uint64_t min_bench_bytes_per_second; /* 0 = no minimum */
	/* v5+ sizes encrypt their temp disk (DOMAIN.md §1a): a basis for
	 * disk.temp_encrypted. Default true. */
	bool trust_platform_temp_encryption;
	enum severity severity[_CHECK_MAX];
};

int policy_init_default(struct policy *p) _warn_unused_result_;
void policy_done(struct policy *p);
int policy_copy(struct policy *dst, const struct policy *src) _warn_unused_result_;

const char *severity_to_string(enum severity s);
int severity_from_string(const char *s, enum severity *ret);
