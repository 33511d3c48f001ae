/* SPDX-License-Identifier: Apache-2.0 */
/* The journal reporter: one entry per check whose status changed since the
 * previous evaluation (every check on the first), one per verdict change.
 * Without journald the same messages go to stderr. */
#pragma once

#include <stdio.h>

#include "agent/report/report.h"

/* Fixed MESSAGE_IDs, one per message type; the catalog
 * (packaging/systemd/atrest.catalog) explains each. Never change them. */
#define ATREST_MESSAGE_CHECK_PASS "4817ad8def9a4a19aee8d09b7c1da4e6"
#define ATREST_MESSAGE_CHECK_FAIL "7fc126e57ef142cbabf758e61ae8d9f5"
#define ATREST_MESSAGE_CHECK_UNKNOWN "b530ff9d9fb140c5a7e47dd59047bbb6"
#define ATREST_MESSAGE_CHECK_NOT_APPLICABLE "016ce1eb72e74c6ba2fbc0323ba34733"
#define ATREST_MESSAGE_VERDICT "46de1c8c50f1496e98529ce053877f8f"
#define ATREST_MESSAGE_EVALUATION_FAILED "23a2e91108774fffa0e71e7044fd69b0"
#define ATREST_MESSAGE_RELOAD_FAILED "a9fc4226883a4c9f8d3e964fe9651105"
#define ATREST_MESSAGE_RELOADED "8b9449340e5643ea9cdd8814825637e1"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* syslog priorities, by status (rows) and severity (columns):
 *
 *                   critical     warning      info        ignore
 *   fail            err(3)       warning(4)   notice(5)   debug(7)
 *   unknown         warning(4)   notice(5)    info(6)     debug(7)
 *   pass            info(6)      info(6)      info(6)     debug(7)
 *   not_applicable  info(6)      info(6)      info(6)     debug(7)
 *
 * Verdicts: noncompliant err(3), indeterminate warning(4), warning
 * warning(4), compliant notice(5). */
int journal_priority(enum check_status s, enum severity sev);
int journal_verdict_priority(enum verdict v);
const char *journal_message_id(enum check_status s);

struct journal_change {
	const struct check_result *result; /* points into the current report */
	int previous;                      /* enum check_status, or -1 when new */
};

struct journal_diff {
	struct journal_change *changes;
	size_t n_changes;
	bool verdict_changed;
	int previous_verdict; /* enum verdict, or -1 on the first */
	enum verdict verdict;
};

/* What changed from prev (NULL on the first evaluation) to cur; a check
 * and subject is matched by (check, subject). Pure. -ENOMEM only. */
int journal_diff(const struct report *prev, const struct report *cur, struct journal_diff *ret);
void journal_diff_done(struct journal_diff *d);

/* The fields of one entry, "NAME=value" each, NULL-terminated; pure. */
char **journal_change_fields(const struct journal_change *c);
char **journal_verdict_fields(const struct journal_diff *d);

struct journal_sink {
	bool journal;   /* journald is listening */
	FILE *fallback; /* else lines go here (stderr) */
};

/* Uses journald when socket_path (NULL: JOURNAL_SOCKET) exists. */
void journal_sink_init(struct journal_sink *s, const char *socket_path, FILE *fallback);
/* Sends one entry built from fields (which must hold MESSAGE=). */
int journal_send_fields(const struct journal_sink *s, char *const *fields);
/* Every entry of a diff: the check changes in report order, then the verdict. */
int journal_log_diff(const struct journal_sink *s, const struct journal_diff *d);
/* A daemon event (reload, failed evaluation) with its MESSAGE_ID. */
int journal_log_event(const struct journal_sink *s, const char *message_id, int priority,
		      const char *fmt, ...) _printf_(4, 5);
