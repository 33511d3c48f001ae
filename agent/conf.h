/* SPDX-License-Identifier: Apache-2.0 */
/* Settings from the configuration file and the command line. The file is
 * INI (libinih); unknown sections and keys are errors so a typo cannot
 * silently weaken a policy. */
#pragma once

#include "agent/policy.h"
#include "imds/arm/arm.h"

#define ATREST_DEFAULT_CONFIG "/etc/atrest/atrest.conf"
#define ATREST_DEFAULT_IMDS_URL "http://169.254.169.254"
#define ATREST_DEFAULT_ARM_URL "https://management.azure.com"
#define ATREST_DEFAULT_IMDS_TIMEOUT 10.0
#define ATREST_DEFAULT_INTERVAL 60
/* Outside the exporter range 9100-9999, unassigned in Prometheus' list. */
#define ATREST_DEFAULT_PORT 8937
#define ATREST_DEFAULT_LISTEN "127.0.0.1:8937"
/* Kubernetes: kubelet's --root-dir, the pod logs, the container runtime's
 * state (containerd on AKS), and the cap on atrest_pod_volume_info series
 * (AKS allows 250 pods a node; most have a few disk-backed volumes). */
#define ATREST_DEFAULT_KUBELET_DIR "/var/lib/kubelet"
#define ATREST_DEFAULT_POD_LOGS_DIR "/var/log/pods"
#define ATREST_DEFAULT_RUNTIME_DIRS "/var/lib/containerd"
#define ATREST_DEFAULT_MAX_VOLUME_SERIES 1000
#define ATREST_MAX_VOLUME_SERIES_LIMIT 100000
/* The daemon's evaluator and server (agent/daemon/): an evaluation child
 * is killed after the deadline; the snapshot file lives in the runtime
 * directory ($RUNTIME_DIRECTORY when systemd sets it); the server drops to
 * this user. */
#define ATREST_DEFAULT_EVALUATION_DEADLINE 120.0
#define ATREST_DEFAULT_RUNTIME_DIR "/run/atrest"
#define ATREST_DEFAULT_SERVER_USER "nobody"

struct config {
	char *imds_url;
	double imds_timeout;

	enum arm_mode arm_mode;
	char *arm_url;
	char *client_id;
	char *object_id;
	char *msi_res_id;
	double arm_timeout;      /* 0 = default */
	double arm_cache;        /* 0 = default */
	double arm_start_jitter; /* < 0 = default */

	struct policy policy;

	char **listen;
	unsigned interval;

	char *kubelet_dir;
	char *pod_logs_dir;
	char **runtime_dirs;
	unsigned max_volume_series;
	double evaluation_deadline;  /* seconds; 0 = default */
	double max_evidence_age;     /* seconds; 0 = 3 intervals + the deadline */
	char *runtime_dir;           /* NULL = $RUNTIME_DIRECTORY or the default */
	char *server_user;           /* NULL = the default */
	unsigned snapshot_max_bytes; /* 0 = default (16 MiB) */
	/* The server's connection budget (0 = defaults, agent/daemon/http.h). */
	unsigned connection_limit;
	unsigned per_ip_connection_limit;
	unsigned connection_timeout; /* seconds */

	/* The file's text as the command line loaded it (NULL: no file), so
	 * that the daemon's evaluation jobs apply exactly what it loaded. */
	char *text;
	size_t text_len;
	char *text_name;
};

int config_init_default(struct config *c) _warn_unused_result_;
void config_done(struct config *c);

/* Applies a file over c. On a problem returns -EINVAL (or -errno when the
 * file cannot be read) and sets *ret_error to "FILE:LINE: problem". */
int config_load_file(struct config *c, const char *path, char **ret_error);
/* As config_load_file over len bytes of text (not NUL-terminated; no I/O);
 * name stands for the file in errors. For tests and fuzzing. */
int config_load_string(struct config *c, const char *text, size_t len, const char *name,
		       char **ret_error);
/* Parses a listen address "HOST:PORT" / "[V6]:PORT"; used by config and CLI. */
int config_check_listen(const char *addr, char **ret_error);
