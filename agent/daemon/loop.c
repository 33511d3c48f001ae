/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest daemon`: the evaluator's main loop, in the small program
 * atrest-evaluator (linked with libc, json-c, inih and libsystemd only).
 * It owns the schedule (evaluation and benchmark timers, jittered), the
 * signals (signalfd), sd_notify, the journal, and the snapshot file the
 * server reads. Everything that needs the big libraries runs as a job
 * (agent/daemon/job.h): a process exec'd from the atrest program that
 * reads one request and writes one reply, under a hard deadline, killed
 * with its process group when it overruns. What must outlive a job (IMDS
 * and ARM caches, the benchmark result) is kept here as the opaque state
 * the last job returned and handed to the next; the results are kept for
 * the journal diff and the fail-closed rendering. One evaluation or
 * benchmark job runs at a time; the rendering of stale evidence has its
 * own slot, so that a hung evaluation cannot hold it back. In role both,
 * the server (atrest-server) is forked and exec'd first, before any job
 * runs, and drops every privilege itself. */
#include "config.h"

#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
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
#include "agent/daemon/results.h"
#include "agent/daemon/server.h"
#include "agent/daemon/snapshot.h"
#include "agent/report/journal.h"
#include "lib/fdio.h"
#include "lib/json-util.h"
#include "lib/log.h"

/* STATUS= is refreshed this often so "last evaluation N s ago" stays true. */
#define DAEMON_STATUS_PERIOD 5.0
/* What a job may send back: bodies, results and caches. */
#define DAEMON_CHILD_MAX_BYTES (64u << 20)
/* The rendering of stale evidence: a small job with a deadline of its own. */
#define DAEMON_STALE_DEADLINE 30.0

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

/* A job, in a child process. */
struct job {
	enum daemon_job_kind kind;
	pid_t pid;
	int fd;
	double deadline;     /* monotonic */
	uint64_t generation; /* stale: the evaluation it renders */
	struct strbuf buf;
	bool overflow;
};

struct daemon {
	const struct daemon_options *o;
	const struct config *conf; /* in force */
	struct config *owned;      /* conf, when it came from a reload */
	struct config *pending;    /* reloaded while a job ran */
	struct journal_sink journal;
	int sigfd;
	struct job *job;   /* an evaluation or a benchmark */
	struct job *stale; /* rendering stale evidence */
	char *runtime_dir;
	bool own_runtime_dir; /* created here, removed on exit */
	pid_t server;

	/* What jobs return and the next one gets: opaque here. */
	json_object *imds_state, *arm_state, *bench_state;

	/* The last good evaluation, as the parent keeps it. */
	struct report prev; /* results and verdict only (no facts) */
	bool have_prev;
	uint64_t generation; /* good evaluations so far */
	char *hostname;
	struct snapshot_bodies bodies;
	bool have_bodies;
	double evaluated_at; /* Unix time of the evidence */
	double last_eval_at; /* monotonic */
	bool stale_served;
	char *last_error; /* why the last evaluation failed; NULL after a good one */

	double next_eval, next_bench, next_watchdog, next_status, next_stale;
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
static double bench_interval_of(const struct daemon *d, bool skipped)
{
	double every = d->o->bench_interval > 0 ? d->o->bench_interval : DAEMON_DEFAULT_BENCH_INTERVAL;

	if (skipped)
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

/* The ARM state holds the token: wipe its text before letting go. */
static void state_put(json_object **p)
{
	json_object *t;

	if (*p && json_object_object_get_ex(*p, "token", &t) && json_object_is_type(t, json_type_string))
		explicit_bzero((char *)json_object_get_string(t),
			       (size_t)json_object_get_string_len(t));
	json_object_put(*p);
	*p = NULL;
}

/* ---- the snapshot file ---- */

static void publish(struct daemon *d)
{
	struct snapshot_meta m = {
		.published_at = now_real(),
		.evaluated_at = d->have_bodies ? d->evaluated_at : 0,
		.max_age = max_age_of(d),
		.stale = d->stale_served,
		.have_bodies = d->have_bodies,
		.self = d->self,
	};
	int r = snapshot_write(d->runtime_dir, &m, &d->bodies);

	if (r < 0)
		log_error_errno(r, "daemon: cannot publish the snapshot in %s: %m", d->runtime_dir);
}

/* ---- jobs ---- */

static void add_ref(json_object *o, const char *key, json_object *v)
{
	if (v)
		json_object_object_add(o, key, json_object_get(v));
}

/* The request: the daemon's command line and configuration text, then
 * what the kind needs. */
static json_object *job_request(struct daemon *d, enum daemon_job_kind kind)
{
	static char *const default_argv[] = { (char *)"atrest", (char *)"daemon", NULL };
	char *const *argv = d->o->argv ? d->o->argv : default_argv;
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *c;

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "kind", json_object_new_string(daemon_job_kind_to_string(kind)));
	for (char *const *v = argv; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	json_object_object_add(o, "argv", a);
	if (d->conf->text) {
		c = json_object_new_object();
		json_object_object_add(c, "text",
				       json_object_new_string_len(d->conf->text,
								  (int)d->conf->text_len));
		json_object_object_add(c, "name", json_string_or_null(d->conf->text_name));
		json_object_object_add(o, "config", c);
	}
	json_object_object_add(o, "version",
			       json_object_new_string(d->o->version ? d->o->version : PACKAGE_VERSION));
	if (kind == DAEMON_JOB_EVALUATE) {
		add_ref(o, "imds_cache", d->imds_state);
		add_ref(o, "arm_cache", d->arm_state);
		add_ref(o, "bench", d->bench_state);
	} else if (kind == DAEMON_JOB_BENCH) {
		json_object_object_add(o, "max_wall", json_object_new_double(DAEMON_BENCH_MAX_WALL));
	} else {
		double age = now_real() - d->evaluated_at;
		_cleanup_free_ char *reason =
			strprintf("evidence is %.0f s old: evaluations are failing: %s", floor(age),
				  d->last_error ? d->last_error : "no evaluation has finished since");

		json_object_object_add(o, "results", daemon_results_to_json(&d->prev.results));
		json_object_object_add(o, "verdict", json_object_new_int((int)d->prev.verdict));
		json_object_object_add(o, "hostname", json_string_or_null(d->hostname));
		json_object_object_add(o, "evaluated_at", json_object_new_double(d->evaluated_at));
		json_object_object_add(o, "age", json_object_new_double(age));
		json_object_object_add(o, "reason", json_string_or_null(reason));
	}
	return o;
}

/* The request in a memory file the job reads as its standard input:
 * writing it never blocks on the job. */
static int request_fd(struct daemon *d, enum daemon_job_kind kind)
{
	_cleanup_json_ json_object *req = job_request(d, kind);
	const char *text;
	size_t len;
	int fd, r;

	if (!req)
		return -ENOMEM;
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	fd = memfd_create("atrest-job", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, len);
	explicit_bzero((char *)text, len); /* it holds the token */
	if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Exec's wrapper + command, or reports why not and exits 127. */
static _noreturn_ void exec_command(char *const *wrapper, char *const *command)
{
	char **argv = NULL;

	for (char *const *v = wrapper; v && *v; v++)
		strv_extend(&argv, *v);
	for (char *const *v = command; v && *v; v++)
		strv_extend(&argv, *v);
	if (argv && argv[0])
		execv(argv[0], argv);
	fprintf(stderr, "atrest: cannot run %s: %s\n", argv && argv[0] ? argv[0] : "(nothing)",
		strerror(errno));
	_exit(127);
}

static struct job *job_start(struct daemon *d, enum daemon_job_kind kind, double deadline)
{
	struct job *j;
	int p[2], in;
	pid_t pid;

	if (!d->o->job_command || !d->o->job_command[0]) {
		log_error("daemon: no program to run jobs with");
		return NULL;
	}
	in = request_fd(d, kind);
	if (in < 0) {
		log_error_errno(in, "daemon: cannot prepare the %s job: %m",
				daemon_job_kind_to_string(kind));
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j || pipe2(p, O_CLOEXEC) < 0) {
		log_error_errno(j ? errno : ENOMEM, "daemon: cannot start a job: %m");
		free(j);
		close(in);
		return NULL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error_errno(errno, "daemon: cannot fork a job: %m");
		close(p[0]);
		close(p[1]);
		close(in);
		free(j);
		return NULL;
	}
	if (pid == 0) {
		/* Its own process group, so that a kill reaches anything it
		 * started; it dies with the daemon. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (dup2(in, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		exec_command(d->o->exec_wrapper, d->o->job_command);
	}
	setpgid(pid, pid); /* the child does it too: whichever runs first */
	close(in);
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->kind = kind;
	j->pid = pid;
	j->fd = p[0];
	j->deadline = now_mono() + deadline;
	j->generation = d->generation;
	return j;
}

static void job_free(struct job *j)
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

static void job_kill(struct job *j)
{
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Reads what the job sent so far; returns true at EOF. */
static bool job_read(struct job *j)
{
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

/* Reaps a job that closed its end; returns its reply, or NULL after
 * putting into *ret_error why there is none. */
static json_object *job_reap(struct daemon *d, struct job *j, char **ret_error)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
	struct rusage ru = { 0 };
	json_object *o;
	int status = 0;

	*ret_error = NULL;
	while (wait4(j->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (j->kind == DAEMON_JOB_EVALUATE)
		d->self.evaluation_max_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	kill(-j->pid, SIGKILL); /* anything it left behind */
	if (j->overflow)
		*ret_error = strprintf("the %s process sent more than %u bytes",
				       daemon_job_kind_to_string(j->kind), DAEMON_CHILD_MAX_BYTES);
	else if (WIFSIGNALED(status))
		*ret_error = strprintf("the %s process died of signal %d (%s)",
				       daemon_job_kind_to_string(j->kind), WTERMSIG(status),
				       strsignal(WTERMSIG(status)));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*ret_error = strprintf("the %s process exited with status %d",
				       daemon_job_kind_to_string(j->kind),
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (*ret_error)
		return NULL;
	o = tok ? json_tokener_parse_ex(tok, j->buf.buf ? j->buf.buf : "", (int)j->buf.len) : NULL;
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*ret_error = strprintf("the %s process sent a malformed reply",
				       daemon_job_kind_to_string(j->kind));
		return NULL;
	}
	return o;
}

/* Every body of a reply, or -EBADMSG. */
static int bodies_from_reply(json_object *o, struct snapshot_bodies *ret)
{
	struct snapshot_bodies b = { 0 };

	b.report = strdup_or_null(daemon_json_string(o, "report"));
	b.prom[PROM_FORMAT_TEXT] = strdup_or_null(daemon_json_string(o, "metrics_text"));
	b.prom[PROM_FORMAT_OPENMETRICS] = strdup_or_null(daemon_json_string(o, "metrics_openmetrics"));
	b.html = strdup_or_null(daemon_json_string(o, "html"));
	if (!b.report || !b.prom[0] || !b.prom[1] || !b.html) {
		snapshot_bodies_done(&b);
		return -EBADMSG;
	}
	*ret = b;
	return 0;
}

/* Fails closed once the evidence is older than the maximum age: a job
 * renders every check of the last report as unknown; it runs again while
 * stale so the age in each reason stays true. */
static void check_staleness(struct daemon *d, bool force)
{
	double age = now_real() - d->evaluated_at, now = now_mono();

	if (!d->have_bodies || !d->have_prev || age <= max_age_of(d) || d->stale)
		return;
	/* Not sooner than planned: the next re-rendering, or a retry after a
	 * job that failed; a job's end forces it (the reason changed). */
	if (!force && now < d->next_stale)
		return;
	if (!d->stale_served && d->next_stale == 0)
		journal_log_event(&d->journal, ATREST_MESSAGE_EVALUATION_FAILED, LOG_ERR,
				  "evidence is %.0f s old (more than %.0f s): every check is now "
				  "served as unknown",
				  age, max_age_of(d));
	d->stale = job_start(d, DAEMON_JOB_STALE, DAEMON_STALE_DEADLINE);
	/* Retry in a second if it could not start; else re-render after an
	 * interval (or when a job ends: force). */
	d->next_stale = now + (d->stale ? interval_of(d) : 1.0);
}

static void stale_finished(struct daemon *d, bool timed_out)
{
	struct job *j = TAKE_PTR(d->stale);
	_cleanup_free_ char *err = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct snapshot_bodies b;

	if (timed_out) {
		job_kill(j);
		err = strdup("it overran its deadline and was killed");
	} else
		o = job_reap(d, j, &err);
	if (o && (daemon_json_int(o, "r", -1) < 0 || bodies_from_reply(o, &b) < 0)) {
		free(err);
		err = strdup("it sent no bodies");
		json_object_put(TAKE_PTR(o));
	}
	if (!o) {
		/* The server stops serving the old evidence by itself past the
		 * maximum age and a grace (HTTP_STALE_GRACE); try again. */
		log_error("daemon: cannot render the stale evidence as unknown: %s",
			  err ? err : "out of memory");
		d->next_stale = now_mono() + 1.0;
	} else if (j->generation != d->generation) {
		snapshot_bodies_done(&b); /* a good evaluation finished meanwhile */
	} else {
		snapshot_bodies_done(&d->bodies);
		d->bodies = b;
		d->stale_served = true;
		publish(d);
	}
	job_free(j);
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

/* Keeps what a job returned for the next one. */
static void keep_state(json_object *o, const char *key, json_object **dst)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return;
	state_put(dst);
	*dst = json_object_get(v);
}

/* A finished evaluation's reply: caches first (even a failed evaluation
 * may have refreshed them), then the report. */
static void eval_message(struct daemon *d, json_object *o)
{
	struct report cur = { 0 };
	struct snapshot_bodies b = { 0 };
	struct journal_diff diff;
	json_object *v = NULL;
	int64_t r;

	keep_state(o, "imds_cache", &d->imds_state);
	keep_state(o, "arm_cache", &d->arm_state);
	r = daemon_json_int(o, "r", -EBADMSG);
	if (r < 0)
		return eval_failed(d, "%s", strerror((int)-r));
	json_object_object_get_ex(o, "results", &v);
	if (daemon_results_from_json(v, (enum verdict)daemon_json_int(o, "verdict", -1), &cur) < 0)
		return eval_failed(d, "the evaluation process sent malformed results");
	if (bodies_from_reply(o, &b) < 0) {
		check_results_done(&cur.results);
		return eval_failed(d, "the evaluation process sent no bodies");
	}
	d->self.evaluations_total++;
	if (journal_diff(d->have_prev ? &d->prev : NULL, &cur, &diff) >= 0) {
		journal_log_diff(&d->journal, &diff);
		journal_diff_done(&diff);
	}
	check_results_done(&d->prev.results);
	d->prev = cur;
	d->have_prev = true;
	d->generation++;
	free(d->hostname);
	d->hostname = strdup_or_null(daemon_json_string(o, "hostname"));
	snapshot_bodies_done(&d->bodies);
	d->bodies = b;
	d->have_bodies = true;
	d->evaluated_at = now_real();
	d->last_eval_at = now_mono();
	d->stale_served = false;
	d->next_stale = 0;
	free(d->last_error);
	d->last_error = NULL;
	notify_status(d, d->ready ? NULL : "READY=1\n");
	d->ready = true;
}

static void bench_message(struct daemon *d, json_object *o)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "bench", &v) || !json_object_is_type(v, json_type_object)) {
		log_error("daemon: the benchmark process sent no result");
		d->next_bench = now_mono() + jittered(d, DAEMON_BENCH_BUSY_RETRY);
		return;
	}
	json_object_put(d->bench_state);
	d->bench_state = json_object_get(v);
	d->next_bench = now_mono() +
			jittered(d, bench_interval_of(d, daemon_json_int(o, "samples_skipped", 0) > 0));
	d->next_eval = now_mono(); /* show the new figure */
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

/* The job closed its end: it has exited or is about to. */
static void job_finished(struct daemon *d)
{
	struct job *j = TAKE_PTR(d->job);
	_cleanup_free_ char *err = NULL;
	_cleanup_json_ json_object *o = job_reap(d, j, &err);

	if (j->kind == DAEMON_JOB_BENCH) {
		if (o)
			bench_message(d, o);
		else {
			log_error("daemon: benchmark failed: %s", err ? err : "out of memory");
			d->next_bench = now_mono() + jittered(d, DAEMON_BENCH_BUSY_RETRY);
		}
	} else if (o)
		eval_message(d, o);
	else
		eval_failed(d, "%s", err ? err : "out of memory");
	job_free(j);
	after_job(d);
}

static void job_timeout(struct daemon *d)
{
	struct job *j = TAKE_PTR(d->job);

	job_kill(j);
	if (j->kind == DAEMON_JOB_BENCH) {
		log_error("daemon: the benchmark overran its deadline and was killed");
		d->next_bench = now_mono() + jittered(d, DAEMON_BENCH_BUSY_RETRY);
	} else {
		d->self.evaluation_timeouts_total++;
		eval_failed(d, "the evaluation overran its %g s deadline and was killed",
			    deadline_of(d));
	}
	job_free(j);
	after_job(d);
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
	if (d->job)
		return;
	if (d->ready && !d->o->no_bench && now >= d->next_bench) {
		d->job = job_start(d, DAEMON_JOB_BENCH, DAEMON_BENCH_MAX_WALL + deadline_of(d));
		if (!d->job) /* retry later */
			d->next_bench = now + jittered(d, DAEMON_BENCH_BUSY_RETRY);
	} else if (now >= d->next_eval) {
		d->job = job_start(d, DAEMON_JOB_EVALUATE, deadline_of(d));
		if (!d->job) {
			eval_failed(d, "the evaluation process could not be started");
			d->next_eval = now + 1; /* retry on the next tick */
		} else
			d->next_eval = now + jittered(d, interval_of(d));
	}
}

static int poll_timeout_ms(const struct daemon *d, double now)
{
	double next = now + 1.0; /* check staleness at least every second */

	if (!d->job)
		next = MIN(next, MIN(d->next_eval, d->o->no_bench || !d->ready ? next : d->next_bench));
	if (d->job)
		next = MIN(next, d->job->deadline);
	if (d->stale)
		next = MIN(next, d->stale->deadline);
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
		struct pollfd p[3] = {
			{ d->sigfd, POLLIN, 0 },
		};
		double now = now_mono();
		int r;

		housekeeping(d, now);
		schedule(d, now);
		p[1] = (struct pollfd){ d->job ? d->job->fd : -1, POLLIN, 0 };
		p[2] = (struct pollfd){ d->stale ? d->stale->fd : -1, POLLIN, 0 };
		if (poll(p, 3, poll_timeout_ms(d, now_mono())) < 0 && errno != EINTR)
			return log_error_errno(errno, "daemon: poll: %m");
		if (p[0].revents & POLLIN) {
			r = handle_signal(d);
			if (r != 0)
				return r < 0 ? r : 0;
		}
		if (d->job && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && job_read(d->job))
			job_finished(d);
		else if (d->job && now_mono() >= d->job->deadline)
			job_timeout(d);
		if (d->stale && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) && job_read(d->stale))
			stale_finished(d, false);
		else if (d->stale && now_mono() >= d->stale->deadline)
			stale_finished(d, true);
	}
}

/* A stop kills the running jobs at once. */
static void stop_jobs(struct daemon *d)
{
	if (d->job) {
		job_kill(d->job);
		job_free(TAKE_PTR(d->job));
	}
	if (d->stale) {
		job_kill(d->stale);
		job_free(TAKE_PTR(d->stale));
	}
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

char *daemon_runtime_dir(const struct daemon_options *o)
{
	char *dir = runtime_dir_named(o);

	return dir ? dir : strdup(ATREST_DEFAULT_RUNTIME_DIR);
}

struct server_options daemon_server_options(const struct daemon_options *o, const char *dir, int ports_fd)
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

/* Role both: the server, forked and exec'd before any job runs. */
static int fork_server(struct daemon *d)
{
	int p[2];
	uint16_t n = 0, ports[64];
	struct pollfd pf;
	pid_t pid;

	if (!d->o->server_command || !d->o->server_command[0])
		return log_error_errno(EINVAL, "daemon: no server program");
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(errno, "daemon: pipe: %m");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return log_error_errno(errno, "daemon: cannot fork the server: %m");
	if (pid == 0) {
		struct server_options so = daemon_server_options(d->o, d->runtime_dir, 3);
		char **argv;

		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		/* Nothing of the evaluator's: only stdio and the port pipe, as
		 * descriptor 3 (every other one is close-on-exec). */
		if (p[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(p[1], 3) < 0)
			_exit(127);
		argv = server_command_line(d->o->server_command, &so);
		if (!argv)
			_exit(127);
		exec_command(d->o->exec_wrapper, argv);
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
		d->runtime_dir = daemon_runtime_dir(d->o);
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
	if (d->sigfd < 0)
		return log_error_errno(errno, "daemon: cannot create a signalfd: %m");
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
	check_results_done(&d->prev.results);
	snapshot_bodies_done(&d->bodies);
	free(d->hostname);
	free(d->last_error);
	if (d->runtime_dir)
		remove_runtime_dir(d);
	free(d->runtime_dir);
	state_put(&d->imds_state);
	state_put(&d->arm_state);
	state_put(&d->bench_state);
	config_release(d->owned);
	config_release(d->pending);
	if (d->sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consume signals still pending: unblocking them would kill. */
		while (read(d->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(d->sigfd);
	}
}

int daemon_run(const struct daemon_options *o)
{
	struct daemon d = { .o = o, .conf = o->conf, .sigfd = -1 };
	sigset_t mask, old;
	int r;

	if (o->role == DAEMON_ROLE_SERVER) /* the server program's */
		return log_error_errno(EINVAL, "daemon: the server role runs atrest-server");
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	/* Blocked, so only the signalfd sees them. */
	sigprocmask(SIG_BLOCK, &mask, &old);
	r = daemon_setup(&d, &mask);
	if (r >= 0) {
		r = main_loop(&d);
		sd_notify(false, "STOPPING=1");
	}
	daemon_teardown(&d);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
