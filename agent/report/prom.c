/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus renderer: turns a finished report into exposition text,
 * family by family, with HELP and TYPE on each. Computes nothing. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "agent/report/prom.h"
#include "imds/imds.h"
#include "probes/probes.h"

/* *_info metrics are gauges in both formats: OpenMetrics' info type would
 * be refused by promtool and by Prometheus' text parser when negotiated down. */
enum kind {
	KIND_GAUGE,
	KIND_COUNTER, /* sample name ends in _total */
};

/* Either a growable strbuf or a fixed caller buffer (per-scrape path). */
struct out {
	struct strbuf *sb;
	char *buf;
	size_t size;
	size_t len;
};

struct label {
	const char *name;
	const char *value;
};

static void out_append(struct out *o, const char *s, size_t n)
{
	if (o->sb) {
		strbuf_append_n(o->sb, s, n);
		return;
	}
	if (o->len < o->size)
		memcpy(o->buf + o->len, s, MIN(n, o->size - o->len));
	o->len += n;
}

static void out_puts(struct out *o, const char *s)
{
	out_append(o, s, strlen(s));
}

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_FORMAT_OPENMETRICS ? PROM_CONTENT_TYPE_OPENMETRICS : PROM_CONTENT_TYPE_TEXT;
}

const char *prom_format_value(double v, char buf[static 32])
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == trunc(v) && fabs(v) < 1e15) {
		snprintf(buf, 32, "%" PRId64, (int64_t)v);
		return buf;
	}
	/* Shortest of %.15g..%.17g that reads back exactly. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static void escape_to(struct out *o, const char *value)
{
	const char *run = value;

	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" :
				  *p == '"'  ? "\\\"" :
				  *p == '\n' ? "\\n" :
					       NULL;

		if (!esc)
			continue;
		out_append(o, run, p - run);
		out_puts(o, esc);
		run = p + 1;
	}
	out_puts(o, run);
}

void prom_escape_label(struct strbuf *sb, const char *value)
{
	struct out o = { .sb = sb };

	escape_to(&o, value);
}

/* HELP and TYPE. OpenMetrics names a counter family without the _total
 * of its sample; 0.0.4 names it as the sample. */
static void family(struct out *o, enum prom_format fmt, const char *sample, enum kind kind,
		   const char *help)
{
	size_t n = strlen(sample);

	if (fmt == PROM_FORMAT_OPENMETRICS && kind == KIND_COUNTER)
		n -= strlen("_total");
	for (int i = 0; i < 2; i++) {
		out_puts(o, i == 0 ? "# HELP " : "# TYPE ");
		out_append(o, sample, n);
		out_puts(o, " ");
		out_puts(o, i == 0 ? help : kind == KIND_COUNTER ? "counter" : "gauge");
		out_puts(o, "\n");
	}
}

static void sample(struct out *o, const char *name, const struct label *l, size_t n, double v)
{
	char buf[32];

	out_puts(o, name);
	for (size_t i = 0; i < n; i++) {
		out_puts(o, i == 0 ? "{" : ",");
		out_puts(o, l[i].name);
		out_puts(o, "=\"");
		escape_to(o, l[i].value ? l[i].value : "");
		out_puts(o, "\"");
	}
	out_puts(o, n ? "} " : " ");
	out_puts(o, prom_format_value(v, buf));
	out_puts(o, "\n");
}

static void render_build(struct out *o, enum prom_format fmt, const struct prom_extra *x)
{
	struct label l[] = { { "version", x && x->version ? x->version : PACKAGE_VERSION } };

	family(o, fmt, "atrest_build_info", KIND_GAUGE,
	       "Version of the atrest agent that produced these metrics.");
	sample(o, "atrest_build_info", l, ARRAY_SIZE(l), 1);
}

static void render_verdict(struct out *o, enum prom_format fmt, const struct report *r)
{
	family(o, fmt, "atrest_verdict", KIND_GAUGE,
	       "Verdict of the last evaluation: 1 for the current verdict, 0 for the others.");
	for (enum verdict v = 0; v < _VERDICT_MAX; v++) {
		struct label l[] = { { "verdict", verdict_to_string(v) } };

		sample(o, "atrest_verdict", l, ARRAY_SIZE(l), r->verdict == v);
	}
}

