/* SPDX-License-Identifier: Apache-2.0 */
/* What kubelet keeps on the node about its pods and their volumes, read
 * from its directories (no API server): the pods' volume directories, the
 * CSI staging and publish mounts with their vol_data.json, and the pods'
 * names from /var/log/pods. Knows nothing of disks, mounts or policy. */
#pragma once

#include "lib/sysroot.h"

enum kube_volume_kind {
	KVOL_CSI = 0,   /* kubernetes.io~csi: data in <dir>/mount */
	KVOL_CSI_BLOCK, /* a raw block CSI volume (volumeDevices/) */
	KVOL_EMPTY_DIR, /* kubernetes.io~empty-dir */
	KVOL_PROJECTED,
	KVOL_CONFIGMAP,
	KVOL_SECRET,
	KVOL_DOWNWARD_API,
	KVOL_OTHER, /* another plugin: its directory name is kept */
	_KVOL_MAX,
};

/* The JSON names ("csi", "empty_dir", ...). */
const char *kube_volume_kind_to_string(enum kube_volume_kind k);

/* vol_data.json, as kubelet's CSI plugin writes it beside a publish or a
 * staging mount: a flat object of strings. */
struct kubelet_vol_data {
	bool present;
	char *driver;        /* driverName */
	char *volume_handle; /* volumeHandle: the ARM disk id for disk.csi.azure.com */
	char *spec_vol_id;   /* specVolID: the PV name, or the inline volume's name */
	char *lifecycle;     /* volumeLifecycleMode: Persistent | Ephemeral */
	char *error;         /* present but unreadable: why */
};

void kubelet_vol_data_done(struct kubelet_vol_data *v);
/* Pure parser of a vol_data.json body. Keys other than the four above are
 * ignored; a non-string value of one of them, another JSON type at the
 * top, or a body over 64 KiB is -EBADMSG with *ret_error set. */
int kubelet_parse_vol_data(const char *body, size_t len, struct kubelet_vol_data *ret,
			   char **ret_error);

struct kubelet_volume {
	enum kube_volume_kind kind;
	char *plugin; /* the plugin directory, "kubernetes.io~csi" */
	char *name;   /* the volume's directory: the PV name, or the pod's volume name */
	char *path;   /* logical path of the data: <dir>/mount for CSI, else <dir> */
	struct kubelet_vol_data vd;
};

struct kubelet_pod {
	char *uid;
	char *namespace; /* from the pod's log directory; NULL when not found */
	char *name;
	char *name_error; /* why namespace/name are NULL */
	struct kubelet_volume *volumes;
	size_t n_volumes;
};

/* A CSI staging (NodeStage) mount: plugins/kubernetes.io/csi/<driver>/
 * <sha256(volumeHandle)>/globalmount in current kubelets, or the older
 * plugins/kubernetes.io/csi/pv/<pv>/globalmount. */
struct kubelet_staging {
	char *driver; /* the driver directory; "pv" in the old layout */
	char *key;    /* the hash (or the PV name in the old layout) */
	char *path;   /* logical path of globalmount */
	struct kubelet_vol_data vd;
};

struct kubelet_scan_options {
	const char *kubelet_dir;  /* logical; NULL = /var/lib/kubelet */
	const char *pod_logs_dir; /* logical; NULL = /var/log/pods */
	size_t max_pods;          /* 0 = KUBELET_MAX_PODS */
	size_t max_volumes;       /* per pod; 0 = KUBELET_MAX_VOLUMES */
};

#define KUBELET_MAX_PODS 4096
#define KUBELET_MAX_VOLUMES 512
#define KUBELET_MAX_NOTES 32

struct kubelet_state {
	bool present;             /* the kubelet directory has its pods/ directory */
	char *root;               /* logical kubelet directory, as configured */
	char *logs_error;         /* the pod log directory could not be read: why */
	struct kubelet_pod *pods; /* sorted by uid */
	size_t n_pods;
	struct kubelet_staging *staging;
	size_t n_staging;
	/* Entries left out (odd names, over the caps, unreadable): the count
	 * and the first KUBELET_MAX_NOTES reasons, one line each. */
	size_t skipped;
	char **notes;
};

void kubelet_state_done(struct kubelet_state *s);

/* Reads the kubelet and pod log directories under sr. A missing kubelet
 * directory is not an error (present stays false). Returns a negative
 * errno only when the kubelet directory exists but cannot be listed
 * (*ret_error then says why); per-entry problems become notes. */
int kubelet_scan(const struct sysroot *sr, const struct kubelet_scan_options *o,
		 struct kubelet_state *ret, char **ret_error);

/* Pure: splits a /var/log/pods entry "<namespace>_<pod>_<uid>". Each part
 * must be what Kubernetes allows (a DNS label, a DNS subdomain, a UID of
 * hex digits and dashes), so the split is never ambiguous. -EINVAL else. */
int kubelet_parse_pod_log_name(const char *entry, char **ret_namespace, char **ret_name,
			       char **ret_uid);
/* Pure: whether s is a pod UID as kubelet names its pods/ directories
 * (a UUID, or the 32 hex digits of a static pod). */
bool kubelet_uid_valid(const char *s);
