/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: the main loop. It owns the schedule (evaluation and
 * benchmark timers, jittered), the signals (signalfd), sd_notify and the
 * hand-over of each finished evaluation to HTTP and the journal. The work
 * itself runs in one short-lived worker thread at a time, so that signals
 * and the watchdog are served while IMDS is slow. */
#include "config.h"

#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "agent/daemon/daemon.h"
#include "agent/report/journal.h"
#include "lib/log.h"

/* IMDS answers are reused for this long (and the cache rate-limits). */
#define DAEMON_IMDS_MAX_AGE 50.0
/* STATUS= is refreshed this often so "last evaluation N s ago" stays true. */
#define DAEMON_STATUS_PERIOD 5.0
/* How long a stop waits for a running evaluation before abandoning it. */
#define DAEMON_STOP_GRACE_MS 500
#define DAEMON_WORKER_NICE 10

enum job_type {
	JOB_EVALUATE,
	JOB_BENCH,
};

/* One unit of work for the worker thread; results are read by the main
 * loop after the eventfd fires. Abandoned (leaked) on a forced stop. */
struct job {
	enum job_type type;
	pthread_t thread;
	int efd;
	int (*evaluate)(const struct gather_options *o, struct evaluation **ret);
	void (*bench)(const struct bench_options *o, struct bench_result *res);
	struct gather_options gopts;
	struct bench_options bopts;
	const char *version;
	int r;
	struct evaluation *ev;
	struct http_snapshot *snap;
	struct bench_result bench_res;
};

struct daemon {
	const struct daemon_options *o;
	const struct config *conf; /* in force */
	struct config *owned;      /* conf, when it came from a reload */
	struct config *pending;    /* reloaded while a job ran */
	struct http_server *http;
	struct journal_sink journal;
	struct imds_cache *imds_cache;
	struct arm_cache *arm_cache;
	int sigfd, efd;
	struct job *job;
	struct evaluation *last;
	double last_eval_at; /* monotonic seconds */
	struct bench_result bench;
	bool have_bench;
	double next_eval, next_bench, next_watchdog, next_status;
	uint64_t watchdog_usec;
	struct prom_self self;
	unsigned short rand_state[3];
	bool ready;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double daemon_jitter(double interval, double u)
{
	return interval * (0.9 + 0.2 * u);
}

char *daemon_status_text(const struct report *r, double age)
{
	if (!r)
		return strdup("first evaluation running");
	return strprintf("%s, %zu checks, last evaluation %.0f s ago",
			 verdict_to_string(r->verdict), r->results.n, floor(age));
}

static double interval_of(const struct daemon *d)
{
	if (d->o->interval > 0)
		return d->o->interval;
	return d->conf->interval ? d->conf->interval : ATREST_DEFAULT_INTERVAL;
}

/* The slow timer; sooner after a run that other work kept from measuring. */
static double bench_interval_of(const struct daemon *d, const struct bench_result *last)
{
	double every = d->o->bench_interval > 0 ? d->o->bench_interval : DAEMON_DEFAULT_BENCH_INTERVAL;

	if (last->samples_skipped)
		return MIN(every, DAEMON_BENCH_BUSY_RETRY);
	return every;
}

static double jittered(struct daemon *d, double interval)
{
	return daemon_jitter(interval, erand48(d->rand_state));
}

static void config_release(struct config *c)
{
	if (!c)
		return;
	config_done(c);
	free(c);
}

static void *job_main(void *p)
{
	struct job *j = p;
	uint64_t one = 1;

	/* Background work: a scrape arriving during an evaluation must not
	 * wait for it (nice acts on this thread only, and on threads it
	 * starts; the benchmark's own threads go lower, to SCHED_IDLE). */
	if (setpriority(PRIO_PROCESS, (id_t)thread_id(), DAEMON_WORKER_NICE) < 0)
		log_debug_errno(errno, "daemon: cannot lower the worker's priority: %m");

	if (j->type == JOB_BENCH) {
		j->bench(&j->bopts, &j->bench_res);
	} else {
		j->r = j->evaluate(&j->gopts, &j->ev);
		if (j->r >= 0)
			j->r = http_snapshot_new(&j->ev->report, j->version, &j->snap);
	}
	if (write(j->efd, &one, sizeof(one)) < 0)
		log_debug_errno(errno, "daemon: cannot signal job completion: %m");
	return NULL;
}

static int job_start(struct daemon *d, enum job_type type)
{
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	*j = (struct job){
		.type = type,
		.efd = d->efd,
		.evaluate = d->o->evaluate ? d->o->evaluate : evaluate,
		.bench = d->o->bench ? d->o->bench : bench_run,
		.gopts = { .conf = d->conf,
			   .sr = d->o->sr,
			   .no_bench = d->o->no_bench,
			   .bench = d->have_bench ? &d->bench : NULL,
			   .imds_cache = d->imds_cache,
			   .arm_cache = d->arm_cache },
		.version = d->o->version ? d->o->version : PACKAGE_VERSION,
	};
	/* The defaults (all threads, SCHED_IDLE, yielding to other work), cut
	 * short so that a busy node does not hold evaluations back for long. */
	bench_options_init(&j->bopts);
	j->bopts.max_wall = DAEMON_BENCH_MAX_WALL;
	r = -pthread_create(&j->thread, NULL, job_main, j);
	if (r < 0) {
		free(j);
		return log_error_errno(r, "daemon: cannot start a worker thread: %m");
	}
	d->job = j;
	return 0;
}

static void notify_status(struct daemon *d, const char *extra)
{
	_cleanup_free_ char *st = daemon_status_text(d->last ? &d->last->report : NULL,
						     now_mono() - d->last_eval_at);

	sd_notifyf(false, "%sSTATUS=%s", extra ? extra : "", st ? st : "");
	d->next_status = now_mono() + DAEMON_STATUS_PERIOD;
}

static void evaluation_done(struct daemon *d, struct job *j)
{
	struct journal_diff diff;

	if (j->r < 0) {
		d->self.evaluation_errors_total++;
		journal_log_event(&d->journal, ATREST_MESSAGE_EVALUATION_FAILED, LOG_ERR,
				  "evaluation failed: %s; serving the previous report",
				  strerror(-j->r));
		evaluation_free(j->ev);
		return;
	}
	d->self.evaluations_total++;
	if (journal_diff(d->last ? &d->last->report : NULL, &j->ev->report, &diff) >= 0) {
		journal_log_diff(&d->journal, &diff);
		journal_diff_done(&diff);
	}
	http_server_publish(d->http, TAKE_PTR(j->snap));
	evaluation_free(d->last);
	d->last = TAKE_PTR(j->ev);
	d->last_eval_at = now_mono();
	notify_status(d, d->ready ? NULL : "READY=1\n");
	d->ready = true;
}

static void apply_config(struct daemon *d, struct config *c)
{
	config_release(d->owned);
	d->owned = c;
	d->conf = c;
	d->next_eval = now_mono();
}

static void job_done(struct daemon *d)
{
	struct job *j = TAKE_PTR(d->job);
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0)
		log_debug_errno(errno, "daemon: eventfd: %m");
	pthread_join(j->thread, NULL);
	if (j->type == JOB_BENCH) {
		if (d->have_bench)
			bench_result_done(&d->bench);
		d->bench = j->bench_res;
		d->have_bench = true;
		d->next_bench = now_mono() + jittered(d, bench_interval_of(d, &d->bench));
		d->next_eval = now_mono(); /* show the new figure */
	} else {
		evaluation_done(d, j);
	}
	http_snapshot_unref(j->snap);
	free(j);
	if (d->pending)
		apply_config(d, TAKE_PTR(d->pending));
	http_server_set_self(d->http, &d->self);
	/* The daemon idles between evaluations: give what the worker freed
	 * (its arena included) back to the kernel. */
	malloc_trim(0);
}

