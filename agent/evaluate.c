/* SPDX-License-Identifier: Apache-2.0 */
/* One evaluation: facts, then checks, then the verdict. */
#include "config.h"

#include "agent/evaluate.h"

int evaluate(const struct gather_options *opts, struct evaluation **ret)
{
	struct evaluation *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	r = gather_facts(opts, &e->facts);
	if (r < 0) {
		evaluation_free(e);
		return r;
	}
	r = policy_copy(&e->policy, &opts->conf->policy);
	if (r < 0) {
		evaluation_free(e);
		return r;
	}
	e->report.facts = &e->facts;
	e->report.policy = &e->policy;
	checks_run(&e->facts, &e->policy, &e->report.results);
	e->report.verdict = verdict_compute(&e->report.results);
	e->report.generated_at = time(NULL);
	*ret = e;
	return 0;
}

void report_done(struct report *r)
{
	check_results_done(&r->results);
	*r = (struct report){ 0 };
}

void evaluation_free(struct evaluation *e)
{
	if (!e)
		return;
	report_done(&e->report);
	facts_done(&e->facts);
	policy_done(&e->policy);
	free(e);
}
