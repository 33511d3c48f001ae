/* SPDX-License-Identifier: Apache-2.0 */
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

#define BUFFER_BYTES (64 * 1024) /* what openssl speed -bytes 65536 and cryptsetup use */
#define MIN_SLICE 0.002          /* CPU seconds; below it clocks dominate */
#define BUDGET_SHARE 0.85        /* the rest pays for threads, keys, warm-up */
#define DISTURBED_CPU_WALL 0.9
#define DISTURBED_PSI_SHARE 0.10   /* of the sample's wall time, some task waited */
#define CLOCK_CHECK_SECONDS 0.0005 /* read the clocks about this often */
/* Giving way to other work (see struct neighbours). */
#define BURST_CPU 0.005       /* CPU seconds between two looks at the node */
#define BUSY_DUTY 0.003       /* share of wall time run while the node is busy */
#define BUSY_SLICE 0.02       /* CPU seconds per thread and direction then */
#define OTHERS_TAU 0.1        /* seconds: memory of the others' average */
#define PAUSE_STEP 0.05       /* seconds: a pause looks at the node this often */
#define MAX_PAUSE 2.0         /* seconds; one pause never lasts longer */
#define FIRST_LOOKS 10        /* before the first sample, looks ... */
#define FIRST_LOOK_STEP 0.005 /* ... this far apart, averaged */

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
	return setpriority(PRIO_PROCESS, (id_t)thread_id(), 19) == 0 ? 1 : 3;
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

/* What the threads of a run know of the node's other work. The benchmark
 * runs in bursts of BURST_CPU; after each (and every PAUSE_STEP of a
 * pause) a thread counts the tasks runnable on the node besides its own
 * (/proc/loadavg), into an average with a memory of OTHERS_TAU. While that
 * average is above bench_busy_threshold(), the node is busy: the bursts
 * take BUSY_DUTY of the wall time, a sample measures BUSY_SLICE, and the
 * all-CPU samples (which would take every CPU) are skipped. Sharing
 * caches, memory bandwidth and SMT siblings hurts a latency-sensitive
 * neighbour even though SCHED_IDLE always lets it run first; at 0.3% of
 * the time it meets the benchmark in fewer requests than its p99 tail. */
struct neighbours {
	pthread_mutex_t lock;
	bool enabled;
	bool readable;     /* /proc/loadavg was read at the start */
	unsigned active;   /* our threads in a burst */
	double others;     /* the average */
	double sampled_at; /* CLOCK_MONOTONIC */
	double threshold;
	double deadline; /* CLOCK_MONOTONIC; 0 = none */
};

/* The average starts from a few looks 5 ms apart, so that the first
 * sample already knows whether the node is busy (50 ms of wall time). */
static void neighbours_init(struct neighbours *nb, const struct bench_options *opts)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned running, looks = 0;
	double sum = 0;

	*nb = (struct neighbours){
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.enabled = !opts->no_yield,
		.threshold = bench_busy_threshold(online > 0 ? (unsigned)online : 1),
		.deadline = opts->max_wall > 0 ? now(CLOCK_MONOTONIC) + opts->max_wall : 0,
	};
	for (unsigned i = 0; nb->enabled && i < FIRST_LOOKS; i++) {
		struct timespec ts = { 0, (long)(FIRST_LOOK_STEP * 1e9) };

		if (i > 0)
			nanosleep(&ts, NULL);
		if (bench_read_loadavg_running(&running) < 0)
			break;
		sum += running > 0 ? running - 1 : 0; /* the caller is running */
		looks++;
	}
	nb->readable = looks > 0;
	nb->others = looks ? sum / looks : 0;
	nb->sampled_at = now(CLOCK_MONOTONIC);
}

/* Counts the others once and says whether the node is busy. in_burst:
 * the calling thread is counted in nb->active (else it runs only to
 * look). Without /proc/loadavg the node never looks busy. */
static bool neighbours_busy(struct neighbours *nb, bool in_burst)
{
	double t = now(CLOCK_MONOTONIC);
	unsigned running, ours;
	double sample;
	bool busy;

	if (!nb->readable || bench_read_loadavg_running(&running) < 0)
		return false;
	pthread_mutex_lock(&nb->lock);
	ours = nb->active + (in_burst ? 0 : 1);
	sample = running > ours ? (double)(running - ours) : 0;
	nb->others = bench_others_average(nb->others, sample, t - nb->sampled_at, OTHERS_TAU);
	nb->sampled_at = MAX(nb->sampled_at, t);
	busy = nb->others > nb->threshold;
	pthread_mutex_unlock(&nb->lock);
	return busy;
}

static void neighbours_active(struct neighbours *nb, int delta)
{
	pthread_mutex_lock(&nb->lock);
	nb->active = (unsigned)((int)nb->active + delta);
	pthread_mutex_unlock(&nb->lock);
}

