/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes in the reports: the JSON report's "kubernetes" section, each
 * disk's PV and pods, and the table of `atrest devices`. */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "agent/evaluate.h"

/* The "kubernetes" section; NULL (JSON null) when this is no Kubernetes node. */
json_object *kube_json(const struct facts *f);
/* Adds "pv" (and, when the disk backs one or holds pod data, "pv_sources",
 * "pv_conflict", "pods") to a disk's object. */
void kube_disk_json_add(json_object *o, const struct facts *f, int dev);
/* The one disk subject a place is on, or NULL. */
const char *kube_place_subject(const struct kube_place *p);
/* Each disk's PV and pods, the node directories, and the volumes that
 * cannot be placed, for people. Prints nothing on a node without kubelet. */
void kube_print_text(FILE *out, const struct facts *f, bool verbose);
/* For `atrest check`: the pod volumes whose disk subject fails a critical
 * or warning check (the PromQL join of the README, on one node), and how
 * many volumes could not be placed. */
void kube_print_failing(FILE *out, const struct report *r);
