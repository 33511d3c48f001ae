/* SPDX-License-Identifier: Apache-2.0 */
/* The journal reporter: the priority table, the diff between reports, the
 * fields of each entry and the stderr fallback. */
#include "config.h"

#include <syslog.h>

#include "agent/report/journal.h"
#include "tests/daemon-fixture.h"
#include "tests/tap.h"

static void test_priority(void)
{
	is_int(journal_priority(CHECK_FAIL, SEV_CRITICAL), LOG_ERR, "fail+critical is err");
	is_int(journal_priority(CHECK_FAIL, SEV_WARNING), LOG_WARNING, "fail+warning is warning");
	is_int(journal_priority(CHECK_FAIL, SEV_INFO), LOG_NOTICE, "fail+info is notice");
	is_int(journal_priority(CHECK_UNKNOWN, SEV_CRITICAL), LOG_WARNING,
	       "unknown+critical is warning");
	is_int(journal_priority(CHECK_UNKNOWN, SEV_WARNING), LOG_NOTICE, "unknown+warning is notice");
	is_int(journal_priority(CHECK_UNKNOWN, SEV_INFO), LOG_INFO, "unknown+info is info");
	is_int(journal_priority(CHECK_PASS, SEV_CRITICAL), LOG_INFO, "pass is info");
	is_int(journal_priority(CHECK_NOT_APPLICABLE, SEV_WARNING), LOG_INFO, "not_applicable is info");
	is_int(journal_priority(CHECK_FAIL, SEV_IGNORE), LOG_DEBUG, "ignored checks are debug");
	is_int(journal_priority((enum check_status)42, SEV_CRITICAL), LOG_WARNING,
	       "out of range is warning");
	is_int(journal_verdict_priority(VERDICT_NONCOMPLIANT), LOG_ERR, "noncompliant is err");
	is_int(journal_verdict_priority(VERDICT_INDETERMINATE), LOG_WARNING,
	       "indeterminate is warning");
	is_int(journal_verdict_priority(VERDICT_WARNING), LOG_WARNING, "warning verdict is warning");
	is_int(journal_verdict_priority(VERDICT_COMPLIANT), LOG_NOTICE, "compliant is notice");
}

static void test_ids(void)
{
	const char *ids[] = {
		ATREST_MESSAGE_CHECK_PASS,    ATREST_MESSAGE_CHECK_FAIL,
		ATREST_MESSAGE_CHECK_UNKNOWN, ATREST_MESSAGE_CHECK_NOT_APPLICABLE,
		ATREST_MESSAGE_VERDICT,       ATREST_MESSAGE_EVALUATION_FAILED,
		ATREST_MESSAGE_RELOAD_FAILED, ATREST_MESSAGE_RELOADED,
	};
	bool good = true;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		good &= strlen(ids[i]) == 32 && strspn(ids[i], "0123456789abcdef") == 32;
		for (size_t j = 0; j < i; j++)
			good &= !streq(ids[i], ids[j]);
	}
	ok(good, "message ids are 32 lower-case hex digits and distinct");
	is_str(journal_message_id(CHECK_FAIL), ATREST_MESSAGE_CHECK_FAIL, "fail has its id");
}

static const char *field(char **f, const char *name)
{
	size_t n = strlen(name);

	for (; f && *f; f++)
		if (strncmp(*f, name, n) == 0 && (*f)[n] == '=')
			return *f + n + 1;
	return NULL;
}