static bool past_deadline(const struct neighbours *nb, double t)
{
	return nb->deadline > 0 && t >= nb->deadline;
}

/* One thread's share of a sample in one direction. */
struct job {
	const struct bench_engine *engine;
	const struct bench_options *opts;
	unsigned key_bits;
	bool decrypt;
	double slice; /* CPU seconds to measure for */
	struct gate *gate;
	struct neighbours *nb;

	int r;
	uint64_t bytes;
	double cpu, wall;  /* of the measured loop, pauses left out */
	double yielded;    /* wall seconds paused for other work */
	double thread_cpu; /* of the whole thread, setup included */
	unsigned priority;
};

/* Between two bursts: while the node is busy, pause so that the bursts
 * take BUSY_DUTY of the wall time, looking again every PAUSE_STEP (the
 * pause ends early once the node is quiet). -EBUSY when the run's wall
 * deadline comes first. */
static int job_give_way(struct job *j, double burst_cpu, double burst_wall)
{
	double t0, end;
	int r = 0;

	if (!neighbours_busy(j->nb, true))
		return 0;
	t0 = now(CLOCK_MONOTONIC);
	end = t0 + MIN(MAX(burst_wall, burst_cpu) * (1 / BUSY_DUTY - 1), MAX_PAUSE);
	neighbours_active(j->nb, -1);
	for (;;) {
		double t = now(CLOCK_MONOTONIC), step = MIN(PAUSE_STEP, end - t);
		struct timespec ts;

		if (past_deadline(j->nb, t)) {
			r = -EBUSY;
			break;
		}
		if (step <= 0)
			break;
		ts.tv_sec = (time_t)step;
		ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		if (!neighbours_busy(j->nb, false))
			break;
	}
	neighbours_active(j->nb, +1);
	j->yielded += now(CLOCK_MONOTONIC) - t0;
	return r;
}

/* Runs the engine until the slice of CPU time is spent, reading the
 * clocks only every few operations so that reading them costs nothing
 * measurable, and giving way to other work between bursts. A thread
 * starved of CPU gives up at a wall deadline. */
