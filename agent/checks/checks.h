/* SPDX-License-Identifier: Apache-2.0 */
/* The check catalogue (CONTRACT.md, v1). Each check is a pure function of
 * the gathered facts and the policy, emitting one result per subject. */
#pragma once

#include <json-c/json.h>

#include "agent/facts.h"
#include "agent/policy.h"

enum check_status {
	CHECK_PASS = 0,
	CHECK_FAIL,
	CHECK_UNKNOWN,
	CHECK_NOT_APPLICABLE,
	_CHECK_STATUS_MAX,
};

struct check_result {
	enum check_id check;
	char *subject;
	enum check_status status;
	enum severity severity;
	char *summary;         /* one sentence for a person */
	json_object *evidence; /* owned; never NULL after checks_run */
};

struct check_results {
	struct check_result *v;
	size_t n;
};

struct check_desc {
	enum check_id id;
	const char *name;  /* "host.encryption_at_host" */
	const char *title; /* short human title */
	enum severity default_severity;
};

extern const struct check_desc check_catalogue[_CHECK_MAX];

const char *check_name(enum check_id id);
int check_id_from_string(const char *s, enum check_id *ret);
const char *check_status_to_string(enum check_status s);

/* Runs the whole catalogue in catalogue order. */
void checks_run(const struct facts *f, const struct policy *p, struct check_results *out);
/* One check of the catalogue (agent/checks/run.c). */
void check_run_one(enum check_id id, const struct facts *f, const struct policy *p,
		   struct check_results *out);
void check_results_done(struct check_results *r);

/* Appends one result (takes ownership of evidence; summary is formatted). */
void check_results_add(struct check_results *out, enum check_id id, const char *subject,
		       enum check_status status, json_object *evidence, const char *fmt, ...)
	_printf_(6, 7);

enum verdict {
	VERDICT_COMPLIANT = 0,
	VERDICT_WARNING = 1,
	VERDICT_NONCOMPLIANT = 2,
	VERDICT_INDETERMINATE = 3,
	_VERDICT_MAX,
};

const char *verdict_to_string(enum verdict v);
enum verdict verdict_compute(const struct check_results *r);
/* Nagios exit code of a verdict (equal to the enum value). */
int verdict_exit_code(enum verdict v);
