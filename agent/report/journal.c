/* SPDX-License-Identifier: Apache-2.0 */
/* The journal reporter: diffs two reports and writes one structured entry
 * per change through sd-journal, or a plain line on stderr. */
#include "config.h"

#include <stdarg.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "agent/report/journal.h"
#include "lib/sd-dlopen.h"

int journal_priority(enum check_status s, enum severity sev)
{
	static const int table[_CHECK_STATUS_MAX][SEV_IGNORE + 1] = {
		[CHECK_FAIL] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG },
		[CHECK_UNKNOWN] = { LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG },
		[CHECK_PASS] = { LOG_INFO, LOG_INFO, LOG_INFO, LOG_DEBUG },
		[CHECK_NOT_APPLICABLE] = { LOG_INFO, LOG_INFO, LOG_INFO, LOG_DEBUG },
	};

	if ((unsigned)s >= _CHECK_STATUS_MAX || (unsigned)sev > SEV_IGNORE)
		return LOG_WARNING;
	return table[s][sev];
}

int journal_verdict_priority(enum verdict v)
{
	switch (v) {
	case VERDICT_NONCOMPLIANT:
		return LOG_ERR;
	case VERDICT_COMPLIANT:
		return LOG_NOTICE;
	default:
		return LOG_WARNING;
	}
}

const char *journal_message_id(enum check_status s)
{
	switch (s) {
	case CHECK_PASS:
		return ATREST_MESSAGE_CHECK_PASS;
	case CHECK_FAIL:
		return ATREST_MESSAGE_CHECK_FAIL;
	case CHECK_NOT_APPLICABLE:
		return ATREST_MESSAGE_CHECK_NOT_APPLICABLE;
	default:
		return ATREST_MESSAGE_CHECK_UNKNOWN;
	}
}

static const struct check_result *find_result(const struct report *r, const struct check_result *c)
{
	for (size_t i = 0; i < r->results.n; i++)
		if (r->results.v[i].check == c->check && streq_ptr(r->results.v[i].subject, c->subject))
			return &r->results.v[i];
	return NULL;
}

int journal_diff(const struct report *prev, const struct report *cur, struct journal_diff *ret)
{
	struct journal_diff d = {
		.previous_verdict = prev ? (int)prev->verdict : -1,
		.verdict = cur->verdict,
	};

	d.verdict_changed = !prev || prev->verdict != cur->verdict;
	d.changes = calloc(MAX(cur->results.n, 1), sizeof(*d.changes));
	if (!d.changes)
		return -ENOMEM;
	for (size_t i = 0; i < cur->results.n; i++) {
		const struct check_result *c = &cur->results.v[i];
		const struct check_result *p = prev ? find_result(prev, c) : NULL;

		if (p && p->status == c->status)
			continue;
		d.changes[d.n_changes++] = (struct journal_change){ c, p ? (int)p->status : -1 };
	}
	*ret = d;
	return 0;
}

void journal_diff_done(struct journal_diff *d)
{
	free(d->changes);
	*d = (struct journal_diff){};
}

static char *change_message(const struct journal_change *c)
{
	const struct check_result *r = c->result;

	if (c->previous < 0)
		return strprintf("MESSAGE=%s %s: %s (%s): %s", check_name(r->check),
				 strna(r->subject), check_status_to_string(r->status),
				 severity_to_string(r->severity), strna(r->summary));
	return strprintf("MESSAGE=%s %s: %s (%s, was %s): %s", check_name(r->check), strna(r->subject),
			 check_status_to_string(r->status), severity_to_string(r->severity),
			 check_status_to_string(c->previous), strna(r->summary));
}

/* Builds a vector from a NULL-ended list of allocated strings; any NULL
 * among the first n means allocation failed. */
static char **fields_take(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i]) {
			for (size_t j = 0; j < n; j++)
				free(v[j]);
			return NULL;
		}
	char **ret = calloc(n + 1, sizeof(char *));
	if (!ret) {
		for (size_t j = 0; j < n; j++)
			free(v[j]);
		return NULL;
	}
	memcpy(ret, v, n * sizeof(char *));
	return ret;
}

