/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: the evaluator's main loop. It owns the schedule
 * (evaluation and benchmark timers, jittered), the signals (signalfd),
 * sd_notify, the journal, and the snapshot file the server reads. Each
 * evaluation runs in a child process under a hard deadline: the child
 * gathers, evaluates and renders, then passes the bodies and the state
 * that must outlive it (IMDS and ARM caches, the results for the journal
 * diff) back through a pipe and exits; a child that overruns is killed
 * with its process group. The benchmark runs in a worker thread (it is
 * CPU work with its own wall-time cap); no child is forked while it runs.
 * In role both, the server runs in a child forked first, before any
 * token or device is touched, that drops every privilege. */
#include "config.h"

#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "agent/daemon/daemon.h"
#include "agent/daemon/server.h"
#include "agent/daemon/snapshot.h"
#include "agent/report/journal.h"
#include "lib/json-util.h"
#include "lib/log.h"

/* IMDS answers are reused for this long (and the cache rate-limits). */
#define DAEMON_IMDS_MAX_AGE 50.0
/* STATUS= is refreshed this often so "last evaluation N s ago" stays true. */
#define DAEMON_STATUS_PERIOD 5.0
/* How long a stop waits for the benchmark thread before abandoning it. */
#define DAEMON_STOP_GRACE_MS 500
#define DAEMON_WORKER_NICE 10
/* What an evaluation child may send back: bodies, results and caches. */
#define DAEMON_CHILD_MAX_BYTES (64u << 20)

int daemon_role_from_string(const char *s, enum daemon_role *ret)
{
	if (!s || streq(s, "both"))
		*ret = DAEMON_ROLE_BOTH;
	else if (streq(s, "evaluator"))
		*ret = DAEMON_ROLE_EVALUATOR;
	else if (streq(s, "server"))
		*ret = DAEMON_ROLE_SERVER;
	else
		return -EINVAL;
	return 0;
}

/* The benchmark, in a worker thread. */
struct bench_job {
	pthread_t thread;
	int efd;
	void (*bench)(const struct bench_options *o, struct bench_result *res);
	struct bench_options bopts;
	struct bench_result res;
};

/* An evaluation, in a child process. */
struct eval_job {
	pid_t pid;
	int fd;
	double deadline; /* monotonic */
	struct strbuf buf;
	bool overflow;
};

struct daemon {
	const struct daemon_options *o;
	const struct config *conf; /* in force */
	struct config *owned;      /* conf, when it came from a reload */
	struct config *pending;    /* reloaded while a job ran */
	struct journal_sink journal;
	struct imds_cache *imds_cache;
	struct arm_cache *arm_cache;
	int sigfd, efd;
	struct bench_job *bench_job;
	struct eval_job *eval;
	char *runtime_dir;
	bool own_runtime_dir; /* created here, removed on exit */
	pid_t server;

