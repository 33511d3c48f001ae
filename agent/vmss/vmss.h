/* SPDX-License-Identifier: Apache-2.0 */
/* The VMSS extension handler (WALinuxAgent handler protocol, DOMAIN.md §6):
 * pure pieces (settings -> atrest.conf, status document) and the shell. */
#pragma once

#include <json-c/json.h>

#include "agent/report/report.h"

/* waagent's limits: a status file over 128 KiB is truncated, and each
 * substatus field over 10 KiB is cut; the summary stays under both. */
#define VMSS_STATUS_MAX_BYTES (128 * 1024)
#define VMSS_SUMMARY_MAX_BYTES (8 * 1024)

/* HandlerEnvironment.json, the folders the agent made for the handler. */
struct vmss_env {
	char *log_folder;
	char *config_folder;
	char *status_folder;
	char *heartbeat_file; /* may be NULL */
};

void vmss_env_done(struct vmss_env *e);
/* Parses the document; -EAGAIN when it is incomplete (being written),
 * -EINVAL when it is complete but wrong. */
int vmss_env_parse(const char *text, size_t len, struct vmss_env *ret);

/* The handler settings of config/<seq>.settings. */
struct vmss_settings {
	json_object *public_settings; /* owned, NULL when absent */
	char *protected_settings;     /* base64 CMS, NULL when absent */
	char *thumbprint;             /* protectedSettingsCertThumbprint */
};

void vmss_settings_done(struct vmss_settings *s);
/* An empty document means no settings (waagent writes an empty 0.settings). */
int vmss_settings_parse(const char *text, size_t len, struct vmss_settings *ret, char **ret_error);

/* Public settings -> the body of atrest.conf in the CONTRACT INI format.
 * Only the shape is checked here; config_load_file() checks the values. */
int vmss_settings_to_ini(json_object *pub, char **ret_ini, char **ret_error);

/* Decrypts protected settings (base64 DER CMS enveloped data) with
 * CERTDIR/<THUMBPRINT>.crt and .prv. The plaintext is the caller's to wipe. */
int vmss_decrypt_protected(const char *b64, const char *thumbprint, const char *certdir,
			   char **ret_plain, size_t *ret_len, char **ret_error);

/* One status document. */
enum vmss_state {
	VMSS_TRANSITIONING,
	VMSS_WARNING,
	VMSS_ERROR,
	VMSS_SUCCESS,
};

struct vmss_status {
	const char *operation; /* "Enable", "Disable", ... */
	enum vmss_state state;
	int code;
	const char *message;
	const struct report *report; /* compliance substatus when set */
	const char *config_note;     /* "configuration" substatus when set */
	time_t now;
};

const char *vmss_state_to_string(enum vmss_state s);
/* The compliance summary (verdict, counts, failing/unknown checks) as
 * compact JSON text of at most max_bytes. */
char *vmss_compliance_summary(const struct report *r, size_t max_bytes);
/* The whole status file (a JSON array), under VMSS_STATUS_MAX_BYTES. */
char *vmss_status_render(const struct vmss_status *s);

/* The handler command ACTION (install, enable, disable, uninstall, update)
 * as waagent runs it; enable evaluates the node under SYSROOT (NULL: /).
 * Returns the process exit code, or -EINVAL for an unknown action. */
int vmss_handler_run(const char *action, const char *sysroot);
