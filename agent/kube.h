/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes workloads tied to the disks that hold their data: each pod
 * volume (kubelet's directories, probes/kubelet.h) resolved through the
 * mount table and the block graph (agent/stack.h) to the Azure disk
 * subjects the checks judge ("os", "lun:N", "resource", "local:N"), and
 * cross-checked against what IMDS and ARM name each data disk. Pure: no
 * I/O; agent/gather.c fills the inputs. */
#pragma once

#include "probes/kubelet.h"
#include "probes/probes.h"

struct facts;

enum kube_backing {
	KUBE_ON_DISK = 0, /* on one or more disks of the block graph */
	KUBE_IN_MEMORY,   /* tmpfs and the like: nothing at rest */
	KUBE_UNKNOWN,     /* cannot be placed (reason says why) */
};

const char *kube_backing_to_string(enum kube_backing b);

/* Where the data under a path lives. */
struct kube_place {
	enum kube_backing backing;
	char *mountpoint; /* the mount the path resolved to */
	char *device;     /* that mount's device, "/dev/sdc" or "/dev/mapper/x" */
	char **subjects;  /* the disk subjects of every disk below it */
	char **dm_crypt;  /* dm-crypt mappings met on the way down */
	char *reason;     /* why the place (or a subject) is not known */
};

struct kube_volume_fact {
	const struct kubelet_volume *v; /* owned by kube_facts.kubelet */
	char *pv;                       /* the PV name, when the volume is one */
	struct kube_place place;
	char **confirmed_by; /* independent sources that agree on the disk */
	bool metric;         /* within the series cap (one series per subject) */
};

struct kube_pod_fact {
	const struct kubelet_pod *p;
	struct kube_volume_fact *volumes;
	size_t n_volumes;
};

/* A directory of the node itself: kubelet's, the container runtime's, the
 * pod logs. */
struct kube_dir_fact {
	char *role; /* "kubelet", "runtime", "pod_logs" */
	char *path;
	bool exists;
	struct kube_place place;
};

struct kube_staging_fact {
	const struct kubelet_staging *s;
	struct kube_place place;
};

/* A whole disk of the graph that backs a PV or holds pod data. */
struct kube_disk_fact {
	int dev;           /* graph index */
	char *pv;          /* the PV every source agrees on, else NULL */
	char **pv_sources; /* "imds_name", "arm_tag", "kubelet_mount" */
	char *pv_conflict; /* sources disagree: which, one line */
	char **pods;       /* "namespace/name" (or the uid) of each pod with data on it */
};

struct kube_facts {
	bool enabled;    /* the section is reported (kubelet found or NODE_NAME set) */
	int status;      /* 0, or a negative errno when kubelet's directory is unreadable */
	char *error;     /* one line when status < 0 */
	char *node_name; /* NODE_NAME */
	struct kubelet_state kubelet;

	struct kube_pod_fact *pods; /* sorted by namespace, name, uid */
	size_t n_pods;
	struct kube_dir_fact *dirs;
	size_t n_dirs;
	struct kube_staging_fact *staging;
	size_t n_staging;
	struct kube_disk_fact *disks;
	size_t n_disks;

	size_t max_series;     /* cap on atrest_pod_volume_info series */
	size_t series;         /* series within the cap */
	size_t series_dropped; /* series the cap left out */
};

void kube_facts_done(struct kube_facts *k);

/* Inputs besides the facts: the node directories to place (path, role),
 * already resolved inside the sysroot, and the series cap. */
struct kube_map_options {
	const char *const *dir_paths;
	const char *const *dir_roles;
	const bool *dir_exists;
	size_t n_dirs;
	size_t max_series;
};

/* Ties f->kube.kubelet to f's mounts, block graph, IMDS and ARM answers,
 * filling the rest of f->kube. Never fails as a whole: what cannot be
 * placed is KUBE_UNKNOWN with a reason. Returns 0 or -ENOMEM. */
int kube_map(struct facts *f, const struct kube_map_options *o);

/* The subject the checks use for a whole disk ("os", "lun:3", "resource",
 * "local:1"), into buf; false when the disk has no Azure role. */
bool kube_disk_subject(const struct blockdev *d, char *buf, size_t n);

/* The kube_disk_fact of graph index dev, or NULL. */
const struct kube_disk_fact *kube_disk_of(const struct kube_facts *k, int dev);

/* Whether an IMDS data disk name is one the CSI driver gives a dynamically
 * provisioned disk: "pvc-" and a UUID (then it equals the PV name). */
bool kube_pv_name_like(const char *s);
