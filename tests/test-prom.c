/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus renderer: golden output in both formats, escaping, value
 * formatting, HELP/TYPE on every family, the open/self split. */
#include "config.h"

#include <math.h>

#include "agent/daemon/http.h"
#include "agent/report/prom.h"
#include "tests/daemon-fixture.h"
#include "tests/tap.h"

/* Compares with tests/golden/NAME; ATREST_UPDATE_GOLDEN=1 rewrites it. */
static void golden(const char *name, const char *got)
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *path = strprintf("%s/tests/golden/%s", top ? top : ".", name);
	_cleanup_free_ char *want = NULL;

	if (getenv("ATREST_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "we");

		if (f) {
			fputs(got, f);
			fclose(f);
		}
	}
	want = tap_read_file(path, NULL);
	if (!ok(want && streq(want, got), "%s matches the golden file", name))
		tap_diag("regenerate with ATREST_UPDATE_GOLDEN=1 after checking the difference");
}

static void test_escape(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a\"b", "a\\\"b" },
		{ "back\\slash", "back\\\\slash" },
		{ "line\nbreak", "line\\nbreak" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "tab\tstays", "tab\tstays" },
		{ "ütf-8 ✓", "ütf-8 ✓" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct strbuf sb = {};
		_cleanup_free_ char *s = NULL;

		prom_escape_label(&sb, t[i].in);
		s = strbuf_steal(&sb);
		is_str(s, t[i].out, "escape #%zu", i);
	}
}

static void test_values(void)
{
	static const struct {
		double v;
		const char *out;
	} t[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ -3, "-3" },
		{ 1700000100, "1700000100" },
		{ 0.25, "0.25" },
		{ 0.1, "0.1" },
		{ 2.5e9, "2500000000" },
		{ 3125000000.5, "3125000000.5" },
		{ 1e300, "1e+300" },
		{ 1.0 / 3, "0.3333333333333333" },
	};
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_str(prom_format_value(t[i].v, buf), t[i].out, "value %s", t[i].out);
	is_str(prom_format_value(NAN, buf), "NaN", "NaN");
	is_str(prom_format_value(INFINITY, buf), "+Inf", "+Inf");
	is_str(prom_format_value(-INFINITY, buf), "-Inf", "-Inf");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Every sample line's metric name is announced by a HELP and a TYPE line
 * of its family (the family name without _total/_info in OpenMetrics). */
static bool families_announced(const char *text, enum prom_format fmt)
{
	_cleanup_free_ char *copy = strdup(text);
	char family[256] = "";
	bool help = false, type = false;

	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[256];

		if (sscanf(l, "# HELP %255s", name) == 1) {
			snprintf(family, sizeof(family), "%s", name);
			help = true;
			type = false;
			continue;
		}
		if (sscanf(l, "# TYPE %255s", name) == 1) {
			type = help && streq(name, family);
			continue;
		}
		if (l[0] == '#')
			continue;
		size_t n = strcspn(l, "{ ");
		size_t fl = strlen(family);
		if (!help || !type || n < fl || strncmp(l, family, fl) != 0)
			return false;
		if (n > fl && !(fmt == PROM_FORMAT_OPENMETRICS && startswith(l + fl, "_total ")))
			return false;
	}
	return true;
}

static void test_render(void)
{
	struct prom_self self = { 7, 3, 1, 2, 1, 1700000000 };
	struct prom_extra x = { .version = FIXTURE_VERSION, .self = &self };
	struct prom_extra open = { .version = FIXTURE_VERSION, .open = true };
	struct facts f;
	struct report r;

	fixture_facts(&f);
	fixture_report(&r, &f, 0);
	for (enum prom_format fmt = 0; fmt < _PROM_FORMAT_MAX; fmt++) {
		const char *name = fmt == PROM_FORMAT_TEXT ? "prom-text.txt" : "prom-openmetrics.txt";
		_cleanup_free_ char *full = prom_render(&r, &x, fmt);
		_cleanup_free_ char *head = prom_render(&r, &open, fmt);
		char tail[4096], small[16];
		size_t n;

		golden(name, full);
		n = prom_render_self(&self, fmt, tail, sizeof(tail));
		is_int(n, strlen(tail), "%s: self tail fits", name);
		_cleanup_free_ char *joined = strprintf("%s%s", head, tail);
		is_str(joined, full, "%s: open body + per-scrape tail = whole exposition", name);
		is_int(prom_render_self(&self, fmt, small, sizeof(small)), n,
		       "%s: tail length reported when truncated", name);
		is_int(strlen(small), sizeof(small) - 1, "%s: truncated tail is terminated", name);
		ok(families_announced(full, fmt),
		   "%s: every sample has HELP and TYPE of its family", name);
		is_int(count(full, "atrest_check_status{"), 4 * r.results.n,
		       "%s: four status series per result", name);
		ok(strstr(full, "subject=\"we\\\"ird\\\\name\\n<b>&\"") != NULL,
		   "%s: odd subject escaped", name);
		is_int(count(full, "# EOF"), fmt == PROM_FORMAT_OPENMETRICS,
		       "%s: # EOF only in OpenMetrics", name);
		if (fmt == PROM_FORMAT_OPENMETRICS)
			ok(strlen(full) > 6 && streq(full + strlen(full) - 6, "# EOF\n"),
			   "%s: ends with # EOF", name);
		ok(!strstr(head, "atrest_scrapes") && !strstr(head, "# EOF"),
		   "%s: open body has no tail", name);
	}
	fixture_report_done(&r);
	fixture_facts_done(&f);
}