	/* The last good evaluation, as the parent keeps it. */
	struct report prev; /* results and verdict only (no facts) */
	bool have_prev;
	char *hostname;
	struct snapshot_bodies bodies;
	bool have_bodies;
	double evaluated_at; /* Unix time of the evidence */
	double last_eval_at; /* monotonic */
	bool stale;
	char *last_error; /* why the last evaluation failed; NULL after a good one */

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

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
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

static double deadline_of(const struct daemon *d)
{
	if (d->o->deadline > 0)
		return d->o->deadline;
	return d->conf->evaluation_deadline > 0 ? d->conf->evaluation_deadline :
						  ATREST_DEFAULT_EVALUATION_DEADLINE;
}

/* Evidence older than this is served as unknown. */
static double max_age_of(const struct daemon *d)
{
	if (d->o->max_age > 0)
		return d->o->max_age;
	if (d->conf->max_evidence_age > 0)
		return d->conf->max_evidence_age;
	return 3 * interval_of(d) + deadline_of(d);
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

/* ---- the snapshot file ---- */

static void publish(struct daemon *d)
{
	struct snapshot_meta m = {
		.published_at = now_real(),
		.evaluated_at = d->have_bodies ? d->evaluated_at : 0,
		.max_age = max_age_of(d),
		.stale = d->stale,
		.have_bodies = d->have_bodies,
		.self = d->self,
	};
	int r = snapshot_write(d->runtime_dir, &m, &d->bodies);

	if (r < 0)
		log_error_errno(r, "daemon: cannot publish the snapshot in %s: %m", d->runtime_dir);
}

/* Every check of the last report as unknown: the evidence is too old to
 * stand behind a pass or a fail. */
static int render_stale(struct daemon *d, double age)
{
	_cleanup_free_ char *reason = strprintf("evidence is %.0f s old: evaluations are failing: %s",
						floor(age),
						d->last_error ? d->last_error :
								"no evaluation has finished since");
	struct facts f = { 0 };
	struct report r = { .facts = &f, .generated_at = time(NULL) };
	struct snapshot_bodies b;
	int k;

	if (!reason)
		return -ENOMEM;
	f.hostname = d->hostname;
	f.on_azure = TRI_UNKNOWN;
	f.gathered_at = (time_t)d->evaluated_at;
	f.imds = (struct imds_result){ .status = SOURCE_ERROR, .error = reason, .age = age };
	f.arm_age = age;
	f.arm = (struct arm_result){ .status = SOURCE_ERROR,
				     .error = reason,
				     .encryption_at_host = TRI_UNKNOWN };
	f.block = f.mounts_src = f.swaps_src = (struct local_source){ SOURCE_ERROR, reason };
	f.bench = (struct bench_result){ .status = SOURCE_OFF };
	for (size_t i = 0; i < d->prev.results.n; i++) {
		const struct check_result *c = &d->prev.results.v[i];
		json_object *ev = json_object_new_object();

		json_object_object_add(ev, "basis", json_object_new_string("stale evidence"));
		json_object_object_add(ev, "evidence_age_seconds", json_object_new_double(floor(age)));
		json_object_object_add(ev, "previous_status",
				       json_object_new_string(check_status_to_string(c->status)));
		check_results_add(&r.results, c->check, c->subject, CHECK_UNKNOWN, ev, "%s", reason);
		if (r.results.n > 0)
			r.results.v[r.results.n - 1].severity = c->severity;
	}
	r.verdict = verdict_compute(&r.results);
	k = snapshot_bodies_render(&r, d->o->version ? d->o->version : PACKAGE_VERSION, &b);
	report_done(&r);
	if (k < 0)
		return k;
	snapshot_bodies_done(&d->bodies);
	d->bodies = b;
	return 0;
}

/* Fails closed once the evidence is older than the maximum age; re-renders
 * while stale so the age in each reason stays true. */
static void check_staleness(struct daemon *d, bool force)
{
	double age = now_real() - d->evaluated_at;

	if (!d->have_bodies || !d->have_prev || age <= max_age_of(d))
		return;
	if (d->stale && !force)
		return;
	if (!d->stale)
		journal_log_event(&d->journal, ATREST_MESSAGE_EVALUATION_FAILED, LOG_ERR,
				  "evidence is %.0f s old (more than %.0f s): every check is now "
				  "served as unknown",
				  age, max_age_of(d));
	if (render_stale(d, age) < 0)
		return;
	d->stale = true;
	publish(d);
}

/* ---- the benchmark thread ---- */

static void *bench_main(void *p)
{
	struct bench_job *j = p;
	uint64_t one = 1;

	if (setpriority(PRIO_PROCESS, (id_t)thread_id(), DAEMON_WORKER_NICE) < 0)
		log_debug_errno(errno, "daemon: cannot lower the worker's priority: %m");
	j->bench(&j->bopts, &j->res);
	if (write(j->efd, &one, sizeof(one)) < 0)
		log_debug_errno(errno, "daemon: cannot signal job completion: %m");
	return NULL;
}

static int bench_start(struct daemon *d)
{
	struct bench_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->efd = d->efd;
	j->bench = d->o->bench ? d->o->bench : bench_run;
	/* The defaults (all threads, SCHED_IDLE, yielding to other work), cut
	 * short so that a busy node does not hold evaluations back for long. */
	bench_options_init(&j->bopts);
	j->bopts.max_wall = DAEMON_BENCH_MAX_WALL;
	r = -pthread_create(&j->thread, NULL, bench_main, j);
	if (r < 0) {
		free(j);
		return log_error_errno(r, "daemon: cannot start a worker thread: %m");
	}
	d->bench_job = j;
	return 0;
}

/* ---- the evaluation child ---- */

static json_object *results_json(const struct report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "check", json_object_new_int((int)c->check));
		json_object_object_add(o, "subject", json_object_new_string(c->subject));
		json_object_object_add(o, "status", json_object_new_int((int)c->status));
		json_object_object_add(o, "severity", json_object_new_int((int)c->severity));
		json_object_object_add(o, "summary", json_object_new_string(c->summary));
		json_object_array_add(a, o);
	}
	return a;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* In the child: evaluate, render, send everything back, exit. */
static _noreturn_ void eval_child(struct daemon *d, int fd)
{
	struct gather_options g = {
		.conf = d->conf,
		.sr = d->o->sr,
		.no_bench = d->o->no_bench,
		.bench = d->have_bench ? &d->bench : NULL,
		.imds_cache = d->imds_cache,
		.arm_cache = d->arm_cache,
	};
	int (*eval)(const struct gather_options *,
		    struct evaluation **) = d->o->evaluate ? d->o->evaluate : evaluate;
	struct evaluation *ev = NULL;
	struct snapshot_bodies b = { 0 };
	json_object *o = json_object_new_object(), *arm;
	const char *text;
	int r;

	if (setpriority(PRIO_PROCESS, 0, DAEMON_WORKER_NICE) < 0)
		log_debug_errno(errno, "daemon: cannot lower the evaluation's priority: %m");
	r = eval(&g, &ev);
	if (r >= 0)
		r = snapshot_bodies_render(&ev->report,
					   d->o->version ? d->o->version : PACKAGE_VERSION, &b);
	json_object_object_add(o, "r", json_object_new_int(r));
	if (r >= 0) {
		json_object_object_add(o, "report", json_object_new_string(b.report));
		json_object_object_add(o, "metrics_text",
				       json_object_new_string(b.prom[PROM_FORMAT_TEXT]));
		json_object_object_add(o, "metrics_openmetrics",
				       json_object_new_string(b.prom[PROM_FORMAT_OPENMETRICS]));
		json_object_object_add(o, "html", json_object_new_string(b.html));
		json_object_object_add(o, "results", results_json(&ev->report));
		json_object_object_add(o, "verdict", json_object_new_int((int)ev->report.verdict));
		json_object_object_add(o, "hostname", json_string_or_null(ev->facts.hostname));
		json_object_object_add(o, "generated_at",
				       json_object_new_int64((int64_t)ev->report.generated_at));
	}
	json_object_object_add(o, "imds_cache", imds_cache_export(d->imds_cache));
	arm = arm_cache_export(d->arm_cache);
	json_object_object_add(o, "arm_cache", arm);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!text || write_all(fd, text, strlen(text)) < 0)
		_exit(1);
	arm_cache_state_wipe(arm);
	_exit(0);
}

