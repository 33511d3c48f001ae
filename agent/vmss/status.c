/* SPDX-License-Identifier: Apache-2.0 */
/* The extension status file: the operation's own outcome on top, the
 * compliance summary as a substatus whose message is compact JSON. */
#include "config.h"

#include "agent/vmss/vmss.h"
#include "lib/json-util.h"
#include "lib/strutil.h"

#define SUMMARY_TEXT_MAX 300
#define MESSAGE_MAX 1000 /* waagent shows 1 KiB in the portal */

static const char *const state_names[] = {
	[VMSS_TRANSITIONING] = "transitioning",
	[VMSS_WARNING] = "warning",
	[VMSS_ERROR] = "error",
	[VMSS_SUCCESS] = "success",
};

const char *vmss_state_to_string(enum vmss_state s)
{
	return s <= VMSS_SUCCESS ? state_names[s] : "error";
}

/* The verdict as the substatus' state: failing the whole extension for a
 * non-compliant node would fail the scale set's provisioning, so the
 * verdict lives here only. */
static enum vmss_state verdict_state(enum verdict v)
{
	switch (v) {
	case VERDICT_COMPLIANT:
		return VMSS_SUCCESS;
	case VERDICT_NONCOMPLIANT:
		return VMSS_ERROR;
	default:
		return VMSS_WARNING;
	}
}

static json_object *jstr_trunc(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (!s)
		return NULL;
	if (n <= max)
		return json_object_new_string(s);
	/* Cut at a UTF-8 boundary so the JSON stays valid text. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return json_object_new_string_len(s, (int)max);
}

static json_object *counts_json(const struct check_results *res)
{
	unsigned n[_CHECK_STATUS_MAX] = { 0 };
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].status < _CHECK_STATUS_MAX)
			n[res->v[i].status]++;
	for (int s = 0; s < _CHECK_STATUS_MAX; s++)
		json_object_object_add(o, check_status_to_string(s), json_object_new_int((int)n[s]));
	return o;
}

static json_object *check_json(const struct check_result *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(check_name(c->check)));
	json_object_object_add(o, "subject", jstr_trunc(c->subject, 128));
	json_object_object_add(o, "status", json_object_new_string(check_status_to_string(c->status)));
	json_object_object_add(o, "severity", json_object_new_string(severity_to_string(c->severity)));
	json_object_object_add(o, "summary", jstr_trunc(c->summary, SUMMARY_TEXT_MAX));
	return o;
}

static size_t json_len(json_object *o)
{
	return strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Failing checks first, then unknown ones; each added only while the
 * whole summary stays under max_bytes, the rest counted as omitted. */
static void add_checks(json_object *root, json_object *list, const struct check_results *res,
		       size_t max_bytes)
{
	static const enum check_status order[] = { CHECK_FAIL, CHECK_UNKNOWN };
	int omitted = 0;

	/* Room for the "omitted" key added last. */
	json_object_object_add(root, "omitted", json_object_new_int(0));
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < res->n; i++) {
			const struct check_result *c = &res->v[i];

			if (c->status != order[k] || c->severity == SEV_IGNORE)
				continue;
			if (omitted == 0) {
				json_object_array_add(list, check_json(c));
				if (json_len(root) + 16 <= max_bytes)
					continue;
				json_object_array_del_idx(list, json_object_array_length(list) - 1, 1);
			}
			omitted++;
		}
	json_object_object_add(root, "omitted", json_object_new_int(omitted));
}

char *vmss_compliance_summary(const struct report *r, size_t max_bytes)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	_cleanup_free_ char *ts = format_rfc3339(r->generated_at);
	char *s;

	if (!root || !list) {
		json_object_put(root);
		json_object_put(list);
		return NULL;
	}
	json_object_object_add(root, "schema", json_object_new_string("atrest.vmss-summary/v1"));
	json_object_object_add(root, "verdict", json_object_new_string(verdict_to_string(r->verdict)));
	json_object_object_add(root, "exit_code", json_object_new_int(verdict_exit_code(r->verdict)));
	json_object_object_add(root, "generated_at", json_string_or_null(ts));
	json_object_object_add(root, "counts", counts_json(&r->results));
	json_object_object_add(root, "checks", list);
	add_checks(root, list, &r->results, max_bytes);
	s = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return s;
}

static json_object *formatted(const char *msg, size_t max)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lang", json_object_new_string("en-US"));
	json_object_object_add(o, "message", jstr_trunc(msg ? msg : "", max));
	return o;
}

static json_object *substatus(const char *name, enum vmss_state st, int code, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "status", json_object_new_string(vmss_state_to_string(st)));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "formattedMessage", formatted(msg, VMSS_SUMMARY_MAX_BYTES));
	return o;
}

static json_object *substatus_list(const struct vmss_status *s)
{
	json_object *list = json_object_new_array();

	if (s->report) {
		_cleanup_free_ char *sum = vmss_compliance_summary(s->report, VMSS_SUMMARY_MAX_BYTES);

		json_object_array_add(list, substatus("compliance", verdict_state(s->report->verdict),
						      verdict_exit_code(s->report->verdict), sum));
	}
	if (s->config_note)
		json_object_array_add(list,
				      substatus("configuration", VMSS_SUCCESS, 0, s->config_note));
	return list;
}

char *vmss_status_render(const struct vmss_status *s)
{
	_cleanup_free_ char *ts = format_rfc3339(s->now);
	json_object *arr = json_object_new_array(), *top = json_object_new_object(),
		    *st = json_object_new_object();
	char *text;

	json_object_object_add(st, "name", json_object_new_string(PACKAGE_NAME));
	json_object_object_add(st, "operation", json_object_new_string(s->operation));
	json_object_object_add(st, "status", json_object_new_string(vmss_state_to_string(s->state)));
	json_object_object_add(st, "code", json_object_new_int(s->code));
	json_object_object_add(st, "formattedMessage", formatted(s->message, MESSAGE_MAX));
	json_object_object_add(st, "substatus", substatus_list(s));
	json_object_object_add(top, "version", json_object_new_double(1.0));
	json_object_object_add(top, "timestampUTC", json_object_new_string(ts ? ts : ""));
	json_object_object_add(top, "status", st);
	json_object_array_add(arr, top);
	text = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	if (text && strlen(text) >= VMSS_STATUS_MAX_BYTES) {
		free(text); /* cannot happen: every part is capped */
		return NULL;
	}
	return text;
}
