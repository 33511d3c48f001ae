/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the check catalogue: the check functions and evidence
 * helpers. Not for reporters. */
#pragma once

#include "agent/checks/checks.h"

void check_host_eah(const struct facts *f, const struct policy *p, struct check_results *out);
void check_disk_cmk(const struct facts *f, const struct policy *p, struct check_results *out);
void check_disk_temp(const struct facts *f, const struct policy *p, struct check_results *out);
void check_dmcrypt_cipher(const struct facts *f, const struct policy *p, struct check_results *out);
void check_path_dmcrypt(const struct facts *f, const struct policy *p, struct check_results *out);
void check_swap(const struct facts *f, const struct policy *p, struct check_results *out);
void check_ade(const struct facts *f, const struct policy *p, struct check_results *out);
void check_imds_disks(const struct facts *f, const struct policy *p, struct check_results *out);
void check_bench(const struct facts *f, const struct policy *p, struct check_results *out);

json_object *evidence_new(const char *source);
void evidence_add_str(json_object *o, const char *key, const char *value);
void evidence_add_int(json_object *o, const char *key, int64_t value);
void evidence_add_bool(json_object *o, const char *key, bool value);
void evidence_add_tristate(json_object *o, const char *key, enum tristate t);
void evidence_add_strv(json_object *o, const char *key, char *const *v);

/* The IMDS source as evidence, and a sentence on why it is unusable. */
json_object *evidence_imds(const struct facts *f);
const char *imds_unusable_reason(const struct facts *f);

/* Encryption at host as a basis for other checks: TRUE when
 * host.encryption_at_host would pass, FALSE when IMDS says off and ARM
 * does not contradict it, UNKNOWN otherwise (*why says which). */
enum tristate eah_established(const struct facts *f, const char **why);
/* The v5+ platform temp-disk encryption (DOMAIN.md §1a) as a basis: TRUE
 * when the policy trusts it and compute.vmSize parses to v5 or newer,
 * FALSE when the policy does not trust it or the size is older, UNKNOWN
 * when IMDS or the size cannot tell (*why says which). Adds vm_size,
 * vm_size_version and trust_platform_temp_encryption to e. */
enum tristate platform_temp_established(const struct facts *f, const struct policy *p,
					json_object *e, const char **why);

/* disk.temp_encrypted for one temp disk (graph index): status, basis and
 * summary, and its evidence in *ret_e. Used by swap.encrypted too. */
struct temp_verdict {
	enum check_status status;
	const char *basis; /* static; NULL for unknown */
	char *summary;
	json_object *evidence;
};
void temp_disk_judge(const struct facts *f, const struct policy *p, int disk, struct temp_verdict *ret);
void temp_verdict_done(struct temp_verdict *v);