static int eval_start(struct daemon *d)
{
	struct eval_job *j = calloc(1, sizeof(*j));
	int p[2];
	pid_t pid;

	if (!j)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(j);
		return log_error_errno(errno, "daemon: pipe: %m");
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		free(j);
		return log_error_errno(errno, "daemon: cannot fork an evaluation: %m");
	}
	if (pid == 0) {
		close(p[0]);
		free(j); /* the parent's record of this child */
		/* Its own process group, so that a kill reaches anything it
		 * started; it dies with the daemon. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		eval_child(d, p[1]);
	}
	setpgid(pid, pid); /* the child does it too: whichever runs first */
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->pid = pid;
	j->fd = p[0];
	j->deadline = now_mono() + deadline_of(d);
	d->eval = j;
	return 0;
}

static void eval_job_free(struct eval_job *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	/* The buffer may hold the token: wipe it. */
	if (j->buf.buf)
		explicit_bzero(j->buf.buf, j->buf.len);
	strbuf_done(&j->buf);
	free(j);
}

static void eval_kill(struct eval_job *j)
{
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void notify_status(struct daemon *d, const char *extra)
{
	_cleanup_free_ char *st = daemon_status_text(d->have_prev ? &d->prev : NULL,
						     now_mono() - d->last_eval_at);

	sd_notifyf(false, "%sSTATUS=%s", extra ? extra : "", st ? st : "");
	d->next_status = now_mono() + DAEMON_STATUS_PERIOD;
}

static void eval_failed(struct daemon *d, const char *fmt, ...) _printf_(2, 3);
static void eval_failed(struct daemon *d, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(d->last_error);
	d->last_error = msg;
	d->self.evaluation_errors_total++;
	journal_log_event(&d->journal, ATREST_MESSAGE_EVALUATION_FAILED, LOG_ERR,
			  "evaluation failed: %s; serving the previous report",
			  msg ? msg : "out of memory");
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* The results, as the parent keeps them for the journal diff and the
 * fail-closed rendering. */
static int results_from_json(json_object *a, enum verdict verdict, struct report *ret)
{
	struct report r = { .verdict = verdict };

	if (!json_object_is_type(a, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);
		int64_t id = get_int(c, "check", -1), st = get_int(c, "status", -1),
			sev = get_int(c, "severity", -1);
		const char *subject = get_string(c, "subject"), *summary = get_string(c, "summary");

		if (id < 0 || id >= _CHECK_MAX || st < 0 || st >= _CHECK_STATUS_MAX || sev < 0 ||
		    sev > SEV_IGNORE || !subject || !summary) {
			report_done(&r);
			return -EBADMSG;
		}
		check_results_add(&r.results, (enum check_id)id, subject, (enum check_status)st,
				  json_object_new_object(), "%s", summary);
		if (r.results.n == 0 || r.results.v[r.results.n - 1].check != (enum check_id)id) {
			report_done(&r);
			return -ENOMEM;
		}
		r.results.v[r.results.n - 1].severity = (enum severity)sev;
	}
	*ret = r;
	return 0;
}

/* A finished child's message: caches first (even a failed evaluation may
 * have refreshed them), then the report. */
static void eval_message(struct daemon *d, struct eval_job *j)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
	_cleanup_json_ json_object *o = NULL;
	json_object *v;
	struct report cur = { 0 };
	struct snapshot_bodies b = { 0 };
	struct journal_diff diff;
	int64_t r;

	if (!tok)
		return eval_failed(d, "out of memory");
	o = json_tokener_parse_ex(tok, j->buf.buf ? j->buf.buf : "", (int)j->buf.len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		return eval_failed(d, "the evaluation process sent a malformed result");
	if (json_object_object_get_ex(o, "imds_cache", &v) && v)
		imds_cache_import(d->imds_cache, v);
	if (json_object_object_get_ex(o, "arm_cache", &v) && v) {
		arm_cache_import(d->arm_cache, v);
		arm_cache_state_wipe(v);
	}
	r = get_int(o, "r", -EBADMSG);
	if (r < 0)
		return eval_failed(d, "%s", strerror((int)-r));
	json_object_object_get_ex(o, "results", &v);
	if (results_from_json(v, (enum verdict)get_int(o, "verdict", VERDICT_INDETERMINATE), &cur) < 0)
		return eval_failed(d, "the evaluation process sent malformed results");
	b.report = strdup_or_null(get_string(o, "report"));
	b.prom[PROM_FORMAT_TEXT] = strdup_or_null(get_string(o, "metrics_text"));
	b.prom[PROM_FORMAT_OPENMETRICS] = strdup_or_null(get_string(o, "metrics_openmetrics"));
	b.html = strdup_or_null(get_string(o, "html"));
	if (!b.report || !b.prom[0] || !b.prom[1] || !b.html) {
		snapshot_bodies_done(&b);
		report_done(&cur);
		return eval_failed(d, "the evaluation process sent no bodies");
	}
	d->self.evaluations_total++;
	if (journal_diff(d->have_prev ? &d->prev : NULL, &cur, &diff) >= 0) {
		journal_log_diff(&d->journal, &diff);
		journal_diff_done(&diff);
	}
	report_done(&d->prev);
	d->prev = cur;
	d->have_prev = true;
	free(d->hostname);
	d->hostname = strdup_or_null(get_string(o, "hostname"));
	snapshot_bodies_done(&d->bodies);
	d->bodies = b;
	d->have_bodies = true;
	d->evaluated_at = now_real();
	d->last_eval_at = now_mono();
	d->stale = false;
	free(d->last_error);
	d->last_error = NULL;
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

static void after_job(struct daemon *d)
{
	if (d->pending)
		apply_config(d, TAKE_PTR(d->pending));
	check_staleness(d, true);
	publish(d);
	/* The daemon idles between evaluations: give what it freed back. */
	malloc_trim(0);
}

/* The child closed its end: it has exited or is about to. */
static void eval_finished(struct daemon *d)
{
	struct eval_job *j = TAKE_PTR(d->eval);
	struct rusage ru = { 0 };
	int status = 0;

	while (wait4(j->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	d->self.evaluation_max_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	kill(-j->pid, SIGKILL); /* anything it left behind */
	if (j->overflow)
		eval_failed(d, "the evaluation process sent more than %u bytes",
			    DAEMON_CHILD_MAX_BYTES);
	else if (WIFSIGNALED(status))
		eval_failed(d, "the evaluation process died of signal %d (%s)", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		eval_failed(d, "the evaluation process exited with status %d",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else
		eval_message(d, j);
	eval_job_free(j);
	after_job(d);
}

static void eval_timeout(struct daemon *d)
{
	struct eval_job *j = TAKE_PTR(d->eval);

	eval_kill(j);
	eval_job_free(j);
	d->self.evaluation_timeouts_total++;
	eval_failed(d, "the evaluation overran its %g s deadline and was killed", deadline_of(d));
	after_job(d);
}

/* Reads what the child sent so far; returns true at EOF. */
static bool eval_read(struct daemon *d)
{
	struct eval_job *j = d->eval;
	char buf[65536];

	for (;;) {
		ssize_t k = read(j->fd, buf, sizeof(buf));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno != EAGAIN;
		if (k == 0)
			return true;
		if (j->buf.len + (size_t)k > DAEMON_CHILD_MAX_BYTES) {
			j->overflow = true;
			kill(-j->pid, SIGKILL);
			return true;
		}
		strbuf_append_n(&j->buf, buf, (size_t)k);
		if (strbuf_failed(&j->buf)) {
			j->overflow = true;
			kill(-j->pid, SIGKILL);
			return true;
		}
	}
}

static void bench_done(struct daemon *d)
{
	struct bench_job *j = TAKE_PTR(d->bench_job);
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0)
		log_debug_errno(errno, "daemon: eventfd: %m");
	pthread_join(j->thread, NULL);
	if (d->have_bench)
		bench_result_done(&d->bench);
	d->bench = j->res;
	d->have_bench = true;
	d->next_bench = now_mono() + jittered(d, bench_interval_of(d, &d->bench));
	d->next_eval = now_mono(); /* show the new figure */
	free(j);
	if (d->pending)
		apply_config(d, TAKE_PTR(d->pending));
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
		if (d->eval || d->bench_job) {
			config_release(d->pending);
			d->pending = c;
		} else
			apply_config(d, c);
	}
	publish(d);
}

/* Returns 1 when the loop must stop, a negative errno when it must fail. */
static int handle_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	if (si.ssi_signo == SIGCHLD) {
		int status;

		if (d->server > 0 && waitpid(d->server, &status, WNOHANG) == d->server) {
			sigset_t pending;

			d->server = 0;
			/* systemd's stop signals the whole cgroup: the server may
			 * go first. A clean exit or a pending stop is a stop. */
			sigpending(&pending);
			if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
			    sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)) {
				log_info("the HTTP server stopped, stopping");
				return 1;
			}
			return log_error_errno(EIO, "daemon: the HTTP server process exited (%s %d)",
					       WIFSIGNALED(status) ? "signal" : "status",
					       WIFSIGNALED(status) ? WTERMSIG(status) :
								     WEXITSTATUS(status));
		}
		return 0;
	}
	log_info("received %s, stopping", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	return 1;
}

static void schedule(struct daemon *d, double now)
{
	int r = 0;

	if (d->eval || d->bench_job)
		return;
	if (d->ready && !d->o->no_bench && now >= d->next_bench)
		r = bench_start(d);
	else if (now >= d->next_eval) {
		r = eval_start(d);
		d->next_eval = now + jittered(d, interval_of(d));
	}
	if (r < 0) /* retry on the next tick */
		d->next_eval = now + 1;
}

static int poll_timeout_ms(const struct daemon *d, double now)
{
	double next = now + 1.0; /* check staleness at least every second */

	if (!d->eval && !d->bench_job)
		next = MIN(next, MIN(d->next_eval, d->o->no_bench || !d->ready ? next : d->next_bench));
	if (d->eval)
		next = MIN(next, d->eval->deadline);
	if (d->watchdog_usec)
		next = MIN(next, d->next_watchdog);
	return next <= now ? 0 : (int)ceil((next - now) * 1000);
}

static void housekeeping(struct daemon *d, double now)
{
	if (d->watchdog_usec && now >= d->next_watchdog) {
		sd_notify(false, "WATCHDOG=1");
		d->next_watchdog = now + d->watchdog_usec / 2e6;
	}
	if (d->ready && now >= d->next_status)
		notify_status(d, NULL);
	check_staleness(d, false);
}

static int main_loop(struct daemon *d)
{
	for (;;) {
		struct pollfd p[] = {
			{ d->sigfd, POLLIN, 0 },
			{ d->efd, POLLIN, 0 },
			{ d->eval ? d->eval->fd : -1, POLLIN, 0 },
		};
		double now = now_mono();
		int r;

		housekeeping(d, now);
		schedule(d, now);
		p[2].fd = d->eval ? d->eval->fd : -1;
		if (poll(p, 3, poll_timeout_ms(d, now_mono())) < 0 && errno != EINTR)
			return log_error_errno(errno, "daemon: poll: %m");
		if (p[0].revents & POLLIN) {
			r = handle_signal(d);
			if (r != 0)
				return r < 0 ? r : 0;
		}
		if ((p[1].revents & POLLIN) && d->bench_job)
			bench_done(d);
		if (d->eval && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) && eval_read(d))
			eval_finished(d);
		else if (d->eval && now_mono() >= d->eval->deadline)
			eval_timeout(d);
	}
}

/* A stop kills a running evaluation at once and waits briefly for the
 * benchmark thread (abandoned past that: the process is exiting). */
static void stop_jobs(struct daemon *d)
{
	struct pollfd p = { d->efd, POLLIN, 0 };

	if (d->eval) {
		eval_kill(d->eval);
		eval_job_free(TAKE_PTR(d->eval));
	}
	if (!d->bench_job)
		return;
	if (poll(&p, 1, DAEMON_STOP_GRACE_MS) > 0) {
		bench_done(d);
		return;
	}
	log_warning("daemon: abandoning the running benchmark");
	pthread_detach(d->bench_job->thread);
	d->bench_job = NULL;
	d->efd = -1; /* the worker may still write to it */
}

static void stop_server(struct daemon *d)
{
	double until = now_mono() + 0.8;

	if (d->server <= 0)
		return;
	kill(d->server, SIGTERM);
	while (now_mono() < until) {
		if (waitpid(d->server, NULL, WNOHANG) == d->server) {
			d->server = 0;
			return;
		}
		usleep(5000);
	}
	kill(d->server, SIGKILL);
	waitpid(d->server, NULL, 0);
	d->server = 0;
}

/* The directory named by the options, the configuration or systemd
 * (RuntimeDirectory=); NULL when none is. */
static char *runtime_dir_named(const struct daemon_options *o)
{
	const char *env = getenv("RUNTIME_DIRECTORY");

	if (o->runtime_dir)
		return strdup(o->runtime_dir);
	if (o->conf->runtime_dir)
		return strdup(o->conf->runtime_dir);
	if (env && env[0] == '/') /* systemd: possibly several, colon-separated */
		return strndup(env, strcspn(env, ":"));
	return NULL;
}

static char *runtime_dir_of(const struct daemon_options *o)
{
	char *dir = runtime_dir_named(o);

	return dir ? dir : strdup(ATREST_DEFAULT_RUNTIME_DIR);
}

static struct server_options server_options_of(const struct daemon_options *o, const char *dir,
					       int ports_fd)
{
	static char *const default_listen[] = { (char *)ATREST_DEFAULT_LISTEN, NULL };

	return (struct server_options){
		.listen = strv_length(o->conf->listen) ? o->conf->listen : default_listen,
		.connection_limit = o->connection_limit ? o->connection_limit : o->conf->connection_limit,
		.per_ip_limit = o->conf->per_ip_connection_limit,
		.connection_timeout = o->connection_timeout ? o->connection_timeout :
							      o->conf->connection_timeout,
		.runtime_dir = dir,
		.snapshot_max_bytes = o->conf->snapshot_max_bytes,
		.user = o->server_user       ? o->server_user :
			o->conf->server_user ? o->conf->server_user :
					       ATREST_DEFAULT_SERVER_USER,
		.ports_fd = ports_fd,
		.poll_interval = o->server_poll,
	};
}

/* Role both: the server, forked before anything privileged is opened. */
static int fork_server(struct daemon *d)
{
	int p[2];
	uint16_t n = 0, ports[64];
	struct pollfd pf;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(errno, "daemon: pipe: %m");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return log_error_errno(errno, "daemon: cannot fork the server: %m");
	if (pid == 0) {
		struct server_options so = server_options_of(d->o, d->runtime_dir, p[1]);

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		/* Nothing of the evaluator's: only stdio and the port pipe. */
		if (d->sigfd >= 0)
			close(d->sigfd);
		if (d->efd >= 0)
			close(d->efd);
		_exit(server_run(&so) < 0 ? 1 : 0);
	}
	close(p[1]);
	d->server = pid;
	pf = (struct pollfd){ p[0], POLLIN, 0 };
	if (poll(&pf, 1, 10000) != 1 || read(p[0], &n, sizeof(n)) != sizeof(n) || n == 0 ||
	    n > ARRAY_SIZE(ports) ||
	    read(p[0], ports, n * sizeof(ports[0])) != (ssize_t)(n * sizeof(ports[0]))) {
		close(p[0]);
		return log_error_errno(EADDRNOTAVAIL, "daemon: the HTTP server did not start");
	}
	close(p[0]);
	if (d->o->listening)
		d->o->listening(d->o->userdata, ports, n, pid);
	return 0;
}

/* Role both with no directory named: one of its own (the server is its
 * child), so that two daemons never read each other's snapshot. */
static int private_runtime_dir(struct daemon *d)
{
	static const char *const bases[] = { "/run", "/tmp" };

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		char *t = strprintf("%s/atrest.XXXXXX", bases[i]);

		if (!t)
			return -ENOMEM;
		if (mkdtemp(t) && chmod(t, 0755) == 0) {
			d->runtime_dir = t;
			d->own_runtime_dir = true;
			return 0;
		}
		free(t);
	}
	return log_error_errno(errno, "daemon: cannot create a runtime directory: %m");
}

static int prepare_runtime_dir(struct daemon *d)
{
	if (d->o->role == DAEMON_ROLE_BOTH) {
		d->runtime_dir = runtime_dir_named(d->o);
		if (!d->runtime_dir)
			return private_runtime_dir(d);
	} else
		d->runtime_dir = runtime_dir_of(d->o);
	if (!d->runtime_dir)
		return log_error_errno(ENOMEM, "daemon: out of memory");
	if (mkdir(d->runtime_dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(errno, "daemon: cannot create %s: %m", d->runtime_dir);
	return 0;
}

static void remove_runtime_dir(struct daemon *d)
{
	_cleanup_free_ char *snap = NULL;

	if (!d->own_runtime_dir)
		return;
	snap = strprintf("%s/%s", d->runtime_dir, SNAPSHOT_FILE);
	if (snap)
		unlink(snap);
	rmdir(d->runtime_dir);
}

static int daemon_setup(struct daemon *d, const sigset_t *mask)
{
	uint64_t seed;
	int r;

	r = prepare_runtime_dir(d);
	if (r < 0)
		return r;
	d->sigfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->sigfd < 0 || d->efd < 0)
		return log_error_errno(errno, "daemon: cannot create signalfd/eventfd: %m");
	d->self.start_time_seconds = (double)time(NULL);
	/* The first snapshot (counters, no report yet) before the server
	 * looks for one. */
	publish(d);
	if (d->o->role == DAEMON_ROLE_BOTH) {
		r = fork_server(d);
		if (r < 0)
			return r;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	memcpy(d->rand_state, &seed, sizeof(d->rand_state));
	d->imds_cache = imds_cache_new(DAEMON_IMDS_MAX_AGE);
	/* The first ARM lookup waits a random delay: see imds/arm/sched.c. */
	d->arm_cache = arm_cache_new(true);
	if (!d->imds_cache || !d->arm_cache)
		return log_error_errno(ENOMEM, "daemon: out of memory");
	if (sd_watchdog_enabled(false, &d->watchdog_usec) <= 0)
		d->watchdog_usec = 0;
	d->next_eval = d->next_bench = d->next_watchdog = now_mono();
	journal_sink_init(&d->journal, d->o->journal_socket, stderr);
	return 0;
}

static void daemon_teardown(struct daemon *d)
{
	stop_jobs(d);
	stop_server(d);
	report_done(&d->prev);
	snapshot_bodies_done(&d->bodies);
	free(d->hostname);
	free(d->last_error);
	if (d->runtime_dir)
		remove_runtime_dir(d);
	free(d->runtime_dir);
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

static int run_server_role(const struct daemon_options *o)
{
	_cleanup_free_ char *dir = runtime_dir_of(o);
	struct server_options so;
	int r;

	if (!dir)
		return log_error_errno(ENOMEM, "daemon: out of memory");
	so = server_options_of(o, dir, -1);
	r = server_run(&so);
	return r;
}

int daemon_run(const struct daemon_options *o)
{
	struct daemon d = { .o = o, .conf = o->conf, .sigfd = -1, .efd = -1 };
	sigset_t mask, old;
	int r;

	if (o->role == DAEMON_ROLE_SERVER)
		return run_server_role(o);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
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
