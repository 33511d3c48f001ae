/* SPDX-License-Identifier: Apache-2.0 */
/* Everything a check may look at, gathered once per evaluation. Checks are
 * pure functions of this structure; only agent/gather.c fills it. */
#pragma once

#include <time.h>

#include "agent/kube.h"
#include "imds/arm/arm.h"
#include "imds/imds.h"
#include "probes/bench.h"
#include "probes/probes.h"

struct path_fact {
	char *path;     /* as the policy names it */
	int error;      /* 0, or a negative errno from resolving it */
	char *resolved; /* logical path with symlinks resolved */
};

struct local_source {
	enum source_status status;
	char *error;
};

struct facts {
	char *hostname;
	enum tristate on_azure; /* from DMI; unknown when unreadable */
	char *on_azure_evidence;
	bool under_sysroot;

	struct imds_result imds;
	struct arm_result arm;
	double arm_age; /* seconds since ARM gave f->arm (> 0 from the daemon's cache) */

	struct local_source block;
	struct block_graph graph;
	struct local_source mounts_src;
	struct mount_table mounts;
	struct local_source swaps_src;
	struct swap_table swaps;

	struct path_fact *paths;
	size_t n_paths;

	struct bench_result bench; /* status OFF when skipped */

	struct kube_facts kube; /* enabled false when this is no Kubernetes node */

	time_t gathered_at;
	double gather_seconds;
};

void facts_done(struct facts *f);
