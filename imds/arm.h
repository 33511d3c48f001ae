/* Azure Resource Manager view of this node's disks (customer-managed keys).
 * Filled by the ARM client (managed identity token + ARM GETs); until that
 * exists the source reports itself as not available. */
#pragma once

#include "imds/imds.h"

enum arm_mode {
	ARM_MODE_AUTO = 0, /* on when a token can be had, silent otherwise */
	ARM_MODE_ON,
	ARM_MODE_OFF,
};

const char *arm_mode_to_string(enum arm_mode m);
int arm_mode_from_string(const char *s, enum arm_mode *ret);

/* One managed disk as ARM describes it. */
struct arm_disk {
	char *id;                     /* managed disk resource id */
	char *encryption_type;        /* EncryptionAtRest... */
	char *des_id;                 /* diskEncryptionSetId, NULL if none */
	char *des_key_url;
	enum tristate des_rotation_enabled;
	char *des_last_rotation;
	char *des_rotation_error;
	char *error;                  /* why this disk could not be read */
	enum source_status status;
};

struct arm_result {
	enum source_status status;    /* OFF until the client exists or when disabled */
	char *error;
	char *identity;               /* which identity was used (never a token) */
	enum tristate encryption_at_host; /* ARM securityProfile.encryptionAtHost */
	struct arm_disk os_disk;
	struct arm_disk *data_disks;  /* indexed like imds data_disks */
	size_t n_data_disks;
};

void arm_result_done(struct arm_result *r);