static void render_check_status(struct out *o, enum prom_format fmt, const struct report *r)
{
	family(o, fmt, "atrest_check_status", KIND_GAUGE,
	       "Status of each check and subject: 1 for the current status, 0 for the others.");
	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];

		for (enum check_status s = 0; s < _CHECK_STATUS_MAX; s++) {
			struct label l[] = {
				{ "check", check_name(c->check) },
				{ "subject", c->subject },
				{ "status", check_status_to_string(s) },
			};

			sample(o, "atrest_check_status", l, ARRAY_SIZE(l), c->status == s);
		}
	}
}

static void render_check_info(struct out *o, enum prom_format fmt, const struct report *r)
{
	family(o, fmt, "atrest_check_info", KIND_GAUGE,
	       "Severity the policy gives each check and subject.");
	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];
		struct label l[] = {
			{ "check", check_name(c->check) },
			{ "subject", c->subject },
			{ "severity", severity_to_string(c->severity) },
		};

		sample(o, "atrest_check_info", l, ARRAY_SIZE(l), 1);
	}
}

static void render_times(struct out *o, enum prom_format fmt, const struct report *r)
{
	family(o, fmt, "atrest_last_evaluation_timestamp_seconds", KIND_GAUGE,
	       "Unix time at which the last evaluation finished.");
	sample(o, "atrest_last_evaluation_timestamp_seconds", NULL, 0, (double)r->generated_at);
	if (!r->facts)
		return;
	family(o, fmt, "atrest_evaluation_duration_seconds", KIND_GAUGE,
	       "Time the last evaluation spent gathering facts.");
	sample(o, "atrest_evaluation_duration_seconds", NULL, 0, r->facts->gather_seconds);
}

static void render_sources(struct out *o, enum prom_format fmt, const struct facts *f)
{
	const struct {
		const char *name;
		enum source_status status;
	} src[] = {
		{ "imds", f->imds.status },
		{ "arm", f->arm.status },
		{ "block", f->block.status },
	};

	family(o, fmt, "atrest_source_up", KIND_GAUGE,
	       "Whether each evidence source answered in the last evaluation (1 when its status is ok).");
	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		struct label l[] = { { "source", src[i].name } };

		sample(o, "atrest_source_up", l, ARRAY_SIZE(l), src[i].status == SOURCE_OK);
	}
	family(o, fmt, "atrest_source_age_seconds", KIND_GAUGE,
	       "Age of a source's answer when the evaluation used it (the daemon reuses IMDS "
	       "answers up to 50 s, ARM answers for hours).");
	{
		struct label li[] = { { "source", "imds" } }, la[] = { { "source", "arm" } };

		sample(o, "atrest_source_age_seconds", li, 1, f->imds.age);
		sample(o, "atrest_source_age_seconds", la, 1, f->arm_age);
	}
}

static void cipher_string(const struct crypt_params *c, char *buf, size_t size)
{
	if (c->cipher && c->mode)
		snprintf(buf, size, "%s-%s", c->cipher, c->mode);
	else
		snprintf(buf, size, "%s", c->cipher ? c->cipher : "");
}

static void render_dmcrypt(struct out *o, enum prom_format fmt, const struct block_graph *g)
{
	family(o, fmt, "atrest_dmcrypt_info", KIND_GAUGE,
	       "Each active dm-crypt mapping with its type and cipher-mode (empty when not established).");
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct blockdev *d = &g->devs[i];
		char cipher[256];

		if (!d->dm_crypt)
			continue;
		cipher_string(&d->crypt, cipher, sizeof(cipher));
		struct label l[] = {
			{ "name", d->dm_name ? d->dm_name : d->name },
			{ "device", d->devnode },
			{ "type", d->crypt.type },
			{ "cipher", cipher },
		};
		sample(o, "atrest_dmcrypt_info", l, ARRAY_SIZE(l), 1);
	}
	family(o, fmt, "atrest_dmcrypt_key_size_bytes", KIND_GAUGE,
	       "Volume key size of each dm-crypt mapping whose parameters are established.");
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct blockdev *d = &g->devs[i];
		struct label l[] = { { "name", d->dm_name ? d->dm_name : d->name } };

		if (d->dm_crypt && d->crypt.key_bits > 0)
			sample(o, "atrest_dmcrypt_key_size_bytes", l, ARRAY_SIZE(l),
			       d->crypt.key_bits / 8.0);
	}
}

