/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark run for real on this host with a small budget: figures,
 * cost, kernel-path consistency, headline, the JSON and text renderings,
 * the deep copy the daemon caches, and giving way to busy neighbours. */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/report/bench.h"
#include "lib/strutil.h"
#include "probes/bench.h"
#include "tests/tap.h"

#define BUDGET 0.2
#define MIB (1024.0 * 1024.0)

/* Seconds a run may overshoot its budget: one slice of work is the unit of
 * overshoot, and under valgrind (make check-valgrind) a slice is ~50 times
 * longer. */
static double overshoot(void)
{
	return getenv("ATREST_UNDER_VALGRIND") ? 2.0 : 0.1;
}

static void check_samples(const struct bench_result *r, const char *engine)
{
	static const unsigned keys[] = { 256, 512 };

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		const struct bench_sample *s = bench_result_find(r, engine, keys[k], 1);

		if (!ok(s, "%s %u-bit key, one thread: sample present", engine, keys[k]))
			continue;
		ok(s->encrypt_bytes_per_second > 10 * MIB, "%s %u: encrypt %.0f MiB/s > 10", engine,
		   keys[k], s->encrypt_bytes_per_second / MIB);
		ok(s->decrypt_bytes_per_second > 10 * MIB, "%s %u: decrypt %.0f MiB/s > 10", engine,
		   keys[k], s->decrypt_bytes_per_second / MIB);
		ok(s->encrypt_bytes_per_second < 1e12, "%s %u: encrypt below 1 TB/s", engine, keys[k]);
		ok(s->cpu_seconds > 0 && s->wall_seconds > 0, "%s %u: CPU and wall time recorded",
		   engine, keys[k]);
	}
}

static void check_threads(const struct bench_result *r)
{
	bool all_ok = true;

	ok(r->usable_cpus >= 1, "usable CPUs: %u", r->usable_cpus);
	for (size_t i = 0; i < r->n_samples; i++)
		if (r->samples[i].threads != 1 && r->samples[i].threads != r->usable_cpus)
			all_ok = false;
	ok(all_ok, "every sample runs one thread or one per usable CPU");
	if (r->usable_cpus > 1)
		ok(bench_result_find(r, "openssl", 512, r->usable_cpus),
		   "an all-CPU sample with %u threads", r->usable_cpus);
}

static void check_kernel(const struct bench_result *r)
{
	if (r->kernel_available) {
		tap_diag("kernel path available, driver %s", strna(r->kernel_driver));
		check_samples(r, "kernel");
		is_str(r->engine, "kernel", "headline from the kernel when it is available");
		ok(r->kernel_driver, "the driver that served it is listed");
	} else {
		tap_diag("kernel path unavailable: %s", strna(r->kernel_unavailable_reason));
		ok(!isempty(r->kernel_unavailable_reason), "unavailable kernel path has a reason");
		ok(!bench_result_find(r, "kernel", 512, 1), "no kernel samples when unavailable");
		is_str(r->engine, "openssl", "headline from openssl without the kernel");
	}
}

static void check_headline(const struct bench_result *r)
{
	const struct bench_sample *h;

	is_int(r->status, SOURCE_OK, "status ok");
	is_str(r->error, NULL, "no error");
	is_int(r->key_bits, 512, "headline key 512 bits");
	h = r->engine ? bench_result_find(r, r->engine, 512, 1) : NULL;
	ok(h && h->encrypt_bytes_per_second == r->encrypt_bytes_per_second &&
		   h->decrypt_bytes_per_second == r->decrypt_bytes_per_second,
	   "headline is the one-thread 512-bit sample of its engine");
	ok(r->ran_at > 0 && llabs((long long)(time(NULL) - r->ran_at)) < 60, "ran_at is now");
	ok(!isempty(r->openssl_version) && startswith(r->openssl_version, "OpenSSL"),
	   "openssl version: %s", strna(r->openssl_version));
}

