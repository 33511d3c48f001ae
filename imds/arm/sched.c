/* SPDX-License-Identifier: Apache-2.0 */
/* When to ask ARM: the cache lifetime with jitter, the start-up delay, the
 * backoff after failures and the in-step retry policy. Pure functions of a
 * clock and a random state the caller owns, so bench/fleet can run the same
 * logic for thousands of agents on a simulated clock. */
#include "config.h"

#include <math.h>

#include "imds/arm/arm-internal.h"

/* ARM throttles per principal, and every node of an AKS cluster shares the
 * kubelet identity (250-request bucket, 25/s refill): a node that asks ~4
 * times per lookup every ~5.4 h keeps 5,000 nodes near 1 request/s. The
 * start-up window grows with the node's own lookup cost (250 s per request)
 * so a whole-fleet restart of 5,000 nodes arrives at ~20 requests/s, under
 * the refill rate, however many disks the nodes have. See bench/fleet. */
const struct arm_sched_params arm_sched_default = {
	.ttl = 6 * 3600.0,
	.ttl_jitter = 0.2,
	.start_jitter = -1,
	.start_jitter_per_request = 250.0,
	.fail_min = 60.0,
	.fail_max = 3600.0,
	.inline_retry_max = 5.0,
};

double arm_rng_uniform(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

void arm_sched_start(struct arm_sched *s, const struct arm_sched_params *p, double now,
		     bool delay_first, unsigned requests, uint64_t *rng)
{
	double window = p->start_jitter >= 0 ? p->start_jitter :
					       p->start_jitter_per_request * MAX(requests, 1u);

	*s = (struct arm_sched){ .next_at = now };
	if (delay_first)
		s->next_at = now + window * arm_rng_uniform(rng);
}

bool arm_sched_due(const struct arm_sched *s, double now)
{
	return now >= s->next_at && now >= s->not_before;
}

void arm_sched_success(struct arm_sched *s, const struct arm_sched_params *p, double now, uint64_t *rng)
{
	s->failures = 0;
	s->next_at = MAX(now + p->ttl * (1.0 - p->ttl_jitter * arm_rng_uniform(rng)), s->not_before);
}

void arm_sched_failure(struct arm_sched *s, const struct arm_sched_params *p, double now,
		       double retry_after, uint64_t *rng)
{
	double wait = p->fail_min * ldexp(1.0, (int)MIN(s->failures, 16u));

	wait = MIN(wait, p->fail_max);
	/* Jitter between half and all of the wait: throttled nodes that failed
	 * together must not come back together. */
	wait *= 0.5 + 0.5 * arm_rng_uniform(rng);
	if (s->failures < UINT32_MAX)
		s->failures++;
	if (retry_after >= 0)
		s->not_before = MAX(s->not_before, now + retry_after);
	s->next_at = MAX(now + wait, s->not_before);
}

double arm_retry_delay(const struct arm_sched_params *p, long status, double retry_after,
		       unsigned attempt, double left)
{
	double wait;

	if (attempt >= 3)
		return -1;
	if (status == 429) {
		wait = retry_after >= 0 ? retry_after : p->inline_retry_max + 1;
		if (wait > p->inline_retry_max)
			return -1;
	} else if (status == 0 || status >= 500) {
		wait = retry_after >= 0 ? retry_after : (double)attempt;
	} else {
		return -1;
	}
	return wait + 0.5 < left ? wait : -1;
}

double arm_token_retry_delay(long status, unsigned attempt, double left)
{
	double wait;

	if (!(status == 0 || status == 404 || status == 410 || status == 429 || status >= 500))
		return -1;
	if (attempt == 0 || attempt > 4)
		return -1;
	wait = ldexp(1.0, (int)attempt); /* 2, 4, 8, 16 */
	return wait + 0.5 < left ? wait : -1;
}

bool arm_token_fresh(int64_t expires_on, int64_t now)
{
	return expires_on > 0 && now + ARM_TOKEN_MARGIN < expires_on;
}
