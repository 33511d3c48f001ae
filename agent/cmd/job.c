/* SPDX-License-Identifier: Apache-2.0 */
/* The jobs of the daemon's evaluator (agent/daemon/job.h): `atrest job`. */
#include "config.h"

#include <math.h>
#include <sys/resource.h>

#include "agent/cmd/cli.h"
#include "agent/daemon/job.h"
#include "agent/daemon/results.h"
#include "agent/daemon/snapshot.h"
#include "lib/fdio.h"
#include "lib/json-util.h"
#include "lib/log.h"

/* IMDS answers are reused for this long (and the cache rate-limits). */
#define DAEMON_IMDS_MAX_AGE 50.0
#define DAEMON_WORKER_NICE 10

static int kind_from_string(const char *s, enum daemon_job_kind *ret)
{
	for (enum daemon_job_kind k = 0; k < _DAEMON_JOB_MAX; k++)
		if (streq_ptr(s, daemon_job_kind_to_string(k))) {
			*ret = k;
			return 0;
		}
	return -EINVAL;
}

static int read_request(int fd, json_object **ret)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
	struct strbuf sb = { 0 };
	char buf[65536];
	json_object *o;

	if (!tok)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			strbuf_done(&sb);
			return -errno;
		}
		if (k == 0)
			break;
		if (sb.len + (size_t)k > DAEMON_JOB_MAX_REQUEST) {
			strbuf_done(&sb);
			return -EFBIG;
		}
		strbuf_append_n(&sb, buf, (size_t)k);
	}
	if (strbuf_failed(&sb))
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, sb.buf ? sb.buf : "", (int)sb.len);
	if (sb.buf)
		explicit_bzero(sb.buf, sb.len); /* it may hold the token */
	strbuf_done(&sb);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

/* ---- the benchmark result, kept whole between jobs ---- */

static const char *static_name(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (streq(s, names[i]))
			return names[i];
	return NULL;
}

static const char *const engines[] = { "kernel", "openssl" };
static const char *const priorities[] = { "SCHED_IDLE", "nice 19", "normal", "unchanged" };

static json_object *bench_export(const struct bench_result *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "status", json_object_new_int((int)r->status));
	json_object_object_add(o, "error", json_string_or_null(r->error));
	json_object_object_add(o, "ran_at", json_object_new_int64((int64_t)r->ran_at));
	json_object_object_add(o, "cpu_seconds", json_object_new_double(r->cpu_seconds));
	json_object_object_add(o, "wall_seconds", json_object_new_double(r->wall_seconds));
	json_object_object_add(o, "yielded_seconds", json_object_new_double(r->yielded_seconds));
	json_object_object_add(o, "samples_skipped", json_object_new_int64(r->samples_skipped));
	json_object_object_add(o, "kernel_available", json_object_new_boolean(r->kernel_available));
	json_object_object_add(o, "kernel_unavailable_reason",
			       json_string_or_null(r->kernel_unavailable_reason));
	json_object_object_add(o, "kernel_driver", json_string_or_null(r->kernel_driver));
	json_object_object_add(o, "kernel_driver_priority",
			       json_object_new_int(r->kernel_driver_priority));
	json_object_object_add(o, "kernel_faster_hint", json_string_or_null(r->kernel_faster_hint));
	json_object_object_add(o, "openssl_version", json_string_or_null(r->openssl_version));
	json_object_object_add(o, "usable_cpus", json_object_new_int64(r->usable_cpus));
	json_object_object_add(o, "priority", json_string_or_null(r->priority));
	json_object_object_add(o, "cpu_pressure_avg10", json_object_new_double(r->cpu_pressure_avg10));
	json_object_object_add(o, "engine", json_string_or_null(r->engine));
	json_object_object_add(o, "key_bits", json_object_new_int64(r->key_bits));
	json_object_object_add(o, "encrypt", json_object_new_double(r->encrypt_bytes_per_second));
	json_object_object_add(o, "decrypt", json_object_new_double(r->decrypt_bytes_per_second));
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct bench_sample *s = &r->samples[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "engine", json_string_or_null(s->engine));
		json_object_object_add(j, "key_bits", json_object_new_int64(s->key_bits));
		json_object_object_add(j, "threads", json_object_new_int64(s->threads));
		json_object_object_add(j, "encrypt",
				       json_object_new_double(s->encrypt_bytes_per_second));
		json_object_object_add(j, "decrypt",
				       json_object_new_double(s->decrypt_bytes_per_second));
		json_object_object_add(j, "cpu_seconds", json_object_new_double(s->cpu_seconds));
		json_object_object_add(j, "wall_seconds", json_object_new_double(s->wall_seconds));
		json_object_object_add(j, "yielded_seconds",
				       json_object_new_double(s->yielded_seconds));
		json_object_object_add(j, "disturbed", json_object_new_boolean(s->disturbed));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "samples", a);
	return o;
}

