/* The AES-XTS benchmark run: samples for each engine, key size and thread
 * count on dedicated low-priority threads, timed by thread CPU time within
 * a CPU budget, then the host facts and the headline figure. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/strutil.h"
#include "probes/bench-internal.h"
#include "probes/bench.h"

#define BUFFER_BYTES (64 * 1024)         /* what openssl speed -bytes 65536 and cryptsetup use */
#define MIN_SLICE 0.002                  /* CPU seconds; below it clocks dominate */
#define BUDGET_SHARE 0.85                /* the rest pays for threads, keys, warm-up */
#define DISTURBED_CPU_WALL 0.9
#define DISTURBED_PSI_SHARE 0.10         /* of the sample's wall time, some task waited */
#define CLOCK_CHECK_SECONDS 0.0005       /* read the clocks about this often */

static double now(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_options_init(struct bench_options *opts)
{
	*opts = (struct bench_options){
		.cpu_budget = 1.0,
		.allow_kernel = true,
		.all_threads = true,
		.idle_priority = true,
	};
}

/* Priorities from weakest to strongest claim on the CPU: a run reports
 * the strongest any of its threads kept. */
static const char *const priority_names[] = { "SCHED_IDLE", "nice 19", "normal", "unchanged" };

/* Both SCHED_IDLE and nice act on the calling thread only (Linux), so a
 * dedicated thread needs nothing restored. Returns the priority_names index. */
static unsigned lower_priority(const struct bench_options *opts)
{
	struct sched_param sp = {};

	if (opts->normal_priority)
		return 2;
	if (opts->idle_priority && sched_setscheduler(0, SCHED_IDLE, &sp) == 0)
		return 0;
	return setpriority(PRIO_PROCESS, (id_t)gettid(), 19) == 0 ? 1 : 3;
}

static void note_priority(struct bench_result *res, unsigned got)
{
	const char *name = priority_names[MIN(got, ARRAY_SIZE(priority_names) - 1)];

	for (size_t i = 0; i < ARRAY_SIZE(priority_names); i++) {
		if (res->priority == priority_names[i] && i >= got)
			return;
	}
	res->priority = name;
}

/* Lets the threads of one sample start measuring together. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};

static void gate_wait(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* One thread's share of a sample in one direction. */
struct job {
	const struct bench_engine *engine;
	const struct bench_options *opts;
	unsigned key_bits;
	bool decrypt;
	double slice;                    /* CPU seconds to measure for */
	struct gate *gate;

	int r;
	uint64_t bytes;
	double cpu, wall;                /* of the measured loop */
	double thread_cpu;               /* of the whole thread, setup included */
	unsigned priority;
};

/* Runs the engine until the slice of CPU time is spent, reading the
 * clocks only every few operations so that reading them costs nothing
 * measurable. A thread starved of CPU gives up at a wall deadline. */
static int job_loop(struct job *j, void *ctx, uint8_t *buf, unsigned batch)
{
	double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	double deadline = j->slice * 20 + 1.0;

	for (;;) {
		for (unsigned i = 0; i < batch; i++) {
			int r = j->engine->run(ctx, buf, BUFFER_BYTES);
			if (r < 0)
				return r;
		}
		j->bytes += (uint64_t)batch * BUFFER_BYTES;
		j->cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
		j->wall = now(CLOCK_MONOTONIC) - w0;
		if (j->cpu >= j->slice)
			return 0;
		if (j->wall >= deadline)
			return j->cpu > 0 ? 0 : -ETIME;
	}
}

/* Keys, buffer and one warm-up operation, which also sizes the batch of
 * operations between two clock reads. */
static int job_prepare(struct job *j, void **ret_ctx, uint8_t *buf, unsigned *ret_batch)
{
	double t0, op;
	int r;

	r = j->engine->open(ret_ctx, j->key_bits, j->decrypt);
	if (r < 0)
		return r;
	t0 = now(CLOCK_THREAD_CPUTIME_ID);
	r = j->engine->run(*ret_ctx, buf, BUFFER_BYTES);
	if (r < 0)
		return r;
	op = now(CLOCK_THREAD_CPUTIME_ID) - t0;
	*ret_batch = op > 0 ? (unsigned)MAX(MIN(CLOCK_CHECK_SECONDS / op, 64.0), 1.0) : 8;
	return 0;
}

static void *job_thread(void *p)
{
	struct job *j = p;
	_cleanup_free_ uint8_t *buf = aligned_alloc(64, BUFFER_BYTES);
	void *ctx = NULL;
	unsigned batch = 1;

	j->priority = lower_priority(j->opts);
	j->r = buf ? 0 : -ENOMEM;
	if (buf) {
		memset(buf, 0x5a, BUFFER_BYTES);
		j->r = job_prepare(j, &ctx, buf, &batch);
	}
	gate_wait(j->gate);
	if (j->r >= 0)
		j->r = job_loop(j, ctx, buf, batch);
	if (ctx)
		j->engine->close(ctx);
	j->thread_cpu = now(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

/* One direction of a sample: its throughput summed over the threads, each
 * normalised by its own CPU time. */
struct direction {
	unsigned priority;
	double bytes_per_second;
	double cpu, wall, thread_cpu;
	bool disturbed;
};

static int direction_collect(const struct job *jobs, unsigned n, struct direction *d)
{
	for (unsigned i = 0; i < n; i++) {
		const struct job *j = &jobs[i];

		d->thread_cpu += j->thread_cpu;
		d->priority = MAX(d->priority, j->priority);
		if (j->r < 0)
			return j->r;
		if (j->cpu <= 0 || j->wall <= 0)
			return -ETIME;
		d->bytes_per_second += (double)j->bytes / j->cpu;
		d->cpu += j->cpu;
		d->wall = MAX(d->wall, j->wall);
		if (j->cpu / j->wall < DISTURBED_CPU_WALL)
			d->disturbed = true;
	}
	return 0;
}

/* Starts the threads, opens the gate once all exist (or creation failed),
 * and joins them. Returns the number started. */
static unsigned jobs_run(struct job *jobs, unsigned n, struct gate *gate)
{
	_cleanup_free_ pthread_t *tids = calloc(n, sizeof(pthread_t));
	unsigned started = 0;

	if (tids)
		for (; started < n; started++)
			if (pthread_create(&tids[started], NULL, job_thread, &jobs[started]) != 0)
				break;
	gate_open(gate);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return started;
}

static int run_direction(const struct bench_engine *engine, const struct bench_options *opts,
			 unsigned key_bits, bool decrypt, unsigned threads, double slice,
			 struct direction *d)
{
	struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	_cleanup_free_ struct job *jobs = calloc(threads, sizeof(struct job));
	uint64_t psi0 = 0, psi1 = 0;
	double avg;
	bool psi;

	if (!jobs)
		return -ENOMEM;
	for (unsigned i = 0; i < threads; i++)
		jobs[i] = (struct job){ engine, opts, key_bits, decrypt, slice, &gate };
	psi = bench_read_psi(&avg, &psi0) == 0;
	if (jobs_run(jobs, threads, &gate) < threads)
		return -EAGAIN;
	psi = psi && bench_read_psi(&avg, &psi1) == 0;
	*d = (struct direction){};
	int r = direction_collect(jobs, threads, d);
	if (r < 0)
		return r;
	/* Some task waited for a CPU during a good share of the sample. */
	if (psi && psi1 >= psi0 && (double)(psi1 - psi0) / 1e6 > DISTURBED_PSI_SHARE * d->wall)
		d->disturbed = true;
	return 0;
}

/* The run being assembled, and its CPU bill. */
struct run {
	const struct bench_options *opts;
	struct bench_result *res;
	double slice;
	double worker_cpu;
	int first_error;
	char *first_error_what;
};

static int sample_add(struct bench_result *res, const struct bench_sample *s)
{
	struct bench_sample *n = reallocarray(res->samples, res->n_samples + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	res->samples = n;
	res->samples[res->n_samples++] = *s;
	return 0;
}

static void run_failed(struct run *run, int r, const char *engine, unsigned key_bits)
{
	if (run->first_error < 0)
		return;
	run->first_error = r;
	run->first_error_what = strprintf("%s aes-%u-xts", engine, key_bits / 2);
}

static void run_sample(struct run *run, const struct bench_engine *engine, unsigned key_bits,
		       unsigned threads)
{
	struct direction enc = {}, dec = {};
	int r;

	r = run_direction(engine, run->opts, key_bits, false, threads, run->slice, &enc);
	run->worker_cpu += enc.thread_cpu;
	note_priority(run->res, enc.priority);
	if (r >= 0) {
		r = run_direction(engine, run->opts, key_bits, true, threads, run->slice, &dec);
		run->worker_cpu += dec.thread_cpu;
		note_priority(run->res, dec.priority);
	}
	if (r >= 0)
		r = sample_add(run->res, &(struct bench_sample){
			.engine = engine->name,
			.key_bits = key_bits,
			.threads = threads,
			.encrypt_bytes_per_second = enc.bytes_per_second,
			.decrypt_bytes_per_second = dec.bytes_per_second,
			.cpu_seconds = enc.cpu + dec.cpu,
			.wall_seconds = enc.wall + dec.wall,
			.disturbed = enc.disturbed || dec.disturbed,
		});
	if (r < 0)
		run_failed(run, r, engine->name, key_bits);
}

static void run_engine(struct run *run, const struct bench_engine *engine)
{
	static const unsigned keys[] = { 256, 512 };
	unsigned all = run->res->usable_cpus;

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		run_sample(run, engine, keys[k], 1);
		if (run->opts->all_threads && all > 1)
			run_sample(run, engine, keys[k], all);
	}
}

/* libcryptsetup's own loop, timed from outside on a low-priority thread. */
struct cs_job {
	const struct bench_options *opts;
	unsigned key_bits;
	int r;
	unsigned priority;
	double enc, dec, cpu, wall;
};

static void *cs_thread(void *p)
{
	struct cs_job *j = p;
	double w0;

	j->priority = lower_priority(j->opts);
	w0 = now(CLOCK_MONOTONIC);
	j->r = bench_crypt_benchmark(j->key_bits, &j->enc, &j->dec);
	j->wall = now(CLOCK_MONOTONIC) - w0;
	j->cpu = now(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static int run_libcryptsetup_one(struct run *run, unsigned key_bits)
{
	struct cs_job j = { run->opts, key_bits };
	pthread_t tid;

	if (pthread_create(&tid, NULL, cs_thread, &j) != 0)
		return -EAGAIN;
	pthread_join(tid, NULL);
	run->worker_cpu += j.cpu;
	note_priority(run->res, j.priority);
	if (j.r < 0)
		return j.r;
	return sample_add(run->res, &(struct bench_sample){
		.engine = "kernel",
		.key_bits = key_bits,
		.threads = 1,
		.encrypt_bytes_per_second = j.enc,
		.decrypt_bytes_per_second = j.dec,
		.cpu_seconds = j.cpu,
		.wall_seconds = j.wall,
		.disturbed = j.wall > 0 && j.cpu / j.wall < DISTURBED_CPU_WALL,
	});
}

static void kernel_unavailable(struct bench_result *res, const char *what, int r)
{
	res->kernel_available = false;
	free(res->kernel_unavailable_reason);
	res->kernel_unavailable_reason = strprintf("%s: %s (%s)", what, strerror(-r),
						   bench_kernel_errno_reason(r));
}

static void run_kernel_libcryptsetup(struct run *run)
{
	static const unsigned keys[] = { 256, 512 };

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		int r = run_libcryptsetup_one(run, keys[k]);
		if (r < 0) {
			kernel_unavailable(run->res, "crypt_benchmark", r);
			return;
		}
	}
	run->res->kernel_available = true;
}

/* Opening a socket is cheap and tells whether the budget must be shared
 * with the kernel path at all. */
static bool kernel_probe(struct bench_result *res)
{
	void *ctx = NULL;
	int r;

	r = bench_engine_afalg.open(&ctx, 256, false);
	if (r < 0) {
		kernel_unavailable(res, "AF_ALG xts(aes)", r);
		return false;
	}
	bench_engine_afalg.close(ctx);
	return true;
}

static void run_kernel(struct run *run)
{
	size_t before = run->res->n_samples;

	run_engine(run, &bench_engine_afalg);
	run->res->kernel_available = run->res->n_samples > before;
	if (!run->res->kernel_available && !run->res->kernel_unavailable_reason)
		kernel_unavailable(run->res, "AF_ALG xts(aes)", run->first_error);
}

/* The share of the budget each thread of each direction measures for. */
static double budget_slice(const struct bench_options *opts, unsigned usable, unsigned engines)
{
	unsigned per_key = 1 + (opts->all_threads && usable > 1 ? usable : 0);
	unsigned units = engines * 2 /* keys */ * 2 /* directions */ * per_key;

	return MAX(opts->cpu_budget * BUDGET_SHARE / units, MIN_SLICE);
}

/* Which kernel driver serves xts(aes), read after the kernel path ran
 * (that instantiates it), and whether the CPU could do better. */
static int host_facts(struct bench_result *res)
{
	_cleanup_free_ char *crypto = NULL, *cpuinfo = NULL, *flags = NULL;
	struct bench_crypto_driver xts = {}, aes = {};
	int r;

	if (bench_read_file("/proc/cpuinfo", 1024 * 1024, &cpuinfo) >= 0)
		flags = bench_parse_cpuinfo_flags(cpuinfo);
	if (bench_read_file("/proc/crypto", 4 * 1024 * 1024, &crypto) < 0)
		return 0;
	r = bench_parse_proc_crypto(crypto, "xts(aes)", &xts);
	if (r < 0)
		return r;
	if (xts.driver) {
		res->kernel_driver = TAKE_PTR(xts.driver);
		res->kernel_driver_priority = xts.priority;
		res->kernel_faster_hint = bench_faster_hint(res->kernel_driver, flags);
		bench_crypto_driver_done(&xts);
		return 0;
	}
	/* xts(aes) is made on first use; until then the AES block cipher
	 * driver tells whether the kernel has accelerated AES at all. */
	r = bench_parse_proc_crypto(crypto, "aes", &aes);
	if (r >= 0 && aes.driver && flags && !strstr(aes.driver, "aesni") &&
	    !strstr(aes.driver, "-ce") && !strstr(aes.driver, "-lib") &&
	    bench_cpu_has_aes(flags))
		res->kernel_faster_hint = strprintf(
			"CPU has AES instructions but the kernel's aes cipher is %s, generic code "
			"(is aesni_intel or aes-ce-cipher loaded?)", aes.driver);
	bench_crypto_driver_done(&aes);
	return r < 0 ? r : 0;
}

const struct bench_sample *bench_result_find(const struct bench_result *res, const char *engine,
					     unsigned key_bits, unsigned threads)
{
	for (size_t i = 0; i < res->n_samples; i++) {
		const struct bench_sample *s = &res->samples[i];
		if (streq(s->engine, engine) && s->key_bits == key_bits && s->threads == threads)
			return s;
	}
	return NULL;
}

static void run_finish(struct run *run)
{
	struct bench_result *res = run->res;
	const struct bench_sample *h;

	h = bench_result_find(res, res->kernel_available ? "kernel" : "openssl", 512, 1);
	if (!h && res->kernel_available)
		h = bench_result_find(res, "openssl", 512, 1);
	if (h) {
		res->status = SOURCE_OK;
		res->engine = h->engine;
		res->key_bits = 512;
		res->encrypt_bytes_per_second = h->encrypt_bytes_per_second;
		res->decrypt_bytes_per_second = h->decrypt_bytes_per_second;
		return;
	}
	res->status = SOURCE_ERROR;
	if (run->first_error < 0)
		res->error = strprintf("%s: %s", strna(run->first_error_what), strerror(-run->first_error));
	else
		res->error = strdup("no AES-256-XTS figure was measured");
}

void bench_run(const struct bench_options *opts, struct bench_result *res)
{
	struct bench_options defaults;
	struct run run = { .res = res };
	double self0 = now(CLOCK_THREAD_CPUTIME_ID);
	uint64_t total;
	bool kernel;

	if (!opts) {
		bench_options_init(&defaults);
		opts = &defaults;
	}
	run.opts = opts;
	*res = (struct bench_result){ .ran_at = time(NULL), .cpu_pressure_avg10 = -1 };
	res->usable_cpus = bench_usable_cpus();
	res->openssl_version = strdup_or_null(bench_openssl_version());
	(void)bench_read_psi(&res->cpu_pressure_avg10, &total);

	kernel = opts->allow_kernel && !opts->kernel_via_libcryptsetup && kernel_probe(res);
	if (!opts->allow_kernel)
		res->kernel_unavailable_reason = strdup("the kernel path was not asked for");
	run.slice = budget_slice(opts, res->usable_cpus, kernel ? 2 : 1);
	if (kernel)
		run_kernel(&run);
	else if (opts->allow_kernel && opts->kernel_via_libcryptsetup)
		run_kernel_libcryptsetup(&run);
	run_engine(&run, &bench_engine_openssl);
	(void)host_facts(res);
	run_finish(&run);
	free(run.first_error_what);
	res->cpu_seconds = run.worker_cpu + (now(CLOCK_THREAD_CPUTIME_ID) - self0);
}

void bench_result_done(struct bench_result *r)
{
	if (!r)
		return;
	free(r->error);
	free(r->kernel_unavailable_reason);
	free(r->kernel_driver);
	free(r->kernel_faster_hint);
	free(r->openssl_version);
	free(r->samples);
	*r = (struct bench_result){};
}

static bool dup_field(char **dst, const char *src)
{
	*dst = strdup_or_null(src);
	return !src || *dst;
}

int bench_result_copy(struct bench_result *dst, const struct bench_result *src)
{
	struct bench_result c = *src;
	bool ok;

	c.error = c.kernel_unavailable_reason = c.kernel_driver = NULL;
	c.kernel_faster_hint = c.openssl_version = NULL;
	c.samples = NULL;
	ok = dup_field(&c.error, src->error) &&
	     dup_field(&c.kernel_unavailable_reason, src->kernel_unavailable_reason) &&
	     dup_field(&c.kernel_driver, src->kernel_driver) &&
	     dup_field(&c.kernel_faster_hint, src->kernel_faster_hint) &&
	     dup_field(&c.openssl_version, src->openssl_version);
	if (ok && src->n_samples > 0) {
		c.samples = calloc(src->n_samples, sizeof(*c.samples));
		ok = c.samples;
		if (ok)
			memcpy(c.samples, src->samples, src->n_samples * sizeof(*c.samples));
	}
	if (!ok) {
		bench_result_done(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}
