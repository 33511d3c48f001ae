/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering a report into the bodies the server returns: both exposition
 * formats, the JSON report and the landing page. Runs in evaluation jobs
 * (and the tests' servers), never in the long-lived daemon processes,
 * which link neither the renderers nor what they name. */
#include "config.h"

#include <time.h>

#include "agent/daemon/http.h"
#include "agent/daemon/snapshot.h"
#include "agent/report/report.h"

int snapshot_bodies_render(const struct report *r, const char *version, struct snapshot_bodies *ret)
{
	struct snapshot_bodies b = { 0 };
	struct prom_extra x = { .version = version, .open = true };

	for (enum prom_format f = 0; f < _PROM_FORMAT_MAX; f++)
		b.prom[f] = prom_render(r, &x, f);
	b.report = report_to_json_string(r, true);
	b.html = http_render_landing(r, version);
	if (!b.report || !b.html || !b.prom[0] || !b.prom[1]) {
		snapshot_bodies_done(&b);
		return -ENOMEM;
	}
	*ret = b;
	return 0;
}

int http_snapshot_new(const struct report *r, const char *version, struct http_snapshot **ret)
{
	struct snapshot_bodies b;
	int k = snapshot_bodies_render(r, version, &b);

	if (k < 0)
		return k;
	k = http_snapshot_from_bodies(&b, NULL, ret);
	snapshot_bodies_done(&b);
	return k;
}

void html_escape(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			strbuf_append(sb, "&amp;");
			break;
		case '<':
			strbuf_append(sb, "&lt;");
			break;
		case '>':
			strbuf_append(sb, "&gt;");
			break;
		case '"':
			strbuf_append(sb, "&quot;");
			break;
		case '\'':
			strbuf_append(sb, "&#39;");
			break;
		default:
			strbuf_putc(sb, *s);
		}
	}
}

static const char landing_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>atrest</title>\n<style>\n"
	"body{font-family:sans-serif;margin:2em;color:#222}\n"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
	".pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.unknown{color:#a15c00;font-weight:bold}"
	".not_applicable{color:#666}\n"
	".verdict{font-size:1.6em}.compliant{color:#176f2c}.warning{color:#a15c00}"
	".noncompliant{color:#b00020}.indeterminate{color:#a15c00}\n"
	"</style>\n</head>\n<body>\n";

static void landing_row(struct strbuf *sb, const struct check_result *c)
{
	const char *st = check_status_to_string(c->status);

	strbuf_append(sb, "<tr class=\"check\"><td>");
	html_escape(sb, check_name(c->check));
	strbuf_append(sb, "</td><td>");
	html_escape(sb, c->subject);
	strbuf_appendf(sb, "</td><td class=\"status %s\">%s</td><td>", st, st);
	html_escape(sb, severity_to_string(c->severity));
	strbuf_append(sb, "</td><td>");
	html_escape(sb, c->summary);
	strbuf_append(sb, "</td></tr>\n");
}

char *http_render_landing(const struct report *r, const char *version)
{
	struct strbuf sb = {};
	const char *v = verdict_to_string(r->verdict);
	struct tm tm;
	char when[64] = "";

	if (gmtime_r(&r->generated_at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_append(&sb, landing_head);
	strbuf_append(&sb, "<h1>atrest ");
	html_escape(&sb, version);
	strbuf_append(&sb, "</h1>\n<p>Encryption at rest on ");
	html_escape(&sb, r->facts && r->facts->hostname ? r->facts->hostname : "this node");
	strbuf_appendf(&sb, ": <span id=\"verdict\" class=\"verdict %s\">%s</span></p>\n", v, v);
	strbuf_appendf(&sb, "<p>Last evaluation: <time id=\"generated-at\">%s</time></p>\n", when);
	strbuf_append(&sb, "<table id=\"checks\">\n<thead><tr><th>check</th><th>subject</th><th>status</th>"
			   "<th>severity</th><th>reason</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < r->results.n; i++)
		landing_row(&sb, &r->results.v[i]);
	strbuf_append(&sb, "</tbody>\n</table>\n<ul id=\"links\">\n"
			   "<li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>\n"
			   "<li><a href=\"/report\">/report</a> (JSON report)</li>\n"
			   "<li><a href=\"/healthz\">/healthz</a> (daemon liveness)</li>\n"
			   "</ul>\n</body>\n</html>\n");
	if (strbuf_failed(&sb)) {
		strbuf_done(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}
