/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-built reports for the daemon's tests: facts with disks, dm-crypt
 * mappings and a benchmark, and check results in two variants. */
#pragma once

#include "agent/evaluate.h"

#define FIXTURE_VERSION "0.1.0-test"
#define FIXTURE_GENERATED_AT 1700000100
/* A subject that exercises label and HTML escaping. */
#define FIXTURE_ODD_SUBJECT "we\"ird\\name\n<b>&"

void fixture_facts(struct facts *f);
void fixture_facts_done(struct facts *f);
/* variant 0: noncompliant (the odd dm-crypt subject fails);
 * variant 1: host.encryption_at_host unknown, the odd subject passes. */
void fixture_report(struct report *r, const struct facts *f, int variant);
void fixture_report_done(struct report *r);
struct evaluation *fixture_evaluation(int variant);
void fixture_evaluation_free(struct evaluation *e);