static void render_disks(struct out *o, enum prom_format fmt, const struct block_graph *g)
{
	family(o, fmt, "atrest_disk_info", KIND_GAUGE,
	       "Each whole disk with its Azure role and, for data disks, its LUN.");
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct blockdev *d = &g->devs[i];
		char lun[16] = "";

		if (d->kind != BLK_DISK)
			continue;
		if (d->lun >= 0)
			snprintf(lun, sizeof(lun), "%d", d->lun);
		struct label l[] = {
			{ "device", d->devnode },
			{ "role", azure_role_to_string(d->role) },
			{ "lun", lun },
		};
		sample(o, "atrest_disk_info", l, ARRAY_SIZE(l), 1);
	}
}

/* One series per pod volume and disk subject it sits on (the empty subject
 * when it cannot be placed), so that one join on (instance, disk_subject)
 * with atrest_check_status lists the workloads on failing storage. Memory
 * volumes hold nothing at rest and get none; agent/kube.c applied the cap. */
static void render_pod_volumes(struct out *o, enum prom_format fmt, const struct kube_facts *k)
{
	if (!k->enabled)
		return;
	family(o, fmt, "atrest_pod_volume_info", KIND_GAUGE,
	       "Each pod volume with data at rest and the disk subject it sits on (empty when it cannot be placed).");
	for (size_t i = 0; i < k->n_pods; i++) {
		const struct kubelet_pod *p = k->pods[i].p;

		for (size_t j = 0; j < k->pods[i].n_volumes; j++) {
			const struct kube_volume_fact *vf = &k->pods[i].volumes[j];
			size_t n = strv_length(vf->place.subjects);

			if (!vf->metric)
				continue;
			for (size_t s = 0; s < MAX(n, (size_t)1); s++) {
				struct label l[] = {
					{ "namespace", p->namespace },
					{ "pod", p->name ? p->name : p->uid },
					{ "volume", vf->v->name },
					{ "kind", kube_volume_kind_to_string(vf->v->kind) },
					{ "pv", vf->pv },
					{ "disk_subject", n ? vf->place.subjects[s] : "" },
				};
				sample(o, "atrest_pod_volume_info", l, ARRAY_SIZE(l), 1);
			}
		}
	}
	family(o, fmt, "atrest_pod_volume_series_dropped", KIND_GAUGE,
	       "atrest_pod_volume_info series the last evaluation left out to stay within [kubernetes] max_volume_series.");
	sample(o, "atrest_pod_volume_series_dropped", NULL, 0, (double)k->series_dropped);
}

/* One series per engine and key size, single-threaded (the multi-thread
 * figures would need a threads label the contract does not name). */
static void render_bench_rate(struct out *o, enum prom_format fmt, const struct bench_result *b,
			      bool encrypt)
{
	const char *name = encrypt ? "atrest_bench_encrypt_bytes_per_second" :
				     "atrest_bench_decrypt_bytes_per_second";
	bool any = false;

	family(o, fmt, name, KIND_GAUGE,
	       encrypt ? "AES-XTS encryption throughput measured by the last benchmark, one thread." :
			 "AES-XTS decryption throughput measured by the last benchmark, one thread.");
	for (size_t i = 0; i <= b->n_samples; i++) {
		const struct bench_sample *s = i < b->n_samples ? &b->samples[i] : NULL;
		const char *engine = s ? s->engine : b->engine;
		unsigned bits = s ? s->key_bits : b->key_bits;
		double v = s ? (encrypt ? s->encrypt_bytes_per_second : s->decrypt_bytes_per_second) :
			       (encrypt ? b->encrypt_bytes_per_second : b->decrypt_bytes_per_second);
		char kb[16];

		/* The headline is only used when there are no samples. */
		if ((s && s->threads > 1) || (!s && (any || !engine)))
			continue;
		snprintf(kb, sizeof(kb), "%u", bits);
		struct label l[] = { { "engine", engine },
				     { "cipher", "aes-xts-plain64" },
				     { "key_bits", kb } };
		sample(o, name, l, ARRAY_SIZE(l), v);
		any = true;
	}
}