static int job_loop(struct job *j, void *ctx, uint8_t *buf, unsigned batch)
{
	double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	double deadline = j->slice * 20 + 1.0;
	double burst_cpu = 0, burst_wall = 0; /* where the burst began */

	for (;;) {
		for (unsigned i = 0; i < batch; i++) {
			int r = j->engine->run(ctx, buf, BUFFER_BYTES);
			if (r < 0)
				return r;
		}
		j->bytes += (uint64_t)batch * BUFFER_BYTES;
		j->cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
		j->wall = now(CLOCK_MONOTONIC) - w0 - j->yielded;
		if (j->cpu >= j->slice)
			return 0;
		if (j->wall >= deadline)
			return j->cpu > 0 ? 0 : -ETIME;
		if (j->nb->enabled && j->cpu - burst_cpu >= BURST_CPU) {
			int r = job_give_way(j, j->cpu - burst_cpu, j->wall - burst_wall);
			if (r < 0)
				return r;
			burst_cpu = j->cpu;
			burst_wall = now(CLOCK_MONOTONIC) - w0 - j->yielded;
		}
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
	if (j->r >= 0) {
		neighbours_active(j->nb, +1);
		j->r = job_loop(j, ctx, buf, batch);
		neighbours_active(j->nb, -1);
	}
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
	double cpu, wall, thread_cpu, yielded;
	bool disturbed;
};

static int direction_collect(const struct job *jobs, unsigned n, struct direction *d)
{
	/* The bill first, from every thread, whatever became of the sample. */
	for (unsigned i = 0; i < n; i++) {
		d->thread_cpu += jobs[i].thread_cpu;
		d->priority = MAX(d->priority, jobs[i].priority);
		d->yielded = MAX(d->yielded, jobs[i].yielded);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct job *j = &jobs[i];

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
			 struct neighbours *nb, unsigned key_bits, bool decrypt, unsigned threads,
			 double slice, struct direction *d)
{
	struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	_cleanup_free_ struct job *jobs = calloc(threads, sizeof(struct job));
	uint64_t psi0 = 0, psi1 = 0;
	double avg;
	bool psi;

	if (!jobs)
		return -ENOMEM;
	for (unsigned i = 0; i < threads; i++)
		jobs[i] = (struct job){ engine, opts, key_bits, decrypt, slice, &gate, nb };
	psi = bench_read_psi(&avg, &psi0) == 0;
	if (jobs_run(jobs, threads, &gate) < threads)
		return -EAGAIN;
	psi = psi && bench_read_psi(&avg, &psi1) == 0;
	*d = (struct direction){};
	int r = direction_collect(jobs, threads, d);
	if (r < 0)
		return r;
	/* Some task waited for a CPU during a good share of the sample (the
	 * pauses left out: neighbours waiting then did not wait for us). */
	if (psi && psi1 >= psi0 &&
	    (double)(psi1 - psi0) / 1e6 > DISTURBED_PSI_SHARE * (d->wall + d->yielded))
		d->disturbed = true;
	return 0;
}

/* The run being assembled, and its CPU bill. */
struct run {
	const struct bench_options *opts;
	struct bench_result *res;
	struct neighbours nb;
	double slice;
	double worker_cpu;
	int first_error;
	char *first_error_what;
	int kernel_error; /* first failure of a kernel sample, busy aside */
	double yielded;   /* wall seconds, skipped samples included */
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
	double slice = run->slice;
	int r = 0;

	if (past_deadline(&run->nb, now(CLOCK_MONOTONIC)))
		r = -EBUSY;
	else if (run->nb.enabled && neighbours_busy(&run->nb, false)) {
		if (threads > 1)
			r = -EBUSY;
		slice = MIN(slice, BUSY_SLICE);
	}
	if (r >= 0) {
		r = run_direction(engine, run->opts, &run->nb, key_bits, false, threads, slice, &enc);
		run->worker_cpu += enc.thread_cpu;
		note_priority(run->res, enc.priority);
	}
	if (r >= 0) {
		r = run_direction(engine, run->opts, &run->nb, key_bits, true, threads, slice, &dec);
		run->worker_cpu += dec.thread_cpu;
		note_priority(run->res, dec.priority);
	}
	run->yielded += enc.yielded + dec.yielded;
	if (r == -EBUSY) {
		run->res->samples_skipped++;
		return;
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
						 .yielded_seconds = enc.yielded + dec.yielded,
					 });
	if (r < 0) {
		run_failed(run, r, engine->name, key_bits);
		if (engine == &bench_engine_afalg && run->kernel_error >= 0)
			run->kernel_error = r;
	}
}

/* The headline's samples first (one thread, 512-bit keys), so that a run
 * cut short by a busy node still has them; the all-CPU samples last. */
static void run_engines(struct run *run, const struct bench_engine *const *engines, size_t n)
{
	static const unsigned keys[] = { 512, 256 };
	unsigned all = run->res->usable_cpus;

	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned threads = pass == 0 ? 1 : all;

		if (pass == 1 && !(run->opts->all_threads && all > 1))
			break;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			for (size_t e = 0; e < n; e++)
				run_sample(run, engines[e], keys[k], threads);
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
	return sample_add(run->res,
			  &(struct bench_sample){
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

/* The probe opened the kernel path; it is available unless every kernel
 * sample failed (skipping for a busy node is not a failure). */
static void kernel_outcome(struct run *run)
{
	bool measured = false;

	for (size_t i = 0; i < run->res->n_samples; i++)
		measured |= streq(run->res->samples[i].engine, bench_engine_afalg.name);
	run->res->kernel_available = measured || run->kernel_error >= 0;
	if (!run->res->kernel_available && !run->res->kernel_unavailable_reason)
		kernel_unavailable(run->res, "AF_ALG xts(aes)", run->kernel_error);
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
	    !strstr(aes.driver, "-ce") && !strstr(aes.driver, "-lib") && bench_cpu_has_aes(flags))
		res->kernel_faster_hint = strprintf("CPU has AES instructions but the kernel's aes cipher is %s, generic code "
						    "(is aesni_intel or aes-ce-cipher loaded?)",
						    aes.driver);
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
		res->error = strprintf("%s: %s", strna(run->first_error_what),
				       strerror(-run->first_error));
	else
		res->error = res->samples_skipped ?
				     strprintf("not measured: other work kept the node busy for the %.0f s the "
					       "benchmark may take, and it gives way to other work",
					       run->opts->max_wall) :
				     strdup("no AES-256-XTS figure was measured");
}

void bench_run(const struct bench_options *opts, struct bench_result *res)
{
	struct bench_options defaults;
	struct run run = { .res = res };
	double self0 = now(CLOCK_THREAD_CPUTIME_ID), wall0 = now(CLOCK_MONOTONIC);
	const struct bench_engine *engines[2];
	size_t n_engines = 0;
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
	neighbours_init(&run.nb, opts);
	if (kernel)
		engines[n_engines++] = &bench_engine_afalg;
	else if (opts->allow_kernel && opts->kernel_via_libcryptsetup)
		run_kernel_libcryptsetup(&run);
	engines[n_engines++] = &bench_engine_openssl;
	run_engines(&run, engines, n_engines);
	if (kernel)
		kernel_outcome(&run);
	(void)host_facts(res);
	run_finish(&run);
	free(run.first_error_what);
	res->cpu_seconds = run.worker_cpu + (now(CLOCK_THREAD_CPUTIME_ID) - self0);
	res->wall_seconds = now(CLOCK_MONOTONIC) - wall0;
	res->yielded_seconds = run.yielded;
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
