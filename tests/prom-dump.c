/* SPDX-License-Identifier: Apache-2.0 */
/* Prints the fixture report as exposition text: `prom-dump text|openmetrics
 * [variant]`, for the tests that feed real parsers (promtool, python). */
#include "config.h"

#include "agent/daemon/http.h"
#include "agent/report/prom.h"
#include "tests/daemon-fixture.h"

int main(int argc, char **argv)
{
	struct prom_self self = { 7, 3, 1, 2, 1, 1700000000 };
	struct prom_extra x = { .version = FIXTURE_VERSION, .self = &self };
	enum prom_format fmt = PROM_FORMAT_TEXT;
	struct facts f;
	struct report r;
	char *s;

	if (argc > 1 && streq(argv[1], "openmetrics"))
		fmt = PROM_FORMAT_OPENMETRICS;
	fixture_facts(&f);
	fixture_report(&r, &f, argc > 2 ? atoi(argv[2]) : 0);
	if (argc > 1 && streq(argv[1], "html"))
		s = http_render_landing(&r, FIXTURE_VERSION);
	else
		s = prom_render(&r, &x, fmt);
	fputs(s, stdout);
	free(s);
	fixture_report_done(&r);
	fixture_facts_done(&f);
	return 0;
}