static bool strv_equal(char *const *a, char *const *b)
{
	size_t n = strv_length(a);

	if (n != strv_length(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!streq(a[i], b[i]))
			return false;
	return true;
}

static void reload(struct daemon *d)
{
	_cleanup_free_ char *err = NULL;
	struct config *c = NULL;
	int r;

	if (!d->o->reload)
		return;
	r = d->o->reload(d->o->userdata, &c, &err);
	if (r < 0) {
		d->self.config_reload_errors_total++;
		journal_log_event(&d->journal, ATREST_MESSAGE_RELOAD_FAILED, LOG_ERR,
				  "configuration reload failed, keeping the running configuration: %s",
				  err ? err : strerror(-r));
	} else {
		d->self.config_reloads_total++;
		journal_log_event(&d->journal, ATREST_MESSAGE_RELOADED, LOG_INFO,
				  "configuration reloaded%s",
				  strv_equal(c->listen, d->conf->listen) ?
					  "" :
					  "; new listen addresses take effect on restart");
		if (d->job) {
			config_release(d->pending);
			d->pending = c;
		} else
			apply_config(d, c);
	}
	http_server_set_self(d->http, &d->self);
}

/* Returns true when the loop must stop. */
static bool handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return false;
	}
	log_info("received %s, stopping", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	return true;
}

static void schedule(struct daemon *d, double now)
{
	int r = 0;

	if (d->job)
		return;
	if (d->ready && !d->o->no_bench && now >= d->next_bench)
		r = job_start(d, JOB_BENCH);
	else if (now >= d->next_eval) {
		r = job_start(d, JOB_EVALUATE);
		d->next_eval = now + jittered(d, interval_of(d));
	}
	if (r < 0) /* retry on the next tick */
		d->next_eval = now + 1;
}