static void test_diff(void)
{
	struct facts f;
	struct report a, b;
	struct journal_diff d;

	fixture_facts(&f);
	fixture_report(&a, &f, 0);
	fixture_report(&b, &f, 1);

	is_int(journal_diff(NULL, &a, &d), 0, "first diff");
	is_int(d.n_changes, a.results.n, "first evaluation: every check");
	ok(d.verdict_changed && d.previous_verdict == -1, "first evaluation: verdict entry");
	ok(d.changes[0].previous == -1, "first evaluation: no previous status");
	journal_diff_done(&d);

	is_int(journal_diff(&a, &a, &d), 0, "same report");
	ok(d.n_changes == 0 && !d.verdict_changed, "same report: nothing to log");
	journal_diff_done(&d);

	is_int(journal_diff(&a, &b, &d), 0, "changed report");
	is_int(d.n_changes, 2, "two checks changed");
	ok(d.changes[0].result->check == CHECK_HOST_EAH && d.changes[0].previous == CHECK_PASS &&
		   d.changes[0].result->status == CHECK_UNKNOWN,
	   "host.encryption_at_host pass -> unknown");
	ok(d.changes[1].result->check == CHECK_DMCRYPT_CIPHER &&
		   streq(d.changes[1].result->subject, FIXTURE_ODD_SUBJECT) &&
		   d.changes[1].previous == CHECK_FAIL,
	   "the odd mapping fail -> pass, matched by subject");
	ok(d.verdict_changed && d.previous_verdict == VERDICT_NONCOMPLIANT &&
		   d.verdict == VERDICT_INDETERMINATE,
	   "verdict noncompliant -> indeterminate");

	_cleanup_strv_free_ char **c = journal_change_fields(&d.changes[0]);
	is_str(field(c, "MESSAGE"),
	       "host.encryption_at_host node: unknown (critical, was pass): IMDS says encryption at host is on.",
	       "MESSAGE");
	is_str(field(c, "MESSAGE_ID"), ATREST_MESSAGE_CHECK_UNKNOWN, "MESSAGE_ID");
	is_str(field(c, "PRIORITY"), "4", "PRIORITY");
	is_str(field(c, "ATREST_CHECK"), "host.encryption_at_host", "ATREST_CHECK");
	is_str(field(c, "ATREST_SUBJECT"), "node", "ATREST_SUBJECT");
	is_str(field(c, "ATREST_STATUS"), "unknown", "ATREST_STATUS");
	is_str(field(c, "ATREST_SEVERITY"), "critical", "ATREST_SEVERITY");
	is_str(field(c, "ATREST_PREVIOUS_STATUS"), "pass", "ATREST_PREVIOUS_STATUS");

	_cleanup_strv_free_ char **v = journal_verdict_fields(&d);
	is_str(field(v, "MESSAGE"), "verdict: indeterminate (was noncompliant)", "verdict MESSAGE");
	is_str(field(v, "MESSAGE_ID"), ATREST_MESSAGE_VERDICT, "verdict MESSAGE_ID");
	is_str(field(v, "ATREST_VERDICT"), "indeterminate", "ATREST_VERDICT");
	is_str(field(v, "PRIORITY"), "4", "verdict PRIORITY");
	journal_diff_done(&d);

	/* A subject that appears is new (no previous status). */
	b.results.n--;
	is_int(journal_diff(&b, &a, &d), 0, "subject added");
	ok(d.n_changes == 3 && d.changes[2].previous == -1 && d.changes[2].result->check == CHECK_BENCH,
	   "the added subject is logged as new");
	journal_diff_done(&d);
	b.results.n++;

	fixture_report_done(&a);
	fixture_report_done(&b);
	fixture_facts_done(&f);
}

static void test_stderr(void)
{
	struct facts f;
	struct report a, b;
	struct journal_diff d;
	struct journal_sink s;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	journal_sink_init(&s, "/nonexistent/atrest-test/socket", out);
	ok(!s.journal && s.fallback == out, "no socket: stderr fallback");
	fixture_facts(&f);
	fixture_report(&a, &f, 0);
	fixture_report(&b, &f, 1);
	journal_diff(&a, &b, &d);
	is_int(journal_log_diff(&s, &d), 0, "diff written");
	journal_log_event(&s, ATREST_MESSAGE_RELOAD_FAILED, LOG_ERR, "reload failed: %s",
			  "x.conf:3: bad key");
	fclose(out);
	is_str(buf,
	       "atrest: host.encryption_at_host node: unknown (critical, was pass): IMDS says encryption at host is on.\n"
	       "atrest: dmcrypt.cipher " FIXTURE_ODD_SUBJECT
	       ": pass (critical, was fail): Cipher <none> & key \"0\" bits.\n"
	       "atrest: verdict: indeterminate (was noncompliant)\n"
	       "atrest: reload failed: x.conf:3: bad key\n",
	       "stderr lines are the messages");
	free(buf);
	journal_diff_done(&d);
	fixture_report_done(&a);
	fixture_report_done(&b);
	fixture_facts_done(&f);
}

int main(void)
{
	test_priority();
	test_ids();
	test_diff();
	test_stderr();
	return tap_done();
}