static unsigned get_unsigned(json_object *o, const char *key)
{
	int64_t v = daemon_json_int(o, key, 0);

	return v < 0 || v > UINT32_MAX ? 0 : (unsigned)v;
}

static bool get_bool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

/* What the evaluator sent back of an earlier job's result; refused (-EBADMSG)
 * unless its shape is right. */
static int bench_import(json_object *o, struct bench_result *ret)
{
	struct bench_result r = { 0 };
	json_object *a;
	int64_t st = daemon_json_int(o, "status", -1);
	size_t n;

	if (!json_object_is_type(o, json_type_object) || st < 0 || st > SOURCE_UNAUTHORIZED ||
	    !json_object_object_get_ex(o, "samples", &a) || !json_object_is_type(a, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(a);
	r.status = (enum source_status)st;
	r.ran_at = (time_t)daemon_json_int(o, "ran_at", 0);
	r.cpu_seconds = daemon_json_double(o, "cpu_seconds", 0);
	r.wall_seconds = daemon_json_double(o, "wall_seconds", 0);
	r.yielded_seconds = daemon_json_double(o, "yielded_seconds", 0);
	r.samples_skipped = get_unsigned(o, "samples_skipped");
	r.kernel_available = get_bool(o, "kernel_available");
	r.kernel_driver_priority = (int)daemon_json_int(o, "kernel_driver_priority", 0);
	r.usable_cpus = get_unsigned(o, "usable_cpus");
	r.priority = static_name(daemon_json_string(o, "priority"), priorities, ARRAY_SIZE(priorities));
	r.cpu_pressure_avg10 = daemon_json_double(o, "cpu_pressure_avg10", -1);
	r.engine = static_name(daemon_json_string(o, "engine"), engines, ARRAY_SIZE(engines));
	r.key_bits = get_unsigned(o, "key_bits");
	r.encrypt_bytes_per_second = daemon_json_double(o, "encrypt", 0);
	r.decrypt_bytes_per_second = daemon_json_double(o, "decrypt", 0);
	r.error = strdup_or_null(daemon_json_string(o, "error"));
	r.kernel_unavailable_reason = strdup_or_null(daemon_json_string(o, "kernel_unavailable_reason"));
	r.kernel_driver = strdup_or_null(daemon_json_string(o, "kernel_driver"));
	r.kernel_faster_hint = strdup_or_null(daemon_json_string(o, "kernel_faster_hint"));
	r.openssl_version = strdup_or_null(daemon_json_string(o, "openssl_version"));
	if (n > 0 && n < 1024) {
		r.samples = calloc(n, sizeof(*r.samples));
		if (!r.samples) {
			bench_result_done(&r);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; r.samples && i < n; i++) {
		json_object *j = json_object_array_get_idx(a, i);
		struct bench_sample *s = &r.samples[r.n_samples];

		s->engine = static_name(daemon_json_string(j, "engine"), engines, ARRAY_SIZE(engines));
		if (!s->engine)
			continue;
		s->key_bits = get_unsigned(j, "key_bits");
		s->threads = get_unsigned(j, "threads");
		s->encrypt_bytes_per_second = daemon_json_double(j, "encrypt", 0);
		s->decrypt_bytes_per_second = daemon_json_double(j, "decrypt", 0);
		s->cpu_seconds = daemon_json_double(j, "cpu_seconds", 0);
		s->wall_seconds = daemon_json_double(j, "wall_seconds", 0);
		s->yielded_seconds = daemon_json_double(j, "yielded_seconds", 0);
		s->disturbed = get_bool(j, "disturbed");
		r.n_samples++;
	}
	*ret = r;
	return 0;
}

/* ---- the three jobs ---- */

static int send_reply(int fd, json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int r;

	if (!text)
		return -ENOMEM;
	r = write_all(fd, text, strlen(text));
	/* The reply may hold the token. */
	explicit_bzero((char *)text, strlen(text));
	return r;
}

static void add_bodies(json_object *o, const struct snapshot_bodies *b)
{
	json_object_object_add(o, "report", json_object_new_string(b->report));
	json_object_object_add(o, "metrics_text", json_object_new_string(b->prom[PROM_FORMAT_TEXT]));
	json_object_object_add(o, "metrics_openmetrics",
			       json_object_new_string(b->prom[PROM_FORMAT_OPENMETRICS]));
	json_object_object_add(o, "html", json_object_new_string(b->html));
}

/* The daemon's configuration: its command line over the text it loaded. */
static int job_cli(json_object *req, struct cli *c)
{
	json_object *argv_j, *conf_j = NULL;
	struct cli_config_text t = { 0 };
	_cleanup_free_ char **argv = NULL;
	size_t n;
	int r;

	if (!json_object_object_get_ex(req, "argv", &argv_j) ||
	    !json_object_is_type(argv_j, json_type_array) ||
	    (n = json_object_array_length(argv_j)) < 2 || n > 4096)
		return -EBADMSG;
	argv = calloc(n + 1, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(argv_j, i);

		if (!json_object_is_type(s, json_type_string))
			return -EBADMSG;
		argv[i] = (char *)json_object_get_string(s);
	}
	if (!streq(argv[1], "daemon"))
		return -EBADMSG;
	if (json_object_object_get_ex(req, "config", &conf_j) && conf_j) {
		t.text = daemon_json_string(conf_j, "text");
		t.len = t.text ? strlen(t.text) : 0;
		t.name = daemon_json_string(conf_j, "name");
		if (!t.text)
			return -EBADMSG;
	}
	r = cli_parse_with_config((int)n, argv, &t, c);
	return r != 0 ? -EINVAL : 0;
}

static int job_evaluate(json_object *req, const struct daemon_job_hooks *h, int out_fd)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	_cleanup_(arm_cache_freep) struct arm_cache *arm = arm_cache_new(true);
	struct imds_cache *imds = imds_cache_new(DAEMON_IMDS_MAX_AGE);
	_cleanup_json_ json_object *o = json_object_new_object();
	struct bench_result bench = { 0 };
	bool have_bench = false;
	struct evaluation *ev = NULL;
	struct snapshot_bodies b = { 0 };
	json_object *v, *arm_state;
	struct cli c;
	int r;

	r = job_cli(req, &c);
	if (r >= 0 && cli_open_sysroot(&c, &sr) < 0)
		r = -EINVAL;
	if (r >= 0 && (!arm || !imds || !o))
		r = -ENOMEM;
	if (r >= 0 && json_object_object_get_ex(req, "imds_cache", &v) && v)
		imds_cache_import(imds, v);
	if (r >= 0 && json_object_object_get_ex(req, "arm_cache", &v) && v)
		arm_cache_import(arm, v);
	if (r >= 0 && json_object_object_get_ex(req, "bench", &v) && v)
		have_bench = bench_import(v, &bench) >= 0;
	if (r >= 0) {
		struct gather_options g = {
			.conf = &c.conf,
			.sr = sr,
			.no_bench = c.no_bench,
			.bench = have_bench ? &bench : NULL,
			.imds_cache = imds,
			.arm_cache = arm,
		};

		r = (h->evaluate ? h->evaluate : evaluate)(&g, &ev);
	}
	if (r >= 0)
		r = snapshot_bodies_render(&ev->report,
					   daemon_json_string(req, "version") ?: PACKAGE_VERSION, &b);
	json_object_object_add(o, "r", json_object_new_int(r));
	if (r >= 0) {
		add_bodies(o, &b);
		json_object_object_add(o, "results", daemon_results_to_json(&ev->report.results));
		json_object_object_add(o, "verdict", json_object_new_int((int)ev->report.verdict));
		json_object_object_add(o, "hostname", json_string_or_null(ev->facts.hostname));
		json_object_object_add(o, "generated_at",
				       json_object_new_int64((int64_t)ev->report.generated_at));
	}
	if (imds)
		json_object_object_add(o, "imds_cache", imds_cache_export(imds));
	arm_state = arm ? arm_cache_export(arm) : NULL;
	json_object_object_add(o, "arm_cache", arm_state);
	r = o ? send_reply(out_fd, o) : -ENOMEM;
	if (arm_state)
		arm_cache_state_wipe(arm_state);
	snapshot_bodies_done(&b);
	evaluation_free(ev);
	bench_result_done(&bench);
	imds_cache_free(imds);
	cli_done(&c);
	return r;
}

static int job_bench(json_object *req, const struct daemon_job_hooks *h, int out_fd)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	struct bench_options bo;
	struct bench_result res = { 0 };
	int r;

	/* The defaults (all threads, SCHED_IDLE, yielding to other work), cut
	 * short so that a busy node does not hold evaluations back for long. */
	bench_options_init(&bo);
	bo.max_wall = daemon_json_double(req, "max_wall", bo.max_wall);
	(h->bench ? h->bench : bench_run)(&bo, &res);
	json_object_object_add(o, "bench", bench_export(&res));
	json_object_object_add(o, "samples_skipped", json_object_new_int64(res.samples_skipped));
	r = send_reply(out_fd, o);
	bench_result_done(&res);
	return r;
}

/* Every check of the last report as unknown: the evidence is too old to
 * stand behind a pass or a fail. */
static int job_stale(json_object *req, int out_fd)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	const char *reason = daemon_json_string(req, "reason");
	double age = daemon_json_double(req, "age", 0), evaluated_at;
	struct report prev = { 0 };
	struct facts f = { 0 };
	struct report r = { .facts = &f, .generated_at = time(NULL) };
	struct snapshot_bodies b = { 0 };
	json_object *v = NULL;
	int k;

	evaluated_at = daemon_json_double(req, "evaluated_at", 0);
	json_object_object_get_ex(req, "results", &v);
	if (!reason || !o ||
	    daemon_results_from_json(v, (enum verdict)daemon_json_int(req, "verdict", -1), &prev) < 0)
		return -EBADMSG;
	f.hostname = (char *)daemon_json_string(req, "hostname");
	f.on_azure = TRI_UNKNOWN;
	f.gathered_at = (time_t)evaluated_at;
	f.imds = (struct imds_result){ .status = SOURCE_ERROR, .error = (char *)reason, .age = age };
	f.arm_age = age;
	f.arm = (struct arm_result){ .status = SOURCE_ERROR,
				     .error = (char *)reason,
				     .encryption_at_host = TRI_UNKNOWN };
	f.block = f.mounts_src = f.swaps_src = (struct local_source){ SOURCE_ERROR, (char *)reason };
	f.bench = (struct bench_result){ .status = SOURCE_OFF };
	for (size_t i = 0; i < prev.results.n; i++) {
		const struct check_result *c = &prev.results.v[i];
		json_object *ev = json_object_new_object();

		json_object_object_add(ev, "basis", json_object_new_string("stale evidence"));
		json_object_object_add(ev, "evidence_age_seconds", json_object_new_double(floor(age)));
		json_object_object_add(ev, "previous_status",
				       json_object_new_string(check_status_to_string(c->status)));
		check_results_add(&r.results, c->check, c->subject, CHECK_UNKNOWN, ev, "%s", reason);
		r.results.v[r.results.n - 1].severity = c->severity;
	}
	r.verdict = verdict_compute(&r.results);
	k = snapshot_bodies_render(&r, daemon_json_string(req, "version") ?: PACKAGE_VERSION, &b);
	check_results_done(&r.results);
	check_results_done(&prev.results);
	json_object_object_add(o, "r", json_object_new_int(k));
	if (k >= 0)
		add_bodies(o, &b);
	snapshot_bodies_done(&b);
	return send_reply(out_fd, o);
}

int daemon_job_main(int in_fd, int out_fd, const struct daemon_job_hooks *h)
{
	static const struct daemon_job_hooks none = { 0 };
	_cleanup_json_ json_object *req = NULL;
	enum daemon_job_kind kind;
	int r;

	if (!h)
		h = &none;
	r = read_request(in_fd, &req);
	if (r < 0) {
		log_error_errno(r, "job: cannot read the request: %m");
		return 1;
	}
	if (kind_from_string(daemon_json_string(req, "kind"), &kind) < 0) {
		log_error("job: the request names no known job");
		return 1;
	}
	if (setpriority(PRIO_PROCESS, 0, DAEMON_WORKER_NICE) < 0)
		log_debug_errno(errno, "job: cannot lower the priority: %m");
	switch (kind) {
	case DAEMON_JOB_EVALUATE:
		r = job_evaluate(req, h, out_fd);
		break;
	case DAEMON_JOB_BENCH:
		r = job_bench(req, h, out_fd);
		break;
	default:
		r = job_stale(req, out_fd);
	}
	if (r < 0) {
		log_error_errno(r, "job %s: %m", daemon_job_kind_to_string(kind));
		return 1;
	}
	return 0;
}