static void test_status_values(void)
{
	struct facts f;
	struct report r;
	_cleanup_free_ char *s = NULL;

	fixture_facts(&f);
	fixture_report(&r, &f, 1);
	s = prom_render(&r, NULL, PROM_FORMAT_TEXT);
	ok(strstr(s, "atrest_check_status{check=\"host.encryption_at_host\",subject=\"node\",status=\"unknown\"} 1\n") &&
		   strstr(s, "atrest_check_status{check=\"host.encryption_at_host\",subject=\"node\",status=\"pass\"} 0\n"),
	   "status series follow the result");
	ok(strstr(s, "atrest_verdict{verdict=\"indeterminate\"} 1\n") &&
		   strstr(s, "atrest_verdict{verdict=\"compliant\"} 0\n") &&
		   strstr(s, "atrest_verdict{verdict=\"warning\"} 0\n") &&
		   strstr(s, "atrest_verdict{verdict=\"noncompliant\"} 0\n"),
	   "all four verdict series");
	ok(strstr(s, "atrest_source_up{source=\"imds\"} 1\n") &&
		   strstr(s, "atrest_source_up{source=\"arm\"} 0\n"),
	   "source_up follows source status");
	ok(strstr(s, "atrest_dmcrypt_key_size_bytes{name=\"data-crypt\"} 64\n") &&
		   !strstr(s, "atrest_dmcrypt_key_size_bytes{name=\"we"),
	   "key size in bytes, only when established");
	ok(strstr(s, "atrest_disk_info{device=\"/dev/sdc\",role=\"data\",lun=\"0\"} 1\n") &&
		   !strstr(s, "device=\"/dev/sdc1\""),
	   "disk info for whole disks only");
	ok(strstr(s, "atrest_bench_encrypt_bytes_per_second{engine=\"openssl\",cipher=\"aes-xts-plain64\",key_bits=\"512\"} 3125000000.5\n") !=
		   NULL,
	   "bench throughput per engine and key size");
	is_int(count(s, "engine=\"openssl\",cipher=\"aes-xts-plain64\",key_bits=\"512\""), 2,
	       "multi-thread samples are not exported");
	ok(strstr(s, "atrest_build_info{version=\"" PACKAGE_VERSION "\"} 1\n") != NULL,
	   "default version");
	ok(!strstr(s, "atrest_scrapes_total"), "no daemon metrics without self");
	fixture_report_done(&r);

	/* A report without facts still renders its checks. */
	fixture_report(&r, NULL, 0);
	free(s);
	s = prom_render(&r, NULL, PROM_FORMAT_TEXT);
	ok(s && strstr(s, "atrest_check_status{") && !strstr(s, "atrest_source_up"),
	   "report without facts");
	fixture_report_done(&r);

	/* A failed bench exports its run time but no throughput. */
	f.bench.status = SOURCE_ERROR;
	f.bench.yielded_seconds = 12.5;
	f.bench.samples_skipped = 3;
	fixture_report(&r, &f, 0);
	free(s);
	s = prom_render(&r, NULL, PROM_FORMAT_TEXT);
	ok(strstr(s, "atrest_bench_last_run_timestamp_seconds 1700000000\n") &&
		   !strstr(s, "atrest_bench_encrypt_bytes_per_second{"),
	   "failed bench: no throughput series");
	ok(strstr(s, "atrest_bench_skipped_samples 3\n") &&
		   strstr(s, "atrest_bench_yielded_seconds 12.5\n"),
	   "failed bench: how long it gave way and what it skipped");
	fixture_report_done(&r);
	fixture_facts_done(&f);
}

static void test_landing(void)
{
	struct facts f;
	struct report r;
	_cleanup_free_ char *s = NULL;

	fixture_facts(&f);
	fixture_report(&r, &f, 0);
	s = http_render_landing(&r, FIXTURE_VERSION);
	golden("landing.html", s);
	ok(strstr(s, "we&quot;ird\\name\n&lt;b&gt;&amp;") != NULL, "landing: subject HTML-escaped");
	ok(!strstr(s, "<script"), "landing: no script");
	is_int(count(s, "<tr class=\"check\">"), r.results.n, "landing: one row per result");
	fixture_report_done(&r);
	fixture_facts_done(&f);
}

int main(void)
{
	test_escape();
	test_values();
	test_render();
	test_status_values();
	test_landing();
	return tap_done();
}
