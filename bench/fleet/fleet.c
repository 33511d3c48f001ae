/* SPDX-License-Identifier: Apache-2.0 */
/* Fleet simulation: N agents running atrest's real ARM schedule (cache
 * lifetime with jitter, start-up delay, backoff, in-step retries, Retry-After;
 * imds/arm/sched.c) on a simulated clock against a token-bucket model of
 * ARM's per-principal throttle. Every AKS node shares the kubelet identity,
 * so the whole fleet drains one bucket. Not a test: see bench/fleet/README.md. */
#include "config.h"

#include <getopt.h>
#include <math.h>

#include "imds/arm/arm-internal.h"

#define EVAL_INTERVAL 60.0 /* the daemon evaluates every minute */
#define REQ_LATENCY 0.05   /* one ARM GET */
#define STEP_TIMEOUT 20.0

struct agent {
	struct arm_sched sched;
	uint64_t rng;
	double phase; /* offset of its evaluation grid */
	bool in_step;
	unsigned req, attempt;
	double deadline;
};

struct event {
	double t;
	unsigned agent;
};

struct sim {
	struct arm_sched_params p;
	unsigned n, per_lookup;
	double capacity, refill, tokens, stamp, horizon;
	struct agent *a;
	struct event *heap;
	size_t n_heap;
	unsigned *per_sec; /* requests per simulated second */
	unsigned *thr_sec; /* 429s per simulated second */
	unsigned long requests, throttled, lookups_ok, lookups_failed;
};

static void heap_push(struct sim *s, double t, unsigned agent)
{
	size_t i = s->n_heap++;

	while (i > 0 && s->heap[(i - 1) / 2].t > t) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = (struct event){ t, agent };
}

static struct event heap_pop(struct sim *s)
{
	struct event top = s->heap[0], last = s->heap[--s->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n_heap)
			break;
		if (c + 1 < s->n_heap && s->heap[c + 1].t < s->heap[c].t)
			c++;
		if (s->heap[c].t >= last.t)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = last;
	return top;
}

/* The agent looks at its schedule only when the daemon evaluates. */
static double next_eval(const struct agent *a, double after)
{
	double due = MAX(MAX(a->sched.next_at, a->sched.not_before), after);
	double k = ceil((due - a->phase) / EVAL_INTERVAL);

	return a->phase + MAX(k, 0) * EVAL_INTERVAL;
}

static bool bucket_take(struct sim *s, double now, double *retry_after)
{
	s->tokens = MIN(s->capacity, s->tokens + (now - s->stamp) * s->refill);
	s->stamp = now;
	if (s->tokens >= 1) {
		s->tokens -= 1;
		return true;
	}
	*retry_after = ceil((1 - s->tokens) / s->refill);
	return false;
}

static void count(unsigned *hist, double now, double horizon)
{
	if (now >= 0 && now < horizon)
		hist[(size_t)now]++;
}

static void step(struct sim *s, unsigned id, double now)
{
	struct agent *a = &s->a[id];
	double ra, wait;

	if (!a->in_step) {
		if (!arm_sched_due(&a->sched, now)) {
			heap_push(s, next_eval(a, now + 1e-6), id);
			return;
		}
		a->in_step = true;
		a->req = 0;
		a->attempt = 1;
		a->deadline = now + STEP_TIMEOUT;
	}
	if (bucket_take(s, now, &ra)) {
		s->requests++;
		count(s->per_sec, now, s->horizon);
		a->attempt = 1;
		if (++a->req < s->per_lookup) {
			heap_push(s, now + REQ_LATENCY, id);
			return;
		}
		s->lookups_ok++;
		a->in_step = false;
		arm_sched_success(&a->sched, &s->p, now, &a->rng);
		heap_push(s, next_eval(a, now + 1e-6), id);
		return;
	}
	s->throttled++;
	count(s->thr_sec, now, s->horizon);
	wait = arm_retry_delay(&s->p, 429, ra, a->attempt, a->deadline - now);
	if (wait >= 0) {
		a->attempt++;
		heap_push(s, now + wait, id);
		return;
	}
	s->lookups_failed++;
	a->in_step = false;
	arm_sched_failure(&a->sched, &s->p, now, ra, &a->rng);
	heap_push(s, next_eval(a, now + 1e-6), id);
}

/* Peak and mean request rate over [from, to), peak over 1 s and 60 s,
 * 429 count and the longest run of seconds with a 429. */
