/* SPDX-License-Identifier: Apache-2.0 */
/* What passes between the evaluator and its jobs and needs no big library:
 * the results (results.h) and the names of the jobs (job.h). */
#include "config.h"

#include "agent/daemon/job.h"
#include "agent/daemon/results.h"

const char *daemon_job_kind_to_string(enum daemon_job_kind k)
{
	static const char *const names[] = {
		[DAEMON_JOB_EVALUATE] = "evaluate",
		[DAEMON_JOB_BENCH] = "bench",
		[DAEMON_JOB_STALE] = "stale",
	};

	return (size_t)k < ARRAY_SIZE(names) ? names[k] : NULL;
}

json_object *daemon_results_to_json(const struct check_results *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < r->n; i++) {
		const struct check_result *c = &r->v[i];
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

const char *daemon_json_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t daemon_json_int(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

double daemon_json_double(json_object *o, const char *key, double def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return def;
	return json_object_get_double(v);
}

int daemon_results_from_json(json_object *a, enum verdict verdict, struct report *ret)
{
	struct report r = { .verdict = verdict };

	*ret = (struct report){ 0 };
	if (!json_object_is_type(a, json_type_array) || (int)verdict < 0 ||
	    verdict > VERDICT_INDETERMINATE)
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i);
		int64_t id = daemon_json_int(c, "check", -1), st = daemon_json_int(c, "status", -1),
			sev = daemon_json_int(c, "severity", -1);
		const char *subject = daemon_json_string(c, "subject"),
			   *summary = daemon_json_string(c, "summary");

		if (id < 0 || id >= _CHECK_MAX || st < 0 || st >= _CHECK_STATUS_MAX || sev < 0 ||
		    sev > SEV_IGNORE || !subject || !summary) {
			check_results_done(&r.results);
			return -EBADMSG;
		}
		check_results_add(&r.results, (enum check_id)id, subject, (enum check_status)st,
				  json_object_new_object(), "%s", summary);
		r.results.v[r.results.n - 1].severity = (enum severity)sev;
	}
	*ret = r;
	return 0;
}