static void check_json(const struct bench_result *r)
{
	static const char *const keys[] = { "engine",
					    "cipher",
					    "key_bits",
					    "encrypt_bytes_per_second",
					    "decrypt_bytes_per_second",
					    "ran_at",
					    "cpu_seconds",
					    "kernel",
					    "openssl_version",
					    "samples" };
	json_object *j = bench_result_to_json(r), *v, *k;

	if (!ok(j, "JSON rendered"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		ok(json_object_object_get_ex(j, keys[i], NULL), "JSON has %s", keys[i]);
	ok(json_object_object_get_ex(j, "cipher", &v) &&
		   streq(json_object_get_string(v), "aes-xts-plain64"),
	   "JSON cipher aes-xts-plain64");
	ok(json_object_object_get_ex(j, "encrypt_bytes_per_second", &v) &&
		   json_object_is_type(v, json_type_int) &&
		   llabs(json_object_get_int64(v) - llround(r->encrypt_bytes_per_second)) <= 1,
	   "JSON encrypt_bytes_per_second is the headline, in bytes/s");
	ok(json_object_object_get_ex(j, "kernel", &k) && json_object_object_get_ex(k, "available", &v) &&
		   json_object_get_boolean(v) == r->kernel_available,
	   "JSON kernel.available");
	ok(json_object_object_get_ex(j, "samples", &v) && json_object_array_length(v) == r->n_samples,
	   "JSON has every sample");
	const char *ran_at = json_object_object_get_ex(j, "ran_at", &v) ? json_object_get_string(v) :
									  NULL;
	ok(ran_at && strlen(ran_at) == 20 && ran_at[10] == 'T' && ran_at[19] == 'Z',
	   "JSON ran_at is RFC 3339 UTC: %s", strna(ran_at));
	json_object_put(j);
}

static void check_text(const struct bench_result *r)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!ok(f, "memstream"))
		return;
	bench_print_text(f, r, false);
	fclose(f);
	ok(strstr(buf, "aes-xts-plain64 512-bit key, one thread"), "text: headline line");
	ok(strstr(buf, "encrypt MiB/s"), "text: table header");
	ok(strstr(buf, "openssl:"), "text: openssl version line");
	ok(!strchr(buf, '\033'), "text: no colour when not asked");
}

/* Field by field: memcmp would read the struct's padding, which nobody
 * initialises (valgrind reports the uninitialised read). */
static bool sample_eq(const struct bench_sample *a, const struct bench_sample *b)
{
	return a->engine == b->engine && a->key_bits == b->key_bits && a->threads == b->threads &&
	       a->encrypt_bytes_per_second == b->encrypt_bytes_per_second &&
	       a->decrypt_bytes_per_second == b->decrypt_bytes_per_second &&
	       a->cpu_seconds == b->cpu_seconds && a->wall_seconds == b->wall_seconds &&
	       a->disturbed == b->disturbed;
}

static void check_copy(const struct bench_result *r)
{
	struct bench_result c;
	bool same;

	if (!is_int(bench_result_copy(&c, r), 0, "copy"))
		return;
	same = c.samples != r->samples && c.n_samples == r->n_samples;
	for (size_t i = 0; same && i < r->n_samples; i++)
		same = sample_eq(&c.samples[i], &r->samples[i]);
	ok(same, "copy: samples equal, not shared");
	ok(streq_ptr(c.openssl_version, r->openssl_version) &&
		   (!c.openssl_version || c.openssl_version != r->openssl_version),
	   "copy: strings duplicated");
	ok(c.encrypt_bytes_per_second == r->encrypt_bytes_per_second, "copy: headline");
	bench_result_done(&c);
}

static void test_default_run(void)
{
	struct bench_options o;
	struct bench_result r;

	bench_options_init(&o);
	o.cpu_budget = BUDGET;
	/* The figures, not the manners: other tests may run beside this one. */
	o.no_yield = true;
	bench_run(&o, &r);
	tap_diag("run used %.3f CPU-seconds", r.cpu_seconds);
	ok(r.cpu_seconds > 0 && r.cpu_seconds <= BUDGET * 1.5 + overshoot(),
	   "CPU spent %.3f s within budget %.1f s (x1.5 + %.1f)", r.cpu_seconds, BUDGET, overshoot());
	check_samples(&r, "openssl");
	is_str(r.priority, "SCHED_IDLE", "threads ran at SCHED_IDLE");
	check_threads(&r);
	check_kernel(&r);
	check_headline(&r);
	check_json(&r);
	check_text(&r);
	check_copy(&r);
	bench_result_done(&r);
}

static void test_restricted_run(void)
{
	struct bench_options o;
	struct bench_result r;

	bench_options_init(&o);
	o.cpu_budget = 0.05;
	o.allow_kernel = false;
	o.all_threads = false;
	o.idle_priority = false;
	o.no_yield = true; /* other tests may run beside this one */
	bench_run(&o, &r);
	is_int(r.status, SOURCE_OK, "restricted: status ok");
	ok(!r.kernel_available && !isempty(r.kernel_unavailable_reason),
	   "restricted: kernel path not run, with a reason");
	is_int(r.n_samples, 2, "restricted: one thread, two key sizes");
	is_str(r.priority, "nice 19", "restricted: threads ran at nice 19");
	ok(r.cpu_seconds <= 0.05 * 1.5 + overshoot(), "restricted: CPU %.3f s within budget",
	   r.cpu_seconds);
	bench_result_done(&r);
}