static void report(const struct sim *s, const char *label, double from, double to)
{
	unsigned long sum = 0, thr = 0, peak1 = 0, peak60 = 0, win = 0, run = 0, longest = 0;
	unsigned long secs_with_429 = 0;

	for (size_t t = (size_t)from; t < (size_t)to; t++) {
		sum += s->per_sec[t];
		thr += s->thr_sec[t];
		peak1 = MAX(peak1, s->per_sec[t]);
		win += s->per_sec[t];
		if (t >= (size_t)from + 60)
			win -= s->per_sec[t - 60];
		peak60 = MAX(peak60, win);
		run = s->thr_sec[t] ? run + 1 : 0;
		secs_with_429 += s->thr_sec[t] ? 1 : 0;
		longest = MAX(longest, run);
	}
	printf("%-26s mean %6.2f req/s (%5.1f%% of refill)  peak %3lu req/s (1 s), %5.2f req/s (60 s avg)  "
	       "429s %lu in %lu s, longest run %lu s\n",
	       label, (double)sum / (to - from), 100.0 * (double)sum / (to - from) / s->refill,
	       peak1, (double)peak60 / 60.0, thr, secs_with_429, longest);
}

static void usage(void)
{
	puts("usage: fleet [--nodes N] [--requests-per-lookup K] [--hours H] [--start-jitter S]\n"
	     "             [--ttl S] [--steady] [--seed X]\n"
	     "  --steady  start from a settled fleet (random phases) instead of a restart");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "requests-per-lookup", required_argument, NULL, 'k' },
		{ "hours", required_argument, NULL, 'H' },
		{ "start-jitter", required_argument, NULL, 'j' },
		{ "ttl", required_argument, NULL, 't' },
		{ "steady", no_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sim s = { .p = arm_sched_default,
			 .n = 5000,
			 .per_lookup = 4,
			 .capacity = 250,
			 .refill = 25,
			 .horizon = 30 * 3600.0 };
	bool steady = false;
	uint64_t seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'n':
			s.n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			s.per_lookup = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			s.horizon = strtod(optarg, NULL) * 3600.0;
			break;
		case 'j':
			s.p.start_jitter = strtod(optarg, NULL);
			break;
		case 't':
			s.p.ttl = strtod(optarg, NULL);
			break;
		case 's':
			steady = true;
			break;
		case 'x':
			seed = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
	}
	if (s.n == 0 || s.per_lookup == 0 || s.horizon < 7200) {
		usage();
		return 2;
	}
	s.a = calloc(s.n, sizeof(*s.a));
	s.heap = calloc(s.n + 1, sizeof(*s.heap));
	s.per_sec = calloc((size_t)s.horizon + 1, sizeof(unsigned));
	s.thr_sec = calloc((size_t)s.horizon + 1, sizeof(unsigned));
	if (!s.a || !s.heap || !s.per_sec || !s.thr_sec)
		return 1;
	s.tokens = s.capacity;
	for (unsigned i = 0; i < s.n; i++) {
		struct agent *a = &s.a[i];

		a->rng = seed * 0x9e3779b97f4a7c15ULL + i;
		a->phase = EVAL_INTERVAL * arm_rng_uniform(&a->rng);
		/* The daemon path: the first lookup after start is delayed. */
		arm_sched_start(&a->sched, &s.p, 0, true, s.per_lookup, &a->rng);
		if (steady) /* a settled fleet: last lookups spread over one TTL */
			a->sched.next_at = s.p.ttl * arm_rng_uniform(&a->rng);
		heap_push(&s, next_eval(a, 0), i);
	}
	while (s.n_heap && s.heap[0].t < s.horizon) {
		struct event e = heap_pop(&s);

		step(&s, e.agent, e.t);
	}
	printf("%u nodes, %u ARM requests per lookup, one principal (bucket %.0f, refill %.0f/s), "
	       "TTL %.1f h (-%.0f%%), start jitter %.0f s, %s\n",
	       s.n, s.per_lookup, s.capacity, s.refill, s.p.ttl / 3600, s.p.ttl_jitter * 100,
	       s.p.start_jitter >= 0 ? s.p.start_jitter : s.p.start_jitter_per_request * s.per_lookup,
	       steady ? "settled fleet" : "simultaneous restart at t=0");
	if (!steady) {
		report(&s, "restart: first hour", 0, 3600);
		report(&s, "restart: first 15 min", 0, MIN(900, s.horizon));
	}
	report(&s, "steady: hours 7..end", 7 * 3600, s.horizon);
	printf("lookups ok %lu, failed %lu, requests %lu, 429s %lu\n", s.lookups_ok,
	       s.lookups_failed, s.requests, s.throttled);
	free(s.a);
	free(s.heap);
	free(s.per_sec);
	free(s.thr_sec);
	return 0;
}
