/* SPDX-License-Identifier: Apache-2.0 */
/* The evaluator's jobs, each in a process of its own that exits when done
 * (`atrest job`, hidden): an evaluation, a benchmark run, or the rendering
 * of stale evidence as unknown. The evaluator (agent/daemon/loop.c), a
 * small program that links none of this, writes one request (JSON) into
 * the job's standard input and reads one reply (JSON) from its standard
 * output. The request carries what must outlive a job: the daemon's
 * command line and the configuration text it loaded, the IMDS and ARM
 * caches (with the token: it never leaves these two processes) and the
 * last benchmark result. */
#pragma once

#include "agent/evaluate.h"

#define DAEMON_JOB_MAX_REQUEST (16u << 20)

enum daemon_job_kind {
	DAEMON_JOB_EVALUATE,
	DAEMON_JOB_BENCH,
	DAEMON_JOB_STALE,
	_DAEMON_JOB_MAX,
};

const char *daemon_job_kind_to_string(enum daemon_job_kind k);

struct daemon_job_hooks {
	/* NULL: evaluate() and bench_run(). */
	int (*evaluate)(const struct gather_options *o, struct evaluation **ret);
	void (*bench)(const struct bench_options *o, struct bench_result *res);
};

/* Reads the request from in_fd, runs it, writes the reply to out_fd.
 * Returns the process's exit status (0, or 1 after a one-line error on
 * stderr). */
int daemon_job_main(int in_fd, int out_fd, const struct daemon_job_hooks *h);
