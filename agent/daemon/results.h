/* SPDX-License-Identifier: Apache-2.0 */
/* A report's results as they travel between the evaluator and its jobs:
 * check, subject, status, severity and summary of each (no evidence).
 * The reading side validates every field. */
#pragma once

#include "agent/checks/checks.h"
#include "agent/report/report.h"

json_object *daemon_results_to_json(const struct check_results *r);
/* -EBADMSG on a malformed array; ret is left empty then. */
int daemon_results_from_json(json_object *a, enum verdict verdict, struct report *ret);

/* Object members of an expected type, or NULL / def. */
const char *daemon_json_string(json_object *o, const char *key);
int64_t daemon_json_int(json_object *o, const char *key, int64_t def);
double daemon_json_double(json_object *o, const char *key, double def);
