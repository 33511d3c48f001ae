/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Resource Manager view of this node's disks (customer-managed keys),
 * filled by the ARM client: a managed-identity token from IMDS, then GETs of
 * the VM (or scale-set instance), each disk and each distinct DES. */
#pragma once

#include "imds/imds.h"

struct sysroot;

enum arm_mode {
	ARM_MODE_AUTO = 0, /* on when a token can be had, silent otherwise */
	ARM_MODE_ON,
	ARM_MODE_OFF,
};

const char *arm_mode_to_string(enum arm_mode m);
int arm_mode_from_string(const char *s, enum arm_mode *ret);

/* One managed disk as ARM describes it. */
struct arm_disk {
	char *id;              /* managed disk resource id */
	char *encryption_type; /* EncryptionAtRest... */
	char *des_id;          /* diskEncryptionSetId, NULL if none */
	char *des_key_url;
	enum tristate des_rotation_enabled;
	char *des_last_rotation;
	char *des_rotation_error;
	char *error; /* why this disk could not be read */
	enum source_status status;
	char *des_encryption_type; /* the DES's own encryptionType */
	char *pv_name;             /* tag ARM_TAG_PV_NAME, NULL when absent */
	/* An ephemeral OS disk is no ARM resource: never GET; des_id is the
	 * VM/VMSS instance's osDisk.managedDisk.diskEncryptionSet.id. */
	bool ephemeral;
	/* The disk's properties.securityProfile.securityType (TrustedLaunch,
	 * ConfidentialVM_...; else the instance's osDisk.managedDisk.
	 * securityProfile.securityEncryptionType) and the confidential DES it
	 * names (secureVMDiskEncryptionSetId, else the instance's
	 * securityProfile.diskEncryptionSet.id). */
	char *cvm_security_type;
	char *cvm_des_id;
};

/* The tag the Azure Disk CSI driver puts on each disk it provisions. */
#define ARM_TAG_PV_NAME "kubernetes.io-created-for-pv-name"

struct arm_result {
	enum source_status status; /* OFF until the client exists or when disabled */
	char *error;
	char *identity;                   /* which identity was used (never a token) */
	enum tristate encryption_at_host; /* ARM securityProfile.encryptionAtHost */
	struct arm_disk os_disk;
	struct arm_disk *data_disks; /* indexed like imds data_disks */
	size_t n_data_disks;
};

void arm_result_done(struct arm_result *r);

/* Added by the ARM client: where the answer came from. */
struct arm_result_meta {
	unsigned requests;  /* HTTP requests this lookup made (0 = cached) */
	double elapsed;     /* seconds spent */
	bool cached;        /* answered from the cache */
	double next_lookup; /* seconds until ARM is asked again (daemon) */
	double age;         /* seconds since ARM gave this answer (> 0 from the cache) */
};

/* The inputs of one ARM step. */
struct arm_options {
	enum arm_mode mode;
	const char *arm_url;   /* NULL = https://management.azure.com */
	const char *imds_url;  /* token endpoint base; NULL = IMDS default */
	const char *client_id; /* at most one of these three */
	const char *object_id;
	const char *msi_res_id;
	const struct sysroot *sr; /* for /etc/kubernetes/azure.json; may be NULL */
	double timeout;           /* whole step; 0 = default (20 s) */
	/* Daemon cache (arm_fetch_cached); 0 = default (6 h; a start jitter
	 * scaled to the node's lookup cost). start_jitter < 0 = default. */
	double cache_ttl;
	double start_jitter;
};

/* Asks ARM about the disks IMDS listed (inst may be NULL when IMDS failed).
 * Never fails: problems end up in res->status / res->error and per disk.
 * meta may be NULL. */
void arm_fetch(const struct arm_options *o, const struct imds_instance *inst,
	       struct arm_result *res, struct arm_result_meta *meta);

/* A cache shared across evaluations (daemon): holds the token (never
 * dumped, wiped on free) and the last answer, re-asking ARM only when it
 * expires (hours, with jitter) or the disks change, honouring Retry-After
 * and backing off after failures. With delay_first, the first lookup is
 * delayed by a random jitter so a fleet restart does not stampede ARM.
 * Thread-safe. */
struct arm_cache;
struct arm_cache *arm_cache_new(bool delay_first);
void arm_cache_free(struct arm_cache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct arm_cache *, arm_cache_free)
void arm_fetch_cached(struct arm_cache *c, const struct arm_options *o,
		      const struct imds_instance *inst, struct arm_result *res,
		      struct arm_result_meta *meta);
/* The whole cache state (schedule, RNG, the token and the last answer) as
 * a JSON object, so that a daemon evaluating in short-lived child
 * processes keeps it in its parent: the ARM request schedule is the same
 * as with one long-lived process. The object holds the token: the caller
 * wipes its text (arm_cache_state_wipe) and never writes it anywhere a
 * less privileged process can read. import replaces c's state. */
struct json_object *arm_cache_export(struct arm_cache *c);
int arm_cache_import(struct arm_cache *c, struct json_object *o);
void arm_cache_state_wipe(struct json_object *o);