char **journal_change_fields(const struct journal_change *c)
{
	const struct check_result *r = c->result;
	char *v[] = {
		change_message(c),
		strprintf("MESSAGE_ID=%s", journal_message_id(r->status)),
		strprintf("PRIORITY=%d", journal_priority(r->status, r->severity)),
		strprintf("ATREST_CHECK=%s", check_name(r->check)),
		strprintf("ATREST_SUBJECT=%s", strna(r->subject)),
		strprintf("ATREST_STATUS=%s", check_status_to_string(r->status)),
		strprintf("ATREST_SEVERITY=%s", severity_to_string(r->severity)),
		c->previous >= 0 ?
			strprintf("ATREST_PREVIOUS_STATUS=%s", check_status_to_string(c->previous)) :
			NULL,
	};

	return fields_take(v, ARRAY_SIZE(v) - (c->previous < 0));
}

char **journal_verdict_fields(const struct journal_diff *d)
{
	const char *v = verdict_to_string(d->verdict);
	char *f[] = {
		d->previous_verdict < 0 ? strprintf("MESSAGE=verdict: %s", v) :
					  strprintf("MESSAGE=verdict: %s (was %s)", v,
						    verdict_to_string(d->previous_verdict)),
		strprintf("MESSAGE_ID=%s", ATREST_MESSAGE_VERDICT),
		strprintf("PRIORITY=%d", journal_verdict_priority(d->verdict)),
		strprintf("ATREST_VERDICT=%s", v),
		d->previous_verdict >= 0 ? strprintf("ATREST_PREVIOUS_VERDICT=%s",
						     verdict_to_string(d->previous_verdict)) :
					   NULL,
	};

	return fields_take(f, ARRAY_SIZE(f) - (d->previous_verdict < 0));
}

void journal_sink_init(struct journal_sink *s, const char *socket_path, FILE *fallback)
{
	/* The portable build without libsystemd.so.0 has no way to the journal. */
	s->journal = sd_dlopen_loaded() &&
		     access(socket_path ? socket_path : JOURNAL_SOCKET, F_OK) == 0;
	s->fallback = fallback ? fallback : stderr;
}

int journal_send_fields(const struct journal_sink *s, char *const *fields)
{
	size_t n = strv_length(fields);

	if (!s->journal) {
		for (size_t i = 0; i < n; i++)
			if (startswith(fields[i], "MESSAGE="))
				fprintf(s->fallback, "atrest: %s\n", fields[i] + strlen("MESSAGE="));
		fflush(s->fallback);
		return 0;
	}

	struct iovec iov[16];
	if (n > ARRAY_SIZE(iov))
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct iovec){ fields[i], strlen(fields[i]) };
	return sd_journal_sendv(iov, (int)n);
}

int journal_log_diff(const struct journal_sink *s, const struct journal_diff *d)
{
	int ret = 0;

	for (size_t i = 0; i <= d->n_changes; i++) {
		_cleanup_strv_free_ char **f = NULL;
		int r;

		if (i < d->n_changes)
			f = journal_change_fields(&d->changes[i]);
		else if (d->verdict_changed)
			f = journal_verdict_fields(d);
		else
			break;
		r = f ? journal_send_fields(s, f) : -ENOMEM;
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

int journal_log_event(const struct journal_sink *s, const char *message_id, int priority,
		      const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		msg = NULL; /* undefined after a failed vasprintf */
		return -ENOMEM;
	}

	char *f[] = {
		strprintf("MESSAGE=%s", msg),
		strprintf("MESSAGE_ID=%s", message_id),
		strprintf("PRIORITY=%d", priority),
	};
	_cleanup_strv_free_ char **v = fields_take(f, ARRAY_SIZE(f));
	if (!v)
		return -ENOMEM;
	return journal_send_fields(s, v);
}
