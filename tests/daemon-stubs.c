/* TEST DOUBLE, linked ONLY into the daemon's test programs: weak stand-ins
 * for functions other areas implement (checks, report JSON, evaluation,
 * config, IMDS cache, benchmark, probes' names). The real definitions are
 * strong and win wherever they are linked; drop this file from
 * tests/daemon.am once they all exist in libatrest-*.a. */
#include "config.h"

#include <json-c/json.h>

#include "agent/evaluate.h"
#include "tests/daemon-fixture.h"

#define WEAK __attribute__((weak))

WEAK const char *check_name(enum check_id id)
{
	static const char *const names[_CHECK_MAX] = {
		"host.encryption_at_host", "disk.customer_managed_key", "disk.temp_encrypted",
		"dmcrypt.cipher", "path.dm_crypt", "swap.encrypted", "ade.active",
		"imds.disks_match", "bench.aes_xts",
	};

	return (unsigned)id < _CHECK_MAX ? names[id] : "unknown";
}

WEAK const char *check_status_to_string(enum check_status s)
{
	static const char *const names[_CHECK_STATUS_MAX] = { "pass", "fail", "unknown", "not_applicable" };

	return (unsigned)s < _CHECK_STATUS_MAX ? names[s] : "unknown";
}

WEAK const char *severity_to_string(enum severity s)
{
	static const char *const names[] = { "critical", "warning", "info", "ignore" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "critical";
}

WEAK const char *verdict_to_string(enum verdict v)
{
	static const char *const names[_VERDICT_MAX] = { "compliant", "warning", "noncompliant",
							 "indeterminate" };

	return (unsigned)v < _VERDICT_MAX ? names[v] : "indeterminate";
}

WEAK const char *azure_role_to_string(enum azure_role r)
{
	static const char *const names[] = { "other", "os", "data", "resource", "local" };

	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "other";
}

/* Only what the daemon's tests read: schema, verdict, checks. */
WEAK char *report_to_json_string(const struct report *r, bool pretty)
{
	json_object *o = json_object_new_object(), *checks = json_object_new_array();
	char *s;

	json_object_object_add(o, "schema", json_object_new_string("atrest.report/v1"));
	json_object_object_add(o, "verdict", json_object_new_string(verdict_to_string(r->verdict)));
	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "id", json_object_new_string(check_name(c->check)));
		json_object_object_add(e, "subject", json_object_new_string(c->subject));
		json_object_object_add(e, "status", json_object_new_string(check_status_to_string(c->status)));
		json_object_object_add(e, "severity", json_object_new_string(severity_to_string(c->severity)));
		json_object_object_add(e, "summary", json_object_new_string(c->summary));
		json_object_array_add(checks, e);
	}
	json_object_object_add(o, "checks", checks);
	s = strdup(json_object_to_json_string_ext(o, pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

WEAK int evaluate(const struct gather_options *opts, struct evaluation **ret)
{
	*ret = fixture_evaluation(0);
	return *ret ? 0 : -ENOMEM;
}

WEAK void evaluation_free(struct evaluation *e)
{
	fixture_evaluation_free(e);
}

WEAK void config_done(struct config *c)
{
	strv_free(c->listen);
	c->listen = NULL;
}

struct imds_cache {
	double max_age;
};

WEAK struct imds_cache *imds_cache_new(double max_age)
{
	struct imds_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->max_age = max_age;
	return c;
}

WEAK void imds_cache_free(struct imds_cache *c)
{
	free(c);
}

WEAK void bench_run(const struct bench_options *opts, struct bench_result *res)
{
	*res = (struct bench_result){ .status = SOURCE_ERROR, .error = strdup("stub benchmark"),
				      .ran_at = time(NULL) };
}

WEAK void bench_result_done(struct bench_result *r)
{
	free(r->error);
	free(r->samples);
	*r = (struct bench_result){};
}
