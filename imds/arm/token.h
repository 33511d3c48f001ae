/* SPDX-License-Identifier: Apache-2.0 */
/* The managed identity atrest asks a token for, and the token request. */
#pragma once

#include "imds/arm/arm.h"

struct arm_identity {
	const char *param; /* "client_id", "object_id", "msi_res_id"; NULL = system */
	char *value;
	char *desc; /* for messages: "client_id X (source)" / "system-assigned" */
};

void arm_identity_done(struct arm_identity *id);
/* Config, else the AKS kubelet tag, else azure.json, else system-assigned. */
int arm_identity_choose(const struct arm_options *o, const struct imds_instance *inst,
			struct arm_identity *ret);

struct arm_token_result {
	enum source_status status;
	bool no_identity; /* HTTP 400: no (such) identity on this VM */
	char *error;      /* never contains the token */
};

/* Writes the token into tok (ARM_TOKEN_MAX bytes of secret memory). */
void arm_token_fetch(const char *imds_url, const char *arm_url, const struct arm_identity *id,
		     double deadline, char *tok, int64_t *expires_on, struct arm_token_result *out);
