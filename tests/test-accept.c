/* SPDX-License-Identifier: Apache-2.0 */
/* Content negotiation: table-driven Accept / Accept-Encoding cases, as real
 * scrapers send them, and hostile input. */
#include "config.h"

#include "agent/daemon/accept.h"
#include "lib/macro.h"
#include "tests/tap.h"

static void test_q(void)
{
	static const struct {
		const char *s;
		int q;
	} t[] = {
		{ "1", 1000 },   { "0", 0 },   { "0.5", 500 },  { "0.125", 125 }, { "1.000", 1000 },
		{ "1.0", 1000 }, { "0.", 0 },  { "1.001", -1 }, { "2", -1 },      { "0.1234", -1 },
		{ "", -1 },      { "-1", -1 }, { "0.5x", -1 },  { ".5", -1 },     { "0,5", -1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(accept_parse_q(t[i].s, strlen(t[i].s)), t[i].q, "q \"%s\"", t[i].s);
}

static void test_openmetrics(void)
{
	static const struct {
		const char *accept;
		bool om;
	} t[] = {
		{ NULL, false },
		{ "", false },
		{ "*/*", false },
		{ "text/plain", false },
		/* Prometheus 2.x default scrape protocols. */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
		  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  true },
		/* Prometheus 2.5x with escaping and UTF-8 names. */
		{ "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
		  "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
		  "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
		  true },
		{ "application/openmetrics-text", true },
		{ "application/openmetrics-text; version=\"1.0.0\"", true },
		{ "APPLICATION/OpenMetrics-Text ; Version=1.0.0 ; q=1", true },
		{ "application/openmetrics-text;version=0.0.1", false },
		{ "application/openmetrics-text;version=2.0.0", false },
		{ "application/openmetrics-text;q=0", false },
		{ "application/openmetrics-text;q=0.5,text/plain;q=0.6", false },
		{ "application/openmetrics-text;q=0.5,text/plain;q=0.5", true },
		{ "text/plain;q=0.9,application/openmetrics-text;q=0.9", true },
		{ "application/openmetrics-text;q=0.3,*/*", false },
		/* text/plain is more specific than the any-type range: its q decides. */
		{ "application/openmetrics-text;q=0.3,text/plain;q=0.2,*/*", true },
		{ "application/openmetrics-text;q=0.3,text/*;q=0.4", false },
		{ "application/openmetrics-text;q=bogus", false },
		{ "application/openmetrics-text;foo=\"a,b;c\";q=1,text/plain;q=0.5", true },
		{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false },
		{ ",,,;;;,application/openmetrics-text,,", true },
		{ "application/openmetrics-text;version=\"1.0.0", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(accept_openmetrics(t[i].accept), t[i].om, "accept \"%s\"",
		       t[i].accept ? t[i].accept : "(none)");
}

static void test_gzip(void)
{
	static const struct {
		const char *enc;
		bool gzip;
	} t[] = {
		{ NULL, false },
		{ "", false },
		{ "gzip", true },
		{ "GZip", true },
		{ "x-gzip", true },
		{ "deflate, gzip;q=0.5", true },
		{ "gzip;q=0", false },
		{ "*", true },
		{ "*;q=0", false },
		{ "gzip;q=0, *", false },
		{ "identity", false },
		{ "br, deflate", false },
		{ "gzip, deflate, br, zstd", true },
		{ "gzip;q=1.5", false },
		{ "gzipx", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(accept_gzip(t[i].enc), t[i].gzip, "accept-encoding \"%s\"",
		       t[i].enc ? t[i].enc : "(none)");
}

/* Long and random headers: must not crash or read out of bounds (run under
 * ASan/valgrind by make check-valgrind). */
static void test_hostile(void)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	unsigned seed = 1;
	bool all_false = true;

	memset(big, ';', n);
	big[n] = '\0';
	ok(!accept_openmetrics(big) && !accept_gzip(big), "a megabyte of semicolons");
	memset(big, '"', n);
	ok(!accept_openmetrics(big) && !accept_gzip(big), "a megabyte of quotes");
	memset(big, '\\', n);
	ok(!accept_openmetrics(big), "a megabyte of backslashes");
	for (int round = 0; round < 20000; round++) {
		static const char alphabet[] = "ap/lictonmersx-*;=,q.01\"\\ \t\xff";
		size_t len = rand_r(&seed) % 64;
		char buf[65];

		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		buf[len] = '\0';
		if (accept_openmetrics(buf) && !strstr(buf, "application/openmetrics-text"))
			all_false = false;
		accept_gzip(buf);
	}
	ok(all_false, "random headers never pick OpenMetrics unless it is named");
	free(big);
}

int main(void)
{
	test_q();
	test_openmetrics();
	test_gzip();
	test_hostile();
	return tap_done();
}
