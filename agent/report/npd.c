/* SPDX-License-Identifier: Apache-2.0 */
/* The node-problem-detector plugin line. The verdict decides the status:
 * noncompliant is NonOK (the condition turns True), indeterminate is
 * Unknown, compliant and warning are OK (a warning-severity failure does
 * not make the node noncompliant; it is named on the line all the same).
 * The line names the worst check: a critical failure, then a warning
 * failure, then a critical unknown, then a warning unknown. */
#include "config.h"

#include <limits.h>
#include <time.h>

#include "agent/report/npd.h"
#include "lib/strutil.h"

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Rank of a check result, lower is worse; -1 when it says nothing bad. */
static int rank(const char *status, const char *severity)
{
	static const struct {
		const char *status, *severity;
	} order[] = {
		{ "fail", "critical" },
		{ "fail", "warning" },
		{ "unknown", "critical" },
		{ "unknown", "warning" },
	};

	for (size_t i = 0; status && severity && i < ARRAY_SIZE(order); i++)
		if (streq(status, order[i].status) && streq(severity, order[i].severity))
			return (int)i;
	return -1;
}

/* "2026-04-07T10:00:00Z" -> Unix time; -1 when it is not that shape. */
static time_t parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	return timegm(&tm);
}

/* Cuts a line to NPD_LINE_MAX bytes with "...", never inside a UTF-8
 * sequence (the Node API wants valid UTF-8 in a condition message). */
static void cut(char *s)
{
	size_t n = NPD_LINE_MAX - 3;

	if (!s || strlen(s) <= NPD_LINE_MAX)
		return;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	strcpy(s + n, "...");
}

char *npd_unknown_line(const char *why)
{
	char *s = strprintf("unknown: %s", why);

	cut(s);
	return s;
}

static char *unknown(enum npd_status *ret_status, const char *why)
{
	*ret_status = NPD_UNKNOWN;
	return npd_unknown_line(why);
}

char *npd_line(json_object *report, time_t now, double max_age, enum npd_status *ret_status)
{
	const char *schema = str_of(report, "schema"), *verdict = str_of(report, "verdict");
	json_object *checks = NULL, *worst = NULL;
	time_t at = parse_rfc3339(str_of(report, "generated_at"));
	int best = INT_MAX, same = 0, total = 0;
	struct strbuf sb = { 0 };
	const char *summary;

	if (!schema || !streq(schema, "atrest.report/v1"))
		return unknown(ret_status, "the report is not an atrest.report/v1 document");
	if (!verdict || !json_object_object_get_ex(report, "checks", &checks) ||
	    !json_object_is_type(checks, json_type_array))
		return unknown(ret_status, "the report has no verdict or no checks");
	if (at < 0)
		return unknown(ret_status, "the report has no generated_at time");
	if (max_age > 0 && difftime(now, at) > max_age) {
		_cleanup_free_ char *why =
			strprintf("the report is %.0f s old (more than %.0f s): atrest has stopped evaluating",
				  difftime(now, at), max_age);

		return unknown(ret_status, why ? why : "the report is too old");
	}
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		json_object *c = json_object_array_get_idx(checks, i);
		int r = rank(str_of(c, "status"), str_of(c, "severity"));

		total++;
		if (r < 0)
			continue;
		if (r < best) {
			best = r;
			worst = c;
			same = 0;
		} else if (r == best) {
			same++;
		}
	}
	if (streq(verdict, "noncompliant"))
		*ret_status = NPD_NONOK;
	else if (streq(verdict, "compliant") || streq(verdict, "warning"))
		*ret_status = NPD_OK;
	else if (streq(verdict, "indeterminate"))
		*ret_status = NPD_UNKNOWN;
	else
		return unknown(ret_status, "the report's verdict is not one atrest knows");
	if (!worst)
		return strprintf("%s: no critical or warning check fails or is unknown (%d results)",
				 verdict, total);
	summary = str_of(worst, "summary");
	strbuf_appendf(&sb, "%s: %s %s %s (%s)", verdict, strna(str_of(worst, "id")),
		       strna(str_of(worst, "subject")), strna(str_of(worst, "status")),
		       strna(str_of(worst, "severity")));
	if (same)
		strbuf_appendf(&sb, " and %d more", same);
	if (summary)
		strbuf_appendf(&sb, "; %s", summary);
	if (strbuf_failed(&sb)) {
		strbuf_done(&sb);
		return NULL;
	}
	cut(sb.buf);
	return strbuf_steal(&sb);
}
