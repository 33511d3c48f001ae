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
