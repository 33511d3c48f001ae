/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the ARM client shared with its tests and the fleet
 * simulation: pure parsers over strings, and the pure lookup schedule
 * (cache lifetime, jitter, backoff, Retry-After) over a caller's clock. */
#pragma once

#include <stdint.h>

#include "imds/arm/arm.h"

#define ARM_API_VERSION_VM "2024-11-01"
#define ARM_API_VERSION_DISK "2023-04-02"
#define ARM_API_VERSION_TOKEN "2018-02-01"
#define ARM_DEFAULT_URL "https://management.azure.com"
#define ARM_DEFAULT_TIMEOUT 20.0
/* Longest token atrest accepts: AAD tokens with many claims run to ~8 KiB. */
#define ARM_TOKEN_MAX 16384
/* A cached token is refreshed this long before it expires. */
#define ARM_TOKEN_MARGIN 300

/* ---- parsers (hostile input; no I/O, no logging) ---- */

/* The token endpoint's answer. Copies access_token into tok (size bytes,
 * NUL-terminated) only if it is a plausible bearer token (no characters
 * that could split a header); *ret_expires_on is unix seconds, from
 * expires_on or now + expires_in, 0 when neither is usable (use once,
 * never cache). The token is never put into *ret_error. */
int arm_parse_token(const char *body, size_t len, int64_t now, char *tok, size_t size,
		    int64_t *ret_expires_on, char **ret_error);

/* ARM {"error": {"code", "message"}} or the token endpoint's
 * {"error", "error_description"}: one short printable line, or NULL. */
char *arm_describe_error(const char *body, size_t len);

struct arm_vm_disk {
	int lun;      /* -1 for the OS disk or when absent */
	char *id;     /* managedDisk.id */
	char *des_id; /* managedDisk.diskEncryptionSet.id */
	/* managedDisk.securityProfile (confidential VMs) */
	char *security_encryption_type; /* securityEncryptionType */
	char *security_des_id;          /* diskEncryptionSet.id */
	char *diff_disk_option;         /* diffDiskSettings.option ("Local": ephemeral) */
};

struct arm_vm {
	enum tristate encryption_at_host;
	bool has_os_disk;
	struct arm_vm_disk os_disk;
	struct arm_vm_disk *data_disks;
	size_t n_data_disks;
};

void arm_vm_done(struct arm_vm *vm);
/* A VM or scale-set VM instance (properties.storageProfile,
 * properties.securityProfile.encryptionAtHost). */
int arm_parse_vm(const char *body, size_t len, struct arm_vm *ret, char **ret_error);

/* A managed disk: properties.encryption.{type, diskEncryptionSetId} and,
 * when ret_pv is not NULL, the tag naming the Kubernetes PV it was created
 * for (NULL when absent). A document without an encryption type is an
 * error (nothing to judge). */
int arm_parse_disk(const char *body, size_t len, char **ret_type, char **ret_des_id, char **ret_pv,
		   char **ret_error);
/* A managed disk's confidential-VM fields: properties.securityProfile.
 * {securityType, secureVMDiskEncryptionSetId}; each NULL when absent. */
int arm_parse_disk_security(const char *body, size_t len, char **ret_security_type,
			    char **ret_des_id, char **ret_error);

struct arm_des {
	char *encryption_type;
	char *key_url; /* activeKey.keyUrl */
	enum tristate rotation_enabled;
	char *last_rotation;  /* lastKeyRotationTimestamp */
	char *rotation_error; /* autoKeyRotationError, "code: message" */
};

void arm_des_done(struct arm_des *d);
int arm_parse_des(const char *body, size_t len, struct arm_des *ret, char **ret_error);

/* /etc/kubernetes/azure.json: reads only useManagedIdentityExtension and
 * userAssignedIdentityID (the file holds secrets; nothing else is kept,
 * and errors never quote it). *ret is NULL when no user-assigned identity
 * is configured. */
int arm_parse_azure_json(const char *body, size_t len, char **ret);

/* Retry-After: delta-seconds or an HTTP date; *ret is seconds from now
 * (>= 0). -EINVAL when unreadable. */
int arm_parse_retry_after(const char *value, int64_t now, double *ret);

/* The URL path for a resource id: must start with /subscriptions/, no dot
 * segments, no control characters; reserved bytes percent-encoded. NULL
 * when the id is not acceptable. */
char *arm_resource_path(const char *id);
/* The token resource for an ARM URL: its origin with a trailing slash,
 * percent-encoded for a query string. NULL when the URL has no origin. */
char *arm_token_resource(const char *arm_url);
/* Percent-encodes everything but unreserved characters. */
char *arm_query_escape(const char *s);

/* ---- the schedule (pure: the caller passes the clock and the RNG) ---- */

struct arm_sched_params {
	double ttl;                      /* an answer is reused this long ... */
	double ttl_jitter;               /* ... minus up to this fraction of it */
	double start_jitter;             /* first lookup within [0, this) of start; */
	double start_jitter_per_request; /* when < 0: this times the lookup's requests */
	double fail_min;                 /* after a failure, wait this ... */
	double fail_max;                 /* ... doubling up to this (with jitter) */
	double inline_retry_max;         /* in-step waits longer than this abort */
};

extern const struct arm_sched_params arm_sched_default;

struct arm_sched {
	double next_at;    /* earliest time to ask ARM again */
	double not_before; /* from Retry-After: never sooner */
	unsigned failures; /* consecutive */
};

/* splitmix64 over *state: uniform in [0, 1). */
double arm_rng_uniform(uint64_t *state);

/* requests: how many ARM requests one lookup of this node makes. */
void arm_sched_start(struct arm_sched *s, const struct arm_sched_params *p, double now,
		     bool delay_first, unsigned requests, uint64_t *rng);
bool arm_sched_due(const struct arm_sched *s, double now);
void arm_sched_success(struct arm_sched *s, const struct arm_sched_params *p, double now,
		       uint64_t *rng);
/* retry_after < 0 when the failure carried none. */
void arm_sched_failure(struct arm_sched *s, const struct arm_sched_params *p, double now,
		       double retry_after, uint64_t *rng);

/* Inside one step: seconds to wait before trying a request again after
 * HTTP status (0 = no answer), or -1 to give up. attempt counts the tries
 * made so far (1 after the first); left is the step's remaining budget. A
 * 429 is retried only if its Retry-After is short and fits. */
double arm_retry_delay(const struct arm_sched_params *p, long status, double retry_after,
		       unsigned attempt, double left);
/* The token endpoint's retry policy (DOMAIN.md 3): 404, 410, 429, 5xx and
 * no answer are retried after 2, 4, 8, 16 s (0, 2, 6, 14, 30 s from the
 * start); other statuses are final. */
double arm_token_retry_delay(long status, unsigned attempt, double left);

bool arm_token_fresh(int64_t expires_on, int64_t now);