static int poll_timeout_ms(const struct daemon *d, double now)
{
	double next = now + 1.0; /* tick /healthz at least every second */

	if (!d->job)
		next = MIN(next, MIN(d->next_eval, d->o->no_bench || !d->ready ? next : d->next_bench));
	if (d->watchdog_usec)
		next = MIN(next, d->next_watchdog);
	return next <= now ? 0 : (int)ceil((next - now) * 1000);
}

static void housekeeping(struct daemon *d, double now)
{
	http_server_tick(d->http);
	if (d->watchdog_usec && now >= d->next_watchdog) {
		sd_notify(false, "WATCHDOG=1");
		d->next_watchdog = now + d->watchdog_usec / 2e6;
	}
	if (d->ready && now >= d->next_status)
		notify_status(d, NULL);
}

static int main_loop(struct daemon *d)
{
	for (;;) {
		struct pollfd p[] = { { d->sigfd, POLLIN, 0 }, { d->efd, POLLIN, 0 } };
		double now = now_mono();

		housekeeping(d, now);
		schedule(d, now);
		if (poll(p, 2, poll_timeout_ms(d, now_mono())) < 0 && errno != EINTR)
			return log_error_errno(errno, "daemon: poll: %m");
		if ((p[0].revents & POLLIN) && handle_signal(d))
			return 0;
		if ((p[1].revents & POLLIN) && d->job)
			job_done(d);
	}
}

/* A stop waits briefly for the worker; an evaluation stuck in a slow
 * source is abandoned (its memory leaks; the process is exiting). */
static void stop_job(struct daemon *d)
{
	struct pollfd p = { d->efd, POLLIN, 0 };

	if (!d->job)
		return;
	if (poll(&p, 1, DAEMON_STOP_GRACE_MS) > 0) {
		job_done(d);
		return;
	}
	log_warning("daemon: abandoning the running %s",
		    d->job->type == JOB_BENCH ? "benchmark" : "evaluation");
	pthread_detach(d->job->thread);
	d->job = NULL;
	d->efd = -1; /* the worker may still write to it */
}

static int daemon_setup(struct daemon *d, const sigset_t *mask)
{
	static char *const default_listen[] = { (char *)ATREST_DEFAULT_LISTEN, NULL };
	struct http_options ho = {
		.listen = strv_length(d->conf->listen) ? d->conf->listen : default_listen,
		.connection_limit = d->o->connection_limit,
		.connection_timeout = d->o->connection_timeout,
	};
	_cleanup_free_ char *err = NULL;
	uint64_t seed;
	int r;

	d->sigfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->sigfd < 0 || d->efd < 0)
		return log_error_errno(errno, "daemon: cannot create signalfd/eventfd: %m");
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	memcpy(d->rand_state, &seed, sizeof(d->rand_state));
	d->imds_cache = imds_cache_new(DAEMON_IMDS_MAX_AGE);
	/* The first ARM lookup waits a random delay: see imds/arm/sched.c. */
	d->arm_cache = arm_cache_new(true);
	if (!d->imds_cache || !d->arm_cache)
		return log_error_errno(ENOMEM, "daemon: out of memory");
	r = http_server_start(&ho, &d->http, &err);
	if (r < 0)
		return log_error_errno(r, "daemon: %s", err ? err : "cannot start the HTTP server");
	d->self.start_time_seconds = (double)time(NULL);
	http_server_set_self(d->http, &d->self);
	http_server_tick(d->http);
	if (sd_watchdog_enabled(false, &d->watchdog_usec) <= 0)
		d->watchdog_usec = 0;
	d->next_eval = d->next_bench = d->next_watchdog = now_mono();
	journal_sink_init(&d->journal, d->o->journal_socket, stderr);
	if (d->o->listening)
		d->o->listening(d->o->userdata, d->http);
	return 0;
}

static void daemon_teardown(struct daemon *d)
{
	stop_job(d);
	http_server_free(d->http);
	evaluation_free(d->last);
	if (d->have_bench)
		bench_result_done(&d->bench);
	imds_cache_free(d->imds_cache);
	arm_cache_free(d->arm_cache);
	config_release(d->owned);
	config_release(d->pending);
	if (d->sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consume signals still pending: unblocking them would kill. */
		while (read(d->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(d->sigfd);
	}
	if (d->efd >= 0)
		close(d->efd);
}

int daemon_run(const struct daemon_options *o)
{
	struct daemon d = { .o = o, .conf = o->conf, .sigfd = -1, .efd = -1 };
	sigset_t mask, old;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	r = daemon_setup(&d, &mask);
	if (r >= 0) {
		r = main_loop(&d);
		sd_notify(false, "STOPPING=1");
	}
	daemon_teardown(&d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}
