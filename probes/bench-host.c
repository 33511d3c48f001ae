/* SPDX-License-Identifier: Apache-2.0 */
/* What the benchmark needs to know about the host it runs on: the kernel
 * driver serving xts(aes), the CPU's AES instructions, usable CPUs under
 * affinity and cgroup quota, CPU pressure. Parsers are pure; readers use
 * plain paths because the benchmark is about the running host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/strutil.h"
#include "probes/bench-internal.h"

#define MAX_THREADS 1024

int bench_read_file(const char *path, size_t max, char **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (len < max) {
		ssize_t n = read(fd, buf + len, max - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

void bench_crypto_driver_done(struct bench_crypto_driver *d)
{
	free(d->driver);
	free(d->module);
	*d = (struct bench_crypto_driver){};
}

/* One /proc/crypto entry as it is read: pointers into the parsed copy. */
struct crypto_entry {
	const char *name, *driver, *module, *priority, *internal, *selftest;
};

static bool crypto_entry_usable(const struct crypto_entry *e, const char *want, int *ret_prio)
{
	/* An entry without a driver name cannot be told apart from others. */
	if (!e->name || isempty(e->driver) || !e->priority || !streq(e->name, want))
		return false;
	/* Internal entries are the SIMD helpers' inner halves: dm-crypt
	 * never gets them. A failed self-test is never selected. */
	if (e->internal && streq(e->internal, "yes"))
		return false;
	if (e->selftest && streq(e->selftest, "failed"))
		return false;
	return safe_atoi(e->priority, ret_prio) == 0;
}

static int crypto_entry_consider(const struct crypto_entry *e, const char *want,
				 struct bench_crypto_driver *best)
{
	char *driver, *module;
	int prio;

	if (!crypto_entry_usable(e, want, &prio))
		return 0;
	if (best->driver && prio <= best->priority)
		return 0;
	driver = strdup(e->driver);
	module = strdup_or_null(e->module);
	if (!driver || (e->module && !module)) {
		free(driver);
		free(module);
		return -ENOMEM;
	}
	bench_crypto_driver_done(best);
	*best = (struct bench_crypto_driver){ driver, module, prio };
	return 0;
}

/* Sets the field of e named by key ("name", "driver", ...) to value. */
static void crypto_entry_set(struct crypto_entry *e, const char *key, const char *value)
{
	static const struct {
		const char *key;
		size_t offset;
	} fields[] = {
		{ "name", offsetof(struct crypto_entry, name) },
		{ "driver", offsetof(struct crypto_entry, driver) },
		{ "module", offsetof(struct crypto_entry, module) },
		{ "priority", offsetof(struct crypto_entry, priority) },
		{ "internal", offsetof(struct crypto_entry, internal) },
		{ "selftest", offsetof(struct crypto_entry, selftest) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (streq(key, fields[i].key)) {
			memcpy((char *)e + fields[i].offset, &value, sizeof(value));
			return;
		}
}

int bench_parse_proc_crypto(const char *text, const char *name, struct bench_crypto_driver *ret)
{
	_cleanup_free_ char *copy = strdup(text);
	struct bench_crypto_driver best = {};
	struct crypto_entry e = {};
	char *p, *line;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; r >= 0 && (line = strsep(&p, "\n"));) {
		char *colon = strchr(line, ':');

		/* A blank line ends an entry; so does the start of the next
		 * one, in case the separator went missing. */
		if (isempty(strstrip(line)) || (colon && startswith(line, "name") && e.name)) {
			r = crypto_entry_consider(&e, name, &best);
			e = (struct crypto_entry){};
		}
		if (!colon)
			continue;
		*colon = '\0';
		crypto_entry_set(&e, strstrip(line), strstrip(colon + 1));
	}
	if (r >= 0)
		r = crypto_entry_consider(&e, name, &best);
	if (r < 0) {
		bench_crypto_driver_done(&best);
		return r;
	}
	*ret = best;
	return 0;
}

char *bench_parse_cpuinfo_flags(const char *text)
{
	_cleanup_free_ char *copy = strdup(text);
	char *p, *line;

	if (!copy)
		return NULL;
	for (p = copy; (line = strsep(&p, "\n"));) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		strstrip(line);
		if (streq(line, "flags") || streq(line, "Features"))
			return strdup(strstrip(colon + 1));
	}
	return NULL;
}

/* AES capability levels on x86, in the order the kernel ranks its drivers
 * (aesni 401, aesni-avx 500, vaes-avx2 600, avx10/avx512 700-800). */
enum aes_level {
	AES_GENERIC,
	AES_NI,
	AES_NI_AVX,
	AES_VAES_AVX2,
	AES_VAES_AVX512,
};

static enum aes_level driver_level(const char *driver)
{
	if (strstr(driver, "vaes-avx512") || strstr(driver, "vaes-avx10_512"))
		return AES_VAES_AVX512;
	if (strstr(driver, "vaes-avx10_256") || strstr(driver, "vaes-avx2"))
		return AES_VAES_AVX2;
	if (strstr(driver, "aesni-avx"))
		return AES_NI_AVX;
	if (strstr(driver, "aesni"))
		return AES_NI;
	return AES_GENERIC;
}

