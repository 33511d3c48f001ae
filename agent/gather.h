/* SPDX-License-Identifier: Apache-2.0 */
/* Gathering: the one place where agent/ asks imds/ and probes/ for facts.
 * Each source is a descriptor in a static table (agent/gather.c). */
#pragma once

#include "agent/conf.h"
#include "agent/facts.h"
#include "lib/sysroot.h"

/* Which groups of sources an evaluation asks (the node's identity, from
 * DMI and the hostname, is always read). */
enum gather_set {
	GATHER_CLOUD = 1u << 0,   /* IMDS, then ARM */
	GATHER_STORAGE = 1u << 1, /* block graph, mounts, swaps, required paths */
	GATHER_BENCH = 1u << 2,   /* the AES-XTS benchmark */
	GATHER_KUBE = 1u << 3,    /* kubelet's pods and volumes, tied to disks (after STORAGE) */
	GATHER_ALL = GATHER_CLOUD | GATHER_STORAGE | GATHER_BENCH | GATHER_KUBE,
};

struct gather_options {
	const struct config *conf;
	const struct sysroot *sr;
	unsigned sets; /* enum gather_set; 0 means GATHER_ALL */
	bool no_bench; /* --no-bench: benchmark OFF, with that reason */
	/* When set, this benchmark result is copied into the facts instead of
	 * running the benchmark (the daemon runs it on its own slow timer). */
	const struct bench_result *bench;
	/* Optional IMDS cache shared across evaluations (daemon). */
	struct imds_cache *imds_cache;
	/* Optional ARM cache (daemon): token and answers kept for hours. */
	struct arm_cache *arm_cache;
};

/* Fills f from every source the options ask for; a source not asked for is
 * OFF. Never fails as a whole (each source records its own status and
 * error). Returns 0. */
int gather_facts(const struct gather_options *opts, struct facts *f);
