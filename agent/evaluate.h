/* SPDX-License-Identifier: Apache-2.0 */
/* One evaluation of the node: gather facts, run the checks, compute the
 * verdict. Shared by `check`, the daemon and the VMSS extension. */
#pragma once

#include "agent/checks/checks.h"
#include "agent/gather.h"

/* A finished evaluation, as every reporter (agent/report/) receives it. */
struct report {
	const struct facts *facts;
	const struct policy *policy;
	struct check_results results;
	enum verdict verdict;
	time_t generated_at;
};

void report_done(struct report *r);

struct evaluation {
	struct facts facts;
	struct policy policy; /* a copy: a reload may free the config's */
	struct report report; /* report.facts and .policy point here */
};

int evaluate(const struct gather_options *opts, struct evaluation **ret);
void evaluation_free(struct evaluation *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct evaluation *, evaluation_free)