static enum aes_level cpu_level(char *const *flags)
{
	bool vaes = strv_contains(flags, "vaes");

	if (vaes && strv_contains(flags, "avx512f") && strv_contains(flags, "avx512vl"))
		return AES_VAES_AVX512;
	if (vaes && strv_contains(flags, "avx2"))
		return AES_VAES_AVX2;
	if (!strv_contains(flags, "aes"))
		return AES_GENERIC;
	return strv_contains(flags, "avx") ? AES_NI_AVX : AES_NI;
}

static char *arm_hint(const char *driver, char *const *flags)
{
	if (!strv_contains(flags, "aes") || strstr(driver, "-ce"))
		return NULL;
	return strprintf("CPU has the ARMv8 AES instructions but xts(aes) is served by %s; "
			 "the aes-ce-blk module provides xts-aes-ce",
			 driver);
}

char *bench_faster_hint(const char *driver, const char *cpu_flags)
{
	_cleanup_strv_free_ char **flags = NULL;
	enum aes_level have, used;

	if (isempty(driver) || !cpu_flags || strv_split_ws(cpu_flags, &flags) < 0)
		return NULL;
	if (strv_contains(flags, "asimd"))
		return arm_hint(driver, flags);
	have = cpu_level(flags);
	used = driver_level(driver);
	if (used == AES_GENERIC && have >= AES_NI)
		return strprintf("CPU has AES-NI but xts(aes) is served by generic code (%s); "
				 "load aesni_intel",
				 driver);
	/* AVX-512 over AVX2 is no hint: the kernel keeps 256-bit vectors on
	 * CPUs that slow down with 512-bit ones, on purpose. */
	if (have >= AES_VAES_AVX2 && used < AES_VAES_AVX2)
		return strprintf("CPU has VAES and AVX2 but xts(aes) is served by %s; "
				 "Linux >= 6.10 serves it with xts-aes-vaes-avx2 or -avx512, "
				 "which are faster",
				 driver);
	if (have == AES_NI_AVX && used == AES_NI)
		return strprintf("CPU has AES-NI and AVX but xts(aes) is served by %s; "
				 "Linux >= 6.10 has the faster xts-aes-aesni-avx",
				 driver);
	return NULL;
}

bool bench_cpu_has_aes(const char *cpu_flags)
{
	_cleanup_strv_free_ char **flags = NULL;

	return cpu_flags && strv_split_ws(cpu_flags, &flags) >= 0 && strv_contains(flags, "aes");
}

int bench_parse_cpu_max(const char *text, double *ret_cpus)
{
	_cleanup_strv_free_ char **w = NULL;
	uint64_t quota, period = 100000;

	if (strv_split_ws(text, &w) < 0)
		return -ENOMEM;
	if (strv_length(w) < 1 || strv_length(w) > 2)
		return -EINVAL;
	if (w[1] && (safe_atou64(w[1], &period) < 0 || period == 0))
		return -EINVAL;
	if (streq(w[0], "max")) {
		*ret_cpus = 0;
		return 0;
	}
	if (safe_atou64(w[0], &quota) < 0 || quota == 0)
		return -EINVAL;
	*ret_cpus = (double)quota / (double)period;
	return 0;
}

unsigned bench_threads_for(unsigned affinity_cpus, double quota_cpus)
{
	unsigned n = MAX(affinity_cpus, 1u);

	/* Whole CPUs only: a thread more than the quota would be throttled
	 * and measure the throttling, not the cipher. */
	if (quota_cpus > 0 && quota_cpus < n)
		n = MAX((unsigned)floor(quota_cpus), 1u);
	return MIN(n, (unsigned)MAX_THREADS);
}

/* The smaller of *best and the quota read at path (0 = none yet). */
static void quota_min(double *best, double quota)
{
	if (quota > 0 && (*best == 0 || quota < *best))
		*best = quota;
}

static double cgroup2_quota_at(const char *dir)
{
	_cleanup_free_ char *path = strprintf("/sys/fs/cgroup%s/cpu.max", dir);
	_cleanup_free_ char *text = NULL;
	double q;

	if (!path || bench_read_file(path, 256, &text) < 0 || bench_parse_cpu_max(text, &q) < 0)
		return 0;
	return q;
}

static double cgroup1_quota_at(const char *dir)
{
	static const char *const mounts[] = { "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu" };

	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		_cleanup_free_ char *qp = strprintf("%s%s/cpu.cfs_quota_us", mounts[i], dir);
		_cleanup_free_ char *pp = strprintf("%s%s/cpu.cfs_period_us", mounts[i], dir);
		_cleanup_free_ char *qt = NULL, *pt = NULL;
		int quota;
		unsigned period;

		if (!qp || !pp || bench_read_file(qp, 64, &qt) < 0 || bench_read_file(pp, 64, &pt) < 0)
			continue;
		if (safe_atoi(qt, &quota) < 0 || safe_atou(pt, &period) < 0 || period == 0)
			continue;
		return quota > 0 ? (double)quota / period : 0;
	}
	return 0;
}

