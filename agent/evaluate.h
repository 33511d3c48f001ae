/* One evaluation of the node: gather facts, run the checks, compute the
 * verdict. Shared by `check`, the daemon and the VMSS extension. */
#pragma once

#include "agent/conf.h"
#include "agent/report.h"
#include "lib/sysroot.h"

struct gather_options {
	const struct config *conf;
	const struct sysroot *sr;
	bool no_bench;                /* benchmark skipped (status OFF) */
	bool local_only;              /* block devices, mounts, swaps: no IMDS/ARM/bench */
	bool imds_only;               /* node identity, IMDS and ARM only */
	/* When set, this benchmark result is copied into the facts instead of
	 * running the benchmark (the daemon runs it on its own slow timer). */
	const struct bench_result *bench;
	/* Optional IMDS cache shared across evaluations (daemon). */
	struct imds_cache *imds_cache;
	/* Optional ARM cache (daemon): token and answers kept for hours. */
	struct arm_cache *arm_cache;
};

/* Fills f from every source; never fails as a whole (each source records
 * its own status). Returns -ENOMEM only. */
int gather_facts(const struct gather_options *opts, struct facts *f);

struct evaluation {
	struct facts facts;
	struct policy policy;         /* a copy: a reload may free the config's */
	struct report report;         /* report.facts and .policy point here */
};

int evaluate(const struct gather_options *opts, struct evaluation **ret);
void evaluation_free(struct evaluation *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct evaluation *, evaluation_free)
