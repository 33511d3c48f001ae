/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of the AES-XTS benchmark shared between its files and its tests:
 * the host parsers (pure, over memory) and the engine descriptors. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/macro.h"

/* The /proc/crypto entry that serves xts(aes): the highest priority one
 * that is not internal and has not failed its self-test. */
struct bench_crypto_driver {
	char *driver; /* NULL when no entry was found */
	char *module;
	int priority;
};

void bench_crypto_driver_done(struct bench_crypto_driver *d);
/* 0 (d->driver NULL when none), or -ENOMEM. */
int bench_parse_proc_crypto(const char *text, const char *name, struct bench_crypto_driver *ret);

/* The CPU feature words of /proc/cpuinfo ("flags" on x86, "Features" on
 * arm64), first processor only; NULL when none. */
char *bench_parse_cpuinfo_flags(const char *text);

/* A one-line hint when the CPU offers faster AES instructions than the
 * driver serving xts(aes) uses; NULL when not (or nothing to say). */
char *bench_faster_hint(const char *driver, const char *cpu_flags);
/* Whether the flags name AES instructions (x86 "aes", arm64 "aes"). */
bool bench_cpu_has_aes(const char *cpu_flags);

/* cgroup v2 "cpu.max" ("max 100000", "50000 100000"): *ret_cpus is the
 * quota in CPUs, 0 when unlimited. 0 or -EINVAL. */
int bench_parse_cpu_max(const char *text, double *ret_cpus);
/* Threads for the all-CPU samples: the affinity count, capped by the
 * quota (whole CPUs, at least one). quota_cpus 0 = unlimited. */
unsigned bench_threads_for(unsigned affinity_cpus, double quota_cpus);
/* The quota on this process's cgroup and its ancestors, v2 then v1;
 * 0 when unlimited or unknown. */
double bench_cgroup_cpu_quota(void);
unsigned bench_usable_cpus(void);

/* "some ... total=N" of /proc/pressure/cpu: microseconds some task waited. */
int bench_parse_psi(const char *text, double *ret_avg10, uint64_t *ret_total_us);
int bench_read_psi(double *ret_avg10, uint64_t *ret_total_us);

/* The fourth field of /proc/loadavg: tasks runnable right now, on all
 * CPUs (the reader included). 0 or -EINVAL. */
int bench_parse_loadavg_running(const char *text, unsigned *ret_running);
int bench_read_loadavg_running(unsigned *ret_running);
/* A time-weighted moving average: avg moved towards sample by the weight
 * dt seconds earn with time constant tau. */
double bench_others_average(double avg, double sample, double dt, double tau);
/* Other runnable tasks, on average, above which the node is busy: a tenth
 * of the CPUs, at least a quarter task (a kernel thread now and then on a
 * small node is not a neighbour), at most one (big nodes host many small
 * neighbours). */
double bench_busy_threshold(unsigned online_cpus);

/* Reads a small /proc or /sys file whole (they report size 0). */
int bench_read_file(const char *path, size_t max, char **ret);

/* One way to encrypt a buffer in place: OpenSSL EVP or the kernel's
 * xts(aes) through AF_ALG. A context is per thread and per direction. */
struct bench_engine {
	const char *name; /* "openssl" | "kernel" */
	int (*open)(void **ret_ctx, unsigned key_bits, bool decrypt);
	int (*run)(void *ctx, uint8_t *buf, size_t len);
	void (*close)(void *ctx);
};

extern const struct bench_engine bench_engine_openssl;
extern const struct bench_engine bench_engine_afalg;

/* The kernel path through libcryptsetup's own loop (see bench_options). */
int bench_crypt_benchmark(unsigned key_bits, double *ret_enc, double *ret_dec);

/* Why the kernel path cannot run, for an errno from opening it. */
const char *bench_kernel_errno_reason(int r);

const char *bench_openssl_version(void);