/* Walks dir and its ancestors: a parent's quota binds its children. */
static double cgroup_quota_walk(char *dir, double (*at)(const char *))
{
	double best = 0;

	for (;;) {
		char *slash = strrchr(dir, '/');

		quota_min(&best, at(streq(dir, "/") ? "" : dir));
		if (!slash || slash == dir) {
			if (!streq(dir, "/") && *dir)
				quota_min(&best, at(""));
			return best;
		}
		*slash = '\0';
	}
}

/* The cgroup path of this process for the v2 hierarchy ("0::") or the v1
 * cpu controller; NULL when absent. */
static char *own_cgroup(const char *text, bool v2)
{
	_cleanup_free_ char *copy = strdup(text);
	char *p, *line;

	if (!copy)
		return NULL;
	for (p = copy; (line = strsep(&p, "\n"));) {
		char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
		_cleanup_free_ char *list = NULL;

		if (!path || path[1] != '/')
			continue;
		*path++ = '\0';
		ctrl++;
		if (v2 && streq(line, "0") && isempty(ctrl))
			return strdup(path);
		list = strprintf(",%s,", ctrl);
		if (!v2 && list && strstr(list, ",cpu,"))
			return strdup(path);
	}
	return NULL;
}

double bench_cgroup_cpu_quota(void)
{
	_cleanup_free_ char *text = NULL, *v2 = NULL, *v1 = NULL;
	double best = 0;

	if (bench_read_file("/proc/self/cgroup", 64 * 1024, &text) < 0)
		return 0;
	v2 = own_cgroup(text, true);
	if (v2)
		quota_min(&best, cgroup_quota_walk(v2, cgroup2_quota_at));
	v1 = own_cgroup(text, false);
	if (v1)
		quota_min(&best, cgroup_quota_walk(v1, cgroup1_quota_at));
	return best;
}

static unsigned affinity_cpus(void)
{
	for (size_t n = 1024; n <= 65536; n *= 2) {
		cpu_set_t *set = CPU_ALLOC(n);
		size_t size = CPU_ALLOC_SIZE(n);
		int count = -1;

		if (!set)
			break;
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) == 0)
			count = CPU_COUNT_S(size, set);
		CPU_FREE(set);
		if (count > 0)
			return (unsigned)count;
		if (errno != EINVAL)
			break;
	}
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (unsigned)online : 1;
}

unsigned bench_usable_cpus(void)
{
	return bench_threads_for(affinity_cpus(), bench_cgroup_cpu_quota());
}

int bench_parse_psi(const char *text, double *ret_avg10, uint64_t *ret_total_us)
{
	const char *some = startswith(text, "some ") ? text : strstr(text, "\nsome ");
	const char *a, *t;
	char *end;
	double avg;
	unsigned long long total;

	if (!some)
		return -EINVAL;
	a = strstr(some, "avg10=");
	t = strstr(some, "total=");
	if (!a || !t)
		return -EINVAL;
	errno = 0;
	avg = strtod(a + 6, &end);
	if (errno || end == a + 6 || !isfinite(avg) || avg < 0)
		return -EINVAL;
	total = strtoull(t + 6, &end, 10);
	if (errno || end == t + 6 || t[6] == '-')
		return -EINVAL;
	*ret_avg10 = avg;
	*ret_total_us = total;
	return 0;
}

int bench_read_psi(double *ret_avg10, uint64_t *ret_total_us)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = bench_read_file("/proc/pressure/cpu", 4096, &text);
	if (r < 0)
		return r;
	return bench_parse_psi(text, ret_avg10, ret_total_us);
}

int bench_parse_loadavg_running(const char *text, unsigned *ret_running)
{
	const char *p = text;
	unsigned long v;
	char *end;

	/* "0.16 0.44 1.03 2/345 12345": the fourth field is running/total. */
	for (int field = 0; field < 3; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " \n");
		if (*p != ' ')
			return -EINVAL;
	}
	p += strspn(p, " ");
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end != '/' || v > UINT_MAX)
		return -EINVAL;
	*ret_running = (unsigned)v;
	return 0;
}

int bench_read_loadavg_running(unsigned *ret_running)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = bench_read_file("/proc/loadavg", 128, &text);
	if (r < 0)
		return r;
	return bench_parse_loadavg_running(text, ret_running);
}

double bench_others_average(double avg, double sample, double dt, double tau)
{
	if (!(dt > 0))
		return avg;
	return avg + (1 - exp(-dt / tau)) * (sample - avg);
}

double bench_busy_threshold(unsigned online_cpus)
{
	return MIN(MAX(0.1 * (double)online_cpus, 0.25), 1.0);
}
