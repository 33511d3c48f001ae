/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest check --format npd`: node-problem-detector's custom plugin. With
 * --report-from it evaluates nothing: it reads the verdict the atrest
 * daemon already published (its /report over HTTP, or a report file), so
 * the plugin needs none of atrest's privileges inside NPD's container.
 * Whatever goes wrong is one "unknown: ..." line and exit 2, within NPD's
 * timeout: never a hang, never a silent OK. */
#include "config.h"

#include <time.h>

#include "agent/cmd/cli.h"
#include "agent/evaluate.h"
#include "agent/report/npd.h"
#include "agent/report/report.h"
#include "imds/http-util.h"
#include "imds/json-strict.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/timeutil.h"

/* Well inside NPD's default plugin timeout (5 s). */
#define NPD_FETCH_TIMEOUT 3.0
/* A report of a node with hundreds of pods is a few MiB at most. */
#define NPD_REPORT_MAX (32u << 20)

struct body {
	struct strbuf sb;
	bool too_big;
};

static size_t write_cb(char *p, size_t size, size_t n, void *data)
{
	struct body *b = data;

	if (b->sb.len + size * n > NPD_REPORT_MAX) {
		b->too_big = true;
		return 0;
	}
	strbuf_append_n(&b->sb, p, size * n);
	return strbuf_failed(&b->sb) ? 0 : size * n;
}

static int fetch(const char *url, struct strbuf *ret, char **ret_error)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	struct curl_slist *h = NULL;
	struct body b = { 0 };
	CURLcode cc;
	long code = 0, os_errno = 0;
	char buf[128];

	if (http_global_init() != CURLE_OK || !(c = curl_easy_init()))
		return *ret_error = strdup("libcurl could not start"), -ENOMEM;
	h = curl_slist_append(NULL, "Accept: application/json");
	cc = http_easy_setup(c, &(struct http_easy_opts){
					.url = url,
					.headers = h,
					/* The daemon is on this node: never through a proxy. */
					.no_proxy = true,
					.deadline = now_monotonic() + NPD_FETCH_TIMEOUT,
					.connect_timeout = 1.0,
					.write_cb = write_cb,
					.write_data = &b,
				});
	if (cc == CURLE_OK)
		cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		(void)curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		*ret_error = b.too_big ? strprintf("%s sent more than %u bytes", url, NPD_REPORT_MAX) :
					 strprintf("%s: %s", url,
						   http_transport_reason(cc, (int)os_errno, buf,
									 sizeof(buf)));
		strbuf_done(&b.sb);
		return -EIO;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		*ret_error = strprintf("%s answered HTTP %ld", url, code);
		strbuf_done(&b.sb);
		return -EIO;
	}
	*ret = b.sb;
	return 0;
}

/* The published report, from an http(s) URL or a file. */
static int read_report(const char *source, json_object **ret, char **ret_error)
{
	struct strbuf sb = { 0 };
	_cleanup_free_ char *err = NULL;
	json_object *o = NULL;
	int r;

	if (startswith(source, "http://") || startswith(source, "https://")) {
		r = fetch(source, &sb, ret_error);
		if (r < 0)
			return r;
	} else {
		_cleanup_(sysroot_freep) struct sysroot *host = NULL;
		char *text = NULL;
		size_t len = 0;

		/* A file atrest wrote, not a fact of the node: read as given,
		 * not under --sysroot; regular files only, without blocking. */
		r = sysroot_new(NULL, &host);
		if (r >= 0)
			r = sysroot_read_file(host, source, NPD_REPORT_MAX, &text, &len);
		if (r < 0)
			return *ret_error = strprintf("%s: %s", source, strerror(-r)), r;
		sb = (struct strbuf){ .buf = text, .len = len, .cap = len + 1 };
	}
	r = json_parse_strict(sb.buf ? sb.buf : "", sb.len, &o, &err);
	strbuf_done(&sb);
	if (r < 0 || !o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*ret_error = strprintf("%s is not a JSON report (%s)", source,
				       err ? err : "not an object");
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

/* Evidence older than three intervals and a generous evaluation is stale
 * (issue 14's daemon also serves stale evidence as unknown). */
static double max_age_of(const struct config *conf)
{
	return 3.0 * conf->interval + 120.0;
}

static int emit(const char *line, enum npd_status st)
{
	/* NPD reads stdout only; a line without its status is no answer. */
	if (!line || puts(line) == EOF || fflush(stdout) != 0)
		return NPD_UNKNOWN;
	return (int)st;
}

int cmd_check_npd(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	_cleanup_(evaluation_freep) struct evaluation *e = NULL;
	_cleanup_free_ char *err = NULL, *line = NULL;
	json_object *report = NULL;
	enum npd_status st = NPD_UNKNOWN;
	int r;

	if (c->report_from) {
		r = read_report(c->report_from, &report, &err);
		if (r < 0) {
			_cleanup_free_ char *why = strprintf("cannot read the published report: %s",
							     strna(err));

			line = npd_unknown_line(why ? why : "cannot read the published report");
			return emit(line, NPD_UNKNOWN);
		}
		line = npd_line(report, time(NULL), max_age_of(&c->conf), &st);
		json_object_put(report);
		return emit(line, st);
	}
	if (cli_open_sysroot(c, &sr) < 0)
		return emit("unknown: the --sysroot directory cannot be opened", NPD_UNKNOWN);
	r = evaluate(&(struct gather_options){ .conf = &c->conf, .sr = sr, .no_bench = c->no_bench },
		     &e);
	if (r < 0)
		return emit("unknown: the evaluation failed", NPD_UNKNOWN);
	report = report_to_json(&e->report);
	line = report ? npd_line(report, time(NULL), 0, &st) : NULL;
	json_object_put(report);
	return emit(line, st);
}