static void render_bench(struct out *o, enum prom_format fmt, const struct bench_result *b)
{
	if (b->ran_at == 0)
		return;
	family(o, fmt, "atrest_bench_last_run_timestamp_seconds", KIND_GAUGE,
	       "Unix time at which the AES-XTS benchmark last ran.");
	sample(o, "atrest_bench_last_run_timestamp_seconds", NULL, 0, (double)b->ran_at);
	family(o, fmt, "atrest_bench_yielded_seconds", KIND_GAUGE,
	       "Wall time the last benchmark paused because other work kept the node busy.");
	sample(o, "atrest_bench_yielded_seconds", NULL, 0, b->yielded_seconds);
	family(o, fmt, "atrest_bench_skipped_samples", KIND_GAUGE,
	       "Samples the last benchmark left unmeasured because the node stayed busy.");
	sample(o, "atrest_bench_skipped_samples", NULL, 0, (double)b->samples_skipped);
	if (b->status != SOURCE_OK)
		return;
	render_bench_rate(o, fmt, b, true);
	render_bench_rate(o, fmt, b, false);
}

static void render_self(struct out *o, enum prom_format fmt, const struct prom_self *s)
{
	const struct {
		const char *name;
		const char *help;
		uint64_t v;
	} c[] = {
		{ "atrest_scrapes_total", "Requests for /metrics served.", s->scrapes_total },
		{ "atrest_evaluations_total", "Evaluations the daemon completed.", s->evaluations_total },
		{ "atrest_evaluation_errors_total", "Evaluations that failed to produce a report.",
		  s->evaluation_errors_total },
		{ "atrest_config_reloads_total", "Configuration reloads (SIGHUP) that took effect.",
		  s->config_reloads_total },
		{ "atrest_config_reload_errors_total",
		  "Configuration reloads rejected; the previous configuration stays in force.",
		  s->config_reload_errors_total },
		{ "atrest_evaluation_timeouts_total",
		  "Evaluations killed at the deadline; the previous report stays served.",
		  s->evaluation_timeouts_total },
		{ "atrest_snapshot_rejections_total",
		  "Snapshot files the server refused (truncated, oversized, malformed).",
		  s->snapshot_rejections_total },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		family(o, fmt, c[i].name, KIND_COUNTER, c[i].help);
		sample(o, c[i].name, NULL, 0, (double)c[i].v);
	}
	family(o, fmt, "atrest_daemon_start_time_seconds", KIND_GAUGE,
	       "Unix time at which the daemon started.");
	sample(o, "atrest_daemon_start_time_seconds", NULL, 0, s->start_time_seconds);
	if (s->evaluation_max_rss_bytes) {
		family(o, fmt, "atrest_evaluation_max_rss_bytes", KIND_GAUGE,
		       "Peak resident memory of the last evaluation's child process.");
		sample(o, "atrest_evaluation_max_rss_bytes", NULL, 0,
		       (double)s->evaluation_max_rss_bytes);
	}
	if (s->evidence_age_seconds < 0)
		return;
	family(o, fmt, "atrest_evidence_age_seconds", KIND_GAUGE,
	       "Seconds since the evidence behind the served report was gathered.");
	sample(o, "atrest_evidence_age_seconds", NULL, 0, s->evidence_age_seconds);
}

size_t prom_render_self(const struct prom_self *s, enum prom_format fmt, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (s)
		render_self(&o, fmt, s);
	if (fmt == PROM_FORMAT_OPENMETRICS)
		out_puts(&o, "# EOF\n");
	if (size > 0)
		buf[MIN(o.len, size - 1)] = '\0';
	return o.len;
}

char *prom_render(const struct report *r, const struct prom_extra *x, enum prom_format fmt)
{
	struct strbuf sb = {};
	struct out o = { .sb = &sb };

	render_build(&o, fmt, x);
	render_verdict(&o, fmt, r);
	render_check_status(&o, fmt, r);
	render_check_info(&o, fmt, r);
	render_times(&o, fmt, r);
	if (r->facts) {
		render_sources(&o, fmt, r->facts);
		render_dmcrypt(&o, fmt, &r->facts->graph);
		render_disks(&o, fmt, &r->facts->graph);
		render_pod_volumes(&o, fmt, &r->facts->kube);
		render_bench(&o, fmt, &r->facts->bench);
	}
	if (!(x && x->open)) {
		if (x && x->self)
			render_self(&o, fmt, x->self);
		if (fmt == PROM_FORMAT_OPENMETRICS)
			out_puts(&o, "# EOF\n");
	}
	if (strbuf_failed(&sb)) {
		strbuf_done(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}
