/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-XTS throughput benchmark: what dm-crypt (kernel xts(aes) through
 * libcryptsetup/AF_ALG) and OpenSSL can do on this CPU. A gatherer like the
 * others: it measures and reports, it does not judge. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "lib/source.h"

struct bench_sample {
	const char *engine; /* "kernel" | "openssl" (static) */
	unsigned key_bits;  /* 256 (AES-128-XTS) or 512 (AES-256-XTS) */
	unsigned threads;
	double encrypt_bytes_per_second;
	double decrypt_bytes_per_second;
	double cpu_seconds;
	double wall_seconds;
	bool disturbed;         /* CPU/wall < 0.9 or CPU pressure seen */
	double yielded_seconds; /* wall time spent giving way to other work */
};

struct bench_result {
	enum source_status status; /* OK, ERROR, or OFF when skipped */
	char *error;
	time_t ran_at;            /* 0 = never ran */
	double cpu_seconds;       /* spent by the whole run */
	double wall_seconds;      /* the whole run, yielding included */
	double yielded_seconds;   /* of which spent giving way to other work */
	unsigned samples_skipped; /* not measured: the node stayed busy past max_wall */

	bool kernel_available;
	char *kernel_unavailable_reason;
	char *kernel_driver; /* /proc/crypto driver for xts(aes) */
	int kernel_driver_priority;
	char *kernel_faster_hint; /* e.g. CPU has VAES but driver does not use it */
	char *openssl_version;
	unsigned usable_cpus;      /* threads of the all-CPU samples */
	const char *priority;      /* what the threads got: "SCHED_IDLE", "nice 19",
	                               * "normal" (asked), or "unchanged" (refused); static */
	double cpu_pressure_avg10; /* /proc/pressure/cpu "some avg10" at start, -1 unknown */

	struct bench_sample *samples;
	size_t n_samples;

	/* The headline figure for aes-xts-plain64 with a 512-bit key:
	 * the kernel path when available, else OpenSSL; one thread. */
	const char *engine;
	unsigned key_bits;
	double encrypt_bytes_per_second;
	double decrypt_bytes_per_second;
};

struct bench_options {
	double cpu_budget;    /* seconds of CPU for the whole run (default 1) */
	bool allow_kernel;    /* try the kernel path */
	bool all_threads;     /* also one thread per usable CPU */
	bool idle_priority;   /* SCHED_IDLE, else nice 19 */
	bool normal_priority; /* neither: the perturbation harness's control */
	/* Measure in bursts of a few milliseconds and, while other work keeps
	 * the node busy (it took our CPU, or /proc/stat shows it using more
	 * than a tenth of the CPUs), run only 1% of the wall time. On by
	 * default; off only for the harness's controls. */
	bool no_yield;
	/* Wall seconds after which samples not yet measured are skipped (the
	 * node stayed busy); 0 = none (yielding alone bounds a run to about
	 * 200 s per CPU-second of budget). */
	double max_wall;
	/* Measure the kernel path with libcryptsetup's crypt_benchmark(), as
	 * `cryptsetup benchmark` does: one thread, about 2 s of wall time per
	 * key size whatever the budget. Off by default; for the harness. */
	bool kernel_via_libcryptsetup;
};

#define BENCH_INTERACTIVE_MAX_WALL 20.0 /* atrest bench and check: a person waits */

/* The defaults: 1 CPU-second, kernel path tried, all threads, SCHED_IDLE,
 * yielding to other work, no wall limit. */
void bench_options_init(struct bench_options *opts);

void bench_result_done(struct bench_result *r);
/* Deep copy; dst is overwritten (not freed first). 0 or -ENOMEM. */
int bench_result_copy(struct bench_result *dst, const struct bench_result *src);
/* opts may be NULL (the defaults). Never fails: res->status says how it went. */
void bench_run(const struct bench_options *opts, struct bench_result *res);
/* The sample for engine/key/threads, or NULL. */
const struct bench_sample *bench_result_find(const struct bench_result *res, const char *engine,
					     unsigned key_bits, unsigned threads);
