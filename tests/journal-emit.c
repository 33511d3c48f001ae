/* SPDX-License-Identifier: Apache-2.0 */
/* Writes what the daemon writes for two evaluations (fixture variants 0
 * then 1) and one rejected reload, through the real sink: to journald when
 * its socket exists. Used by test-journal-real.sh inside a namespace. */
#include "config.h"

#include <syslog.h>

#include "agent/report/journal.h"
#include "tests/daemon-fixture.h"

int main(void)
{
	struct journal_sink s;
	struct facts f;
	struct report a, b;
	struct journal_diff d;
	int r = 0;

	journal_sink_init(&s, NULL, stderr);
	if (!s.journal) {
		fprintf(stderr, "no journald socket at %s\n", JOURNAL_SOCKET);
		return 77;
	}
	fixture_facts(&f);
	fixture_report(&a, &f, 0);
	fixture_report(&b, &f, 1);
	if (journal_diff(NULL, &a, &d) < 0)
		return 1;
	r |= journal_log_diff(&s, &d);
	journal_diff_done(&d);
	if (journal_diff(&a, &b, &d) < 0)
		return 1;
	r |= journal_log_diff(&s, &d);
	journal_diff_done(&d);
	r |= journal_log_event(&s, ATREST_MESSAGE_RELOAD_FAILED, LOG_ERR,
			       "configuration reload failed, keeping the running configuration: %s",
			       "/etc/atrest/atrest.conf:3: unknown key");
	fixture_report_done(&a);
	fixture_report_done(&b);
	fixture_facts_done(&f);
	return r < 0 ? 1 : 0;
}