static void test_failed_rendering(void)
{
	struct bench_result r = { .status = SOURCE_ERROR,
				  .error = (char *)"no figure",
				  .cpu_pressure_avg10 = -1 };
	json_object *j = bench_result_to_json(&r), *v;

	ok(j && json_object_object_get_ex(j, "encrypt_bytes_per_second", &v) && !v,
	   "failed: JSON figure is null");
	ok(j && json_object_object_get_ex(j, "error", &v) &&
		   streq(json_object_get_string(v), "no figure"),
	   "failed: JSON error");
	ok(j && json_object_object_get_ex(j, "ran_at", &v) && !v, "failed: never ran, ran_at null");
	json_object_put(j);
	bench_result_done(NULL);
}

/* Children that keep every CPU half busy at normal priority, 2 ms on and
 * 2 ms off like a server under load, until killed (or 60 s, or their
 * parent's death): a SCHED_IDLE benchmark that did not give way would get
 * the other half. */
static unsigned spin_start(pid_t *pids, unsigned max)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = (unsigned)MIN(MAX(online, 1L), (long)max);

	for (unsigned i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			time_t end = time(NULL) + 60;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			while (time(NULL) < end) {
				struct timespec t0, t;

				clock_gettime(CLOCK_MONOTONIC, &t0);
				do
					clock_gettime(CLOCK_MONOTONIC, &t);
				while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
				       2000000L);
				usleep(2000);
			}
			_exit(0);
		}
	}
	return n;
}

static void spin_stop(pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
}

/* The runnable tasks per CPU over the last minute (/proc/loadavg). */
static double load_per_cpu(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double l1 = 0;
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (fscanf(f, "%lf", &l1) != 1)
			l1 = 0;
		fclose(f);
	}
	return l1 / (double)MAX(cpus, 1L);
}

/* Every CPU kept half busy by others: the run pauses (yielded time),
 * stops at its wall limit, and says why when it has no figure. The
 * control run does not give way. */
static void test_gives_way(void)
{
	pid_t pids[256];
	struct bench_options o;
	struct bench_result r, c;
	json_object *j, *v;
	unsigned n;

	/* This test brings its own neighbours; on a machine already saturated
	 * by others (make -j, parallel test runs) a SCHED_IDLE benchmark gets
	 * no CPU at all and the rows below would measure the machine. */
	if (load_per_cpu() > 3) {
		for (int i = 0; i < 9; i++) /* the rows below */
			tap_skip("the machine is already saturated (load per CPU above 3): neighbours "
				 "of our own cannot be measured");
		return;
	}
	bench_options_init(&o);
	o.cpu_budget = 0.1;
	o.allow_kernel = false;
	o.all_threads = false;
	o.max_wall = 3;
	n = spin_start(pids, ARRAY_SIZE(pids));
	usleep(200 * 1000);
	bench_run(&o, &r);
	o.no_yield = true;
	o.max_wall = 0;
	bench_run(&o, &c);
	spin_stop(pids, n);

	tap_diag("busy: wall %.2f s, yielded %.2f s, %u skipped, %zu samples, status %s",
		 r.wall_seconds, r.yielded_seconds, r.samples_skipped, r.n_samples,
		 source_status_to_string(r.status));
	/* Not more: under a loaded `make -j check` a SCHED_IDLE thread also
	 * waits for a CPU, and that wall time is not a pause. */
	ok(r.yielded_seconds > 0.1, "busy: the run paused for its neighbours (%.2f s)",
	   r.yielded_seconds);
	ok(r.wall_seconds < 3 + 2 + overshoot(), "busy: the wall limit held (%.2f s)", r.wall_seconds);
	ok(r.cpu_seconds <= 0.1 * 1.5 + overshoot(), "busy: CPU %.3f s within budget", r.cpu_seconds);
	ok(r.samples_skipped + r.n_samples == 2, "busy: every sample measured or counted as skipped");
	if (r.status == SOURCE_OK)
		ok(r.encrypt_bytes_per_second > 0, "busy: a headline figure when measured");
	else
		ok(r.error && strstr(r.error, "busy"),
		   "busy: no figure, and the error says why: %s", strna(r.error));
	j = bench_result_to_json(&r);
	ok(j && json_object_object_get_ex(j, "yielded_seconds", &v) && json_object_get_double(v) > 0,
	   "busy: JSON yielded_seconds");
	ok(j && json_object_object_get_ex(j, "samples_skipped", &v) &&
		   json_object_get_int(v) == (int)r.samples_skipped,
	   "busy: JSON samples_skipped");
	json_object_put(j);
	tap_diag("control: wall %.2f s, CPU %.3f s", c.wall_seconds, c.cpu_seconds);
	ok(c.yielded_seconds == 0 && c.samples_skipped == 0, "control: no yielding when told not to");
	is_int(c.n_samples, 2, "control: both samples measured");
	bench_result_done(&r);
	bench_result_done(&c);
}

int main(void)
{
	test_default_run();
	test_gives_way();
	test_restricted_run();
	test_failed_rendering();
	return tap_done();
}
