/* SPDX-License-Identifier: Apache-2.0 */
/* The report sinks for people and programs: JSON (CONTRACT.md schema
 * atrest.report/v1) and text. They format a finished evaluation. */
#pragma once

#include <stdio.h>

#include "agent/evaluate.h"

/* Builds the report object (caller owns it). */
json_object *report_to_json(const struct report *r);
/* JSON text, pretty or compact; caller frees. */
char *report_to_json_string(const struct report *r, bool pretty);

/* Text for a person: verdict first, one aligned line per check result. */
void report_print_text(FILE *out, const struct report *r, bool color, bool verbose);

/* Pieces shared with `atrest devices` and the daemon. */
char *format_rfc3339(time_t t);
json_object *disk_json(const struct facts *f, int dev);
json_object *dm_crypt_json(const struct facts *f, int dev);
