/* SPDX-License-Identifier: Apache-2.0 */
/* The Instance Metadata Service: what IMDS says about this VM, parsed into
 * plain values. The parser is a pure function over a string; the client is
 * a thin libcurl shell with deadlines, retries and api-version fallback.
 * Knows nothing of policy or output. */
#pragma once

#include <stdint.h>

#include "lib/macro.h"
#include "lib/source.h"
#include "lib/strutil.h"

struct imds_disk {
	int lun; /* -1 when absent or not a number */
	char *name;
	char *managed_disk_id; /* NULL when absent or "" */
	char *storage_account_type;
	char *caching;
	char *create_option;
	uint64_t size_gb; /* 0 when absent */
	enum tristate write_accelerator;
};

struct imds_os_disk {
	char *name;
	char *managed_disk_id;
	char *storage_account_type;
	char *caching;
	char *create_option;
	char *diff_disk_option; /* "Local" = ephemeral OS disk */
	uint64_t size_gb;
	enum tristate ade_enabled; /* encryptionSettings.enabled */
};

struct imds_tag {
	char *name;
	char *value;
};

struct imds_instance {
	char *name;
	char *vm_id;
	char *resource_id;
	char *subscription_id;
	char *resource_group;
	char *location;
	char *vm_size;
	char *vmss_name; /* NULL when not in a scale set */
	char *vmss_id;   /* virtualMachineScaleSet.id */
	char *os_type;
	char *az_environment;
	char *zone;

	struct imds_tag *tags; /* from tagsList, else parsed from "tags" */
	size_t n_tags;

	/* securityProfile */
	bool has_security_profile;
	enum tristate encryption_at_host;
	char *encryption_at_host_raw; /* the value as sent, for evidence; NULL if absent */
	enum tristate secure_boot;
	enum tristate vtpm;
	char *security_type;

	/* storageProfile */
	bool has_storage_profile;
	bool has_os_disk;
	struct imds_os_disk os_disk;
	struct imds_disk *data_disks;
	size_t n_data_disks;
	bool has_resource_disk;
	uint64_t resource_disk_mb; /* resourceDisk.size */
};

void imds_instance_done(struct imds_instance *inst);

/* Parses a /metadata/instance document (or a bare compute object, as
 * /metadata/instance/compute returns). Unknown keys are ignored; values may
 * be JSON strings or booleans/numbers. On failure returns -EBADMSG (not
 * JSON, wrong top-level type) and sets *ret_error to a one-line reason. */
int imds_parse_instance(const char *body, size_t len, struct imds_instance *ret, char **ret_error);

/* Parses {"apiVersions": [...]} into a NULL-terminated vector. */
int imds_parse_versions(const char *body, size_t len, char ***ret, char **ret_error);

/* Describes an error body (JSON {"error": ...}, IIS XML, or empty) in one
 * short printable line, never echoing more than a bounded prefix. */
char *imds_describe_error_body(const char *body, size_t len);

const char *imds_instance_tag(const struct imds_instance *inst, const char *name);

/* compute.vmSize: tier, family token and size version (DOMAIN.md §1a: the
 * _vN suffix, 1 without one; trailing words such as _Promo or an
 * accelerator name do not change it). */
#define VM_SIZE_MAX 64
struct vm_size {
	char family[VM_SIZE_MAX + 1]; /* "D4ds", "NC24ads" */
	unsigned version;             /* >= 1 */
};
/* 0, or -EINVAL (not shaped like an Azure size name: no evidence may be
 * drawn from it) or -E2BIG (longer than VM_SIZE_MAX). Pure. */
int vm_size_parse(const char *s, struct vm_size *ret);
/* The size version from which Azure encrypts the temp disk itself. */
#define VM_SIZE_PLATFORM_TEMP_VERSION 5

/* The oldest api-version that reports securityProfile.encryptionAtHost. */
#define IMDS_API_VERSION_EAH "2021-11-01"
/* The version asked for first. */
#define IMDS_API_VERSION_PREFERRED "2023-07-01"
/* The oldest version atrest asks for on purpose (spec: >= 2021-12-13). */
#define IMDS_API_VERSION_MIN_PREFERRED "2021-12-13"

struct imds_options {
	const char *base_url;    /* "http://169.254.169.254" */
	double timeout;          /* seconds for the whole IMDS step */
	double connect_timeout;  /* per attempt; 0 = default */
	size_t max_body;         /* response cap; 0 = default (1 MiB) */
	const char *api_version; /* NULL = IMDS_API_VERSION_PREFERRED */
	bool single_attempt;     /* no retries (not an Azure machine) */
};

struct imds_result {
	enum source_status status;
	char *error;       /* one line, when status != OK */
	char *api_version; /* the version that answered */
	long http_status;  /* last HTTP status, 0 if none */
	unsigned attempts;
	double elapsed; /* seconds spent */
	double age;     /* seconds since IMDS gave this answer (> 0 from the cache) */
	bool have_instance;
	struct imds_instance instance;
};

void imds_result_done(struct imds_result *res);

/* Fetches and parses /metadata/instance within opts->timeout. Never fails:
 * every problem ends up in res->status and res->error. */
void imds_fetch(const struct imds_options *opts, struct imds_result *res);

/* A cache of the last good IMDS answer shared across evaluations (daemon):
 * the raw body is kept and re-parsed, which is cheap and pure. Thread-safe.
 * Also enforces the IMDS request rate limit (5 requests/s per VM). */
struct imds_cache;
struct imds_cache *imds_cache_new(double max_age_seconds);
void imds_cache_free(struct imds_cache *c);
/* As imds_fetch, answering from the cache while it is fresh. */
void imds_fetch_cached(struct imds_cache *c, const struct imds_options *opts, struct imds_result *res);
/* The cached answer as a JSON object (body, api_version, fetched_at on
 * CLOCK_MONOTONIC), so that a daemon evaluating in short-lived child
 * processes keeps it in the parent; NULL when nothing is cached. import
 * replaces the cache's answer (a body that no longer parses is dropped). */
struct json_object *imds_cache_export(struct imds_cache *c);
void imds_cache_import(struct imds_cache *c, struct json_object *o);
